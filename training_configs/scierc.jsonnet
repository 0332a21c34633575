// SciERC: train 1861 / dev 275 / test 551; micro F1. Paper encoder: SciBERT (scivocab, cased).
local spert = import 'spert_mt.libsonnet';
spert.experiment('scierc/scierc_train.json', 'scierc/scierc_dev.json', 'scierc/scierc_test.json',
                 'scierc/scierc_types.json', 'allenai/scibert_scivocab_cased')
