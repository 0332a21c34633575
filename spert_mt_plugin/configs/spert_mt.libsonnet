// The shared experiment template. Every hyperparameter of SPEC.md is a value below; dataset
// configs call `experiment(...)` and ablation configs override single model switches.
//
// External variables (environment; defaults filled in by the plugin, see spert_mt_plugin/settings.py):
//   SPERT_DATA_DIR     folder holding conll04/ scierc/ ade/           (default: data)
//   SPERT_ENCODER      auto | paper | bundled | <HF name or folder>   (default: auto)
//   SPERT_SEED, SPERT_EPOCHS, SPERT_BATCH_SIZE, SPERT_CUDA_DEVICE, SPERT_USE_AMP, SPERT_FOLD, SPERT_BUCKET

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
  // SpERT's heads (-MTL, the baseline): a pair takes every relation type with probability >= 0.4;
  // the per-type BCE is averaged over the types as in SpERT's code (SPEC's wording: summed).
  relation_probability_threshold: 0.4,
  sigmoid_loss_over_types: 'mean',
  // Classifier weights and the width embedding start at N(0, init_std); no bias on the multi-task
  // class scores (SPEC).
  head: { init_std: 0.02, class_bias: false },
  loss: { alpha: 1.0, beta: 1.0, margin_positive: 2.5, margin_negative: 0.5, scale: 2.0, iou_delta: 0.25 },
  // Sum of the candidates' losses, as the paper's equations write it (SPEC chose the mean, as
  // SpERT): measured on CoNLL04 train->dev (docs/head_tuning.md) the sum trains far better
  // (3 epochs, dev NER/RE F1 75.5/50.6 vs 62.1/30.5). Clipping at 1.0 is active on every step
  // either way, so the reduction sets the direction of each step: with the mean the encoder's
  // gradient is split evenly between the entity loss (~250 candidates a batch) and the relation
  // loss (~10 pairs); with the sum the entity candidates weigh in as many as they are.
  // SPEC's mean: -o '{"model.loss_reduction": "mean"}'.
  loss_reduction: 'sum',
  lr: 5e-5,
  // The heads' (width embedding, entity and relation heads) learning rate. SPEC "Head learning
  // rate": chosen on CoNLL04 train->dev (docs/results.md, "Why the heads have their own learning
  // rate");
  // head_lr = lr is the paper read literally: -o '{"trainer.optimizer.head_lr": 5e-5}'.
  head_lr: 1e-3,
  // SpERT's optimizer: transformers' AdamW, no bias correction, eps 1e-6.
  adam_eps: 1e-6,
  correct_bias: false,
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
          tokens: { type: 'spert_mt_mismatched', model_name: model_name, max_length: h.max_length },
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
        relation_probability_threshold: h.relation_probability_threshold,
        sigmoid_loss_over_types: h.sigmoid_loss_over_types,
        head: h.head,
        loss_reduction: h.loss_reduction,
      },
      // SPERT_BUCKET=true: batches of sentences of similar length (AllenNLP's bucket sampler, some
      // noise in the sort, batches in random order): less padding, ~15 % faster steps
      // (docs/speed.md).
      data_loader: if std.extVar('SPERT_BUCKET') == 'true' then {
        batch_sampler: { type: 'bucket', batch_size: std.parseInt(std.extVar('SPERT_BATCH_SIZE')), sorting_keys: ['text'] },
      } else { batch_size: std.parseInt(std.extVar('SPERT_BATCH_SIZE')), shuffle: true },
      validation_data_loader: { batch_size: h.validation_batch_size, shuffle: false },
      random_seed: std.parseInt(std.extVar('SPERT_SEED')),
      numpy_seed: self.random_seed,
      pytorch_seed: self.random_seed,
      trainer: {
        num_epochs: std.parseInt(std.extVar('SPERT_EPOCHS')),
        cuda_device: std.parseInt(std.extVar('SPERT_CUDA_DEVICE')),
        use_amp: std.extVar('SPERT_USE_AMP') == 'true',
        // Gradients are clipped to a total norm of grad_norm (1.0) inside the optimizer step
        // (max_grad_norm: one pass less over the gradients than the trainer's clipping, same
        // result); the trainer's own clipping is off so that it does not clip twice.
        grad_norm: false,
        validation_metric: ['+rel' + suffix, '+ner' + suffix],
        // No weight decay on biases and LayerNorm weights (spert_adamw's default `no_decay`).
        optimizer: {
          type: 'spert_adamw',
          lr: h.lr,
          head_lr: h.head_lr,
          eps: h.adam_eps,
          correct_bias: h.correct_bias,
          weight_decay: h.weight_decay,
          max_grad_norm: h.grad_norm,
        },
        learning_rate_scheduler: { type: 'linear_warmup_fraction', warmup_fraction: h.warmup_fraction },
        // A resumed run (`--recover`, spert-experiments) is the run it would have been: checkpoints
        // that a kill cannot tear, and the random generators' states saved and restored with them
        // (docs/reliability.md).
        checkpointer: { type: 'spert_atomic', keep_most_recent_by_count: 1 },
        callbacks: [{ type: 'spert_random_state' }],
        // AllenNLP's default console_logger callback dumps the first batch's tensors and every
        // parameter's name into the log; the progress bar and the epoch metrics say what matters.
        enable_default_callbacks: false,
      },
    },

  // Ablations of Table 2: merge one of these into an experiment's `model`. They keep every
  // training setting of the full model, head_lr included.
  ablations: {
    no_mtl: { multitask: false },
    no_eil: { iou_scaled_identification: false },
    no_entity_logits: { entity_logits: false },
    spert: { multitask: false, iou_scaled_identification: false, entity_logits: false },
  },

  // The SpERT baseline: add this to an experiment. SpERT's heads and SpERT's training: one
  // learning rate for all parameters, losses averaged over the candidates.
  spert_baseline: {
    model+: $.ablations.spert { loss_reduction: 'mean' },
    trainer+: { optimizer+: { head_lr: hyperparameters.lr } },
  },
}
