// CoNLL04 train -> dev learning curve of SpERT's heads (all three SpERT.MT switches off) trained
// as SpERT.MT trains (head_lr, summed losses): beside conll04_dev (SpERT.MT) and conll04_dev_spert
// (SpERT's heads, SpERT's training) it tells what the method and what the training setting add
// to the learning speed.
local spert = import 'spert_mt.libsonnet';
(import 'conll04_dev.jsonnet') + { model+: spert.ablations.spert }
