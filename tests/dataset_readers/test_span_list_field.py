import pytest


def test_span_list_field_rejects_spans_outside_the_sentence():
    from allennlp.data import Token
    from allennlp.data.fields import TextField

    from spert_mt_plugin.dataset_readers.span_list_field import SpanListField

    text = TextField([Token("a"), Token("b")], {})
    assert SpanListField([(0, 1), (1, 1)], text).sequence_length() == 2
    for bad in ([(0, 2)], [(1, 0)], [(-1, 0)]):
        with pytest.raises(ValueError, match="0 <= start <= end < 2"):
            SpanListField(bad, text)
