"""
Raw text into words and sentences: spaCy's rule-based tokenizer and sentencizer, which need no
downloaded pipeline. The brat reader, the conversions and the predictor all split text this way.
"""

import spacy
from spacy.language import Language
from spacy.tokens import Doc


def blank_pipeline(language: str) -> Language:
    """A blank spaCy pipeline of `language` (its tokenizer) with a sentencizer."""
    nlp = spacy.blank(language)
    nlp.add_pipe("sentencizer")
    return nlp


def parse(nlp: Language, text: str) -> Doc:
    """`nlp(text)`, for text of any length."""
    # spaCy's max_length (10^6 characters) protects the memory of its parser and NER; the
    # tokenizer and sentencizer of a blank pipeline are linear in the text.
    nlp.max_length = max(nlp.max_length, len(text) + 1)
    return nlp(text)
