// Figure 3 of the paper on CoNLL04: SpERT.MT with 60 negative spans and 60 negative pairs per
// sentence (the shipped configs sample 120 of each; everything else as conll04.jsonnet).
(import 'conll04.jsonnet') + { model+: { negative_entities: 60, negative_relations: 60 } }
