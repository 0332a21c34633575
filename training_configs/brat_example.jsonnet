// SpERT.MT on your own brat annotation: folders of .txt + .ann pairs and the project's
// annotation.conf (entity and relation types; `<REL-TYPE>:symmetric` marks symmetric relations).
// Set the three folders below (the defaults, the package's tiny brat fixture, make a smoke run):
//   allennlp train training_configs/brat_example.jsonnet -s runs/my_brat
// Or convert once and train on SpERT JSON: allennlp spert-convert brat-to-spert FOLDER out.json
local spert = import 'spert_mt.libsonnet';
local train = 'fixtures/brat';
local validation = 'fixtures/brat';
local test = 'fixtures/brat';
local annotation_conf = train + '/annotation.conf';

local base = spert.experiment(train, validation, test, null, 'bert-base-cased', reader='brat');
base + {
  dataset_reader+: {
    types_file: annotation_conf,
    language: 'en',
    // every annotation that cannot be represented (discontinuous entities, relations across
    // sentences, events, attributes) is listed here, with file and line (in the run's folder)
    report_file: 'brat_report.jsonl',
  },
  vocabulary+: { types_file: annotation_conf },
  train_data_path: train,
  validation_data_path: validation,
  test_data_path: test,
}
