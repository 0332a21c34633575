import json
import logging
import shutil

import pytest
from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer

from spert_mt_plugin.dataset_readers import BratReader, DataError
from tests.conftest import FIXTURES, TINY_BERT

BRAT = FIXTURES / "brat"
CONF = str(BRAT / "annotation.conf")


def make_reader(**kwargs):
    indexers = {"tokens": PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=64)}
    return BratReader(token_indexers=indexers, **kwargs)


def annotations(instances):
    result = {}
    for instance in instances:
        metadata = instance["metadata"].metadata
        tokens, entities = metadata["tokens"], metadata["entities"]
        result[metadata["doc_id"]] = (
            tokens,
            [(" ".join(tokens[s:e]), t) for s, e, t in entities],
            [
                (
                    " ".join(tokens[entities[h][0] : entities[h][1]]),
                    " ".join(tokens[entities[t][0] : entities[t][1]]),
                    r,
                )
                for h, t, r in metadata["relations"]
            ],
        )
    return result


def test_brat_folder_becomes_sentences_with_their_annotation(tmp_path, caplog):
    report = tmp_path / "report.jsonl"
    with caplog.at_level(logging.WARNING):
        read = annotations(make_reader(types_file=CONF, report_file=str(report)).read(str(BRAT)))
    assert list(read) == ["doc1#0", "doc1#1", "doc1#2", "doc2#0", "doc2#1"]
    tokens, entities, relations = read["doc1#0"]
    assert entities == [("Ada Lovelace", "Person"), ("Acme Corp", "Organization"), ("Paris", "Location")]
    assert relations == [("Ada Lovelace", "Acme Corp", "Works_For"), ("Acme Corp", "Paris", "Located_In")]
    # the equivalence set {Carol, Bob} of the symmetric Married_To: one relation, in text order
    assert read["doc1#1"][2] == [("Bob", "Carol", "Married_To")]
    # "Yahoo! Inc" crosses the sentencizer's boundary after "!": the two sentences are joined;
    # the entity "Oslo" inside the word "OsloTech" splits the word.
    tokens, entities, relations = read["doc2#1"]
    assert tokens == ["Eve", "works", "for", "Yahoo", "!", "Inc", "at", "Oslo", "Tech", "Park", "."]
    assert ("Yahoo ! Inc", "Organization") in entities and ("Oslo", "Location") in entities
    assert relations == [("Eve", "Yahoo ! Inc", "Works_For"), ("Yahoo ! Inc", "Oslo", "Located_In")]
    # what cannot be represented: counted in the log and listed in the report, with file and line
    lines = [json.loads(line) for line in report.read_text().splitlines()]
    kinds = sorted((item["file"].rsplit("/", 1)[1], item["line"], item["kind"]) for item in lines)
    assert kinds == [
        ("doc1.ann", 12, "relation"),  # R4 across sentences
        ("doc1.ann", 14, "attribute"),
        ("doc1.ann", 15, "note"),
        ("doc2.ann", 4, "discontinuous entity"),
        ("doc2.ann", 11, "relation"),  # R3 to the discontinuous entity
        ("doc2.ann", 14, "event"),
    ]
    assert "6 annotations cannot be represented" in caplog.text
    assert "2 relation" in caplog.text and "1 discontinuous entity" in caplog.text


def test_equivalence_of_a_type_the_types_file_calls_directed_is_reported(tmp_path):
    conf = tmp_path / "annotation.conf"
    conf.write_text(open(CONF).read().replace(", <REL-TYPE>:symmetric-transitive", ""))
    reader = make_reader(types_file=str(conf))
    read = annotations(reader.read(str(BRAT)))
    assert read["doc1#1"][2] == []
    assert [item.kind for item in reader.last_report].count("equivalence") == 1


def copy_fixture(tmp_path, ann_edit=None, txt_edit=None):
    folder = tmp_path / "brat"
    shutil.copytree(BRAT, folder)
    if ann_edit:
        path = folder / "doc1.ann"
        path.write_text(ann_edit(path.read_text()))
    if txt_edit:
        path = folder / "doc1.txt"
        path.write_text(txt_edit(path.read_text()))
    return folder


@pytest.mark.parametrize(
    "ann_edit, message",
    [
        (
            lambda a: a.replace("T3\tLocation 36 41", "T3\tLocation 36 4100"),
            r"doc1.ann, line 3: offsets 36-4100 of T3 are outside the text \(92 characters",
        ),
        (
            lambda a: a.replace("Ada Lovelace\n", "Ada Lovelaze\n", 1),
            r"doc1.ann, line 1: the text 'Ada Lovelaze' of T1 does not match its offsets 0 12, "
            r"which cover 'Ada Lovelace'",
        ),
        (
            lambda a: a.replace("T3\tLocation", "T3\tPlace"),
            r"doc1.ann, line 3: entity type 'Place' is not in the types file",
        ),
        (
            lambda a: a.replace("R1\tWorks_For", "R1\tEmploys"),
            r"doc1.ann, line 9: relation type 'Employs' is not in the types file",
        ),
        (
            lambda a: a.replace("Arg2:T3", "Arg2:T33"),
            r"doc1.ann, line 10: Arg2 T33 of R2 is not an entity of this file",
        ),
        (
            lambda a: a.replace("*\tMarried_To T5 T4", "*\tMarried_To T5 T44"),
            r"doc1.ann, line 13: T44 of the Married_To equivalence",
        ),
        (
            lambda a: a.replace("R1\tWorks_For Arg1:T1 Arg2:T2", "R1\tWorks_For T1 T2"),
            r"doc1.ann, line 9: a relation must read",
        ),
        (lambda a: a + "X1\tsomething\n", r"doc1.ann, line 16: unknown annotation 'X1'"),
        (
            lambda a: a.replace("T2\tOrganization 23 32\tAcme Corp", "T2\tOrganization 23 32"),
            r"doc1.ann, line 2: a text-bound annotation must read",
        ),
    ],
)
def test_bad_files_name_file_and_line(tmp_path, ann_edit, message):
    folder = copy_fixture(tmp_path, ann_edit)
    with pytest.raises(DataError, match=message):
        list(make_reader(types_file=CONF).read(str(folder)))


def test_txt_without_ann_is_unannotated_text(tmp_path):
    folder = tmp_path / "raw"
    folder.mkdir()
    (folder / "note.txt").write_text("Bob met Carol. Eve left.")
    with pytest.raises(DataError, match=r"note.txt: no note.ann beside it"):
        list(make_reader().read(str(folder)))
    instances = list(make_reader(require_annotation=False).read(str(folder)))
    assert [i["metadata"].metadata["tokens"] for i in instances] == [["Bob", "met", "Carol", "."], ["Eve", "left", "."]]
    assert all("span_labels" not in i.fields for i in instances)
    with pytest.raises(DataError, match="not a folder"):
        list(make_reader().read(str(folder / "note.txt")))


def test_training_config_for_brat_data_builds():
    from allennlp.common import Params

    params = Params.from_file("training_configs/brat_example.jsonnet")
    assert params["dataset_reader"]["type"] == "brat"
    assert params["vocabulary"]["types_file"].endswith("annotation.conf")


def test_model_trains_on_a_brat_folder(tmp_path):
    from allennlp.commands.train import train_model_from_file

    overrides = {
        "dataset_reader.type": "brat",
        "dataset_reader.types_file": CONF,
        "vocabulary.types_file": CONF,
        "train_data_path": str(BRAT),
        "validation_data_path": str(BRAT),
        "test_data_path": str(BRAT),
        "trainer.num_epochs": 2,
    }
    train_model_from_file(str(FIXTURES / "experiment.jsonnet"), str(tmp_path / "run"), json.dumps(overrides))
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert "test_ner_f1" in metrics and metrics["training_loss"] > 0
