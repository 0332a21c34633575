import subprocess

from tests.conftest import PROJECT_ROOT

GET_DATA = str(PROJECT_ROOT / "scripts" / "get_data.sh")


def test_get_data_links_an_existing_copy(tmp_path):
    source = tmp_path / "shared"
    (source / "conll04").mkdir(parents=True)
    (source / "conll04" / "conll04_types.json").write_text("{}")
    target = tmp_path / "data"
    subprocess.run(["bash", GET_DATA, "--from", str(source), "--to", str(target)], check=True, capture_output=True)
    assert target.is_symlink() and (target / "conll04" / "conll04_types.json").exists()


def test_get_data_refuses_a_folder_without_the_datasets(tmp_path):
    result = subprocess.run(
        ["bash", GET_DATA, "--from", str(tmp_path), "--to", str(tmp_path / "data")], capture_output=True, text=True
    )
    assert result.returncode != 0 and "has no conll04/conll04_types.json" in result.stderr


def test_the_documented_evaluate_commands_write_every_metric():
    # Without --output-file `allennlp evaluate` shows the metrics only in its progress bar, rounded.
    from tests.conftest import PROJECT_ROOT

    for page in [PROJECT_ROOT / "README.md", *sorted((PROJECT_ROOT / "docs").glob("*.md"))]:
        text = page.read_text().replace("\\\n", " ")
        for line in text.splitlines():
            if "allennlp evaluate " in line and line.lstrip().startswith((".venv/bin/allennlp", "allennlp")):
                assert "--output-file" in line, f"{page.name}: {line.strip()}"
