import pytest
import torch

from spert_mt_plugin.training import LinearWarmupFraction


def test_warmup_is_a_fraction_of_all_steps_then_linear_decay_to_zero():
    parameter = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.SGD([parameter], lr=1.0)
    # 4 epochs x 5 steps = 20 steps; 10 % warm-up = 2 steps
    scheduler = LinearWarmupFraction(optimizer, num_epochs=4, num_steps_per_epoch=5, warmup_fraction=0.1)
    rates = []
    for step in range(20):
        rates.append(optimizer.param_groups[0]["lr"])
        scheduler.step_batch(step + 1)
    assert rates[:3] == pytest.approx([0.0, 0.5, 1.0])
    # then linear decay from 1.0 at step 2 to 0.0 at step 20
    assert rates[11] == pytest.approx(0.5)
    assert rates[19] == pytest.approx(1 / 18)
