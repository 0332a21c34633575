import json

import pytest
from allennlp.data import Batch

from spert_mt_plugin.dataset_readers import DataError
from tests.dataset_readers.readers_common import make_reader, tensors


def bob_left_acme(orig_id, relation_type):
    return {
        "tokens": ["Bob", "left", "Acme"],
        "orig_id": orig_id,
        "entities": [{"start": 0, "end": 1, "type": "Person"}, {"start": 2, "end": 3, "type": "Organization"}],
        "relations": [{"head": 0, "tail": 1, "type": relation_type}],
    }


def test_unknown_label_without_types_file_names_file_and_document_when_indexed(tmp_path):
    path = tmp_path / "typo.json"
    path.write_text(
        json.dumps(
            [
                bob_left_acme("good", "Works_For"),
                {
                    "tokens": ["Eve", "left"],
                    "orig_id": "typo",
                    "entities": [{"start": 0, "end": 1, "type": "Persn"}],
                    "relations": [],
                },
                bob_left_acme("typo2", "Works_at"),
            ]
        )
    )
    good, typo, typo2 = list(make_reader(types_file=None).read(str(path)))
    vocab, _ = tensors([good])
    unknown_entity = r"typo.json, document 1 \(orig_id typo\): entity type\(s\) 'Persn' are not in the vocabulary"
    with pytest.raises(DataError, match=unknown_entity):
        Batch([good, typo]).index_instances(vocab)
    unknown_relation = r"document 2 \(orig_id typo2\): relation type\(s\) 'Works_at' are not in the vocabulary"
    with pytest.raises(DataError, match=unknown_relation):
        Batch([typo2]).index_instances(vocab)
