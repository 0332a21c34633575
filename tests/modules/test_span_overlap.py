import torch

from spert_mt_plugin.modules.span_overlap import best_non_overlapping, has_nested, overlaps


def spans(*rows):
    return torch.tensor(rows, dtype=torch.long)


def test_overlaps_counts_a_shared_word():
    # (0,2) and (2,3) share word 2; (0,2) and (3,3) share none; every span overlaps itself.
    result = overlaps(spans([[0, 2], [2, 3], [3, 3]]))
    assert result[0].tolist() == [[True, True, False], [True, True, True], [False, True, True]]


def test_has_nested_ignores_padding_and_the_span_itself():
    assert not has_nested(spans([[0, 1], [2, 2], [-1, -1]]))
    assert has_nested(spans([[0, 1], [1, 3], [-1, -1]]))
    # Padding (-1, -1) "overlaps" another padding span, which is not nesting.
    assert not has_nested(spans([[4, 5], [-1, -1], [-1, -1]]))
    # Nested in the second sentence only.
    assert has_nested(spans([[0, 0], [-1, -1]], [[0, 2], [1, 1]]))


def test_greedy_keeps_a_span_whose_only_clash_was_dropped():
    # A(0-2, .9) beats B(2-3, .8); B is dropped, so C(3-4, .7), which overlaps only B, stays.
    # (Suppressing every span that overlaps a better one would wrongly drop C too.)
    chosen = best_non_overlapping(
        spans([[0, 2], [2, 3], [3, 4]]), torch.tensor([[0.9, 0.8, 0.7]]), torch.ones(1, 3, dtype=torch.bool)
    )
    assert chosen.tolist() == [[True, False, True]]


def test_greedy_follows_the_score_not_the_position_and_skips_non_candidates():
    # Candidates: "Palo Alto" (1.2), "Palo Alto , California" (1.5), "California" (1.1), and a
    # better-scored span that is no candidate (padding or rejected), which must not block anything.
    span_rows = spans([[3, 4], [3, 6], [6, 6], [0, 6]])
    scores = torch.tensor([[1.2, 1.5, 1.1, 9.0]])
    candidates = torch.tensor([[True, True, True, False]])
    assert best_non_overlapping(span_rows, scores, candidates).tolist() == [[False, True, False, False]]
    # Without the long span, both short ones survive.
    candidates = torch.tensor([[True, False, True, False]])
    assert best_non_overlapping(span_rows, scores, candidates).tolist() == [[True, False, True, False]]


def test_ties_keep_the_earlier_span_and_rows_are_independent():
    span_rows = spans([[0, 1], [1, 2]], [[0, 0], [0, 1]])
    scores = torch.tensor([[1.0, 1.0], [0.5, 2.0]])
    chosen = best_non_overlapping(span_rows, scores, torch.ones(2, 2, dtype=torch.bool))
    assert chosen.tolist() == [[True, False], [False, True]]


def test_raising_the_threshold_after_flat_decoding_equals_decoding_at_it():
    # spert-thresholds filters one low-threshold prediction: greedy in score order makes that exact.
    torch.manual_seed(0)
    starts = torch.randint(0, 12, (4, 30))
    span_rows = torch.stack([starts, starts + torch.randint(0, 4, (4, 30))], dim=-1)
    scores = torch.rand(4, 30)
    everything = best_non_overlapping(span_rows, scores, torch.ones(4, 30, dtype=torch.bool))
    for threshold in (0.3, 0.6, 0.9):
        above = scores >= threshold
        assert torch.equal(best_non_overlapping(span_rows, scores, above), everything & above)
