"""
Rows of a padded batch in groups of similar length, for an encoder that costs what its input's
padded size is: a batch of 8 CoNLL04 test sentences is 43 % padding, which the encoder computes
and throws away. Cut into groups, each group's rows padded only to its own longest row, the same
sentences cost their real size and a few more calls.
"""

from typing import List, Sequence


def length_groups(lengths: Sequence[int], max_padding: float) -> List[List[int]]:
    """
    The indices of `lengths` in groups that the encoder can run one call each: sorted by length,
    a row joins the group before it unless that would make more than `max_padding` (a share, 0 to
    1) of the group's positions padding, once every row is cut to the group's longest. Rows of
    length 0 (empty folded segments) are in no group: nothing in them needs encoding.
    """
    order = sorted((index for index, length in enumerate(lengths) if length > 0), key=lambda index: lengths[index])
    groups: List[List[int]] = []
    group: List[int] = []
    for index in order:
        # Sorted ascending, so the newcomer is the group's longest row.
        size = lengths[index] * (len(group) + 1)
        real = sum(lengths[row] for row in group) + lengths[index]
        if group and 1 - real / size > max_padding:
            groups.append(group)
            group = []
        group.append(index)
    if group:
        groups.append(group)
    return groups
