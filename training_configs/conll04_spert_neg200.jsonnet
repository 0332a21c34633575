// Figure 3 of the paper on CoNLL04: the SpERT baseline with 200 negative spans and 200 negative pairs
// per sentence (the shipped configs sample 120 of each; everything else as conll04_spert.jsonnet).
(import 'conll04_spert.jsonnet') + { model+: { negative_entities: 200, negative_relations: 200 } }
