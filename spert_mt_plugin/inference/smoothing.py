"""
Activation smoothing before int8 quantisation (SmoothQuant: Xiao et al., 2023, "SmoothQuant:
Accurate and Efficient Post-Training Quantization for Large Language Models").

ONNX Runtime's dynamic int8 gives each matrix product's input one scale over the whole tensor. A
transformer's layer-normalised activations have a few channels far wider than the rest (in
MiniLM's feed-forward inputs one channel reaches 28 where the median channel's largest value is
2), so that one scale leaves the other channels a handful of int8 steps. Smoothing divides each
input channel j by a factor s_j and multiplies the weight's row j by the same factor,

    X W = (X diag(s)^-1) (diag(s) W),   s_j = max|X_j|^alpha / max|W_j|^(1 - alpha),

which changes nothing in float32 and moves the activations' spread into the weights, which are
quantised per output channel (with one scale for a whole weight, `per_channel=False`, the wide
channels' spread lands in that one scale instead). The division is a `Mul` node in front of each
product, kept in float32; the activations' ranges come from running the float graph on
calibration inputs.
"""

from typing import Dict, Iterable, List, Sequence

import numpy

# The share of an outlier's range moved into the weights (SmoothQuant's own default): on MiniLM and
# CoNLL04, 0.3 left more predictions differing from float32's, 0.6-0.8 about as many (docs/speed.md).
ALPHA = 0.5
# Factors are kept within these bounds, so that a channel whose largest value is tiny (or huge)
# cannot turn the division into an infinity or a zero.
SMALLEST_FACTOR, LARGEST_FACTOR = 1e-5, 1e5


def smooth_products(
    graph, calibration: Iterable[Dict[str, numpy.ndarray]], exclude: Sequence[str] = (), alpha: float = ALPHA
) -> None:
    """
    Smooths, in place, every matrix product by a constant weight (`MatMul`, and the fused
    `Attention`'s packed query, key and value projection) of the ONNX model `graph`, but the nodes
    named in `exclude`. `calibration` gives the graph's inputs, one feed dictionary per run
    (unpadded rows: padding's hidden states would widen the ranges).
    """
    from onnx import numpy_helper

    weights = {tensor.name: tensor for tensor in graph.graph.initializer}
    products = [
        node
        for node in graph.graph.node
        if node.op_type in ("MatMul", "Attention")
        and node.name not in exclude
        and node.input[1] in weights
        and len(weights[node.input[1]].dims) == 2
    ]
    ranges = activation_ranges(graph, [node.input[0] for node in products], calibration)
    replaced = set()
    for index, node in enumerate(products):
        replaced.add(node.input[1])
        weight = numpy_helper.to_array(weights[node.input[1]])
        factors = smoothing_factors(ranges[node.input[0]], numpy.abs(weight).max(axis=1), alpha)
        divide_input(graph, node, f"{node.name}_{index}", factors, (weight * factors[:, None]).astype(weight.dtype))
    # A replaced weight goes unless another node (one of `exclude`) or the graph's inputs or outputs
    # still name it (subgraphs of control-flow nodes are not read: exported encoders have none).
    used = {name for node in graph.graph.node for name in node.input}
    used |= {tensor.name for tensor in list(graph.graph.input) + list(graph.graph.output)}
    kept = [tensor for tensor in graph.graph.initializer if tensor.name in used or tensor.name not in replaced]
    del graph.graph.initializer[:]
    graph.graph.initializer.extend(kept)


def divide_input(graph, node, name: str, factors: numpy.ndarray, weight: numpy.ndarray) -> None:
    """
    Makes `node` of `graph` take its input divided by `factors` (a `Mul` node inserted before it)
    and `weight` as its weight, under new names starting with `name` (one per smoothed node):
    another node that reads the same input or weight (the residual connection reads the
    layer-normalised input) keeps reading the original.
    """
    import onnx
    from onnx import numpy_helper

    new_weight = numpy_helper.from_array(weight, name + "_smoothed_weight")
    divisor = numpy_helper.from_array((1.0 / factors).astype(numpy.float32), name + "_smoothing")
    graph.graph.initializer.extend([new_weight, divisor])
    smoothed_input = name + "_smoothed_input"
    division = onnx.helper.make_node("Mul", [node.input[0], divisor.name], [smoothed_input], name=divisor.name)
    graph.graph.node.insert(list(graph.graph.node).index(node), division)
    node.input[0] = smoothed_input
    node.input[1] = new_weight.name


def smoothing_factors(activation_max: numpy.ndarray, weight_max: numpy.ndarray, alpha: float) -> numpy.ndarray:
    """
    s_j = max|X_j|^alpha / max|W_j|^(1 - alpha) per input channel j (SmoothQuant, eq. 4), kept
    within `SMALLEST_FACTOR` and `LARGEST_FACTOR`; 1 for a channel that never held a value or whose
    weight row is zero, so that nothing divides by zero.
    """
    # In the arrays' own precision (float32, from the graph), as docs/speed.md measured it (float64
    # rounds some factors otherwise, and the int8 graph with them); with alpha in [0, 1] the powers
    # cannot overflow.
    factors = numpy.ones_like(activation_max)
    usable = (activation_max > 0) & (weight_max > 0)
    factors[usable] = activation_max[usable] ** alpha / weight_max[usable] ** (1 - alpha)
    return numpy.clip(factors, SMALLEST_FACTOR, LARGEST_FACTOR).astype(numpy.float32)


def activation_ranges(
    graph, names: List[str], calibration: Iterable[Dict[str, numpy.ndarray]]
) -> Dict[str, numpy.ndarray]:
    """The largest absolute value in each channel (last axis) of the tensors `names` of `graph`, over all runs."""
    import onnx
    import onnxruntime

    probe = onnx.ModelProto()
    probe.CopyFrom(graph)
    wanted = list(dict.fromkeys(names))
    outputs = {output.name for output in probe.graph.output}
    probe.graph.output.extend(onnx.helper.make_empty_tensor_value_info(name) for name in wanted if name not in outputs)
    session = onnxruntime.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    ranges: Dict[str, numpy.ndarray] = {}
    runs = 0
    for feeds in calibration:
        runs += 1
        for name, value in zip(wanted, session.run(wanted, feeds)):
            largest = numpy.abs(value).reshape(-1, value.shape[-1]).max(axis=0)
            ranges[name] = numpy.maximum(ranges[name], largest) if name in ranges else largest
    if runs == 0:
        raise ValueError("smoothing needs at least one calibration input")
    return ranges
