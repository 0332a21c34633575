"""`models.entity_nesting`: the decoding choice and the record of nested training entities."""

import pytest
import torch
from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.models.entity_nesting import NestingRecord, checked_entity_decoding, decodes_flat


def test_only_the_three_decodings_are_accepted():
    for decoding in ("auto", "flat", "nested"):
        assert checked_entity_decoding(decoding) == decoding
    with pytest.raises(ConfigurationError) as error:
        checked_entity_decoding("greedy")
    assert str(error.value) == "entity_decoding must be one of auto, flat, nested, got 'greedy'"


@pytest.mark.parametrize(
    "decoding, trained_on_nested, flat",
    [("auto", False, True), ("auto", True, False), ("flat", True, True), ("nested", False, False)],
)
def test_auto_decodes_flat_unless_the_training_data_nested(decoding, trained_on_nested, flat):
    assert decodes_flat(decoding, torch.tensor(trained_on_nested)) is flat


def test_a_nested_training_batch_sets_the_record_for_good():
    record, nesting = torch.tensor(False), NestingRecord()
    # Words 0-1 and 3-4: apart. Then 0-3 and 1-2: the second lies inside the first.
    nesting.note_training_batch(torch.tensor([[[0, 1], [3, 4]]]), record)
    assert not record and not nesting.seen_here
    nesting.note_training_batch(torch.tensor([[[0, 3], [1, 2]]]), record)
    assert record and nesting.seen_here
    nesting.note_training_batch(torch.tensor([[[0, 1], [3, 4]]]), record)
    assert record


def test_weights_without_the_record_are_noted_at_load():
    nesting = NestingRecord()
    assert nesting.in_weights
    nesting.note_loaded_weights(None, {"model.trained_on_nested_entities": torch.tensor(True)}, "model.")
    assert nesting.in_weights
    nesting.note_loaded_weights(None, {"trained_on_nested_entities": torch.tensor(True)}, "model.")
    assert not nesting.in_weights


def test_one_process_keeps_its_own_record():
    # Not distributed: nothing to agree on, the record stays as this process left it.
    for value in (False, True):
        record = torch.tensor(value)
        NestingRecord().agree(record)
        assert bool(record) is value
