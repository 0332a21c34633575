"""`models.model_settings`: a setting out of range is named before anything is built."""

import pytest
from allennlp.common.checks import ConfigurationError
from allennlp.modules.token_embedders import Embedding

from spert_mt_plugin.models.model_settings import check_model_settings

VALID = {
    "max_span_width": 10,
    "width_embedding_dim": 25,
    "dropout": 0.1,
    "negative_entities": 0,
    "negative_relations": 120,
    "sigmoid_loss_over_types": "sum",
    "loss_reduction": "mean",
    "pair_chunk_size": 1,
}


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"sigmoid_loss_over_types": "max"}, "sigmoid_loss_over_types must be 'mean' or 'sum', got 'max'"),
        ({"max_span_width": 0}, "max_span_width must be at least 1, got 0"),
        ({"negative_relations": -1}, "negative_relations must be at least 0, got -1"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        # The first setting out of range is the one named.
        ({"loss_reduction": "max", "pair_chunk_size": 0}, "loss_reduction must be 'mean' or 'sum', got 'max'"),
    ],
)
def test_the_first_setting_out_of_range_is_named(setting, message):
    from allennlp.modules.token_embedders import PretrainedTransformerEmbedder

    class Encoder(PretrainedTransformerEmbedder):
        def __init__(self):  # no transformer is loaded: only the type is checked
            pass

    with pytest.raises(ConfigurationError) as error:
        check_model_settings(Encoder(), **{**VALID, **setting})
    assert str(error.value) == message
    check_model_settings(Encoder(), **VALID)


def test_an_embedder_that_is_no_word_piece_encoder_is_refused():
    with pytest.raises(ConfigurationError, match="use an embedder of type 'pretrained_transformer', got Embedding"):
        check_model_settings(Embedding(embedding_dim=4, num_embeddings=10), **VALID)
