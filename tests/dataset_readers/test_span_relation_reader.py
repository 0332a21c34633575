import json
import logging

import pytest

from spert_mt_plugin.dataset_readers import DataError
from spert_mt_plugin.dataset_readers.span_relation_reader import candidate_spans
from tests.dataset_readers.readers_common import SENTENCES, make_reader, tensors


def test_candidate_spans_and_their_labels():
    # "Bob is married to Carol ." with spans of 1..3 words: 6 + 5 + 4 = 15 candidates.
    instance = make_reader(max_span_width=3).text_to_instance(
        ["Bob", "is", "married", "to", "Carol", "."], [(0, 1, "Person"), (4, 5, "Person")], [(0, 1, "Married_To")]
    )
    spans = [tuple(span) for span in instance["spans"].spans.tolist()]
    assert len(spans) == 15
    assert spans[:4] == [(0, 0), (0, 1), (0, 2), (1, 1)]
    labels = dict(zip(spans, instance["span_labels"].labels))
    assert labels[(0, 0)] == "Person" and labels[(4, 4)] == "Person"
    assert [label for span, label in labels.items() if span not in [(0, 0), (4, 4)]] == ["NA"] * 13


def test_word_piece_offsets_follow_the_encoder_tokenizer():
    # "Zork" is not in the tiny vocabulary: Z ##o ##r ##k. [CLS] is word piece 0.
    instance = make_reader().text_to_instance(["Ada", "Zork", "."])
    _, batch = tensors([instance])
    assert batch["text"]["tokens"]["offsets"][0].tolist() == [[1, 1], [2, 5], [6, 6]]
    assert batch["text"]["tokens"]["token_ids"].shape[1] == 8  # [CLS] 6 pieces [SEP]


def test_span_max_iou_by_hand():
    # gold entity: words 1..2 (inclusive)
    instance = make_reader(max_span_width=2).text_to_instance(["a", "b", "c", "d", "e", "f"], [(1, 3, "Person")], [])
    spans = [tuple(span) for span in instance["spans"].spans.tolist()]
    iou = dict(zip(spans, instance["span_max_iou"].tensor.tolist()))
    assert iou[(1, 2)] == pytest.approx(1.0)
    assert iou[(0, 1)] == pytest.approx(1 / 3)  # overlap 1 word, union 0..2
    assert iou[(2, 3)] == pytest.approx(1 / 3)
    assert iou[(1, 1)] == pytest.approx(1 / 2)
    assert iou[(3, 4)] == 0.0 and iou[(5, 5)] == 0.0


def test_relations_become_a_labelled_matrix_over_gold_entities():
    instances = list(make_reader().read(SENTENCES))
    vocab, batch = tensors(instances[:1])
    relations = batch["relations"][0].long()
    works_for = vocab.get_token_index("Works_For", "relation_labels")
    located_in = vocab.get_token_index("Located_In", "relation_labels")
    assert relations.tolist() == [[-1, works_for, -1], [-1, -1, located_in], [-1, -1, -1]]
    assert batch["entity_spans"][0].tolist() == [[0, 1], [4, 5], [7, 7]]


def test_given_entities_become_spans_and_labels_with_na_for_untyped_ones():
    instance = make_reader().text_to_instance(
        ["Ada", "works", "for", "Acme", "."], given_entities=[(0, 1, "Person"), (3, 4, None)]
    )
    vocab, batch = tensors([instance])
    assert batch["given_spans"].tolist() == [[[0, 0], [3, 3]]]
    person, na = (vocab.get_token_index(label, "entity_labels") for label in ("Person", "NA"))
    assert batch["given_labels"].tolist() == [[person, na]]
    assert "span_labels" not in batch


def test_sentence_without_entities_has_no_entity_spans_and_pads_in_a_batch():
    alone = make_reader().text_to_instance(["It", "rained", "."], [], [])
    _, batch = tensors([alone])
    assert tuple(batch["entity_spans"].shape) == (1, 0, 2)
    assert tuple(batch["relations"].shape) == (1, 0, 0)
    other = make_reader().text_to_instance(["Bob", "ran", "."], [(0, 1, "Person")], [])
    _, batch = tensors([alone, other])
    assert batch["entity_spans"].tolist() == [[[-1, -1]], [[0, 0]]]
    short = make_reader().text_to_instance(["Hi"], [], [])
    _, batch = tensors([short, other])
    assert batch["spans"].tolist() == [
        [[0, 0], [-1, -1], [-1, -1], [-1, -1], [-1, -1], [-1, -1]],
        [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]],
    ]


def test_nested_entities_are_kept():
    instances = list(make_reader().read(SENTENCES))
    metadata = instances[2]["metadata"].metadata
    assert (1, 4, "Organization") in metadata["entities"] and (3, 4, "Location") in metadata["entities"]
    labels = dict(zip(map(tuple, instances[2]["spans"].spans.tolist()), instances[2]["span_labels"].labels))
    assert labels[(1, 3)] == "Organization" and labels[(3, 3)] == "Location"


def test_empty_sentences_are_skipped_and_counted(tmp_path, caplog):
    path = tmp_path / "with_empty.json"
    path.write_text(
        json.dumps(
            [{"tokens": [], "entities": [], "relations": []}, {"tokens": ["Bob"], "entities": [], "relations": []}]
        )
    )
    with caplog.at_level(logging.WARNING):
        instances = list(make_reader().read(str(path)))
    assert len(instances) == 1
    assert "skipped 1 empty sentence" in caplog.text


def test_bad_types_file(tmp_path):
    path = tmp_path / "types.json"
    path.write_text('{"entities": {}}')
    with pytest.raises(DataError, match="needs an object under 'relations'"):
        list(make_reader(types_file=str(path)).read(SENTENCES))


def test_unannotated_documents_are_prediction_input_not_sentences_without_entities(tmp_path):
    path = tmp_path / "raw.json"
    path.write_text(
        json.dumps(
            [
                {"tokens": ["Bob", "left", "."], "orig_id": "raw"},
                {"tokens": ["Eve", "."], "entities": [], "relations": []},
            ]
        )
    )
    reader = make_reader(require_annotation=False)
    raw, empty = list(reader.read(str(path)))
    # Unannotated: no gold fields at all, so nothing is scored against an empty gold.
    assert "span_labels" not in raw.fields and "entities" not in raw["metadata"].metadata
    # Annotated without entities: every candidate span is a negative.
    assert set(empty["span_labels"].labels) == {"NA"} and empty["metadata"].metadata["entities"] == []


@pytest.mark.parametrize("num_words, max_width", [(0, 10), (1, 10), (3, 10), (12, 10), (7, 1), (5, 5)])
def test_candidate_spans_are_allennlps_enumerated_spans_in_their_order(num_words, max_width):
    from allennlp.data.dataset_readers.dataset_utils.span_utils import enumerate_spans

    expected = [list(span) for span in enumerate_spans(["w"] * num_words, max_span_width=max_width)]
    spans = candidate_spans(num_words, max_width)
    assert spans.shape == (len(expected), 2) and spans.tolist() == expected
