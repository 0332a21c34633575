import json

from spert_mt_plugin.formats import dygie
from spert_mt_plugin.formats.sentence import Sentence
from spert_mt_plugin.formats.types_file import EntityRelationTypes


def test_read_sentences_makes_indices_sentence_level_and_restores_brackets(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text(
        json.dumps(
            {
                "doc_key": "d",
                "sentences": [["Bob", "left"], ["Acme", "-LRB-", "Oslo", "-RRB-"]],
                "ner": [[[0, 0, "Person"]], [[2, 2, "ORG"], [4, 4, "LOC"]]],
                "relations": [[], [[4, 4, 2, 2, "LOCATED-IN"]]],
            }
        )
        + "\n"
    )
    assert list(dygie.read_sentences(str(path))) == [
        (f"{path}, line 1 (doc_key d), sentence 0", Sentence(["Bob", "left"], [(0, 1, "Person")], [], "d#0")),
        (
            f"{path}, line 1 (doc_key d), sentence 1",
            Sentence(["Acme", "(", "Oslo", ")"], [(0, 1, "ORG"), (2, 3, "LOC")], [(1, 0, "LOCATED-IN")], "d#1"),
        ),
    ]


def test_match_type_case_takes_the_types_file_spelling():
    types = EntityRelationTypes(["Org", "Loc"], ["Located-In"])
    sentence = Sentence(["Acme", "Oslo"], [(0, 1, "ORG"), (1, 2, "Place")], [(1, 0, "LOCATED-IN")])
    assert dygie.match_type_case(sentence, types) == Sentence(
        ["Acme", "Oslo"], [(0, 1, "Org"), (1, 2, "Place")], [(1, 0, "Located-In")]
    )
    unannotated = Sentence(["Acme"], None, None)
    assert dygie.match_type_case(unannotated, types) == Sentence(["Acme"], None, None)
