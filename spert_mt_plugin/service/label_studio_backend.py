"""
A Label Studio ML backend: the routes and JSON that Label Studio (1.23) calls on a connected model,
as the `label-studio-ml` package serves them.

- `GET /health` (and `GET /`): `{"status": "UP", "model_class": "SpertMT", "model_version": ...}`;
  Label Studio allows it one second.
- `POST /setup` `{"project": "ID.TIMESTAMP", "schema": labeling config, ...}`: checks the labeling
  config against the model's types and answers `{"model_version": ...}`.
- `POST /predict` `{"tasks": [...], "label_config": ..., "project": ...}`: `{"results": [one
  prediction per task], "model_version": ...}`, each prediction `{"result": [...], "score": mean of
  the items' scores, "model_version": ...}` with `labels` regions (character offsets into the
  task's text) and `relation` items (`from_id` / `to_id`), each with its `score`, under the tag
  names of the labeling config (`formats.label_studio_config`).
- `POST /webhook` `{"action": ..., "project": {"id": ..., "label_config": ...}}`: the event
  `START_TRAINING` (Label Studio's *Start Training*) starts a retraining round on the project's
  annotations, exported from Label Studio; every other event is acknowledged.
- `POST /train` `{"annotations": [a Label Studio JSON export], "label_config": ...}` (what Label
  Studio sends without its webhook flag) starts a round on those annotations; `GET /train` tells
  the last round's state (`service.retraining`).
- `GET /versions`: `{"versions": [the model versions served so far]}`.

A labeling config the model cannot predict for answers HTTP 400 with the reason as the status
line's reason phrase, which Label Studio's log and its ML settings show. A bad task (no text under
the Text tag's data key, too long) gets `{"error": "task ID: why"}` in place of its prediction:
Label Studio logs the line, skips that task and keeps the predictions of the others.
"""

import logging
import time
from typing import Any, Dict, List, Optional

from flask import Flask, Response, jsonify, request
from werkzeug.exceptions import HTTPException

from spert_mt_plugin.formats import label_studio_results
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.label_studio_config import LabelingConfigError, TagMapping, tag_mapping
from spert_mt_plugin.formats.text_documents import document_prediction
from spert_mt_plugin.predictors.prediction_input import InputError
from spert_mt_plugin.service.app import error_response, json_body
from spert_mt_plugin.service.model_slot import ModelSlot
from spert_mt_plugin.service.retraining import Retraining, TrainingBusy, TrainingError, model_types

logger = logging.getLogger(__name__)

TRAIN_EVENT = "START_TRAINING"


def mapping_for(predictor: Any, config: Any) -> TagMapping:
    """The labeling config `config` mapped onto the model's types (a `LabelingConfigError` if it cannot be)."""
    types = model_types(predictor.model.vocab)
    return tag_mapping(config, types.entity_types, types.relation_types)


def task_prediction(predictor: Any, task: Any, mapping: TagMapping, model_version: str) -> Dict[str, Any]:
    """The Label Studio prediction of one task, or `{"error": ...}` naming the task for a bad one."""
    name = task.get("id") if isinstance(task, dict) else None
    where = f"task {name}" if name is not None else "a task without an id"
    data = task.get("data") if isinstance(task, dict) else None
    text = data.get(mapping.data_key) if isinstance(data, dict) else None
    if not isinstance(text, str):
        keys = ", ".join(repr(key) for key in data) if isinstance(data, dict) else "no data"
        return {"error": f"{where}: no text under data[{mapping.data_key!r}] (the Text tag's value); it has {keys}"}
    if not text.strip():
        return label_studio_results.prediction(text, [], [], model_version, mapping.from_name, mapping.to_name)
    try:
        document = document_prediction(str(name), predictor.predict_json({"document": text}), where)
    except (InputError, DataError) as error:
        return {"error": f"{where}: {error}"}
    kept = [index for index, entity in enumerate(document.entities) if entity[2] in mapping.entity_types]
    renumbered = {old: new for new, old in enumerate(kept)}
    relations = [
        (renumbered[head], renumbered[tail], kind, score)
        for head, tail, kind, score in document.relations
        if kind in mapping.relation_types and head in renumbered and tail in renumbered
    ]
    entities = [document.entities[index] for index in kept]
    return label_studio_results.prediction(text, entities, relations, model_version, mapping.from_name, mapping.to_name)


def create_backend(slot: ModelSlot, retraining: Optional[Retraining] = None, max_request_bytes: int = 50_000_000):
    """The Flask app of the ML backend (see the module) over the model in `slot`."""
    app = Flask(__name__)
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes
    started = time.time()
    versions: List[str] = []

    def current():
        predictor, version = slot.get()
        if version not in versions:
            versions.append(version)
        return predictor, version

    @app.get("/")
    @app.get("/health")
    def health():
        _, version = current()
        return jsonify(status="UP", model_class="SpertMT", model_version=version, uptime_s=round(time.time() - started))

    @app.post("/setup")
    def setup():
        body = _object_body()
        predictor, version = current()
        mapping_for(predictor, body.get("schema") or body.get("label_config"))
        return jsonify(model_version=version)

    @app.post("/predict")
    def predict():
        body = _object_body()
        tasks = body.get("tasks")
        if not isinstance(tasks, list):
            raise InputError("'tasks' must be a list of Label Studio tasks")
        predictor, version = current()
        mapping = mapping_for(predictor, body.get("label_config"))
        results = [task_prediction(predictor, task, mapping, version) for task in tasks]
        for result in results:
            if "error" in result:
                logger.warning("%s", result["error"])
        return jsonify(results=results, model_version=version)

    @app.post("/webhook")
    def webhook():
        body = _object_body()
        action = body.get("action")
        if action != TRAIN_EVENT:
            return jsonify(status="ok", action=action, training=False)
        project = body.get("project")
        if not isinstance(project, dict) or project.get("id") is None:
            raise InputError(f"the {TRAIN_EVENT} event needs the project with its id and label_config")
        return _start(project.get("label_config"), project=project["id"])

    @app.post("/train")
    def train():
        body = _object_body()
        return _start(body.get("label_config"), tasks=body.get("annotations"))

    @app.get("/train")
    def training_status():
        return jsonify(_retraining().status())

    @app.get("/versions")
    def model_versions():
        current()
        return jsonify(versions=versions)

    def _retraining() -> Retraining:
        if retraining is None:
            raise TrainingError("retraining is off: start the backend with --train-config CONFIG")
        return retraining

    def _start(label_config: Any, tasks: Any = None, project: Any = None):
        rounds = _retraining()
        predictor, _ = current()
        state = rounds.start(mapping_for(predictor, label_config), tasks=tasks, project=project)
        return jsonify(status="ok", training=True, **state), 201

    @app.errorhandler(LabelingConfigError)
    @app.errorhandler(InputError)
    @app.errorhandler(TrainingError)
    def refused(error: Exception):
        return _failure(str(error), 409 if isinstance(error, TrainingBusy) else 400)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return _failure(error.description or error.name, error.code or 500)
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return _failure(f"internal error ({type(error).__name__}: {error}); the traceback is in the backend's log", 500)

    return app


def _object_body() -> Dict[str, Any]:
    body = json_body()
    if not isinstance(body, dict):
        raise InputError(f"the request body must be a JSON object, got {type(body).__name__}")
    return body


def _failure(message: str, status: int) -> Response:
    """
    `{"error": message}` with `message` also as the reason phrase of the status line: Label Studio
    logs and shows only the status line of a failed call.
    """
    logger.warning("%d: %s", status, message)
    response, _ = error_response(message, status)
    reason = " ".join(message.split()).encode("latin-1", "replace").decode("latin-1")
    response.status = f"{status} {reason[:400]}"
    return response
