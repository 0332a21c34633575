"""The filter, the curves and the chosen thetas of `spert-thresholds`, on hand-built predictions whose
figures are hand-counted and checked against the model's own metric."""

import math

import pytest

from spert_mt_plugin.models.extraction_metrics import ExtractionMetrics
from spert_mt_plugin.results.score_curves import (
    ScoreCurve,
    best_f1,
    entity_curve,
    filter_predictions,
    for_precision,
    grid,
    readable_threshold,
    relation_curve,
    task_report,
)


def entity(start, end, label, score):
    return {"start": start, "end": end, "type": label, "score": score}


def relation(head, tail, label, score):
    return {"head": head, "tail": tail, "type": label, "score": score}


# Two sentences predicted at low thresholds. Sentence 0: gold Per(0,1), Org(2,3), Loc(4,5),
# Works_For(Per, Org), Located_In(Org, Loc); sentence 1: gold Per(0,2), Org(3,4), Works_For.
ENTITIES = [
    [
        entity(3, 4, "Org", 0.2),  # wrong span
        entity(0, 1, "Per", 2.0),  # correct
        entity(2, 3, "Org", 1.0),  # correct
        entity(4, 5, "Per", 0.5),  # right span, wrong type
    ],
    [entity(0, 2, "Per", 0.7), entity(3, 4, "Loc", 1.2)],  # correct; wrong type
]
RELATIONS = [
    [
        relation(1, 2, "Works_For", 3.0),  # correct
        relation(2, 3, "Located_In", 1.5),  # both spans right (the tail's type is not): correct for `rel`
        relation(1, 0, "Works_For", 0.9),  # wrong
    ],
    [relation(0, 1, "Works_For", 0.6)],  # both spans right: correct
]
METADATA = [
    {
        "entities": [(0, 1, "Per"), (2, 3, "Org"), (4, 5, "Loc")],
        "relations": [(0, 1, "Works_For"), (1, 2, "Located_In")],
    },
    {"entities": [(0, 2, "Per"), (3, 4, "Org")], "relations": [(0, 1, "Works_For")]},
]


def evaluated(entities, relations, metadata, symmetric=()):
    metrics = ExtractionMetrics(symmetric)
    metrics(entities, relations, metadata)
    return metrics.get_metric()


def test_the_filter_keeps_what_reaches_theta_and_renumbers_the_arguments():
    entities, relations = filter_predictions(ENTITIES, RELATIONS, 0.6, 1.0)
    assert entities == [[ENTITIES[0][1], ENTITIES[0][2]], ENTITIES[1]]
    # Works_For keeps its arguments, now entities 0 and 1; Located_In lost its tail (0.5 < 0.6),
    # the other Works_For its tail (0.2) and sentence 1's relation is below 1.0.
    assert relations == [[relation(0, 1, "Works_For", 3.0)], []]
    # The input is left as it was.
    assert RELATIONS[0][0]["head"] == 1


def test_figures_of_the_filtered_predictions_hand_counted():
    metrics = evaluated(*filter_predictions(ENTITIES, RELATIONS, 0.6, 1.0), METADATA)
    # NER: 4 predicted (Per 2.0, Org 1.0, Per 0.7, Loc 1.2), 3 correct, 5 gold
    assert (metrics["ner_precision"], metrics["ner_recall"]) == (0.75, 0.6)
    assert metrics["ner_f1"] == pytest.approx(2 / 3)
    # RE: 1 predicted, correct, 3 gold
    assert (metrics["rel_precision"], metrics["rel_recall"], metrics["rel_f1"]) == (1.0, 1 / 3, 0.5)


def test_the_entity_curve_hand_counted():
    curve = entity_curve(ENTITIES, METADATA, low=0.0)
    # scores high to low: 2.0 right, 1.2 wrong, 1.0 right, 0.7 right, 0.5 wrong, 0.2 wrong; 5 gold
    assert curve.scores == [2.0, 1.2, 1.0, 0.7, 0.5, 0.2]
    assert [(p.predicted, p.correct) for p in curve.points()] == [(1, 1), (2, 1), (3, 2), (4, 3), (5, 3), (6, 3)]
    point = curve.at(0.6)
    assert (point.precision, point.recall, point.f1) == pytest.approx((0.75, 0.6, 2 / 3))
    assert curve.at(2.5).predicted == 0 and curve.at(2.5).f1 == 0.0
    # Every theta between two scores keeps the same predictions.
    assert curve.interval(0.6) == (0.5, 0.7) and curve.interval(0.1) == (0.0, 0.2)
    assert curve.interval(3.0) == (2.0, math.inf)


def test_the_curves_give_what_the_models_metric_gives_on_the_filtered_predictions():
    entities_by_theta = [0.0, 0.2, 0.5, 0.6, 0.7, 1.0, 1.1, 1.2, 2.0, 2.1]
    relations_by_theta = [0.0, 0.6, 0.8, 0.9, 1.5, 3.0, 3.5]
    entities = entity_curve(ENTITIES, METADATA, low=0.0)
    for entity_theta in entities_by_theta:
        relations = relation_curve(ENTITIES, RELATIONS, METADATA, (), entity_theta, low=0.0)
        for relation_theta in relations_by_theta:
            metrics = evaluated(*filter_predictions(ENTITIES, RELATIONS, entity_theta, relation_theta), METADATA)
            for task, point in (("ner", entities.at(entity_theta)), ("rel", relations.at(relation_theta))):
                assert (point.precision, point.recall, point.f1) == (
                    metrics[f"{task}_precision"],
                    metrics[f"{task}_recall"],
                    metrics[f"{task}_f1"],
                ), (entity_theta, relation_theta, task)


def test_a_symmetric_relation_predicted_both_ways_counts_once_as_the_metric_counts_it():
    entities = [[entity(0, 1, "Per", 1.0), entity(2, 3, "Per", 1.0)]]
    relations = [[relation(0, 1, "Married_To", 0.9), relation(1, 0, "Married_To", 0.4)]]
    metadata = [{"entities": [(0, 1, "Per"), (2, 3, "Per")], "relations": [(1, 0, "Married_To")]}]
    curve = relation_curve(entities, relations, metadata, {"Married_To"}, 0.0, low=0.0)
    for theta, predicted in ((0.3, 1), (0.5, 1), (1.0, 0)):
        metrics = evaluated(*filter_predictions(entities, relations, 0.0, theta), metadata, ["Married_To"])
        point = curve.at(theta)
        assert (point.predicted, point.correct) == (predicted, predicted)
        assert point.f1 == metrics["rel_f1"]


def test_the_relation_curve_is_measured_at_the_given_entity_theta():
    # at entity theta 0.6 the Located_In (tail 0.5) and the wrong Works_For (tail 0.2) are gone
    curve = relation_curve(ENTITIES, RELATIONS, METADATA, (), 0.6, low=0.0)
    assert curve.scores == [3.0, 0.6] and curve.gold == 3
    assert (curve.at(0.0).predicted, curve.at(0.0).correct) == (2, 2)
    everything = relation_curve(ENTITIES, RELATIONS, METADATA, (), 0.0, low=0.0)
    assert [(p.predicted, p.correct) for p in everything.points()] == [(1, 1), (2, 2), (3, 2), (4, 3)]


@pytest.mark.parametrize(
    "lower, upper, theta",
    [
        (0.5, 0.7, 0.6),
        (1.2, 2.0, 1.4),
        (0.0, 0.6, 0.2),
        (0.574197, 0.900908, 0.7),
        (0.31, 0.3125, 0.311),
        (1.3, math.inf, 2.0),
    ],
)
def test_a_readable_theta_lies_well_inside_its_range(lower, upper, theta):
    assert readable_threshold(lower, upper) == theta


def test_the_best_f1_and_the_wanted_precisions_hand_counted():
    curve = entity_curve(ENTITIES, METADATA, low=0.0)
    # F1 by range: (1.2, 2] 1/3, (1.0, 1.2] 2/7, (0.7, 1.0] 1/2, (0.5, 0.7] 2/3, (0.2, 0.5] 3/5, [0, 0.2] 6/11
    theta, point = best_f1(curve, current=0.85)
    assert theta == 0.6 and point.f1 == pytest.approx(2 / 3)
    # theta in use already in the best range: kept as it is
    assert best_f1(curve, current=0.65)[0] == 0.65
    # precision 3/4 is reached from (0.5, 0.7] up; 0.9 only in (1.2, 2]
    assert for_precision(curve, 0.75, current=0.85)[0] == 0.6
    theta, point = for_precision(curve, 0.9, current=0.85)
    assert theta == 1.4 and (point.precision, point.recall) == (1.0, 0.2)
    assert for_precision(ScoreCurve([(1.0, False)], 1, 0.0), 0.5, current=0.85) is None


def test_grid():
    assert grid(0.0, 4.3) == [i * 0.25 for i in range(18)]
    assert grid(0.05, 1.0) == [round(0.05 * i, 2) for i in range(1, 21)]


def test_a_task_report_hand_counted():
    curve = entity_curve(ENTITIES, METADATA, low=0.0)
    report = task_report(curve, 0.85, [0.75, 1.0], "margin")
    assert (report["score"], report["low_bound"], report["gold"]) == ("margin", 0.0, 5)
    # theta 0.85 keeps 2.0, 1.2 and 1.0 (2 right), as every theta in (0.7, 1.0] does
    assert report["current"] == {
        "theta": 0.85,
        "same_from": 0.7,
        "same_from_included": False,
        "same_up_to": 1.0,
        "precision": 2 / 3,
        "recall": 2 / 5,
        "f1": pytest.approx(1 / 2),
        "predicted": 3,
        "correct": 2,
    }
    assert (report["best_f1"]["theta"], report["best_f1"]["same_from"], report["best_f1"]["same_up_to"]) == (
        0.6,
        0.5,
        0.7,
    )
    # precision 3/4 from (0.5, 0.7] up; 1.0 only in (1.2, 2]
    reached, perfect = report["precision"]
    assert (reached["wanted"], reached["reached"], reached["theta"]) == (0.75, True, 0.6)
    assert (perfect["theta"], perfect["predicted"], perfect["correct"]) == (1.4, 1, 1)
    # a grid of 0.1 from the low bound to the top score 2.0, with the current theta added
    assert [row["theta"] for row in report["grid"]] == sorted([round(0.1 * i, 2) for i in range(21)] + [0.85])
    # the lowest range starts at the low bound, included: [0, 0.2] keeps all six
    assert report["grid"][0]["same_from_included"] and report["grid"][0]["predicted"] == 6
    assert [row["predicted"] for row in report["curve"]] == [1, 2, 3, 4, 5, 6]
