"""
The actor of a corpus prediction job (`corpus.ray_prediction`): the archive loaded once, then
pieces of the input read and their rows turned into predictions, or into errors that name what is
wrong with a row.
"""

import json
import logging
import os
import resource
import time
from typing import Any, Dict, List, Optional, Tuple

from spert_mt_plugin.corpus.sharding import CorpusError, Shard, read_shard

logger = logging.getLogger(__name__)

# The predictor's own messages name the input as "input: ..."; the job names the row instead.
_PREDICTOR_PREFIX = "input: "


def _without_nulls(value: Any) -> Any:
    # A Parquet file stores a key that a row lacks as null; the predictor treats a present key as given.
    if isinstance(value, dict):
        return {key: _without_nulls(item) for key, item in value.items() if item is not None}
    if isinstance(value, list):
        return [_without_nulls(item) for item in value]
    return value


def read_piece(record: Dict[str, Any], node: str) -> List[Tuple[int, Optional[str], Optional[str]]]:
    """
    The rows of the piece `record` (a `corpus.sharding.shard_record`) as `corpus.sharding.read_shard`
    gives them; a file this node cannot read stops the job with a message naming it and the node.
    """
    try:
        return list(read_shard(Shard(**dict(record, pieces=()))))
    except OSError as error:
        # Every row of the piece is lost, not one: an error row would hide a cluster's set-up mistake.
        raise CorpusError(
            f"{record['path']}: cannot be read on node {node} ({error.strerror or error}); "
            "the input files, like the archive, must be at the same path on every node"
        ) from error


class ShardPredictor:
    """
    The `map_batches` actor: loads the archive once (`archives.load_predictor`, with the
    predictor's arguments, as `allennlp predict --predictor-args` gives them) and turns a batch of
    rows into predictions or errors. `torch_threads` bounds its torch threads to its share of cores.
    """

    def __init__(
        self,
        archive: str,
        predictor_args: Dict[str, Any],
        cuda_device: int,
        torch_threads: Optional[int],
        batch_size: int,
    ) -> None:
        started = time.perf_counter()
        import ray
        import torch

        import spert_mt_plugin  # noqa: F401  (registers the model, reader and predictor in this worker)
        from spert_mt_plugin.archives import load_predictor

        if torch_threads is not None:
            torch.set_num_threads(torch_threads)
        self._predictor = load_predictor(archive, cuda_device=cuda_device, **predictor_args)
        context = ray.get_runtime_context()
        self._node = context.get_node_id()
        self._actor = context.get_actor_id() or f"pid-{os.getpid()}"
        self._batch_size = batch_size
        self._load_seconds = time.perf_counter() - started

    def __call__(self, pieces):
        """The output rows of each piece (a `corpus.sharding.shard_record`) of `pieces`, in order."""
        import pyarrow as pa

        return pa.concat_tables([self._piece_predictions(record) for record in pieces.to_pylist()])

    def _piece_predictions(self, record: Dict[str, Any]):
        import pyarrow as pa

        started = time.perf_counter()
        rows = read_piece(record, self._node)
        results: List[Tuple[Optional[str], Optional[str]]] = [(None, problem) for _, _, problem in rows]
        readable: List[Tuple[int, Any]] = []
        for index, (_, text, problem) in enumerate(rows):
            if problem is not None:
                continue
            try:
                readable.append((index, _without_nulls(json.loads(text))))
            except json.JSONDecodeError as error:
                results[index] = (None, f"not valid JSON ({error.msg})")
        for start in range(0, len(readable), self._batch_size):
            batch = readable[start : start + self._batch_size]
            for (index, _), result in zip(batch, self._predict([value for _, value in batch])):
                results[index] = result
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        count = len(results)
        # Each row carries its share of the piece's time, so that the driver's sums per actor are
        # the actor's busy time.
        seconds = (time.perf_counter() - started) / max(count, 1)
        return pa.table(
            {
                "shard": pa.array([record["index"]] * count, type=pa.int64()),
                "position": pa.array([position for position, _, _ in rows], type=pa.int64()),
                "prediction": pa.array([prediction for prediction, _ in results], type=pa.string()),
                "error": pa.array([error for _, error in results], type=pa.string()),
                "node": pa.array([self._node] * count, type=pa.string()),
                "actor": pa.array([self._actor] * count, type=pa.string()),
                "peak_memory_mb": pa.array([peak_mb] * count, type=pa.float64()),
                "load_seconds": pa.array([self._load_seconds] * count, type=pa.float64()),
                "busy_seconds": pa.array([seconds] * count, type=pa.float64()),
            }
        )

    def _predict(self, inputs: List[Any]) -> List[Tuple[Optional[str], Optional[str]]]:
        """`(prediction JSON, None)` or `(None, error)` per input: batched, and one by one if the batch fails."""
        from spert_mt_plugin.predictors.spert_mt import InputError

        if not inputs:
            return []
        try:
            return [(self._dump(output), None) for output in self._predictor.predict_batch_json(inputs)]
        except Exception:
            # Some input of the batch is bad: find which, predicting each alone (results do not
            # depend on batching, docs/serving.md).
            pass
        results: List[Tuple[Optional[str], Optional[str]]] = []
        for value in inputs:
            try:
                results.append((self._dump(self._predictor.predict_json(value)), None))
            except InputError as error:
                message = str(error)
                results.append(
                    (None, message[len(_PREDICTOR_PREFIX) :] if message.startswith(_PREDICTOR_PREFIX) else message)
                )
            except Exception as error:
                logger.exception("prediction failed on an input row")
                results.append((None, f"prediction failed: {type(error).__name__}: {error}"))
        return results

    def _dump(self, output: Dict[str, Any]) -> str:
        return self._predictor.dump_line(output).rstrip("\n")
