"""The encoder exported to ONNX and run by ONNX Runtime, inside AllenNLP's embedder, against torch's."""

import pickle

import pytest
import torch
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder
from transformers import BertConfig, BertModel

from spert_mt_plugin.inference import onnx_transformer
from spert_mt_plugin.inference.onnx_transformer import OnnxTransformer
from tests.conftest import TINY_BERT


def tiny_bert(**changes) -> BertModel:
    torch.manual_seed(0)
    return BertModel(BertConfig.from_pretrained(TINY_BERT, **changes)).eval()


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
