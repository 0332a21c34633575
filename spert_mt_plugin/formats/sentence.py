"""
The sentence every file format is read into, and the checks that make it usable.

Each format (SpERT JSON, DyGIE jsonl, brat) only has to turn its documents into `Sentence`s;
`validate_sentence` holds them all to the same rules, for training as for conversion.
"""

from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from spert_mt_plugin.labels import NO_ENTITY

# (start, exclusive end, type)
Entity = Tuple[int, int, str]
# (index of head entity, index of tail entity, type)
Relation = Tuple[int, int, str]


@dataclass
class Sentence:
    """
    One sentence with its annotation, as the readers hand it to `text_to_instance`.
    `entities` and `relations` are both `None` for an unannotated sentence (text to predict on),
    which is not the same as an annotated sentence without entities (`[]`).
    """

    tokens: List[str]
    entities: Optional[List[Entity]] = field(default_factory=list)
    relations: Optional[List[Relation]] = field(default_factory=list)
    doc_id: Optional[str] = None

    @property
    def annotated(self) -> bool:
        return self.entities is not None


def is_integer(value: object) -> bool:
    """Whether `value` is an integer of the file: JSON's `true` and `false` are not positions."""
    return isinstance(value, int) and not isinstance(value, bool)


def validate_sentence(
    sentence: Sentence,
    location: str,
    types: Optional[EntityRelationTypes] = None,
    require_annotation: bool = True,
) -> None:
    """
    Raises `DataError`, naming `location`, for an annotation that cannot be used. With `types`,
    every entity and relation type must be one of them; with `require_annotation`, an
    unannotated sentence is an error (training and evaluation need the gold).
    """
    tokens = sentence.tokens
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise DataError(f"{location}: 'tokens' must be a list of strings")
    if any(not token or token.isspace() for token in tokens):
        position = next(i for i, t in enumerate(tokens) if not t or t.isspace())
        raise DataError(f"{location}: token {position} is empty or whitespace")
    if not sentence.annotated:
        if require_annotation:
            raise DataError(
                f"{location}: the document has no annotation (its entity and relation keys are "
                "absent); training and evaluation need annotated documents. (An annotated "
                "sentence without entities has empty lists.)"
            )
        return
    if sentence.relations is None:
        raise DataError(f"{location}: the document has entities but no relations key")
    _check_entities(sentence, location, types)
    _check_relations(sentence, location, types)


def _check_entities(sentence: Sentence, location: str, types: Optional[EntityRelationTypes]) -> None:
    length = len(sentence.tokens)
    span_types: Dict[Tuple[int, int], str] = {}
    for index, (start, end, label) in enumerate(sentence.entities):
        if not (is_integer(start) and is_integer(end)):
            raise DataError(f"{location}: entity {index} has non-integer start/end")
        if not 0 <= start < end <= length:
            raise DataError(
                f"{location}: entity {index} spans [{start}, {end}) but the sentence has "
                f"{length} tokens (need 0 <= start < end <= {length})"
            )
        if types is not None and label not in types.entity_types:
            raise DataError(
                f"{location}: entity {index} has type {label!r}, which is not in the types file "
                f"(known: {', '.join(types.entity_types)})"
            )
        if label == NO_ENTITY:
            raise DataError(f"{location}: entity {index} uses the reserved type {NO_ENTITY!r}")
        previous = span_types.setdefault((start, end), label)
        if previous != label:
            raise DataError(
                f"{location}: span [{start}, {end}) is annotated both as {previous!r} and as "
                f"{label!r}; a span takes one entity type"
            )


def _check_relations(sentence: Sentence, location: str, types: Optional[EntityRelationTypes]) -> None:
    pair_types: Dict[Tuple[int, int], str] = {}
    for index, (head, tail, label) in enumerate(sentence.relations):
        for role, target in (("head", head), ("tail", tail)):
            if not is_integer(target) or not 0 <= target < len(sentence.entities):
                raise DataError(
                    f"{location}: relation {index} has {role} {target!r}, but there are "
                    f"{len(sentence.entities)} entities"
                )
        if head == tail:
            raise DataError(
                f"{location}: relation {index} has entity {head} as both head and tail; a "
                "relation links two different entities"
            )
        if types is not None and label not in types.relation_types:
            raise DataError(
                f"{location}: relation {index} has type {label!r}, which is not in the types "
                f"file (known: {', '.join(types.relation_types)})"
            )
        previous = pair_types.setdefault((head, tail), label)
        if previous != label:
            raise DataError(
                f"{location}: entities {head} and {tail} are related both as {previous!r} and "
                f"as {label!r}; a pair takes one relation type"
            )
