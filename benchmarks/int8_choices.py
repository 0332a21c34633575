"""
The choices inside the `onnx` and `onnx-int8` precision modes, side by side on one archive: each
variant of the ONNX encoder predicts through the full predictor path, against torch's float32:

- how far its predictions are from float32's on training and development sentences, without
  their labels: the entities and relations one predicts and the other does not (the label-free
  figures the int8 settings were chosen by; test F1 is only reported);
- CoNLL04 test NER / RE F1 (all sentences);
- sentences/s at batch 8 on the first test sentences (interleaved repetitions, medians, ratio to
  float32 in the same run).

Variants: `onnx` with each call's rows padded as they come (`max_padding` 1.0) and grouped by
length (the mode as shipped); int8 with one scale per tensor or per output channel, with or
without `reduce_range`, with or without the feed-forward outputs left in float32, with or without
smoothing (the last row is `onnx-int8` as shipped). Prints figures; asserts nothing.

    .venv/bin/python benchmarks/int8_choices.py --archive runs/main/model.tar.gz --data-dir ../shared/data \\
        [--train-sentences 400] [--sentences 96] [--repeats 5] [--output results/speed_cpu/int8_choices.json]
"""

import argparse
import copy
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from allennlp.models.archival import load_archive  # noqa: E402
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder  # noqa: E402
from allennlp.predictors import Predictor  # noqa: E402
from corpus_ray import cpu_name  # noqa: E402

import spert_mt_plugin  # noqa: E402,F401
from spert_mt_plugin.inference.onnx_transformer import OnnxTransformer, quantize_int8  # noqa: E402


def int8(per_channel=True, reduce_range=False, float_feed_forward_outputs=False, smoothing=False):
    """`quantize_int8`'s settings: per-channel scales unless told otherwise, each other choice off unless named."""
    return dict(
        per_channel=per_channel,
        reduce_range=reduce_range,
        float_feed_forward_outputs=float_feed_forward_outputs,
        smoothing=smoothing,
    )


# name: (int8 settings or None for float32, max_padding)
VARIANTS = {
    "onnx, padded batches": (None, 1.0),
    "onnx (shipped)": (None, None),
    "int8 per tensor": (int8(per_channel=False), None),
    "int8 per channel": (int8(), None),
    "int8 per channel, reduce_range": (int8(reduce_range=True), None),
    "int8 per channel, float FFN out": (int8(float_feed_forward_outputs=True), None),
    "int8 per channel, reduce_range, float FFN out": (int8(reduce_range=True, float_feed_forward_outputs=True), None),
    "int8 per channel, float FFN out, smoothed": (int8(float_feed_forward_outputs=True, smoothing=True), None),
    "onnx-int8 (shipped): reduce_range, float FFN out, smoothed": (
        int8(reduce_range=True, float_feed_forward_outputs=True, smoothing=True),
        None,
    ),
}


def encoder_variants(transformer):
    """Each variant's `OnnxTransformer`, from one export of `transformer`."""
    fused = OnnxTransformer.export(transformer)
    encoders = {}
    with tempfile.TemporaryDirectory(prefix="spert-int8-") as folder:
        path = Path(folder) / "encoder.onnx"
        path.write_bytes(fused.onnx_model)
        for name, (settings, max_padding) in VARIANTS.items():
            model = quantize_int8(path, fused.config, **settings).read_bytes() if settings else fused.onnx_model
            extra = {} if max_padding is None else {"max_padding": max_padding}
            encoders[name] = OnnxTransformer(model, fused.config, fused.takes_type_ids, **extra)
    return encoders


def decisions(predictor, inputs):
    """Per sentence, the set of predicted entities and the set of predicted relations (by spans)."""
    found = []
    for start in range(0, len(inputs), 8):
        for output in predictor.predict_batch_json(inputs[start : start + 8]):
            entities = [(e["type"], e["start"], e["end"]) for e in output["entities"]]
            relations = {(r["type"], entities[r["head"]], entities[r["tail"]]) for r in output["relations"]}
            found.append((set(entities), relations))
    return found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--data-dir", default="data")
    parser.add_argument("--train-sentences", type=int, default=400)
    parser.add_argument("--sentences", type=int, default=96, help="test sentences for the timing")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--output", default=None)
    args = parser.parse_args()

    archive = load_archive(args.archive)
    model, reader = archive.model.eval(), archive.validation_dataset_reader
    conll04 = Path(args.data_dir) / "conll04"
    test = list(reader.read(conll04 / "conll04_test.json"))
    train = list(reader.read(conll04 / "conll04_train.json"))
    random.Random(1).shuffle(train)
    label_free = {
        "train": [{"tokens": i["metadata"].metadata["tokens"]} for i in train[: args.train_sentences]],
        "dev": [{"tokens": i["metadata"].metadata["tokens"]} for i in reader.read(conll04 / "conll04_dev.json")],
    }
    timing_inputs = [{"tokens": i["metadata"].metadata["tokens"]} for i in test[: args.sentences]]
    batches = [timing_inputs[i : i + 8] for i in range(0, len(timing_inputs), 8)]

    [embedder] = [m for m in model.modules() if isinstance(m, PretrainedTransformerEmbedder)]
    predictors = {"float32": Predictor.by_name("spert_mt")(copy.deepcopy(model), reader, precision="float32")}
    for name, encoder in encoder_variants(embedder.transformer_model).items():
        variant = copy.deepcopy(model)
        [variant_embedder] = [m for m in variant.modules() if isinstance(m, PretrainedTransformerEmbedder)]
        variant_embedder.transformer_model = encoder
        # float32 as the mode: the encoder is already replaced, nothing else changes.
        predictors[name] = Predictor.by_name("spert_mt")(variant, reader, precision="float32")

    figures = {name: {} for name in predictors}
    references = {part: decisions(predictors["float32"], inputs) for part, inputs in label_free.items()}
    for name, predictor in predictors.items():
        for part, inputs in label_free.items():
            reference = references[part]
            found = reference if name == "float32" else decisions(predictor, inputs)
            figures[name][f"{part}_entities_differing"] = sum(len(a[0] ^ b[0]) for a, b in zip(reference, found))
            figures[name][f"{part}_relations_differing"] = sum(len(a[1] ^ b[1]) for a, b in zip(reference, found))
        predictor.model.get_metrics(reset=True)
        for start in range(0, len(test), 8):
            predictor.predict_batch_instance(test[start : start + 8])
        metrics = predictor.model.get_metrics(reset=True)
        figures[name].update(test_ner_f1=100 * metrics["ner_f1"], test_re_f1=100 * metrics["rel_f1"])
        print(f"{name}: {figures[name]}", file=sys.stderr, flush=True)

    seconds = {name: [] for name in predictors}
    for predictor in predictors.values():
        predictor.predict_batch_json(batches[0])  # warm-up
    for _ in range(args.repeats):
        for name, predictor in predictors.items():
            start = time.perf_counter()
            for batch in batches:
                predictor.predict_batch_json(batch)
            seconds[name].append(time.perf_counter() - start)
    base = statistics.median(seconds["float32"])
    totals = {
        part: (sum(len(found[0]) for found in reference), sum(len(found[1]) for found in reference))
        for part, reference in references.items()
    }
    print(
        f"differing entities and relations on {args.train_sentences} training sentences (float32: "
        f"{totals['train'][0]} entities, {totals['train'][1]} relations) and all {len(label_free['dev'])} development "
        f"sentences ({totals['dev'][0]}, {totals['dev'][1]}), CoNLL04 test F1, batch 8 on {len(timing_inputs)} test "
        f"sentences ({args.repeats} interleaved repetitions)",
    )
    print(f"{'variant':58} {'train':>9} {'dev':>9} {'NER F1':>7} {'RE F1':>7} {'sent/s':>7} {'x':>5}")
    for name, entry in figures.items():
        median = statistics.median(seconds[name])
        entry.update(batch_8_sentences_per_s=len(timing_inputs) / median, speedup_over_float32=base / median)
        train_counts = f"{entry['train_entities_differing']}/{entry['train_relations_differing']}"
        dev_counts = f"{entry['dev_entities_differing']}/{entry['dev_relations_differing']}"
        print(
            f"{name:58} {train_counts:>9} {dev_counts:>9} "
            f"{entry['test_ner_f1']:7.2f} {entry['test_re_f1']:7.2f} {entry['batch_8_sentences_per_s']:7.1f} "
            f"{entry['speedup_over_float32']:5.2f}"
        )
    if args.output:
        record = {
            "cpu": cpu_name(),
            "torch_threads": torch.get_num_threads(),
            # "AVX2" under benchmarks/as_avx2.sh, whatever /proc/cpuinfo says.
            "torch_cpu_capability": torch.backends.cpu.get_cpu_capability(),
            "archive": args.archive,
            "train_sentences": args.train_sentences,
            "float32_entities_relations": totals,
            "timing_sentences": len(timing_inputs),
            "repeats": args.repeats,
            "variants": figures,
        }
        Path(args.output).parent.mkdir(parents=True, exist_ok=True)
        Path(args.output).write_text(json.dumps(record, indent=2) + "\n")


if __name__ == "__main__":
    main()
