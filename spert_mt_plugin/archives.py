"""
Loading a model archive (`model.tar.gz`) with an error that names it and says what is wrong:
AllenNLP's `load_archive` and `Predictor.from_path`, whose errors on a bad archive are put in terms
of the file (`archive_errors.explain`). spert-serve, the spaCy component, the experiments' test
predictions and the corpus prediction load through them.
"""

import os
from typing import Any, Optional

from spert_mt_plugin.archive_errors import ArchivePath, explain


def load_archive(archive: ArchivePath, **kwargs: Any):
    """AllenNLP's `load_archive` (same arguments), with an `ArchiveError` naming the archive for a bad one."""
    from allennlp.models.archival import load_archive as allennlp_load_archive

    try:
        return allennlp_load_archive(os.fspath(archive), **kwargs)
    except Exception as error:
        explained = explain(error, archive)
        if explained is None or explained is error:
            raise
        raise explained from error


def load_predictor(
    archive: ArchivePath,
    predictor_name: Optional[str] = "spert_mt",
    cuda_device: int = -1,
    dataset_reader_to_load: str = "validation",
    frozen: bool = True,
    overrides: str = "",
    **kwargs: Any,
):
    """`Predictor.from_path` (same arguments; the spert_mt predictor by default) through `load_archive` above."""
    from allennlp.predictors import Predictor

    loaded = load_archive(archive, cuda_device=cuda_device, overrides=overrides)
    return Predictor.from_archive(
        loaded, predictor_name, dataset_reader_to_load=dataset_reader_to_load, frozen=frozen, extra_args=kwargs
    )
