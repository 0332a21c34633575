"""No torn files: a write interrupted at any point leaves the old file or the new one, never part of one."""

import json
import os
import random
import signal
import stat
import subprocess
import sys
import time

import pytest

from spert_mt_plugin.formats import atomic
from spert_mt_plugin.formats.atomic import PARTIAL_SUFFIX, atomic_open, copy_file, write_json, write_text
from tests.conftest import PROJECT_ROOT

ATOMIC = PROJECT_ROOT / "spert_mt_plugin" / "formats" / "atomic.py"

# A writer that loads the helper alone (no package import: it starts in milliseconds), then writes
# the target over and over, all A's or all B's, until it is killed. With "pause" it writes half of
# one file, says so and waits: the parent kills it mid-write for certain. With "plain" it writes
# with open() instead, the control that shows the test can see a torn file.
WRITER = """
import importlib.util, sys
spec = importlib.util.spec_from_file_location("atomic", sys.argv[1])
atomic = importlib.util.module_from_spec(spec)
spec.loader.exec_module(atomic)
target, size, mode = sys.argv[2], int(sys.argv[3]), sys.argv[4]
chunk = 1 << 16
if mode == "pause":
    with atomic.atomic_open(target, "wb") as handle:
        handle.write(b"N" * (size // 2))
        handle.flush()
        print("half written", flush=True)
        sys.stdin.read()
        handle.write(b"N" * (size - size // 2))
print("writing", flush=True)
opener = open if mode == "plain" else atomic.atomic_open
for turn in range(10**9):
    letter = b"AB"[turn % 2 : turn % 2 + 1]
    with opener(target, "wb") as handle:
        for _ in range(size // chunk):
            handle.write(letter * chunk)
"""


def start_writer(target, size, mode):
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, str(ATOMIC), str(target), str(size), mode],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )


def whole(path, size):
    """The file's single repeated letter if it is whole (`size` bytes of one letter), else None."""
    data = path.read_bytes()
    return chr(data[0]) if len(data) == size and data == data[:1] * size else None


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(PARTIAL_SUFFIX))


def test_a_writer_killed_mid_write_leaves_the_old_file(tmp_path):
    target, size = tmp_path / "metrics.json", 1 << 20
    target.write_bytes(b"O" * size)
    writer = start_writer(target, size, "pause")
    assert writer.stdout.readline().strip() == "half written"
    writer.send_signal(signal.SIGKILL)
    writer.wait(timeout=30)
    assert whole(target, size) == "O"
    # What the kill leaves is the hidden temporary file, which no reader looks at.
    (partial,) = leftovers(tmp_path)
    assert partial.startswith(".metrics.json.") and (tmp_path / partial).stat().st_size == size // 2


def kill_at_random_moments(target, size, mode, kills=12):
    """What the target holds after each of `kills` writers killed at a random moment: a letter, or None if torn."""
    generator = random.Random(13)
    found = []
    for _ in range(kills):
        writer = start_writer(target, size, mode)
        assert writer.stdout.readline().strip() == "writing"
        time.sleep(generator.uniform(0.0, 0.15))
        writer.send_signal(signal.SIGKILL)
        writer.wait(timeout=30)
        if target.exists():
            found.append(whole(target, size))
    return found


def test_kills_at_random_moments_never_leave_a_torn_file(tmp_path):
    found = kill_at_random_moments(tmp_path / "results.json", 1 << 22, "loop")
    assert None not in found, f"torn files: {found}"
    assert {"A", "B"} & set(found), "no write completed in any run: the test proves nothing"
    # Kills landed mid-write (their temporary files are left) and between writes alike.
    assert leftovers(tmp_path)
    # The control: written in place, the same kills tear the file.
    assert None in kill_at_random_moments(tmp_path / "plain.json", 1 << 22, "plain")


def test_a_writer_that_raises_keeps_the_old_file_and_cleans_up(tmp_path):
    target = tmp_path / "results.md"
    target.write_text("old table\n")
    with pytest.raises(RuntimeError, match="midway"):
        with atomic_open(target) as handle:
            handle.write("new table, first half\n")
            raise RuntimeError("midway")
    assert target.read_text() == "old table\n"
    assert leftovers(tmp_path) == []
    write_text(target, "new table\n")
    assert target.read_text() == "new table\n" and leftovers(tmp_path) == []


def test_modes_are_those_of_a_plain_write_or_of_the_replaced_file(tmp_path):
    umask = os.umask(0o022)
    os.umask(umask)
    write_text(tmp_path / "new.json", "{}")
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == 0o666 & ~umask
    (tmp_path / "kept.json").write_text("{}")
    (tmp_path / "kept.json").chmod(0o640)
    write_text(tmp_path / "kept.json", "[]")
    assert stat.S_IMODE((tmp_path / "kept.json").stat().st_mode) == 0o640
    with pytest.raises(ValueError, match="whole files"):
        with atomic_open(tmp_path / "x", "a"):
            pass


def test_copies_keep_contents_and_times_and_create_folders(tmp_path):
    source = tmp_path / "metrics_epoch_0.json"
    source.write_text('{"epoch": 0}')
    os.utime(source, (1_000_000_000, 1_000_000_000))
    target = tmp_path / "export" / "run" / "metrics_epoch_0.json"
    copy_file(source, target)
    assert target.read_text() == '{"epoch": 0}' and target.stat().st_mtime == 1_000_000_000
    assert atomic.partial_path(target).parent == target.parent


def test_converted_data_interrupted_mid_write_keep_the_old_file(tmp_path):
    target = tmp_path / "converted.jsonl"
    write_json([{"tokens": ["old"]}], str(target), lines=True)
    # The third document cannot be written: the writer fails after two lines are out.
    documents = [{"tokens": ["a"]}, {"tokens": ["b"]}, {"tokens": [object()]}]
    with pytest.raises(TypeError):
        write_json(documents, str(target), lines=True)
    assert [json.loads(line) for line in target.read_text().splitlines()] == [{"tokens": ["old"]}]
    assert leftovers(tmp_path) == []


def test_a_figure_that_fails_to_save_keeps_the_old_image(tmp_path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from spert_mt_plugin.results.figures import save_figure

    output = tmp_path / "curves.png"
    figure, axis = plt.subplots()
    axis.plot([1, 2], [3, 4])
    save_figure(figure, str(output), "title", "caption")
    old = output.read_bytes()
    assert old.startswith(b"\x89PNG")

    figure, axis = plt.subplots()

    def fails_midway(handle, **kwargs):
        handle.write(b"\x89PNG half an image")
        raise OSError("disk full")

    figure.savefig = fails_midway
    with pytest.raises(OSError, match="disk full"):
        save_figure(figure, str(output), None, "caption")
    assert output.read_bytes() == old and leftovers(tmp_path) == []
