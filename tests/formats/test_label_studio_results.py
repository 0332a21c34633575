from spert_mt_plugin.formats.label_studio_results import prediction, task

TEXT = "Ada works for Acme."


def test_a_prediction_scores_each_item_and_their_mean():
    result = prediction(
        TEXT, [(0, 3, "Peop", 2.0), (14, 18, "Org", 1.0)], [(0, 1, "Work_For", 0.5)], "v2", "ner", "doc"
    )
    assert result["model_version"] == "v2" and result["score"] == (2.0 + 1.0 + 0.5) / 3
    first, second, relation = result["result"]
    assert first == {
        "id": "e0",
        "from_name": "ner",
        "to_name": "doc",
        "type": "labels",
        "value": {"start": 0, "end": 3, "text": "Ada", "labels": ["Peop"]},
        "score": 2.0,
    }
    assert second["id"] == "e1" and second["value"]["text"] == "Acme"
    assert relation == {
        "from_id": "e0",
        "to_id": "e1",
        "type": "relation",
        "direction": "right",
        "labels": ["Work_For"],
        "score": 0.5,
    }


def test_a_task_without_model_version_is_an_unscored_annotation():
    content = task("doc7", TEXT, [(0, 3, "Peop", 2.0)], [], data_key="body")
    assert content["data"] == {"body": TEXT, "orig_id": "doc7"}
    (item,) = content["annotations"][0]["result"]
    assert "score" not in item and "predictions" not in content
    assert prediction(TEXT, [], [], "v1")["result"] == [] and "score" not in prediction(TEXT, [], [], "v1")
