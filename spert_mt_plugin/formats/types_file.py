"""
The SpERT types file: `{"entities": {NAME: {...}}, "relations": {NAME: {"symmetric": bool, ...}}}`,
or a brat `annotation.conf` (any path ending in `.conf`).
"""

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Set

from allennlp.common.file_utils import cached_path

from spert_mt_plugin.formats.errors import DataError


@dataclass
class EntityRelationTypes:
    """The entity and relation type names of a dataset, in the order of its types file."""

    entity_types: List[str]
    relation_types: List[str]
    symmetric_relations: Set[str] = field(default_factory=set)

    def to_json(self) -> Dict[str, Dict[str, Dict[str, object]]]:
        """The SpERT types file content."""
        return {
            "entities": {name: {"short": name, "verbose": name} for name in self.entity_types},
            "relations": {
                name: {"short": name, "verbose": name, "symmetric": name in self.symmetric_relations}
                for name in self.relation_types
            },
        }

    @classmethod
    def from_file(cls, path: str) -> "EntityRelationTypes":
        if str(path).endswith(".conf"):
            return types_from_annotation_conf(str(cached_path(path)))
        local_path = cached_path(path)
        try:
            with open(local_path, encoding="utf-8") as handle:
                content = json.load(handle)
        except json.JSONDecodeError as error:
            raise DataError(f"{path}: the types file is not valid JSON: {error}") from None
        except OSError as error:
            raise DataError(f"{path}: cannot read the types file: {error}") from None
        if not isinstance(content, dict):
            raise DataError(f"{path}: the types file must be a JSON object with 'entities' and 'relations'")
        for key in ("entities", "relations"):
            if not isinstance(content.get(key), dict):
                raise DataError(f"{path}: the types file needs an object under '{key}'")
        symmetric = {
            name
            for name, description in content["relations"].items()
            if isinstance(description, dict) and description.get("symmetric", False)
        }
        return cls(list(content["entities"]), list(content["relations"]), symmetric)


def types_from_annotation_conf(path: str) -> EntityRelationTypes:
    """Entity and relation types of a brat `annotation.conf`; `<REL-TYPE>:symmetric...` marks symmetric ones."""
    sections: Dict[str, List[str]] = {}
    current = None
    try:
        content = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise DataError(f"{path}: cannot read the annotation.conf: {error}") from None
    for raw in content.splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if not line.strip():
            continue
        header = re.fullmatch(r"\s*\[(\w+)\]\s*", line)
        if header:
            current = header.group(1).lower()
            sections.setdefault(current, [])
        elif current is not None:
            sections[current].append(line.strip())
    if "entities" not in sections:
        raise DataError(f"{path}: no [entities] section")
    entity_types = [line.split()[0] for line in sections["entities"] if not line.startswith(("!", "<"))]
    relation_types, symmetric = [], set()
    for line in sections.get("relations", []):
        if line.startswith("<"):
            continue
        name = line.split()[0]
        if name not in relation_types:
            relation_types.append(name)
        if re.search(r"<REL-TYPE>:[\w-]*symmetric", line):
            symmetric.add(name)
    return EntityRelationTypes(entity_types, relation_types, symmetric)
