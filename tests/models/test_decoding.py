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


def test_decode_relates_the_entities_and_a_flat_model_never_two_overlapping_ones():
    from types import SimpleNamespace

    import torch

    from spert_mt_plugin.models.decoding import decode
    from spert_mt_plugin.models.entities import Entities
    from spert_mt_plugin.modules.heads import HeadOutput

    # Three given entities of one sentence: words 0-1, word 1 (inside the first) and word 3.
    spans = torch.tensor([[[0, 1], [1, 1], [3, 3]]])
    entities = Entities(
        spans,
        spans.float(),
        spans.float(),
        torch.tensor([[0, 1, 1]]),
        torch.tensor([[0.5, 0.25, 2.0]]),
        torch.tensor([[True, True, True]]),
    )

    # The relation head takes every pair whose head comes before its tail, as class 0, scored by the tail's index.
    def decisions(output):
        kept = (output.scores[:, 1] < output.scores[:, 2]).nonzero(as_tuple=True)[0]
        return kept, torch.zeros_like(kept), output.scores[kept, 2].float()

    relation_head = SimpleNamespace(decisions=decisions)
    scorer = SimpleNamespace(pairs=lambda table, s, v, t, pairs: HeadOutput(None, pairs), relation_head=relation_head)
    labels = SimpleNamespace(entity_types=["Person", "Place"], relation_types=["Lives_In"], symmetric=set())
    entity_dicts_, relations = decode(scorer, labels, None, entities, flat=False)
    assert entity_dicts_ == [
        [
            {"start": 0, "end": 2, "type": "Person", "score": 0.5},
            {"start": 1, "end": 2, "type": "Place", "score": 0.25},
            {"start": 3, "end": 4, "type": "Place", "score": 2.0},
        ]
    ]
    assert [(r["head"], r["tail"]) for r in relations[0]] == [(0, 1), (0, 2), (1, 2)]
    # Flat: entities 0 and 1 overlap, so the pair (0, 1) is never scored.
    _, relations = decode(scorer, labels, None, entities, flat=True)
    assert [(r["head"], r["tail"], r["type"], r["score"]) for r in relations[0]] == [
        (0, 2, "Lives_In", 2.0),
        (1, 2, "Lives_In", 2.0),
    ]
