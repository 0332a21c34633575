"""
Prediction over whole corpora on a Ray cluster (`allennlp spert-predict-corpus`, docs/scaling.md).
Ray is imported only when a job runs: the rest of the package does not need it.
"""

from spert_mt_plugin.corpus.ray_prediction import CorpusSummary, predict_corpus
from spert_mt_plugin.corpus.sharding import CorpusError
