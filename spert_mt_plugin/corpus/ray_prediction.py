"""
Corpus-scale prediction on Ray Data: a trained model over JSON Lines or Parquet files, on the
cores and GPUs of a Ray cluster, with sharded, resumable output (`corpus.sharding`,
`corpus.shard_writer`).

The job is one Ray Data pipeline:

1. a dataset of the pieces of the shards not done yet, one block each (a piece is
   `PIECE_BATCHES` batches of rows, so that all actors share every shard);
2. `map_batches` with `corpus.shard_predictor.ShardPredictor`, a pool of actors, each of which
   loads the archive once, reads the rows of each piece it is given and predicts `batch_size`
   rows at a time with the package's Predictor, exactly as `allennlp predict` does (an actor per
   `cpus_per_actor` cores, or per `gpus_per_actor` GPUs);
3. the driver streams the predictions back (`iter_batches`) and writes each shard's file once all
   its rows have come, in input order.

Ray schedules and retries the work; nothing here assigns rows to actors. A bad input row (not
JSON, not UTF-8, not an input the predictor takes) becomes an error row naming its file and line;
it never stops the job, and neither does a row whose prediction raises.
"""

import logging
import os
import re
import time
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from typing import Any, Dict, List, Optional, Sequence

from spert_mt_plugin.corpus.shard_predictor import ShardPredictor
from spert_mt_plugin.corpus.shard_writer import OutputRow, ShardWriter, file_fingerprints
from spert_mt_plugin.corpus.sharding import CorpusError, Shard, input_files, plan_shards, shard_record

logger = logging.getLogger(__name__)

# Batches of rows in one piece (a block, an actor's task). Every block costs Ray a task and an
# object: blocks of one batch made the job 1.4 times slower than blocks of eight (2,000 sentences,
# 2 actors, batch 8, 2 cores); a piece must still be small next to a shard, so that all actors
# share one.
PIECE_BATCHES = 8

# Seconds the job waits for every actor of the pool to have loaded the archive before it gives up
# (a cluster without room for them, an autoscaler that never adds the nodes).
ACTOR_START_TIMEOUT_S = 600

# How a traceback printed as text begins: Ray gives the reason a cluster cannot be joined only so.
TRACEBACK_HEADER = "Traceback (most recent call last):"
# How Ray begins the error it raises when a cluster runs other Ray or Python versions.
VERSION_MISMATCH = "Version mismatch: "


@dataclass
class CorpusSummary:
    """What a `predict_corpus` call did; also written to the output folder as `_summary.json`."""

    shards: int
    shards_written: int
    shards_skipped: int
    rows: int
    errors: int
    seconds: float
    actors: int
    rows_per_node: Dict[str, int] = field(default_factory=dict)
    peak_memory_mb_per_actor: Dict[str, float] = field(default_factory=dict)
    # Where the time went: each actor's archive loading and its time inside batches, and the
    # seconds from the call to the first prediction (Ray's start, planning, actors' loading).
    load_seconds_per_actor: Dict[str, float] = field(default_factory=dict)
    busy_seconds_per_actor: Dict[str, float] = field(default_factory=dict)
    seconds_to_first_prediction: Optional[float] = None

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def default_actors(cpus_per_actor: float, gpus_per_actor: float) -> int:
    """As many actors as the cluster's CPUs (or GPUs, when actors take GPUs) hold."""
    import ray

    resources = ray.cluster_resources()
    if gpus_per_actor > 0:
        count = int(resources.get("GPU", 0) // gpus_per_actor)
        if count < 1:
            raise CorpusError(f"the Ray cluster has no GPU for actors of {gpus_per_actor} GPU each (gpus_per_actor)")
        return count
    return max(1, int(resources.get("CPU", 1) // cpus_per_actor))


def root_cause(error: BaseException) -> str:
    """
    Why Ray could not join a cluster, on one line. Ray raises a `ConnectionError` that says only
    that it failed, caused by a `RuntimeError` whose message ends with the real exception's
    traceback, as text: the reason is that traceback's exception line ("ray.exceptions.
    AuthenticationError: RPC error: ..."), given without its module. Ray's refusal to join a
    cluster of other versions is said by `version_mismatch`. An error without a traceback in its
    message gives its own first line.
    """
    outer = error
    while error.__cause__ is not None:
        error = error.__cause__
    text = str(error)
    if text.startswith(VERSION_MISMATCH):
        return version_mismatch(text)
    header = text.rfind(TRACEBACK_HEADER)
    if header >= 0:
        # A traceback's frame lines are indented; the first line after them that is not is the exception's.
        for line in text[header + len(TRACEBACK_HEADER) :].splitlines():
            if line.strip() and not line[0].isspace():
                name, separator, message = line.strip().partition(": ")
                return f"{name.rpartition('.')[2]}{separator}{message}"
    for candidate in (text, str(outer)):
        lines = candidate.strip().splitlines()
        if lines:
            return lines[0]
    return type(error).__name__


def version_mismatch(text: str) -> str:
    """
    Ray's refusal to join a cluster of other Ray or Python versions, on one line. Its message
    gives "Ray: ..." and "Python: ..." of the cluster, then of this process, on lines of their own.
    """
    found = re.findall(r"Ray: (\S+)\s+Python: (\S+)", text)
    if len(found) != 2:
        return text.strip().splitlines()[0]
    (cluster_ray, cluster_python), (own_ray, own_python) = found
    return (
        f"it runs Ray {cluster_ray} on Python {cluster_python}, this job Ray {own_ray} on Python {own_python}; "
        "both sides need the same versions"
    )


def predict_corpus(
    archive: str,
    inputs: Sequence[str],
    output: str,
    *,
    output_format: str = "jsonl",
    rows_per_shard: int = 10_000,
    batch_size: int = 64,
    num_actors: Optional[int] = None,
    cpus_per_actor: float = 1.0,
    gpus_per_actor: float = 0.0,
    precision: Optional[str] = None,
    predictor_args: Optional[Dict[str, Any]] = None,
    address: Optional[str] = None,
    progress_interval: float = 30.0,
) -> CorpusSummary:
    """
    Predicts every row of `inputs` (JSON Lines or Parquet files or folders of them, in any form
    `allennlp predict` takes: `tokens`, `sentence`, `document`, with or without `entities`) into
    the folder `output`, one `part-NNNNN` file per shard, and returns what it did.

    # Parameters

    archive : `str`
        The model archive (`model.tar.gz`), readable at this path on every node, as the inputs.
    output_format : `str`, optional (default = `"jsonl"`)
        `jsonl` or `parquet` (`corpus.sharding.ShardWriter`).
    rows_per_shard : `int`, optional (default = `10000`)
        Most input rows per output file; an interrupted job redoes at most the unfinished shards.
    batch_size : `int`, optional (default = `64`)
        Rows an actor predicts at a time (the predictor batches them for the model by length).
    num_actors : `int`, optional (default = `None`)
        Actors in the pool; `None`: the cluster's CPUs / `cpus_per_actor` (GPUs / `gpus_per_actor`).
    cpus_per_actor, gpus_per_actor : `float`, optional (default = `1`, `0`)
        What each actor reserves; an actor with a GPU predicts on it.
    precision : `str`, optional (default = `None`)
        The predictor's `precision` (`float32`, `bfloat16`, `onnx`, `onnx-int8`, `auto`).
    predictor_args : `Dict[str, Any]`, optional
        Further predictor arguments (thresholds, `entity_decoding`, `language`, ...).
    address : `str`, optional (default = `None`)
        The Ray cluster to join; `None`: `RAY_ADDRESS` if set, else (Ray's rule) the last cluster
        `ray start` recorded on this machine, else a Ray started for this call. A Ray already
        initialised in this process is used as it is. A cluster that cannot be joined (a token it
        refuses) is a `CorpusError` naming it and Ray's reason.
    progress_interval : `float`, optional (default = `30`)
        Seconds between progress lines (logger `spert_mt_plugin.corpus.ray_prediction`).
    """
    start = time.perf_counter()
    if batch_size < 1:
        raise CorpusError(f"batch_size must be at least 1, got {batch_size}")
    if num_actors is not None and num_actors < 1:
        raise CorpusError(f"num_actors must be at least 1, got {num_actors}")
    if cpus_per_actor <= 0 or gpus_per_actor < 0:
        raise CorpusError(
            f"cpus_per_actor must be positive and gpus_per_actor not negative, got {cpus_per_actor}, {gpus_per_actor}"
        )
    if not os.path.isfile(archive):
        raise CorpusError(f"{archive}: no such model archive")
    arguments = dict(predictor_args or {})
    if precision is not None:
        arguments["precision"] = precision
    files = input_files(inputs)
    shards = plan_shards(files, rows_per_shard, rows_per_piece=batch_size * PIECE_BATCHES)
    writer = ShardWriter(output, output_format)
    writer.claim(
        {
            "archive": os.path.abspath(archive),
            "inputs": file_fingerprints(files),
            "rows_per_shard": rows_per_shard,
            "output_format": output_format,
            "predictor_args": arguments,
        }
    )
    pending = [shard for shard in shards if not writer.is_done(shard)]
    summary = CorpusSummary(len(shards), 0, len(shards) - len(pending), 0, 0, 0.0, 0)
    if pending:
        _run(
            start,
            archive,
            pending,
            writer,
            summary,
            batch_size,
            num_actors,
            cpus_per_actor,
            gpus_per_actor,
            arguments,
            address,
            progress_interval,
        )
    summary.seconds = time.perf_counter() - start
    writer.write_summary(dict(asdict(summary), rows_per_second=summary.rows_per_second))
    return summary


def _run(
    start: float,
    archive: str,
    pending: List[Shard],
    writer: ShardWriter,
    summary: CorpusSummary,
    batch_size: int,
    num_actors: Optional[int],
    cpus_per_actor: float,
    gpus_per_actor: float,
    predictor_args: Dict[str, Any],
    address: Optional[str],
    progress_interval: float,
) -> None:
    import ray

    # This machine may have no network: Ray must not try to report usage.
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    started = not ray.is_initialized()
    if started:
        try:
            ray.init(address=address, include_dashboard=False, logging_level=logging.WARNING)
        except (ConnectionError, ray.exceptions.AuthenticationError, RuntimeError) as error:
            if isinstance(error, RuntimeError) and not str(error).startswith(VERSION_MISMATCH):
                raise
            given = address or os.environ.get("RAY_ADDRESS")
            cluster = f"at {given}" if given else "that `ray start` recorded on this machine (`ray stop` forgets it)"
            raise CorpusError(f"cannot join the Ray cluster {cluster}: {root_cause(error)}") from None
    # Ray Data's settings for the job, restored after it:
    # - work is handed out only once every actor has loaded the archive: by default Ray Data starts
    #   the actors asynchronously, the first one ready queues pieces while the others still load,
    #   and on a busy machine it predicted a whole small job alone;
    # - an actor's exception reaches the driver as itself, not as a `UserCodeException` whose
    #   cause survives only as text.
    job_settings = {"wait_for_min_actors_s": ACTOR_START_TIMEOUT_S, "raise_original_map_exception": True}
    context = ray.data.DataContext.get_current()
    settings_before = {name: getattr(context, name) for name in job_settings}
    for name, value in job_settings.items():
        setattr(context, name, value)
    try:
        actors = num_actors or default_actors(cpus_per_actor, gpus_per_actor)
        summary.actors = actors
        # A block per piece (`PIECE_BATCHES` batches of rows): every actor takes whole pieces, and
        # reads each piece's rows itself.
        pieces = [shard_record(piece) for shard in pending for piece in shard.piece_shards()]
        dataset = ray.data.from_items(pieces, override_num_blocks=len(pieces))
        dataset = dataset.map_batches(
            ShardPredictor,
            fn_constructor_kwargs={
                "archive": os.path.abspath(archive),
                "predictor_args": predictor_args,
                "cuda_device": 0 if gpus_per_actor > 0 else -1,
                "torch_threads": max(1, int(cpus_per_actor)),
                "batch_size": batch_size,
            },
            batch_size=1,
            batch_format="pyarrow",
            compute=ray.data.ActorPoolStrategy(size=actors),
            num_cpus=cpus_per_actor,
            num_gpus=gpus_per_actor or None,
        )
        try:
            _write_as_they_come(dataset, pending, writer, summary, start, progress_interval)
        except ray.exceptions.GetTimeoutError:
            raise CorpusError(
                f"the {actors} actors ({cpus_per_actor} CPUs and {gpus_per_actor} GPUs each) did not all start "
                f"within {ACTOR_START_TIMEOUT_S} s; the Ray cluster has {ray.cluster_resources()}"
            ) from None
        except ray.exceptions.RayTaskError as error:
            # An actor's CorpusError (an input file it cannot read) says all, on its first line:
            # Ray Data adds its advice on retries below it, and the actor's traceback around it.
            if isinstance(error.cause, CorpusError):
                raise CorpusError(str(error.cause).splitlines()[0]) from None
            raise
    finally:
        for name, value in settings_before.items():
            setattr(context, name, value)
        if started:
            ray.shutdown()


def _write_as_they_come(
    dataset, pending: List[Shard], writer: ShardWriter, summary: CorpusSummary, start: float, interval: float
) -> None:
    by_index = {shard.index: shard for shard in pending}
    rows: Dict[int, List[OutputRow]] = defaultdict(list)
    last_report = time.perf_counter()
    total = sum(shard.rows for shard in pending)
    for batch in dataset.iter_batches(batch_size=None, batch_format="pyarrow"):
        if summary.seconds_to_first_prediction is None:
            summary.seconds_to_first_prediction = time.perf_counter() - start
        columns = batch.to_pydict()
        touched = set()
        for index, position, prediction, error, node, actor, peak, load, busy in zip(
            columns["shard"],
            columns["position"],
            columns["prediction"],
            columns["error"],
            columns["node"],
            columns["actor"],
            columns["peak_memory_mb"],
            columns["load_seconds"],
            columns["busy_seconds"],
        ):
            if error is not None:
                error = f"{by_index[index].where(position)}: {error}"
                summary.errors += 1
                if summary.errors <= 10:
                    logger.warning("%s", error)
            rows[index].append(OutputRow(position, prediction, error))
            summary.rows_per_node[node] = summary.rows_per_node.get(node, 0) + 1
            summary.peak_memory_mb_per_actor[actor] = max(peak, summary.peak_memory_mb_per_actor.get(actor, 0.0))
            summary.load_seconds_per_actor[actor] = load
            summary.busy_seconds_per_actor[actor] = summary.busy_seconds_per_actor.get(actor, 0.0) + busy
            touched.add(index)
        summary.rows += len(columns["shard"])
        for index in touched:
            if len(rows[index]) == by_index[index].rows:
                writer.write(by_index[index], rows.pop(index))
                summary.shards_written += 1
        now = time.perf_counter()
        if now - last_report >= interval:
            logger.info(
                "%d of %d shards written (%d of %d rows, %d errors), %.1f rows/s",
                summary.shards_written,
                len(pending),
                summary.rows,
                total,
                summary.errors,
                summary.rows / (now - start),
            )
            last_report = now
    if rows or summary.shards_written != len(pending):
        missing = sorted(set(by_index) - {s for s in by_index if writer.is_done(by_index[s])})
        raise RuntimeError(f"the pipeline ended with shards {missing[:10]} incomplete: predictions were lost")
