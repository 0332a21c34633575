"""
Precision modes of prediction: the arithmetic a trained model predicts with.

- `float32`: as trained.
- `bfloat16`: the model's whole forward pass under `torch.autocast` with bfloat16 (matrix products
  in bfloat16, reductions and the losses' functions in float32). Fast on CPUs with native bfloat16
  dot products (AVX-512 BF16, AMX) and on GPUs; elsewhere bfloat16 is emulated: on an AVX2 CPU
  0.39x float32's speed at batch 1, 0.19x at batch 8 (docs/speed.md).
- `onnx`: the encoder exported to ONNX, its transformer operators fused, run by ONNX Runtime in
  float32 on groups of rows of similar length, through the model's own
  `PretrainedTransformerEmbedder` (see `onnx_transformer`); the heads stay in torch. CPU only.
  The graph is exported once per model and then read from an on-disk cache (`onnx_cache`).
- `onnx-int8`: that export with ONNX Runtime's dynamic int8 quantisation (int8 weights per
  channel, activations quantised per call, their few wide channels smoothed into the weights
  first: `smoothing`). CPU only. The fastest (1.86x to 2.30x float32 at batch 8 on a Zen 5
  EPYC), but its decisions still differ from float32's in about 0.7 % of cases, and CoNLL04 test
  F1 stayed within 0.3 for one of two models (docs/speed.md).

torch's own dynamic int8 (`quantize_dynamic`, deprecated in favour of torchao) was measured too and
left out: it lost more F1 (NER -1.0, RE -1.6) and was slower than `onnx-int8`.

`auto` (or `None`) picks `default_precision()`: `bfloat16` on CPUs with AMX, `onnx` on other
CPUs (AVX2 ones and those with AVX-512 BF16 but no AMX among them), `float32` on GPUs. Training
and `allennlp evaluate`, which give the tables of docs/results.md, never go through this module:
they stay float32. docs/speed.md has the F1 and the throughput of every mode on CoNLL04.

`prepare_model` prepares a loaded model for a mode (in place: the ONNX modes replace its
encoder) and returns a `Precision`, whose `forward()` is the context the model's forward runs in.
"""

import contextlib
import importlib.util
import logging
import weakref
from pathlib import Path
from typing import ContextManager, FrozenSet, NamedTuple, Optional, Union

import torch
from allennlp.common.checks import ConfigurationError
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

PRECISIONS = ("float32", "bfloat16", "onnx", "onnx-int8")
AUTO = "auto"
# Modes that replace the encoder: a model prepared for one of them cannot go back.
_REPLACE_ENCODER = ("onnx", "onnx-int8")
_CPU_ONLY = _REPLACE_ENCODER
# CPU flags of native bfloat16 dot products (x86: AVX-512 BF16, AMX); without them autocast
# emulates bfloat16 and is slower than float32.
_AMX_FLAG = "amx_bf16"
_BFLOAT16_FLAGS = ("avx512_bf16", _AMX_FLAG)
_CPUINFO = Path("/proc/cpuinfo")

logger = logging.getLogger(__name__)

# The mode each model was prepared for, so that two predictors over one model cannot disagree.
_prepared: "weakref.WeakKeyDictionary[torch.nn.Module, str]" = weakref.WeakKeyDictionary()


class PrecisionError(ConfigurationError):
    """A precision mode that does not exist or cannot be used here; the message says why, on one line."""


class Precision(NamedTuple):
    """A model's precision mode (`name`) on a device of type `device_type` (`"cpu"`, `"cuda"`)."""

    name: str
    device_type: str

    def forward(self) -> ContextManager:
        """The context the model's forward pass runs in: bfloat16 autocast for `bfloat16`, else nothing."""
        if self.name == "bfloat16":
            return torch.autocast(self.device_type, dtype=torch.bfloat16)
        return contextlib.nullcontext()


def cpu_flags(cpuinfo: Path = _CPUINFO) -> FrozenSet[str]:
    """The CPU's feature flags from Linux's cpuinfo (empty where there is none)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return frozenset()
    for line in text.splitlines():
        if line.startswith("flags"):
            return frozenset(line.partition(":")[2].split())
    return frozenset()


def cpu_supports_bfloat16(cpuinfo: Path = _CPUINFO) -> bool:
    """Whether the CPU has native bfloat16 dot products (the `avx512_bf16` or `amx_bf16` flag of Linux's cpuinfo)."""
    return any(flag in cpu_flags(cpuinfo) for flag in _BFLOAT16_FLAGS)


def cpu_has_amx(cpuinfo: Path = _CPUINFO) -> bool:
    """Whether the CPU has AMX bfloat16 tile products (the `amx_bf16` flag), where `bfloat16` is fastest."""
    return _AMX_FLAG in cpu_flags(cpuinfo)


def default_precision(device: Union[str, torch.device] = "cpu") -> str:
    """
    The mode prediction uses unless told otherwise, the fastest whose CoNLL04 test F1 stays within
    0.3 of float32's (docs/speed.md; on a Zen 5 EPYC at batch 8, within the runs' spread). On a
    CPU with AMX, `bfloat16` (1.17x / 1.75x float32 on a Xeon); on any other CPU `onnx` when ONNX
    Runtime is installed (float32's F1; 1.37x / 1.35x on an AVX2 EPYC, 1.29x / 1.49x against
    bfloat16's 1.06x / 1.36x on a Zen 4 EPYC with AVX-512 BF16, 1.55x-1.69x / 1.85x-1.94x against
    1.14x-1.33x / 1.82x-1.95x on a Zen 5 one), else `bfloat16` where it is native and `float32`
    where it is not. On a GPU `float32`, as no GPU figures were measured yet. `onnx-int8` is
    faster still but does not keep F1 reliably: with its inputs smoothed, within 0.3 for one of
    two CoNLL04 models (RE -0.35 and NER -0.10 for the other, on a Zen 5 EPYC), for both on the
    same CPU masked to AVX2, where its lead over `onnx` is smallest (1.49x-1.63x against 1.38x-1.42x).
    """
    if torch.device(device).type != "cpu":
        return "float32"
    if cpu_has_amx():
        return "bfloat16"
    if onnxruntime_installed():
        return "onnx"
    if cpu_supports_bfloat16():
        return "bfloat16"
    return "float32"


def onnxruntime_installed() -> bool:
    """Whether `onnxruntime` (and `onnx`, which the export needs) can be imported here."""
    return all(importlib.util.find_spec(name) is not None for name in ("onnxruntime", "onnx"))


def resolve_precision(precision: Optional[str], device: Union[str, torch.device] = "cpu") -> str:
    """`precision` checked against the modes usable on `device`; `None` and `"auto"` give `default_precision`."""
    device = torch.device(device)
    if precision is None or precision == AUTO:
        return default_precision(device)
    if precision not in PRECISIONS:
        raise PrecisionError(f"unknown precision {precision!r}: choose one of {', '.join(PRECISIONS)} or {AUTO}")
    if precision in _CPU_ONLY and device.type != "cpu":
        raise PrecisionError(f"precision {precision} runs on the CPU only, and the model is on {device}")
    if precision == "bfloat16" and device.type == "cuda" and not torch.cuda.is_bf16_supported():
        raise PrecisionError(f"precision bfloat16: {torch.cuda.get_device_name(device)} has no bfloat16 support")
    return precision


def prepare_model(model: torch.nn.Module, precision: Optional[str] = None) -> Precision:
    """
    Prepares `model` (loaded, in eval mode) for `precision` and returns its `Precision`.

    # Parameters

    model : `torch.nn.Module`
        A spert-mt model; the modes that change the encoder need exactly one
        `PretrainedTransformerEmbedder` in it.
    precision : `str`, optional (default = `None`)
        One of `PRECISIONS`, or `None` / `"auto"` for `default_precision()` of the model's device.

    `onnx` and `onnx-int8` replace the embedder's transformer in place: a model prepared for one
    of them cannot be prepared for another mode (load the archive again).
    """
    parameter = next(model.parameters(), None)
    device = parameter.device if parameter is not None else torch.device("cpu")
    name = resolve_precision(precision, device)
    earlier = _prepared.get(model)
    if earlier is not None and earlier != name and (earlier in _REPLACE_ENCODER or name in _REPLACE_ENCODER):
        raise PrecisionError(
            f"this model was prepared for precision {earlier} already, which cannot change to {name}: "
            "load the archive again"
        )
    if earlier is None and name in _REPLACE_ENCODER:
        from spert_mt_plugin.inference.onnx_cache import exported_transformer

        embedder = _transformer_embedder(model, name)
        try:
            embedder.transformer_model = exported_transformer(
                embedder.transformer_model, quantize=(name == "onnx-int8")
            )
        except ImportError as error:
            raise PrecisionError(
                f"precision {name} needs {error.name}: pip install -c constraints.txt onnxruntime onnx"
            ) from None
    if earlier is None:
        logger.info("predicting with precision %s on %s", name, device)
    _prepared[model] = name
    return Precision(name, device.type)


def _transformer_embedder(model: torch.nn.Module, precision: str) -> PretrainedTransformerEmbedder:
    embedders = [module for module in model.modules() if isinstance(module, PretrainedTransformerEmbedder)]
    if len(embedders) != 1:
        raise PrecisionError(
            f"precision {precision} needs a model with one pretrained_transformer embedder, found {len(embedders)}"
        )
    return embedders[0]
