"""
Max-pooling over arbitrary ranges of words, for span and between-span context vectors.
"""

import torch


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
    # A word's pieces are a range of pieces: two rows of a table over the pieces, instead of a
    # (batch, words, widest word, dim) copy of the pieces, masked.
    has_pieces = offsets[..., 0] >= 0
    starts, ends = offsets[..., 0].clamp(min=0), offsets[..., 1].clamp(min=0)
    widest = int((ends - starts).max()) + 1 if offsets.numel() else 1
    batch_index = torch.arange(offsets.size(0), device=offsets.device).unsqueeze(1).expand_as(starts)
    words = RangeMaxTable(embeddings, widest).query(batch_index, starts, ends)
    return words.masked_fill_(~has_pieces.unsqueeze(-1), empty_value(words.dtype))


class RangeMaxTable:
    """
    A sparse table over word vectors (or word pieces, in `max_pool_words`): level `k` holds, at
    word `i`, the max over words `i .. i + 2^k - 1`. The max over any range `[start, end]` is then
    the max of two table rows, so spans and between-span contexts of every candidate are pooled in
    one gather, without materialising a word-piece mask per candidate.

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
        # How many words with word pieces come before each position: a range has one of them
        # exactly when this count grows across it.
        has_pieces = (words != self.empty).any(dim=-1)
        self.counts_before = torch.nn.functional.pad(has_pieces.long().cumsum(dim=1), (1, 0))

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
        # Rows of the flattened table: `index_select` copies whole rows, where indexing the table
        # with three index tensors computes the address of every element (several times slower).
        _, batch_size, num_words, dim = self.table.shape
        rows = self.table.view(-1, dim)
        first = (level * batch_size + batch_index) * num_words + starts
        second = first + length - 2**level
        pooled = torch.maximum(rows.index_select(0, first.flatten()), rows.index_select(0, second.flatten()))
        no_word = self.counts_before[batch_index, ends + 1] == self.counts_before[batch_index, starts]
        blank = (empty_range | no_word).flatten().unsqueeze(-1)
        return pooled.masked_fill_(blank, 0.0).view(*starts.shape, dim)
