// The SpERT baseline on scierc: SpERT's heads (all three SpERT.MT switches off) trained as SpERT
// trains, with one learning rate.
local spert = import 'spert_mt.libsonnet';
(import 'scierc.jsonnet') + spert.spert_baseline
