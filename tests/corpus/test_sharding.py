import json

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from spert_mt_plugin.corpus.sharding import (
    CorpusError,
    input_files,
    plan_shards,
    read_shard,
)


def json_lines(path, lines):
    path.write_text("".join(line + "\n" for line in lines))
    return path


def test_json_lines_shards_count_rows_not_blank_lines(tmp_path):
    # Lines 1..9: rows a..g with blank lines 3 and 6.
    path = json_lines(tmp_path / "a.jsonl", ['"a"', '"b"', "", '"c"', '"d"', "  ", '"e"', '"f"', '"g"'])
    shards = plan_shards(input_files([str(path)]), rows_per_shard=3)
    assert [(s.first_row, s.rows) for s in shards] == [(1, 3), (5, 3), (9, 1)]
    assert [s.index for s in shards] == [0, 1, 2]
    read = [[(position, text.strip()) for position, text, _ in read_shard(s)] for s in shards]
    assert read == [
        [(1, '"a"'), (2, '"b"'), (4, '"c"')],
        [(5, '"d"'), (7, '"e"'), (8, '"f"')],
        [(9, '"g"')],
    ]


def test_a_line_that_is_not_utf8_is_a_row_with_a_problem(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_bytes(b'{"sentence": "ok"}\n{"sentence": "\xff"}\n')
    (shard,) = plan_shards(input_files([str(path)]), rows_per_shard=10)
    rows = list(read_shard(shard))
    assert rows[0][2] is None and rows[1][:2] == (2, None)
    assert rows[1][2] == "not valid UTF-8 (byte 14)"


def test_parquet_shards_are_whole_row_groups_and_rows_drop_nulls(tmp_path):
    rows = [{"tokens": ["w", str(i)]} for i in range(5)] + [{"sentence": "Ada works."}]
    # pa.array infers the columns of all rows (Table.from_pylist those of the first).
    table = pa.Table.from_struct_array(pa.array(rows))
    path = tmp_path / "a.parquet"
    pq.write_table(table, path, row_group_size=2)  # groups of rows 0-1, 2-3, 4-5
    shards = plan_shards(input_files([str(path)]), rows_per_shard=3)
    assert [(s.start, s.stop, s.first_row, s.rows) for s in shards] == [(0, 2, 0, 4), (2, 3, 4, 2)]
    rows = [json.loads(text) for _, text, _ in read_shard(shards[1])]
    assert rows == [{"tokens": ["w", "4"]}, {"sentence": "Ada works."}]
    assert shards[1].where(5) == f"{path}, row 5"


def test_folders_expand_to_their_input_files_in_order(tmp_path):
    (tmp_path / "b").mkdir()
    for name in ("b/2.jsonl", "b/1.json", "a.parquet", "notes.txt"):
        (tmp_path / name).write_text("")
    assert input_files([str(tmp_path)]) == [
        (str(tmp_path / "a.parquet"), "parquet"),
        (str(tmp_path / "b" / "1.json"), "jsonl"),
        (str(tmp_path / "b" / "2.jsonl"), "jsonl"),
    ]


@pytest.mark.parametrize(
    "name, message",
    [("missing.jsonl", "no such file or folder"), ("notes.txt", "not a JSON Lines"), ("empty", "no .jsonl")],
)
def test_unusable_inputs_are_named(tmp_path, name, message):
    (tmp_path / "notes.txt").write_text("")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorpusError, match=message):
        input_files([str(tmp_path / name)])


def test_shards_are_cut_into_pieces_that_actors_read_one_at_a_time(tmp_path):
    path = json_lines(tmp_path / "a.jsonl", ['"a"', "", '"b"', '"c"', '"d"', '"e"'])
    (first, second) = plan_shards(input_files([str(path)]), rows_per_shard=4, rows_per_piece=3)
    assert [(p.first_row, p.rows) for p in first.piece_shards()] == [(1, 3), (5, 1)]
    assert [(p.first_row, p.rows) for p in second.piece_shards()] == [(6, 1)]
    read = [position for piece in first.piece_shards() for position, _, _ in read_shard(piece)]
    assert read == [1, 3, 4, 5] and {p.index for p in first.piece_shards()} == {0}
