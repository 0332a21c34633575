"""The encoder exported to ONNX and run by ONNX Runtime, inside AllenNLP's embedder, against torch's."""

import multiprocessing
import os
import pickle

import numpy
import onnx
import pytest
import torch
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

from spert_mt_plugin.inference import onnx_transformer
from spert_mt_plugin.inference.onnx_transformer import OnnxTransformer
from spert_mt_plugin.inference.smoothing import smooth_products
from tests.conftest import TINY_BERT
from tests.inference.tiny_encoder import tiny_bert


def padded_batch(rows, length, seed=1):
    """Word-piece ids of `rows` sentences of `length` pieces, each shorter than the one before (padding 0)."""
    generator = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, 189, (rows, length), generator=generator)
    mask = torch.ones(rows, length)
    for row in range(1, rows):
        mask[row, length - row :] = 0
    return ids.masked_fill(mask == 0, 0), mask


def test_onnx_runtime_gives_torchs_hidden_states_for_shapes_other_than_the_exports():
    model = tiny_bert()
    encoder = OnnxTransformer.export(model)
    # The export traced a 2 x 8 batch; batch and length are dynamic.
    for rows, length in ((1, 3), (3, 11), (5, 40)):
        ids, mask = padded_batch(rows, length)
        types = torch.zeros_like(ids)
        types[:, length // 2 :] = 1
        with torch.no_grad():
            expected = model(input_ids=ids, attention_mask=mask, token_type_ids=types).last_hidden_state
        got = encoder(ids, mask, token_type_ids=types).last_hidden_state
        assert got.shape == expected.shape and got.dtype == torch.float32
        # float32 both; the kernels sum in another order
        assert torch.allclose(got, expected, atol=1e-5), (rows, length)
        # no type ids: the transformers model takes zeros
        with torch.no_grad():
            untyped = model(input_ids=ids, attention_mask=mask).last_hidden_state
        assert torch.allclose(encoder(ids, mask).last_hidden_state, untyped, atol=1e-5)


def test_the_embedder_keeps_folding_long_sentences_around_the_onnx_encoder():
    # max_length 8: a 20-piece sentence goes through the encoder as 3 segments, folded and unfolded
    # by the embedder around the call that the ONNX encoder now answers.
    embedder = PretrainedTransformerEmbedder(TINY_BERT, max_length=8, load_weights=False).eval()
    ids, _ = padded_batch(2, 20)
    ids[:, 0], ids[:, -1] = 2, 3  # [CLS] ... [SEP] of the segment-concatenated indexer's output
    mask = ids != 0
    with torch.no_grad():
        expected = embedder(ids, mask, segment_concat_mask=mask)
        embedder.transformer_model = OnnxTransformer.export(embedder.transformer_model)
        got = embedder(ids, mask, segment_concat_mask=mask)
    assert got.shape == expected.shape
    assert torch.allclose(got, expected, atol=1e-5)


def test_int8_export_is_close_to_float32():
    model = tiny_bert()
    encoder = OnnxTransformer.export(model, quantize=True)
    ids, mask = padded_batch(3, 12)
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).last_hidden_state
    got = encoder(ids, mask).last_hidden_state
    # The tiny BERT's hidden states are layer-normalised (about unit scale); int8 weights and
    # activations move them by a few hundredths (measured 0.02), not by their own size.
    assert not torch.equal(got, expected)
    assert (got - expected).abs().max() < 0.25


def test_export_leaves_the_torch_model_in_eval_mode():
    # With dropout, a model left in training mode would give another output at every call.
    model = tiny_bert(hidden_dropout_prob=0.5)
    OnnxTransformer.export(model)
    ids, mask = padded_batch(2, 6)
    with torch.no_grad():
        first = model(input_ids=ids, attention_mask=mask).last_hidden_state
        second = model(input_ids=ids, attention_mask=mask).last_hidden_state
    assert not model.training and torch.equal(first, second)


def test_each_process_makes_its_own_session(monkeypatch):
    encoder = OnnxTransformer.export(tiny_bert())
    first = encoder.session()
    assert encoder.session() is first
    # A forked process (a spert-serve worker) has another pid: it must not use its parent's threads.
    monkeypatch.setattr(onnx_transformer.os, "getpid", lambda: -1)
    assert encoder.session() is not first


def _encode_in_child(encoder, ids, mask, expected):
    os._exit(0 if torch.equal(encoder(ids, mask).last_hidden_state, expected) else 3)


def test_a_forked_process_predicts_after_its_parent_has(monkeypatch):
    # The parent's session is in use when the child is forked: the child must not hang freeing it.
    encoder = OnnxTransformer.export(tiny_bert())
    ids, mask = padded_batch(3, 9)
    expected = encoder(ids, mask).last_hidden_state
    child = multiprocessing.get_context("fork").Process(target=_encode_in_child, args=(encoder, ids, mask, expected))
    child.start()
    child.join(timeout=60)
    if child.is_alive():
        child.kill()
    assert child.exitcode == 0
    # and the parent goes on with a session of its own
    assert torch.equal(encoder(ids, mask).last_hidden_state, expected)


def test_a_pickled_encoder_makes_a_new_session_and_answers_the_same():
    encoder = OnnxTransformer.export(tiny_bert())
    ids, mask = padded_batch(2, 7)
    expected = encoder(ids, mask).last_hidden_state
    copy = pickle.loads(pickle.dumps(encoder))
    assert torch.equal(copy(ids, mask).last_hidden_state, expected)


def test_gpu_inputs_are_refused():
    encoder = OnnxTransformer.export(tiny_bert())
    ids, mask = padded_batch(1, 4)
    with pytest.raises(RuntimeError, match="the ONNX encoder runs on the CPU; got inputs on meta"):
        encoder(ids.to("meta"), mask.to("meta"))


class RecordingSession:
    """An ONNX Runtime session that records the shape of each call's `input_ids`."""

    def __init__(self, session):
        self.session = session
        self.shapes = []

    def run(self, names, feeds):
        self.shapes.append(tuple(feeds["input_ids"].shape))
        return self.session.run(names, feeds)


def test_rows_run_in_groups_give_torchs_hidden_states_and_zeros_beyond_their_group(monkeypatch):
    model = tiny_bert()
    encoder = OnnxTransformer.export(model)
    # Rows of 40, 39, 4 and 3 pieces: [3, 4] and [39, 40] are two groups, cut to 4 and 40 pieces.
    ids, mask = padded_batch(4, 40)
    mask[2, 4:] = 0
    mask[3, 3:] = 0
    ids = ids.masked_fill(mask == 0, 0)
    session = RecordingSession(encoder.session())
    monkeypatch.setattr(encoder, "session", lambda: session)
    with torch.no_grad():
        expected = model(input_ids=ids, attention_mask=mask).last_hidden_state
    got = encoder(ids, mask).last_hidden_state
    assert sorted(session.shapes) == [(2, 4), (2, 40)]
    real = mask.bool()
    assert torch.allclose(got[real], expected[real], atol=1e-5)
    assert not got[2, 4:].any() and not got[3, 4:].any()


def test_int8_quantises_every_matrix_product_but_the_feed_forward_outputs():
    model = tiny_bert()  # 2 layers, hidden size 16, feed-forward 32
    graph = onnx.load_from_string(OnnxTransformer.export(model, quantize=True).onnx_model)
    operators = [node.op_type for node in graph.graph.node]
    assert [node.name for node in graph.graph.node if node.op_type == "MatMul"] == [
        "/transformer/encoder/layer.0/output/dense/MatMul",
        "/transformer/encoder/layer.1/output/dense/MatMul",
    ]
    # fused and quantised: attention (query, key and value in one), the attention's output, the
    # feed-forward's input
    assert operators.count("QAttention") == 2 and operators.count("MatMulInteger") == 4
    # each quantised product reads its input smoothed (smoothing.py), divided by a Mul of its own;
    # the float32 feed-forward outputs read theirs as it is
    readers = {name: node for node in graph.graph.node for name in node.input}
    smoothed = [readers[node.output[0]].op_type for node in graph.graph.node if node.name.endswith("_smoothing")]
    assert sorted(smoothed) == ["DynamicQuantizeLinear"] * 6


def test_int8_weights_keep_to_a_reduced_range_so_that_avx2_cannot_overflow_adding_their_products():
    # AVX2's int8 product (vpmaddubsw) adds two uint8 x int8 products in 16 bits: 2 * 255 * 64
    # fits, 2 * 255 * 127 does not. With full-range weights, smoothing wrecked the predictions
    # there (benchmarks/as_avx2.sh, seed 13: CoNLL04 test RE F1 64.96 -> 54.49, docs/speed.md).
    # ONNX Runtime's `reduce_range` keeps the weights to [-64, 64].
    graph = onnx.load_from_string(OnnxTransformer.export(tiny_bert(), quantize=True).onnx_model)
    initializers = {tensor.name: tensor for tensor in graph.graph.initializer}
    weights = [
        onnx.numpy_helper.to_array(initializers[node.input[1]])
        for node in graph.graph.node
        if node.op_type in ("QAttention", "MatMulInteger")
    ]
    assert len(weights) == 6 and all(weight.dtype == numpy.int8 for weight in weights)
    assert max(int(numpy.abs(weight.astype(int)).max()) for weight in weights) == 64


def test_smoothing_calibration_rows_fit_the_graphs_inputs_and_vocabulary():
    model = tiny_bert()
    graph = onnx.load_from_string(OnnxTransformer.export(model).onnx_model)
    runs = onnx_transformer.random_word_pieces(graph, model.config)
    assert len(runs) == onnx_transformer.CALIBRATION_ROWS
    assert set(runs[0]) == {"input_ids", "attention_mask", "token_type_ids"}
    ids = numpy.stack([run["input_ids"] for run in runs])
    assert ids.shape == (onnx_transformer.CALIBRATION_ROWS, 1, onnx_transformer.CALIBRATION_LENGTH)
    assert 0 <= ids.min() and ids.max() < model.config.vocab_size and len(numpy.unique(ids)) > 20
    # a graph without type ids (RoBERTa, DistilBERT) is not given them
    [type_ids] = [tensor for tensor in graph.graph.input if tensor.name == "token_type_ids"]
    graph.graph.input.remove(type_ids)
    assert set(onnx_transformer.random_word_pieces(graph, model.config)[0]) == {"input_ids", "attention_mask"}


def test_the_smoothed_fused_graph_computes_what_the_fused_graph_computes(tmp_path):
    # smoothing alone, before any quantisation: the same float32 hidden states, fused attention included
    model = tiny_bert()
    fused = OnnxTransformer.export(model)
    path = tmp_path / "encoder.onnx"
    path.write_bytes(fused.onnx_model)
    graph = onnx.load(str(path))
    assert any(node.op_type == "Attention" for node in graph.graph.node)
    smoothed = onnx.load(str(path))
    smooth_products(smoothed, onnx_transformer.random_word_pieces(graph, model.config))
    # the attention's projection, its output and both feed-forward products of each of 2 layers
    assert [node.op_type for node in smoothed.graph.node].count("Mul") - [
        node.op_type for node in graph.graph.node
    ].count("Mul") == 8
    encoder = OnnxTransformer(smoothed.SerializeToString(), fused.config, fused.takes_type_ids)
    ids, mask = padded_batch(3, 12)
    expected = fused(ids, mask).last_hidden_state
    got = encoder(ids, mask).last_hidden_state
    assert torch.allclose(got, expected, atol=1e-4)
