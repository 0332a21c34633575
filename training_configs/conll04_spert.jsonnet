// The SpERT baseline on conll04: SpERT's heads (all three SpERT.MT switches off) trained as SpERT
// trains, with one learning rate.
local spert = import 'spert_mt.libsonnet';
(import 'conll04.jsonnet') + spert.spert_baseline
