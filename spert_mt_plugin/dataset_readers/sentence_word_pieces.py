"""
`pretrained_transformer_mismatched` with one tokenizer call per sentence instead of one per word.

AllenNLP's mismatched indexer splits a sentence's words into word pieces by calling the tokenizer
once for every word: on CoNLL04 test sentences that is 0.6-0.8 ms per sentence, about a tenth of
the whole prediction path once the encoder runs in ONNX Runtime (docs/speed.md). This indexer gives
the same word pieces, type ids and offsets (the tests compare the two on every sentence of
CoNLL04, SciERC and ADE) from a single call:

- for tokenizers that pre-split text like BERT (`BertPreTokenizer`: BERT, SciBERT, BioBERT,
  MiniLM), the words go in as one pre-split sequence and each piece's word comes back from the
  tokenizer's `word_ids()`;
- for any other tokenizer (byte-level BPE, SentencePiece), whose pieces for a pre-split sequence
  can differ from those of each word alone, the words go in as a batch of separate one-word texts,
  which is what the per-word calls do, in one call.
"""

from typing import Any, Dict, List, Optional, Tuple

from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer, TokenIndexer
from allennlp.data.tokenizers import PretrainedTransformerTokenizer, Token

Offset = Optional[Tuple[int, int]]


def splits_words_like_bert(tokenizer) -> bool:
    """Whether `tokenizer` is a fast tokenizer whose pre-tokenizer is BERT's (whitespace and punctuation)."""
    from tokenizers.pre_tokenizers import BertPreTokenizer

    backend = getattr(tokenizer, "backend_tokenizer", None)
    return backend is not None and isinstance(backend.pre_tokenizer, BertPreTokenizer)


class SentenceWordPieceTokenizer(PretrainedTransformerTokenizer):
    """A `PretrainedTransformerTokenizer` whose `intra_word_tokenize` makes one tokenizer call per sentence."""

    def __init__(self, model_name: str, tokenizer_kwargs: Optional[Dict[str, Any]] = None) -> None:
        super().__init__(model_name, tokenizer_kwargs=tokenizer_kwargs)
        self.pre_split = splits_words_like_bert(self.tokenizer)

    def intra_word_tokenize(self, string_tokens: List[str]) -> Tuple[List[Token], List[Offset]]:
        """
        The word pieces of `string_tokens` between the special tokens, and per word the inclusive
        range of its pieces (`None` for a word without any), as `PretrainedTransformerTokenizer`'s.
        """
        start = self.single_sequence_start_tokens
        ids, offsets = self.word_piece_ids(string_tokens)
        offsets = [None if offset is None else (offset[0] + len(start), offset[1] + len(start)) for offset in offsets]
        type_id = self.single_sequence_token_type_id
        pieces = [
            Token(text=text, text_id=piece_id, type_id=type_id)
            for piece_id, text in zip(ids, self.tokenizer.convert_ids_to_tokens(ids))
        ]
        return list(start) + pieces + list(self.single_sequence_end_tokens), offsets

    def word_piece_ids(self, words: List[str]) -> Tuple[List[int], List[Offset]]:
        """The word-piece ids of `words`, without special tokens, and each word's inclusive range in them."""
        if not words:
            return [], []
        settings = dict(add_special_tokens=False, return_attention_mask=False, return_token_type_ids=False)
        if self.pre_split:
            encoding = self.tokenizer(words, is_split_into_words=True, **settings)
            ids = encoding["input_ids"]
            offsets: List[Offset] = [None] * len(words)
            for position, word in enumerate(encoding.word_ids()):
                first = position if offsets[word] is None else offsets[word][0]
                offsets[word] = (first, position)
            return ids, offsets
        ids, offsets = [], []
        for word_ids in self.tokenizer(words, **settings)["input_ids"]:
            offsets.append((len(ids), len(ids) + len(word_ids) - 1) if word_ids else None)
            ids.extend(word_ids)
        return ids, offsets


@TokenIndexer.register("spert_mt_mismatched")
class SentenceWordPieceIndexer(PretrainedTransformerMismatchedIndexer):
    """
    AllenNLP's `pretrained_transformer_mismatched` indexer (same parameters, same output), splitting
    each sentence into word pieces with one tokenizer call (`SentenceWordPieceTokenizer`).

    Registered as a `TokenIndexer` with name "spert_mt_mismatched".
    """

    def __init__(
        self,
        model_name: str,
        namespace: str = "tags",
        max_length: int = None,
        tokenizer_kwargs: Optional[Dict[str, Any]] = None,
        **kwargs,
    ) -> None:
        super().__init__(
            model_name, namespace=namespace, max_length=max_length, tokenizer_kwargs=tokenizer_kwargs, **kwargs
        )
        # The parent's tokenize-and-offset step is all that changes; indexing, segmenting for
        # `max_length` and padding stay AllenNLP's.
        self._allennlp_tokenizer = SentenceWordPieceTokenizer(model_name, tokenizer_kwargs=tokenizer_kwargs)
