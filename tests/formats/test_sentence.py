import pytest

from spert_mt_plugin.formats.errors import DataError
from spert_mt_plugin.formats.sentence import Sentence, validate_sentence
from spert_mt_plugin.formats.types_file import EntityRelationTypes

TYPES = EntityRelationTypes(["Person"], ["Knows"])


def test_a_usable_sentence_passes():
    validate_sentence(Sentence(["Bob", "met", "Eve"], [(0, 1, "Person"), (2, 3, "Person")], [(0, 1, "Knows")]), "s")
    validate_sentence(Sentence(["Bob"], [(0, 1, "Person")], []), "s", TYPES)


def test_unannotated_sentences_are_an_error_only_where_annotation_is_required():
    unannotated = Sentence(["Bob", "left"], None, None)
    validate_sentence(unannotated, "s", TYPES, require_annotation=False)
    with pytest.raises(DataError, match="^s: the document has no annotation"):
        validate_sentence(unannotated, "s", TYPES)


@pytest.mark.parametrize(
    "sentence, message",
    [
        (Sentence(["Bob", " "], [], []), "s: token 1 is empty or whitespace"),
        (Sentence(["Bob"], [(0, 1, "Animal")], []), "s: entity 0 has type 'Animal', which is not in the types file"),
        (Sentence(["Bob"], [(0, 1, "Person")], [(0, 0, "Knows")]), "s: relation 0 has entity 0 as both head and tail"),
        (Sentence(["Bob", "Eve"], [(0, 1, "Person"), (1, 2, "Person")], [(0, 1, "Hates")]), "s: relation 0 has type"),
    ],
)
def test_unusable_annotation_names_location_and_problem(sentence, message):
    with pytest.raises(DataError) as error:
        validate_sentence(sentence, "s", TYPES)
    assert str(error.value).startswith(message)


def test_the_no_entity_label_is_reserved_also_without_types():
    with pytest.raises(DataError, match="^s: entity 0 uses the reserved type 'NA'$"):
        validate_sentence(Sentence(["Bob"], [(0, 1, "NA")], []), "s")
