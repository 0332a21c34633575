import pytest

from spert_mt_plugin.corpus.shard_predictor import read_piece
from spert_mt_plugin.corpus.sharding import CorpusError, input_files, plan_shards, shard_record


def test_an_actor_reads_the_rows_of_its_piece(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('"a"\n\n"b"\n"c"\n"d"\n')
    (shard,) = plan_shards(input_files([str(path)]), rows_per_shard=10, rows_per_piece=2)
    first, second = (shard_record(piece) for piece in shard.piece_shards())
    assert read_piece(first, "node-1") == [(1, '"a"', None), (3, '"b"', None)]
    assert read_piece(second, "node-1") == [(4, '"c"', None), (5, '"d"', None)]


def test_an_input_file_missing_on_the_actors_node_stops_the_job_naming_file_and_node(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text('"a"\n')
    (shard,) = plan_shards(input_files([str(path)]), rows_per_shard=10)
    path.unlink()
    with pytest.raises(CorpusError, match=rf"^{path}: cannot be read on node node-2 \(No such file or directory\); "):
        read_piece(shard_record(shard), "node-2")
