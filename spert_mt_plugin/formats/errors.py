from allennlp.common.checks import ConfigurationError


class DataError(ConfigurationError):
    """Malformed input data. The message names the file, the document and the problem."""
