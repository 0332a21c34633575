"""
The model a long-running service answers with, switched to a retrained one without a restart.

The current model is named by `current.json` in the service's work folder: `{"archive": path,
"model_version": name, "base_archive": path}`. A switch writes that file atomically (a rename), so
every worker process of the server sees the old model or the new one, never a mix; each worker
notices the change on its next request and loads the new archive in a background thread while the
old model goes on answering, then swaps the two in one assignment. A restart with the same archive
on the command line (`base_archive`) resumes with the retrained model; another archive starts over.
"""

import hashlib
import json
import logging
import os
import threading
from pathlib import Path
from typing import Any, Callable, Dict, Optional, Tuple

from spert_mt_plugin.formats.atomic import write_text

logger = logging.getLogger(__name__)

CURRENT = "current.json"


def archive_version(archive: str) -> str:
    """A model version that changes with the archive's content: `spert-mt-` and 10 hex digits of its SHA-256."""
    digest = hashlib.sha256()
    with open(archive, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return f"spert-mt-{digest.hexdigest()[:10]}"


class ModelSlot:
    """
    The current predictor and its model version (`get`), loaded by `load(archive)`. `base_archive`
    is the archive the service was started with, `model_version` its version (default: from its
    content, `archive_version`).
    """

    def __init__(
        self, work_dir: Path, load: Callable[[str], Any], base_archive: str, model_version: Optional[str] = None
    ) -> None:
        self.work_dir = Path(work_dir)
        self.work_dir.mkdir(parents=True, exist_ok=True)
        self._load = load
        base = os.path.abspath(base_archive)
        state = self._read_state()
        if state is None or state.get("base_archive") != base or not os.path.exists(state.get("archive", "")):
            state = {"archive": base, "model_version": model_version or archive_version(base), "base_archive": base}
            write_text(self.state_path, json.dumps(state, indent=1))
        self._current: Tuple[Any, Dict[str, Any]] = (load(state["archive"]), state)
        self._seen = self._stamp()
        self._loading = threading.Lock()

    @property
    def state_path(self) -> Path:
        return self.work_dir / CURRENT

    def get(self) -> Tuple[Any, str]:
        """The predictor to answer with and its model version; starts loading a newer one if one was switched to."""
        stamp = self._stamp()
        if stamp != self._seen and self._loading.acquire(blocking=False):
            self._seen = stamp
            threading.Thread(target=self._reload, daemon=True).start()
        predictor, state = self._current
        return predictor, state["model_version"]

    @property
    def archive(self) -> str:
        """The archive of the model answering now."""
        return self._current[1]["archive"]

    @property
    def base_archive(self) -> str:
        return self._current[1]["base_archive"]

    def switch(self, archive: str, model_version: str, predictor: Any = None) -> None:
        """Makes `archive` (already loaded as `predictor`, else loaded here) the current model, for every worker."""
        state = {"archive": os.path.abspath(archive), "model_version": model_version, "base_archive": self.base_archive}
        loaded = predictor if predictor is not None else self._load(state["archive"])
        write_text(self.state_path, json.dumps(state, indent=1))
        self._seen = self._stamp()
        self._current = (loaded, state)
        logger.info("switched to model %s (%s)", model_version, archive)

    def _reload(self) -> None:
        try:
            state = self._read_state()
            if state is None or state["model_version"] == self._current[1]["model_version"]:
                return
            self._current = (self._load(state["archive"]), state)
            logger.info("now answering with model %s (%s)", state["model_version"], state["archive"])
        except Exception:
            # The old model goes on answering; the next change of the file tries again.
            logger.exception("could not load the model %s names", self.state_path)
        finally:
            self._loading.release()

    def _read_state(self) -> Optional[Dict[str, Any]]:
        try:
            return json.loads(self.state_path.read_text())
        except (OSError, ValueError):
            return None

    def _stamp(self) -> Optional[Tuple[int, int]]:
        try:
            stat = self.state_path.stat()
        except OSError:
            return None
        return stat.st_mtime_ns, stat.st_ino
