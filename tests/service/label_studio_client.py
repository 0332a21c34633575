"""
Drives a real Label Studio server through label-studio-sdk, for tests/service/test_label_studio_server.py.

Run by .venv-label-studio's Python (the SDK lives there, not in .venv): `python label_studio_client.py
URL API_KEY COMMAND JSON_ARGUMENTS`; prints the command's answer as one JSON line.

- `create {"title", "label_config", "tasks", "backend_url"}`: a project with the tasks, the ML
  backend connected; `{"project": id, "ml_backend": id, "tasks": [ids]}`.
- `predict {"project"}`: asks Label Studio to retrieve the backend's predictions for every task and
  reads the tasks back: `[{"id", "data", "predictions": [{"model_version", "score", "result"}]}]`.
- `import {"project", "tasks"}`: imports more tasks (with their annotations).
- `train {"ml_backend"}`: Label Studio's *Start Training* for the backend.
- `backend {"ml_backend"}`: the backend as Label Studio sees it (state, model_version, error_message).
- `token {}`: a personal access token (what Label Studio 1.23 gives its users by default).
"""

import json
import sys

from label_studio_sdk import LabelStudio


def create(client, title, label_config, tasks, backend_url):
    project = client.projects.create(title=title, label_config=label_config)
    client.projects.import_tasks(project.id, request=tasks)
    backend = client.ml.create(project=project.id, url=backend_url, title="spert-mt", is_interactive=False)
    ids = [task.id for task in client.tasks.list(project=project.id)]
    return {"project": project.id, "ml_backend": backend.id, "tasks": sorted(ids)}


def predict(client, project):
    client.actions.create(
        id="retrieve_tasks_predictions", project=project, selected_items={"all": True, "excluded": []}
    )
    tasks = []
    for task in client.tasks.list(project=project, fields="all"):
        predictions = [
            {"model_version": p.model_version, "score": p.score, "result": p.result}
            for p in client.predictions.list(task=task.id)
        ]
        tasks.append({"id": task.id, "data": task.data, "predictions": predictions})
    return sorted(tasks, key=lambda task: task["id"])


def import_tasks(client, project, tasks):
    client.projects.import_tasks(project, request=tasks)
    return {"imported": len(tasks)}


def train(client, ml_backend):
    client.ml.train(ml_backend)
    return {"requested": True}


def backend(client, ml_backend):
    found = client.ml.get(ml_backend)
    return {"state": found.state, "model_version": found.model_version, "error_message": found.error_message}


def token(client):
    return {"token": client.tokens.create().token}


COMMANDS = {
    "create": create,
    "predict": predict,
    "import": import_tasks,
    "train": train,
    "backend": backend,
    "token": token,
}


def main(url, api_key, command, arguments):
    client = LabelStudio(base_url=url, api_key=api_key)
    print(json.dumps(COMMANDS[command](client, **json.loads(arguments)), default=str))


if __name__ == "__main__":
    main(*sys.argv[1:])
