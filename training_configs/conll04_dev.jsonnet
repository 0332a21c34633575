// CoNLL04 for tuning: train on train (922), validate on dev (231), test on test.
local spert = import 'spert_mt.libsonnet';
spert.experiment('conll04/conll04_train.json', 'conll04/conll04_dev.json', 'conll04/conll04_test.json',
                 'conll04/conll04_types.json', 'bert-base-cased')
