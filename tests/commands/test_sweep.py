from spert_mt_plugin.commands.sweep import run_sweep
from tests.results.test_sweep import fake_run


def test_the_command_writes_the_plot_and_the_table(tmp_path, capsys):
    a = [fake_run(tmp_path / "a" / str(n), n, 0.8, 0.6) for n in (20, 60)]
    b = [fake_run(tmp_path / "b" / str(n), n, 0.7, 0.5) for n in (20, 60)]
    output = tmp_path / "figure3.png"
    run_sweep(
        [
            "--series",
            "SpERT.MT",
            *a,
            "--series",
            "SpERT",
            *b,
            "--parameter",
            "model.negative_entities",
            "--parameter-label",
            "negatives",
            "-o",
            str(output),
        ]
    )
    assert output.read_bytes()[:4] == b"\x89PNG"
    table = (tmp_path / "figure3.md").read_text()
    assert "| SpERT | 60 | 1 | 70.00 [70.00, 70.00] | 50.00 [50.00, 50.00] | 25.00 [25.00, 25.00] |" in table
    assert table in capsys.readouterr().out
