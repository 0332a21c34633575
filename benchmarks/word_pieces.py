"""
The word-piece indexers side by side: AllenNLP's `pretrained_transformer_mismatched` (one
tokenizer call per word) against `spert_mt_mismatched` (one call per sentence), on the same
archive's weights, alone and through the full predictor path (`predict_batch_json`, batch 1 and
8) in each precision mode given. Checks that both give the same predictions.

    .venv/bin/python benchmarks/word_pieces.py --archive runs/main/model.tar.gz --data-dir ../shared/data \
        [--sentences 288] [--repeats 7] [--precisions float32,onnx] [--output results/speed_cpu/word_pieces.json]

Repetitions are interleaved (indexer by indexer, mode by mode); medians. Asserts nothing but the
equality of the predictions; run it on an otherwise idle machine.
"""

import argparse
import json
import os
import statistics
import sys
import tarfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from allennlp.data import Token, TokenIndexer, Vocabulary  # noqa: E402
from time_shares import conll04_test_words, cpu_description  # noqa: E402

from spert_mt_plugin.archives import load_predictor  # noqa: E402

INDEXERS = ("pretrained_transformer_mismatched", "spert_mt_mismatched")


def predictor_with(archive, indexer, precision):
    overrides = json.dumps({"dataset_reader.token_indexers.tokens.type": indexer})
    return load_predictor(archive, precision=precision, overrides=overrides)


def archived_indexer_settings(archive):
    """The `tokens` indexer's settings in the archive's config.json."""
    with tarfile.open(archive) as tar:
        config = json.load(tar.extractfile("config.json"))
    settings = dict(config["dataset_reader"]["token_indexers"]["tokens"])
    settings.pop("type")
    return settings


def indexer_seconds(archive, sentences, repeats):
    """Median seconds to index every sentence, per indexer."""
    settings = archived_indexer_settings(archive)
    indexers = {name: TokenIndexer.by_name(name)(**settings) for name in INDEXERS}
    vocabulary = Vocabulary()
    seconds = {name: [] for name in indexers}
    tokens = [[Token(word) for word in words] for words in sentences]
    for _ in range(repeats):
        for name, indexer in indexers.items():
            start = time.perf_counter()
            for sentence in tokens:
                indexer.tokens_to_indices(sentence, vocabulary)
            seconds[name].append(time.perf_counter() - start)
    return {name: statistics.median(values) for name, values in seconds.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--archive", required=True)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--sentences", type=int, default=288, help="CoNLL04 test sentences, from the first")
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--precisions", default="float32,onnx")
    parser.add_argument("--output", default=None, help="also write the figures here (JSON)")
    args = parser.parse_args()

    sentences = conll04_test_words(args.data_dir, args.sentences)
    inputs = [{"tokens": words} for words in sentences]
    chunks = {size: [inputs[i : i + size] for i in range(0, len(inputs), size)] for size in (1, 8)}
    precisions = args.precisions.split(",")
    predictors = {(p, i): predictor_with(args.archive, i, p) for p in precisions for i in INDEXERS}

    for precision in precisions:
        outputs = [predictors[(precision, i)].predict_batch_json(inputs) for i in INDEXERS]
        if outputs[0] != outputs[1]:
            raise SystemExit(f"{precision}: the two indexers gave different predictions")
        for size in chunks:  # warm-up
            for indexer in INDEXERS:
                predictors[(precision, indexer)].predict_batch_json(chunks[size][0])

    alone = indexer_seconds(args.archive, sentences, args.repeats)
    seconds = {(p, i, size): [] for p in precisions for i in INDEXERS for size in chunks}
    for _ in range(args.repeats):
        for precision in precisions:
            for indexer in INDEXERS:
                for size, batches in chunks.items():
                    start = time.perf_counter()
                    for batch in batches:
                        predictors[(precision, indexer)].predict_batch_json(batch)
                    seconds[(precision, indexer, size)].append(time.perf_counter() - start)

    figures = {
        "machine": cpu_description(),
        "sentences": len(inputs),
        "repeats": args.repeats,
        "indexing_ms_per_sentence": {i: 1000 * s / len(sentences) for i, s in alone.items()},
        "sentences_per_s": {},
    }
    print(f"{len(inputs)} CoNLL04 test sentences, {args.repeats} interleaved repetitions, medians; same predictions")
    for indexer in INDEXERS:
        print(f"  indexing alone, {indexer:<36} {figures['indexing_ms_per_sentence'][indexer]:.3f} ms per sentence")
    for precision in precisions:
        for size in chunks:
            rates = {i: len(inputs) / statistics.median(seconds[(precision, i, size)]) for i in INDEXERS}
            figures["sentences_per_s"][f"{precision} batch {size}"] = rates
            old, new = (rates[i] for i in INDEXERS)
            print(f"  {precision:<9} batch {size}: {old:7.1f} -> {new:7.1f} sentences/s ({new / old:.2f}x)")
    if args.output:
        Path(args.output).write_text(json.dumps(figures, indent=2) + "\n")
        print(f"written to {args.output}")


if __name__ == "__main__":
    main()
