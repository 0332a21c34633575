import argparse

import pytest

from spert_mt_plugin.commands.label_studio_backend import LabelStudioBackend, backend_from_args


def backend_arguments(*flags: str) -> argparse.Namespace:
    """The arguments as `allennlp spert-label-studio-backend FLAGS` parses them."""
    parser = argparse.ArgumentParser(prog="allennlp")
    LabelStudioBackend().add_subparser(parser.add_subparsers())
    return parser.parse_args(["spert-label-studio-backend", *flags])


def test_the_backend_listens_where_label_studio_looks_with_one_worker_of_two_threads(monkeypatch):
    monkeypatch.delenv("LABEL_STUDIO_URL", raising=False)
    args = backend_arguments("model.tar.gz")
    assert (args.port, args.workers, args.threads, args.max_request_bytes) == (9090, 1, 2, 50_000_000)
    assert (args.train_config, args.fine_tune, args.held_out_every, args.label_studio_url) == (None, False, 5, None)
    # the model options of spert-serve come along
    assert (args.entity_threshold, args.precision, args.max_request_words) == (None, "auto", 20000)


def test_label_studios_address_is_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("LABEL_STUDIO_URL", "http://localhost:8080")
    assert backend_arguments("model.tar.gz").label_studio_url == "http://localhost:8080"


@pytest.mark.parametrize(
    "flags, error, message",
    [
        (["--train-config", "no/such.jsonnet"], FileNotFoundError, "--train-config no/such.jsonnet: no such file"),
        (["--held-out-every", "1"], ValueError, "--held-out-every must be at least 2, got 1"),
    ],
)
def test_bad_training_options_stop_before_the_model_loads(flags, error, message):
    with pytest.raises(error, match=message):
        backend_from_args(backend_arguments("model.tar.gz", *flags))
