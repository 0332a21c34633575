"""
A checkpointer that a kill at any moment cannot leave with a checkpoint the run cannot resume from.
"""

import logging
import os
from pathlib import Path
from typing import Any, Dict, Optional

import torch
from allennlp.training.checkpointer import Checkpointer
from allennlp.training.trainer import Trainer, TrainerCheckpoint

from spert_mt_plugin.formats.atomic import atomic_open, copy_file, partial_path

logger = logging.getLogger(__name__)

BEST_WEIGHTS = "best.th"


@Checkpointer.register("spert_atomic")
class AtomicCheckpointer(Checkpointer):
    """
    AllenNLP's checkpointer (same files, same parameters, same choice of the checkpoints it keeps),
    made safe against a kill at any moment of a save:

    - each file of a checkpoint is written atomically (`formats.atomic`: a temporary file renamed
      over the target), the training state first and the model state last: AllenNLP finds
      checkpoints by their model state, so one on disk means a complete checkpoint;
    - the best epoch's weights (`best.th`), which the trainer replaces after the checkpoint (by
      removing the file, then linking the new one), are set right again when the run resumes: if
      the checkpoint's epoch was the best so far, `best.th` must be its model state, and a kill
      between the checkpoint and the trainer's update would otherwise leave the older weights or
      none.

    AllenNLP's own checkpointer writes the files in place: a kill while it writes leaves a torn
    training state that `--recover` fails on, and a kill just after it leaves a stale `best.th`
    that the finished run tests instead of its best epoch.

    Registered as a `Checkpointer` with name "spert_atomic"; takes the parameters of AllenNLP's.
    """

    def save_checkpoint(self, trainer: Trainer) -> None:
        if self._serialization_dir is None:
            return
        checkpoint = trainer.get_checkpoint_state()
        if checkpoint is None:
            # a worker other than the primary in distributed training: the primary saves
            return
        epochs = checkpoint.trainer_state["epochs_completed"]
        batches = checkpoint.trainer_state["batches_in_epoch_completed"]
        with atomic_open(self._training_state_path(epochs, batches), "wb") as handle:
            torch.save(checkpoint.trainer_state, handle)
        with atomic_open(self._model_state_path(epochs, batches), "wb") as handle:
            torch.save(checkpoint.model_state, handle)
        # The base class writes only files that do not exist yet: with both in place it records the
        # save and removes the checkpoints it no longer keeps.
        super().save_checkpoint(trainer)

    def load_checkpoint(self) -> Optional[TrainerCheckpoint]:
        checkpoint = super().load_checkpoint()
        if checkpoint is not None:
            self.restore_best_weights(checkpoint.trainer_state)
        return checkpoint

    def restore_best_weights(self, training_state: Dict[str, Any]) -> None:
        """After the checkpoint of a best epoch, `best.th` is that checkpoint's model state, as the trainer makes it."""
        if (
            training_state["batches_in_epoch_completed"] != 0
            or not training_state["metric_tracker"]["is_best_so_far"]
            # With these the trainer saves other weights than the checkpoint's as the best ones. (It
            # also skips `best.th` in an epoch without validation, which only AllenNLP's
            # should_validate_callback brings about; none of the shipped configs uses it.)
            or self.state_is_sharded
            or "moving_average" in training_state
        ):
            return
        latest = self.find_latest_checkpoint()
        if latest is None:
            return
        model_state, _ = latest
        best = os.path.join(self._serialization_dir, BEST_WEIGHTS)
        link = partial_path(Path(best))
        try:
            os.link(model_state, link)
        except OSError:
            # a file system without hard links: a copy, as the trainer's `hardlink_or_copy` makes
            copy_file(model_state, best)
        else:
            os.replace(link, best)
        training_state["best_model_filename"] = best
        logger.info(f"{best}: the weights of the checkpoint resumed from, its epoch being the best so far.")
