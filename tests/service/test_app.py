import argparse
import json
import re
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest
from allennlp.predictors import Predictor
from werkzeug.serving import make_server

from spert_mt_plugin.commands.serve import Serve, app_factory
from spert_mt_plugin.predictors.spert_mt import SpertMTPredictor
from spert_mt_plugin.service.app import create_app
from tests.conftest import PROJECT_ROOT, free_port


@pytest.fixture(scope="module")
def client(trained_archive):
    app = create_app(Predictor.from_path(trained_archive), max_batch=4)
    return app.test_client()


def chromium_flags(tmp_path):
    """Headless Chromium on a machine without network: no background connections, a fresh profile."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
        "--virtual-time-budget=10000",
    ]


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    body = response.get_json()
    assert body["status"] == "ok"
    assert body["entity_types"] == ["Person", "Organization", "Location"]


def test_single_and_batched_predictions(client):
    single = client.post("/predict", json={"sentence": "Ada Lovelace works for Acme Corp in Paris."})
    assert single.status_code == 200
    assert {e["text"] for e in single.get_json()["entities"]} >= {"Ada Lovelace", "Acme Corp"}
    instances = [{"tokens": ["Bob", "is", "married", "to", "Carol", "."]}, {"document": "Dan lives in Oslo. Eve too."}]
    batch = client.post("/predict", json={"instances": instances})
    assert batch.status_code == 200
    predictions = batch.get_json()["predictions"]
    assert predictions[0]["tokens"][0] == "Bob" and len(predictions[1]["sentences"]) == 2


def test_the_users_entities_get_relations_and_bad_ones_a_400(client):
    text = "Bob is married to Carol."
    body = {"sentence": text, "entities": [{"char_start": 0, "char_end": 3}, {"char_start": 18, "char_end": 23}]}
    response = client.post("/predict", json=body)
    assert response.status_code == 200
    assert [e["text"] for e in response.get_json()["entities"]] == ["Bob", "Carol"]
    body["entities"][1]["char_end"] = 22
    response = client.post("/predict", json=body)
    assert response.status_code == 400 and "entities[1]" in response.get_json()["error"]


@pytest.mark.parametrize(
    "body, content_type, message",
    [
        ("not json", "application/json", "must be JSON: Expecting value at line 1, column 1 (character 0)"),
        ('{"sentence": "Bob"}', "text/plain", "Content-Type: application/json (got text/plain)"),
        ("", "application/json", "the request body is empty"),
        (b'{"sentence": "\xff"}', "application/json", "must be JSON in UTF-8: invalid start byte at byte 14"),
        (json.dumps("Bob met Carol."), "application/json", "must be a JSON object such as"),
        (json.dumps({"sentence": ""}), "application/json", "input: the text is empty"),
        (json.dumps({"foo": 1}), "application/json", "give exactly one of"),
        (json.dumps({"tokens": ["a", 1]}), "application/json", "token 1 must be a non-empty string"),
        (json.dumps({"instances": []}), "application/json", "non-empty list of input objects, got an empty list"),
        (json.dumps({"instances": {"sentence": "a"}}), "application/json", "non-empty list of input objects, got dict"),
    ],
)
def test_bad_requests_get_400_and_the_service_keeps_serving(client, body, content_type, message):
    response = client.post("/predict", data=body, content_type=content_type)
    assert response.status_code == 400
    assert message in response.get_json()["error"]
    assert client.post("/predict", json={"tokens": ["Bob", "."]}).status_code == 200


def test_broken_json_gets_the_parsers_message_and_position(client):
    # A trailing comma on line 3: the position is where the parser gave up, not a guess.
    body = '{\n  "sentence": "Bob met Carol.",\n}'
    response = client.post("/predict", data=body, content_type="application/json")
    assert response.status_code == 400
    assert response.get_json()["error"] == (
        "the request body must be JSON: Expecting property name enclosed in double quotes "
        "at line 3, column 1 (character 34)"
    )


def test_a_top_level_list_gets_a_hint_to_send_instances(client):
    response = client.post("/predict", json=[{"sentence": "Bob met Carol."}, {"sentence": "Eve left."}])
    assert response.status_code == 400
    assert response.get_json()["error"] == (
        'the request body must be a JSON object, got a list: send a batch as {"instances": [...]}'
    )


@pytest.mark.parametrize(
    "second, status, message",
    [
        ({"sentence": 42}, 400, "instances[1]: 'sentence' must be a string, got int"),
        ({"tokens": ["Bob", ""]}, 400, "instances[1]: token 1 must be a non-empty string, got ''"),
        ({"text": "Bob"}, 400, "instances[1]: give exactly one of 'tokens'"),
        ("Bob met Carol.", 400, "instances[1]: each input must be a JSON object, got str"),
        ({"tokens": ["word"] * 21}, 413, "instances[1]: the sentence has 21 words, over the limit of 20 words"),
    ],
)
def test_a_bad_instance_of_a_batch_is_named_by_its_index(trained_archive, second, status, message):
    predictor = Predictor.from_path(trained_archive, max_sentence_words=20)
    client = create_app(predictor).test_client()
    instances = [{"sentence": "Bob met Carol."}, second, {"sentence": "Eve left."}]
    response = client.post("/predict", json={"instances": instances})
    assert response.status_code == status
    assert response.get_json()["error"].startswith(message)
    # the same input alone is not in a batch: no index
    alone = client.post("/predict", json=second)
    assert "instances[" not in alone.get_json()["error"]


def serve_arguments(archive: str, *flags: str) -> argparse.Namespace:
    """The arguments as `allennlp spert-serve ARCHIVE FLAGS` parses them."""
    parser = argparse.ArgumentParser(prog="allennlp")
    Serve().add_subparser(parser.add_subparsers())
    return parser.parse_args(["spert-serve", archive, *flags])


def serve_app(archive: str, *flags: str):
    """The app as `allennlp spert-serve ARCHIVE FLAGS` builds it: its defaults, its limits."""
    return app_factory(serve_arguments(archive, *flags))()


@pytest.mark.parametrize(
    "flag, value, message",
    [
        ("--workers", "0", "must be at least 1, got 0"),
        ("--workers", "-2", "must be at least 1, got -2"),
        ("--threads", "0", "must be at least 1, got 0"),
        ("--torch-threads", "0", "must be at least 1, got 0"),
        ("--timeout", "0", "must be at least 1, got 0"),
        ("--graceful-timeout", "-1", "must be at least 0, got -1"),
        ("--max-batch", "-5", "must be at least 1, got -5"),
        ("--max-request-words", "0", "must be at least 1, got 0"),
        ("--max-sentence-words", "-1", "must be at least 1, got -1"),
        ("--max-request-bytes", "0", "must be at least 1, got 0"),
        ("--workers", "two", "not an integer: 'two'"),
    ],
)
def test_a_bad_number_argument_ends_with_one_line(flag, value, message, capsys):
    with pytest.raises(SystemExit) as exit:
        serve_arguments("model.tar.gz", flag, value)
    assert exit.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == f"allennlp spert-serve: error: argument {flag}: {message}"


def test_the_least_number_arguments_are_accepted():
    flags = ["--workers", "1", "--threads", "1", "--torch-threads", "1", "--timeout", "1", "--graceful-timeout", "0"]
    flags += ["--max-batch", "1", "--max-request-words", "1", "--max-sentence-words", "1", "--max-request-bytes", "1"]
    args = serve_arguments("model.tar.gz", *flags)
    assert (args.workers, args.threads, args.torch_threads, args.timeout, args.graceful_timeout) == (1, 1, 1, 1, 0)
    assert (args.max_batch, args.max_request_words, args.max_sentence_words, args.max_request_bytes) == (1, 1, 1, 1)


def test_a_batch_over_max_batch_gets_413_naming_the_limit(trained_archive):
    client = serve_app(trained_archive, "--max-batch", "64").test_client()
    response = client.post("/predict", json={"instances": [{"tokens": ["Bob", "left", "."]}] * 65})
    assert response.status_code == 413
    assert response.get_json()["error"] == (
        "the batch has 65 instances, over the limit of 64 instances per request (--max-batch); "
        "split it into several requests"
    )
    response = client.post("/predict", json={"instances": [{"tokens": ["Bob", "left", "."]}] * 64})
    assert response.status_code == 200 and len(response.get_json()["predictions"]) == 64


# One request for each row of the table of docs/serving.md, "Statuses and errors".
DOCUMENTED_REQUESTS = [
    {"data": '{"sentence": "Bob"}', "content_type": "application/x-www-form-urlencoded"},
    {"data": "", "content_type": "application/json"},
    {"data": "{not json", "content_type": "application/json"},
    {"data": b'{"sentence": "\xff"}', "content_type": "application/json"},
    {"json": [{"sentence": "Bob met Carol."}]},
    {"json": "Bob met Carol."},
    {"json": {"instances": []}},
    {"json": {"text": "Bob"}},
    {"json": {"sentence": 42}},
    {"json": {"sentence": " "}},
    {"json": {"tokens": []}},
    {"json": {"tokens": ["Bob", ""]}},
    {"json": {"instances": [{"sentence": "Bob met Carol."}, {"sentence": 42}]}},
    {"json": {"instances": [{"sentence": "Bob met Carol."}, "Bob met Carol."]}},
    {"data": b" " * 2_000_001, "content_type": "application/json"},
    {"json": {"instances": [{"tokens": ["Bob", "left", "."]}] * 65}},
    {"json": {"document": "word " * 20_001}},
    {"json": {"instances": [{"tokens": ["word"] * 1000}] * 21}},
    {"json": {"tokens": ["word"] * 1001}},
    {"json": {"instances": [{"document": "Bob left. " + "word " * 1001}]}},
]


def documented_answers():
    """(status, example message) of each row of the table in docs/serving.md, "Statuses and errors"."""
    section = (PROJECT_ROOT / "docs" / "serving.md").read_text().split("### Statuses and errors")[1].split("\n#")[0]
    return {(int(status), message) for status, message in re.findall(r"^\|.*\| (\d{3}) \| `(.*)` \|$", section, re.M)}


def test_every_documented_status_and_message_is_the_services(trained_archive, monkeypatch):
    client = serve_app(trained_archive).test_client()
    responses = [client.post("/predict", **request) for request in DOCUMENTED_REQUESTS]
    responses += [client.get("/nope"), client.get("/predict")]
    monkeypatch.setattr(SpertMTPredictor, "predict_json", lambda self, inputs: throw(RuntimeError("out of memory")))
    responses.append(client.post("/predict", json={"sentence": "Bob met Carol."}))
    answers = {(response.status_code, response.get_json()["error"]) for response in responses}
    assert answers == documented_answers()


def throw(error: Exception):
    raise error


def test_unknown_route_and_method(client):
    assert client.get("/nope").status_code == 404
    response = client.get("/predict")
    assert response.status_code == 405
    assert response.get_json()["error"] == "GET is not allowed on /predict: use GET /, GET /health or POST /predict"


def test_page_is_served(client):
    page = client.get("/")
    assert page.status_code == 200 and b"drawSentence" in page.data


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_page_draws_entities_and_relations_in_headless_chromium(trained_archive, tmp_path):
    app = create_app(Predictor.from_path(trained_archive))
    port = free_port()
    server = make_server("127.0.0.1", port, app)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        text = urllib.parse.quote("Ada Lovelace works for Acme Corp in Paris.")
        url = f"http://127.0.0.1:{port}/?text={text}"
        flags = chromium_flags(tmp_path)
        dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        assert 'data-done="yes"' in dom
        assert dom.count('class="entity"') >= 2
        assert 'class="relation" data-type="Works_For"' in dom
        screenshot = tmp_path / "page.png"
        subprocess.run(
            [CHROMIUM, *flags, "--window-size=1100,500", f"--screenshot={screenshot}", url],
            capture_output=True,
            timeout=120,
        )
        assert screenshot.exists() and screenshot.stat().st_size > 1000
    finally:
        server.shutdown()


@pytest.mark.slow
def test_serve_command_starts_the_service(trained_archive):
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "allennlp", "spert-serve", trained_archive, "--port", str(port), "--workers", "2"],
        cwd=PROJECT_ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.time() + 300
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                    assert json.load(response)["status"] == "ok"
                break
            except OSError:
                assert process.poll() is None, "spert-serve exited"
                assert time.time() < deadline, "spert-serve did not start in 300 s"
                time.sleep(0.5)
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict",
            data=json.dumps({"sentence": "Bob met Carol."}).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=120) as response:
            assert json.load(response)["tokens"] == ["Bob", "met", "Carol", "."]
        bad = urllib.request.Request(
            f"http://127.0.0.1:{port}/predict", data=b"{not json", headers={"Content-Type": "application/json"}
        )
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(bad, timeout=120)
        message = json.load(error.value)["error"]
        assert error.value.code == 400 and "must be JSON: Expecting property name" in message
        # gunicorn itself refuses a request line over 4094 bytes, as docs/serving.md says
        with pytest.raises(urllib.error.HTTPError) as error:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/?text={'a' * 5000}", timeout=120)
        assert error.value.code == 414
        # gunicorn: the master and its two workers
        children = subprocess.run(["pgrep", "-P", str(process.pid)], capture_output=True, text=True).stdout.split()
        assert len(children) == 2
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()


def test_oversized_requests_get_413_naming_the_limit(trained_archive):
    predictor = Predictor.from_path(trained_archive, max_words=50, max_sentence_words=20)
    client = create_app(predictor, max_request_bytes=10_000).test_client()
    response = client.post("/predict", json={"document": "Bob met Carol. " * 30})
    assert response.status_code == 413 and "over 50 words, the limit per request" in response.get_json()["error"]
    response = client.post("/predict", json={"instances": [{"sentence": "Bob met Carol."}] * 15})
    assert response.status_code == 413
    assert "60 words, over the limit of 50 words per request" in response.get_json()["error"]
    response = client.post("/predict", json={"tokens": ["word"] * 21})
    assert response.status_code == 413 and "limit of 20 words per sentence" in response.get_json()["error"]
    response = client.post("/predict", json={"document": "x" * 20_000})
    assert response.status_code == 413
    assert "larger than 10000 bytes, the limit (--max-request-bytes)" in response.get_json()["error"]
    assert client.post("/predict", json={"sentence": "Bob met Carol."}).status_code == 200


def test_unexpected_errors_are_json_500_and_the_service_keeps_serving(trained_archive, caplog):
    predictor = Predictor.from_path(trained_archive)
    client = create_app(predictor).test_client()
    original = predictor.predict_json
    predictor.predict_json = lambda inputs: (_ for _ in ()).throw(RuntimeError("disk on fire"))
    response = client.post("/predict", json={"sentence": "Bob met Carol."})
    assert response.status_code == 500
    assert "RuntimeError: disk on fire" in response.get_json()["error"]
    assert "Traceback" in caplog.text and "disk on fire" in caplog.text
    predictor.predict_json = original
    assert client.post("/predict", json={"sentence": "Bob met Carol."}).status_code == 200
    assert client.get("/health").status_code == 200


class FixedPredictor:
    """Stands in for the model: the page test needs a long relation and a nested entity for sure."""

    def __init__(self, vocab, result):
        self.model = type("Model", (), {"vocab": vocab})()
        self.result = result

    def predict_json(self, inputs):
        return self.result


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed")
def test_page_shows_long_arcs_with_labels_nested_entities_and_spaced_words(tmp_path):
    from spert_mt_plugin.vocabulary import TypesFileVocabulary

    tokens = (
        "Barack Obama was born in Honolulu , Hawaii , and later lived and worked for many years in Chicago , Illinois ."
    ).split()
    entity = lambda start, end, kind, score: {"type": kind, "start": start, "end": end, "score": score}  # noqa: E731
    result = {
        "tokens": tokens,
        "entities": [
            entity(0, 2, "Person", 9.1),
            entity(5, 8, "Location", 4.2),
            entity(7, 8, "Location", 6.3),
            entity(18, 21, "Location", 5.0),
            entity(20, 21, "Location", 7.7),
        ],
        "relations": [
            {"type": "Located_In", "head": 0, "tail": 4, "score": 3.3},
            {"type": "Located_In", "head": 0, "tail": 1, "score": 2.2},
            {"type": "Located_In", "head": 1, "tail": 2, "score": 1.1},
        ],
    }
    vocab = TypesFileVocabulary.from_types_file("fixtures/data/types.json")
    app = create_app(FixedPredictor(vocab, result))
    port = free_port()
    server = make_server("127.0.0.1", port, app)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{port}/?text=" + urllib.parse.quote(" ".join(tokens))
        flags = chromium_flags(tmp_path) + ["--window-size=1400,500"]
        dom = subprocess.run([CHROMIUM, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=120).stdout
        assert 'data-done="yes"' in dom
        # every relation and entity label inside the drawing area, the whole-sentence arc's too
        assert 'data-labels-visible="yes"' in dom
        assert dom.count('class="relation-label"') == 3
        # nested entities: five boxes, "Hawaii" inside "Honolulu , Hawaii"
        assert dom.count('class="entity"') == 5
        # words are separated by spaces and no box covers a neighbouring word
        assert 'data-boxes-clear="yes"' in dom
        assert '>born</span> <span class="tok"' in dom
        # hovering shows types and scores
        assert 'title="Location &quot;Honolulu , Hawaii&quot; (score 4.20)' in dom
        assert "<title>Located_In (score 3.30)</title>" in dom
        screenshot = tmp_path / "page.png"
        subprocess.run([CHROMIUM, *flags, f"--screenshot={screenshot}", url], capture_output=True, timeout=120)
        assert screenshot.exists() and screenshot.stat().st_size > 1000
    finally:
        server.shutdown()
