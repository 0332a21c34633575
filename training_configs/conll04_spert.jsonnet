// The SpERT baseline on conll04: all three SpERT.MT switches off.
local spert = import 'spert_mt.libsonnet';
(import 'conll04.jsonnet') + { model+: spert.ablations.spert }
