"""The randomly initialised tiny BERT of fixtures/tiny_bert as a transformers model, for the ONNX tests."""

import torch
from transformers import BertConfig, BertModel

from tests.conftest import TINY_BERT


def tiny_bert(seed: int = 0, **changes) -> BertModel:
    """2 layers, hidden size 16, feed-forward 32; weights drawn with `seed`; `changes` go to its config."""
    torch.manual_seed(seed)
    return BertModel(BertConfig.from_pretrained(TINY_BERT, **changes)).eval()
