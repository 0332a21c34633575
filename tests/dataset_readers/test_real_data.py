"""The readers on the real datasets in ../shared/data (skipped when absent): SOURCES.md's counts."""

import pytest

from spert_mt_plugin.dataset_readers import DygieJsonlReader, SpertJsonReader
from spert_mt_plugin.formats import spert_json
from tests.conftest import SHARED_DATA, requires_shared_data

pytestmark = requires_shared_data

# file: (sentences, entities, relations), from ../shared/data/SOURCES.md
COUNTS = {
    "conll04/conll04_train.json": (922, 3377, 1283),
    "conll04/conll04_dev.json": (231, 893, 343),
    "conll04/conll04_test.json": (288, 1079, 422),
    "conll04/conll04_train_dev.json": (1153, 4270, 1626),
    "scierc/scierc_train.json": (1861, 5598, 3219),
    "scierc/scierc_dev.json": (275, 811, 455),
    "scierc/scierc_test.json": (551, 1685, 974),
    "scierc/scierc_train_dev.json": (2136, 6409, 3674),
    "ade/ade_full.json": (4272, 10839, 6821),
}
TYPES = {"conll04": "conll04/conll04_types.json", "scierc": "scierc/scierc_types.json", "ade": "ade/ade_types.json"}


def reader(cls, dataset):
    # Sentence-level checks do not need word pieces: no indexer is used until batching.
    return cls({}, types_file=str(SHARED_DATA / TYPES[dataset]))


@pytest.mark.parametrize("name", list(COUNTS))
def test_counts_match_sources(name):
    instances = reader(SpertJsonReader, name.split("/")[0]).read(str(SHARED_DATA / name))
    sentences = [i["metadata"].metadata for i in instances]
    counts = (len(sentences), sum(len(s["entities"]) for s in sentences), sum(len(s["relations"]) for s in sentences))
    assert counts == COUNTS[name]


def test_ade_folds_count_and_cover_the_full_set():
    total_test = 0
    for fold in range(10):
        test = sum(1 for _ in spert_json.read_sentences(str(SHARED_DATA / f"ade/ade_split_{fold}_test.json")))
        train = sum(1 for _ in spert_json.read_sentences(str(SHARED_DATA / f"ade/ade_split_{fold}_train.json")))
        assert (train, test) == ((3843, 429) if fold == 9 else (3845, 427))
        total_test += test
    assert total_test == 4272


def test_nested_entities_are_kept_in_scierc():
    nested = 0
    for instance in reader(SpertJsonReader, "scierc").read(str(SHARED_DATA / "scierc/scierc_train.json")):
        entities = instance["metadata"].metadata["entities"]
        nested += sum(1 for a in entities for b in entities if a != b and a[0] <= b[0] and b[1] <= a[1])
    assert nested == 61


@pytest.mark.parametrize(
    "split, spert_name", [("train", "scierc_train"), ("dev", "scierc_dev"), ("test", "scierc_test")]
)
def test_scierc_in_dygie_format_gives_the_same_annotations(split, spert_name):
    dygie = reader(DygieJsonlReader, "scierc").read(str(SHARED_DATA / f"scierc_dygie/{split}.json"))
    spert = reader(SpertJsonReader, "scierc").read(str(SHARED_DATA / f"scierc/{spert_name}.json"))

    def annotations(instances):
        result = []
        for instance in instances:
            m = instance["metadata"].metadata
            ents = m["entities"]
            result.append(
                (
                    tuple(m["tokens"]),
                    frozenset(ents),
                    frozenset((ents[h], ents[t], label) for h, t, label in m["relations"]),
                )
            )
        return sorted(result, key=repr)

    assert annotations(dygie) == annotations(spert)
