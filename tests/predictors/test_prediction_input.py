"""`predictors.prediction_input`: input objects checked and split into sentences of words."""

import pytest
from allennlp.data import Vocabulary

from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS
from spert_mt_plugin.predictors.prediction_input import (
    InputError,
    InputTooLarge,
    PredictionInput,
    Prepared,
    check_batch,
)


def prediction_input(max_words=None, max_sentence_words=6):
    vocab = Vocabulary()
    vocab.add_tokens_to_namespace([NO_ENTITY, "Person", "Location"], ENTITY_LABELS)
    vocab.add_tokens_to_namespace(["Lives_In"], RELATION_LABELS)
    return PredictionInput(vocab, "en", max_words, max_sentence_words)


def test_tokens_raw_text_and_documents_become_sentences_of_words():
    checked = prediction_input()
    assert checked.sentences({"tokens": ["Ada", "codes"], "orig_id": "d1"}) == [Prepared(["Ada", "codes"], None, "d1")]
    assert checked.sentences({"sentence": "Ada  codes."}) == [
        Prepared(["Ada", "codes", "."], [(0, 3), (5, 10), (10, 11)], None)
    ]
    document = checked.sentences({"document": "Ada codes. Bob sings."})
    assert [sentence.words for sentence in document] == [["Ada", "codes", "."], ["Bob", "sings", "."]]
    assert document[1].offsets == [(11, 14), (15, 20), (20, 21)]


def test_given_entities_are_checked_against_the_models_types():
    checked = prediction_input()
    given = checked.sentences(
        {"tokens": ["Ada", "in", "Oslo"], "entities": [{"start": 2, "end": 3, "type": "Location"}]}
    )
    assert given[0].entities == [(2, 3, "Location")]
    with pytest.raises(InputError, match=r"^input: .*'Planet'"):
        checked.sentences({"tokens": ["Ada"], "entities": [{"start": 0, "end": 1, "type": "Planet"}]})
    assert checked.given_word_spans([(["Ada", "in", "Oslo"], None), (["Bob"], None)], [[(0, 1, None)], None]) == [
        [(0, 1, None)],
        None,
    ]
    with pytest.raises(InputError, match="^entities has 1 items for 2 sentences$"):
        checked.given_word_spans([(["Ada"], None), (["Bob"], None)], [None])


@pytest.mark.parametrize(
    "inputs, index, error, message",
    [
        ([1], 3, InputError, "instances[3]: each input must be a JSON object, got list"),
        ({"tokens": ["a"], "sentence": "a", "_line": 7}, None, InputError, "input line 7: give exactly one of"),
        ({"tokens": ["a", " "]}, None, InputError, "input: token 1 must be a non-empty string, got ' '"),
        ({"sentence": "  "}, None, InputError, "input: the text is empty"),
        ({"tokens": list("abcdefg")}, None, InputTooLarge, "input: the sentence has 7 words, over the limit of 6"),
    ],
)
def test_bad_input_is_named(inputs, index, error, message):
    with pytest.raises(error) as caught:
        prediction_input().sentences(inputs, index)
    assert str(caught.value).startswith(message)


def test_a_request_over_its_word_limit_is_too_large():
    checked = prediction_input(max_words=4)
    prepared = [checked.sentences({"tokens": ["a", "b"]}), checked.sentences({"tokens": ["c", "d"]})]
    checked.check_request(prepared)
    with pytest.raises(InputTooLarge, match="^the input has 5 words, over the limit of 4 words per request"):
        checked.check_request(prepared + [checked.sentences({"tokens": ["e"]})])
    # Raw text is refused before it is tokenised when its chunks alone are too many.
    with pytest.raises(InputTooLarge, match="^input: the text has over 4 words"):
        checked.sentences({"sentence": "a b c d e"})


def test_lines_are_counted_to_name_them():
    checked = prediction_input()
    assert checked.load_line('{"tokens": ["a"]}') == {"tokens": ["a"], "_line": 1}
    with pytest.raises(InputError, match=r"^input line 2: not valid JSON"):
        checked.load_line("{bad")


def test_a_batch_is_a_non_empty_list_within_its_limit():
    assert check_batch([{"tokens": ["a"]}], 1) == [{"tokens": ["a"]}]
    with pytest.raises(InputError, match="^'instances' must be a non-empty list of input objects, got an empty list$"):
        check_batch([], 1)
    with pytest.raises(InputError, match="got dict$"):
        check_batch({}, 1)
    with pytest.raises(InputTooLarge, match="^the batch has 2 instances, over the limit of 1 instances per request"):
        check_batch([{}, {}], 1)
