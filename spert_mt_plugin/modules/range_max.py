"""
Max-pooling over arbitrary ranges of words, for span and between-span context vectors.
"""

import torch
from allennlp.nn import util


def empty_value(dtype: torch.dtype) -> float:
    """Marks a word without word pieces; never the max of a range that has a real word."""
    return torch.finfo(dtype).min


def max_pool_words(embeddings: torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """
    Per word, the element-wise max over its word pieces.

    # Parameters

    embeddings : `torch.Tensor`, `(batch, num_wordpieces, dim)`
    offsets : `torch.Tensor`, `(batch, num_words, 2)`
        Inclusive word-piece span of each word; `(-1, -1)` for a word without word pieces, which
        gets the `empty_value` in every dimension.
    """
    pieces, mask = util.batched_span_select(embeddings.contiguous(), offsets)
    pieces = pieces.masked_fill(~mask.unsqueeze(-1), empty_value(pieces.dtype))
    return pieces.max(dim=2).values


class RangeMaxTable:
    """
    A sparse table over word vectors: level `k` holds, at word `i`, the max over words
    `i .. i + 2^k - 1`. The max over any range `[start, end]` is then the max of two table rows,
    so spans and between-span contexts of every candidate are pooled in one gather, without
    materialising a word-piece mask per candidate.

    # Parameters

    words : `torch.Tensor`, `(batch, num_words, dim)`
    longest_range : `int`
        The widest range that will be queried (levels are built up to it).
    """

    def __init__(self, words: torch.Tensor, longest_range: int) -> None:
        levels = [words]
        width = 1
        num_words = words.size(1)
        while width * 2 <= min(longest_range, num_words):
            previous = levels[-1]
            # Rows past the last complete window are never read; keep them to keep shapes equal.
            levels.append(
                torch.cat(
                    [torch.maximum(previous[:, :-width], previous[:, width:]), previous[:, -width:]],
                    dim=1,
                )
            )
            width *= 2
        self.table = torch.stack(levels)
        self.empty = empty_value(words.dtype)

    def query(self, batch_index: torch.Tensor, starts: torch.Tensor, ends: torch.Tensor) -> torch.Tensor:
        """
        Max over words `starts .. ends` (inclusive) of sentence `batch_index`; all three tensors
        have the same shape `S`, the result is `S + (dim,)`. Empty ranges (`ends < starts`) and
        ranges of words without word pieces give zero vectors.
        """
        empty_range = ends < starts
        # Empty ranges may point one past the last word; read a valid row and blank it below.
        starts = starts.masked_fill(empty_range, 0)
        ends = ends.masked_fill(empty_range, 0)
        length = ends - starts + 1
        level = torch.log2(length.float()).floor().long().clamp(max=self.table.size(0) - 1)
        window = 2**level
        first = self.table[level, batch_index, starts]
        second = self.table[level, batch_index, ends - window + 1]
        pooled = torch.maximum(first, second)
        blank = empty_range.unsqueeze(-1) | (pooled == self.empty)
        return pooled.masked_fill(blank, 0.0)
