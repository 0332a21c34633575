"""
SpERT documents from `Sentence`s: the hub of the conversions between brat standoff folders,
doccano JSONL, Label Studio JSON, SpERT JSON and DyGIE jsonl.

Every other format is read into `Sentence`s and validated as the dataset readers do (so conversion
accepts exactly what training accepts), and written from SpERT documents
`{"tokens", "entities": [{"type", "start", "end"}], "relations": [{"type", "head", "tail"}],
"orig_id"}`, where `orig_id` is `name#sentence` for a sentence of a multi-sentence document. Each
format's conversions stand with the format: `brat_sentences.brat_to_spert`, `brat.spert_to_brat`,
`doccano`, `label_studio_conversion` and `dygie`; the exports to the text-annotation tools read
SpERT JSON as texts with character offsets (`text_documents`). `atomic.write_json` writes the
results.
"""

from typing import Any, Dict, Iterable, List, Optional, Tuple

from spert_mt_plugin.formats.brat import Skipped
from spert_mt_plugin.formats.sentence import Sentence, validate_sentence
from spert_mt_plugin.formats.types_file import EntityRelationTypes


def sentence_to_spert(sentence: Sentence) -> Dict[str, Any]:
    """The SpERT document of `sentence`: its entities and relations only when it is annotated."""
    document: Dict[str, Any] = {"tokens": sentence.tokens}
    if sentence.annotated:
        document["entities"] = [{"type": t, "start": s, "end": e} for s, e, t in sentence.entities]
        document["relations"] = [{"type": r, "head": h, "tail": t} for h, t, r in sentence.relations or []]
    if sentence.doc_id is not None:
        document["orig_id"] = sentence.doc_id
    return document


def validated_sentences(items: Iterable[Tuple[str, Sentence]], types: Optional[EntityRelationTypes]) -> List[Sentence]:
    """The sentences of `items` that have words, validated against `types`; unannotated ones pass."""
    sentences = []
    for location, sentence in items:
        validate_sentence(sentence, location, types, require_annotation=False)
        if sentence.tokens:
            sentences.append(sentence)
    return sentences


def records_to_spert(
    records: Iterable[Tuple[List[Skipped], List[Tuple[str, Sentence]]]], types: Optional[EntityRelationTypes]
) -> Tuple[List[Dict[str, Any]], EntityRelationTypes, List[Skipped]]:
    """
    The SpERT documents of the records of a text-annotation tool's export (per record, its report
    and its located sentences), their types (`types`, else the labels seen, none symmetric) and the
    reports of all records.
    """
    documents: List[Dict[str, Any]] = []
    skipped: List[Skipped] = []
    for record_skipped, located in records:
        skipped.extend(record_skipped)
        documents.extend(sentence_to_spert(sentence) for sentence in validated_sentences(located, types))
    if types is None:
        entity_types = {entity["type"] for document in documents for entity in document.get("entities", [])}
        relation_types = {relation["type"] for document in documents for relation in document.get("relations", [])}
        types = EntityRelationTypes(sorted(entity_types), sorted(relation_types))
    return documents, types, skipped
