from collections import Counter
from pathlib import Path

from spert_mt_plugin.dataset_readers import SpertJsonReader
from spert_mt_plugin.formats.atomic import write_json
from spert_mt_plugin.formats.brat import read_brat_document, spert_to_brat
from spert_mt_plugin.formats.brat_sentences import brat_to_spert, read_folder
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from tests.conftest import FIXTURES

BRAT = FIXTURES / "brat"
CONF = str(BRAT / "annotation.conf")


def test_read_folder_gives_each_document_with_its_located_sentences():
    types = EntityRelationTypes.from_file(str(BRAT / "annotation.conf"))
    read = list(read_folder(str(BRAT), blank_pipeline("en"), types))
    assert [document.name for document, _ in read] == ["doc1", "doc2"]
    document, sentences = read[0]
    assert [location for location, _ in sentences] == [f"{document.ann_path}, sentence {n}" for n in range(3)]
    assert [sentence.doc_id for _, sentence in sentences] == ["doc1#0", "doc1#1", "doc1#2"]
    assert sentences[0][1].tokens[:2] == ["Ada", "Lovelace"] and sentences[0][1].entities[0] == (0, 2, "Person")
    # what cannot be represented is in the document's report, with its line
    assert sorted((item.line, item.kind) for item in document.skipped) == [
        (12, "relation"),
        (14, "attribute"),
        (15, "note"),
    ]


def brat_annotations(folder):
    """Per document: entities as (type, text) and relations as (type, head text, tail text)."""
    result = {}
    for txt in sorted(Path(folder).glob("*.txt")):
        document = read_brat_document(txt)
        text = lambda e: " ".join(document.text[e.start : e.end].split())  # noqa: E731
        entities = Counter((e.type, text(e)) for e in document.entities.values())
        relations = Counter(
            (r.type, text(document.entities[r.head]), text(document.entities[r.tail]))
            for r in document.relations
            if r.head in document.entities and r.tail in document.entities
        )
        result[txt.stem] = (entities, relations)
    return result


def test_brat_to_json_to_brat_keeps_every_representable_annotation(tmp_path):
    documents, types, skipped = brat_to_spert(str(BRAT), CONF)
    write_json(documents, str(tmp_path / "data.json"))
    assert spert_to_brat(str(tmp_path / "data.json"), str(tmp_path / "back")) == 2
    original, back = brat_annotations(BRAT), brat_annotations(tmp_path / "back")
    # doc1: every entity; every relation but R4 (across sentences), plus the Married_To equivalence
    entities, relations = original["doc1"]
    assert back["doc1"][0] == entities
    across_sentences = Counter({("Works_For", "Ada Lovelace", "Acme"): 1})
    assert back["doc1"][1] == relations - across_sentences + Counter({("Married_To", "Bob", "Carol"): 1})
    # doc2: all but the discontinuous entity and the relation to it; "Yahoo! Inc" comes back tokenised
    entities, relations = original["doc2"]
    changed = Counter({("Organization", "University Oslo"): 1, ("Organization", "Yahoo! Inc"): 1})
    assert back["doc2"][0] == entities - changed + Counter({("Organization", "Yahoo ! Inc"): 1})
    assert len(back["doc2"][1]) == 4
    # a second round trip changes nothing
    again, _, _ = brat_to_spert(str(tmp_path / "back"), CONF)
    assert again == documents
    kinds = sorted(item.kind for item in skipped)
    assert kinds == ["attribute", "discontinuous entity", "event", "note", "relation", "relation"]


def test_converted_json_is_reader_input(tmp_path):
    documents, _, _ = brat_to_spert(str(BRAT), CONF)
    write_json(documents, str(tmp_path / "data.json"))
    instances = list(SpertJsonReader({}, types_file=CONF).read(str(tmp_path / "data.json")))
    assert [i["metadata"].metadata["doc_id"] for i in instances] == ["doc1#0", "doc1#1", "doc1#2", "doc2#0", "doc2#1"]
