"""
The user's own entities in a prediction request ("relations between my entities"), checked and
turned into word spans of the sentences the model sees.
"""

from numbers import Integral
from typing import Any, List, Optional, Sequence, Tuple

from spert_mt_plugin.dataset_readers.span_relation_reader import GivenEntity


class GivenEntityError(ValueError):
    """An entity of the request that cannot be used; the predictor prefixes where the input is."""


def _known_type(label: Any, where: str, known_types: Sequence[str]) -> Optional[str]:
    if label is None:
        return None
    if label not in known_types:
        raise GivenEntityError(f"{where}: unknown type {label!r}; the model knows {', '.join(known_types)}")
    return label


def _entity_type(entity: Any, index: int, known_types: Sequence[str]) -> Optional[str]:
    return _known_type(entity.get("type"), f"entities[{index}]", known_types)


def _check_span(start: int, end: int, num_words: int, where: str) -> None:
    if not 0 <= start < end <= num_words:
        raise GivenEntityError(f"{where}: words {start}..{end} (end exclusive) are not a span of the {num_words} words")


def _integer(entity: Any, index: int, key: str) -> int:
    value = entity.get(key)
    # bool is an int in Python, but `true` is not an offset.
    if not isinstance(value, int) or isinstance(value, bool):
        raise GivenEntityError(f"entities[{index}]: '{key}' must be an integer, got {value!r}")
    return value


def _entity_objects(entities: Any, keys: Tuple[str, str]) -> List[Any]:
    if not isinstance(entities, list):
        raise GivenEntityError(f"'entities' must be a list of objects with {keys[0]!r} and {keys[1]!r}")
    for index, entity in enumerate(entities):
        if not isinstance(entity, dict):
            raise GivenEntityError(f"entities[{index}] must be an object, got {type(entity).__name__}")
    return entities


def word_entities(entities: Any, num_words: int, known_types: Sequence[str]) -> List[GivenEntity]:
    """Entities given as word spans `{"start", "end" (exclusive), "type"?}` of a sentence of `num_words` words."""
    given = []
    for index, entity in enumerate(_entity_objects(entities, ("start", "end"))):
        start, end = _integer(entity, index, "start"), _integer(entity, index, "end")
        _check_span(start, end, num_words, f"entities[{index}]")
        given.append((start, end, _entity_type(entity, index, known_types)))
    return given


def word_span_entities(entities: Any, num_words: int, known_types: Sequence[str]) -> List[GivenEntity]:
    """
    Entities given to the Python API (`SpertMTPredictor.predict_sentences`) as
    `(start, exclusive end, type or None)` word spans of a sentence of `num_words` words, checked
    as `word_entities` checks those of a JSON request; errors name the entity by index and value.
    """
    if isinstance(entities, (str, bytes)) or not isinstance(entities, Sequence):
        raise GivenEntityError(
            f"the entities must be a list of (start, end, type or None), got {type(entities).__name__}"
        )
    given = []
    for index, entity in enumerate(entities):
        if isinstance(entity, (str, bytes)) or not isinstance(entity, Sequence) or len(entity) != 3:
            raise GivenEntityError(f"entities[{index}] must be (start, end, type or None), got {entity!r}")
        start, end, label = entity
        where = f"entities[{index}] {tuple(entity)!r}"
        # bool is an int in Python, but True is not a word index; numpy integers are fine.
        if any(not isinstance(value, Integral) or isinstance(value, bool) for value in (start, end)):
            raise GivenEntityError(f"{where}: start and end must be integers")
        _check_span(int(start), int(end), num_words, where)
        given.append((int(start), int(end), _known_type(label, where, known_types)))
    return given


def character_entities(
    entities: Any, sentences: Sequence[Sequence[Tuple[int, int]]], known_types: Sequence[str]
) -> List[List[GivenEntity]]:
    """
    Entities given as character spans `{"char_start", "char_end" (exclusive), "type"?}` of a raw
    text, as word spans of its sentences (`sentences`: each sentence's words' character offsets).
    A span must start where a word starts and end where a word ends, and lie in one sentence:
    anything else is an error rather than a silently moved boundary.
    """
    per_sentence: List[List[GivenEntity]] = [[] for _ in sentences]
    starts = {offsets[0]: (s, w) for s, words in enumerate(sentences) for w, offsets in enumerate(words)}
    ends = {offsets[1]: (s, w) for s, words in enumerate(sentences) for w, offsets in enumerate(words)}
    for index, entity in enumerate(_entity_objects(entities, ("char_start", "char_end"))):
        char_start, char_end = _integer(entity, index, "char_start"), _integer(entity, index, "char_end")
        if char_start >= char_end:
            raise GivenEntityError(f"entities[{index}]: char_start {char_start} is not before char_end {char_end}")
        if char_start not in starts or char_end not in ends:
            edge = char_start if char_start not in starts else char_end
            raise GivenEntityError(
                f"entities[{index}]: characters {char_start}..{char_end} do not start and end on word boundaries "
                f"(offset {edge} falls inside or between words); give the words' exact offsets"
            )
        (sentence, first), (end_sentence, last) = starts[char_start], ends[char_end]
        if sentence != end_sentence or last < first:
            raise GivenEntityError(f"entities[{index}]: characters {char_start}..{char_end} cross a sentence boundary")
        per_sentence[sentence].append((first, last + 1, _entity_type(entity, index, known_types)))
    return per_sentence
