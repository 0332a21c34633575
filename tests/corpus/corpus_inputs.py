"""Input rows for the corpus-prediction tests: every form the predictor takes, and bad rows."""

import json
import random
from pathlib import Path
from typing import List, NamedTuple, Tuple

from tests.conftest import FIXTURES

# Rows that no prediction can come of, each with a word of the error it must give.
BAD_ROWS = [
    ("{not json", "not valid JSON"),
    ('{"tokens": []}', "'tokens' must be a non-empty list"),
    ('{"sentence": "Ada works.", "tokens": ["Ada"]}', "give exactly one of"),
    ('["a", "list"]', "must be a JSON object"),
    ('{"sentence": "Ada works.", "entities": [{"char_start": 1, "char_end": 3}]}', "word boundaries"),
]


BAD_LINES = {line for line, _ in BAD_ROWS}
# The model sees one sentence per forward pass in both paths: sentences batched with others come
# out the same only to about 3e-6 (padding changes the shapes of the encoder's products), and
# the corpus job groups rows differently from `allennlp predict` (shards, bad rows left out).
PREDICTOR_ARGS = {"precision": "float32", "batch_size": 1}


class InputLine(NamedTuple):
    """A non-blank line of a test corpus: its file, its line number (1-based) and its text."""

    path: Path
    number: int
    text: str


def good_rows(count: int, seed: int = 0) -> List[dict]:
    """`count` inputs of the fixture's words: tokens, sentences, documents, with and without given entities."""
    sentences = json.loads((FIXTURES / "data" / "sentences.json").read_text())
    words = sorted({word for sentence in sentences for word in sentence["tokens"] if word.isalpha()})
    rng = random.Random(seed)
    rows = []
    for index in range(count):
        base = sentences[index % len(sentences)]["tokens"]
        tokens = base[: rng.randint(2, len(base))] + rng.sample(words, rng.randint(0, 4))
        form = index % 5
        if form == 0:
            rows.append({"tokens": tokens, "orig_id": f"row{index}"})
        elif form == 1:
            rows.append({"sentence": " ".join(tokens)})
        elif form == 2:
            other = sentences[(index + 1) % len(sentences)]["tokens"]
            rows.append({"document": " ".join(tokens) + " . " + " ".join(other), "orig_id": f"doc{index}"})
        elif form == 3:
            rows.append(
                {"tokens": tokens, "entities": [{"start": 0, "end": 1}, {"start": 1, "end": 2, "type": "Person"}]}
            )
        else:
            text = " ".join(tokens)
            rows.append({"sentence": text, "entities": [{"char_start": 0, "char_end": len(tokens[0])}]})
    return rows


def write_corpus(folder: Path, good: int, files: int = 2, bad_every: int = 37) -> Tuple[List[Path], List[InputLine]]:
    """
    `good` good rows spread over `files` JSON Lines files, with a bad row after every
    `bad_every` good ones and a blank line in each file; returns the files and every non-blank
    line, in order, with its file and line number.
    """
    folder.mkdir(parents=True, exist_ok=True)
    rows = [json.dumps(row) for row in good_rows(good)]
    texts: List[str] = []
    for index, row in enumerate(rows):
        texts.append(row)
        if index % bad_every == bad_every - 1:
            texts.append(BAD_ROWS[(index // bad_every) % len(BAD_ROWS)][0])
    paths, lines = [], []
    share = -(-len(texts) // files)
    for number in range(files):
        path = folder / f"part{number}.jsonl"
        chunk = texts[number * share : (number + 1) * share]
        # A blank line is no row: `allennlp predict` skips it, and so must the corpus job.
        chunk = chunk[:3] + [""] + chunk[3:]
        path.write_text("\n".join(chunk) + "\n")
        paths.append(path)
        lines.extend(InputLine(path, at, text) for at, text in enumerate(chunk, start=1) if text)
    return paths, lines


def assert_same_prediction(got: dict, expected: dict, tolerance: float = 1e-6) -> None:
    """Same sentences, entities and relations (types, spans, offsets, texts); scores within `tolerance`."""
    assert got.keys() == expected.keys()
    if "sentences" in expected:
        assert got["document"] == expected["document"] and len(got["sentences"]) == len(expected["sentences"])
        for sentence, other in zip(got["sentences"], expected["sentences"]):
            assert_same_prediction(sentence, other, tolerance)
        return
    assert got["tokens"] == expected["tokens"] and got.get("orig_id") == expected.get("orig_id")
    for kind in ("entities", "relations"):
        assert len(got[kind]) == len(expected[kind]), kind
        for item, other in zip(got[kind], expected[kind]):
            assert {k: v for k, v in item.items() if k != "score"} == {k: v for k, v in other.items() if k != "score"}
            assert abs(item["score"] - other["score"]) <= tolerance * max(1.0, abs(other["score"])), (item, other)


def read_jsonl_parts(folder: Path) -> List[dict]:
    """The output rows of a corpus job, shard after shard."""
    return [json.loads(line) for part in sorted(folder.glob("part-*.jsonl")) for line in part.read_text().splitlines()]


def check_against_reference(rows, lines, reference):
    """Output row i is input line i's: `allennlp predict`'s prediction, or an error naming the line."""
    assert len(rows) == len(lines)
    expected = iter(reference)
    for row, line in zip(rows, lines):
        if line.text in BAD_LINES:
            assert row["input_file"] == str(line.path) and row["input_line"] == line.number
            assert row["error"].startswith(f"{line.path}, line {line.number}: ")
            assert dict(BAD_ROWS)[line.text] in row["error"]
        else:
            assert "error" not in row
            assert_same_prediction(row, next(expected))
    assert next(expected, None) is None
