"""
The HTTP service: a JSON prediction endpoint, a health endpoint and a page that draws predictions.
"""

import logging
import time
from pathlib import Path
from typing import Any, Dict

from flask import Flask, jsonify, request, send_from_directory
from werkzeug.exceptions import HTTPException

from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS
from spert_mt_plugin.predictors.spert_mt import InputError, InputTooLarge, SpertMTPredictor

logger = logging.getLogger(__name__)

STATIC = Path(__file__).parent / "static"


def create_app(predictor: SpertMTPredictor, max_batch: int = 64, max_request_bytes: int = 2_000_000) -> Flask:
    """
    Routes:

    - `GET /health`: `{"status": "ok", ...}` once the model is loaded;
    - `POST /predict`: one input object (`tokens`, `sentence` or `document`, see the predictor), or
      `{"instances": [objects]}` for a batch (at most `max_batch`); returns the prediction, or
      `{"predictions": [...]}` for a batch. Bad input gives HTTP 400 with `{"error": message}`;
      a request over a size limit (`max_request_bytes`, or the predictor's `max_words` /
      `max_sentence_words`) HTTP 413 naming the limit;
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
        payload: Any = request.get_json(silent=True)
        if payload is None:
            return _error("the request body must be JSON (Content-Type: application/json)")
        try:
            if isinstance(payload, dict) and "instances" in payload:
                batch = payload["instances"]
                if not isinstance(batch, list) or not batch:
                    return _error("'instances' must be a non-empty list of input objects")
                if len(batch) > max_batch:
                    return _error(f"at most {max_batch} instances per request, got {len(batch)}")
                return jsonify(predictions=predictor.predict_batch_json(batch))
            return jsonify(predictor.predict_json(payload))
        except InputTooLarge as error:
            return _error(str(error), 413)
        except InputError as error:
            return _error(str(error))

    @app.errorhandler(413)
    def too_large(_):
        return _error(f"the request is larger than {max_request_bytes} bytes", 413)

    @app.errorhandler(405)
    def wrong_method(_):
        return _error("method not allowed", 405)

    @app.errorhandler(404)
    def not_found(_):
        return _error("not found: use GET /, GET /health or POST /predict", 404)

    @app.errorhandler(Exception)
    def unexpected(error: Exception):
        if isinstance(error, HTTPException):
            return _error(error.description or error.name, error.code or 500)
        logger.exception("unexpected error on %s %s", request.method, request.path)
        return _error(f"internal error ({type(error).__name__}: {error}); the traceback is in the service log", 500)

    @app.get("/")
    def page():
        return send_from_directory(STATIC, "index.html")

    @app.get("/static/<path:name>")
    def static_file(name: str):
        return send_from_directory(STATIC, name)

    return app


def _error(message: str, status: int = 400):
    response: Dict[str, Any] = {"error": message}
    return jsonify(response), status
