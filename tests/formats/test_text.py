from spert_mt_plugin.formats.text import blank_pipeline, parse


def test_blank_pipeline_tokenizes_and_splits_sentences_without_a_model():
    nlp = blank_pipeline("en")
    assert nlp.pipe_names == ["sentencizer"]
    document = parse(nlp, "Ada met Bob. They left.")
    assert [[token.text for token in sentence] for sentence in document.sents] == [
        ["Ada", "met", "Bob", "."],
        ["They", "left", "."],
    ]


def test_parse_takes_text_longer_than_max_length():
    nlp = blank_pipeline("en")
    nlp.max_length = 10  # stands for spaCy's 10^6 characters
    text = "Ada met Bob in Oslo. They left."
    assert [token.idx for token in parse(nlp, text)][-2:] == [len(text) - 5, len(text) - 1]
