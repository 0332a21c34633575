import torch
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
