"""
Label constants shared by the readers, the vocabulary, the model and the service.
"""

NO_ENTITY = "NA"
"""The label of candidate spans that are not entities."""

ENTITY_LABELS = "entity_labels"
"""Vocabulary namespace of entity labels: `NO_ENTITY` first, then the types file's order."""

RELATION_LABELS = "relation_labels"
"""Vocabulary namespace of relation labels (no "no relation" label: a pair without one has `-1`)."""

SYMMETRIC_RELATION_LABELS = "symmetric_relation_labels"
"""Vocabulary namespace listing the relation types marked symmetric in the types file."""
