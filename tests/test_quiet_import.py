"""Using the package from Python prints nothing about NLTK, imports no allennlp-models task and opens no connection."""

import json
import subprocess
import sys

from tests.conftest import PROJECT_ROOT

# Run in a fresh interpreter: what a user's script does, with every socket connection recorded.
SCRIPT = """
import json, socket, sys

attempts = []
def refuse(*args, **kwargs):
    attempts.append(repr(args[1:] if args else kwargs))
    raise OSError("network disabled by the test")
socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.getaddrinfo = refuse
socket.create_connection = refuse

import spacy
from spert_mt_plugin.archives import load_predictor
from allennlp.predictors import Predictor

archive = sys.argv[1]
words = "Ada Lovelace works for Acme Corp in Paris .".split()
results = [
    load_predictor(archive).predict_json({"tokens": words}),
    Predictor.from_path(archive).predict_json({"sentence": "Bob is married to Carol."}),
]
nlp = spacy.blank("en")
nlp.add_pipe("spert_mt", config={"archive": archive})
results.append(len(nlp("Eve left Acme Corp for Oslo.").spans["spert_mt"]))
print(json.dumps({
    "attempts": attempts,
    "allennlp_models": sorted(m for m in sys.modules if m.startswith("allennlp_models")),
    "predicted": [bool(r) for r in results],
}))
"""


def test_loading_an_archive_and_predicting_is_quiet_and_offline(trained_archive):
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, trained_archive], cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert report["predicted"] == [True, True, True]
    assert report["attempts"] == []
    assert report["allennlp_models"] == []
    output = done.stdout + done.stderr
    assert "nltk" not in output.lower()
    # Nor torch's deprecation notices from allennlp's imports, which the package silences when it is
    # imported before allennlp (after, allennlp has printed them already).
    assert "FutureWarning" not in output, output[-3000:]
