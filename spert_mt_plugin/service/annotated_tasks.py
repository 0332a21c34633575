"""
The annotated tasks a retraining round learns from (`service.retraining`): exported from a Label
Studio project through its API (no SDK: `label-studio-sdk` pins a NumPy that this package's
environment cannot take), kept when an annotation is not cancelled, and split into a training part
and a held-out slice.
"""

import json
import urllib.error
import urllib.request
from typing import Any, Dict, List, Optional, Tuple


class TrainingError(Exception):
    """A round that cannot start or did not finish; the message says why in one line."""


def annotated(tasks: Any) -> List[Dict[str, Any]]:
    """The tasks of a Label Studio export that have an annotation not cancelled, in order of their id."""
    if not isinstance(tasks, list):
        raise TrainingError(f"the annotations must be a list of Label Studio tasks, got {type(tasks).__name__}")
    kept = [
        task
        for task in tasks
        if isinstance(task, dict)
        and any(isinstance(a, dict) and not a.get("was_cancelled", False) for a in task.get("annotations") or [])
    ]
    return sorted(kept, key=lambda task: (not isinstance(task.get("id"), int), str(task.get("id")).zfill(20)))


def held_out_split(tasks: List[Dict[str, Any]], every: int) -> Tuple[List[Dict[str, Any]], List[Dict[str, Any]]]:
    """
    `(training, held_out)`: every `every`-th task is held out, counting from the last so that a
    project of a few tasks holds out one; at least two tasks are needed.
    """
    if len(tasks) < 2:
        raise TrainingError(
            f"{len(tasks)} annotated task(s): a round needs at least 2, one to train on and one held out to compare"
        )
    held = {index for index in range(len(tasks) - 1, -1, -every)}
    return [t for i, t in enumerate(tasks) if i not in held], [t for i, t in enumerate(tasks) if i in held]


def export_tasks(url: str, api_key: str, project: Any) -> List[Dict[str, Any]]:
    """
    The annotated tasks of project `project` from Label Studio's export API (JSON). `api_key` is a
    personal access token (a JWT refresh token, exchanged for an access token) or a legacy token.
    """
    base = url.rstrip("/")
    if api_key.count(".") == 2:
        access = _request_json(f"{base}/api/token/refresh", None, {"refresh": api_key})["access"]
        authorization = f"Bearer {access}"
    else:
        authorization = f"Token {api_key}"
    return _request_json(f"{base}/api/projects/{int(project)}/export?exportType=JSON", authorization)


def _request_json(url: str, authorization: Optional[str], body: Optional[dict] = None) -> Any:
    headers = {"Content-Type": "application/json"}
    if authorization:
        headers["Authorization"] = authorization
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, headers=headers), timeout=120) as response:
            return json.loads(response.read())
    except urllib.error.HTTPError as error:
        raise TrainingError(f"Label Studio answered {error.code} {error.reason} to {url.split('?')[0]}") from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        raise TrainingError(f"cannot export the annotations from {url.split('?')[0]}: {error}") from None
