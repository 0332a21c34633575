"""
The ML backend against a real Label Studio server (the `label-studio` package in .venv-label-studio,
built by scripts/setup_label_studio.sh): a project with a relation labeling config, tasks, the
backend connected, predictions asked of Label Studio and read back through label-studio-sdk, and a
training round on the fixture annotations that switches the model version.

It takes minutes (Label Studio creates its database on first start), so it is marked
`label_studio`: the normal suite deselects it (pytest.ini) and CI runs it as a step of its own
(`scripts/test_label_studio.sh` from .ci/run). Without .venv-label-studio it fails, never skips.
"""

import json
import os
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, PROJECT_ROOT, free_port
from tests.service.devtools import headless_chromium
from tests.service.test_app import CHROMIUM, chromium_flags

pytestmark = pytest.mark.label_studio

LABEL_STUDIO_VENV = PROJECT_ROOT / ".venv-label-studio"
CLIENT = Path(__file__).parent / "label_studio_client.py"
USER, PASSWORD, TOKEN = "tester@example.com", "spert-mt-test", "0123456789abcdef0123456789abcdef01234567"
CONFIG = """<View>
  <Relations><Relation value="Works_For"/><Relation value="Located_In"/><Relation value="Married_To"/></Relations>
  <Labels name="label" toName="text">
    <Label value="Person"/><Label value="Organization"/><Label value="Location"/>
  </Labels>
  <Text name="text" value="$text"/>
</View>"""
TEXTS = ["Ada Lovelace works for Acme Corp in Paris.", "Bob is married to Carol. Dan lives in Oslo."]
# Where the screenshot of the editor goes besides tmp_path, to refresh docs/ (docs/label_studio.md).
SCREENSHOT_COPY = os.environ.get("SPERT_LABEL_STUDIO_SCREENSHOT")


def wait_until(check, what: str, timeout: float, process=None):
    deadline = time.time() + timeout
    while True:
        try:
            result = check()
            if result:
                return result
        except OSError:
            pass
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{what}: the process ended with {process.returncode}")
        if time.time() > deadline:
            raise TimeoutError(f"{what}: not within {timeout} s")
        time.sleep(2)


def get_json(url: str, token: str = None):
    headers = {"Authorization": f"Token {token}"} if token else {}
    with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=10) as response:
        return json.loads(response.read())


def stop(process: subprocess.Popen) -> None:
    """Stops a process started in a session of its own, with everything it started."""
    if process.poll() is None:
        os.killpg(process.pid, 15)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, 9)
            process.wait()


@pytest.fixture(scope="module")
def label_studio(tmp_path_factory):
    """A Label Studio server on a free loopback port, sqlite in a temporary folder; its URL."""
    executable = LABEL_STUDIO_VENV / "bin" / "label-studio"
    assert executable.exists(), f"{executable} is missing: build it with bash scripts/setup_label_studio.sh"
    data = tmp_path_factory.mktemp("label_studio")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    environment = {
        **os.environ,
        "HOST": url,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data),
        # The backend runs on this machine: Label Studio refuses local addresses unless told otherwise.
        "SSRF_PROTECTION_ENABLED": "false",
        "ML_BLOCK_LOCAL_IP": "false",
        "LATEST_VERSION_CHECK": "false",
    }
    command = [str(executable), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port)]
    command += ["--data-dir", str(data), "--username", USER, "--password", PASSWORD, "--user-token", TOKEN]
    command += ["--enable-legacy-api-token"]
    with open(data / "label_studio.log", "w") as log:
        process = subprocess.Popen(
            command, stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    try:
        wait_until(lambda: "results" in get_json(f"{url}/api/projects", TOKEN), "Label Studio", 900, process)
        yield url
    finally:
        stop(process)


@pytest.fixture(scope="module")
def backend(label_studio, trained_archive, tmp_path_factory):
    """`allennlp spert-label-studio-backend` on the fixture model, retraining with the fixture config; its URL."""
    work = tmp_path_factory.mktemp("backend")
    port = free_port()
    command = [sys.executable, "-m", "allennlp", "spert-label-studio-backend", trained_archive, "--port", str(port)]
    command += ["--work-dir", str(work), "--train-config", str(FIXTURES / "experiment.jsonnet"), "--fine-tune"]
    command += ["--held-out-every", "2"]
    # The export for training authenticates with a personal access token, as users of Label Studio 1.23 have.
    access_token = sdk(label_studio, "token")["token"]
    environment = {**os.environ, "LABEL_STUDIO_URL": label_studio, "LABEL_STUDIO_API_KEY": access_token}
    with open(work / "backend.log", "w") as log:
        process = subprocess.Popen(
            command, cwd=PROJECT_ROOT, stdout=log, stderr=subprocess.STDOUT, env=environment, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_until(lambda: get_json(f"{url}/health")["status"] == "UP", "the backend", 300, process)
        yield url
    finally:
        stop(process)


def sdk(label_studio: str, command: str, **arguments):
    """A command of label_studio_client.py, run by .venv-label-studio's Python (where label-studio-sdk is)."""
    python = str(LABEL_STUDIO_VENV / "bin" / "python")
    done = subprocess.run(
        [python, str(CLIENT), label_studio, TOKEN, command, json.dumps(arguments)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def check_prediction(task, model_version):
    """The task's prediction of `model_version`, checked: regions match the text, relations join regions."""
    [prediction] = [p for p in task["predictions"] if p["model_version"] == model_version]
    text = task["data"]["text"]
    regions = {item["id"]: item for item in prediction["result"] if item["type"] == "labels"}
    for region in regions.values():
        value = region["value"]
        assert (region["from_name"], region["to_name"]) == ("label", "text")
        assert text[value["start"] : value["end"]] == value["text"]
        assert isinstance(region["score"], float)
    relations = [item for item in prediction["result"] if item["type"] == "relation"]
    for relation in relations:
        assert relation["from_id"] in regions and relation["to_id"] in regions
    assert isinstance(prediction["score"], float)
    entities = {(r["value"]["text"], r["value"]["labels"][0]) for r in regions.values()}
    named = {
        (regions[r["from_id"]]["value"]["text"], r["labels"][0], regions[r["to_id"]]["value"]["text"])
        for r in relations
    }
    return entities, named


def test_label_studio_shows_the_predictions_and_a_training_round_switches_the_model(label_studio, backend, tmp_path):
    first_version = get_json(f"{backend}/health")["model_version"]
    tasks = [{"data": {"text": text}} for text in TEXTS]
    project = sdk(label_studio, "create", title="spert-mt", label_config=CONFIG, tasks=tasks, backend_url=backend)
    predicted = sdk(label_studio, "predict", project=project["project"])
    assert [task["data"]["text"] for task in predicted] == TEXTS
    entities, relations = check_prediction(predicted[0], first_version)
    assert {("Ada Lovelace", "Person"), ("Acme Corp", "Organization"), ("Paris", "Location")} <= entities
    assert ("Ada Lovelace", "Works_For", "Acme Corp") in relations
    entities, relations = check_prediction(predicted[1], first_version)
    assert ("Bob", "Married_To", "Carol") in relations

    if CHROMIUM is not None:
        screenshot = tmp_path / "label_studio_task.png"
        with headless_chromium(
            CHROMIUM,
            [f for f in chromium_flags(tmp_path) if not f.startswith("--virtual-time")],
            free_port(),
            1400,
            760,
        ) as page:
            page.open(f"{label_studio}/user/login/")
            page.evaluate(
                f"document.getElementById('email').value = {USER!r}; "
                f"document.getElementById('password').value = {PASSWORD!r}; "
                "document.getElementById('login-form').submit(); true"
            )
            page.wait_for("location.pathname !== '/user/login/' && document.readyState === 'complete'")
            page.open(f"{label_studio}/projects/{project['project']}/data?task={project['tasks'][0]}")
            # the editor draws the regions and the relations' labels of the pre-annotation
            page.wait_for(
                "document.body.innerText.includes('Works_For') && document.body.innerText.includes('Acme Corp')"
            )
            time.sleep(2)
            page.screenshot(str(screenshot))
        assert screenshot.stat().st_size > 20000
        if SCREENSHOT_COPY:
            shutil.copy(screenshot, SCREENSHOT_COPY)

    # A training round on the fixture's annotated tasks, which Label Studio asks the backend for.
    annotated = json.loads((FIXTURES / "label_studio" / "tasks.json").read_text())
    for task in annotated:
        task.pop("id", None)
        for annotation in task.get("annotations") or []:
            annotation.pop("id", None)
            annotation.pop("completed_by", None)
    sdk(label_studio, "import", project=project["project"], tasks=annotated)
    sdk(label_studio, "train", ml_backend=project["ml_backend"])
    state = wait_until(
        lambda: (lambda s: s if s.get("state") not in ("running", "none") else None)(get_json(f"{backend}/train")),
        "the training round",
        900,
    )
    assert state["state"] == "switched", state
    new_version = get_json(f"{backend}/health")["model_version"]
    assert new_version != first_version and state["model_version"] == new_version
    # Label Studio takes up the new version and predicts with it.
    predicted = sdk(label_studio, "predict", project=project["project"])
    assert sdk(label_studio, "backend", ml_backend=project["ml_backend"])["model_version"] == new_version
    entities, relations = check_prediction(predicted[0], new_version)
    assert ("Ada Lovelace", "Works_For", "Acme Corp") in relations
