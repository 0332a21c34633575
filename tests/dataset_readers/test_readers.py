import json
import logging

import pytest
from allennlp.data import Batch, Vocabulary
from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer

from spert_mt_plugin.dataset_readers import DataError, DygieJsonlReader, SpertJsonReader
from spert_mt_plugin.settings import bundled_encoder
from spert_mt_plugin.vocabulary import TypesFileVocabulary
from tests.conftest import FIXTURES, TINY_BERT

TYPES = str(FIXTURES / "data" / "types.json")
SENTENCES = str(FIXTURES / "data" / "sentences.json")


def make_reader(cls=SpertJsonReader, **kwargs):
    indexers = {"tokens": PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=64)}
    return cls(indexers, types_file=kwargs.pop("types_file", TYPES), **kwargs)


def tensors(instances):
    vocab = TypesFileVocabulary.from_types_file(TYPES)
    batch = Batch(instances)
    batch.index_instances(vocab)
    return vocab, batch.as_tensor_dict()


def test_reads_every_fixture_sentence_with_its_annotation():
    instances = list(make_reader().read(SENTENCES))
    assert len(instances) == 6
    first = instances[0]["metadata"].metadata
    assert first["tokens"][:2] == ["Ada", "Lovelace"]
    assert first["entities"] == [(0, 2, "Person"), (4, 6, "Organization"), (7, 8, "Location")]
    assert first["relations"] == [(0, 1, "Works_For"), (1, 2, "Located_In")]
    assert first["doc_id"] == "s0"


def test_candidate_spans_and_their_labels():
    # "Bob is married to Carol ." with spans of 1..3 words: 6 + 5 + 4 = 15 candidates.
    instance = make_reader(max_span_width=3).text_to_instance(
        ["Bob", "is", "married", "to", "Carol", "."], [(0, 1, "Person"), (4, 5, "Person")], [(0, 1, "Married_To")]
    )
    spans = [tuple(span) for span in instance["spans"].spans.tolist()]
    assert len(spans) == 15
    assert spans[:4] == [(0, 0), (0, 1), (0, 2), (1, 1)]
    labels = dict(zip(spans, instance["span_labels"].labels))
    assert labels[(0, 0)] == "Person" and labels[(4, 4)] == "Person"
    assert [label for span, label in labels.items() if span not in [(0, 0), (4, 4)]] == ["NA"] * 13


def test_word_piece_offsets_follow_the_encoder_tokenizer():
    # "Zork" is not in the tiny vocabulary: Z ##o ##r ##k. [CLS] is word piece 0.
    instance = make_reader().text_to_instance(["Ada", "Zork", "."])
    _, batch = tensors([instance])
    assert batch["text"]["tokens"]["offsets"][0].tolist() == [[1, 1], [2, 5], [6, 6]]
    assert batch["text"]["tokens"]["token_ids"].shape[1] == 8  # [CLS] 6 pieces [SEP]


def test_span_max_iou_by_hand():
    # gold entity: words 1..2 (inclusive)
    instance = make_reader(max_span_width=2).text_to_instance(["a", "b", "c", "d", "e", "f"], [(1, 3, "Person")], [])
    spans = [tuple(span) for span in instance["spans"].spans.tolist()]
    iou = dict(zip(spans, instance["span_max_iou"].tensor.tolist()))
    assert iou[(1, 2)] == pytest.approx(1.0)
    assert iou[(0, 1)] == pytest.approx(1 / 3)  # overlap 1 word, union 0..2
    assert iou[(2, 3)] == pytest.approx(1 / 3)
    assert iou[(1, 1)] == pytest.approx(1 / 2)
    assert iou[(3, 4)] == 0.0 and iou[(5, 5)] == 0.0


def test_relations_become_a_labelled_matrix_over_gold_entities():
    instances = list(make_reader().read(SENTENCES))
    vocab, batch = tensors(instances[:1])
    relations = batch["relations"][0].long()
    works_for = vocab.get_token_index("Works_For", "relation_labels")
    located_in = vocab.get_token_index("Located_In", "relation_labels")
    assert relations.tolist() == [[-1, works_for, -1], [-1, -1, located_in], [-1, -1, -1]]
    assert batch["entity_spans"][0].tolist() == [[0, 1], [4, 5], [7, 7]]


def test_sentence_without_entities_has_no_entity_spans_and_pads_in_a_batch():
    alone = make_reader().text_to_instance(["It", "rained", "."], [], [])
    _, batch = tensors([alone])
    assert tuple(batch["entity_spans"].shape) == (1, 0, 2)
    assert tuple(batch["relations"].shape) == (1, 0, 0)
    other = make_reader().text_to_instance(["Bob", "ran", "."], [(0, 1, "Person")], [])
    _, batch = tensors([alone, other])
    assert batch["entity_spans"].tolist() == [[[-1, -1]], [[0, 0]]]
    short = make_reader().text_to_instance(["Hi"], [], [])
    _, batch = tensors([short, other])
    assert batch["spans"].tolist() == [
        [[0, 0], [-1, -1], [-1, -1], [-1, -1], [-1, -1], [-1, -1]],
        [[0, 0], [0, 1], [0, 2], [1, 1], [1, 2], [2, 2]],
    ]


def test_nested_entities_are_kept():
    instances = list(make_reader().read(SENTENCES))
    metadata = instances[2]["metadata"].metadata
    assert (1, 4, "Organization") in metadata["entities"] and (3, 4, "Location") in metadata["entities"]
    labels = dict(zip(map(tuple, instances[2]["spans"].spans.tolist()), instances[2]["span_labels"].labels))
    assert labels[(1, 3)] == "Organization" and labels[(3, 3)] == "Location"


def test_dygie_reader_gives_the_same_sentences_as_spert_json():
    spert = [i["metadata"].metadata for i in make_reader().read(SENTENCES)]
    dygie_file = str(FIXTURES / "data" / "sentences.dygie.jsonl")
    dygie = [i["metadata"].metadata for i in make_reader(DygieJsonlReader).read(dygie_file)]
    assert len(spert) == len(dygie) == 6
    for a, b in zip(spert, dygie):
        assert a["tokens"] == b["tokens"]  # -LRB- / -RRB- restored to ( )
        assert a["entities"] == b["entities"]
        assert a["relations"] == b["relations"]
    assert dygie[4]["tokens"][1] == "(" and dygie[4]["doc_id"] == "docB#1"


def test_json_lines_input(tmp_path):
    documents = json.loads(open(SENTENCES).read())
    path = tmp_path / "sentences.jsonl"
    path.write_text("\n".join(json.dumps(d) for d in documents) + "\n")
    assert len(list(make_reader().read(str(path)))) == 6


def test_types_file_gives_fixed_label_ids_and_symmetric_relations():
    vocab = TypesFileVocabulary.from_types_file(TYPES)
    assert vocab.get_index_to_token_vocabulary("entity_labels") == {
        0: "NA",
        1: "Person",
        2: "Organization",
        3: "Location",
    }
    assert list(vocab.get_token_to_index_vocabulary("symmetric_relation_labels")) == ["Married_To"]


def test_empty_sentences_are_skipped_and_counted(tmp_path, caplog):
    path = tmp_path / "with_empty.json"
    path.write_text(
        json.dumps(
            [{"tokens": [], "entities": [], "relations": []}, {"tokens": ["Bob"], "entities": [], "relations": []}]
        )
    )
    with caplog.at_level(logging.WARNING):
        instances = list(make_reader().read(str(path)))
    assert len(instances) == 1
    assert "skipped 1 empty sentence" in caplog.text


def test_bundled_encoder_is_uncased_and_tiny_encoder_is_cased():
    bundled = PretrainedTransformerMismatchedIndexer(bundled_encoder())
    tiny = PretrainedTransformerMismatchedIndexer(TINY_BERT)
    vocab = Vocabulary()
    from allennlp.data import Token

    def ids(indexer, word):
        return indexer.tokens_to_indices([Token(word)], vocab)["token_ids"]

    assert ids(bundled, "Paris") == ids(bundled, "paris")
    assert ids(tiny, "Paris") != ids(tiny, "paris")


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


def test_bad_dygie_relation_names_the_sentence(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps(
            {
                "doc_key": "d1",
                "sentences": [["a", "b"], ["c", "d"]],
                "ner": [[[0, 0, "Person"]], [[2, 3, "Person"]]],
                "relations": [[], [[2, 3, 0, 0, "WORKS_FOR"]]],
            }
        )
    )
    with pytest.raises(DataError, match=r"doc_key d1\), sentence 1: relation 0 has tail span \[0, 0\]"):
        list(make_reader(DygieJsonlReader).read(str(path)))


def test_bad_types_file(tmp_path):
    path = tmp_path / "types.json"
    path.write_text('{"entities": {}}')
    with pytest.raises(DataError, match="needs an object under 'relations'"):
        list(make_reader(types_file=str(path)).read(SENTENCES))


def test_span_list_field_rejects_spans_outside_the_sentence():
    from allennlp.data import Token
    from allennlp.data.fields import TextField

    from spert_mt_plugin.dataset_readers.span_list_field import SpanListField

    text = TextField([Token("a"), Token("b")], {})
    assert SpanListField([(0, 1), (1, 1)], text).sequence_length() == 2
    for bad in ([(0, 2)], [(1, 0)], [(-1, 0)]):
        with pytest.raises(ValueError, match="0 <= start <= end < 2"):
            SpanListField(bad, text)


def test_unannotated_documents_are_prediction_input_not_sentences_without_entities(tmp_path):
    path = tmp_path / "raw.json"
    path.write_text(
        json.dumps(
            [
                {"tokens": ["Bob", "left", "."], "orig_id": "raw"},
                {"tokens": ["Eve", "."], "entities": [], "relations": []},
            ]
        )
    )
    reader = make_reader(require_annotation=False)
    raw, empty = list(reader.read(str(path)))
    # Unannotated: no gold fields at all, so nothing is scored against an empty gold.
    assert "span_labels" not in raw.fields and "entities" not in raw["metadata"].metadata
    # Annotated without entities: every candidate span is a negative.
    assert set(empty["span_labels"].labels) == {"NA"} and empty["metadata"].metadata["entities"] == []


def test_unannotated_dygie_documents(tmp_path):
    path = tmp_path / "raw.jsonl"
    path.write_text(json.dumps({"doc_key": "d1", "sentences": [["a", "b"], ["c"]]}) + "\n")
    unannotated = r"raw.jsonl, line 1 \(doc_key d1\), sentence 0: the document has no annotation"
    with pytest.raises(DataError, match=unannotated):
        list(make_reader(DygieJsonlReader).read(str(path)))
    instances = list(make_reader(DygieJsonlReader, require_annotation=False).read(str(path)))
    assert len(instances) == 2 and all("span_labels" not in i.fields for i in instances)
    path.write_text(json.dumps({"doc_key": "d1", "sentences": [["a"]], "ner": [[]]}) + "\n")
    with pytest.raises(DataError, match="has 'ner' but no 'relations'"):
        list(make_reader(DygieJsonlReader).read(str(path)))


def test_unknown_label_without_types_file_names_file_and_document_when_indexed(tmp_path):
    path = tmp_path / "typo.json"
    path.write_text(
        json.dumps(
            [
                {
                    "tokens": ["Bob", "left", "Acme"],
                    "orig_id": "good",
                    "entities": [
                        {"start": 0, "end": 1, "type": "Person"},
                        {"start": 2, "end": 3, "type": "Organization"},
                    ],
                    "relations": [{"head": 0, "tail": 1, "type": "Works_For"}],
                },
                {
                    "tokens": ["Eve", "left"],
                    "orig_id": "typo",
                    "entities": [{"start": 0, "end": 1, "type": "Persn"}],
                    "relations": [],
                },
                {
                    "tokens": ["Bob", "left", "Acme"],
                    "orig_id": "typo2",
                    "entities": [
                        {"start": 0, "end": 1, "type": "Person"},
                        {"start": 2, "end": 3, "type": "Organization"},
                    ],
                    "relations": [{"head": 0, "tail": 1, "type": "Works_at"}],
                },
            ]
        )
    )
    good, typo, typo2 = list(make_reader(types_file=None).read(str(path)))
    vocab, _ = tensors([good])
    unknown_entity = r"typo.json, document 1 \(orig_id typo\): entity type\(s\) 'Persn' are not in the vocabulary"
    with pytest.raises(DataError, match=unknown_entity):
        Batch([good, typo]).index_instances(vocab)
    unknown_relation = r"document 2 \(orig_id typo2\): relation type\(s\) 'Works_at' are not in the vocabulary"
    with pytest.raises(DataError, match=unknown_relation):
        Batch([typo2]).index_instances(vocab)
