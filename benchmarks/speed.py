"""
Speed and memory of spert-mt on CoNLL04 sentences: training throughput, prediction throughput at
batch sizes 1 and 8, the bare encoder on the same batches (the floor), and peak RSS.

    .venv/bin/python benchmarks/speed.py --data-dir ../shared/data [--archive runs/main/model.tar.gz]
        [--sentences 96] [--train-steps 40] [--profile] [--output benchmarks/results/speed.json]

Without --archive, an untrained model is built from training_configs/conll04.jsonnet with the
configured encoder (SPERT_ENCODER, default: bundled MiniLM); an untrained model predicts no
entities, so decoding is then cheaper than with a trained one. Prints figures; asserts nothing.
"""

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allennlp.common import Params  # noqa: E402
from allennlp.data import Batch, DatasetReader, Vocabulary  # noqa: E402
from allennlp.models import Model  # noqa: E402
from allennlp.models.archival import load_archive  # noqa: E402
from allennlp.nn import util  # noqa: E402

import spert_mt_plugin  # noqa: E402,F401

PROJECT = Path(__file__).resolve().parents[1]


def batches(instances, size, vocab):
    for start in range(0, len(instances), size):
        batch = Batch(instances[start : start + size])
        batch.index_instances(vocab)
        yield batch.as_tensor_dict()


def timed(function, repeats=1):
    start = time.perf_counter()
    for _ in range(repeats):
        function()
    return (time.perf_counter() - start) / repeats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--archive", default=None, help="a trained model.tar.gz (recommended)")
    parser.add_argument("--sentences", type=int, default=96, help="test sentences for inference timing")
    parser.add_argument("--train-steps", type=int, default=40, help="training steps (batch size 2) after warm-up")
    parser.add_argument("--cuda-device", type=int, default=-1)
    parser.add_argument("--amp", action="store_true", help="autocast (mixed precision) on the GPU")
    parser.add_argument("--profile", action="store_true", help="print the top operators of one forward pass")
    parser.add_argument("--output", default=str(PROJECT / "benchmarks" / "results" / "speed.json"))
    args = parser.parse_args()
    os.environ["SPERT_DATA_DIR"] = args.data_dir
    device = torch.device("cpu" if args.cuda_device < 0 else f"cuda:{args.cuda_device}")

    if args.archive:
        archive = load_archive(args.archive, cuda_device=args.cuda_device)
        model, reader = archive.model, archive.validation_dataset_reader
        encoder = archive.config["model"]["embedder"]["model_name"]
    else:
        params = Params.from_file(str(PROJECT / "training_configs" / "conll04.jsonnet"))
        reader = DatasetReader.from_params(params["dataset_reader"])
        vocab = Vocabulary.from_params(params["vocabulary"])
        encoder = params["model"]["embedder"]["model_name"]
        model = Model.from_params(vocab=vocab, params=params["model"]).to(device)
    vocab = model.vocab
    test = list(reader.read(f"{args.data_dir}/conll04/conll04_test.json"))[: args.sentences]
    train = list(reader.read(f"{args.data_dir}/conll04/conll04_train.json"))
    words = sum(len(i["metadata"].metadata["tokens"]) for i in test)
    autocast = torch.autocast(device.type, enabled=args.amp)

    # --- training throughput (batch size 2, forward + backward + AdamW step), after 5 warm-up steps
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=5e-5)
    train_batches = [util.move_to_device(b, device) for b in batches(train[: 2 * (args.train_steps + 5)], 2, vocab)]

    def train_step(batch):
        with autocast:
            loss = model(**batch)["loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for batch in train_batches[:5]:
        train_step(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    for batch in train_batches[5:]:
        train_step(batch)
    if device.type == "cuda":
        torch.cuda.synchronize()
    train_seconds = time.perf_counter() - start
    train_sentences = sum(b["spans"].size(0) for b in train_batches[5:])

    # --- inference: the full predictor path, model forward alone, encoder alone
    from allennlp.predictors import Predictor

    predictor = Predictor.by_name("spert_mt")(model, reader)
    model.eval()
    figures = {}
    for size in (1, 8):
        chunks = [test[i : i + size] for i in range(0, len(test), size)]
        predictor.predict_batch_instance(chunks[0])  # warm-up
        predict_seconds = timed(lambda: [predictor.predict_batch_instance(c) for c in chunks])
        tensors = [util.move_to_device(b, device) for b in batches(test, size, vocab)]
        with torch.no_grad(), autocast:

            def forward():
                for b in tensors:
                    model(**b)

            def encoder_only():
                for b in tensors:
                    t = b["text"]["tokens"]
                    model._embedder(
                        t["token_ids"], t["wordpiece_mask"], segment_concat_mask=t.get("segment_concat_mask")
                    )

            forward()
            encoder_only()
            sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
            sync()
            forward_seconds = timed(lambda: (forward(), sync()), repeats=2)
            encoder_seconds = timed(lambda: (encoder_only(), sync()), repeats=2)
        figures[f"batch_{size}"] = {
            "predict_sentences_per_s": len(test) / predict_seconds,
            "model_forward_sentences_per_s": len(test) / forward_seconds,
            "encoder_only_sentences_per_s": len(test) / encoder_seconds,
            "heads_and_decoding_overhead": forward_seconds / encoder_seconds - 1,
            "predict_overhead_over_encoder": predict_seconds / encoder_seconds - 1,
        }
    predicted_entities = sum(len(r["entities"]) for r in predictor.predict_batch_instance(test[:8]))

    record = {
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
        "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
        "amp": args.amp,
        "torch_threads": torch.get_num_threads(),
        "versions": {"python": platform.python_version(), "torch": torch.__version__},
        "encoder": encoder,
        "trained_archive": args.archive,
        "test_sentences": len(test),
        "test_words": words,
        "entities_predicted_in_first_8": predicted_entities,
        "train_sentences_per_s": train_sentences / train_seconds,
        **figures,
        "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }
    if device.type == "cuda":
        record["peak_gpu_memory_mb"] = torch.cuda.max_memory_allocated(device) / 2**20
    if args.profile:
        from torch.profiler import ProfilerActivity, profile

        tensors = next(batches(test[:8], 8, vocab))
        tensors = util.move_to_device(tensors, device)
        activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
        with torch.no_grad(), profile(activities=activities) as prof:
            model(**tensors)
        print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))

    import allennlp
    import transformers

    record["versions"].update(allennlp=allennlp.__version__, transformers=transformers.__version__)
    print(json.dumps(record, indent=2))
    Path(args.output).parent.mkdir(parents=True, exist_ok=True)
    Path(args.output).write_text(json.dumps(record, indent=2))
    print(f"written to {args.output}", file=sys.stderr)


if __name__ == "__main__":
    main()
