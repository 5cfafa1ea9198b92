"""A disk cache of values that do not change between processes: arrays (the inverse-CDF tables, ``.npz``) and
small sets of numbers (the moments and support of a distribution, ``.json``, which reads in about a sixth of the
time of an ``.npz`` of a few numbers).

One file per entry, named by the SHA-256 of the entry's key (everything its content depends on: what it is, its
parameters, the settings that built it and the versions of the package and of scipy), in the user cache folder
:func:`cache_dir`: ``$UNCERTAINTY_FOOTPRINT_CACHE_DIR``, else ``$XDG_CACHE_HOME/uncertainty_footprint``, else
``~/.cache/uncertainty_footprint``.

The cache is an optimisation only; it never changes a number and never makes a run fail:

* an entry is written to a temporary file in the cache folder and moved into place with :func:`os.replace`, so
  concurrent runs never see a partial file (the last writer wins, with identical content);
* an entry is read with ``allow_pickle=False`` (arrays) or as JSON holding only numbers (numbers) and accepted only
  if it holds the expected key and its content matches the SHA-256 checksum stored with it (and the caller's
  check): a corrupt, truncated or foreign file is rebuilt and replaced;
* a cache folder that cannot be created or written means no cache (the entry is built in memory);
* nothing is written outside the cache folder (file names are hexadecimal digests).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, IO, Callable, Mapping

import numpy as np

from ..atomic import atomic_file

__all__ = ["CACHE_ENV", "cache_dir", "entry_path", "cached_arrays", "cached_numbers"]

#: Environment variable naming the cache folder (replaces the default).
CACHE_ENV = "UNCERTAINTY_FOOTPRINT_CACHE_DIR"
#: File name endings of an entry of arrays and of an entry of numbers.
ARRAYS_SUFFIX, NUMBERS_SUFFIX = ".npz", ".json"
_KEY = "__key__"
_DIGEST = "__sha256__"


def cache_dir() -> Path:
    """The user cache folder of the package (it may not exist yet).

    Returns
    -------
    pathlib.Path
        ``$UNCERTAINTY_FOOTPRINT_CACHE_DIR`` if set and not empty, else ``$XDG_CACHE_HOME/uncertainty_footprint``
        (if set and not empty), else ``~/.cache/uncertainty_footprint``.
    """
    env = os.environ.get(CACHE_ENV, "").strip()
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME", "").strip()
    base = Path(xdg).expanduser() if xdg else Path.home() / ".cache"
    return base / "uncertainty_footprint"


def _key_text(key: Mapping) -> str:
    return json.dumps(key, sort_keys=True, separators=(",", ":"))


def entry_path(key: Mapping, suffix: str = ARRAYS_SUFFIX) -> Path:
    """The file of the cache entry ``key`` (a JSON-serialisable mapping) in :func:`cache_dir`; ``suffix`` is
    :data:`ARRAYS_SUFFIX` for :func:`cached_arrays`, :data:`NUMBERS_SUFFIX` for :func:`cached_numbers`."""
    return cache_dir() / (hashlib.sha256(_key_text(key).encode("utf-8")).hexdigest() + suffix)


def _checksum(arrays: Mapping[str, np.ndarray]) -> str:
    h = hashlib.sha256()
    for name in sorted(arrays):
        a = np.ascontiguousarray(arrays[name])
        h.update(f"{name}:{a.dtype.str}:{a.shape}".encode("ascii"))
        h.update(a.tobytes())
    return h.hexdigest()


def _read(path: Path, key_text: str) -> dict[str, np.ndarray] | None:
    """The arrays of a valid entry at ``path``, or None (missing, unreadable, foreign, corrupt or truncated)."""
    try:
        with np.load(path, allow_pickle=False) as npz:
            arrays = {name: npz[name] for name in npz.files}
    except Exception:  # noqa: BLE001 - any unreadable file (a cache is never an error): rebuild it
        return None
    stored_key, digest = arrays.pop(_KEY, None), arrays.pop(_DIGEST, None)
    if stored_key is None or digest is None or stored_key.shape != () or digest.shape != ():
        return None
    if str(stored_key) != key_text or str(digest) != _checksum(arrays):
        return None
    return arrays


def _write(path: Path, dump: Callable[[IO[bytes]], None]) -> None:
    """Write an entry atomically (:func:`~uncertainty_footprint.atomic.atomic_file`: ``dump`` writes a temporary
    file in the same folder, which then replaces ``path``); errors ignored (an unwritable cache folder means no
    cache)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_file(path) as f:
            dump(f)
    except (OSError, ValueError):
        pass


def cached_arrays(key: Mapping, build: Callable[[], Mapping[str, np.ndarray]],
                  valid: Callable[[Mapping[str, np.ndarray]], bool] = lambda arrays: True
                  ) -> dict[str, np.ndarray]:
    """The arrays of the cache entry ``key``: read from the cache folder, or built and stored there.

    Parameters
    ----------
    key : mapping
        JSON-serialisable; everything the arrays depend on (their file is named by its SHA-256).
    build : callable
        Returns the arrays (a mapping of names to numpy arrays of numbers) when the entry is missing or invalid.
    valid : callable, optional
        Extra check of a read entry (e.g. the shapes the caller expects); an entry it refuses is rebuilt.

    Returns
    -------
    dict of str to numpy.ndarray
        The arrays ``build`` returns (or returned in an earlier process).
    """
    return _cached(key, ARRAYS_SUFFIX, _read, lambda: {name: np.asarray(a) for name, a in build().items()}, valid,
                   lambda f, arrays, text: np.savez(f, **arrays, **{_KEY: np.array(text),
                                                                    _DIGEST: np.array(_checksum(arrays))}))


def _cached(key: Mapping, suffix: str, read: Callable[[Path, str], Any], build: Callable[[], Any],
            valid: Callable[[Any], bool], write: Callable[[Any, Any, str], None]) -> Any:
    """The entry ``key`` (file suffix ``suffix``): ``read(path, key_text)`` it (None
    when missing or invalid) and return it if ``valid``; else ``build()`` it, store it with
    ``write(file, entry, key_text)`` and return it. Without a cache folder, always built."""
    text = _key_text(key)
    try:
        path = entry_path(key, suffix)
    except (RuntimeError, OSError):  # no home folder to put a cache in: no cache
        path = None
    found = None if path is None else read(path, text)
    if found is not None:
        try:
            if valid(found):
                return found
        except (KeyError, ValueError, TypeError, IndexError):
            pass
    made = build()
    if path is not None:
        _write(path, lambda f: write(f, made, text))
    return made


def _numbers_checksum(numbers: Mapping[str, float]) -> str:
    return hashlib.sha256(json.dumps(numbers, sort_keys=True).encode("utf-8")).hexdigest()


def _read_numbers(path: Path, key_text: str) -> dict[str, float] | None:
    """The numbers of a valid entry at ``path``, or None (missing, unreadable, foreign, corrupt or truncated)."""
    try:
        entry = json.loads(path.read_bytes())
    except Exception:  # noqa: BLE001 - any unreadable file (a cache is never an error): rebuild it
        return None
    if not isinstance(entry, dict) or set(entry) != {"key", "numbers", "sha256"}:
        return None
    numbers = entry["numbers"]
    if (entry["key"] != key_text or not isinstance(numbers, dict)
            or not all(type(v) is float for v in numbers.values())  # JSON floats, not ints or bools
            or entry["sha256"] != _numbers_checksum(numbers)):
        return None
    return numbers


def cached_numbers(key: Mapping, build: Callable[[], Mapping[str, float]],
                   valid: Callable[[Mapping[str, float]], bool] = lambda numbers: True) -> dict[str, float]:
    """The numbers of the cache entry ``key``: read from the cache folder, or built and stored there.

    Floats are stored in JSON by their shortest round-tripping representation (``inf`` as ``Infinity``), so a
    read entry holds exactly the floats that were built.

    Parameters
    ----------
    key : mapping
        JSON-serialisable; everything the numbers depend on (their file is named by its SHA-256).
    build : callable
        Returns the numbers (a mapping of names to floats) when the entry is missing or invalid.
    valid : callable, optional
        Extra check of a read entry (e.g. the names the caller expects); an entry it refuses is rebuilt.

    Returns
    -------
    dict of str to float
        The numbers ``build`` returns (or returned in an earlier process).
    """
    def write(f, numbers, text):
        entry = {"key": text, "numbers": numbers, "sha256": _numbers_checksum(numbers)}
        f.write(json.dumps(entry, sort_keys=True).encode("utf-8"))

    return _cached(key, NUMBERS_SUFFIX, _read_numbers,
                   lambda: {str(name): float(v) for name, v in build().items()}, valid, write)
