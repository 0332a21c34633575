// SciERC read from the DyGIE jsonl files (same annotations as scierc.jsonnet).
local spert = import 'spert_mt.libsonnet';
spert.experiment('scierc_dygie/train.json', 'scierc_dygie/dev.json', 'scierc_dygie/test.json',
                 'scierc/scierc_types.json', 'allenai/scibert_scivocab_cased', reader='dygie_jsonl')
