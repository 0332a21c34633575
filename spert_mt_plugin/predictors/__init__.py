from spert_mt_plugin.predictors.spert_mt import InputError, InputTooLarge, SpertMTPredictor
