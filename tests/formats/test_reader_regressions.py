"""
What the readers' fuzzing (tests/dataset_readers/test_fuzz_*.py) found, pinned as plain examples:
valid files that were rejected, broken ones that raised another exception than `DataError`, and
annotations that were silently changed.
"""

import json

import pytest

from spert_mt_plugin.formats import dygie, spert_json
from spert_mt_plugin.formats.brat_sentences import read_folder
from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, validate_sentence
from spert_mt_plugin.formats.text import blank_pipeline
from spert_mt_plugin.formats.types_file import EntityRelationTypes

TYPES = EntityRelationTypes(["Person", "Org"], ["Works_For"])


def spert_sentences(path):
    sentences = []
    for location, sentence in spert_json.read_sentences(str(path)):
        validate_sentence(sentence, location, TYPES)
        sentences.append(sentence)
    return sentences


@pytest.mark.parametrize("separator", ["\u2028", "\u2029", "\x85"])
def test_json_lines_keep_line_separators_inside_strings(tmp_path, separator):
    # JSON allows these unescaped in a string (json.dumps(ensure_ascii=False) writes them so);
    # str.splitlines() cut the line there.
    path = tmp_path / "data.jsonl"
    document = {"tokens": [f"a{separator}b", "c"], "entities": [{"type": "Person", "start": 0, "end": 1}]}
    document["relations"] = []
    path.write_text(json.dumps(document, ensure_ascii=False) + "\n", encoding="utf-8")
    assert spert_sentences(path) == [Sentence([f"a{separator}b", "c"], [(0, 1, "Person")], [], None)]


@pytest.mark.parametrize(
    "content, message",
    [
        (b'{"tokens": ["a"]}\n{"tokens": ["\xff"]}\n', r"data.json, line 2: not UTF-8 text"),
        (b"[" * 100_000 + b"]" * 100_000, r"data.json: malformed JSON: maximum recursion depth"),
        (b'{"tokens": ["a"], "orig_id": ' + b"9" * 5000 + b"}\n", r"data.json, line 1: malformed JSON: Exceeds"),
    ],
)
def test_unreadable_json_is_a_data_error_naming_the_file(tmp_path, content, message):
    # were UnicodeDecodeError, RecursionError and ValueError (Python's 4300-digit limit)
    path = tmp_path / "data.json"
    path.write_bytes(content)
    with pytest.raises(DataError, match=message):
        list(spert_json.read_sentences(str(path)))


@pytest.mark.parametrize(
    "entities, relations",
    [
        ([{"type": "Person", "start": False, "end": True}], []),
        ([{"type": "Person", "start": 0, "end": True}], []),
        (
            [{"type": "Person", "start": 0, "end": 1}, {"type": "Org", "start": 1, "end": 2}],
            [{"type": "Works_For", "head": False, "tail": True}],
        ),
    ],
)
def test_booleans_are_not_positions(tmp_path, entities, relations):
    # true and false passed for 1 and 0 (bool is an int in Python): the entity [0, 1) was read
    path = tmp_path / "data.json"
    path.write_text(json.dumps([{"tokens": ["Bob", "Acme"], "entities": entities, "relations": relations}]))
    with pytest.raises(DataError, match=r"data.json, document 0: .*(non-integer|relation 0 has head False)"):
        spert_sentences(path)


def dygie_file(tmp_path, **fields):
    document = {"doc_key": "d", "sentences": [["Bob", "left", "Acme"]], "ner": [[[0, 0, "Person"], [2, 2, "Org"]]]}
    document["relations"] = [[[0, 0, 2, 2, "Works_For"]]]
    document.update(fields)
    path = tmp_path / "data.jsonl"
    path.write_text(json.dumps(document) + "\n")
    return path


@pytest.mark.parametrize(
    "fields, message",
    [
        ({"ner": [None]}, r"the 'ner' entry of a sentence must be a list"),  # was TypeError
        ({"relations": [-1]}, r"the 'relations' entry of a sentence must be a list"),
        ({"ner": [[[0, 0, None]]]}, r"ner entry 0 has a type that is not a string"),  # was AttributeError
        ({"ner": [[[False, 0, "Person"]]]}, r"ner entry 0 has non-integer indices"),  # was read as 0
        ({"relations": [[[0, 0, 2, 2, None]]]}, r"relation 0 has a type that is not a string"),
        ({"relations": [[[0, [], 2, 2, "Works_For"]]]}, r"relation 0 has non-integer indices"),  # was TypeError
        ({"relations": [[[0.0, 0, 2, 2, "Works_For"]]]}, r"relation 0 has non-integer indices"),  # matched 0
    ],
)
def test_broken_dygie_fields_are_data_errors(tmp_path, fields, message):
    path = dygie_file(tmp_path, **fields)
    with pytest.raises(DataError, match=r"data.jsonl, line 1 \(doc_key d\), sentence 0: " + message):
        for location, sentence in dygie.read_sentences(str(path)):
            validate_sentence(dygie.match_type_case(sentence, TYPES), location, TYPES)


def test_dygie_label_that_is_a_type_name_keeps_its_spelling():
    # types "Org" and "ORG": "Org" became "ORG" (the last name of that lower case)
    types = EntityRelationTypes(["Org", "ORG"], ["Works_For"])
    sentence = Sentence(["Acme", "IBM", "x"], [(0, 1, "Org"), (1, 2, "ORG"), (2, 3, "org")], [])
    # "org" matches both in case: it stays as it is, an unknown type for validate_sentence
    assert dygie.match_type_case(sentence, types).entities == [(0, 1, "Org"), (1, 2, "ORG"), (2, 3, "org")]


CONF = "[entities]\nPerson\nOrg\n[relations]\nWorks_For\tArg1:Person, Arg2:Org\n"


def brat_sentences(tmp_path, text, ann):
    (tmp_path / "annotation.conf").write_text(CONF)
    folder = tmp_path / "brat"
    folder.mkdir()
    (folder / "doc.txt").write_bytes(text if isinstance(text, bytes) else text.encode("utf-8"))
    (folder / "doc.ann").write_bytes(ann if isinstance(ann, bytes) else ann.encode("utf-8"))
    types = EntityRelationTypes.from_file(str(tmp_path / "annotation.conf"))
    result = []
    for _, located in read_folder(str(folder), blank_pipeline("en"), types):
        for location, sentence in located:
            validate_sentence(sentence, location, types)
            result.append((sentence.tokens, sentence.entities, sentence.relations))
    return result


def test_brat_offsets_count_the_carriage_returns_of_crlf_text(tmp_path):
    # the text was read with newline translation: every offset after a CRLF was off by one
    read = brat_sentences(tmp_path, "Bob left.\r\nEve joined Acme.", "T1\tPerson 11 14\tEve\nT2\tOrg 22 26\tAcme\n")
    assert read[1] == (["Eve", "joined", "Acme", "."], [(0, 1, "Person"), (2, 3, "Org")], [])


@pytest.mark.parametrize("inside", ["\t", "\u2028", "\x85", "\x0c"])
def test_brat_entity_text_may_hold_tabs_and_line_separators(tmp_path, inside):
    # the .ann was cut at U+2028, U+0085 and form feeds (str.splitlines) and its text field at tabs
    text = f"Bob{inside}Smith left."
    read = brat_sentences(tmp_path, text, f"T1\tPerson 0 9\t{text[:9]}\n")
    assert read == [(["Bob", "Smith", "left", "."], [(0, 2, "Person")], [])]


def test_brat_sentences_joined_by_entities_in_any_line_order(tmp_path):
    # an entity over sentences 2-3 listed before one over sentences 0-2 left sentence 3 apart,
    # and the first entity ended outside its sentence: a DataError for a valid document
    text = "Bob left. Eve came. Acme grew. Oslo won."
    acme_oslo, left_acme = (text.index("Acme"), len(text) - 5), (text.index("left"), text.index(" grew"))
    ann = (
        f"T1\tOrg {acme_oslo[0]} {acme_oslo[1]}\t{text[slice(*acme_oslo)]}\n"
        f"T2\tPerson {left_acme[0]} {left_acme[1]}\t{text[slice(*left_acme)]}\n"
    )
    [(tokens, entities, _)] = brat_sentences(tmp_path, text, ann)
    assert tokens == ["Bob", "left", ".", "Eve", "came", ".", "Acme", "grew", ".", "Oslo", "won", "."]
    assert entities == [(1, 7, "Person"), (6, 10, "Org")]
