import pytest
import torch
from allennlp.common.checks import ConfigurationError
from allennlp.data import Vocabulary

from spert_mt_plugin.labels import ENTITY_LABELS, RELATION_LABELS, SYMMETRIC_RELATION_LABELS
from spert_mt_plugin.models.label_index import LabelIndex


def vocabulary() -> Vocabulary:
    return Vocabulary(
        tokens_to_add={
            ENTITY_LABELS: ["NA", "Person", "Location"],
            RELATION_LABELS: ["Works_For", "Married_To"],
            SYMMETRIC_RELATION_LABELS: ["Married_To"],
        },
        non_padded_namespaces=["*labels"],
    )


def test_entity_classes_leave_out_na_and_masked_spans():
    labels = LabelIndex(vocabulary())
    assert labels.entity_types == ["Person", "Location"]
    # label ids: NA 0, Person 1, Location 2
    classes = labels.entity_classes(torch.tensor([[1, 0, 2, 2]]), torch.tensor([[True, True, True, False]]))
    assert classes.tolist() == [[0, -1, 1, -1]]


def test_relation_classes_and_symmetric_types():
    labels = LabelIndex(vocabulary())
    assert labels.relation_types == ["Works_For", "Married_To"]
    assert labels.symmetric == {"Married_To"}
    assert labels.symmetric_class.tolist() == [False, True]
    # Lookup tables, not weights: nothing of them is saved with the model.
    assert labels.state_dict() == {}


TYPES_SOURCE = (
    "the types come from the types file of the 'spert_types' vocabulary (its 'types_file'), "
    "or, without one, from the labels of the training data"
)


@pytest.mark.parametrize(
    "entity_labels, relation_labels, message",
    [
        (
            ["NA"],
            ["Works_For"],
            "SpERT.MT needs at least one entity type, but the vocabulary's 'entity_labels' namespace has none "
            f"besides 'NA': {TYPES_SOURCE}; add entity types under 'entities' of the types file",
        ),
        (
            ["NA", "Person"],
            [],
            "SpERT.MT needs at least one relation type, but the vocabulary's 'relation_labels' namespace is "
            f"empty: {TYPES_SOURCE}; add relation types under 'relations' of the types file",
        ),
    ],
)
def test_a_vocabulary_without_entity_or_relation_types_is_refused(entity_labels, relation_labels, message):
    vocab = Vocabulary(
        tokens_to_add={ENTITY_LABELS: entity_labels, RELATION_LABELS: relation_labels},
        non_padded_namespaces=["*labels"],
    )
    with pytest.raises(ConfigurationError) as error:
        LabelIndex(vocab)
    assert str(error.value) == message
