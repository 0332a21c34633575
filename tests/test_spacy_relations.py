"""`spacy_relations`: relations kept as plain data in a span group's attrs, read back as `Relation`s."""

import spacy
from spacy.tokens import SpanGroup

from spert_mt_plugin.spacy_relations import RELATIONS_ATTR, get_relations


def test_relations_are_read_from_every_group_once():
    doc = spacy.blank("en")("Ada lives in Oslo .")
    assert get_relations(doc) is None  # the component has not run
    stored = [{"head": [0, 1, "Person"], "tail": [3, 4, "Location"], "label": "Lives_In", "score": 1.25}]
    doc.spans["spert_mt"] = SpanGroup(doc, name="spert_mt", attrs={RELATIONS_ATTR: stored})
    doc.spans["copy"] = SpanGroup(doc, name="copy", attrs={RELATIONS_ATTR: stored})
    relations = doc._.spert_mt_relations
    assert len(relations) == 1
    relation = relations[0]
    assert (relation.head.text, relation.head.label_, relation.tail.text, relation.tail.label_) == (
        "Ada",
        "Person",
        "Oslo",
        "Location",
    )
    assert (relation.label, relation.score) == ("Lives_In", 1.25)
    assert not relation.in_ents
    doc.ents = [relation.head, relation.tail]
    assert relation.in_ents
