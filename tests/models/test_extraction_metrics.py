import pytest

from spert_mt_plugin.models.extraction_metrics import ExtractionMetrics


def test_relations_count_without_entity_types_and_strictly_with_them():
    metadata = [
        {
            "entities": [[0, 2, "Person"], [4, 5, "Organization"]],
            "relations": [[0, 1, "Works_For"]],
        }
    ]
    # Both spans right, the tail's type wrong: the relation counts, but not strictly.
    entities = [
        [
            {"start": 0, "end": 2, "type": "Person", "score": 1.0},
            {"start": 4, "end": 5, "type": "Location", "score": 1.0},
        ]
    ]
    relations = [[{"head": 0, "tail": 1, "type": "Works_For", "score": 1.0}]]
    metrics = ExtractionMetrics(symmetric_relations=[])
    metrics(entities, relations, metadata)
    result = metrics.get_metric(reset=True)
    assert result["ner_f1"] == pytest.approx(0.5)
    assert result["rel_f1"] == pytest.approx(1.0)
    assert result["rel_strict_f1"] == pytest.approx(0.0)
