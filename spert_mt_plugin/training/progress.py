"""One line per epoch on the console: which run, which epoch, how long the rest of the run will take."""

import sys
import time
from typing import Any, Dict, Optional

from allennlp.training.callbacks import TrainerCallback


@TrainerCallback.register("spert_progress")
class ProgressCallback(TrainerCallback):
    """
    Prints `[spert-experiments] LABEL: epoch 3/20 (1.9 min/epoch), run ETA 32 min` to stderr at the
    end of every epoch. `spert-experiments` adds it to every run it trains.

    Registered as a `TrainerCallback` with name "spert_progress".

    # Parameters

    label : `str`, optional (default = `""`)
        Names the run in the lines. It is part of the run's saved config, so it must not change
        when the run is resumed: `spert-experiments` passes the run's name (config, fold, seed).
    num_epochs : `int`, optional (default = `None`)
        The run's number of epochs (the trainer's `num_epochs`), for the ETA; without it the lines
        give the epoch and its duration only.
    """

    def __init__(self, serialization_dir: str, label: str = "", num_epochs: Optional[int] = None, **kwargs) -> None:
        super().__init__(serialization_dir)
        self.label = label
        self.num_epochs = num_epochs
        self._start = time.time()
        # The first epoch this process trains: a resumed run starts after its checkpoint's epoch.
        self._first_epoch: Optional[int] = None

    def on_epoch(self, trainer, metrics: Dict[str, Any], epoch: int, is_primary: bool = True, **kwargs) -> None:
        if not is_primary or epoch < 0:
            return
        if self._first_epoch is None:
            self._first_epoch = epoch
        print(self.line(epoch, time.time() - self._start), file=sys.stderr, flush=True)

    def line(self, epoch: int, elapsed: float) -> str:
        """The progress line after `epoch` (0-based) has ended, `elapsed` seconds into this process."""
        done = epoch + 1
        first = self._first_epoch if self._first_epoch is not None else epoch
        per_epoch = elapsed / (epoch - first + 1)
        if self.num_epochs is None:
            return f"[spert-experiments] {self.label}: epoch {done} ({per_epoch / 60:.1f} min/epoch)"
        left = per_epoch * (self.num_epochs - done)
        return (
            f"[spert-experiments] {self.label}: epoch {done}/{self.num_epochs} "
            f"({per_epoch / 60:.1f} min/epoch), run ETA {left / 60:.0f} min"
        )
