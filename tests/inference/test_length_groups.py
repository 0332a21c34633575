"""Rows of a padded batch in groups of similar length, counted by hand."""

import pytest

from spert_mt_plugin.inference.length_groups import length_groups


def test_rows_are_grouped_by_length_within_the_padding_allowed():
    # Sorted: 3 (row 1), 4 (row 3), 10 (row 0), 11 (row 2). [3, 4]: 1 of 8 positions padding
    # (12.5 %); adding 10 would make it 17 of 30 (57 %): a new group. [10, 11]: 1 of 22 (4.5 %).
    assert length_groups([10, 3, 11, 4], max_padding=0.2) == [[1, 3], [0, 2]]


def test_no_padding_allowed_groups_only_equal_lengths():
    assert length_groups([5, 7, 5, 7, 6], max_padding=0.0) == [[0, 2], [4], [1, 3]]


def test_all_padding_allowed_is_one_group_in_length_order():
    assert length_groups([9, 2, 5], max_padding=1.0) == [[1, 2, 0]]


def test_the_limit_is_inclusive():
    # [4, 5]: 1 of 10 positions padding, exactly 10 %.
    assert length_groups([4, 5], max_padding=0.1) == [[0, 1]]
    assert length_groups([4, 5], max_padding=0.09) == [[0], [1]]


@pytest.mark.parametrize("lengths", [[], [0, 0]])
def test_empty_rows_are_in_no_group(lengths):
    assert length_groups(lengths, max_padding=0.2) == []


def test_an_empty_row_among_others_is_left_out():
    assert length_groups([0, 4, 4], max_padding=0.2) == [[1, 2]]
