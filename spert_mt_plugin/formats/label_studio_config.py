"""
A Label Studio labeling config (XML) read for a model's entity and relation types: which `Labels`
tag names the entities (`from_name`), which `Text` tag it labels (`to_name`) and the task's data key
that tag shows (`value="$text"`), and which of the model's types the project has labels for.

    <View>
      <Relations><Relation value="Works_For"/></Relations>
      <Labels name="label" toName="text"><Label value="Person"/><Label value="Organization"/></Labels>
      <Text name="text" value="$text"/>
    </View>

Of several `Labels` tags on text, the one with the most labels the model knows is taken. The
model's types that the config has no label for are not predicted. A config that has no `Labels`
tag on a `Text` tag, none of the model's entity types among its labels, or no `Relation` of the
model's relation types gets a `LabelingConfigError` saying what is missing and what the model knows.
"""

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass
from typing import List, Sequence, Tuple


class LabelingConfigError(ValueError):
    """A labeling config the model cannot predict for; the message says why in one line."""


@dataclass(frozen=True)
class TagMapping:
    """Where a model's predictions go in a project: tag names, the text's data key, the types it labels."""

    from_name: str
    to_name: str
    data_key: str
    entity_types: Tuple[str, ...]
    relation_types: Tuple[str, ...]


def tag_mapping(config: str, entity_types: Sequence[str], relation_types: Sequence[str]) -> TagMapping:
    """
    The mapping of the model's `entity_types` and `relation_types` onto the labeling config
    `config`, keeping the types the config has labels for (in the model's order).
    """
    root = _parse(config)
    texts = {tag.get("name"): tag for tag in root.iter() if tag.tag == "Text" and tag.get("name")}
    candidates: List[Tuple[int, ElementTree.Element]] = []
    for tag in root.iter():
        if tag.tag == "Labels" and tag.get("toName") in texts:
            values = {label.get("value") for label in tag.iter("Label")}
            candidates.append((sum(t in values for t in entity_types), tag))
    if not candidates:
        raise LabelingConfigError(
            "the labeling config has no <Labels> tag on a <Text> tag (toName naming it): spert-mt predicts "
            "labelled spans of text"
        )
    known, labels = max(candidates, key=lambda candidate: candidate[0])
    if known == 0:
        seen = sorted({label.get("value", "") for _, tag in candidates for label in tag.iter("Label")})
        raise LabelingConfigError(
            f"none of the labeling config's labels ({', '.join(seen) or 'none'}) is an entity type of the model "
            f"({', '.join(entity_types)})"
        )
    relation_values = {relation.get("value") for relation in root.iter("Relation")}
    relations = tuple(t for t in relation_types if t in relation_values)
    if not relations:
        has = f"relations {', '.join(sorted(v for v in relation_values if v))}" if relation_values else "no <Relation>"
        raise LabelingConfigError(
            f"the labeling config has {has}, none of them a relation type of the model ({', '.join(relation_types)}): "
            'add <Relations><Relation value="..."/></Relations>'
        )
    values = {label.get("value") for label in labels.iter("Label")}
    text = texts[labels.get("toName")]
    source = text.get("value", "")
    if not source.startswith("$") or len(source) < 2:
        raise LabelingConfigError(
            f"the <Text> tag {text.get('name')!r} shows {source!r}, not a task's data key ($name): spert-mt needs "
            "the text in the task's data"
        )
    return TagMapping(
        from_name=labels.get("name", ""),
        to_name=text.get("name", ""),
        data_key=source[1:],
        entity_types=tuple(t for t in entity_types if t in values),
        relation_types=relations,
    )


def _parse(config: str) -> ElementTree.Element:
    if not isinstance(config, str) or not config.strip():
        raise LabelingConfigError("no labeling config was sent (label_config / schema is empty)")
    try:
        return ElementTree.fromstring(config)
    except ElementTree.ParseError as error:
        raise LabelingConfigError(f"the labeling config is not XML: {error}") from None
