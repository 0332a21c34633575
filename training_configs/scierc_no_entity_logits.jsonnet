// SciERC ablation (Table 2): the full model with the 'no_entity_logits' switch(es) of spert_mt.libsonnet.
local spert = import 'spert_mt.libsonnet';
(import 'scierc.jsonnet') + { model+: spert.ablations.no_entity_logits }
