"""
The model's settings checked before anything is built: out of range, they would fail deep inside
torch (an empty embedding, `torch.split` by 0) or silently train on nothing (a negative sample
count keeps no negative).
"""

from allennlp.common.checks import ConfigurationError
from allennlp.modules.token_embedders import PretrainedTransformerEmbedder, TokenEmbedder


def check_model_settings(
    embedder: TokenEmbedder,
    max_span_width: int,
    width_embedding_dim: int,
    dropout: float,
    negative_entities: int,
    negative_relations: int,
    sigmoid_loss_over_types: str,
    loss_reduction: str,
    pair_chunk_size: int,
) -> None:
    """A `ConfigurationError` naming the first setting of `SpertMT` out of its range, if any."""
    for name, value in (("loss_reduction", loss_reduction), ("sigmoid_loss_over_types", sigmoid_loss_over_types)):
        if value not in ("mean", "sum"):
            raise ConfigurationError(f"{name} must be 'mean' or 'sum', got {value!r}")
    for name, value, least in (
        ("max_span_width", max_span_width, 1),
        ("width_embedding_dim", width_embedding_dim, 1),
        ("pair_chunk_size", pair_chunk_size, 1),
        ("negative_entities", negative_entities, 0),
        ("negative_relations", negative_relations, 0),
    ):
        if value < least:
            raise ConfigurationError(f"{name} must be at least {least}, got {value}")
    if not 0 <= dropout < 1:
        raise ConfigurationError(f"dropout must be in [0, 1), got {dropout}")
    if not isinstance(embedder, PretrainedTransformerEmbedder):
        raise ConfigurationError(
            "SpertMT needs a word-piece encoder: use an embedder of type 'pretrained_transformer', "
            f"got {type(embedder).__name__}"
        )
