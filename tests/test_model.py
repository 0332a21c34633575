import json
import os

import pytest
import torch
from allennlp.common.testing import ModelTestCase
from allennlp.data import Batch
from allennlp.data.data_loaders import SimpleDataLoader

from spert_mt_plugin.models.decoding import merge_symmetric_relations, ranking_decision, softmax_decision
from spert_mt_plugin.models.spert_mt import SpertMT, sample_up_to
from tests.conftest import FIXTURES, PROJECT_ROOT

CONFIG = str(FIXTURES / "experiment.jsonnet")
SENTENCES = str(FIXTURES / "data" / "sentences.json")
# BertModel's pooler is not used by span extraction.
POOLER = {
    "_embedder.transformer_model.pooler.dense.weight",
    "_embedder.transformer_model.pooler.dense.bias",
}
ABLATIONS = {
    "full": {},
    "no_mtl": {"multitask": False},
    "no_eil": {"iou_scaled_identification": False},
    "no_entity_logits": {"entity_logits": False},
    "spert": {"multitask": False, "iou_scaled_identification": False, "entity_logits": False},
}


class SpertMTTest(ModelTestCase):
    def setup_method(self):
        super().setup_method()
        os.chdir(PROJECT_ROOT)
        self.set_up_model(CONFIG, SENTENCES, seed=1)

    @pytest.mark.parametrize("variant", list(ABLATIONS))
    def test_model_can_train_save_and_load(self, variant, monkeypatch):
        monkeypatch.setenv("SPERT_TEST_MODEL_SWITCHES", json.dumps(ABLATIONS[variant]))
        self.set_up_model(CONFIG, SENTENCES, seed=1)
        model = self.model
        assert model._multitask == ABLATIONS[variant].get("multitask", True)
        assert model._entity_logits == ABLATIONS[variant].get("entity_logits", True)
        self.ensure_model_can_train_save_and_load(self.param_file, gradients_to_ignore=POOLER, seed=1)

    def test_batch_predictions_match_single_predictions(self):
        # Padding (spans, entities, word pieces) must not change any sentence's result.
        self.model.eval()
        self.ensure_batch_predictions_are_consistent(keys_to_ignore=("loss",))

    def test_the_spert_config_has_the_baseline_heads(self, monkeypatch):
        monkeypatch.setenv("SPERT_TEST_MODEL_SWITCHES", json.dumps(ABLATIONS["spert"]))
        self.set_up_model(CONFIG, SENTENCES)
        # softmax over 3 entity types + NA, relation input without entity logits
        assert self.model._entity_head.classification.out_features == 4
        assert not hasattr(self.model._entity_head, "identification")
        hidden, width = 16, 8
        assert self.model._relation_head.classification.in_features == 3 * hidden + 2 * width


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
    test_case = ModelTestCase()
    test_case.set_up_model(CONFIG, SENTENCES, seed=3)
    metrics = train(test_case.model, test_case.instances, steps=80)
    assert metrics["ner_f1"] >= 0.9
    assert metrics["rel_f1"] >= 0.8
    assert metrics["rel_strict_f1"] >= 0.8


def model_and_instances(**model_overrides):
    """A fresh (untrained) model of the fixture config, with `model_overrides`, its instances and reader."""
    from allennlp.common import Params
    from allennlp.data import DatasetReader
    from allennlp.models import Model

    test_case = ModelTestCase()
    test_case.set_up_model(CONFIG, SENTENCES, seed=2)
    params = Params.from_file(CONFIG)
    reader = DatasetReader.from_params(params["dataset_reader"])
    model_params = params["model"]
    model_params.params.update(model_overrides)
    torch.manual_seed(2)
    model = Model.from_params(vocab=test_case.vocab, params=model_params)
    return model, test_case.instances, reader


def test_a_1000_word_sentence_is_folded_by_the_encoder():
    # The tiny encoder has 64 positions: 1000 words need 17 windows.
    model, _, reader = model_and_instances()
    words = ["Ada", "Lovelace", "works", "for", "Acme", "Corp", "in", "Paris", "."] * 111 + ["Oslo"]
    instance = reader.text_to_instance(words, [(0, 2, "Person"), (995, 997, "Person")], [(0, 1, "Works_For")])
    batch = Batch([instance])
    batch.index_instances(model.vocab)
    tensors = batch.as_tensor_dict()
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


def test_decoding_threshold_rule():
    scores = torch.tensor([[0.9, 0.1, -1.0], [0.5, 0.84, 0.2], [0.85, 2.0, 1.0]])
    classes, best = ranking_decision(scores, threshold=0.85)
    assert classes.tolist() == [0, -1, 1]  # 0.84 < theta -> NA; ties to theta are kept
    assert best.tolist() == pytest.approx([0.9, 0.84, 2.0])


def test_softmax_decoding_picks_na_when_it_wins():
    logits = torch.tensor([[3.0, 1.0, 0.0, 0.0], [0.0, 0.5, 4.0, 0.0]])  # column 0 is NA
    classes, probability = softmax_decision(logits)
    assert classes.tolist() == [-1, 1]
    assert probability[1].item() == pytest.approx(logits[1].softmax(-1)[2].item())


def test_spert_relation_head_predicts_every_type_that_reaches_the_threshold():
    # SpERT's heads: every span of width 1 is a Person (softmax), and the relation logits of
    # every pair are fixed by the bias alone: sigmoid(0.5) = 0.62 and sigmoid(-0.4) = 0.40 pass
    # 0.4, sigmoid(-0.5) = 0.38 does not.
    model, instances, _ = model_and_instances(
        multitask=False, iou_scaled_identification=False, entity_logits=False
    )
    vocab = model.vocab
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
    assert model._relation_types == ["Works_For", "Located_In", "Married_To"]
    batch = Batch(instances[:1])
    batch.index_instances(vocab)
    model.eval()
    with torch.no_grad():
        output = model(**batch.as_tensor_dict())
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


def test_reverse_of_a_symmetric_relation_is_never_a_negative_and_symmetric_gold_is_in_text_order():
    model, _, _ = model_and_instances()
    model.train()
    married = model._relation_types.index("Married_To")
    works = model._relation_types.index("Works_For")
    # Entities at words 0, 4 and 7; Married_To written tail-first (1 -> 0), Works_For 0 -> 2.
    entity_spans = torch.tensor([[[0, 0], [4, 4], [7, 7], [-1, -1]]])
    relations = torch.full((1, 4, 4), -1.0)
    relations[0, 1, 0] = married
    relations[0, 0, 2] = works
    labels, selected = model._training_pairs(entity_spans, relations)
    assert labels[0, 0, 1].item() == married and labels[0, 1, 0].item() == -1
    assert labels[0, 0, 2].item() == works
    chosen = {tuple(p) for p in selected[0].nonzero().tolist()}
    # Every distinct pair of real entities except (1, 0), the reverse of the symmetric relation;
    # the reverse of a non-symmetric relation (2, 0) stays a negative.
    assert chosen == {(0, 1), (0, 2), (1, 2), (2, 0), (2, 1)}


def test_width_embedding_and_heads_start_small():
    model, _, _ = model_and_instances(head={"init_std": 0.02, "class_bias": True})
    assert model._width_embedding.weight.std().item() < 0.05
    assert model._entity_head.classification.bias is not None
    assert model._entity_head.classification.bias.abs().sum().item() == 0.0
    model, _, _ = model_and_instances(head={"init_std": 0.5})
    assert model._width_embedding.weight.std().item() > 0.2
    assert model._relation_head.classification.bias is None


def test_iou_scaled_identification_without_multitask_warns(caplog):
    with caplog.at_level("WARNING", logger="spert_mt_plugin.models.spert_mt"):
        model_and_instances(multitask=False)
    assert "iou_scaled_identification has no effect without multitask" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="spert_mt_plugin.models.spert_mt"):
        model_and_instances(multitask=False, iou_scaled_identification=False)
    assert "no effect" not in caplog.text


def test_symmetric_relations_are_merged_keeping_the_better_direction():
    relations = [
        {"head": 0, "tail": 1, "type": "Married_To", "score": 1.0},
        {"head": 1, "tail": 0, "type": "Married_To", "score": 2.0},
        {"head": 0, "tail": 2, "type": "Works_For", "score": 1.0},
        {"head": 2, "tail": 0, "type": "Works_For", "score": 1.5},
    ]
    merged = merge_symmetric_relations(relations, {"Married_To"})
    assert merged == [relations[2], relations[3], relations[1]]


def test_pair_chunking_does_not_change_predictions():
    model, instances, _ = model_and_instances(entity_threshold=-100.0, relation_threshold=-100.0)
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    tensors = batch.as_tensor_dict()
    model.eval()
    with torch.no_grad():
        whole = model(**tensors)
        model._pair_chunk_size = 7
        chunked = model(**tensors)
    assert sum(len(r) for r in whole["relations"]) > 7
    for a, b in zip(whole["relations"], chunked["relations"]):
        assert [(r["head"], r["tail"], r["type"]) for r in a] == [(r["head"], r["tail"], r["type"]) for r in b]
        assert [r["score"] for r in a] == pytest.approx([r["score"] for r in b], abs=1e-5)


def test_negative_sampling_keeps_at_most_the_limit_and_only_candidates():
    torch.manual_seed(0)
    candidates = torch.tensor([[True] * 10 + [False] * 5, [True, False] * 7 + [True]])
    chosen = sample_up_to(candidates, 4)
    assert chosen.sum(dim=1).tolist() == [4, 4]
    assert not (chosen & ~candidates).any()
    assert sample_up_to(candidates, 100).equal(candidates)
    # A new draw each call (each epoch).
    assert not all(sample_up_to(candidates, 4).equal(chosen) for _ in range(5))


def test_entity_loss_by_hand_with_and_without_negatives():
    import math

    model, _, _ = model_and_instances()
    model.train()
    vocab = model.vocab
    person = vocab.get_token_index("Person", "entity_labels")
    na = vocab.get_token_index("NA", "entity_labels")
    identification = torch.zeros(1, 3)  # p = 0.5 everywhere
    scores = torch.tensor([[[3.0, 1.0, -1.0], [0.2, -0.5, 0.1], [-1.0, -1.0, -1.0]]])
    labels = torch.tensor([[person, na, na]])
    mask = torch.ones(1, 3, dtype=torch.bool)
    max_iou = torch.tensor([[1.0, 0.5, 0.0]])
    ln2 = math.log(2)
    softplus = lambda x: math.log1p(math.exp(x))  # noqa: E731
    positive = 0.75 * ln2 + softplus(2 * (2.5 - 3.0)) + softplus(2 * (0.5 + 1.0))
    hard_negative = 0.25 * 1.5 * ln2 + softplus(2 * (0.5 + 0.2))
    easy_negative = 0.25 * 1.0 * ln2 + softplus(2 * (0.5 - 1.0))

    classes = model._entity_vocab_to_class[labels]
    only_positive = classes >= 0
    loss = model._entity_loss_over(identification, scores, classes, only_positive, max_iou)
    assert loss.item() == pytest.approx(positive, abs=1e-5)

    loss = model._entity_loss_over(identification, scores, classes, mask, max_iou)
    assert loss.item() == pytest.approx((positive + hard_negative + easy_negative) / 3, abs=1e-5)

    model._loss_reduction = "sum"
    loss = model._entity_loss_over(identification, scores, classes, mask, max_iou)
    assert loss.item() == pytest.approx(positive + hard_negative + easy_negative, abs=1e-5)

    # -EIL: plain BCE, the same for hard and easy negatives
    model._iou_scaled = False
    loss = model._entity_loss_over(identification, scores, classes, mask, max_iou)
    plain = 3 * ln2 + softplus(-1.0) + softplus(3.0) + softplus(1.4) + softplus(-1.0)
    assert loss.item() == pytest.approx(plain, abs=1e-5)


@pytest.mark.parametrize("variant", ["full", "spert"])
def test_training_scores_only_the_sampled_candidates_with_the_same_loss(variant):
    """
    In training only the positives and the sampled negatives go through the heads, packed. With
    every negative kept and no dropout (the fixture), that must give the loss of scoring every
    candidate (the validation path).
    """
    model, instances, _ = model_and_instances(**ABLATIONS[variant])
    model._negative_entities = model._negative_relations = 10**6
    batch = Batch(instances)
    batch.index_instances(model.vocab)
    tensors = batch.as_tensor_dict()
    model.train()
    packed = model(**tensors)["loss"]
    model.eval()
    with torch.no_grad():
        every = model(**tensors)["loss"]
    assert packed.item() == pytest.approx(every.item(), rel=1e-5)
    # With few negatives the packed rows are shorter than the candidate list: a smaller sum.
    model.train()
    model._loss_reduction = "sum"
    every_negative = model(**tensors)["loss"].item()
    model._negative_entities = 2
    assert model(**tensors)["loss"].item() < every_negative


def test_wrong_embedder_type_is_rejected():
    from allennlp.modules.token_embedders import Embedding

    model, _, _ = model_and_instances()
    with pytest.raises(ValueError, match="pretrained_transformer"):
        SpertMT(model.vocab, Embedding(embedding_dim=4, num_embeddings=10))
