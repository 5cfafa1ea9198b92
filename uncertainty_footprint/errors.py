"""Exceptions with messages meant for the user of the command line."""


class FootprintError(Exception):
    """Base class of the package's errors. ``str(error)`` is a complete one-line message."""


class ConfigError(FootprintError):
    """An experiment or data file is invalid.

    Parameters
    ----------
    source : str
        The file (or other origin) of the bad value.
    path : str
        Dotted key path inside the file, e.g. ``blocks.casing.hsl``; empty for the whole file.
    message : str
        What is wrong and what is allowed.
    """

    def __init__(self, source: str, path: str, message: str):
        self.source = str(source)
        self.path = path
        self.message = message
        where = f"{self.source}: {path}" if path else self.source
        super().__init__(f"{where}: {message}")


class SpecError(ValueError):
    """A distribution or parameter specification is invalid; the caller adds the file and key path."""
