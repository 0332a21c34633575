import json
import logging
import pickle
from importlib.metadata import entry_points

import pytest
import spacy
from spacy.tokens import Doc, DocBin

from spert_mt_plugin.spacy_component import best_non_overlapping

TEXTS = [
    "The University of Oslo hired Dan. Ada Lovelace works for Acme Corp in Paris.",
    "Bob is married to Carol.",
    "Eve left Acme Corp for Oslo.",
]


@pytest.fixture(scope="module")
def nlp(trained_archive):
    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("spert_mt", config={"archive": trained_archive, "batch_size": 2, "max_batch_words": 40})
    return nlp


def test_factory_is_a_spacy_entry_point():
    names = [entry.name for entry in entry_points(group="spacy_factories")]
    assert "spert_mt" in names


def test_entities_nested_spans_ents_and_relations(nlp):
    doc = nlp("The University of Oslo hired Dan. Ada Lovelace works for Acme Corp in Paris.")
    spans = {(span.text, span.label_) for span in doc.spans["spert_mt"]}
    assert {("University of Oslo", "Organization"), ("Oslo", "Location"), ("Ada Lovelace", "Person")} <= spans
    assert len(doc.spans["spert_mt"].attrs["scores"]) == len(doc.spans["spert_mt"])
    # doc.ents: the best-scoring spans that overlap no better one, so one of the nested pair
    group = doc.spans["spert_mt"]
    score = {(s.start, s.end, s.label_): v for s, v in zip(group, group.attrs["scores"])}
    ents = [(e.start, e.end, e.label_) for e in doc.ents]
    assert set(ents) <= set(score) and ents
    assert not {("University of Oslo", "Organization"), ("Oslo", "Location")} <= {(e.text, e.label_) for e in doc.ents}
    for start, end, label in score:
        if (start, end, label) not in ents:
            assert any(
                s < end and start < e and score[(s, e, other)] >= score[(start, end, label)] for s, e, other in ents
            )
    relations = {(r.head.text, r.tail.text, r.label) for r in doc._.spert_mt_relations}
    assert ("Ada Lovelace", "Acme Corp", "Works_For") in relations
    assert all(isinstance(r.score, float) for r in doc._.spert_mt_relations)


def annotations(doc):
    """Everything the component sets on `doc`, as plain values."""
    group = doc.spans["spert_mt"]
    relations = doc._.spert_mt_relations
    assert all(r.head.doc is doc and r.tail.doc is doc for r in relations)
    return {
        "ents": [(e.start, e.end, e.label_) for e in doc.ents],
        "spans": [(s.start, s.end, s.label_) for s in group],
        "scores": list(group.attrs["scores"]),
        "relations": [
            (r.head.start, r.head.end, r.head.label_, r.tail.start, r.tail.end, r.tail.label_, r.label, r.score)
            for r in relations
        ],
        "in_ents": [r.in_ents for r in relations],
    }


def test_relations_cover_every_entity_and_say_whether_they_are_in_ents(nlp):
    doc = nlp(TEXTS[0])
    relations = {(r.head.text, r.tail.text, r.label): r for r in doc._.spert_mt_relations}
    # Both arguments are predicted entities, but nested: doc.ents can hold only one of them.
    assert not relations[("University of Oslo", "Oslo", "Located_In")].in_ents
    assert relations[("Ada Lovelace", "Acme Corp", "Works_For")].in_ents
    group = {(s.start, s.end, s.label_) for s in doc.spans["spert_mt"]}
    ents = {(e.start, e.end, e.label_) for e in doc.ents}
    for r in relations.values():
        arguments = {(span.start, span.end, span.label_) for span in (r.head, r.tail)}
        assert arguments <= group
        assert r.in_ents == (arguments <= ents)
    # computed when read, so it follows a later change of doc.ents
    works_for = relations[("Ada Lovelace", "Acme Corp", "Works_For")]
    doc.ents = [works_for.head]
    assert not works_for.in_ents


def test_relations_are_read_from_the_group_that_holds_them_once(nlp):
    doc = nlp(TEXTS[0])
    expected = annotations(doc)
    doc.spans["renamed"] = doc.spans.pop("spert_mt")
    doc.spans["spert_mt"] = doc.spans["renamed"].copy()
    assert annotations(doc) == expected


def test_relations_are_none_before_the_component_runs():
    assert spacy.blank("en")("Bob met Carol.")._.spert_mt_relations is None


def test_to_bytes_and_pickle_keep_entities_spans_and_relations(nlp):
    doc = nlp(TEXTS[0])
    expected = annotations(doc)
    assert expected["relations"] and expected["ents"] and False in expected["in_ents"]
    json.dumps(doc.spans["spert_mt"].attrs)  # the stored relations are plain data
    assert annotations(Doc(nlp.vocab).from_bytes(doc.to_bytes())) == expected
    assert annotations(pickle.loads(pickle.dumps(doc))) == expected


@pytest.mark.parametrize("store_user_data", [True, False])
def test_docbin_round_trip_keeps_entities_spans_and_relations(nlp, store_user_data):
    docs = list(nlp.pipe(TEXTS))
    expected = [annotations(doc) for doc in docs]
    data = DocBin(docs=docs, store_user_data=store_user_data).to_bytes()
    restored = list(DocBin(store_user_data=store_user_data).from_bytes(data).get_docs(nlp.vocab))
    assert [annotations(doc) for doc in restored] == expected


def test_pipe_in_two_processes_gives_the_same_entities_and_relations(nlp):
    import torch

    # The parent's OpenMP thread pool is up (as after any prediction with several threads): forked
    # processes that inherit it hang at their first parallel operation unless they run one thread.
    threads = torch.get_num_threads()
    try:
        # The same batches and one thread (as each forked process runs), since padding and thread
        # counts change the scores in their last digits.
        torch.set_num_threads(1)
        expected = [annotations(doc) for doc in nlp.pipe(TEXTS, batch_size=1)]
        torch.set_num_threads(2)
        (torch.ones(1000, 1000) @ torch.ones(1000, 1000)).sum()
        assert [annotations(doc) for doc in nlp.pipe(TEXTS, n_process=2, batch_size=1)] == expected
    finally:
        torch.set_num_threads(threads)


def test_pipe_batches_across_docs_with_bounded_batches(nlp):
    component = nlp.get_pipe("spert_mt")
    sizes = []
    model = component.predictor.model
    forward = model.forward_on_instances
    model.forward_on_instances = lambda instances: sizes.append(len(instances)) or forward(instances)
    try:
        texts = ["Bob is married to Carol. Eve left Acme Corp for Oslo.", "Ada Lovelace works for Acme Corp in Paris."]
        texts *= 3
        piped = [[(e.text, e.label_) for e in doc.spans["spert_mt"]] for doc in nlp.pipe(texts, batch_size=4)]
    finally:
        model.forward_on_instances = forward
    # each doc kept alive while its span group is read: a group only holds a weak reference
    single = [[(e.text, e.label_) for e in doc.spans["spert_mt"]] for doc in map(nlp, texts)]
    assert piped == single
    assert max(sizes) <= 2 and sum(sizes) == 9


def test_sentences_without_a_sentencizer_and_long_sentences(trained_archive, caplog):
    nlp = spacy.blank("en")
    nlp.add_pipe("spert_mt", config={"archive": trained_archive, "max_sentence_words": 5})
    with caplog.at_level(logging.WARNING):
        doc = nlp("Bob is married to Carol.  Ada Lovelace works for Acme Corp in Paris.")
    assert not doc.has_annotation("SENT_START")  # the doc's own annotation is left alone
    assert "a sentence of 9 words is cut into pieces of 5" in caplog.text
    assert ("Bob", "Person") in [(s.text, s.label_) for s in doc.spans["spert_mt"]]


def test_missing_archive_is_a_clear_error():
    with pytest.raises(ValueError, match='needs config=\\{"archive"'):
        spacy.blank("en").add_pipe("spert_mt")


def test_best_non_overlapping_by_score():
    doc = spacy.blank("en")("a b c d")
    spans = [doc[0:2], doc[1:2], doc[2:4], doc[3:4]]
    assert [s.start for s in best_non_overlapping(spans, [1.0, 2.0, 0.5, 0.4])] == [1, 2]


def test_best_non_overlapping_breaks_ties_as_the_model_does():
    # Equal scores: the earlier start wins, then the shorter span (the candidates' order).
    doc = spacy.blank("en")("a b c d")
    spans = [doc[1:3], doc[0:2], doc[2:4], doc[2:3]]
    assert [(s.start, s.end) for s in best_non_overlapping(spans, [1.0] * 4)] == [(0, 2), (2, 3)]


def test_doc_ents_as_the_entities_get_the_relations_the_predictor_gives_them(trained_archive, caplog):
    from spacy.tokens import Span

    from spert_mt_plugin.archives import load_predictor

    nlp = spacy.blank("en")
    nlp.add_pipe("sentencizer")
    nlp.add_pipe("spert_mt", config={"archive": trained_archive, "use_doc_ents": True})
    doc = nlp.make_doc("Ada Lovelace works for Acme Corp in Paris. Bob is married to Carol.")
    # The user's own NER, with its own labels, and one entity across the sentence boundary.
    doc.ents = [
        Span(doc, 0, 2, "PERSON"),
        Span(doc, 4, 6, "ORG"),
        Span(doc, 7, 10, "MISC"),
        Span(doc, 14, 15, "PERSON"),
    ]
    own = [(ent.start, ent.end, ent.label_) for ent in doc.ents]
    for name, component in nlp.pipeline:
        doc = component(doc)
    assert "1 of the doc's 4 entities cross a sentence boundary" in caplog.text
    assert [(ent.start, ent.end, ent.label_) for ent in doc.ents] == own
    assert [(s.start, s.end, s.label_) for s in doc.spans["spert_mt"]] == [own[0], own[1], own[3]]
    predictor = load_predictor(trained_archive)
    first = predictor.predict_json(
        {"tokens": [t.text for t in doc[:9]], "entities": [{"start": 0, "end": 2}, {"start": 4, "end": 6}]}
    )
    expected = {
        ((0, 2), (4, 6), r["type"]) if r["head"] == 0 else ((4, 6), (0, 2), r["type"]) for r in first["relations"]
    }
    found = {((r.head.start, r.head.end), (r.tail.start, r.tail.end), r.label) for r in doc._.spert_mt_relations}
    assert expected and expected <= found
