"""Keep xarray from importing dask in a run that never uses it.

Only the streamed Monte Carlo (:mod:`uncertainty_footprint.analysis.streaming`) needs dask. Yet xarray (2026.9)
imports it in every process, in three places, for checks whose answer is known without dask:

1. The first :class:`xarray.Variable` built from a numpy array asks ``pycompat.array_type("dask")``
   (``as_compatible_data``: is this a dask array of masked arrays?), which imports ``dask.array`` to get the
   class for an ``isinstance`` test: about 0.3 s (``python -X importtime``, 2-core EPYC of the session).
2. ``namedarray.utils.is_dask_collection``, behind ``is_duck_dask_array`` and ``is_chunked_array`` (asked of
   every index built and every variable written), imports ``dask.base`` (and so ``dask``) whenever dask is
   installed: 0.1 s.
3. ``Dataset.to_netcdf`` and ``DataTree.to_netcdf`` ask ``backends.locks.get_dask_scheduler()`` whether
   a ``dask.distributed`` client is active, which imports ``dask.distributed`` (0.15 s); so does the default
   write lock of ``NetCDF4DataStore.open``.

What this module does, each a no-op when xarray's internals are not the expected ones:

* :func:`install` puts a lazy dask probe (:class:`LazyDaskProbe`) into xarray's cache of duck-array modules.
  Its ``type`` is ``()`` while ``"dask.array"`` is not in :data:`sys.modules`, and dask's array class once it
  is. That is exactly xarray's answer: no object can be a dask array before ``dask.array`` is imported (its
  class lives in ``dask.array.core``, and Python imports a package before its modules), so ``isinstance(x, ())``
  (always False) gives the same result. Every other attribute (``module``, ``version``, ``available``) is
  xarray's own probe, built on first use.
* It wraps ``is_dask_collection`` the same way: while ``dask`` is not imported, an object without a
  ``__dask_graph__`` attribute is not a collection (dask's own test begins with that ``hasattr``); every
  other object, and every object once dask is imported, goes to xarray's function unchanged.
* :func:`write_netcdf` and :func:`write_datatree` write a Dataset or tree that holds no dask (chunked)
  arrays through xarray's public netCDF4 store (:class:`xarray.backends.NetCDF4DataStore`) opened with an
  explicit lock, and the Dataset's ``dump_to_store``: the steps of ``to_netcdf`` minus the scheduler probe,
  which can only matter for chunked variables (it decides whether to close the file between dask writes and
  which lock dask tasks share). The file is byte-for-byte the same netCDF content: same variables, attributes,
  encodings (zlib, shuffle, chunk sizes), written by the same encoder (``dump_to_store`` is what ``to_netcdf``
  calls). ``Dataset.to_netcdf`` validates the names and attribute types first: so does :func:`write_netcdf`,
  with xarray's own validators (``DataTree.to_netcdf`` checks only that the encoding names groups of the tree,
  and so does :func:`write_datatree`). The lock is xarray's process-wide netCDF4/HDF5 lock, the one
  ``to_netcdf`` combines with a per-file lock that only dask tasks writing the same file share. Anything else
  (chunked variables, a Dataset whose encoding asks for unlimited dimensions, xarray without one of these
  pieces) goes to ``to_netcdf``.

After a non-streamed run, a user who imports dask gets xarray's usual behaviour: the probe answers with dask's
class from then on, ``is_dask_collection`` goes to dask, and ``to_netcdf`` is untouched.
"""

from __future__ import annotations

import functools
import os
import sys
from typing import Any, Callable, Mapping

import xarray as xr

__all__ = ["LazyDaskProbe", "install", "install_probe", "install_collection_test", "installed", "write_netcdf",
           "write_datatree"]


class LazyDaskProbe:
    """xarray's duck-array probe of ``"dask"``, which imports dask only when asked something dask must answer.

    Parameters
    ----------
    make : callable
        Builds xarray's real probe (``xarray.namedarray.pycompat.DuckArrayModule("dask")``); called at most once,
        on first need.
    """

    def __init__(self, make: Callable[[], Any]) -> None:
        self._make = make
        self._real: Any = None

    def _probe(self) -> Any:
        if self._real is None:
            self._real = self._make()
        return self._real

    @property
    def type(self) -> tuple[type, ...]:
        """``()`` while ``dask.array`` is not imported (no object can be a dask array), else xarray's answer."""
        if "dask.array" not in sys.modules:
            return ()
        return self._probe().type

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        return getattr(self._probe(), name)


def _global_names(func: Any) -> tuple[str, ...]:
    """The global names ``func``'s code looks up (empty if it is not plain Python)."""
    return getattr(getattr(func, "__code__", None), "co_names", ())


def _lazy_collection_test(real: Callable[[Any], bool]) -> Callable[[Any], bool]:
    @functools.wraps(real)
    def is_dask_collection(x: Any) -> bool:
        if "dask" not in sys.modules and not hasattr(x, "__dask_graph__"):
            return False
        return real(x)

    is_dask_collection.lazy_dask = True  # type: ignore[attr-defined]
    return is_dask_collection


def install_probe(pycompat: Any) -> bool:
    """Put a :class:`LazyDaskProbe` into ``pycompat`` (``xarray.namedarray.pycompat``) unless xarray's cache of
    duck-array modules is not the expected one, has probed dask already, or dask's array module is imported.

    Returns
    -------
    bool
        The lazy probe is in place.
    """
    cache = getattr(pycompat, "_cached_duck_array_modules", None)
    make = getattr(pycompat, "DuckArrayModule", None)
    getter = getattr(pycompat, "_get_cached_duck_array_module", None)
    if not isinstance(cache, dict) or make is None or "_cached_duck_array_modules" not in _global_names(getter):
        return False
    if isinstance(cache.get("dask"), LazyDaskProbe):
        return True
    if "dask" in cache or "dask.array" in sys.modules:  # xarray has asked already, or dask is here: nothing to save
        return False
    cache["dask"] = LazyDaskProbe(lambda: make("dask"))
    return True


def install_collection_test(utils: Any) -> bool:
    """Wrap ``utils.is_dask_collection`` (``xarray.namedarray.utils``) so that it imports dask only for an object
    with a ``__dask_graph__``, unless the function is not xarray's, ``is_duck_dask_array`` does not look it up, or
    dask is imported already.

    Returns
    -------
    bool
        The lazy test is in place.
    """
    real = getattr(utils, "is_dask_collection", None)
    if getattr(real, "lazy_dask", False):
        return True
    caller = getattr(utils, "is_duck_dask_array", None)
    if (not callable(real) or getattr(real, "__module__", None) != getattr(utils, "__name__", "")
            or "is_dask_collection" not in _global_names(caller)):
        return False
    if "dask" in sys.modules:  # xarray's test costs nothing more: leave it as it is
        return False
    utils.is_dask_collection = _lazy_collection_test(real)
    return True


def install() -> dict[str, bool]:
    """Install the lazy dask probes into xarray (idempotent; nothing changes where xarray's internals differ).

    Returns
    -------
    dict
        ``{"array_type": bool, "is_dask_collection": bool}``: which lazy probe is in place.
    """
    try:
        from xarray.namedarray import pycompat, utils
    except ImportError:
        return {"array_type": False, "is_dask_collection": False}
    return {"array_type": install_probe(pycompat), "is_dask_collection": install_collection_test(utils)}


def installed() -> dict[str, bool]:
    """Which lazy probe is in place, as :func:`install` returns it (without installing anything)."""
    from xarray.namedarray import pycompat, utils

    return {"array_type": isinstance(getattr(pycompat, "_cached_duck_array_modules", {}).get("dask"), LazyDaskProbe),
            "is_dask_collection": bool(getattr(getattr(utils, "is_dask_collection", None), "lazy_dask", False))}


def _store_parts() -> tuple[Any, Any, Callable, Callable] | None:
    """xarray's netCDF4 store class, its netCDF4/HDF5 lock and ``Dataset.to_netcdf``'s validators of names and
    attributes, or None if one is missing."""
    try:
        from xarray.backends import NetCDF4DataStore, netCDF4_, writers
    except ImportError:
        return None
    parts = (NetCDF4DataStore, getattr(netCDF4_, "NETCDF4_PYTHON_LOCK", None),  # the store's default lock
             getattr(writers, "_validate_dataset_names", None), getattr(writers, "_validate_attrs", None))
    if any(p is None for p in parts) or not hasattr(NetCDF4DataStore, "open") or not hasattr(xr.Dataset,
                                                                                              "dump_to_store"):
        return None
    return parts


def _normalized(path: str | os.PathLike) -> str:
    """The file name as ``to_netcdf`` hands it to the store: absolute, ``~`` expanded."""
    return os.path.abspath(os.path.expanduser(os.fspath(path)))


def _plain(variables) -> bool:
    """No chunked (dask) array among ``variables``."""
    return all(v.chunks is None for v in variables)


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, encoding: Mapping[str, Mapping] | None = None) -> None:
    """``ds.to_netcdf(path, encoding=encoding)`` (netCDF4 format and engine) without asking dask's scheduler.

    Parameters
    ----------
    ds : xarray.Dataset
        What is written. With chunked (dask) variables or unlimited dimensions, ``ds.to_netcdf`` writes it.
    path : path
        The file (created or overwritten, as ``to_netcdf`` with ``mode="w"``).
    encoding : dict, optional
        Variable name -> encoding, as ``to_netcdf`` takes it.
    """
    encoding = dict(encoding or {})
    parts = _store_parts()
    if parts is None or ds.encoding.get("unlimited_dims") or not _plain(ds.variables.values()):
        ds.to_netcdf(path, encoding=encoding)
        return
    store_class, lock, check_names, check_attrs = parts
    check_names(ds)
    check_attrs(ds, "netcdf4")
    store = store_class.open(_normalized(path), mode="w", format="NETCDF4", lock=lock)
    try:
        ds.dump_to_store(store, encoding=encoding)
    finally:
        store.close()


def write_datatree(tree: xr.DataTree, path: str | os.PathLike, *,
                   encoding: Mapping[str, Mapping[str, Mapping]] | None = None) -> None:
    """``tree.to_netcdf(path, encoding=encoding)`` (netCDF4 engine) without asking dask's scheduler.

    Parameters
    ----------
    tree : xarray.DataTree
        What is written, one netCDF group per node. With chunked (dask) variables, ``tree.to_netcdf`` writes it.
    path : path
        The file (created or overwritten).
    encoding : dict, optional
        Node path -> (variable name -> encoding), as ``DataTree.to_netcdf`` takes it.
    """
    encoding = dict(encoding or {})
    parts = _store_parts()
    nodes = list(tree.subtree)
    if parts is None or not _plain(v for node in nodes for v in node.variables.values()):
        tree.to_netcdf(path, encoding=encoding)
        return
    if set(encoding) - set(tree.groups):
        raise ValueError(f"unexpected encoding group name(s) provided: {set(encoding) - set(tree.groups)}")
    store_class = parts[0]
    root = store_class.open(_normalized(path), mode="w", format="NETCDF4", lock=parts[1])
    try:
        for node in nodes:
            at_root = node is tree
            store = root if at_root else root.get_child_store(node.path)
            node.to_dataset(inherit=at_root).dump_to_store(store, encoding=encoding.get(node.path))
    finally:
        root.close()


install()
