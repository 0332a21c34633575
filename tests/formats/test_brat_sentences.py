from spert_mt_plugin.formats.brat_sentences import read_folder
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.types_file import EntityRelationTypes
from tests.conftest import FIXTURES

BRAT = FIXTURES / "brat"


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
