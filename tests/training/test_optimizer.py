import pytest
import torch
from allennlp.common import Params
from allennlp.common.checks import ConfigurationError
from allennlp.training.optimizers import Optimizer

from spert_mt_plugin.training.optimizer import SpertAdamW
from tests.conftest import model_and_instances


def test_fixture_model_gets_a_head_lr_group_selected_by_module_name():
    model, _, _ = model_and_instances()
    named = [(n, p) for n, p in model.named_parameters() if p.requires_grad]
    optimizer = Optimizer.from_params(
        model_parameters=named, params=Params({"type": "spert_adamw", "lr": 1e-3, "head_lr": 2e-2})
    )
    groups = {g["group_name"]: g for g in optimizer.param_groups}
    assert set(groups) == {"encoder", "encoder, no decay", "heads", "heads, no decay"}
    name_of = {id(p): n for n, p in named}
    for group_name, group in groups.items():
        names = [name_of[id(p)] for p in group["params"]]
        in_encoder = group_name.startswith("encoder")
        assert all(n.startswith("_embedder.") == in_encoder for n in names)
        assert group["lr"] == (1e-3 if in_encoder else 2e-2)
        decay_free = group_name.endswith("no decay")
        assert group["weight_decay"] == (0.0 if decay_free else 0.01)
        assert all(("bias" in n or "LayerNorm.weight" in n) == decay_free for n in names)
    heads = [name_of[id(p)] for p in groups["heads"]["params"]]
    assert "_width_embedding.weight" in heads
    assert "_entity_head.classification.weight" in heads and "_relation_head.classification.weight" in heads
    assert sum(len(g["params"]) for g in optimizer.param_groups) == len(named)


def test_without_head_lr_every_group_has_the_encoder_lr():
    model, _, _ = model_and_instances()
    optimizer = SpertAdamW(list(model.named_parameters()), lr=5e-5)
    assert {g["lr"] for g in optimizer.param_groups} == {5e-5}


@pytest.mark.parametrize("fused", [False, True])
@pytest.mark.parametrize("correct_bias", [False, True])
def test_steps_match_transformers_adamw(correct_bias, fused):
    transformers = pytest.importorskip("transformers")
    if not hasattr(transformers, "AdamW"):
        pytest.skip("this transformers release has no AdamW")

    def build():
        torch.manual_seed(0)
        return torch.nn.ModuleDict({"_embedder": torch.nn.Linear(4, 3), "head": torch.nn.Linear(3, 2)})

    ours, theirs = build(), build()
    optimizer = SpertAdamW(
        list(ours.named_parameters()), lr=1e-2, head_lr=1e-2, correct_bias=correct_bias, no_decay=["bias"], fused=fused
    )
    reference = transformers.AdamW(
        [
            {"params": [p for n, p in theirs.named_parameters() if "bias" not in n], "weight_decay": 0.01},
            {"params": [p for n, p in theirs.named_parameters() if "bias" in n], "weight_decay": 0.0},
        ],
        lr=1e-2,
        eps=1e-6,
        correct_bias=correct_bias,
    )
    torch.manual_seed(1)
    for _ in range(30):
        x = torch.randn(5, 4)
        for model, opt in ((ours, optimizer), (theirs, reference)):
            opt.zero_grad()
            model["head"](model["_embedder"](x)).pow(2).sum().backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(a, b, atol=2e-6)


@pytest.mark.parametrize("fused", [False, True])
def test_clipping_inside_the_step_matches_clip_grad_norm(fused):
    def build():
        torch.manual_seed(0)
        return torch.nn.ModuleDict({"_embedder": torch.nn.Linear(4, 3), "head": torch.nn.Linear(3, 2)})

    ours, theirs = build(), build()
    inside = SpertAdamW(list(ours.named_parameters()), lr=1e-2, head_lr=3e-2, fused=fused, max_grad_norm=0.5)
    outside = SpertAdamW(list(theirs.named_parameters()), lr=1e-2, head_lr=3e-2, fused=fused)
    torch.manual_seed(1)
    clipped = 0
    for step in range(30):
        # large inputs early (clipped), small ones late (under the norm: untouched)
        x = torch.randn(5, 4) * (10.0 if step < 15 else 0.01)
        for model, opt in ((ours, inside), (theirs, outside)):
            opt.zero_grad()
            model["head"](model["_embedder"](x)).pow(2).sum().backward()
            if opt is outside:
                clipped += float(torch.nn.utils.clip_grad_norm_(model.parameters(), 0.5)) > 0.5
            opt.step()
    assert 0 < clipped < 30
    for a, b in zip(ours.parameters(), theirs.parameters()):
        assert torch.allclose(a, b, atol=1e-6)


def test_max_grad_norm_must_be_positive():
    with pytest.raises(ConfigurationError, match="max_grad_norm must be positive"):
        SpertAdamW([("w", torch.nn.Parameter(torch.zeros(2)))], max_grad_norm=0.0)
