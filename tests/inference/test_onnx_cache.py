"""The ONNX cache: a second load reads the exported graph instead of exporting it again."""

import copy
import logging

import pytest
import torch

from spert_mt_plugin.inference import onnx_cache
from spert_mt_plugin.inference.onnx_cache import cache_folder, exported_transformer, graph_key
from spert_mt_plugin.inference.onnx_transformer import OnnxTransformer
from tests.inference.tiny_encoder import tiny_bert


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv("SPERT_ONNX_CACHE", str(folder))
    return folder


# Two sentences, the second padded.
IDS = torch.tensor([[2, 40, 41, 42, 3], [2, 50, 3, 0, 0]])
MASK = (IDS != 0).float()


def test_a_second_load_reads_the_graph_from_the_cache(cache, monkeypatch, caplog):
    model = tiny_bert()
    first = exported_transformer(model)
    entries = list(cache.iterdir())
    assert [entry.name for entry in entries] == [graph_key(model, quantize=False) + ".onnx"]
    assert entries[0].read_bytes() == first.onnx_model

    def no_export(*args, **kwargs):
        raise AssertionError("exported although the graph is in the cache")

    monkeypatch.setattr(OnnxTransformer, "export", no_export)
    with caplog.at_level(logging.INFO, logger="spert_mt_plugin.inference.onnx_cache"):
        second = exported_transformer(copy.deepcopy(model))
    assert "read from the cache" in caplog.text
    assert second.onnx_model == first.onnx_model and second.takes_type_ids and second.config is not None
    with torch.no_grad():
        expected = model(input_ids=IDS, attention_mask=MASK).last_hidden_state
    assert torch.allclose(second(IDS, MASK).last_hidden_state, expected, atol=1e-5)
    # int8 is another entry
    with pytest.raises(AssertionError, match="exported although"):
        exported_transformer(model, quantize=True)


def test_the_key_follows_the_weights_and_the_mode():
    model = tiny_bert()
    key = graph_key(model, quantize=False)
    assert graph_key(copy.deepcopy(model), quantize=False) == key
    assert graph_key(model, quantize=True) != key
    assert graph_key(tiny_bert(seed=1), quantize=False) != key
    changed = copy.deepcopy(model)
    with torch.no_grad():
        changed.encoder.layer[1].output.dense.bias[0] += 1e-6
    assert graph_key(changed, quantize=False) != key


def test_the_cache_can_be_off_or_unwritable(tmp_path, monkeypatch, caplog):
    monkeypatch.setenv("SPERT_ONNX_CACHE", "off")
    assert cache_folder() is None
    assert exported_transformer(tiny_bert()).onnx_model  # exported, stored nowhere
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("SPERT_ONNX_CACHE", str(blocker))
    with caplog.at_level(logging.WARNING, logger="spert_mt_plugin.inference.onnx_cache"):
        encoder = exported_transformer(tiny_bert())
    assert "cannot write the ONNX cache entry" in caplog.text and "SPERT_ONNX_CACHE=off" in caplog.text
    assert encoder(IDS, MASK).last_hidden_state.shape == (2, 5, 16)
    assert list(tmp_path.iterdir()) == [blocker]


def test_the_default_folder_is_under_the_users_cache(monkeypatch, tmp_path):
    monkeypatch.delenv("SPERT_ONNX_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert cache_folder() == tmp_path / "spert_mt" / "onnx"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_folder() == tmp_path / "home" / ".cache" / "spert_mt" / "onnx"
    assert onnx_cache.CACHE_VARIABLE == "SPERT_ONNX_CACHE"
