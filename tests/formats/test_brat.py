import pytest

from spert_mt_plugin.formats.brat import (
    BratEntity,
    BratRelation,
    Skipped,
    read_brat_document,
    spert_to_brat,
    write_brat_document,
)
from spert_mt_plugin.formats.brat_sentences import brat_to_spert
from spert_mt_plugin.formats.errors import DataError
from tests.conftest import FIXTURES
from tests.formats.test_reader_regressions import brat_sentences
from tests.formats.test_text_documents import PREDICTED_TEXT, write_document_prediction


def test_brat_repeated_id_is_a_data_error(tmp_path):
    # the second T1 silently replaced the first
    with pytest.raises(DataError, match=r"doc.ann, line 2: the id T1 is already used on line 1"):
        brat_sentences(tmp_path, "Bob met Eve.", "T1\tPerson 0 3\tBob\nT1\tPerson 8 11\tEve\n")


@pytest.mark.parametrize(
    "text, ann, message",
    [
        (b"Bob \xff left.", "T1\tPerson 0 3\tBob\n", r"doc.txt, line 1: not UTF-8 text"),
        ("Bob left.", b"T1\tPerson 0 3\tBob\nT2\tPerson 4 8\tl\xefft\n", r"doc.ann, line 2: not UTF-8 text"),
    ],
)
def test_brat_files_that_are_not_utf8_are_data_errors(tmp_path, text, ann, message):
    # was UnicodeDecodeError
    with pytest.raises(DataError, match=message):
        brat_sentences(tmp_path, text, ann)


def test_a_written_document_reads_back_with_its_scores_as_notes(tmp_path):
    write_brat_document(
        tmp_path, "doc", "Bob met Eve.", [(0, 3, "Person", None), (8, 11, "Person", 0.5)], [(0, 1, "Knows", 0.25)]
    )
    assert (tmp_path / "doc.ann").read_text() == (
        "T1\tPerson 0 3\tBob\n"
        "T2\tPerson 8 11\tEve\n"
        "R1\tKnows Arg1:T1 Arg2:T2\n"
        "#1\tAnnotatorNotes T2\tscore 0.5000\n"
        "#2\tAnnotatorNotes R1\tscore 0.2500\n"
    )
    document = read_brat_document(tmp_path / "doc.txt")
    ann_path = str(tmp_path / "doc.ann")
    assert document.text == "Bob met Eve." and document.annotated
    assert document.entities == {
        "T1": BratEntity("T1", "Person", 0, 3, 1),
        "T2": BratEntity("T2", "Person", 8, 11, 2),
    }
    assert document.relations == [BratRelation("R1", "Knows", "T1", "T2", 3)]
    assert document.skipped == [
        Skipped(ann_path, 4, "note", "#1\tAnnotatorNotes T2\tscore 0.5000", "notes are not represented"),
        Skipped(ann_path, 5, "note", "#2\tAnnotatorNotes R1\tscore 0.2500", "notes are not represented"),
    ]


def test_edge_whitespace_is_trimmed_and_a_discontinuous_entity_is_reported(tmp_path):
    (tmp_path / "doc.txt").write_text("Ann met Bo Li.")
    (tmp_path / "doc.ann").write_text("T1\tPerson 0 4\tAnn \nT2\tPerson 8 10;11 13\tBo Li\n*\tMarried_To T1 T2\n")
    document = read_brat_document(tmp_path / "doc.txt")
    assert document.entities == {"T1": BratEntity("T1", "Person", 0, 3, 1)}
    assert document.skipped == [
        Skipped(
            str(tmp_path / "doc.ann"),
            2,
            "discontinuous entity",
            "T2\tPerson 8 10;11 13\tBo Li",
            "an entity must be one contiguous span",
        )
    ]
    # An equivalence may name a discontinuous entity: the file is valid, and the pair that cannot be
    # represented is reported when the document becomes sentences.
    assert document.equivalences == [("Married_To", ["T1", "T2"], 3)]


CONF = str(FIXTURES / "brat" / "annotation.conf")


def test_predictions_become_brat_with_the_original_text_and_scores_as_notes(tmp_path):
    write_document_prediction(tmp_path / "pred.jsonl", 3.25, 1.5, 0.9, 2.0)
    spert_to_brat(str(tmp_path / "pred.jsonl"), str(tmp_path / "brat"))
    assert (tmp_path / "brat" / "news_7.txt").read_text() == PREDICTED_TEXT
    ann = (tmp_path / "brat" / "news_7.ann").read_text().splitlines()
    assert ann[:4] == [
        "T1\tPerson 0 3\tBob",
        "T2\tLocation 18 22\tOslo",
        "T3\tPerson 24 27\tEve",
        "R1\tLocated_In Arg1:T1 Arg2:T2",
    ]
    assert "#4\tAnnotatorNotes R1\tscore 0.9000" in ann
    # corrected in brat, it is training data again
    documents, _, skipped = brat_to_spert(str(tmp_path / "brat"), CONF)
    assert documents[0]["relations"] == [{"type": "Located_In", "head": 0, "tail": 1}]
    assert [s.kind for s in skipped] == ["note"] * 4
