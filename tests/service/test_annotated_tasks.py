import pytest

from spert_mt_plugin.service.annotated_tasks import TrainingError, annotated, held_out_split


def task(identifier, *annotations):
    return {"id": identifier, "data": {"text": "x"}, "annotations": list(annotations)}


def test_annotated_tasks_are_those_with_an_annotation_not_cancelled_in_order_of_id():
    tasks = [task(9, {"result": []}), task(2), task(5, {"was_cancelled": True}), task(3, {"was_cancelled": True}, {})]
    assert [t["id"] for t in annotated(tasks)] == [3, 9]


def test_every_kth_task_is_held_out_counting_from_the_last():
    tasks = [task(i) for i in range(5)]
    training, held_out = held_out_split(tasks, 2)
    assert [t["id"] for t in training] == [1, 3] and [t["id"] for t in held_out] == [0, 2, 4]
    training, held_out = held_out_split(tasks[:2], 5)
    assert [t["id"] for t in training] == [0] and [t["id"] for t in held_out] == [1]
    with pytest.raises(TrainingError, match="1 annotated task"):
        held_out_split(tasks[:1], 5)
