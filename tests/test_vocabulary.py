from spert_mt_plugin.vocabulary import TypesFileVocabulary
from tests.conftest import FIXTURES

TYPES = str(FIXTURES / "data" / "types.json")


def test_types_file_gives_fixed_label_ids_and_symmetric_relations():
    vocab = TypesFileVocabulary.from_types_file(TYPES)
    assert vocab.get_index_to_token_vocabulary("entity_labels") == {
        0: "NA",
        1: "Person",
        2: "Organization",
        3: "Location",
    }
    assert list(vocab.get_token_to_index_vocabulary("symmetric_relation_labels")) == ["Married_To"]
