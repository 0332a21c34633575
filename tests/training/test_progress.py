from spert_mt_plugin.training.progress import ProgressCallback


def test_progress_line_names_the_run_and_estimates_the_rest(tmp_path):
    callback = ProgressCallback(str(tmp_path), label="conll04 (seed 13)", num_epochs=20)
    # A run resumed after its 5th epoch: the first epoch this process ends is the 6th (index 5).
    callback.on_epoch(trainer=None, metrics={}, epoch=5)
    assert callback.line(6, elapsed=240.0) == (
        "[spert-experiments] conll04 (seed 13): epoch 7/20 (2.0 min/epoch), run ETA 26 min"
    )


def test_progress_line_without_the_number_of_epochs(tmp_path):
    callback = ProgressCallback(str(tmp_path), label="run")
    assert callback.line(0, elapsed=90.0) == "[spert-experiments] run: epoch 1 (1.5 min/epoch)"
