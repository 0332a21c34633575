from allennlp.data import Vocabulary

from spert_mt_plugin.labels import ENTITY_LABELS, NO_ENTITY, RELATION_LABELS, SYMMETRIC_RELATION_LABELS


def test_the_names_are_those_saved_in_model_archives():
    # An archive's vocabulary holds "NA" and one file per namespace name: renaming breaks trained models.
    assert (NO_ENTITY, ENTITY_LABELS, RELATION_LABELS, SYMMETRIC_RELATION_LABELS) == (
        "NA",
        "entity_labels",
        "relation_labels",
        "symmetric_relation_labels",
    )


def test_label_namespaces_start_without_padding_or_unknown_tokens():
    # AllenNLP gives a namespace not named "*tags" or "*labels" a padding and an unknown token, which
    # the model's label index would take for two more types.
    vocab = Vocabulary()
    namespaces = (ENTITY_LABELS, RELATION_LABELS, SYMMETRIC_RELATION_LABELS)
    sizes = [vocab.get_vocab_size(namespace) for namespace in namespaces]
    assert sizes == [0, 0, 0]
    assert vocab.get_vocab_size("entity_types") == 2
