import json

import pyarrow.parquet as pq
import pytest

from spert_mt_plugin.corpus.shard_writer import OutputRow, ShardWriter
from spert_mt_plugin.corpus.sharding import CorpusError, Shard


def test_writer_sorts_rows_and_names_failed_ones(tmp_path):
    shard = Shard(0, "in.jsonl", "jsonl", 0, 10, 4, 3)
    writer = ShardWriter(str(tmp_path / "out"), "jsonl")
    writer.claim({"rows_per_shard": 3})
    assert not writer.is_done(shard)
    writer.write(shard, [OutputRow(6, '{"b": 2}', None), OutputRow(4, '{"a": 1}', None), OutputRow(5, None, "bad")])
    assert writer.is_done(shard)
    lines = [json.loads(line) for line in writer.part(shard).read_text().splitlines()]
    assert lines == [{"a": 1}, {"error": "bad", "input_file": "in.jsonl", "input_line": 5}, {"b": 2}]
    with pytest.raises(RuntimeError, match="3 rows, got 1"):
        writer.write(shard, [OutputRow(4, "{}", None)])


def test_parquet_output_has_a_prediction_and_an_error_column(tmp_path):
    shard = Shard(2, "in.parquet", "parquet", 0, 1, 0, 2)
    writer = ShardWriter(str(tmp_path), "parquet")
    writer.write(shard, [OutputRow(1, None, "bad"), OutputRow(0, '{"a": 1}', None)])
    assert writer.part(shard).name == "part-00002.parquet"
    assert pq.read_table(writer.part(shard)).to_pylist() == [
        {"input_file": "in.parquet", "input_row": 0, "prediction": '{"a": 1}', "error": None},
        {"input_file": "in.parquet", "input_row": 1, "prediction": None, "error": "bad"},
    ]


def test_a_folder_of_another_job_is_refused(tmp_path):
    ShardWriter(str(tmp_path), "jsonl").claim({"rows_per_shard": 3, "archive": "a"})
    ShardWriter(str(tmp_path), "jsonl").claim({"rows_per_shard": 3, "archive": "a"})  # the same job again
    with pytest.raises(CorpusError, match="another job .its archive, rows_per_shard differ"):
        ShardWriter(str(tmp_path), "jsonl").claim({"rows_per_shard": 4, "archive": "b"})
