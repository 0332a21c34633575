"""
`allennlp spert-convert`: brat to SpERT JSON in a subprocess, and between SpERT JSON and doccano or
Label Studio (the conversions themselves are tested with their formats in tests/formats/).
"""

import json
import subprocess
import sys

from allennlp.commands import ArgumentParserWithDefaults

from spert_mt_plugin.commands.convert import Convert
from tests.conftest import FIXTURES, PROJECT_ROOT

TYPES = str(FIXTURES / "doccano" / "types.json")


def convert(*arguments):
    parser = ArgumentParserWithDefaults()
    Convert().add_subparser(parser.add_subparsers())
    args = parser.parse_args(["spert-convert", *arguments])
    args.func(args)


def test_doccano_to_spert_writes_data_types_and_report(tmp_path, capsys):
    convert("doccano-to-spert", str(FIXTURES / "doccano" / "train.jsonl"), str(tmp_path / "train.json"))
    assert "4 sentences, 8 entities, 5 relations" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "train.json").read_text())) == 4
    types = json.loads((tmp_path / "train_types.json").read_text())
    assert list(types["entities"]) == ["Location", "Organization", "Person"]
    report = [json.loads(line) for line in (tmp_path / "train.json.report.jsonl").read_text().splitlines()]
    assert [item["kind"] for item in report] == ["relation", "relation"]


def test_labelstudio_to_spert_and_back_with_another_text_key(tmp_path, capsys):
    tasks = json.loads((FIXTURES / "label_studio" / "tasks.json").read_text())
    for task in tasks:
        task["data"] = {"body": task["data"]["text"]}
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    convert(
        "labelstudio-to-spert",
        str(tmp_path / "export.json"),
        str(tmp_path / "data.json"),
        "--data-key",
        "body",
        "--types-file",
        TYPES,
    )
    output = capsys.readouterr().out
    assert "4 sentences, 10 entities, 5 relations" in output
    assert "not representable: 3 relation, 1 choices result, 1 entity, 1 cancelled task" in output
    convert("spert-to-labelstudio", str(tmp_path / "data.json"), str(tmp_path / "back.json"), "--data-key", "body")
    assert "2 Label Studio tasks (annotations)" in capsys.readouterr().out
    back = json.loads((tmp_path / "back.json").read_text())
    assert back[1]["data"]["body"] == "Eve left Acme for Oslo .\nDan joined Yahoo ! Inc in Paris ."


def test_predictions_to_labelstudio_and_doccano(tmp_path, capsys):
    prediction = {
        "tokens": ["Bob", "met", "Carol", "."],
        "entities": [
            {"type": "Person", "start": 0, "end": 1, "score": 2.0},
            {"type": "Person", "start": 2, "end": 3, "score": 1.0},
        ],
        "relations": [],
    }
    (tmp_path / "pred.jsonl").write_text(json.dumps(prediction) + "\n")
    convert(
        "spert-to-labelstudio",
        str(tmp_path / "pred.jsonl"),
        str(tmp_path / "tasks.json"),
        "--model-version",
        "v2",
        "--from-name",
        "ner",
        "--to-name",
        "doc",
    )
    assert "1 Label Studio tasks (predictions)" in capsys.readouterr().out
    [task] = json.loads((tmp_path / "tasks.json").read_text())
    [predicted] = task["predictions"]
    assert predicted["model_version"] == "v2" and predicted["score"] == 1.5
    assert {(item["from_name"], item["to_name"]) for item in predicted["result"]} == {("ner", "doc")}
    convert("spert-to-labelstudio", str(tmp_path / "pred.jsonl"), str(tmp_path / "gold.json"), "--annotations")
    assert "annotations" in json.loads((tmp_path / "gold.json").read_text())[0]
    convert("spert-to-doccano", str(tmp_path / "pred.jsonl"), str(tmp_path / "records.jsonl"))
    assert "1 doccano records" in capsys.readouterr().out
    [record] = [json.loads(line) for line in (tmp_path / "records.jsonl").read_text().splitlines()]
    assert record["text"] == "Bob met Carol ." and len(record["entities"]) == 2 and "score" not in record["entities"][0]


def test_convert_command(tmp_path):
    command = [
        sys.executable,
        "-m",
        "allennlp",
        "spert-convert",
        "brat-to-spert",
        str(FIXTURES / "brat"),
        str(tmp_path / "data.json"),
    ]
    result = subprocess.run(command, cwd=PROJECT_ROOT, capture_output=True, text=True, check=True)
    assert "5 sentences, 15 entities, 8 relations" in result.stdout
    assert "not representable: 2 relation" in result.stdout
    types = json.loads((tmp_path / "data_types.json").read_text())
    assert list(types["entities"]) == ["Person", "Organization", "Location"]
    assert types["relations"]["Married_To"]["symmetric"]
    assert len((tmp_path / "data.json.report.jsonl").read_text().splitlines()) == 6
