"""
Speed and memory of spert-mt on CoNLL04 sentences: training throughput, prediction throughput at
batch sizes 1 and 8, the bare encoder on the same batches (the floor), and peak RSS; then every
precision mode of prediction side by side (spert_mt_plugin/inference/precision.py): the full
predictor path (`predict_json` / `predict_batch_json` on `{"tokens": ...}` inputs) at batch sizes 1
and 8, in interleaved repetitions, medians and their ratio to float32 in the same run, and, with
--archive, the CoNLL04 test NER / RE F1 of each mode (all 288 sentences through the predictor).

    .venv/bin/python benchmarks/speed.py --data-dir ../shared/data [--archive runs/main/model.tar.gz]
        [--sentences 96] [--train-steps 40] [--profile] [--output benchmarks/results/speed.json]
        [--precisions float32,bfloat16,...] [--repeats 5] [--precision-only] [--no-f1]

Without --archive, an untrained model is built from training_configs/conll04.jsonnet with the
configured encoder (SPERT_ENCODER, default: bundled MiniLM); an untrained model predicts no
entities, so decoding is then cheaper than with a trained one, and no F1 is computed. The first
sections measure float32 (autocast with --amp); the training steps run on a copy of the model, so
every prediction figure is of the archive's weights. Prints figures; asserts nothing.
"""

import argparse
import copy
import json
import os
import platform
import resource
import statistics
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
from spert_mt_plugin.inference.precision import (  # noqa: E402
    PRECISIONS,
    cpu_supports_bfloat16,
    default_precision,
    resolve_precision,
)

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


def _usable(mode, device) -> bool:
    try:
        resolve_precision(mode, device)
    except Exception:
        return False
    return True


def compare_precisions(model, reader, test, f1_instances, modes, repeats):
    """
    Each mode's full predictor path on `test` at batch sizes 1 and 8 (interleaved repetitions,
    medians, ratio to float32's median of the same run) and, if `f1_instances` (annotated) are
    given, its NER / RE F1 on them. Every mode predicts with its own copy of `model`.
    """
    from allennlp.predictors import Predictor

    inputs = [{"tokens": i["metadata"].metadata["tokens"]} for i in test]
    chunks = {
        1: [inputs[i : i + 1] for i in range(len(inputs))],
        8: [inputs[i : i + 8] for i in range(0, len(inputs), 8)],
    }
    predictors = {}
    for mode in modes:
        start = time.perf_counter()
        predictors[mode] = Predictor.by_name("spert_mt")(copy.deepcopy(model), reader, precision=mode)
        prepare_seconds = time.perf_counter() - start
        for size in chunks:  # warm-up (ONNX Runtime's session, oneDNN's kernels)
            predictors[mode].predict_batch_json(chunks[size][0])
        predictors[mode].prepare_seconds = prepare_seconds
    seconds = {(mode, size): [] for mode in modes for size in chunks}
    for _ in range(repeats):
        for mode in modes:
            for size, batches in chunks.items():
                start = time.perf_counter()
                for batch in batches:
                    predictors[mode].predict_batch_json(batch)
                seconds[(mode, size)].append(time.perf_counter() - start)
    figures = {}
    reference = "float32" if "float32" in modes else modes[0]
    for mode in modes:
        entry = {"prepare_seconds": predictors[mode].prepare_seconds}
        for size in chunks:
            median = statistics.median(seconds[(mode, size)])
            entry[f"predict_batch_{size}_sentences_per_s"] = len(inputs) / median
            entry[f"speedup_batch_{size}_over_{reference}"] = statistics.median(seconds[(reference, size)]) / median
        if f1_instances:
            predictor = predictors[mode]
            predictor.model.get_metrics(reset=True)
            for start in range(0, len(f1_instances), 8):
                predictor.predict_batch_instance(f1_instances[start : start + 8])
            metrics = predictor.model.get_metrics(reset=True)
            entry.update(ner_f1=100 * metrics["ner_f1"], rel_f1=100 * metrics["rel_f1"], f1_sentences=len(f1_instances))
        figures[mode] = entry
    if f1_instances:
        for mode in modes:
            for task in ("ner", "rel"):
                figures[mode][f"{task}_f1_minus_{reference}"] = (
                    figures[mode][f"{task}_f1"] - figures[reference][f"{task}_f1"]
                )
    return {
        "precision_modes": figures,
        "precision_repeats": repeats,
        "cpu_native_bfloat16": cpu_supports_bfloat16(),
        "default_precision": default_precision(next(model.parameters()).device),
    }


def print_precisions(figures) -> None:
    modes = figures["precision_modes"]
    print(
        f"precision modes ({figures['precision_repeats']} interleaved repetitions, medians; default here: "
        f"{figures['default_precision']})",
        file=sys.stderr,
    )
    for mode, entry in modes.items():
        line = f"  {mode:<10}"
        for size in (1, 8):
            speedup = next(v for k, v in entry.items() if k.startswith(f"speedup_batch_{size}_"))
            line += (
                f"  batch {size}: {entry[f'predict_batch_{size}_sentences_per_s']:7.1f} sentences/s ({speedup:.2f}x)"
            )
        if "ner_f1" in entry:
            line += f"  NER F1 {entry['ner_f1']:.2f}  RE F1 {entry['rel_f1']:.2f}"
        print(line, file=sys.stderr)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--archive", default=None, help="a trained model.tar.gz (recommended)")
    parser.add_argument("--test-file", default=None, help="default: DATA_DIR/conll04/conll04_test.json")
    parser.add_argument("--train-file", default=None, help="default: DATA_DIR/conll04/conll04_train.json")
    parser.add_argument(
        "-o", "--overrides", default="", help="a JSON object of config overrides for --archive, as allennlp's -o"
    )
    parser.add_argument("--sentences", type=int, default=96, help="test sentences for inference timing")
    parser.add_argument("--train-steps", type=int, default=40, help="training steps (batch size 2) after warm-up")
    parser.add_argument("--cuda-device", type=int, default=-1)
    parser.add_argument("--amp", action="store_true", help="autocast (mixed precision) on the GPU")
    parser.add_argument("--profile", action="store_true", help="print the top operators of one forward pass")
    parser.add_argument("--output", default=str(PROJECT / "benchmarks" / "results" / "speed.json"))
    parser.add_argument(
        "--precisions",
        default=None,
        help="comma-separated precision modes to compare (default: every mode usable on the device)",
    )
    parser.add_argument("--repeats", type=int, default=5, help="interleaved repetitions of each mode's timing")
    parser.add_argument("--precision-only", action="store_true", help="only the comparison of precision modes")
    parser.add_argument("--no-f1", action="store_true", help="no test F1 per precision mode")
    args = parser.parse_args()
    os.environ["SPERT_DATA_DIR"] = args.data_dir
    device = torch.device("cpu" if args.cuda_device < 0 else f"cuda:{args.cuda_device}")

    if args.archive:
        archive = load_archive(args.archive, cuda_device=args.cuda_device, overrides=args.overrides)
        model, reader = archive.model, archive.validation_dataset_reader
        encoder = archive.config["model"]["embedder"]["model_name"]
    else:
        params = Params.from_file(str(PROJECT / "training_configs" / "conll04.jsonnet"))
        reader = DatasetReader.from_params(params["dataset_reader"])
        vocab = Vocabulary.from_params(params["vocabulary"])
        encoder = params["model"]["embedder"]["model_name"]
        model = Model.from_params(vocab=vocab, params=params["model"]).to(device)
    model.eval()
    vocab = model.vocab
    all_test = list(reader.read(args.test_file or f"{args.data_dir}/conll04/conll04_test.json"))
    test = all_test[: args.sentences]
    modes = args.precisions.split(",") if args.precisions else [mode for mode in PRECISIONS if _usable(mode, device)]
    precision_figures = compare_precisions(
        model, reader, test, all_test if args.archive and not args.no_f1 else [], modes, args.repeats
    )
    print_precisions(precision_figures)
    if args.precision_only:
        record = {
            "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, {platform.platform()}",
            "device": str(device) if device.type == "cpu" else torch.cuda.get_device_name(device),
            "torch_threads": torch.get_num_threads(),
            # "AVX2" under benchmarks/as_avx2.sh, whatever /proc/cpuinfo says.
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "versions": {"python": platform.python_version(), "torch": torch.__version__},
            "encoder": encoder,
            "trained_archive": args.archive,
            "overrides": args.overrides,
            "test_sentences": len(test),
            **precision_figures,
            "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        }
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(record, indent=2))
        print(json.dumps(record, indent=2))
        print(f"written to {args.output}", file=sys.stderr)
        return
    train = list(reader.read(args.train_file or f"{args.data_dir}/conll04/conll04_train.json"))
    words = sum(len(i["metadata"].metadata["tokens"]) for i in test)
    autocast = torch.autocast(device.type, enabled=args.amp)

    # --- training throughput (batch size 2, forward + backward + AdamW step), after 5 warm-up steps,
    # on a copy: the prediction figures below are of the weights as loaded.
    trained_model, model = model, copy.deepcopy(model)
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
    model = trained_model

    # --- inference: the full predictor path, model forward alone, encoder alone
    from allennlp.predictors import Predictor

    # float32 (autocast with --amp, as the forward figures): the modes are compared above.
    predictor = Predictor.by_name("spert_mt")(model, reader, precision="float32")
    model.eval()
    figures = {}
    for size in (1, 8):
        chunks = [test[i : i + size] for i in range(0, len(test), size)]
        with autocast:
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
                    model.embedder(
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
        "overrides": args.overrides,
        "test_sentences": len(test),
        "test_words": words,
        "entities_predicted_in_first_8": predicted_entities,
        "train_sentences_per_s": train_sentences / train_seconds,
        **figures,
        **precision_figures,
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
