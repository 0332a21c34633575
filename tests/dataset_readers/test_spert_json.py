import json

import pytest

from spert_mt_plugin.dataset_readers import DataError
from tests.dataset_readers.readers_common import SENTENCES, make_reader


def test_reads_every_fixture_sentence_with_its_annotation():
    instances = list(make_reader().read(SENTENCES))
    assert len(instances) == 6
    first = instances[0]["metadata"].metadata
    assert first["tokens"][:2] == ["Ada", "Lovelace"]
    assert first["entities"] == [(0, 2, "Person"), (4, 6, "Organization"), (7, 8, "Location")]
    assert first["relations"] == [(0, 1, "Works_For"), (1, 2, "Located_In")]
    assert first["doc_id"] == "s0"


def test_json_lines_input(tmp_path):
    documents = json.loads(open(SENTENCES).read())
    path = tmp_path / "sentences.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in documents) + "\n")
    assert len(list(make_reader().read(str(path)))) == 6


BAD_DOCUMENTS = [
    ('[{"tokens": ["a"]', "malformed JSON"),
    ('[{"entities": []}]', "document 0: missing key 'tokens'"),
    ('[{"tokens": "a b"}]', "'tokens' must be a list"),
    ('[["a"]]', "document 0: expected a JSON object, got list"),
    ('[{"tokens": ["a"], "entities": {"start": 0}, "relations": []}]', "'entities' must be a list"),
    ('[{"tokens": ["a"], "entities": [3], "relations": []}]', "entity 0: expected a JSON object, got int"),
    ('[{"tokens": ["a", 3]}]', "'tokens' must be a list of strings"),
    (
        '[{"tokens": ["a"], "entities": [{"start": 0, "end": 2, "type": "Person"}], "relations": []}]',
        "entity 0 spans [0, 2)",
    ),
    (
        '[{"tokens": ["a", "b"], "entities": [{"start": 1, "end": 1, "type": "Person"}], "relations": []}]',
        "start < end",
    ),
    (
        '[{"tokens": ["a"], "entities": [{"start": 0, "type": "Person"}], "relations": []}]',
        "entity 0: missing key 'end'",
    ),
    (
        '[{"tokens": ["a"], "entities": [{"start": 0, "end": 1, "type": "Animal"}], "relations": []}]',
        "type 'Animal', which is not in the types file",
    ),
    ('[{"tokens": ["a"], "entities": []}]', "has 'entities' but no 'relations'"),
    ('[{"tokens": ["a"], "relations": []}]', "has 'relations' but no 'entities'"),
    ('[{"tokens": ["a"]}]', "document 0: the document has no annotation"),
    ('[{"tokens": ["a"], "orig_id": "x7"}]', "document 0 (orig_id x7): the document has no annotation"),
    (
        '[{"tokens": ["a"], "entities": [{"start": 0, "end": 1, "type": "Person"}], '
        '"relations": [{"head": 0, "tail": 0, "type": "Works_For"}]}]',
        "relation 0 has entity 0 as both head and tail",
    ),
    (
        '[{"tokens": ["a"], "entities": [{"start": 0, "end": 1, "type": "Person"}], '
        '"relations": [{"head": 0, "tail": 1, "type": "Works_For"}]}]',
        "relation 0 has tail 1, but there are 1 entities",
    ),
    (
        '[{"tokens": ["a", "b"], "entities": [{"start": 0, "end": 1, "type": "Person"}, '
        '{"start": 1, "end": 2, "type": "Person"}], "relations": [{"head": 0, "tail": 1, "type": "Likes"}]}]',
        "relation 0 has type 'Likes'",
    ),
    (
        '[{"tokens": ["a"], "entities": [{"start": 0, "end": 1, "type": "Person"}, '
        '{"start": 0, "end": 1, "type": "Location"}], "relations": []}]',
        "annotated both as 'Person' and as 'Location'",
    ),
]


@pytest.mark.parametrize("content, message", BAD_DOCUMENTS)
def test_bad_input_names_file_document_and_problem(tmp_path, content, message):
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(DataError) as error:
        list(make_reader().read(str(path)))
    assert str(path) in str(error.value)
    assert message in str(error.value)


def test_bad_json_line_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"tokens": ["a"], "entities": [], "relations": []}\n{"tokens": [\n')
    with pytest.raises(DataError, match=r"bad.jsonl, line 2: malformed JSON"):
        list(make_reader().read(str(path)))
