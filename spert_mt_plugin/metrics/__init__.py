from spert_mt_plugin.metrics.typed_set_f1 import NerF1, RelationF1, TypedSetF1
