"""
The precision modes of prediction on the fixture model: each mode decides as float32 does except
for candidates whose score is near the threshold, its scores stay within the mode's tolerance, the
mode reaches the predictor through every entry point, and bad modes are one-line errors.

Tolerances, relative to the float32 score plus an absolute floor (the fixture model's scores are
margins from about 1 to 30):

- `onnx`: the same float32 arithmetic in other kernels, summed in another order: 1e-5 relative.
- `bfloat16`: 8 significant bits, a relative rounding of at most 2^-9 (0.2 %) per rounded result.
  Scores near zero carry the rounding of the larger terms they are the difference of, so the floor
  is absolute: the session's fixture model, in the whole suite's order, moves one score from 1.009
  to 0.895 (0.115; elsewhere 1.2 % at most): 3 % + 0.15.
- `onnx-int8`: weights rounded to 1/127 and activations to 1/255 of their tensor's range: the same
  score moves from 1.009 to 1.345 (0.34; elsewhere 2.9 % at most): 15 % + 0.4.
"""

import json
import logging
import subprocess
import sys

import pytest
import spacy
from allennlp.models.archival import load_archive
from allennlp.predictors import Predictor

from spert_mt_plugin.inference import precision
from spert_mt_plugin.inference.precision import (
    PRECISIONS,
    Precision,
    PrecisionError,
    cpu_has_amx,
    cpu_supports_bfloat16,
    default_precision,
    prepare_model,
    resolve_precision,
)
from spert_mt_plugin.vocabulary import symmetric_relations
from tests.conftest import FIXTURES, PROJECT_ROOT

THRESHOLD = 0.85
# Both thresholds set explicitly, so that "near the threshold" below means what it says.
OVERRIDES = json.dumps({"model.entity_threshold": THRESHOLD, "model.relation_threshold": THRESHOLD})
TOLERANCE = {"onnx": (1e-5, 1e-5), "bfloat16": (0.03, 0.15), "onnx-int8": (0.15, 0.4)}
INPUTS = [{"tokens": s["tokens"]} for s in json.loads((FIXTURES / "data" / "sentences.json").read_text())] + [
    {"sentence": "Ada Lovelace works for Acme Corp in Paris."},
    {"sentence": "Eve left Acme Corp for Oslo and Carol is married to Bob."},
    {"sentence": "Dan lives in Paris."},
    {"document": "The University of Oslo hired Dan. Bob works for Acme Corp."},
]


def decisions(result, symmetric):
    """`({(start, end, type): score}, {(head span, tail span, type): score})`, symmetric relations unordered."""
    entities = {(e["start"], e["end"], e["type"]): e.get("score") for e in result["entities"]}
    relations = {}
    for relation in result["relations"]:
        head, tail = (result["entities"][relation[key]] for key in ("head", "tail"))
        spans = [(head["start"], head["end"]), (tail["start"], tail["end"])]
        if relation["type"] in symmetric:
            spans.sort()
        relations[(*spans, relation["type"])] = relation.get("score")
    return entities, relations


def predict(archive_path, mode):
    archive = load_archive(archive_path, overrides=OVERRIDES)
    predictor = Predictor.from_archive(archive, "spert_mt", extra_args={"precision": mode})
    symmetric = set(symmetric_relations(archive.model.vocab))
    results = predictor.predict_batch_json(INPUTS)
    sentences = [s for r in results for s in (r["sentences"] if "sentences" in r else [r])]
    return [decisions(sentence, symmetric) for sentence in sentences]


@pytest.fixture(scope="module")
def float32(trained_archive):
    return predict(trained_archive, "float32")


@pytest.mark.parametrize("mode", ["bfloat16", "onnx", "onnx-int8"])
def test_each_mode_decides_as_float32_except_near_the_threshold(trained_archive, float32, mode):
    relative, floor = TOLERANCE[mode]

    def tolerance(score):
        return relative * abs(score) + floor

    compared = 0
    for reference, other in zip(float32, predict(trained_archive, mode)):
        for kind, (ours, theirs) in enumerate(zip(reference, other)):
            if kind == 1:
                # Relations are compared between entities both modes predict.
                common = reference[0].keys() & other[0].keys()
                ours, theirs = (
                    {k: v for k, v in d.items() if {(k[0][0], k[0][1]), (k[1][0], k[1][1])} <= {s[:2] for s in common}}
                    for d in (ours, theirs)
                )
            for key in ours.keys() & theirs.keys():
                assert theirs[key] == pytest.approx(ours[key], abs=tolerance(ours[key])), (mode, key)
                compared += 1
            # What only one mode predicts was at the threshold's edge in the mode that predicted it.
            for key, score in [(k, ours[k]) for k in ours.keys() - theirs.keys()] + [
                (k, theirs[k]) for k in theirs.keys() - ours.keys()
            ]:
                assert score < THRESHOLD + tolerance(score), (mode, key, score)
    # Not a vacuous comparison: the fixture's 14 entities and 7 relations (hand-counted in
    # fixtures/data/sentences.json), which every mode predicts (the next test), are among them.
    assert compared >= 14 + 7


def test_the_fixture_model_predicts_its_annotation_in_every_mode(trained_archive):
    gold = json.loads((FIXTURES / "data" / "sentences.json").read_text())
    for mode in PRECISIONS:
        archive = load_archive(trained_archive, overrides=OVERRIDES)
        predictor = Predictor.from_archive(archive, "spert_mt", extra_args={"precision": mode})
        symmetric = set(symmetric_relations(archive.model.vocab))
        for sentence, result in zip(gold, predictor.predict_batch_json([{"tokens": s["tokens"]} for s in gold])):
            expected_entities, expected_relations = decisions(sentence, symmetric)
            entities, relations = decisions(result, symmetric)
            assert entities.keys() == expected_entities.keys(), (mode, sentence["orig_id"])
            assert relations.keys() == expected_relations.keys(), (mode, sentence["orig_id"])


def test_unknown_and_misplaced_modes_are_one_line_errors(trained_archive):
    with pytest.raises(PrecisionError) as error:
        Predictor.from_path(trained_archive, precision="fp8")
    assert str(error.value) == "unknown precision 'fp8': choose one of float32, bfloat16, onnx, onnx-int8 or auto"
    with pytest.raises(PrecisionError, match=r"^precision onnx-int8 runs on the CPU only, and the model is on cuda$"):
        resolve_precision("onnx-int8", "cuda")


def test_a_model_whose_encoder_was_replaced_cannot_change_mode(trained_archive):
    archive = load_archive(trained_archive)
    Predictor.from_archive(archive, "spert_mt", extra_args={"precision": "onnx-int8"})
    # The same mode again is fine: the model is prepared once.
    Predictor.from_archive(archive, "spert_mt", extra_args={"precision": "onnx-int8"})
    with pytest.raises(
        PrecisionError, match="prepared for precision onnx-int8 already, which cannot change to float32"
    ):
        Predictor.from_archive(archive, "spert_mt", extra_args={"precision": "float32"})


def test_the_onnx_modes_replace_the_transformer_inside_the_models_embedder(trained_archive):
    from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

    from spert_mt_plugin.inference.onnx_transformer import OnnxTransformer

    model = load_archive(trained_archive).model.eval()
    parameters = sum(p.numel() for p in model.parameters())
    assert prepare_model(model, "onnx") == Precision("onnx", "cpu")
    (embedder,) = [m for m in model.modules() if isinstance(m, PretrainedTransformerEmbedder)]
    assert isinstance(embedder.transformer_model, OnnxTransformer)
    # The encoder's parameters left torch; the heads' and the width embedding's stayed.
    remaining = sum(p.numel() for p in model.parameters())
    assert 0 < remaining < parameters
    assert not any(name.startswith("_embedder") for name, _ in model.named_parameters())


@pytest.mark.parametrize(
    "flags, expected",
    [
        ("fpu avx2 avx512f avx512_bf16 amx_tile", True),
        ("fpu avx2 avx512f amx_bf16 amx_tile", True),
        ("fpu avx2 avx512f avx512_vnni", False),
    ],
)
def test_bfloat16_support_is_read_from_the_cpu_flags(tmp_path, flags, expected):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text(f"processor\t: 0\nmodel name\t: Some CPU\nflags\t\t: {flags}\n\nprocessor\t: 1\n")
    assert cpu_supports_bfloat16(cpuinfo) is expected


def test_no_cpuinfo_means_no_bfloat16(tmp_path):
    assert cpu_supports_bfloat16(tmp_path / "missing") is False


def test_amx_is_read_from_the_cpu_flags(tmp_path):
    cpuinfo = tmp_path / "cpuinfo"
    cpuinfo.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16 amx_bf16 amx_tile\n")
    assert cpu_has_amx(cpuinfo)
    cpuinfo.write_text("flags\t\t: fpu avx2 avx512f avx512_bf16 avx512_vnni\n")  # an AMD EPYC of Zen 4
    assert not cpu_has_amx(cpuinfo) and cpu_supports_bfloat16(cpuinfo)
    assert not cpu_has_amx(tmp_path / "missing")


@pytest.mark.parametrize(
    "amx, native_bfloat16, onnxruntime, expected",
    [
        (True, True, True, "bfloat16"),  # a Xeon with AMX: bfloat16 measured fastest there
        (False, True, True, "onnx"),  # AVX-512 BF16 without AMX: onnx measured faster than bfloat16
        (False, False, True, "onnx"),  # AVX2
        (False, True, False, "bfloat16"),
        (False, False, False, "float32"),
    ],
)
def test_the_default_follows_the_cpu_and_onnxruntime(monkeypatch, amx, native_bfloat16, onnxruntime, expected):
    monkeypatch.setattr(precision, "cpu_has_amx", lambda: amx)
    monkeypatch.setattr(precision, "cpu_supports_bfloat16", lambda: native_bfloat16)
    monkeypatch.setattr(precision, "onnxruntime_installed", lambda: onnxruntime)
    assert default_precision() == resolve_precision(None) == resolve_precision("auto") == expected
    assert resolve_precision("float32") == "float32"  # one flag away
    # No GPU figures yet: float32 there.
    assert default_precision("cuda") == "float32"


def test_onnxruntime_is_installed_and_missing_is_seen(monkeypatch):
    assert precision.onnxruntime_installed()  # a pinned dependency
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what find_spec sees when it is not installed
    assert not precision.onnxruntime_installed()


def test_the_spacy_component_takes_the_mode_from_its_config(trained_archive, caplog):
    nlp = spacy.blank("en")
    with caplog.at_level(logging.INFO, logger="spert_mt_plugin.inference.precision"):
        nlp.add_pipe("spert_mt", config={"archive": trained_archive, "precision": "onnx"})
    assert "predicting with precision onnx on cpu" in caplog.text
    assert nlp.get_pipe_config("spert_mt")["precision"] == "onnx"
    doc = nlp("Ada Lovelace works for Acme Corp in Paris.")
    assert ("Ada Lovelace", "Person") in {(s.text, s.label_) for s in doc.spans["spert_mt"]}
    with pytest.raises(PrecisionError, match="unknown precision 'half'"):
        spacy.blank("en").add_pipe("spert_mt", config={"archive": trained_archive, "precision": "half"})


def test_spert_serve_passes_its_precision_to_the_predictor(trained_archive, caplog):
    import argparse

    from spert_mt_plugin.commands.serve import Serve, app_factory

    parser = argparse.ArgumentParser()
    Serve().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["spert-serve", trained_archive, "--precision", "onnx-int8"])
    with caplog.at_level(logging.INFO, logger="spert_mt_plugin.inference.precision"):
        app = app_factory(args)()
    assert "predicting with precision onnx-int8 on cpu" in caplog.text
    response = app.test_client().post("/predict", json={"tokens": ["Bob", "is", "married", "to", "Carol", "."]})
    assert response.status_code == 200 and len(response.get_json()["entities"]) == 2
    assert parser.parse_args(["spert-serve", trained_archive]).precision == "auto"


def test_allennlp_predict_takes_the_mode_from_predictor_args(trained_archive, tmp_path):
    inputs = tmp_path / "in.jsonl"
    inputs.write_text(json.dumps({"tokens": ["Bob", "is", "married", "to", "Carol", "."]}) + "\n")
    command = [sys.executable, "-m", "allennlp", "predict", trained_archive, str(inputs), "--silent"]
    command += ["--output-file", str(tmp_path / "out.jsonl"), "--predictor-args"]
    good = subprocess.run(command + ['{"precision": "bfloat16"}'], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert good.returncode == 0, good.stderr[-2000:]
    assert "predicting with precision bfloat16 on cpu" in good.stderr
    assert [e["text"] for e in json.loads((tmp_path / "out.jsonl").read_text())["entities"]] == ["Bob", "Carol"]
    bad = subprocess.run(command + ['{"precision": "fp8"}'], cwd=PROJECT_ROOT, capture_output=True, text=True)
    assert bad.returncode == 1
    assert (
        "allennlp predict: error: unknown precision 'fp8': choose one of float32, bfloat16, onnx, onnx-int8"
        in bad.stderr
    )


def test_a_missing_onnxruntime_is_a_one_line_error(trained_archive, monkeypatch):
    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # what `import onnxruntime` sees when it is not installed
    with pytest.raises(PrecisionError) as error:
        prepare_model(load_archive(trained_archive).model.eval(), "onnx")
    assert str(error.value) == "precision onnx needs onnxruntime: pip install -c constraints.txt onnxruntime onnx"
