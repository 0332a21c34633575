"""
The SpERT types file: `{"entities": {NAME: {...}}, "relations": {NAME: {"symmetric": bool, ...}}}`.
"""
import json
from dataclasses import dataclass, field
from typing import List, Set

from allennlp.common.file_utils import cached_path

from spert_mt_plugin.dataset_readers.errors import DataError


@dataclass
class EntityRelationTypes:
    """The entity and relation type names of a dataset, in the order of its types file."""

    entity_types: List[str]
    relation_types: List[str]
    symmetric_relations: Set[str] = field(default_factory=set)

    @classmethod
    def from_file(cls, path: str) -> "EntityRelationTypes":
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
