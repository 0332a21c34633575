from types import SimpleNamespace

import pytest
import torch
from allennlp.training.trainer import TrainerCheckpoint

from spert_mt_plugin.training.checkpointer import AtomicCheckpointer


def save(checkpointer: AtomicCheckpointer, epochs: int, is_best: bool, weight: float) -> None:
    trainer_state = {
        "epochs_completed": epochs,
        "batches_in_epoch_completed": 0,
        "metric_tracker": {"is_best_so_far": is_best},
        "best_model_filename": None,
    }
    trainer = SimpleNamespace(
        get_checkpoint_state=lambda: TrainerCheckpoint({"w": torch.tensor(weight)}, trainer_state)
    )
    checkpointer.save_checkpoint(trainer)


def test_the_checkpointer_keeps_allennlps_files_and_leaves_no_partial_one(tmp_path):
    checkpointer = AtomicCheckpointer(tmp_path, keep_most_recent_by_count=2)
    for epochs in (1, 2, 3):
        save(checkpointer, epochs, True, float(epochs))
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "model_state_e2_b0.th",
        "model_state_e3_b0.th",
        "training_state_e2_b0.th",
        "training_state_e3_b0.th",
    ]
    model_state, training_state = checkpointer.load_checkpoint()
    assert model_state["w"].item() == 3.0 and training_state["epochs_completed"] == 3


@pytest.mark.parametrize("best_file", ["stale", "missing"])
def test_a_resumed_best_epoch_has_its_weights_in_best_th(tmp_path, best_file):
    # A kill between the checkpoint of a best epoch and the trainer's update of best.th leaves the
    # older best weights there, or (inside the trainer's remove-then-link) none.
    checkpointer = AtomicCheckpointer(tmp_path)
    save(checkpointer, 1, True, 1.0)
    save(checkpointer, 2, True, 2.0)
    if best_file == "stale":
        torch.save({"w": torch.tensor(1.0)}, tmp_path / "best.th")
    _, training_state = AtomicCheckpointer(tmp_path).load_checkpoint()
    assert torch.load(tmp_path / "best.th")["w"].item() == 2.0
    assert training_state["best_model_filename"] == str(tmp_path / "best.th")


def test_best_th_is_left_alone_after_an_epoch_that_was_not_the_best(tmp_path):
    checkpointer = AtomicCheckpointer(tmp_path)
    save(checkpointer, 1, True, 1.0)
    torch.save({"w": torch.tensor(1.0)}, tmp_path / "best.th")
    save(checkpointer, 2, False, 2.0)
    AtomicCheckpointer(tmp_path).load_checkpoint()
    assert torch.load(tmp_path / "best.th")["w"].item() == 1.0
