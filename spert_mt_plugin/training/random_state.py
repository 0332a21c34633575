"""
Exact resume: the random number generators travel with every checkpoint.

AllenNLP's checkpoints keep the weights, the optimizer, the schedulers and the callbacks' states,
but not the generators, so a resumed run would draw other negative samples, other dropout masks
and another batch order than the run it continues. `RandomStateCallback` puts the generators'
states into each checkpoint (as its callback state, which AllenNLP saves in the checkpoint's
training state, so the two always belong together) and puts them back when the run resumes.

When they are put back matters. AllenNLP resumes by passing over the data of every epoch already
done without training on it (its shuffles draw from Python's generator), and offers no hook
between that replay and the first batch of the resumed epoch; the callbacks' `on_start` runs
before the replay. So the callback looks at the trainer's data loader through `ResumingDataLoader`,
which restores the states when the resumed epoch's pass over the data begins, before its shuffle,
and, for a checkpoint taken inside an epoch, again before the batch the run stopped at.
"""

import json
import logging
import os
import random
from typing import Any, Dict, Iterator, List, Optional, Tuple

import numpy
import torch
import torch.distributed as dist
from allennlp.common.util import is_distributed
from allennlp.data import DataLoader, Instance, TensorDict, Vocabulary
from allennlp.training.callbacks import TrainerCallback

logger = logging.getLogger(__name__)

STATE_VERSION = 1


def generator_states() -> Dict[str, Any]:
    """
    The states of Python's, NumPy's and torch's generators (CPU, and every GPU once CUDA is in use).
    Reading them draws no random number.
    """
    name, keys, position, has_gauss, cached_gaussian = numpy.random.get_state()
    states: Dict[str, Any] = {
        "python": random.getstate(),
        # Plain values: AllenNLP loads checkpoints with torch.load's weights-only unpickler, which
        # refuses NumPy arrays.
        "numpy": [name, keys.tolist(), int(position), int(has_gauss), float(cached_gaussian)],
        "torch": torch.get_rng_state(),
    }
    # An uninitialised CUDA has drawn nothing, and reading its state would initialise it in CPU runs.
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        states["cuda"] = torch.cuda.get_rng_state_all()
    return states


def set_generator_states(states: Dict[str, Any]) -> None:
    """Puts back the states `generator_states` returned."""
    version, internal_state, gauss_next = states["python"]
    random.setstate((version, tuple(internal_state), gauss_next))
    name, keys, position, has_gauss, cached_gaussian = states["numpy"]
    numpy.random.set_state((name, numpy.asarray(keys, dtype=numpy.uint32), position, has_gauss, cached_gaussian))
    torch.set_rng_state(states["torch"])
    cuda_states = states.get("cuda")
    if cuda_states is None:
        return
    if torch.cuda.is_available() and torch.cuda.device_count() == len(cuda_states):
        torch.cuda.set_rng_state_all(cuda_states)
    else:
        gpus = torch.cuda.device_count() if torch.cuda.is_available() else 0
        logger.warning(
            f"The checkpoint holds the generator states of {len(cuda_states)} GPU(s), this machine has {gpus}: "
            "the GPUs' generators start afresh, so the resumed run is not exactly the interrupted one."
        )


class ResumingDataLoader(DataLoader):
    """
    The trainer's data loader, unchanged, seen by a `RandomStateCallback`: it counts the passes over
    the data (one per epoch) and the batches drawn in the current one, keeps the generators' states
    at the start of each pass, and at the pass given by `resume` puts back the states of the
    checkpoint the run resumes from.

    # Parameters

    data_loader : `DataLoader`
        The trainer's data loader.
    resume : `Dict[str, Any]`, optional (default = `None`)
        Where and what to restore: `pass` (0-based pass, i.e. epoch), `batches` (batches of that
        pass the checkpoint had drawn), `pass_start` (the states at the start of that pass) and
        `now` (the states at the checkpoint; `None` when `batches` is 0).
    """

    def __init__(self, data_loader: DataLoader, resume: Optional[Dict[str, Any]] = None) -> None:
        self.data_loader = data_loader
        self.resume = resume
        self.passes_begun = 0
        self.batches_drawn = 0
        self.pass_finished = False
        self.pass_start_states: Optional[Dict[str, Any]] = None

    def __len__(self) -> int:
        return len(self.data_loader)

    def __iter__(self) -> Iterator[TensorDict]:
        resume = self.resume if self.resume is not None and self.resume["pass"] == self.passes_begun else None
        self.passes_begun += 1
        self.batches_drawn = 0
        self.pass_finished = False
        if resume is not None:
            self.resume = None
            set_generator_states(resume["pass_start"])
        self.pass_start_states = generator_states()
        batches = iter(self.data_loader)
        while True:
            # Before drawing the batch the interrupted run would have drawn next: drawing a batch can
            # use the generators too.
            if resume is not None and resume["now"] is not None and self.batches_drawn == resume["batches"]:
                set_generator_states(resume["now"])
            try:
                batch = next(batches)
            except StopIteration:
                break
            self.batches_drawn += 1
            yield batch
        self.pass_finished = True

    def end_pass(self) -> None:
        """The epoch has ended, even if its pass stopped early (distributed workers stop when one runs out of data)."""
        self.pass_finished = True

    def position(self) -> Tuple[int, int]:
        """(pass, batches): the pass the run is in or starts next, and how many of its batches it has drawn."""
        if self.passes_begun == 0 or self.pass_finished:
            return self.passes_begun, 0
        return self.passes_begun - 1, self.batches_drawn

    def states(self) -> Dict[str, Any]:
        """This process's generator states for a checkpoint now: `pass_start` and `now`, as `resume` takes them."""
        _, batches = self.position()
        if batches == 0:
            return {"pass_start": generator_states(), "now": None}
        return {"pass_start": self.pass_start_states, "now": generator_states()}

    def finish_resume(self) -> None:
        """Restores the states of a checkpoint whose pass never began (a run stopped after its last epoch)."""
        if self.resume is not None:
            set_generator_states(self.resume["pass_start"])
            self.resume = None

    def iter_instances(self) -> Iterator[Instance]:
        return self.data_loader.iter_instances()

    def index_with(self, vocab: Vocabulary) -> None:
        self.data_loader.index_with(vocab)

    def set_target_device(self, device: torch.device) -> None:
        self.data_loader.set_target_device(device)


@TrainerCallback.register("spert_random_state")
class RandomStateCallback(TrainerCallback):
    """
    Saves the states of Python's, NumPy's and torch's (CPU and CUDA) random number generators with
    every checkpoint, and where the data loader stands in its epoch, and restores them when the run
    resumes (`allennlp train --recover`, `spert-experiments`), so that a resumed run draws the same
    numbers as an uninterrupted one: same batches, negative samples and dropout masks, same metrics.
    The shipped configs use it. See the module for when the states are restored.

    Checkpoints at epoch ends (AllenNLP's default) resume exactly, in one process or several
    (distributed training: every worker's states are gathered at each epoch end). Checkpoints
    inside an epoch (the checkpointer's `save_every_num_batches`) resume exactly in one process; in
    distributed training only the primary worker's states are known there, and the other workers
    resume with their states of the epoch's start (a warning says so).

    Registered as a `TrainerCallback` with name "spert_random_state".
    """

    def __init__(self, serialization_dir: str, **kwargs) -> None:
        super().__init__(serialization_dir)
        self.data_loader: Optional[ResumingDataLoader] = None
        self.checkpoint_state: Optional[Dict[str, Any]] = None
        # Distributed training: every worker's states at the last epoch end, with their position.
        self.gathered: Optional[Tuple[Tuple[int, int], List[Optional[Dict[str, Any]]]]] = None

    def on_start(self, trainer, is_primary: bool = True, **kwargs) -> None:
        super().on_start(trainer, is_primary=is_primary, **kwargs)
        resume = None if self.checkpoint_state is None else self.resume_point(self.checkpoint_state)
        self.data_loader = ResumingDataLoader(trainer.data_loader, resume)
        # The trainer's public attribute; AllenNLP has no hook between its replay of the epochs done
        # and the resumed epoch's first batch, and its data loader is where that moment shows.
        trainer.data_loader = self.data_loader

    def on_epoch(self, trainer, metrics: Dict[str, Any], epoch: int, is_primary: bool = True, **kwargs) -> None:
        if self.data_loader is None:
            return
        self.data_loader.end_pass()
        # Nothing draws a random number between here and the epoch's checkpoint; the gathering is
        # collective, so every worker takes part, while only the primary saves the list.
        if not is_distributed():
            return
        workers: List[Optional[Dict[str, Any]]] = [None] * dist.get_world_size()
        dist.all_gather_object(workers, self.data_loader.states())
        self.gathered = (self.data_loader.position(), workers)

    def on_end(self, trainer, metrics: Dict[str, Any] = None, epoch: int = None, is_primary: bool = True, **kwargs):
        if self.data_loader is None or self.data_loader.resume is None:
            return
        # A run recovered from the checkpoint of its last epoch trains nothing: it replays the epochs
        # and goes on to the test set, with the generators as they were after that epoch.
        epochs_done = self.data_loader.resume["pass"]
        self.data_loader.finish_resume()
        # Its metrics (the dict the trainer returns, which the train command completes with the test
        # figures and saves) have only the best epoch's figures: the last epoch's are in its file.
        last_epoch = os.path.join(self.serialization_dir, f"metrics_epoch_{epochs_done - 1}.json")
        if metrics is not None and is_primary and os.path.exists(last_epoch):
            with open(last_epoch) as file:
                for key, value in json.load(file).items():
                    metrics.setdefault(key, value)

    def state_dict(self) -> Dict[str, Any]:
        if self.data_loader is None:
            return {}
        pass_index, batches = self.data_loader.position()
        workers: List[Optional[Dict[str, Any]]] = [None] * (dist.get_world_size() if is_distributed() else 1)
        if self.gathered is not None and self.gathered[0] == (pass_index, 0):
            # Every worker's states at the end of the last epoch: those of this pass's start.
            workers = [None if w is None else {"pass_start": w["pass_start"], "now": None} for w in self.gathered[1]]
        workers[rank()] = self.data_loader.states()
        return {"version": STATE_VERSION, "pass": pass_index, "batches": batches, "workers": workers}

    def load_state_dict(self, state_dict: Dict[str, Any]) -> None:
        self.checkpoint_state = state_dict

    def resume_point(self, state: Dict[str, Any]) -> Optional[Dict[str, Any]]:
        """This process's `resume` for `ResumingDataLoader` from the checkpoint's callback state."""
        if state.get("version") != STATE_VERSION:
            logger.warning(
                "The checkpoint holds no random generator states (saved without the spert_random_state "
                "callback?): the resumed run draws other random numbers than the interrupted one."
            )
            return None
        epoch, batches = state["pass"], state["batches"]
        workers = state["workers"]
        own = workers[rank()] if rank() < len(workers) else None
        if own is None or (batches and own["now"] is None):
            logger.warning(
                f"Worker {rank()}: the checkpoint holds this worker's generator states "
                f"{'at the start of its epoch only' if own else 'nowhere'} (a checkpoint inside an epoch "
                "in distributed training): from there on this worker draws other random numbers than the "
                "interrupted run."
            )
            if own is None:
                return None
        where = f"of epoch {epoch + 1} after batch {batches}" if batches else f"after epoch {epoch}"
        logger.info(f"Resuming with the random generators' states {where}.")
        return {"pass": epoch, "batches": batches, "pass_start": own["pass_start"], "now": own["now"]}


def rank() -> int:
    return dist.get_rank() if is_distributed() else 0
