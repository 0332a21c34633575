"""
Exported ONNX encoders kept on disk, so that the `onnx` modes' export, fusion and quantisation
(3.8 s for `onnx`, 5.5 s for `onnx-int8` before its smoothing added about 1.4 s, on 2-core EPYCs;
docs/speed.md) are paid once per model and mode, not at every `allennlp predict`, spert-serve start
or Ray actor.

An entry is the serialised graph, named by a hash of everything the graph depends on: the mode,
the encoder's class, config and every weight, the ONNX opset and the versions of torch,
transformers, onnx and onnxruntime. A fine-tuned model whose weights differ by one value gets its
own entry; nothing is ever looked up by file name or date.

The folder is `SPERT_ONNX_CACHE` when set (`off` turns the cache off), else
`$XDG_CACHE_HOME/spert_mt/onnx` (`~/.cache/spert_mt/onnx`). Entries are written atomically (a
temporary file renamed into place), so processes exporting the same model at once (the actors of
a Ray job) are safe; a folder that cannot be written only costs the export, with a warning. Delete
the folder to reclaim its space (an entry is about the size of the encoder's weights).
"""

import hashlib
import importlib.metadata
import logging
import os
import tempfile
from pathlib import Path
from typing import Optional

import torch

from spert_mt_plugin.inference.onnx_transformer import OPSET, OnnxTransformer, takes_type_ids

CACHE_VARIABLE = "SPERT_ONNX_CACHE"
OFF = "off"
# Bump when what an entry holds changes in a way the hashed inputs do not show (the export's or
# the fusion's settings).
FORMAT = "2"
_VERSIONED = ("torch", "transformers", "onnx", "onnxruntime")

logger = logging.getLogger(__name__)


def cache_folder() -> Optional[Path]:
    """The folder of the cache, or `None` when `SPERT_ONNX_CACHE` is `off`."""
    setting = os.environ.get(CACHE_VARIABLE, "").strip()
    if setting.lower() == OFF:
        return None
    if setting:
        return Path(setting).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "spert_mt" / "onnx"


def graph_key(transformer: torch.nn.Module, quantize: bool) -> str:
    """The hash naming the entry of `transformer` exported for `onnx-int8` (`quantize`) or `onnx`."""
    digest = hashlib.sha256()
    for part in (FORMAT, "onnx-int8" if quantize else "onnx", str(OPSET), type(transformer).__qualname__):
        digest.update(part.encode() + b"\0")
    for package in _VERSIONED:
        digest.update(f"{package}={_version(package)}".encode() + b"\0")
    config = getattr(transformer, "config", None)
    digest.update((config.to_json_string() if config is not None else "").encode() + b"\0")
    for name, tensor in transformer.state_dict().items():
        tensor = tensor.detach().cpu().contiguous().reshape(-1)
        digest.update(f"{name} {tensor.dtype} {tuple(tensor.shape)}".encode() + b"\0")
        digest.update(tensor.view(torch.uint8).numpy().data if tensor.numel() else b"")
    return digest.hexdigest()


def _version(package: str) -> str:
    try:
        return importlib.metadata.version(package)
    except importlib.metadata.PackageNotFoundError:
        return "missing"  # the export itself then says what to install


def exported_transformer(transformer: torch.nn.Module, quantize: bool = False) -> OnnxTransformer:
    """`OnnxTransformer.export(transformer, quantize)`, from the cache when this graph is in it, else stored there."""
    import onnxruntime  # noqa: F401  (a cached graph is no use without it: fail at load, as the export does)

    folder = cache_folder()
    if folder is None:
        return OnnxTransformer.export(transformer, quantize=quantize)
    path = folder / f"{graph_key(transformer, quantize)}.onnx"
    try:
        graph = path.read_bytes()
    except FileNotFoundError:
        graph = None
    except OSError as error:
        logger.warning("cannot read the ONNX cache entry %s (%s): exporting the encoder again", path, error)
        graph = None
    if graph is not None:
        logger.info("ONNX encoder read from the cache: %s", path)
        return OnnxTransformer(graph, transformer.config, takes_type_ids(transformer))
    encoder = OnnxTransformer.export(transformer, quantize=quantize)
    _store(path, encoder.onnx_model)
    return encoder


def _store(path: Path, graph: bytes) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=path.stem, suffix=".partial")
        try:
            with os.fdopen(handle, "wb") as file:
                file.write(graph)
            os.replace(temporary, path)
        finally:
            if os.path.exists(temporary):
                os.unlink(temporary)
    except OSError as error:
        logger.warning(
            "cannot write the ONNX cache entry %s (%s): the next load exports again (%s=off turns the cache off)",
            path,
            error,
            CACHE_VARIABLE,
        )
        return
    logger.info("ONNX encoder stored in the cache: %s", path)
