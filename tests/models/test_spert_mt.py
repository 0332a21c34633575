import json
import os

import pytest
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.common.testing import ModelTestCase
from allennlp.data.data_loaders import SimpleDataLoader

from spert_mt_plugin.models.spert_mt import SpertMT
from spert_mt_plugin.modules.heads import MultiTaskHead
from tests.conftest import ABLATIONS, CONFIG, PROJECT_ROOT, SENTENCES, batch_of, model_and_instances

# BertModel's pooler is not used by span extraction.
POOLER = {
    "_embedder.transformer_model.pooler.dense.weight",
    "_embedder.transformer_model.pooler.dense.bias",
}
# The fixture: tiny BERT (hidden 16), width embedding 8, 3 entity and 3 relation types.
HIDDEN, WIDTH, ENTITY_TYPES = 16, 8, 3


class TestSpertMT(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        os.chdir(PROJECT_ROOT)
        self.set_up_model(CONFIG, SENTENCES, seed=1)

    @pytest.mark.parametrize("variant", list(ABLATIONS))
    def test_model_can_train_save_and_load(self, variant, monkeypatch):
        monkeypatch.setenv("SPERT_TEST_MODEL_SWITCHES", json.dumps(ABLATIONS[variant]))
        self.set_up_model(CONFIG, SENTENCES, seed=1)
        switches = ABLATIONS[variant]
        assert isinstance(self.model._entity_head, MultiTaskHead) == switches.get("multitask", True)
        entity_logits = 2 * ENTITY_TYPES if switches.get("entity_logits", True) else 0
        assert self.model._relation_head.classification.in_features == 3 * HIDDEN + 2 * WIDTH + entity_logits
        self.ensure_model_can_train_save_and_load(self.param_file, gradients_to_ignore=POOLER, seed=1)

    def test_batch_predictions_match_single_predictions(self):
        # Padding (spans, entities, word pieces) must not change any sentence's result.
        self.model.eval()
        self.ensure_batch_predictions_are_consistent(keys_to_ignore=("loss",))

    def test_the_spert_config_has_the_baseline_heads(self, monkeypatch):
        monkeypatch.setenv("SPERT_TEST_MODEL_SWITCHES", json.dumps(ABLATIONS["spert"]))
        self.set_up_model(CONFIG, SENTENCES)
        # softmax over 3 entity types + NA, relation input without entity logits
        assert self.model._entity_head.classification.out_features == ENTITY_TYPES + 1
        assert not hasattr(self.model._entity_head, "identification")
        assert self.model._relation_head.classification.in_features == 3 * HIDDEN + 2 * WIDTH


@pytest.mark.parametrize("variant", ["full", "spert"])
def test_parameter_names_are_those_of_saved_archives(variant):
    # Archives store the weights by name, and the optimizer tells the heads by the prefix.
    model, _, _ = model_and_instances(**ABLATIONS[variant])
    names = {name for name in model.state_dict() if not name.startswith("_embedder.")}
    if variant == "full":
        heads = {
            f"_{kind}_head.{layer}.{p}"
            for kind in ("entity", "relation")
            for layer in ("identification", "classification")
            for p in ("weight", "bias")
        }
        heads -= {"_entity_head.classification.bias", "_relation_head.classification.bias"}
    else:
        heads = {f"_{kind}_head.classification.{p}" for kind in ("entity", "relation") for p in ("weight", "bias")}
    # The buffer is no parameter: it records whether the training data had nested entities.
    assert names == {"_width_embedding.weight", "trained_on_nested_entities"} | heads


def train(model, instances, steps, lr=1e-2, batch_size=3):
    loader = SimpleDataLoader(instances, batch_size, shuffle=True, vocab=model.vocab)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr)
    model.train()
    done = 0
    while done < steps:
        for batch in loader:
            loss = model(**batch)["loss"]
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            done += 1
    model.eval()
    with torch.no_grad():
        model.get_metrics(reset=True)
        for batch in SimpleDataLoader(instances, batch_size, vocab=model.vocab):
            model(**batch)
    return model.get_metrics(reset=True)


@pytest.mark.slow
@pytest.mark.parametrize("variant", ["full", "spert"])
def test_model_overfits_the_fixture(variant, monkeypatch):
    monkeypatch.setenv("SPERT_TEST_MODEL_SWITCHES", json.dumps(ABLATIONS[variant]))
    # AllenNLP hands out one cached tiny BERT by name, whose weights earlier in-process trainings
    # (spert-thresholds' tests train fixture models) have moved: start from this seed's weights.
    from allennlp.common import cached_transformers

    cached_transformers._model_cache.clear()
    test_case = ModelTestCase()
    test_case.set_up_model(CONFIG, SENTENCES, seed=3)
    metrics = train(test_case.model, test_case.instances, steps=80)
    assert metrics["ner_f1"] >= 0.9
    assert metrics["rel_f1"] >= 0.8
    assert metrics["rel_strict_f1"] >= 0.8


def test_a_1000_word_sentence_is_folded_by_the_encoder():
    # The tiny encoder has 64 positions: 1000 words need 17 windows.
    model, _, reader = model_and_instances()
    words = ["Ada", "Lovelace", "works", "for", "Acme", "Corp", "in", "Paris", "."] * 111 + ["Oslo"]
    instance = reader.text_to_instance(words, [(0, 2, "Person"), (995, 997, "Person")], [(0, 1, "Works_For")])
    tensors = batch_of(model, [instance])
    tokens = tensors["text"]["tokens"]
    assert tokens["token_ids"].size(1) > 64 * 16
    embeddings = model._embedder(
        tokens["token_ids"], tokens["wordpiece_mask"], segment_concat_mask=tokens["segment_concat_mask"]
    )
    assert embeddings.shape[:2] == (1, 1002)  # [CLS] + one piece per word + [SEP], unfolded
    assert embeddings[0, -2].abs().sum() > 0
    model.train()
    loss = model(**tensors)["loss"]
    assert torch.isfinite(loss)
    loss.backward()
    model.eval()
    with torch.no_grad():
        output = model(**tensors)
    assert torch.isfinite(output["loss"]) and len(output["tokens"][0]) == 1000


def test_spert_relation_head_predicts_every_type_that_reaches_the_threshold():
    # SpERT's heads: every span of width 1 is a Person (softmax), and the relation logits of
    # every pair are fixed by the bias alone: sigmoid(0.5) = 0.62 and sigmoid(-0.4) = 0.40 pass
    # 0.4, sigmoid(-0.5) = 0.38 does not.
    model, instances, _ = model_and_instances(**ABLATIONS["spert"])
    entity_head = model._entity_head.classification
    relation_head = model._relation_head.classification
    with torch.no_grad():
        entity_head.weight.zero_()
        entity_head.bias.copy_(torch.tensor([0.0, 5.0, 0.0, 0.0]))  # NA, Person, Organization, Location
        # Entity input: pooled words (16), width embedding (8), [CLS] (16). Wider spans: NA wins.
        model._width_embedding.weight.zero_()
        model._width_embedding.weight[1:].fill_(100.0)
        entity_head.weight[0, 16:24] = 1.0
        relation_head.weight.zero_()
        relation_head.bias.copy_(torch.tensor([0.5, -0.4, -0.5]))  # Works_For, Located_In, Married_To
    model.eval()
    with torch.no_grad():
        output = model(**batch_of(model, instances[:1]))
    entities = output["entities"][0]
    assert len(entities) == 9 and {e["type"] for e in entities} == {"Person"}
    assert all(e["end"] - e["start"] == 1 for e in entities)
    relations = output["relations"][0]
    assert len(relations) == 2 * 9 * 8
    by_pair = {}
    for relation in relations:
        by_pair.setdefault((relation["head"], relation["tail"]), []).append((relation["type"], relation["score"]))
    assert len(by_pair) == 9 * 8
    for predicted in by_pair.values():
        assert [label for label, _ in sorted(predicted)] == ["Located_In", "Works_For"]
        assert [score for _, score in sorted(predicted)] == pytest.approx([0.40131, 0.62246], abs=1e-4)


def test_width_embedding_and_heads_start_small():
    model, _, _ = model_and_instances(head={"init_std": 0.02, "class_bias": True})
    assert model._width_embedding.weight.std().item() < 0.05
    assert model._entity_head.classification.bias is not None
    assert model._entity_head.classification.bias.abs().sum().item() == 0.0
    model, _, _ = model_and_instances(head={"init_std": 0.5})
    assert model._width_embedding.weight.std().item() > 0.2
    assert model._relation_head.classification.bias is None


def test_pair_chunking_does_not_change_predictions():
    everything = {"entity_threshold": -100.0, "relation_threshold": -100.0}
    whole, instances, _ = model_and_instances(**everything)
    chunked, _, _ = model_and_instances(pair_chunk_size=7, **everything)
    assert all(torch.equal(a, b) for a, b in zip(whole.state_dict().values(), chunked.state_dict().values()))
    tensors = batch_of(whole, instances)
    whole.eval()
    chunked.eval()
    with torch.no_grad():
        expected, output = whole(**tensors), chunked(**tensors)
    assert sum(len(r) for r in expected["relations"]) > 7
    for a, b in zip(expected["relations"], output["relations"]):
        assert [(r["head"], r["tail"], r["type"]) for r in a] == [(r["head"], r["tail"], r["type"]) for r in b]
        assert [r["score"] for r in a] == pytest.approx([r["score"] for r in b], abs=1e-5)


@pytest.mark.parametrize("variant", ["full", "spert"])
def test_training_scores_only_the_sampled_candidates_with_the_same_loss(variant):
    """
    In training only the positives and the sampled negatives go through the heads, packed. With
    every negative kept and no dropout (the fixture), that must give the loss of scoring every
    candidate (the validation path).
    """
    every_negative = {"negative_entities": 10**6, "negative_relations": 10**6}
    model, instances, _ = model_and_instances(**ABLATIONS[variant], **every_negative)
    tensors = batch_of(model, instances)
    model.train()
    packed = model(**tensors)["loss"]
    model.eval()
    with torch.no_grad():
        every = model(**tensors)["loss"]
    assert packed.item() == pytest.approx(every.item(), rel=1e-5)
    # With few negatives the packed rows are shorter than the candidate list: a smaller sum.
    summed, _, _ = model_and_instances(**ABLATIONS[variant], **every_negative, loss_reduction="sum")
    two_negatives = {**every_negative, "negative_entities": 2}
    few, _, _ = model_and_instances(**ABLATIONS[variant], **two_negatives, loss_reduction="sum")
    summed.train()
    few.train()
    assert few(**tensors)["loss"].item() < summed(**tensors)["loss"].item()


@pytest.mark.parametrize("variant", ["full", "spert"])
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_the_loss_is_the_entity_loss_plus_the_relation_loss(variant, reduction):
    # Eq. 17: L = L1 + L2. Without relation labels the loss is L1; with every candidate span
    # masked (padding), L1 is 0 and the loss is L2.
    model, instances, _ = model_and_instances(**ABLATIONS[variant], loss_reduction=reduction)
    tensors = batch_of(model, instances)
    model.eval()
    with torch.no_grad():
        joint = model(**tensors)["loss"]
        entities_only = model(**{k: v for k, v in tensors.items() if k not in ("entity_spans", "relations")})["loss"]
        relations_only = model(**{**tensors, "spans": torch.full_like(tensors["spans"], -1)})["loss"]
    assert relations_only.item() > 0 and entities_only.item() > 0
    assert joint.item() == pytest.approx(entities_only.item() + relations_only.item(), rel=1e-6)


def test_wrong_embedder_type_is_rejected():
    from allennlp.modules.token_embedders import Embedding

    model, _, _ = model_and_instances()
    with pytest.raises(ConfigurationError, match="pretrained_transformer"):
        SpertMT(model.vocab, Embedding(embedding_dim=4, num_embeddings=10))


@pytest.fixture(scope="module")
def fixture_model():
    model, _, _ = model_and_instances()
    return model


@pytest.mark.parametrize(
    "setting, message",
    [
        ({"pair_chunk_size": 0}, "pair_chunk_size must be at least 1, got 0"),
        ({"max_span_width": 0}, "max_span_width must be at least 1, got 0"),
        ({"width_embedding_dim": 0}, "width_embedding_dim must be at least 1, got 0"),
        ({"negative_entities": -1}, "negative_entities must be at least 0, got -1"),
        ({"negative_relations": -5}, "negative_relations must be at least 0, got -5"),
        ({"dropout": 1.0}, "dropout must be in [0, 1), got 1.0"),
        ({"dropout": -0.1}, "dropout must be in [0, 1), got -0.1"),
        ({"loss_reduction": "max"}, "loss_reduction must be 'mean' or 'sum', got 'max'"),
    ],
)
def test_out_of_range_settings_are_refused_at_construction(fixture_model, setting, message):
    with pytest.raises(ConfigurationError) as error:
        SpertMT(fixture_model.vocab, fixture_model._embedder, **setting)
    assert str(error.value) == message


def test_zero_negatives_and_one_pair_per_chunk_are_allowed():
    model, instances, _ = model_and_instances(negative_entities=0, negative_relations=0, pair_chunk_size=1)
    model.train()
    assert torch.isfinite(model(**batch_of(model, instances))["loss"])


def test_a_types_file_without_relation_types_is_refused_when_the_model_is_built(fixture_model, tmp_path):
    from spert_mt_plugin.vocabulary import TypesFileVocabulary

    types_file = tmp_path / "types.json"
    types_file.write_text(json.dumps({"entities": {"Person": {}}, "relations": {}}))
    vocab = TypesFileVocabulary.from_types_file(str(types_file))
    with pytest.raises(ConfigurationError, match=r"^SpERT.MT needs at least one relation type, .*'types_file'"):
        SpertMT(vocab, fixture_model._embedder)
