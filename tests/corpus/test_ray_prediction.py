"""The corpus job on a real Ray started in this process (two CPUs), against `allennlp predict`."""

import json
import os

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spert_mt_plugin.corpus import CorpusError, predict_corpus
from spert_mt_plugin.corpus.ray_prediction import root_cause
from tests.corpus.corpus_inputs import (
    BAD_LINES,
    PREDICTOR_ARGS,
    assert_same_prediction,
    check_against_reference,
    good_rows,
    read_jsonl_parts,
)

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def local_ray():
    import ray

    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    # A Ray of its own ("local"), never a cluster recorded on this machine by `ray start`.
    ray.init(address="local", num_cpus=2, include_dashboard=False, object_store_memory=300 * 2**20)
    yield
    ray.shutdown()


def test_predictions_are_those_of_allennlp_predict(local_ray, trained_archive, corpus, reference, tmp_path):
    folder, paths, lines = corpus
    output = tmp_path / "out"
    summary = predict_corpus(
        trained_archive,
        [str(folder)],
        str(output),
        rows_per_shard=60,
        batch_size=16,
        num_actors=2,
        predictor_args=PREDICTOR_ARGS,
    )
    # 164 rows per file (160 good, 4 bad): shards of 60, 60 and 44 rows in each.
    assert (summary.shards, summary.shards_written, summary.shards_skipped) == (6, 6, 0)
    assert (summary.rows, summary.errors, summary.actors) == (328, 8, 2)
    assert len(summary.peak_memory_mb_per_actor) == 2
    # Where the time went: each actor's loading and busy time, and when the first prediction came.
    assert (
        set(summary.load_seconds_per_actor)
        == set(summary.busy_seconds_per_actor)
        == set(summary.peak_memory_mb_per_actor)
    )
    assert all(seconds > 0 for seconds in summary.busy_seconds_per_actor.values())
    assert 0 < summary.seconds_to_first_prediction < summary.seconds
    check_against_reference(read_jsonl_parts(output), lines, reference)
    written = json.loads((output / "_summary.json").read_text())
    assert written["rows"] == 328 and written["rows_per_second"] > 0


def test_a_restart_predicts_only_the_shards_not_written(local_ray, trained_archive, corpus, reference, tmp_path):
    folder, _, lines = corpus
    output = tmp_path / "out"
    settings = dict(rows_per_shard=100, batch_size=32, num_actors=1, predictor_args=PREDICTOR_ARGS)
    first = predict_corpus(trained_archive, [str(folder)], str(output), **settings)
    assert first.shards == 4
    parts = sorted(output.glob("part-*.jsonl"))
    before = {part.name: (part.read_text(), part.stat().st_mtime_ns) for part in parts}
    # As if the job had stopped while it wrote shard 2: its file is missing, a temporary one is left.
    (output / "part-00002.jsonl").rename(output / "part-00002.jsonl.tmp")
    second = predict_corpus(trained_archive, [str(folder)], str(output), **settings)
    assert (second.shards_written, second.shards_skipped, second.rows) == (1, 3, 100)
    for part in parts:
        text, mtime = before[part.name]
        assert part.read_text() == text
        assert (part.stat().st_mtime_ns == mtime) == (part.name != "part-00002.jsonl")
    check_against_reference(read_jsonl_parts(output), lines, reference)
    with pytest.raises(CorpusError, match="another job"):
        predict_corpus(trained_archive, [str(folder)], str(output), **dict(settings, rows_per_shard=50))


def test_parquet_in_and_out(local_ray, trained_archive, corpus, reference, tmp_path):
    _, _, lines = corpus
    rows = [json.loads(line.text) for line in lines if line.text not in BAD_LINES]
    bad = {"tokens": []}
    table = pa.Table.from_struct_array(pa.array(rows[:100] + [bad] + rows[100:]))
    pq.write_table(table, tmp_path / "input.parquet", row_group_size=40)
    output = tmp_path / "out"
    summary = predict_corpus(
        trained_archive,
        [str(tmp_path / "input.parquet")],
        str(output),
        output_format="parquet",
        rows_per_shard=100,
        num_actors=2,
        predictor_args=PREDICTOR_ARGS,
    )
    # Row groups of 40 rows, shards of whole groups reaching 100 rows: 120, 120, 81.
    assert (summary.shards, summary.errors) == (3, 1)
    got = [row for part in sorted(output.glob("part-*.parquet")) for row in pq.read_table(part).to_pylist()]
    assert [row["input_row"] for row in got] == list(range(len(rows) + 1))
    assert got[100]["prediction"] is None
    assert got[100]["error"] == f"{tmp_path / 'input.parquet'}, row 100: 'tokens' must be a non-empty list of strings"
    predictions = [json.loads(row["prediction"]) for row in got[:100] + got[101:]]
    for prediction, expected in zip(predictions, reference, strict=True):
        assert_same_prediction(prediction, expected)


def test_rows_of_every_form_are_predicted(local_ray, trained_archive, tmp_path):
    rows = good_rows(5)
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(row) + "\n" for row in rows))
    predict_corpus(trained_archive, [str(tmp_path / "in.jsonl")], str(tmp_path / "out"), num_actors=1)
    tokens, sentence, document, given_words, given_characters = read_jsonl_parts(tmp_path / "out")
    assert tokens["orig_id"] == "row0" and tokens["tokens"] == rows[0]["tokens"]
    assert sentence["tokens"] == rows[1]["sentence"].split()
    assert all(
        text[e["char_start"] : e["char_end"]] == e["text"]
        for e in sentence["entities"]
        for text in [rows[1]["sentence"]]
    )
    assert document["orig_id"] == "doc2" and len(document["sentences"]) == 2
    # Given entities are kept exactly, in order.
    assert [(e["start"], e["end"]) for e in given_words["entities"]] == [(0, 1), (1, 2)]
    assert given_words["entities"][1]["type"] == "Person"
    assert [(e["char_start"], e["char_end"]) for e in given_characters["entities"]] == [
        (0, len(rows[4]["sentence"].split()[0]))
    ]


def test_actors_the_cluster_cannot_start_are_a_clear_error(local_ray, trained_archive, corpus, tmp_path, monkeypatch):
    from spert_mt_plugin.corpus import ray_prediction

    folder, _, _ = corpus
    monkeypatch.setattr(ray_prediction, "ACTOR_START_TIMEOUT_S", 5)
    # Three actors of one CPU on a Ray of two CPUs: the third never starts.
    with pytest.raises(CorpusError, match=r"the 3 actors \(1.0 CPUs and 0.0 GPUs each\) did not all start within 5 s"):
        predict_corpus(trained_archive, [str(folder)], str(tmp_path / "out"), num_actors=3)


def test_an_input_file_an_actor_cannot_read_is_a_one_line_error(local_ray, trained_archive, tmp_path, monkeypatch):
    from spert_mt_plugin.corpus.shard_writer import ShardWriter

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(row) + "\n" for row in good_rows(5)))
    claim = ShardWriter.claim

    def claim_then_lose_the_input(writer, job):
        claim(writer, job)
        source.unlink()  # planned and claimed; now gone, as on a node that lacks the shared file system

    monkeypatch.setattr(ShardWriter, "claim", claim_then_lose_the_input)
    with pytest.raises(CorpusError) as error:
        predict_corpus(trained_archive, [str(source)], str(tmp_path / "out"), num_actors=1)
    message = str(error.value)
    assert message.startswith(f"{source}: cannot be read on node ") and "at the same path on every node" in message
    assert "\n" not in message and "Traceback" not in message


def chained(outer: str, inner: str) -> ConnectionError:
    """A `ConnectionError` caused by a `RuntimeError`, as `ray.init` raises them."""
    try:
        try:
            raise RuntimeError(inner)
        except RuntimeError as cause:
            raise ConnectionError(outer) from cause
    except ConnectionError as error:
        return error


@pytest.mark.parametrize(
    "inner, reason",
    [
        # Ray 2.60 joining a cluster that wants a token (the message as Ray builds it, shortened).
        (
            "Failed to connect to GCS. Last connection error: Traceback (most recent call last):\n"
            '  File "ray/_private/node.py", line 996, in _init_gcs_client\n'
            "    client = GcsClient(\n"
            "ray.exceptions.AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing.\n",
            "AuthenticationError: RPC error: InvalidAuthToken: Authentication token is missing.",
        ),
        # The traceback after other lines, its exception's message on several lines: the first is kept.
        (
            "Failed to start GCS.  Last 0 lines of error files:\n\n.Please check gcs_server.out. "
            "Last connection error: Traceback (most recent call last):\n"
            '  File "python/ray/_raylet.pyx", line 3198, in ray._raylet.GcsClient.__cinit__\n'
            "grpc.RpcError: <_InactiveRpcError\n\tstatus = UNAVAILABLE\n>\n",
            "RpcError: <_InactiveRpcError",
        ),
        ("No GCS at that address", "No GCS at that address"),
        # Nothing in the cause: the outer error's own line.
        ("", "Failed to connect to Ray cluster at 10.0.0.5:6379"),
    ],
)
def test_the_reason_a_cluster_cannot_be_joined_is_found_under_rays_wrappers(inner, reason):
    assert root_cause(chained("Failed to connect to Ray cluster at 10.0.0.5:6379", inner)) == reason


# The message as Ray 2.60's `check_version_info` builds it.
VERSION_MISMATCH = (
    "Version mismatch: The cluster was started with:\n"
    "    Ray: 2.50.1\n"
    "    Python: 3.12.3\n"
    "This process on node 127.0.0.1 was started with:\n"
    "    Ray: 2.60.0\n"
    "    Python: 3.11.7\n"
)


def test_a_cluster_of_other_versions_is_said_on_one_line_wrapped_or_not():
    said = (
        "it runs Ray 2.50.1 on Python 3.12.3, this job Ray 2.60.0 on Python 3.11.7; both sides need the same versions"
    )
    assert root_cause(RuntimeError(VERSION_MISMATCH)) == said
    assert root_cause(chained("Failed to connect to Ray cluster at 10.0.0.5:6379", VERSION_MISMATCH)) == said


def test_joining_a_cluster_of_other_versions_is_a_clear_error(trained_archive, corpus, tmp_path, monkeypatch):
    import ray

    def refuse(**options):
        raise RuntimeError(VERSION_MISMATCH)

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", refuse)
    folder, _, _ = corpus
    with pytest.raises(CorpusError) as error:
        predict_corpus(trained_archive, [str(folder)], str(tmp_path / "out"), address="10.0.0.5:6379")
    assert str(error.value) == (
        "cannot join the Ray cluster at 10.0.0.5:6379: it runs Ray 2.50.1 on Python 3.12.3, this job Ray 2.60.0 "
        "on Python 3.11.7; both sides need the same versions"
    )


def test_other_errors_of_ray_init_are_not_taken_for_a_version_mismatch(trained_archive, corpus, tmp_path, monkeypatch):
    import ray

    def fail(**options):
        raise RuntimeError("Maybe you called ray.init twice by accident?")

    monkeypatch.setattr(ray, "is_initialized", lambda: False)
    monkeypatch.setattr(ray, "init", fail)
    folder, _, _ = corpus
    with pytest.raises(RuntimeError, match="twice by accident"):
        predict_corpus(trained_archive, [str(folder)], str(tmp_path / "out"))
