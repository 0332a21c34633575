import json
import os
import subprocess
import sys
from typing import List

import pytest

from tests.conftest import PROJECT_ROOT
from tests.corpus.corpus_inputs import BAD_LINES, PREDICTOR_ARGS, write_corpus


@pytest.fixture(scope="session")
def corpus(tmp_path_factory):
    """A folder of two JSON Lines files: 320 good rows of every form, 8 bad rows, blank lines."""
    folder = tmp_path_factory.mktemp("corpus")
    paths, lines = write_corpus(folder / "input", good=320, files=2)
    return folder / "input", paths, lines


@pytest.fixture(scope="session")
def reference(corpus, trained_archive, tmp_path_factory) -> List[dict]:
    """
    `allennlp predict`'s output (float32) for the good rows of `corpus`, in order, on one thread as
    each actor predicts (`--cpus-per-actor` 1): with another thread count the matrix products sum
    in another order, and scores differ by a few 1e-6.
    """
    _, _, lines = corpus
    folder = tmp_path_factory.mktemp("reference")
    good = folder / "good.jsonl"
    good.write_text("".join(line.text + "\n" for line in lines if line.text not in BAD_LINES))
    output = folder / "predictions.jsonl"
    result = subprocess.run(
        [sys.executable, "-m", "allennlp", "predict", trained_archive, str(good), "--output-file", str(output)]
        + ["--batch-size", "8", "--silent", "--predictor-args", json.dumps(PREDICTOR_ARGS)],
        cwd=PROJECT_ROOT,
        env=dict(os.environ, OMP_NUM_THREADS="1"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in output.read_text().splitlines()]
