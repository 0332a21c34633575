import torch

from spert_mt_plugin.modules.sentence_encoding import encode_sentences


def test_words_are_the_max_of_their_word_pieces_and_cls_is_the_first_piece():
    # One sentence of 4 word pieces ([CLS], "Ada", "Love", "##lace"), 2 dimensions, 2 words.
    pieces = torch.tensor([[[9.0, 9.0], [1.0, 5.0], [2.0, 0.0], [3.0, 1.0]]])
    calls = []

    def embedder(token_ids, mask, type_ids=None, segment_concat_mask=None):
        calls.append((token_ids.tolist(), type_ids, segment_concat_mask))
        return pieces

    tokens = {
        "token_ids": torch.tensor([[101, 7, 8, 9]]),
        "wordpiece_mask": torch.ones(1, 4, dtype=torch.bool),
        "offsets": torch.tensor([[[1, 1], [2, 3]]]),
    }
    table, cls = encode_sentences(embedder, tokens)
    assert calls == [([[101, 7, 8, 9]], None, None)]
    assert cls.tolist() == [[9.0, 9.0]]
    batch = torch.tensor([0, 0, 0])
    words = table.query(batch, torch.tensor([0, 1, 0]), torch.tensor([0, 1, 1]))
    # "Ada" = (1, 5); "Lovelace" = max((2, 0), (3, 1)) = (3, 1); both words: (3, 5)
    assert words.tolist() == [[1.0, 5.0], [3.0, 1.0], [3.0, 5.0]]
