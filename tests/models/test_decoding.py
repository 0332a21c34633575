from spert_mt_plugin.models.decoding import entity_dicts, merge_symmetric_relations, relation_dicts


def test_symmetric_relations_are_merged_keeping_the_better_direction():
    relations = [
        {"head": 0, "tail": 1, "type": "Married_To", "score": 1.0},
        {"head": 1, "tail": 0, "type": "Married_To", "score": 2.0},
        {"head": 0, "tail": 2, "type": "Works_For", "score": 1.0},
        {"head": 2, "tail": 0, "type": "Works_For", "score": 1.5},
    ]
    merged = merge_symmetric_relations(relations, {"Married_To"})
    assert merged == [relations[2], relations[3], relations[1]]


def test_entities_get_exclusive_ends_and_relations_their_sentence():
    # Two sentences: the first has two predicted entities, the second one (its row is padded).
    spans = [[[0, 1], [3, 3]], [[2, 4], [0, 0]]]
    entities = entity_dicts(spans, [[0, 1], [1, 0]], [[0.9, 1.5], [2.0, 0.0]], [2, 1], ["Person", "Location"])
    assert entities == [
        [
            {"start": 0, "end": 2, "type": "Person", "score": 0.9},
            {"start": 3, "end": 4, "type": "Location", "score": 1.5},
        ],
        [{"start": 2, "end": 5, "type": "Location", "score": 2.0}],
    ]
    relations = relation_dicts([[0, 0, 1]], [0], [1.2], 2, ["Works_For"], set())
    assert relations == [[{"head": 0, "tail": 1, "type": "Works_For", "score": 1.2}], []]
