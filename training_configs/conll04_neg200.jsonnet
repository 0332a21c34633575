// Figure 3 of the paper on CoNLL04: SpERT.MT with 200 negative spans and 200 negative pairs per
// sentence (the shipped configs sample 120 of each; everything else as conll04.jsonnet).
(import 'conll04.jsonnet') + { model+: { negative_entities: 200, negative_relations: 200 } }
