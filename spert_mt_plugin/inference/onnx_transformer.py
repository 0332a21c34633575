"""
A Hugging Face encoder exported to ONNX and run by ONNX Runtime, in the place of the transformers
model inside AllenNLP's `PretrainedTransformerEmbedder`, for the `onnx` and `onnx-int8` precision
modes (see `precision`). The embedder keeps doing what it does around the encoder (folding long
sentences into `max_length` segments, the type ids); only `transformer_model(...)` changes.
"""

import inspect
import logging
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any, Dict, Optional

import numpy
import torch
from transformers.modeling_outputs import BaseModelOutput

# ONNX's LayerNormalization operator, which ONNX Runtime's CPU kernels fuse.
OPSET = 17


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
    """

    def __init__(self, onnx_model: bytes, config: Any, takes_type_ids: bool) -> None:
        super().__init__()
        self.onnx_model = onnx_model
        self.config = config
        self.takes_type_ids = takes_type_ids
        self._session: Optional[Any] = None
        self._session_pid: Optional[int] = None

    @classmethod
    def export(cls, transformer: torch.nn.Module, quantize: bool = False) -> "OnnxTransformer":
        """
        Exports `transformer` (a transformers encoder such as `BertModel`) to ONNX with dynamic
        batch and sequence axes; with `quantize`, applies ONNX Runtime's dynamic int8 quantisation
        (int8 weights of the matrix products, activations quantised per call).
        """
        import onnxruntime  # noqa: F401  (a missing package fails here, before the export's work)

        transformer = transformer.eval()
        takes_type_ids = "token_type_ids" in inspect.signature(transformer.forward).parameters
        vocabulary = int(getattr(transformer.config, "vocab_size", 100))
        # Two sentences, the second padded: the exported attention must use the mask.
        input_ids = torch.randint(5, max(vocabulary, 6), (2, 8))
        attention_mask = torch.ones(2, 8)
        attention_mask[1, 5:] = 0
        inputs = [input_ids, attention_mask] + ([torch.zeros_like(input_ids)] if takes_type_ids else [])
        names = ["input_ids", "attention_mask"] + (["token_type_ids"] if takes_type_ids else [])
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
            if quantize:
                from onnxruntime.quantization import QuantType, quantize_dynamic

                quantized = Path(folder) / "encoder.int8.onnx"
                # The quantiser logs a line per tensor (and advice to pre-process) through the root
                # logger, which `allennlp predict` shows at INFO: dozens of lines of noise per load.
                root = logging.getLogger()
                level = root.level
                root.setLevel(logging.ERROR)
                try:
                    quantize_dynamic(str(path), str(quantized), weight_type=QuantType.QInt8)
                finally:
                    root.setLevel(level)
                path = quantized
            return cls(path.read_bytes(), transformer.config, takes_type_ids)

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
        return self._session

    def forward(
        self,
        input_ids: torch.Tensor,
        attention_mask: torch.Tensor,
        token_type_ids: Optional[torch.Tensor] = None,
    ) -> BaseModelOutput:
        if input_ids.device.type != "cpu":
            raise RuntimeError(f"the ONNX encoder runs on the CPU; got inputs on {input_ids.device}")
        feeds: Dict[str, numpy.ndarray] = {
            "input_ids": input_ids.numpy().astype(numpy.int64, copy=False),
            "attention_mask": attention_mask.numpy().astype(numpy.float32, copy=False),
        }
        if self.takes_type_ids:
            feeds["token_type_ids"] = (
                token_type_ids.numpy().astype(numpy.int64, copy=False)
                if token_type_ids is not None
                else numpy.zeros_like(feeds["input_ids"])
            )
        (hidden,) = self.session().run(["last_hidden_state"], feeds)
        return BaseModelOutput(last_hidden_state=torch.from_numpy(hidden))

    def __getstate__(self) -> Dict[str, Any]:
        # A pickled copy (spawned processes) makes its own session.
        state = self.__dict__.copy()
        state["_session"] = None
        state["_session_pid"] = None
        return state


class _LastHiddenState(torch.nn.Module):
    """The encoder as the exporter sees it: positional inputs in `names`' order, one tensor out."""

    def __init__(self, transformer: torch.nn.Module, names: list) -> None:
        super().__init__()
        self.transformer = transformer
        self.names = names

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        return self.transformer(**dict(zip(self.names, inputs))).last_hidden_state
