// The shared experiment template. Every hyperparameter of SPEC.md is a value below; dataset
// configs call `experiment(...)` and ablation configs override single model switches.
//
// External variables (environment; defaults filled in by the plugin, see spert_mt_plugin/settings.py):
//   SPERT_DATA_DIR     folder holding conll04/ scierc/ ade/           (default: data)
//   SPERT_ENCODER      auto | paper | bundled | <HF name or folder>   (default: auto)
//   SPERT_SEED, SPERT_EPOCHS, SPERT_BATCH_SIZE, SPERT_CUDA_DEVICE, SPERT_USE_AMP, SPERT_FOLD

local hyperparameters = {
  max_span_width: 10,
  width_embedding_dim: 25,
  // The encoder folds longer inputs into windows of this many word pieces.
  max_length: 512,
  dropout: 0.1,
  negative_entities: 120,
  negative_relations: 120,
  entity_threshold: 0.85,
  relation_threshold: 0.85,
  loss: { alpha: 1.0, beta: 1.0, margin_positive: 2.5, margin_negative: 0.5, scale: 2.0, iou_delta: 0.25 },
  loss_reduction: 'mean',
  lr: 5e-5,
  weight_decay: 0.01,
  warmup_fraction: 0.1,
  grad_norm: 1.0,
  validation_batch_size: 8,
};

local bundled = std.extVar('SPERT_BUNDLED_ENCODER');
local cached = ',' + std.extVar('SPERT_CACHED_ENCODERS') + ',';

// The encoder for a dataset whose paper encoder is `paper`.
local encoder(paper) =
  local choice = std.extVar('SPERT_ENCODER');
  if choice == 'auto' then (if std.length(std.findSubstr(',' + paper + ',', cached)) > 0 then paper else bundled)
  else if choice == 'paper' then paper
  else if choice == 'bundled' then bundled
  else choice;

{
  hyperparameters: hyperparameters,
  data_dir: std.extVar('SPERT_DATA_DIR'),
  encoder: encoder,

  // train / validation / test: paths relative to SPERT_DATA_DIR (validation may be null);
  // reader: 'spert_json' or 'dygie_jsonl'; average: 'micro' or 'macro' (the dataset's convention).
  // With a validation split the kept epoch is the one with the best RE F1 + NER F1 on it (AllenNLP sums
  // a list of metrics): RE alone ties at 0 while the relation scores are still below θ, and a tie keeps
  // the earliest epoch. Without one (CoNLL04, ADE) the last epoch is kept, as in the paper.
  experiment(train, validation, test, types, paper_encoder, reader='spert_json', average='micro')::
    local data(path) = if path == null then null else self.data_dir + '/' + path;
    local types_file = data(types);
    local model_name = encoder(paper_encoder);
    local h = hyperparameters;
    local suffix = if average == 'macro' then '_macro_f1' else '_f1';
    {
      dataset_reader: {
        type: reader,
        token_indexers: {
          tokens: { type: 'pretrained_transformer_mismatched', model_name: model_name, max_length: h.max_length },
        },
        max_span_width: h.max_span_width,
        types_file: types_file,
      },
      vocabulary: { type: 'spert_types', types_file: types_file },
      train_data_path: data(train),
      [if validation != null then 'validation_data_path']: data(validation),
      test_data_path: data(test),
      evaluate_on_test: true,
      model: {
        type: 'spert_mt',
        embedder: { type: 'pretrained_transformer', model_name: model_name, max_length: h.max_length },
        max_span_width: h.max_span_width,
        width_embedding_dim: h.width_embedding_dim,
        dropout: h.dropout,
        multitask: true,
        iou_scaled_identification: true,
        entity_logits: true,
        entity_loss: h.loss,
        relation_loss: h.loss,
        negative_entities: h.negative_entities,
        negative_relations: h.negative_relations,
        entity_threshold: h.entity_threshold,
        relation_threshold: h.relation_threshold,
        loss_reduction: h.loss_reduction,
      },
      data_loader: { batch_size: std.parseInt(std.extVar('SPERT_BATCH_SIZE')), shuffle: true },
      validation_data_loader: { batch_size: h.validation_batch_size, shuffle: false },
      random_seed: std.parseInt(std.extVar('SPERT_SEED')),
      numpy_seed: self.random_seed,
      pytorch_seed: self.random_seed,
      trainer: {
        num_epochs: std.parseInt(std.extVar('SPERT_EPOCHS')),
        cuda_device: std.parseInt(std.extVar('SPERT_CUDA_DEVICE')),
        use_amp: std.extVar('SPERT_USE_AMP') == 'true',
        grad_norm: h.grad_norm,
        validation_metric: ['+rel' + suffix, '+ner' + suffix],
        optimizer: {
          type: 'adamw',
          lr: h.lr,
          weight_decay: h.weight_decay,
          parameter_groups: [[['bias', 'LayerNorm\\.weight', 'layer_norm\\.weight'], { weight_decay: 0.0 }]],
        },
        learning_rate_scheduler: { type: 'linear_warmup_fraction', warmup_fraction: h.warmup_fraction },
        checkpointer: { keep_most_recent_by_count: 1 },
      },
    },

  // Ablations of Table 2: merge one of these into an experiment's `model`.
  ablations: {
    no_mtl: { multitask: false },
    no_eil: { iou_scaled_identification: false },
    no_entity_logits: { entity_logits: false },
    spert: { multitask: false, iou_scaled_identification: false, entity_logits: false },
  },
}
