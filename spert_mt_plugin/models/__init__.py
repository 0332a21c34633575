from spert_mt_plugin.models.spert_mt import SpertMT
