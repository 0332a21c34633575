"""The paired comparison of two configs, on hand-built predictions whose answer is known."""

import gzip
import json

import numpy
import pytest

from spert_mt_plugin.metrics.typed_set_f1 import NerF1
from spert_mt_plugin.results.comparison import (
    approximate_randomization,
    compare,
    count_matrices,
    f1_of_counts,
    markdown_comparison,
    markdown_report,
    mean_difference,
    sentence_items,
)
from spert_mt_plugin.results.runs import PREDICTIONS_FILE


def line(predicted_entities, gold_entities, predicted_relations=(), gold_relations=()):
    """A predictions line: entities as (start, end, type), relations as (head, tail, type[, symmetric])."""

    def relations(items):
        return [
            dict({"head": r[0], "tail": r[1], "type": r[2]}, **({"symmetric": True} if len(r) > 3 else {}))
            for r in items
        ]

    entities = [{"start": s, "end": e, "type": t} for s, e, t in predicted_entities]
    gold = [{"start": s, "end": e, "type": t} for s, e, t in gold_entities]
    return {
        "tokens": ["w"] * 10,
        "entities": entities,
        "relations": relations(predicted_relations),
        "gold": {"entities": gold, "relations": relations(gold_relations)},
    }


PERSON, PLACE = (0, 1, "Peop"), (3, 5, "Loc")


def test_identical_systems_have_p_1():
    lines = [line([PERSON], [PERSON, PLACE]), line([PLACE], [PLACE]), line([], [PERSON])] * 5
    a, b = count_matrices(lines, lines, "ner")
    assert approximate_randomization(a, b, "micro", samples=2000) == 1.0
    assert approximate_randomization(a, b, "macro", samples=2000) == 1.0


def test_a_system_better_on_every_sentence_has_a_small_p():
    # 30 sentences, one entity each: A finds it, B does not. Only the shuffles that swap all or
    # none of the 30 sentences reach |ΔF1| = 1: probability 2 / 2^30, so no shuffle of 10,000 does.
    better = [line([PERSON], [PERSON]) for _ in range(30)]
    worse = [line([], [PERSON]) for _ in range(30)]
    a, b = count_matrices(better, worse, "ner")
    assert approximate_randomization(a, b, "micro") == pytest.approx(1 / 10_001)


def test_a_difference_on_one_sentence_of_many_is_not_significant():
    # Equal on 29 sentences, A right and B wrong on one: half the shuffles swap that sentence and
    # give the same |ΔF1|, so p is about 1.
    same = [line([PERSON], [PERSON]) for _ in range(29)]
    a, b = count_matrices(same + [line([PLACE], [PLACE])], same + [line([], [PLACE])], "ner")
    assert approximate_randomization(a, b, "micro") == 1.0


def test_f1_of_counts_by_hand_micro_and_macro():
    # Peop: tp 2, fp 0, fn 2 -> P 1, R 0.5, F1 2/3;  Loc: tp 1, fp 1, fn 0 -> P 0.5, R 1, F1 2/3.
    # micro: tp 3, fp 1, fn 2 -> P 3/4, R 3/5, F1 = 2 * 0.45 / 1.35 = 2/3.
    lines = [
        line([PERSON, PLACE], [PERSON, PLACE, (6, 7, "Peop")]),
        line([PERSON, (7, 8, "Loc")], [PERSON, (8, 9, "Peop")]),
    ]
    counts, _ = count_matrices(lines, lines, "ner")
    assert counts.sum(0).tolist() == [[1, 1, 0], [2, 0, 2]]  # types sorted: Loc, Peop
    assert f1_of_counts(counts.sum(0), "micro") == pytest.approx(2 / 3)
    assert f1_of_counts(counts.sum(0), "macro") == pytest.approx(2 / 3)
    # ... and as the model's metric computes it
    metric = NerF1()
    metric(
        [[(e["start"], e["end"], e["type"]) for e in x["entities"]] for x in lines],
        [[(e["start"], e["end"], e["type"]) for e in x["gold"]["entities"]] for x in lines],
    )
    assert metric.get_metric()["macro_f1"] == pytest.approx(2 / 3)
    # shuffled totals: a leading axis of samples
    assert f1_of_counts(numpy.stack([counts.sum(0), counts[0]]), "micro").shape == (2,)


def test_relations_symmetric_in_either_direction_and_strict_needs_entity_types():
    mention_a, mention_b = (0, 1, "Task"), (3, 4, "Method")
    wrong_type = (3, 4, "Task")
    sentence = line(
        [mention_a, wrong_type], [mention_a, mention_b], [(1, 0, "COMPARE", True)], [(0, 1, "COMPARE", True)]
    )
    predicted, gold = sentence_items(sentence, "rel")
    assert set(predicted) == set(gold)  # reversed, but symmetric; spans match
    predicted, gold = sentence_items(sentence, "rel_strict")
    assert set(predicted) != set(gold)  # the tail's type is wrong


def test_mean_paired_difference_with_a_t_interval_by_hand():
    result = mean_difference([0.70, 0.62, 0.63], [0.69, 0.60, 0.60])
    # differences 0.01, 0.02, 0.03: mean 0.02, sd 0.01, t(0.975, 2) = 4.302653 -> half 0.0248414
    assert result["mean"] == pytest.approx(0.02)
    assert result["ci95"] == pytest.approx([0.02 - 0.0248414, 0.02 + 0.0248414], abs=1e-6)
    assert mean_difference([0.5], [0.4])["ci95"] is None


def write_run(directory, seed, lines, f1):
    run = directory / f"seed_{seed}"
    run.mkdir(parents=True)
    (run / PREDICTIONS_FILE).write_bytes(gzip.compress("".join(json.dumps(x) + "\n" for x in lines).encode()))
    metrics = {f"test_{task}_f1": f1 for task in ("ner", "rel", "rel_strict")}
    return {
        "name": f"{directory.name} (seed {seed})",
        "seed": seed,
        "fold": None,
        "directory": str(run),
        "metrics": metrics,
    }


def test_compare_pairs_runs_by_seed_and_pools_their_sentences(tmp_path):
    good = [line([PERSON], [PERSON]) for _ in range(20)]
    bad = [line([], [PERSON]) for _ in range(20)]
    a = {
        "average": "micro",
        "runs": [write_run(tmp_path / "a", 13, good, 0.9), write_run(tmp_path / "a", 14, good, 0.8)],
    }
    # B's runs listed in another order: pairs follow the seeds
    b = {"average": "micro", "runs": [write_run(tmp_path / "b", 14, bad, 0.5), write_run(tmp_path / "b", 13, bad, 0.6)]}
    result = compare("a", a, "b", b, samples=1000)
    assert result["pairs"] == [["a (seed 13)", "b (seed 13)"], ["a (seed 14)", "b (seed 14)"]]
    assert result["sentences"] == 40
    ner = result["tasks"]["NER"]
    assert ner["differences"] == pytest.approx([0.3, 0.3])
    assert ner["pooled_f1"] == [1.0, 0.0]
    assert ner["p_value"] == pytest.approx(1 / 1001)
    # Each pair alone: 20 sentences, every one better for A; a shuffle reaches |ΔF1| = 1 only when it
    # swaps none or all of them, (2 / 2**20 of the shuffles: about 0 of 1,000), so p = 1 / 1001 too.
    assert ner["p_per_pair"] == pytest.approx([1 / 1001, 1 / 1001])
    assert result["tasks"]["RE"]["p_per_pair"] == [1.0, 1.0]
    assert result["tasks"]["RE"]["p_value"] == 1.0  # no relations anywhere: no difference
    table = markdown_comparison(result)
    assert "| NER | +30.00 | [+30.00, +30.00] | +30.00 (0.001), +30.00 (0.001) | 0.0010 |" in table
    assert "approximate randomization" in table and "40 sentences" in table
    results = {"configs": {}, "comparisons": [result]}
    assert markdown_report(results).endswith(table)


def test_compare_without_predictions_gives_the_paired_differences_only(tmp_path):
    a = {"average": "micro", "runs": [write_run(tmp_path / "a", 13, [line([], [])], 0.7)]}
    b = {"average": "micro", "runs": [write_run(tmp_path / "b", 13, [line([], [])], 0.6)]}
    (tmp_path / "b" / "seed_13" / PREDICTIONS_FILE).unlink()
    result = compare("a", a, "b", b)
    assert result["tasks"]["NER"]["p_value"] is None and result["missing_predictions"] == ["b (seed 13)"]
    assert "No sentence test: no test predictions kept for b (seed 13)" in markdown_comparison(result)


def test_each_pair_has_its_own_p_value(tmp_path):
    good = [line([PERSON], [PERSON]) for _ in range(20)]
    bad = [line([], [PERSON]) for _ in range(20)]
    a = {"average": "micro", "runs": [write_run(tmp_path / "a", seed, good, 0.9) for seed in (13, 14)]}
    # seed 13: B misses every entity; seed 14: B predicts what A predicts
    runs_b = [write_run(tmp_path / "b", 13, bad, 0.6), write_run(tmp_path / "b", 14, good, 0.9)]
    b = {"average": "micro", "runs": runs_b}
    ner = compare("a", a, "b", b, samples=1000)["tasks"]["NER"]
    assert ner["p_per_pair"] == pytest.approx([1 / 1001, 1.0])
    # Pooled, the 20 differing sentences of 40 still decide it.
    assert ner["p_value"] == pytest.approx(1 / 1001)
