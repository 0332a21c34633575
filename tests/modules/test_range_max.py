import torch

from spert_mt_plugin.modules.range_max import RangeMaxTable, max_pool_words


def test_max_pool_words_takes_the_max_over_each_words_pieces():
    embeddings = torch.tensor([[[0.0, 9.0], [1.0, 2.0], [3.0, 0.0], [5.0, 5.0], [0.0, 9.0]]])
    offsets = torch.tensor([[[1, 2], [3, 3], [-1, -1]]])
    words = max_pool_words(embeddings, offsets)
    assert words[0, 0].tolist() == [3.0, 2.0]
    assert words[0, 1].tolist() == [5.0, 5.0]
    # A word without word pieces carries the "empty" marker.
    assert (words[0, 2] == torch.finfo(torch.float32).min).all()


def test_max_pool_words_matches_each_words_own_max_for_words_of_many_pieces():
    torch.manual_seed(0)
    embeddings = torch.randn(2, 14, 3)
    # widths 1, 5, 2, 3 and 1 pieces; in the second sentence a word without pieces, and padding
    offsets = torch.tensor(
        [
            [[1, 1], [2, 6], [7, 8], [9, 11], [12, 12]],
            [[1, 3], [-1, -1], [4, 4], [0, 0], [0, 0]],
        ]
    )
    words = max_pool_words(embeddings, offsets)
    for b in range(2):
        for w, (start, end) in enumerate(offsets[b].tolist()):
            if start < 0:
                assert (words[b, w] == torch.finfo(torch.float32).min).all()
            else:
                assert torch.equal(words[b, w], embeddings[b, start : end + 1].max(dim=0).values)


def test_range_max_matches_brute_force_for_every_range():
    torch.manual_seed(0)
    words = torch.randn(2, 13, 4)
    table = RangeMaxTable(words, longest_range=13)
    starts, ends, batch = [], [], []
    for b in range(2):
        for i in range(13):
            for j in range(i, 13):
                starts.append(i)
                ends.append(j)
                batch.append(b)
    pooled = table.query(torch.tensor(batch), torch.tensor(starts), torch.tensor(ends))
    expected = torch.stack([words[b, i : j + 1].max(dim=0).values for b, i, j in zip(batch, starts, ends)])
    assert torch.equal(pooled, expected)


def test_range_max_matches_brute_force_with_pieceless_words_anywhere_in_bfloat16_too():
    torch.manual_seed(1)
    for dtype in (torch.float32, torch.bfloat16):
        words = torch.randn(1, 9, 3).to(dtype)
        empty = torch.finfo(dtype).min
        words[0, [0, 4, 5, 8]] = empty  # at both ends and two side by side
        table = RangeMaxTable(words, longest_range=9)
        ranges = [(i, j) for i in range(9) for j in range(i, 9)]
        starts, ends = (torch.tensor(values) for values in zip(*ranges))
        pooled = table.query(torch.zeros_like(starts), starts, ends)
        for (i, j), vector in zip(ranges, pooled):
            real = [w for w in range(i, j + 1) if w not in (0, 4, 5, 8)]
            expected = words[0, real].max(dim=0).values if real else torch.zeros(3, dtype=dtype)
            assert torch.equal(vector, expected), (dtype, i, j)


def test_no_ranges_and_no_words_give_empty_results():
    table = RangeMaxTable(torch.randn(2, 4, 3), longest_range=4)
    nothing = torch.zeros(0, dtype=torch.long)
    assert table.query(nothing, nothing, nothing).shape == (0, 3)
    assert max_pool_words(torch.randn(2, 5, 3), torch.zeros(2, 0, 2, dtype=torch.long)).shape == (2, 0, 3)


def test_empty_ranges_and_pieceless_words_give_zero_vectors():
    words = torch.randn(1, 5, 3)
    words[0, 2] = torch.finfo(torch.float32).min
    table = RangeMaxTable(words, longest_range=5)
    pooled = table.query(torch.tensor([0, 0, 0]), torch.tensor([3, 2, 1]), torch.tensor([2, 2, 2]))
    assert pooled[0].tolist() == [0.0, 0.0, 0.0]  # end < start: nothing between
    assert pooled[1].tolist() == [0.0, 0.0, 0.0]  # only a word without pieces
    assert torch.equal(pooled[2], torch.maximum(words[0, 1], words[0, 2]))


def test_ranges_shaped_by_sentence_pool_each_sentences_own_words():
    words = torch.arange(2 * 4 * 2, dtype=torch.float32).view(2, 4, 2)
    words[1, 1:3] = torch.finfo(torch.float32).min
    table = RangeMaxTable(words, longest_range=4)
    batch = torch.tensor([[0, 0, 0], [1, 1, 1]])
    starts = torch.tensor([[0, 1, 3], [0, 1, 2]])
    ends = torch.tensor([[3, 2, 3], [3, 2, 0]])
    pooled = table.query(batch, starts, ends)
    assert pooled.shape == (2, 3, 2)
    assert pooled[0].tolist() == [[6.0, 7.0], [4.0, 5.0], [6.0, 7.0]]
    # sentence 1: over all four words; only its two pieceless words; an empty range
    assert pooled[1].tolist() == [[14.0, 15.0], [0.0, 0.0], [0.0, 0.0]]


def test_range_max_passes_gradients_to_the_maxima():
    words = torch.tensor([[[1.0], [3.0], [2.0]]], requires_grad=True)
    table = RangeMaxTable(words, longest_range=3)
    table.query(torch.tensor([0]), torch.tensor([0]), torch.tensor([2])).sum().backward()
    assert words.grad.view(-1).tolist() == [0.0, 1.0, 0.0]


def test_max_pool_words_passes_gradients_to_each_words_largest_piece():
    embeddings = torch.tensor([[[0.0], [1.0], [4.0], [2.0], [3.0]]], requires_grad=True)
    offsets = torch.tensor([[[1, 3], [4, 4], [-1, -1]]])
    words = max_pool_words(embeddings, offsets)
    words[:, :2].sum().backward()
    assert embeddings.grad.view(-1).tolist() == [0.0, 0.0, 1.0, 0.0, 1.0]
