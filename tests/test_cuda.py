"""
The model on a CUDA GPU (skipped without one): the fixture experiment trains on `cuda:0` with and
without AMP, its archive loads onto the GPU, and the GPU's predictions are the CPU's.

Run by benchmarks/gpu_check.sh on a machine with a GPU. Tolerances: float32 on the GPU against
float32 on the CPU differs only in the kernels' order of summation (torch leaves TF32 off for
matrix products by default): 1e-4 relative on the fixture model's margin scores (1 to 30), with
1e-4 absolute for scores near 0. bfloat16 on the GPU: 3 % + 0.05, as in tests/inference/test_precision.py.
"""

import json

import pytest
import torch

from tests.conftest import FIXTURES

# allennlp and the plugin are imported by the tests, not here: without a GPU (the CPU fallback of
# benchmarks/gpu_check.sh) the module is collected and skipped without their import (10 s and more).
pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU")

SENTENCES = json.loads((FIXTURES / "data" / "sentences.json").read_text())
INPUTS = [{"tokens": s["tokens"]} for s in SENTENCES] + [{"sentence": "Eve left Acme Corp for Oslo and Carol."}]


def train_on_gpu(directory, amp):
    overrides = {
        "validation_data_path": None,
        "trainer.num_epochs": 60,
        "trainer.learning_rate_scheduler": None,
        "trainer.cuda_device": 0,
        "trainer.use_amp": amp,
        "random_seed": 3,
        "numpy_seed": 3,
        "pytorch_seed": 3,
    }
    from allennlp.commands.train import train_model_from_file
    from allennlp.common import cached_transformers

    import spert_mt_plugin  # noqa: F401  (registers the model)

    cached_transformers._model_cache.clear()
    model = train_model_from_file(str(FIXTURES / "experiment.jsonnet"), str(directory), json.dumps(overrides))
    assert next(model.parameters()).device.type == "cuda"
    return str(directory / "model.tar.gz")


def predictions(archive_path, cuda_device, precision="float32"):
    from allennlp.models.archival import load_archive
    from allennlp.predictors import Predictor

    from spert_mt_plugin.vocabulary import symmetric_relations

    archive = load_archive(archive_path, cuda_device=cuda_device)
    predictor = Predictor.from_archive(archive, "spert_mt", extra_args={"precision": precision})
    expected_device = "cpu" if cuda_device < 0 else "cuda"
    assert next(predictor.model.parameters()).device.type == expected_device
    symmetric = set(symmetric_relations(archive.model.vocab))
    results = []
    for result in predictor.predict_batch_json(INPUTS):
        entities = {(e["start"], e["end"], e["type"]): e["score"] for e in result["entities"]}
        relations = {}
        for r in result["relations"]:
            spans = [tuple(result["entities"][r[k]][i] for i in ("start", "end")) for k in ("head", "tail")]
            relations[(*(sorted(spans) if r["type"] in symmetric else spans), r["type"])] = r["score"]
        results.append((entities, relations))
    return results


def assert_same(cpu, gpu, relative, absolute):
    for (cpu_entities, cpu_relations), (gpu_entities, gpu_relations) in zip(cpu, gpu):
        assert gpu_entities.keys() == cpu_entities.keys()
        assert gpu_relations.keys() == cpu_relations.keys()
        for ours, theirs in ((cpu_entities, gpu_entities), (cpu_relations, gpu_relations)):
            for key, score in ours.items():
                assert theirs[key] == pytest.approx(score, rel=relative, abs=absolute), key


@pytest.mark.parametrize("amp", [False, True], ids=["float32", "amp"])
def test_fixture_model_trains_saves_loads_and_predicts_on_cuda(tmp_path, amp):
    from spert_mt_plugin.inference.precision import PrecisionError

    archive = train_on_gpu(tmp_path / "run", amp)
    cpu = predictions(archive, -1)
    # The fixture model fits its 6 sentences: their 14 entities and 7 relations (hand-counted).
    assert sum(len(entities) for entities, _ in cpu[:6]) == 14
    assert sum(len(relations) for _, relations in cpu[:6]) == 7
    assert_same(cpu, predictions(archive, 0), relative=1e-4, absolute=1e-4)
    assert_same(cpu, predictions(archive, 0, "bfloat16"), relative=0.03, absolute=0.05)
    with pytest.raises(PrecisionError, match="precision onnx runs on the CPU only, and the model is on cuda:0"):
        predictions(archive, 0, "onnx")
