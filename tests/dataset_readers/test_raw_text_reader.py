from tests.dataset_readers.test_brat import BRAT, CONF, make_reader


def test_a_relative_report_file_goes_into_the_runs_folder(tmp_path):
    from spert_mt_plugin.dataset_readers.raw_text_reader import report_path

    assert report_path("report.jsonl", str(tmp_path / "run")) == str(tmp_path / "run" / "report.jsonl")
    assert report_path("/abs/report.jsonl", str(tmp_path / "run")) == "/abs/report.jsonl"
    assert report_path("report.jsonl", None) == "report.jsonl"
    assert report_path(None, str(tmp_path)) is None
    # AllenNLP passes the run's folder when it builds the reader for training
    reader = make_reader(types_file=CONF, report_file="brat_report.jsonl", serialization_dir=str(tmp_path / "run"))
    list(reader.read(str(BRAT)))
    assert (tmp_path / "run" / "brat_report.jsonl").read_text().count("\n") == len(reader.last_report) > 0
