"""
A large prediction input: N sentences of CoNLL04, SciERC and ADE, one JSON object per line, for
`allennlp predict` at corpus scale (benchmarks/predict_stream.py).

    .venv/bin/python benchmarks/make_corpus.py --data-dir ../shared/data --sentences 100000 \
        --output /tmp/corpus.jsonl [--form tokens|sentence]

The datasets' sentences (CoNLL04 train+dev and test, SciERC train, dev and test, ADE's full set)
are taken in turn, one from each dataset while each has some left, and the round repeats until N lines;
each line is `{"tokens": [...], "orig_id": "<dataset>-<index>-<round>"}`, or with `--form sentence`
`{"sentence": "the words joined by spaces", ...}` (which goes through spaCy's tokenizer).
"""

import argparse
import itertools
import json
import os
import sys
from pathlib import Path
from typing import Dict, Iterator, List

DATASETS = {
    "conll04": ["conll04/conll04_train_dev.json", "conll04/conll04_test.json"],
    "scierc": ["scierc/scierc_train.json", "scierc/scierc_dev.json", "scierc/scierc_test.json"],
    "ade": ["ade/ade_full.json"],
}


def dataset_sentences(data_dir: Path) -> Dict[str, List[List[str]]]:
    """The token lists of each dataset's files (SpERT JSON), in file order."""
    sentences: Dict[str, List[List[str]]] = {}
    for name, files in DATASETS.items():
        sentences[name] = []
        for relative in files:
            path = data_dir / relative
            if not path.exists():
                raise SystemExit(f"{path}: no such file (--data-dir must hold conll04/, scierc/ and ade/)")
            for index, document in enumerate(json.loads(path.read_text(encoding="utf-8"))):
                tokens = document.get("tokens") if isinstance(document, dict) else None
                if not isinstance(tokens, list) or not tokens:
                    raise SystemExit(f"{path}: document {index} has no 'tokens' list")
                sentences[name].append(tokens)
    return sentences


def corpus_lines(sentences: Dict[str, List[List[str]]], count: int, form: str = "tokens") -> Iterator[str]:
    """`count` JSON lines taking the datasets' sentences in turn, one from each, cycling through all of them."""
    longest = max(len(s) for s in sentences.values())
    # One round: every sentence once, the datasets interleaved while each has sentences left.
    order = [(name, index) for index in range(longest) for name in sentences if index < len(sentences[name])]
    for number, (name, index) in enumerate(itertools.islice(itertools.cycle(order), count)):
        tokens = sentences[name][index]
        line = {"tokens": tokens} if form == "tokens" else {"sentence": " ".join(tokens)}
        line["orig_id"] = f"{name}-{index}-{number // len(order)}"
        yield json.dumps(line, ensure_ascii=False) + "\n"


def write_corpus(data_dir: Path, count: int, output: Path, form: str = "tokens") -> None:
    output.parent.mkdir(parents=True, exist_ok=True)
    with open(output, "w", encoding="utf-8") as file:
        file.writelines(corpus_lines(dataset_sentences(data_dir), count, form))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", default=os.environ.get("SPERT_DATA_DIR", "data"))
    parser.add_argument("--sentences", type=int, default=100_000)
    parser.add_argument("--output", required=True)
    parser.add_argument("--form", choices=("tokens", "sentence"), default="tokens")
    args = parser.parse_args()
    write_corpus(Path(args.data_dir), args.sentences, Path(args.output), args.form)
    print(f"{args.output}: {args.sentences} lines", file=sys.stderr)


if __name__ == "__main__":
    main()
