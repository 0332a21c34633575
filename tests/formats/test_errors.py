import pickle

from allennlp.common.checks import ConfigurationError

from spert_mt_plugin.formats.errors import DataError


def test_a_data_error_is_a_configuration_error_showing_its_message_as_is():
    # AllenNLP and the plugin's commands report configuration errors as the user's to fix, in one line.
    error = DataError("a.json, document 3: missing key 'tokens'")
    assert isinstance(error, ConfigurationError)
    assert str(error) == "a.json, document 3: missing key 'tokens'"


def test_a_data_error_keeps_its_type_and_message_through_pickling():
    # The data loader's worker processes hand their exceptions to the main process pickled.
    error = pickle.loads(pickle.dumps(DataError("a.json, line 2: not UTF-8 text")))
    assert type(error) is DataError
    assert error.message == "a.json, line 2: not UTF-8 text"
