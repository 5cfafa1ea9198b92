"""Exceptions with messages meant for the user of the command line, and :func:`shorten` for quoting input."""

import reprlib
from typing import Any

#: Characters of an offending value that an error message quotes at most.
QUOTE_LIMIT = 80
#: Backstop lengths of a :class:`ConfigError`'s key path and message [characters]; a message listing every
#: allowed name stays far below them.
PATH_LIMIT = 200
MESSAGE_LIMIT = 4000

_REPR = reprlib.Repr()
_REPR.maxstring = QUOTE_LIMIT
_REPR.maxother = QUOTE_LIMIT
_REPR.maxlong = 40
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = _REPR.maxset = 6
_REPR.maxlevel = 3


def shorten(value: Any, limit: int = QUOTE_LIMIT) -> str:
    """``repr(value)`` cut to about ``limit`` characters, for quoting user input in an error message.

    Long text keeps its start and says how long it was (``'aaaa...aaa' (10485760 characters)``); containers
    show their first items only. The cost does not grow with the size of ``value``.

    Parameters
    ----------
    value : object
        The offending value, as read from the file.
    limit : int
        Characters of the quote at most (plus the length note) [characters].

    Returns
    -------
    str
        One line.
    """
    if isinstance(value, str) and len(value) > limit:
        head = repr(value[: max(limit - 5, 1)])
        return f"{head[:-1]}...{head[-1]} ({len(value)} characters)"
    try:
        text = _REPR.repr(value)
    except Exception:  # e.g. an int too long to print, a broken __repr__
        text = f"<{type(value).__name__}>"
    if len(text) > limit:
        text = text[: limit - 3] + "..."
    return text.replace("\n", " ").replace("\r", " ")


def _short_path(path: str, limit: int = 40) -> str:
    """A key path with every over-long key cut (keys come from the user's file)."""
    return ".".join(part if len(part) <= limit else part[: limit - 10] + "..." for part in path.split("."))


def _cap(text: str, limit: int) -> str:
    """One line of at most about ``limit`` characters (a backstop; quoting sites use :func:`shorten`)."""
    text = " ".join(text.splitlines())
    if len(text) > limit:
        cut = len(text) - limit
        text = f"{text[: limit - 60]} ... ({cut} characters cut) ... {text[-40:]}"
    return text


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
        self.path = _cap(_short_path(path), PATH_LIMIT)
        self.message = _cap(message, MESSAGE_LIMIT)
        path, message = self.path, self.message
        where = f"{self.source}: {path}" if path else self.source
        super().__init__(f"{where}: {message}")


class SpecError(ValueError):
    """A distribution or parameter specification is invalid; the caller adds the file and key path.

    Parameters
    ----------
    message : str
        What is wrong and what is allowed.
    key : str, optional
        The field of the record that is wrong (e.g. ``unit``), appended to the caller's key path by
        :func:`key_path`.
    """

    def __init__(self, message: str, key: str = ""):
        super().__init__(message)
        self.key = key


def key_path(path: str, exc: Exception) -> str:
    """``path`` extended by the record field a :class:`SpecError` names (``parameters.x`` -> ``parameters.x.unit``)."""
    key = getattr(exc, "key", "")
    return f"{path}.{key}" if key and path else (key or path)


class DependentInputsError(FootprintError):
    """An analysis that needs independent inputs (the exact decomposition, Saltelli's estimator) was asked of a
    model whose inputs are correlated; its hotspots are Shapley effects
    (:mod:`uncertainty_footprint.analysis.dependence`)."""


class WriteError(FootprintError):
    """The environment failed while reading or writing a results folder: ``<what> at <where>: <reason>``.

    The command line reports it on one line with exit status 1. Nothing was changed when it is raised: the
    temporary folder was removed and previous results are as they were
    (:mod:`uncertainty_footprint.io.folder`).
    """

    def __init__(self, what: str, where, reason: str):
        self.what, self.where, self.reason = what, str(where), reason
        super().__init__(f"{what} at {where}: {reason}")
