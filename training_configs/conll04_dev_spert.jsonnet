// The SpERT baseline on CoNLL04 train -> dev (tuning, learning curves; also the SpERT reference
// implementation's protocol: trained on train, tested on test).
local spert = import 'spert_mt.libsonnet';
(import 'conll04_dev.jsonnet') + spert.spert_baseline
