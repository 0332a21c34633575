// CoNLL04 as in the paper: train on train+dev (1153 sentences), test on test (288); micro F1.
// Paper encoder: bert-base-cased. For tuning, see conll04_dev.jsonnet (train -> dev).
local spert = import 'spert_mt.libsonnet';
spert.experiment('conll04/conll04_train_dev.json', null, 'conll04/conll04_test.json',
                 'conll04/conll04_types.json', 'bert-base-cased')
