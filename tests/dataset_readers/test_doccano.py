import json
import logging

import pytest
from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer

from spert_mt_plugin.dataset_readers import DataError, DoccanoReader
from tests.conftest import FIXTURES, TINY_BERT

DOCCANO = FIXTURES / "doccano"
EXPORT = str(DOCCANO / "train.jsonl")
TYPES = str(DOCCANO / "types.json")


def make_reader(**kwargs):
    indexers = {"tokens": PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=64)}
    return DoccanoReader(token_indexers=indexers, **kwargs)


def test_export_becomes_instances_and_a_report(tmp_path, caplog):
    report = tmp_path / "report.jsonl"
    with caplog.at_level(logging.WARNING):
        instances = list(make_reader(types_file=TYPES, report_file=str(report)).read(EXPORT))
    metadata = [instance["metadata"].metadata for instance in instances]
    assert [m["doc_id"] for m in metadata] == ["1#0", "1#1", "2#0", "3#0"]
    assert [len(m["tokens"]) for m in metadata] == [9, 6, 11, 5]
    assert [len(m["entities"]) for m in metadata] == [3, 2, 3, 0]
    assert [m["relations"] for m in metadata] == [
        [(0, 1, "Works_For"), (1, 2, "Located_In")],
        [(0, 1, "Married_To")],
        [(0, 1, "Works_For"), (1, 2, "Located_In")],
        [],
    ]
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    assert [(item["line"], item["kind"]) for item in lines] == [(1, "relation"), (2, "relation")]
    assert "2 annotations cannot be represented" in caplog.text


def test_unannotated_record_is_prediction_input_and_an_error_in_training(tmp_path):
    (tmp_path / "raw.jsonl").write_text(json.dumps({"id": 3, "text": "Bob met Carol. Eve left."}) + "\n")
    with pytest.raises(DataError, match=r"raw.jsonl, line 1 \(id 3\), sentence 0: the document has no annotation"):
        list(make_reader().read(str(tmp_path / "raw.jsonl")))
    instances = list(make_reader(require_annotation=False).read(str(tmp_path / "raw.jsonl")))
    assert [i["metadata"].metadata["tokens"] for i in instances] == [["Bob", "met", "Carol", "."], ["Eve", "left", "."]]
    assert all("span_labels" not in i.fields for i in instances)


def test_example_config_builds_and_reads_the_fixture_from_spert_data_dir(monkeypatch):
    from allennlp.common import Params

    import spert_mt_plugin  # noqa: F401

    monkeypatch.setenv("SPERT_DATA_DIR", "fixtures")
    params = Params.from_file("training_configs/doccano_example.jsonnet").as_dict()
    assert params["dataset_reader"]["type"] == "doccano"
    assert params["train_data_path"] == "fixtures/doccano/train.jsonl"
    assert params["test_data_path"] == "fixtures/doccano/test.jsonl"
    assert params["dataset_reader"]["types_file"] == params["vocabulary"]["types_file"] == "fixtures/doccano/types.json"


def test_model_trains_on_a_doccano_export(tmp_path):
    from allennlp.commands.train import train_model_from_file

    # the fixture experiment, with only the reader type and the data paths changed
    overrides = {
        "dataset_reader.type": "doccano",
        "train_data_path": EXPORT,
        "validation_data_path": EXPORT,
        "test_data_path": str(DOCCANO / "test.jsonl"),
        "trainer.num_epochs": 2,
    }
    train_model_from_file(str(FIXTURES / "experiment.jsonnet"), str(tmp_path / "run"), json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "test_ner_f1" in metrics and metrics["training_loss"] > 0
