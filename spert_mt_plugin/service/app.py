"""
The HTTP service: a JSON prediction endpoint, a health endpoint and a page that draws predictions.
"""

import json
import logging
import time
from pathlib import Path
from typing import Any, Dict

from flask import Flask, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS
from spert_mt_plugin.predictors.prediction_input import InputError, InputTooLarge, check_batch
from spert_mt_plugin.predictors.spert_mt import SpertMTPredictor

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


def create_app(predictor: SpertMTPredictor, max_batch: int = 64, max_request_bytes: int = 2_000_000) -> Flask:
    """
    Routes:

    - `GET /health`: `{"status": "ok", ...}` once the model is loaded;
    - `POST /predict`: one input object (`tokens`, `sentence` or `document`, see the predictor), or
      `{"instances": [objects]}` for a batch (at most `max_batch`); returns the prediction, or
      `{"predictions": [...]}` for a batch. Bad input gives HTTP 400 with `{"error": message}`
      (for a bad instance of a batch naming it, `instances[i]`, 0-based; for a body that is not
      JSON the parser's message and position); a request over any size limit (`max_request_bytes`,
      `max_batch`, or the predictor's `max_words` / `max_sentence_words`) HTTP 413 naming the limit.
      Every status and message: docs/serving.md, "Statuses and errors";
    - `GET /`: the visual page.

    Every answer is JSON (but the page): an unexpected exception gives HTTP 500
    `{"error": ...}`, its traceback goes to the log, and the service goes on serving.
    """
    app = Flask(__name__, static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = max_request_bytes
    started = time.time()
    vocab = predictor.model.vocab

    @app.get("/health")
    def health():
        return jsonify(
            status="ok",
            uptime_s=round(time.time() - started, 1),
            entity_types=[t for t in vocab.get_token_to_index_vocabulary(ENTITY_LABELS) if t != NO_ENTITY],
            relation_types=list(vocab.get_token_to_index_vocabulary(RELATION_LABELS)),
        )

    @app.post("/predict")
    def predict():
        try:
            payload = json_body()
            if isinstance(payload, dict) and "instances" in payload:
                batch = check_batch(payload["instances"], max_batch)
                return jsonify(predictions=predictor.predict_batch_json(batch))
            if isinstance(payload, list):
                # The likeliest mistake: a batch sent as a bare list.
                return error_response(
                    'the request body must be a JSON object, got a list: send a batch as {"instances": [...]}'
                )
            if not isinstance(payload, dict):
                return error_response(
                    'the request body must be a JSON object such as {"sentence": "..."} or {"instances": [...]}, '
                    f"got {type(payload).__name__}"
                )
            return jsonify(predictor.predict_json(payload))
        except InputTooLarge as error:
            return error_response(str(error), 413)
        except InputError as error:
            return error_response(str(error))

    @app.errorhandler(413)
    def too_large(_):
        return error_response(
            f"the request body is larger than {max_request_bytes} bytes, the limit (--max-request-bytes); "
            "split it into several requests",
            413,
        )

    @app.errorhandler(405)
    def wrong_method(_):
        return error_response(
            f"{request.method} is not allowed on {request.path}: use GET /, GET /health or POST /predict", 405
        )

    @app.errorhandler(404)
    def not_found(_):
        return error_response("not found: use GET /, GET /health or POST /predict", 404)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return error_response(error.description or error.name, error.code or 500)
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return error_response(
            f"internal error ({type(error).__name__}: {error}); the traceback is in the service log", 500
        )

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str):
        return send_from_directory(STATIC, name)

    return app


def json_body() -> Any:
    """The request body parsed as JSON; an `InputError` saying what is wrong with it (HTTP 400) if it is not."""
    if not request.is_json:
        raise InputError(
            "the request body must be JSON, sent with the header Content-Type: application/json "
            f"(got {request.content_type or 'no Content-Type'})"
        )
    # Over MAX_CONTENT_LENGTH, reading raises werkzeug's 413 (handled by `too_large`).
    body = request.get_data(cache=False)
    if not body.strip():
        raise InputError('the request body is empty: send a JSON object such as {"sentence": "..."}')
    try:
        # From bytes, as RFC 8259 has it: UTF-8 (or UTF-16/32, told by the first bytes).
        return json.loads(body)
    except json.JSONDecodeError as error:
        raise InputError(
            f"the request body must be JSON: {error.msg} at line {error.lineno}, column {error.colno} "
            f"(character {error.pos})"
        ) from None
    except UnicodeDecodeError as error:
        raise InputError(f"the request body must be JSON in UTF-8: {error.reason} at byte {error.start}") from None


def error_response(message: str, status: int = 400):
    response: Dict[str, Any] = {"error": message}
    return jsonify(response), status
