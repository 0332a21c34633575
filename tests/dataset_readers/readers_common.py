"""Readers and tensors shared by the reader tests: the SpERT JSON reader over the tiny BERT and the fixture types."""

from allennlp.data import Batch
from allennlp.data.token_indexers import PretrainedTransformerMismatchedIndexer

from spert_mt_plugin.dataset_readers import SpertJsonReader
from spert_mt_plugin.vocabulary import TypesFileVocabulary
from tests.conftest import FIXTURES, TINY_BERT

TYPES = str(FIXTURES / "data" / "types.json")
SENTENCES = str(FIXTURES / "data" / "sentences.json")


def make_reader(cls=SpertJsonReader, **kwargs):
    indexers = {"tokens": PretrainedTransformerMismatchedIndexer(TINY_BERT, max_length=64)}
    return cls(indexers, types_file=kwargs.pop("types_file", TYPES), **kwargs)


def tensors(instances):
    vocab = TypesFileVocabulary.from_types_file(TYPES)
    batch = Batch(instances)
    batch.index_instances(vocab)
    return vocab, batch.as_tensor_dict()
