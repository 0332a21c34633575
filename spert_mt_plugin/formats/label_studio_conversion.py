"""
Conversions between Label Studio JSON exports and SpERT JSON: the export read into SpERT documents
(`label_studio.read_file`, through the hub `spert_documents`) and SpERT JSON written as Label
Studio tasks (`label_studio_results.task`, from `text_documents`). Beside `label_studio`, which reads and
writes the export itself.
"""

from typing import Any, Dict, List, Optional, Tuple

from spert_mt_plugin.formats import label_studio, label_studio_results
from spert_mt_plugin.formats.brat import Skipped
from spert_mt_plugin.formats.spert_documents import records_to_spert
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.text_documents import text_documents
from spert_mt_plugin.formats.types_file import EntityRelationTypes


def labelstudio_to_spert(
    path: str, types_file: Optional[str] = None, language: str = "en", data_key: str = "text"
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of a Label Studio JSON export (`orig_id` `name#N`, the task's name as
    `formats.label_studio` gives it; the first annotation not cancelled), its types (from
    `types_file`, else the labels seen, none symmetric) and the report of what could not be
    represented. The text is `data[data_key]`; a task without annotations gives unannotated documents.
    """
    types = EntityRelationTypes.from_file(types_file) if types_file else None
    tasks = label_studio.read_file(path, blank_pipeline(language), types, data_key)
    return records_to_spert(tasks, types)


def spert_to_labelstudio(
    path: str,
    data_key: str = "text",
    predictions: Optional[bool] = None,
    model_version: str = "spert-mt",
    from_name: str = "label",
    to_name: str = "text",
) -> List[Dict[str, Any]]:
    """
    Label Studio tasks (`formats.label_studio_results.task`) of the documents of a SpERT JSON file (see
    `text_documents`). `predictions`: write the entities and relations as pre-annotations
    (`predictions`, with scores and `model_version`) or as completed `annotations`; `None` decides by
    the file: model output (the predictor's document output, or any score) gives predictions.
    """
    documents = text_documents(path)
    if predictions is None:
        predictions = any(document.predicted for document in documents)
    version = model_version if predictions else None
    return [
        label_studio_results.task(d.name, d.text, d.entities, d.relations, data_key, version, from_name, to_name)
        for d in documents
    ]
