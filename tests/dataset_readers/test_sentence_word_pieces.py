"""The one-call-per-sentence word-piece indexer against AllenNLP's `pretrained_transformer_mismatched`."""

import json

import pytest
from allennlp.data import Token, Vocabulary
from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer
from allennlp.data.tokenizers import PretrainedTransformerTokenizer

from spert_mt_plugin.dataset_readers.sentence_word_pieces import SentenceWordPieceIndexer, SentenceWordPieceTokenizer
from spert_mt_plugin.settings import bundled_encoder
from tests.conftest import PROJECT_ROOT, SHARED_DATA, requires_shared_data

TINY_BERT = str(PROJECT_ROOT / "fixtures" / "tiny_bert")
AWKWARD_WORDS = [
    "Mr.",
    "",
    "New York",
    " ",
    "naïve",
    "can't",
    "\u200b",
    "x" * 150,
    "中文",
    "\x00",
    "U.S.-based",
    "🙂",
    "Zürich",
]


@pytest.mark.parametrize("pre_split", [True, False])
def test_word_pieces_and_offsets_are_allennlps(pre_split):
    allennlp_tokenizer = PretrainedTransformerTokenizer(TINY_BERT)
    tokenizer = SentenceWordPieceTokenizer(TINY_BERT)
    assert tokenizer.pre_split  # a BERT tokenizer
    tokenizer.pre_split = pre_split
    for words in (AWKWARD_WORDS, ["single"], [""], []):
        assert tokenizer.intra_word_tokenize(words) == allennlp_tokenizer.intra_word_tokenize(words)
    tokens, offsets = tokenizer.intra_word_tokenize(["Ada works", "", "in", "Oslo"])
    # The fixture's vocabulary has these words whole; the empty word has no pieces.
    assert [t.text for t in tokens] == ["[CLS]", "Ada", "works", "in", "Oslo", "[SEP]"]
    assert offsets == [(1, 2), None, (3, 3), (4, 4)]
    assert {t.type_id for t in tokens} == {0}


@pytest.mark.parametrize("max_length", [None, 8])
def test_indexed_output_is_allennlps(max_length):
    ours = SentenceWordPieceIndexer(TINY_BERT, max_length=max_length)
    theirs = PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=max_length)
    vocabulary = Vocabulary()
    tokens = [Token(word) for word in AWKWARD_WORDS]
    assert ours.tokens_to_indices(tokens, vocabulary) == theirs.tokens_to_indices(tokens, vocabulary)


@requires_shared_data
@pytest.mark.skipif(not bundled_encoder(), reason="the bundled encoder is not installed")
def test_every_sentence_of_the_datasets_is_indexed_as_allennlp_does():
    ours = SentenceWordPieceIndexer(bundled_encoder(), max_length=512)
    theirs = PretrainedTransformerMismatchedIndexer(bundled_encoder(), max_length=512)
    vocabulary = Vocabulary()
    checked = 0
    for name in (
        "conll04/conll04_train_dev.json",
        "conll04/conll04_test.json",
        "scierc/scierc_train_dev.json",
        "scierc/scierc_test.json",
        "ade/ade_full.json",
    ):
        for document in json.loads((SHARED_DATA / name).read_text()):
            tokens = [Token(word) for word in document["tokens"]]
            assert ours.tokens_to_indices(tokens, vocabulary) == theirs.tokens_to_indices(tokens, vocabulary), (
                f"{name}: {document.get('orig_id')}"
            )
            checked += 1
    assert checked == 1153 + 288 + 2136 + 551 + 4272
