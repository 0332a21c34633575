"""
What a trained model predicts with: the precision modes of prediction (`precision`) and the encoder
run by ONNX Runtime that two of them use (`onnx_transformer`).
"""

from spert_mt_plugin.inference.precision import (
    AUTO,
    PRECISIONS,
    Precision,
    PrecisionError,
    cpu_supports_bfloat16,
    default_precision,
    prepare_model,
    resolve_precision,
)
