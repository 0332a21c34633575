"""
The encoder step: a batch of word-piece ids becomes a table of word vectors, from which every span
and between-span context is pooled (eq. 1, 14), and the sentences' [CLS] embeddings (eq. 3).
"""

from typing import Callable, Dict, Tuple

from torch import Tensor

from spert_mt_plugin.modules.range_max import RangeMaxTable, max_pool_words


def encode_sentences(embedder: Callable[..., Tensor], tokens: Dict[str, Tensor]) -> Tuple[RangeMaxTable, Tensor]:
    """
    Runs `embedder` (a `PretrainedTransformerEmbedder`) on the `tokens` of the mismatched indexer
    and returns the words, each the max of its word pieces, as a `RangeMaxTable`, and the [CLS]
    embeddings `(batch, dim)`.
    """
    embeddings = embedder(
        tokens["token_ids"],
        tokens["wordpiece_mask"],
        type_ids=tokens.get("type_ids"),
        segment_concat_mask=tokens.get("segment_concat_mask"),
    )
    words = max_pool_words(embeddings, tokens["offsets"])
    return RangeMaxTable(words, tokens["offsets"].size(1)), embeddings[:, 0]
