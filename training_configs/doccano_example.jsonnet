// SpERT.MT on your own doccano project: the JSONL export of a relation extraction project and a
// SpERT types file (entity and relation types; "symmetric": true marks symmetric relations), with
// CoNLL04's settings (its paper encoder, train -> test, the last epoch kept, micro F1). The files
// are read from SPERT_DATA_DIR:
//   SPERT_DATA_DIR/doccano/train.jsonl, SPERT_DATA_DIR/doccano/test.jsonl, SPERT_DATA_DIR/doccano/types.json
//   SPERT_DATA_DIR=my_project allennlp train training_configs/doccano_example.jsonnet -s runs/my_doccano
// SPERT_DATA_DIR=fixtures makes a smoke run on the package's doccano fixture. For Label Studio, set
// reader='label_studio' and the paths of its JSON exports (docs/data.md). Or convert once and train
// on SpERT JSON: allennlp spert-convert doccano-to-spert export.jsonl out.json (+ out_types.json)
local spert = import 'spert_mt.libsonnet';

spert.experiment('doccano/train.jsonl', null, 'doccano/test.jsonl', 'doccano/types.json', 'bert-base-cased',
                 reader='doccano') + {
  dataset_reader+: {
    language: 'en',
    // every annotation that cannot be represented (a relation across sentences or from an entity
    // to itself) is listed here, with file and line (in the run's folder)
    report_file: 'doccano_report.jsonl',
  },
}
