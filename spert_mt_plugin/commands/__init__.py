from spert_mt_plugin.commands.experiments import Experiments
from spert_mt_plugin.commands.plot import Plot
from spert_mt_plugin.commands.serve import Serve
