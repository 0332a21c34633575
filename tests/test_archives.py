"""The package's loaders name a bad archive in one `ArchiveError` line (the cases: tests/test_archive_errors.py)."""

import pytest

from spert_mt_plugin.archive_errors import ArchiveError
from spert_mt_plugin.archives import load_archive, load_predictor


def test_load_archive_names_a_truncated_archive(tmp_path):
    truncated = tmp_path / "model.tar.gz"
    truncated.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6)
    with pytest.raises(ArchiveError, match=f"^{truncated}: truncated") as caught:
        load_archive(truncated)
    # the error AllenNLP's loader raised is kept as the cause
    assert isinstance(caught.value.__cause__, EOFError)


def test_the_predictor_loaders_of_serve_and_spacy_name_the_archive(tmp_path):
    from spert_mt_plugin.spacy_component import SpertMTComponent

    truncated = tmp_path / "model.tar.gz"
    truncated.write_bytes(b"\x1f\x8b\x08\x00" + b"\x00" * 6)
    with pytest.raises(ArchiveError, match=f"^{truncated}: truncated"):
        load_predictor(truncated)
    with pytest.raises(ArchiveError, match=f"^{truncated}: truncated"):
        SpertMTComponent(name="spert_mt", archive=str(truncated))
