"""
The relations the spaCy component predicts, stored so that every serialisation keeps them: token
offsets, labels and scores in the attrs of the component's span group (`RELATIONS_ATTR`), turned
into `Relation`s of `Span`s by the getter of the `doc._.spert_mt_relations` extension.
"""

from typing import List, NamedTuple, Optional

from spacy.tokens import Doc, Span

RELATIONS_EXTENSION = "spert_mt_relations"
# Key of the span group's attrs that holds the relations as plain lists, dicts, strings and
# numbers: the group and its attrs are what `doc.to_bytes`, any `DocBin` and `nlp.pipe(n_process=...)`
# carry, whereas Span objects in `doc.user_data` cannot be serialised at all.
RELATIONS_ATTR = "spert_mt_relations"


class Relation(NamedTuple):
    head: Span
    tail: Span
    label: str
    score: float

    @property
    def in_ents(self) -> bool:
        """Whether both arguments are entities of `doc.ents` now (same tokens, same type)."""
        ents = {(ent.start, ent.end, ent.label_) for ent in self.head.doc.ents}
        return all((span.start, span.end, span.label_) in ents for span in (self.head, self.tail))


def get_relations(doc: Doc) -> Optional[List[Relation]]:
    """
    The relations stored in the attrs of the doc's span groups (`None` if the component has not
    run), as `Relation`s whose arguments are new `Span`s of `doc`.
    """
    groups = [group for group in doc.spans.values() if RELATIONS_ATTR in group.attrs]
    if not groups:
        return None
    relations: List[Relation] = []
    seen = set()
    for group in groups:
        for stored in group.attrs[RELATIONS_ATTR]:
            key = (tuple(stored["head"]), tuple(stored["tail"]), stored["label"])
            # A group copied to another key carries the same relations: list them once.
            if key in seen:
                continue
            seen.add(key)
            head, tail = (Span(doc, start, end, label=label) for start, end, label in (stored["head"], stored["tail"]))
            relations.append(Relation(head, tail, stored["label"], float(stored["score"])))
    return relations


# force: a reloaded module replaces the getter instead of keeping a stale one.
Doc.set_extension(RELATIONS_EXTENSION, getter=get_relations, force=True)
