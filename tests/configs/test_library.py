"""A config copied to any folder finds the jsonnet library shipped in the package."""

import json
import shutil

import _jsonnet
import pytest
from allennlp.common import Params

import spert_mt_plugin  # noqa: F401  (puts the library on AllenNLP's jsonnet path)
from spert_mt_plugin.configs import LIBRARY
from tests.conftest import FIXTURES, PROJECT_ROOT


def test_the_library_ships_inside_the_package():
    assert (LIBRARY / "spert_mt.libsonnet").is_file()
    assert not (PROJECT_ROOT / "training_configs" / "spert_mt.libsonnet").exists()


def test_a_copied_config_evaluates_from_another_folder(tmp_path):
    copy = tmp_path / "elsewhere" / "my_brat.jsonnet"
    copy.parent.mkdir()
    text = (PROJECT_ROOT / "training_configs" / "brat_example.jsonnet").read_text()
    copy.write_text(text.replace("'fixtures/brat'", f"'{FIXTURES / 'brat'}'"))
    # jsonnet alone looks beside the config only
    with pytest.raises(RuntimeError, match='couldn\'t open import "spert_mt.libsonnet"'):
        _jsonnet.evaluate_file(str(copy), ext_vars={})
    params = Params.from_file(str(copy)).as_dict()
    assert params["model"]["type"] == "spert_mt"
    assert params["train_data_path"] == str(FIXTURES / "brat")
    assert params["dataset_reader"]["report_file"] == "brat_report.jsonl"


def test_a_config_beside_its_own_library_uses_that_one(tmp_path):
    # A user's edited copy of the library next to the config wins over the package's.
    shutil.copy(LIBRARY / "spert_mt.libsonnet", tmp_path / "spert_mt.libsonnet")
    library = (tmp_path / "spert_mt.libsonnet").read_text()
    (tmp_path / "spert_mt.libsonnet").write_text(library.replace("max_span_width: 10,", "max_span_width: 7,"))
    config = tmp_path / "conll04.jsonnet"
    shutil.copy(PROJECT_ROOT / "training_configs" / "conll04.jsonnet", config)
    assert json.loads(json.dumps(Params.from_file(str(config)).as_dict()))["model"]["max_span_width"] == 7
