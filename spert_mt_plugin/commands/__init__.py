from spert_mt_plugin.commands.convert import Convert
from spert_mt_plugin.commands.experiments import Experiments
from spert_mt_plugin.commands.label_studio_backend import LabelStudioBackend
from spert_mt_plugin.commands.plot import Plot
from spert_mt_plugin.commands.predict_corpus import PredictCorpus
from spert_mt_plugin.commands.serve import Serve
from spert_mt_plugin.commands.sweep import Sweep
from spert_mt_plugin.commands.thresholds import Thresholds
