// ADE, one fold of the 10-fold cross-validation (SPERT_FOLD=0..9); macro F1, overlapping entities
// kept. No validation split: the paper reports the last epoch. Paper encoder: BioBERT v1.1 (cased).
local spert = import 'spert_mt.libsonnet';
local fold = std.extVar('SPERT_FOLD');
spert.experiment('ade/ade_split_' + fold + '_train.json', null, 'ade/ade_split_' + fold + '_test.json',
                 'ade/ade_types.json', 'dmis-lab/biobert-base-cased-v1.1', average='macro')
