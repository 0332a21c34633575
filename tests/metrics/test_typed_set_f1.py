import pytest

from spert_mt_plugin.metrics import NerF1, RelationF1

PER, ORG, LOC = "Person", "Organization", "Location"


def test_ner_f1_micro_and_macro_by_hand():
    metric = NerF1(per_type=True)
    gold = [[(0, 2, PER), (4, 6, ORG)], [(1, 2, PER)]]
    predicted = [[(0, 2, PER), (4, 6, LOC), (7, 8, LOC)], []]
    metric(predicted, gold)
    result = metric.get_metric()
    # Person: tp 1, fn 1 -> P 1, R .5, F 2/3. Organization: fn 1 -> 0. Location: fp 2 -> 0.
    # micro: tp 1, fp 2, fn 2 -> P = R = F = 1/3
    assert result["precision"] == pytest.approx(1 / 3)
    assert result["recall"] == pytest.approx(1 / 3)
    assert result["f1"] == pytest.approx(1 / 3)
    assert result["macro_precision"] == pytest.approx(1 / 3)
    assert result["macro_recall"] == pytest.approx(0.5 / 3)
    assert result["macro_f1"] == pytest.approx((2 / 3) / 3)
    assert result["Person_f1"] == pytest.approx(2 / 3)
    assert result["Location_precision"] == 0.0


def test_a_span_with_the_wrong_type_is_wrong():
    metric = NerF1()
    metric([[(0, 1, LOC)]], [[(0, 1, PER)]])
    assert metric.get_metric()["f1"] == 0.0


def test_metrics_accumulate_over_batches_and_reset():
    metric = NerF1()
    metric([[(0, 1, PER)]], [[(0, 1, PER)]])
    metric([[]], [[(3, 4, PER)]])
    assert metric.get_metric(reset=True)["recall"] == pytest.approx(0.5)
    assert metric.get_metric()["f1"] == 0.0


def test_relation_boundaries_ignore_entity_types_but_strict_does_not():
    gold = [[((0, 2, PER), (4, 6, ORG), "Works_For")]]
    predicted = [[((0, 2, PER), (4, 6, LOC), "Works_For")]]
    boundaries, strict = RelationF1(strict=False), RelationF1(strict=True)
    boundaries(predicted, gold)
    strict(predicted, gold)
    assert boundaries.get_metric()["f1"] == 1.0
    assert strict.get_metric()["f1"] == 0.0


def test_relation_type_must_match():
    metric = RelationF1()
    metric([[((0, 1, PER), (2, 3, ORG), "Located_In")]], [[((0, 1, PER), (2, 3, ORG), "Works_For")]])
    result = metric.get_metric()
    assert result["precision"] == 0.0 and result["recall"] == 0.0


def test_symmetric_relations_match_in_either_direction():
    gold = [[((0, 1, PER), (3, 4, PER), "Married_To"), ((0, 1, PER), (6, 7, ORG), "Works_For")]]
    predicted = [[((3, 4, PER), (0, 1, PER), "Married_To"), ((6, 7, ORG), (0, 1, PER), "Works_For")]]
    symmetric = RelationF1(symmetric_relations=["Married_To"], per_type=True)
    plain = RelationF1()
    symmetric(predicted, gold)
    plain(predicted, gold)
    # Married_To counts in both directions only when declared symmetric; Works_For never does.
    assert symmetric.get_metric()["Married_To_f1"] == 1.0
    assert symmetric.get_metric()["Works_For_f1"] == 0.0
    assert symmetric.get_metric()["f1"] == pytest.approx(0.5)
    assert plain.get_metric()["f1"] == 0.0


def test_no_predictions_and_no_gold_give_zero_not_an_error():
    metric = RelationF1()
    metric([[]], [[]])
    assert metric.get_metric() == {
        "precision": 0.0,
        "recall": 0.0,
        "f1": 0.0,
        "macro_precision": 0.0,
        "macro_recall": 0.0,
        "macro_f1": 0.0,
    }
