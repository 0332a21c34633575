import json
import logging

from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer

from spert_mt_plugin.dataset_readers import LabelStudioReader
from tests.conftest import FIXTURES, TINY_BERT

EXPORT = str(FIXTURES / "label_studio" / "tasks.json")
TYPES = str(FIXTURES / "doccano" / "types.json")


def make_reader(**kwargs):
    indexers = {"tokens": PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=64)}
    return LabelStudioReader(token_indexers=indexers, **kwargs)


def test_export_becomes_instances_and_a_report(tmp_path, caplog):
    with caplog.at_level(logging.WARNING):
        reader = make_reader(types_file=TYPES, report_file="ls_report.jsonl", serialization_dir=str(tmp_path))
        instances = list(reader.read(EXPORT))
    metadata = [instance["metadata"].metadata for instance in instances]
    assert [m["doc_id"] for m in metadata] == ["7#0", "7#1", "8#0", "8#1"]
    assert [len(m["tokens"]) for m in metadata] == [9, 6, 6, 8]
    assert [len(m["entities"]) for m in metadata] == [3, 2, 2, 3]
    assert [m["relations"] for m in metadata] == [
        [(0, 1, "Works_For"), (1, 2, "Located_In")],
        [(0, 1, "Married_To")],
        [(0, 1, "Works_For")],
        [(1, 2, "Located_In")],
    ]
    # a relative report file goes into the run's folder
    lines = [json.loads(line) for line in (tmp_path / "ls_report.jsonl").read_text().splitlines()]
    assert [(item["line"], item["kind"]) for item in lines] == [
        (1, "choices result"),
        (1, "entity"),
        (1, "relation"),
        (1, "relation"),
        (1, "relation"),
        (2, "cancelled task"),
    ]
    assert len(reader.last_report) == 6
    assert "6 annotations cannot be represented" in caplog.text and "3 relation" in caplog.text


def test_data_key_names_the_text(tmp_path):
    tasks = [{"id": 1, "data": {"body": "Ada met Bob."}, "annotations": []}]
    (tmp_path / "tasks.json").write_text(json.dumps(tasks))
    [instance] = make_reader(data_key="body", require_annotation=False).read(str(tmp_path / "tasks.json"))
    assert instance["metadata"].metadata["tokens"] == ["Ada", "met", "Bob", "."]
