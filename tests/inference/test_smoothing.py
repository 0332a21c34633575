"""Activation smoothing before int8 quantisation (SmoothQuant), on small hand-made ONNX graphs."""

import numpy
import onnx
import onnxruntime
import pytest
from onnx import TensorProto, helper, numpy_helper

from spert_mt_plugin.inference.smoothing import activation_ranges, smooth_products, smoothing_factors


def test_smoothing_factors_balance_activation_and_weight_ranges():
    # s_j = max|X_j|^alpha / max|W_j|^(1 - alpha); alpha 0.5: sqrt(4 / 1) = 2, sqrt(1 / 4) = 0.5
    factors = smoothing_factors(numpy.array([4.0, 1.0, 0.0, 2.0]), numpy.array([1.0, 4.0, 2.0, 0.0]), alpha=0.5)
    # a channel that never held a value, or whose weight row is zero, is left alone
    assert factors.tolist() == [2.0, 0.5, 1.0, 1.0]
    # alpha 1: all of the activation's range moves into the weight
    assert smoothing_factors(numpy.array([8.0]), numpy.array([0.5]), alpha=1.0).tolist() == [8.0]
    # a channel that barely ever held a value: kept finite, not a division by almost zero
    tiny = smoothing_factors(numpy.array([1e-30, 1e30]), numpy.array([1.0, 1e-30]), alpha=0.5)
    assert tiny.tolist() == pytest.approx([1e-5, 1e5])
    # a graph's float32 ranges give factors computed in float32, bit for bit: the int8 graphs that
    # docs/speed.md measured were made so
    activation, weight = numpy.float32([3.7, 0.31, 28.5]), numpy.float32([0.09, 0.21, 0.13])
    numpy.testing.assert_array_equal(
        smoothing_factors(activation, weight, alpha=0.6), activation**0.6 / weight ** numpy.float32(0.4)
    )


def two_products(weight_a, weight_b):
    """Y = X A, Z = X B: two matrix products reading one input, as the residual and attention read a layer's."""
    graph = helper.make_graph(
        [
            helper.make_node("MatMul", ["x", "a"], ["y"], name="first"),
            helper.make_node("MatMul", ["x", "b"], ["z"], name="second"),
        ],
        "two_products",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 3]) for name in ("y", "z")],
        initializer=[numpy_helper.from_array(weight_a, "a"), numpy_helper.from_array(weight_b, "b")],
    )
    return helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])


def smoothed_file(path, calibration, **options):
    """The graph at `path` smoothed (`smooth_products`), written beside it; its path."""
    graph = onnx.load(str(path))
    smooth_products(graph, calibration, **options)
    smoothed = path.with_name(path.stem + ".smoothed.onnx")
    onnx.save(graph, str(smoothed))
    return smoothed


def run(path, x):
    return onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"]).run(None, {"x": x})


@pytest.fixture
def graph_file(tmp_path):
    generator = numpy.random.default_rng(0)
    weight_a = generator.normal(size=(4, 3)).astype(numpy.float32)
    weight_b = generator.normal(size=(4, 3)).astype(numpy.float32)
    path = tmp_path / "graph.onnx"
    onnx.save(two_products(weight_a, weight_b), str(path))
    return path, weight_a, weight_b


def test_smoothing_changes_nothing_in_float32_and_balances_each_channel(graph_file):
    path, weight_a, weight_b = graph_file
    # channel 2 is an outlier, as a transformer's few wide channels are
    calibration = numpy.array([[1.0, -2.0, 40.0, 0.5], [-0.5, 1.0, -30.0, 1.0]], dtype=numpy.float32)
    smoothed = smoothed_file(path, [{"x": calibration}], exclude=["second"])

    x = numpy.random.default_rng(1).normal(size=(5, 4)).astype(numpy.float32) * numpy.float32([1, 1, 30, 1])
    expected_y, expected_z = run(str(path), x)
    got_y, got_z = run(str(smoothed), x)
    numpy.testing.assert_allclose(got_y, expected_y, rtol=1e-5, atol=1e-4)
    numpy.testing.assert_array_equal(got_z, expected_z)  # excluded: untouched

    model = onnx.load(str(smoothed))
    nodes = {node.name: node for node in model.graph.node}
    # the excluded product still reads the original input and weight; the smoothed one reads both divided
    assert list(nodes["second"].input) == ["x", "b"]
    assert [node.op_type for node in model.graph.node] == ["Mul", "MatMul", "MatMul"]
    weights = {tensor.name: numpy_helper.to_array(tensor) for tensor in model.graph.initializer}
    [division] = [node for node in model.graph.node if node.op_type == "Mul"]
    assert list(nodes["first"].input)[0] == division.output[0]
    divisor = weights[division.input[1]]
    factors = numpy.sqrt(numpy.abs(calibration).max(axis=0) / numpy.abs(weight_a).max(axis=1))
    numpy.testing.assert_allclose(divisor, 1 / factors, rtol=1e-6)
    smoothed_weight = weights[nodes["first"].input[1]]
    numpy.testing.assert_allclose(smoothed_weight, weight_a * factors[:, None], rtol=1e-6)
    # alpha 0.5: every channel's input range now equals its weight row's range
    numpy.testing.assert_allclose(
        numpy.abs(calibration * divisor).max(axis=0), numpy.abs(smoothed_weight).max(axis=1), rtol=1e-5
    )
    assert "a" not in weights  # the replaced weight is not kept


def test_int8_of_a_smoothed_product_is_closer_to_float32_with_an_outlier_channel(tmp_path):
    from onnxruntime.quantization import QuantType, quantize_dynamic

    generator = numpy.random.default_rng(2)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"], name="product")],
        "one_product",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 16])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 8])],
        initializer=[numpy_helper.from_array(generator.normal(size=(16, 8)).astype(numpy.float32), "w")],
    )
    path = tmp_path / "product.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    # one channel 60 times wider than the 15 others: one scale for the whole input leaves them few steps
    scale = numpy.ones(16, dtype=numpy.float32)
    scale[2] = 60
    calibration = [{"x": generator.normal(size=(16, 16)).astype(numpy.float32) * scale} for _ in range(4)]
    x = generator.normal(size=(64, 16)).astype(numpy.float32) * scale
    expected = run(str(path), x)[0]
    errors = {}
    for name, graph_path in (("plain", path), ("smoothed", smoothed_file(path, calibration))):
        quantized = tmp_path / f"{name}.int8.onnx"
        # 7-bit weights: exact int8 products on CPUs without VNNI too, so the figure is every CPU's
        quantize_dynamic(
            str(graph_path), str(quantized), weight_type=QuantType.QInt8, per_channel=True, reduce_range=True
        )
        errors[name] = numpy.abs(run(str(quantized), x)[0] - expected).mean()
    # measured: 4.6 times smaller
    assert errors["smoothed"] < errors["plain"] / 3, errors


def test_activation_ranges_are_per_channel_maxima_over_all_runs(graph_file):
    path, _, _ = graph_file
    runs = [
        {"x": numpy.array([[1.0, -5.0, 0.0, 2.0]], dtype=numpy.float32)},
        {"x": numpy.array([[-3.0, 1.0, 0.0, 1.0]], dtype=numpy.float32)},
    ]
    ranges = activation_ranges(onnx.load(str(path)), ["x", "x"], runs)
    assert ranges["x"].tolist() == [3.0, 5.0, 0.0, 2.0]
    with pytest.raises(ValueError, match="at least one calibration input"):
        activation_ranges(onnx.load(str(path)), ["x"], [])


def test_a_weight_shared_with_an_excluded_product_and_unnamed_nodes_are_kept_apart(tmp_path):
    weight = numpy.random.default_rng(3).normal(size=(4, 3)).astype(numpy.float32)
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["y"]), helper.make_node("MatMul", ["x", "w"], ["z"], name="kept")],
        "shared_weight",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
        [helper.make_tensor_value_info(name, TensorProto.FLOAT, [None, 3]) for name in ("y", "z")],
        initializer=[numpy_helper.from_array(weight, "w")],
    )
    path = tmp_path / "shared.onnx"
    onnx.save(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)]), str(path))
    x = numpy.random.default_rng(4).normal(size=(6, 4)).astype(numpy.float32) * numpy.float32([1, 20, 1, 1])
    smoothed = smoothed_file(path, [{"x": x}], exclude=["kept"])
    model = onnx.load(str(smoothed))
    onnx.checker.check_model(model)
    # the excluded product still reads the original weight, which therefore stays
    assert "w" in {tensor.name for tensor in model.graph.initializer}
    assert list(model.graph.node[-1].input) == ["x", "w"]
    expected_y, expected_z = run(str(path), x)
    got_y, got_z = run(str(smoothed), x)
    numpy.testing.assert_allclose(got_y, expected_y, rtol=1e-5, atol=1e-4)
    numpy.testing.assert_array_equal(got_z, expected_z)
