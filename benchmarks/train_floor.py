"""
How far the training step is from its floor, on the same CoNLL04 training batches (batch size 2,
the configured encoder: bundled MiniLM by default), after warm-up:

  (a) the bare encoder's forward + backward;
  (b) (a) plus the optimizer step (`spert_adamw` as configured, without gradient clipping) -- the floor;
  (c) the full training step as AllenNLP's trainer runs it (forward, backward, gradient clipping,
      optimizer and scheduler step) for SpERT.MT (`conll04.jsonnet`) and the SpERT baseline
      (`conll04_spert.jsonnet`);
  (d) the data pipeline alone: reading CoNLL04 train, and indexing + batching it (the data loader).

Prints each in ms per step and as a ratio to (a) and to (b), and peak RSS; `--profile` adds a
torch.profiler breakdown of one SpERT.MT training step. Asserts nothing.

    OMP_NUM_THREADS=1 .venv/bin/python benchmarks/train_floor.py --data-dir ../shared/data [--threads 1]
        [--steps 60] [--profile]
"""

import argparse
import json
import os
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allennlp.common import Params  # noqa: E402
from allennlp.data import DataLoader, DatasetReader, Vocabulary  # noqa: E402
from allennlp.models import Model  # noqa: E402
from allennlp.training.learning_rate_schedulers import LearningRateScheduler  # noqa: E402
from allennlp.training.optimizers import Optimizer  # noqa: E402

import spert_mt_plugin  # noqa: E402,F401

PROJECT = Path(__file__).resolve().parents[1]


def build(config: str, train_path: str, bucket: bool = False):
    """Model, optimizer, scheduler, grad_norm and the training batches of a shipped config."""
    params = Params.from_file(
        str(PROJECT / "training_configs" / config), params_overrides=json.dumps({"data_loader.shuffle": False})
    )
    if bucket:  # AllenNLP's length-bucketed batches, still 2 sentences each
        params["data_loader"] = Params({"batch_sampler": {"type": "bucket", "batch_size": 2, "sorting_keys": ["text"]}})
    reader = DatasetReader.from_params(params.pop("dataset_reader"))
    vocab = Vocabulary.from_params(params.pop("vocabulary"))
    model = Model.from_params(vocab=vocab, params=params.pop("model"))
    loader = DataLoader.from_params(reader=reader, data_path=train_path, params=params.pop("data_loader"))
    loader.index_with(vocab)
    trainer = params.pop("trainer")
    parameters = [[name, p] for name, p in model.named_parameters() if p.requires_grad]
    optimizer = Optimizer.from_params(model_parameters=parameters, params=trainer.pop("optimizer"))
    scheduler = LearningRateScheduler.from_params(
        optimizer=optimizer,
        num_epochs=20,
        num_steps_per_epoch=len(loader),
        params=trainer.pop("learning_rate_scheduler"),
    )
    return model, optimizer, scheduler, trainer.pop("grad_norm"), loader


def per_step(function, batches, warmup: int) -> float:
    for batch in batches[:warmup]:
        function(batch)
    start = time.perf_counter()
    for batch in batches[warmup:]:
        function(batch)
    return (time.perf_counter() - start) / len(batches[warmup:])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--threads", type=int, default=None, help="torch intra-op threads (default: torch's)")
    parser.add_argument("--steps", type=int, default=60, help="timed steps after 5 warm-up steps")
    parser.add_argument("--profile", action="store_true", help="torch.profiler breakdown of one SpERT.MT step")
    parser.add_argument("--bucket", action="store_true", help="length-bucketed batches (AllenNLP's bucket sampler)")
    parser.add_argument("--output", default=None, help="also write the figures as JSON here")
    args = parser.parse_args()
    os.environ["SPERT_DATA_DIR"] = args.data_dir
    if args.threads:
        torch.set_num_threads(args.threads)
    torch.manual_seed(13)
    train_path = f"{args.data_dir}/conll04/conll04_train.json"
    figures = {"torch_threads": torch.get_num_threads(), "steps": args.steps}

    # (d) the data pipeline alone
    model, optimizer, scheduler, grad_norm, loader = build("conll04.jsonnet", train_path, args.bucket)
    start = time.perf_counter()
    instances = list(loader.reader.read(train_path))
    figures["read_s"] = time.perf_counter() - start
    start = time.perf_counter()
    all_batches = list(loader)  # the first epoch reads, indexes and batches
    figures["first_epoch_pipeline_s"] = time.perf_counter() - start
    start = time.perf_counter()
    list(loader)  # later epochs only batch (instances stay in memory, indexed)
    figures["epoch_pipeline_s"] = time.perf_counter() - start
    figures["pipeline_ms_per_step"] = 1000 * figures["epoch_pipeline_s"] / len(all_batches)
    figures["steps_per_epoch"] = len(all_batches)
    figures["train_sentences"] = len(instances)
    # Spread over the epoch: bucketed batches come sorted by length within the loader's order.
    stride = max(1, len(all_batches) // (args.steps + 5))
    batches = all_batches[::stride][: args.steps + 5]
    model.train()

    # (a) encoder forward + backward; (b) + the optimizer step
    def encoder_step(batch, step_optimizer: bool, model=model, optimizer=optimizer):
        tokens = batch["text"]["tokens"]
        optimizer.zero_grad(set_to_none=True)
        embeddings = model.embedder(
            tokens["token_ids"], tokens["wordpiece_mask"], segment_concat_mask=tokens.get("segment_concat_mask")
        )
        embeddings.pow(2).mean().backward()
        if step_optimizer:
            optimizer.step()

    encoder_ms = 1000 * per_step(lambda b: encoder_step(b, False), batches, 5)
    # The floor's optimizer step does not clip (the configs clip inside spert_adamw's step).
    max_grad_norm = optimizer.max_grad_norm
    optimizer.max_grad_norm = None
    floor_ms = 1000 * per_step(lambda b: encoder_step(b, True), batches, 5)
    optimizer.max_grad_norm = max_grad_norm
    figures["a_encoder_fwd_bwd_ms"] = encoder_ms
    figures["b_floor_ms"] = floor_ms

    # (c) full training steps
    def training_step(model, optimizer, scheduler, grad_norm):
        def step(batch):
            optimizer.zero_grad(set_to_none=True)
            loss = model(**batch)["loss"]
            loss.backward()
            if grad_norm:  # the trainer's clipping (the configs clip inside the optimizer instead)
                torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], grad_norm)
            optimizer.step()
            scheduler.step_batch()
            model.get_metrics()  # the trainer's progress bar asks every batch

        return step

    step = training_step(model, optimizer, scheduler, grad_norm)
    figures["c_spert_mt_ms"] = 1000 * per_step(step, batches, 5)
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        with profile(activities=[ProfilerActivity.CPU], record_shapes=False) as prof:
            for batch in batches[5:15]:
                with torch.profiler.record_function("## forward ##"):
                    optimizer.zero_grad(set_to_none=True)
                    loss = model(**batch)["loss"]
                with torch.profiler.record_function("## backward ##"):
                    loss.backward()
                with torch.profiler.record_function("## clip ##"):
                    if grad_norm:
                        torch.nn.utils.clip_grad_norm_([p for p in model.parameters() if p.grad is not None], grad_norm)
                with torch.profiler.record_function("## optimizer ##"):
                    optimizer.step()
                    scheduler.step_batch()
        print(prof.key_averages().table(sort_by="cpu_time_total", row_limit=25))
    del model, optimizer, scheduler
    baseline = build("conll04_spert.jsonnet", train_path, args.bucket)
    baseline[0].train()
    figures["c_spert_baseline_ms"] = 1000 * per_step(training_step(*baseline[:4]), batches, 5)

    figures["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"torch threads {figures['torch_threads']}; {args.steps} steps of batch size 2 after 5 warm-up steps")
    rows = [
        ("(a) encoder forward + backward", encoder_ms),
        ("(b) (a) + optimizer step: the floor", floor_ms),
        ("(c) training step, SpERT.MT", figures["c_spert_mt_ms"]),
        ("(c) training step, SpERT baseline", figures["c_spert_baseline_ms"]),
        ("(d) data pipeline per step (batching, later epochs)", figures["pipeline_ms_per_step"]),
    ]
    for name, ms in rows:
        print(f"{name:52s} {ms:8.1f} ms/step   {ms / encoder_ms:5.2f} x (a)   {ms / floor_ms:5.2f} x (b)")
    print(f"training sentences/s (SpERT.MT): {2000 / figures['c_spert_mt_ms']:.2f}; floor: {2000 / floor_ms:.2f}")
    print(
        f"data: reading alone {figures['read_s']:.1f} s; first epoch (read + index + batch) "
        f"{figures['first_epoch_pipeline_s']:.1f} s, later epochs {figures['epoch_pipeline_s']:.1f} s "
        f"for {figures['steps_per_epoch']} steps"
    )
    print(f"peak RSS {figures['peak_rss_mb']:.0f} MB")
    if args.output:
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
