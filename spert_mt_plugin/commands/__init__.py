from spert_mt_plugin.commands.serve import Serve
