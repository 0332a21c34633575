// The SpERT baseline on ade: all three SpERT.MT switches off.
local spert = import 'spert_mt.libsonnet';
(import 'ade.jsonnet') + { model+: spert.ablations.spert }
