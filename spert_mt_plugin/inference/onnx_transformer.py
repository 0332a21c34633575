"""
A Hugging Face encoder exported to ONNX and run by ONNX Runtime, in the place of the transformers
model inside AllenNLP's `PretrainedTransformerEmbedder`, for the `onnx` and `onnx-int8` precision
modes (see `precision`). The embedder keeps doing what it does around the encoder (folding long
sentences into `max_length` segments, the type ids); only `transformer_model(...)` changes.

Three things make it faster than torch's float32 on a CPU, each measured in docs/speed.md:
- the exported graph's transformer operators fused by ONNX Runtime's own optimiser (attention,
  layer normalisation with its residual, the feed-forward's GELU with its bias);
- each call's rows run in groups of similar length (`length_groups`), each cut to its own longest
  row: a batch of 8 CoNLL04 sentences is otherwise 43 % padding;
- for `onnx-int8`, ONNX Runtime's dynamic int8 quantisation of the matrix products but the
  feed-forward outputs, their inputs smoothed first (`smoothing`).
"""

import contextlib
import inspect
import logging
import os
import tempfile
import warnings
import weakref
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import numpy
import torch
from transformers.modeling_outputs import BaseModelOutput

from spert_mt_plugin.inference.length_groups import length_groups

# ONNX's LayerNormalization operator, which ONNX Runtime's CPU kernels fuse.
OPSET = 17
# A group of rows may be at most this share padding (length_groups); 0.1-0.2 ran fastest for the
# int8 encoder on CoNLL04 batches of 8, 0.0 and 0.3 slower.
MAX_PADDING = 0.2
# Transformers' model types whose graph ONNX Runtime's optimiser knows how to fuse, by the name it
# gives them; any other encoder is run as exported.
_FUSABLE = {"bert": "bert", "roberta": "bert", "xlm-roberta": "bert", "electra": "bert", "distilbert": "bert"}


class OnnxTransformer(torch.nn.Module):
    """
    An encoder run by ONNX Runtime on the CPU, called as the transformers model it was exported
    from is called by `PretrainedTransformerEmbedder`: `forward(input_ids, attention_mask,
    token_type_ids=None)` returns an object whose `last_hidden_state` is a float32 tensor
    `(batch, word pieces, hidden size)`.

    Build one with `OnnxTransformer.export(transformer)`. The ONNX Runtime session is created
    in the process that first uses it, with torch's number of threads: a session does not survive
    a fork (the spert-serve workers, `nlp.pipe(n_process=N)`), so each process makes its own.

    # Parameters

    onnx_model : `bytes`
        The serialised ONNX model: inputs `input_ids` (int64), `attention_mask` (float32) and,
        if `takes_type_ids`, `token_type_ids` (int64), each `(batch, word pieces)`; output
        `last_hidden_state`.
    config : `Any`
        The exported model's transformers config (kept for code that reads `transformer_model.config`).
    takes_type_ids : `bool`
        Whether the graph has the `token_type_ids` input.
    max_padding : `float`, optional (default = `MAX_PADDING`)
        The share of a group of rows that may be padding (`length_groups`); 1.0 runs each call's
        rows as one group, padded as they come.
    """

    def __init__(self, onnx_model: bytes, config: Any, takes_type_ids: bool, max_padding: float = MAX_PADDING) -> None:
        super().__init__()
        self.onnx_model = onnx_model
        self.config = config
        self.takes_type_ids = takes_type_ids
        self.max_padding = max_padding
        self._session: Optional[Any] = None
        self._session_pid: Optional[int] = None

    @classmethod
    def export(cls, transformer: torch.nn.Module, quantize: bool = False) -> "OnnxTransformer":
        """
        Exports `transformer` (a transformers encoder such as `BertModel`) to ONNX with dynamic
        batch and sequence axes and fuses its transformer operators (`fuse_transformer_graph`);
        with `quantize`, applies ONNX Runtime's dynamic int8 quantisation (`quantize_int8`).
        """
        import onnxruntime  # noqa: F401  (a missing package fails here, before the export's work)

        transformer = transformer.eval()
        type_ids = takes_type_ids(transformer)
        vocabulary = int(getattr(transformer.config, "vocab_size", 100))
        # Two sentences, the second padded: the exported attention must use the mask.
        input_ids = torch.randint(5, max(vocabulary, 6), (2, 8))
        attention_mask = torch.ones(2, 8)
        attention_mask[1, 5:] = 0
        inputs = [input_ids, attention_mask] + ([torch.zeros_like(input_ids)] if type_ids else [])
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if type_ids else [])
        axes = {name: {0: "batch", 1: "pieces"} for name in names}
        axes["last_hidden_state"] = {0: "batch", 1: "pieces"}
        with tempfile.TemporaryDirectory(prefix="spert-onnx-") as folder:
            path = Path(folder) / "encoder.onnx"
            with warnings.catch_warnings(), torch.no_grad():
                # The TorchScript exporter warns that it is deprecated and about traced Python
                # conditions on shapes, which the dynamic axes make irrelevant; it stays because it
                # needs no onnxscript and handles transformers' attention without rewriting it.
                warnings.simplefilter("ignore")
                torch.onnx.export(
                    # eval(): the exporter restores the training flag of the module it is given, recursively.
                    _LastHiddenState(transformer, names).eval(),
                    tuple(inputs),
                    str(path),
                    input_names=names,
                    output_names=["last_hidden_state"],
                    dynamic_axes=axes,
                    opset_version=OPSET,
                    dynamo=False,
                )
            path = fuse_transformer_graph(path, transformer.config)
            if quantize:
                path = quantize_int8(path, transformer.config)
            return cls(path.read_bytes(), transformer.config, type_ids)

    def close_session(self) -> None:
        """Drops this process's session; the next call makes a new one."""
        self._session = None
        self._session_pid = None

    def session(self) -> Any:
        """This process's ONNX Runtime session (created at the first call in each process)."""
        if self._session is None or self._session_pid != os.getpid():
            import onnxruntime

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = torch.get_num_threads()
            options.inter_op_num_threads = 1
            # Spinning threads would keep the cores busy after the encoder returns, while torch
            # runs the heads on the same cores.
            options.add_session_config_entry("session.intra_op.allow_spinning", "0")
            self._session = onnxruntime.InferenceSession(self.onnx_model, options, providers=["CPUExecutionProvider"])
            self._session_pid = os.getpid()
            _encoders_with_sessions.add(self)
        return self._session

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: Optional[torch.Tensor] = None,
    ) -> BaseModelOutput:
        """
        The hidden states of the real (unmasked) word pieces, computed group by group
        (`length_groups`). Padding inside a group's longest row is encoded as torch encodes it;
        padding beyond it is zeros (torch would give the encoder's output for it, which nothing
        downstream reads).
        """
        if input_ids.device.type != "cpu":
            raise RuntimeError(f"the ONNX encoder runs on the CPU; got inputs on {input_ids.device}")
        inputs: Dict[str, numpy.ndarray] = {
            "input_ids": input_ids.numpy().astype(numpy.int64, copy=False),
            "attention_mask": attention_mask.numpy().astype(numpy.float32, copy=False),
        }
        if self.takes_type_ids:
            inputs["token_type_ids"] = (
                token_type_ids.numpy().astype(numpy.int64, copy=False)
                if token_type_ids is not None
                else numpy.zeros_like(inputs["input_ids"])
            )
        mask = inputs["attention_mask"] != 0
        rows, pieces = mask.shape
        # A row's length runs to its last real piece, so that a mask with holes is kept whole.
        lengths = numpy.where(mask.any(axis=1), pieces - numpy.argmax(mask[:, ::-1], axis=1), 0)
        hidden = numpy.zeros((rows, pieces, self.config.hidden_size), dtype=numpy.float32)
        session = self.session()
        for group in length_groups(lengths.tolist(), self.max_padding):
            width = int(lengths[group].max())
            feeds = {name: array[group, :width] for name, array in inputs.items()}
            (hidden[group, :width],) = session.run(["last_hidden_state"], feeds)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    def __getstate__(self) -> Dict[str, Any]:
        # A pickled copy (spawned processes) makes its own session.
        state = self.__dict__.copy()
        state["_session"] = None
        state["_session_pid"] = None
        return state


def takes_type_ids(transformer: torch.nn.Module) -> bool:
    """Whether `transformer`'s forward takes `token_type_ids` (and so does its exported graph)."""
    return "token_type_ids" in inspect.signature(transformer.forward).parameters


def fuse_transformer_graph(path: Path, config: Any) -> Path:
    """
    The ONNX graph at `path` with its transformer operators fused by ONNX Runtime's optimiser
    (`onnxruntime.transformers.optimizer`: Attention, EmbedLayerNormalization,
    SkipLayerNormalization, BiasGelu), written beside it; `path` itself for a model type the
    optimiser does not know. The fused graph computes the same float32 arithmetic.
    """
    model_type = _FUSABLE.get(getattr(config, "model_type", None))
    if model_type is None:
        return path
    from onnxruntime.transformers import optimizer

    fused = path.with_name(path.stem + ".fused.onnx")
    with _quiet_root_logger():
        graph = optimizer.optimize_model(
            str(path),
            model_type=model_type,
            num_heads=config.num_attention_heads,
            hidden_size=config.hidden_size,
            opt_level=1,
            use_gpu=False,
        )
        graph.save_model_to_file(str(fused))
    return fused


# Calibration rows for the smoothing (`random_word_pieces`): their number and length in word pieces.
CALIBRATION_ROWS = 64
CALIBRATION_LENGTH = 40


def quantize_int8(
    path: Path,
    config: Any,
    per_channel: bool = True,
    reduce_range: bool = True,
    float_feed_forward_outputs: bool = True,
    smoothing: bool = True,
) -> Path:
    """
    The ONNX graph at `path` with ONNX Runtime's dynamic int8 quantisation, written beside it:
    int8 weights for the matrix products (the fused attention's included), one scale per output
    channel, kept to 7 bits (`reduce_range`) because CPUs without VNNI, such as AVX2 ones, add
    pairs of int8 products in 16 bits, where full-range values overflow; activations are quantised
    per call, over each call's whole input. The feed-forward blocks' second matrix products stay
    float32 (`feed_forward_outputs`): their inputs, the GELU's outputs, have the widest range.
    With `smoothing`, the other products' inputs are smoothed first (`smoothing.smooth_products`,
    calibrated on `random_word_pieces`): their few wide channels would otherwise set the one
    scale of the whole input. Each choice brought the predictions closer to float32's on CoNLL04
    sentences (`benchmarks/int8_choices.py`, docs/speed.md), which can turn each off.
    """
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    from spert_mt_plugin.inference.smoothing import smooth_products

    graph = onnx.load(str(path))
    feed_forward = feed_forward_outputs(graph, config)
    if smoothing:
        # Smoothing the feed-forward outputs too, when they are quantised, moved the predictions
        # further from float32's: the GELU's outputs are not helped by it.
        smooth_products(graph, random_word_pieces(graph, config), exclude=feed_forward)
        path = path.with_name(path.stem + ".smoothed.onnx")
        onnx.save(graph, str(path))
    quantized = path.with_name(path.stem + ".int8.onnx")
    with _quiet_root_logger():
        quantize_dynamic(
            str(path),
            str(quantized),
            weight_type=QuantType.QInt8,
            per_channel=per_channel,
            reduce_range=reduce_range,
            nodes_to_exclude=feed_forward if float_feed_forward_outputs else [],
            # The fused operators are from ONNX Runtime's own domain, whose outputs' types shape
            # inference cannot give: they are float32.
            extra_options={"DefaultTensorType": onnx.TensorProto.FLOAT},
        )
    return quantized


def random_word_pieces(graph: Any, config: Any, seed: int = 0) -> List[Dict[str, numpy.ndarray]]:
    """
    Calibration inputs for the smoothing of an exported encoder `graph`: `CALIBRATION_ROWS` rows
    of `CALIBRATION_LENGTH` word pieces drawn at random from the vocabulary, one row per run. They
    need no data, and on MiniLM and CoNLL04 they left about as many predictions differing from
    float32's as calibrating on 256 training sentences did, within the counts' noise
    (docs/speed.md): a transformer's wide channels show for most inputs.
    """
    generator = numpy.random.default_rng(seed)
    names = {tensor.name for tensor in graph.graph.input}
    shape = (1, CALIBRATION_LENGTH)
    runs = []
    for _ in range(CALIBRATION_ROWS):
        feeds = {
            "input_ids": generator.integers(0, config.vocab_size, shape, dtype=numpy.int64),
            "attention_mask": numpy.ones(shape, dtype=numpy.float32),
        }
        if "token_type_ids" in names:
            feeds["token_type_ids"] = numpy.zeros(shape, dtype=numpy.int64)
        runs.append(feeds)
    return runs


def feed_forward_outputs(graph: Any, config: Any) -> List[str]:
    """
    The names of the MatMul nodes of an ONNX model `graph` whose weight is a feed-forward block's
    output projection: a constant of shape `(config.intermediate_size, config.hidden_size)`.
    """
    shape = [getattr(config, "intermediate_size", None), config.hidden_size]
    projections = {tensor.name for tensor in graph.graph.initializer if list(tensor.dims) == shape}
    return [node.name for node in graph.graph.node if node.op_type == "MatMul" and projections.intersection(node.input)]


@contextlib.contextmanager
def _quiet_root_logger() -> Iterator[None]:
    # The optimiser and the quantiser log a line per fusion or tensor (and advice) through the root
    # logger, which `allennlp predict` shows at INFO: dozens of lines of noise per load.
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)
    try:
        yield
    finally:
        root.setLevel(level)


# The encoders that hold a session, for _close_sessions_before_fork.
_encoders_with_sessions: "weakref.WeakSet[OnnxTransformer]" = weakref.WeakSet()


def _close_sessions_before_fork() -> None:
    # A session inherited through fork() cannot be freed in the child: its thread pool's condition
    # variables wait for threads the child does not have, so the child hangs as soon as it replaces
    # the session with its own (a spert-serve worker, `nlp.pipe(n_process=N)` after the parent has
    # predicted). Closed in the parent before each fork, a session is made again where it is next used.
    for encoder in list(_encoders_with_sessions):
        encoder.close_session()


os.register_at_fork(before=_close_sessions_before_fork)


class _LastHiddenState(torch.nn.Module):
    """The encoder as the exporter sees it: positional inputs in `names`' order, one tensor out."""

    def __init__(self, transformer: torch.nn.Module, names: list) -> None:
        super().__init__()
        self.transformer = transformer
        self.names = names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.transformer(**dict(zip(self.names, inputs))).last_hidden_state
