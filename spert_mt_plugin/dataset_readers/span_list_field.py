from typing import Dict, List, Sequence, Tuple

import numpy
import torch
from allennlp.data.fields import SequenceField


class SpanListField(SequenceField[torch.Tensor]):
    """
    A list of word spans `(start, end)` (inclusive ends) over a `TextField`, held as one array.

    It does what `ListField[SpanField]` does for candidate spans, but a sentence has hundreds of
    them: one array instead of one `SpanField` object and one small tensor per span makes reading
    and batching several times faster. As a `SequenceField` it carries `SequenceLabelField`s and
    `AdjacencyField`s. Padding spans are `(-1, -1)`.
    """

    __slots__ = ["spans", "sequence_field"]

    def __init__(self, spans: Sequence[Tuple[int, int]], sequence_field: SequenceField) -> None:
        self.spans = numpy.asarray(spans, dtype=numpy.int64).reshape(-1, 2)
        self.sequence_field = sequence_field
        length = sequence_field.sequence_length()
        if len(self.spans) and not (
            (self.spans[:, 0] >= 0).all()
            and (self.spans[:, 0] <= self.spans[:, 1]).all()
            and (self.spans[:, 1] < length).all()
        ):
            raise ValueError(f"spans must satisfy 0 <= start <= end < {length}: {self.spans.tolist()}")

    def sequence_length(self) -> int:
        return len(self.spans)

    def __len__(self) -> int:
        return len(self.spans)

    def get_padding_lengths(self) -> Dict[str, int]:
        return {"num_spans": len(self.spans)}

    def as_tensor(self, padding_lengths: Dict[str, int]) -> torch.Tensor:
        tensor = torch.full((padding_lengths["num_spans"], 2), -1, dtype=torch.long)
        tensor[: len(self.spans)] = torch.from_numpy(self.spans)
        return tensor

    def empty_field(self) -> "SpanListField":
        return SpanListField([], self.sequence_field.empty_field())

    def human_readable_repr(self) -> List[List[int]]:
        return self.spans.tolist()

    def __str__(self) -> str:
        return f"SpanListField of {len(self.spans)} spans."
