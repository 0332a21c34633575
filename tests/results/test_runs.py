from spert_mt_plugin.results.runs import plan_runs


def test_runs_are_planned_per_fold_and_seed(tmp_path):
    runs = plan_runs(["a/ade.jsonnet"], [1, 2], [0, 3])
    assert [(r.fold, r.seed) for r in runs] == [(0, 1), (0, 2), (3, 1), (3, 2)]
    assert runs[2].directory(tmp_path) == tmp_path / "ade" / "fold_3" / "seed_1"
    assert plan_runs(["conll04.jsonnet"], [5], None)[0].directory(tmp_path) == tmp_path / "conll04" / "seed_5"
