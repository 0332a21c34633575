import io
import json
import random
from types import SimpleNamespace
from typing import List, Tuple

import numpy
import pytest
import torch
from allennlp.data import DataLoader

from spert_mt_plugin.training.random_state import RandomStateCallback, generator_states, set_generator_states

# Any seed: the interrupted and the resumed loop are seeded alike, as AllenNLP seeds a resumed run.
SEED = 13


def draws() -> List[float]:
    """One number from each generator (as negative sampling, dropout and shuffling draw)."""
    return [random.random(), float(numpy.random.rand()), torch.rand(1).item()]


def seed_all(seed: int) -> None:
    random.seed(seed)
    numpy.random.seed(seed)
    torch.manual_seed(seed)


def through_a_checkpoint_file(state):
    """`state` saved and loaded back as AllenNLP loads its checkpoints (torch.load, weights only)."""
    buffer = io.BytesIO()
    torch.save(state, buffer)
    buffer.seek(0)
    return torch.load(buffer)


def test_reading_the_states_draws_nothing_and_restoring_them_repeats_the_draws():
    seed_all(5)
    states = generator_states()
    first = draws()
    seed_all(5)
    generator_states()
    assert draws() == first
    draws()
    set_generator_states(through_a_checkpoint_file(states))
    assert draws() == first


class ShuffledNumbers(DataLoader):
    """Six one-number batches in an order Python's generator shuffles anew at every pass, as AllenNLP's loader does."""

    def __len__(self) -> int:
        return 6

    def __iter__(self):
        order = list(range(6))
        random.shuffle(order)
        for number in order:
            yield {"number": number}


def train_and_checkpoint(epochs: int, checkpoint_at: Tuple[int, int]):
    """
    A trainer's use of the generators: per batch the batch and three draws, per epoch one more
    draw (validation). Returns the record of every epoch and the callback's state at
    `checkpoint_at` (epoch, batches done in it; batches 0: at the end of the previous epoch).
    """
    seed_all(SEED)
    callback = RandomStateCallback("unused")
    trainer = SimpleNamespace(data_loader=ShuffledNumbers())
    callback.on_start(trainer)
    record, state = [], None
    for epoch in range(epochs):
        if checkpoint_at == (epoch, 0):
            state = through_a_checkpoint_file(callback.state_dict())
        epoch_record = []
        for done, batch in enumerate(trainer.data_loader, start=1):
            epoch_record.append((batch["number"], draws()))
            if checkpoint_at == (epoch, done):
                state = through_a_checkpoint_file(callback.state_dict())
        epoch_record.append(draws())
        callback.on_epoch(trainer, {}, epoch)
        record.append(epoch_record)
    if checkpoint_at == (epochs, 0):
        state = through_a_checkpoint_file(callback.state_dict())
    return record, state


def resume(epochs: int, state, checkpoint_at: Tuple[int, int]):
    """As AllenNLP resumes: the same seeds, then the epochs done passed over without training, then training."""
    seed_all(SEED)
    # Another start than the interrupted run's: the restored states must be all that counts.
    draws()
    callback = RandomStateCallback("unused")
    callback.load_state_dict(state)
    trainer = SimpleNamespace(data_loader=ShuffledNumbers())
    callback.on_start(trainer)
    record = []
    for epoch in range(epochs):
        epoch_record = []
        for done, batch in enumerate(trainer.data_loader, start=1):
            if (epoch, done) <= checkpoint_at:
                continue
            epoch_record.append((batch["number"], draws()))
        if epoch >= checkpoint_at[0]:
            epoch_record.append(draws())
            callback.on_epoch(trainer, {}, epoch)
        record.append(epoch_record)
    return record


@pytest.mark.parametrize("checkpoint_at", [(2, 0), (2, 3), (3, 6)], ids=["epoch end", "inside", "last batch"])
def test_a_resumed_loop_draws_what_the_uninterrupted_one_drew(checkpoint_at):
    original, state = train_and_checkpoint(5, checkpoint_at)
    resumed = resume(5, state, checkpoint_at)
    epoch, done = checkpoint_at
    assert resumed[epoch + 1 :] == original[epoch + 1 :]
    assert resumed[epoch] == original[epoch][done:]


def test_a_run_resumed_after_its_last_epoch_reports_that_epoch_and_tests_with_its_generators(tmp_path):
    # It trains nothing, so AllenNLP's final metrics would hold the best epoch's figures only.
    _, state = train_and_checkpoint(3, (3, 0))
    after_training = draws()
    (tmp_path / "metrics_epoch_2.json").write_text(json.dumps({"epoch": 2, "training_loss": 0.5, "best_epoch": 1}))
    callback = RandomStateCallback(str(tmp_path))
    callback.load_state_dict(state)
    trainer = SimpleNamespace(data_loader=ShuffledNumbers())
    callback.on_start(trainer)
    for _ in range(3):
        list(trainer.data_loader)
    metrics = {"best_epoch": 1, "best_validation_loss": 0.25}
    callback.on_end(trainer, metrics=metrics)
    assert metrics == {"best_epoch": 1, "best_validation_loss": 0.25, "epoch": 2, "training_loss": 0.5}
    assert draws() == after_training
