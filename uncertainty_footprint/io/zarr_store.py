"""``results.zarr``: the per-sample results as a Zarr store, which the tasks of a streaming run write in parallel.

A run with ``format='zarr'`` (``--format zarr``) writes its per-sample results to a Zarr store instead of
``results.nc``: the same variables, values, CF attributes (:func:`~uncertainty_footprint.io.netcdf.annotate`) and
provenance stamp, chunked along ``sample``. Every chunk is a file of its own, so the tasks of a streaming run write
their rows themselves, in parallel, where they run: in threads of this process, in worker processes, or on the
workers of a ``dask.distributed`` cluster (whose workers must then see the output folder, e.g. on a shared file
system). No sample passes through the calling process, which only creates the store's metadata and folds the
tasks' statistics.

Layout (:func:`zarr_encoding`):

* Zarr format :data:`ZARR_FORMAT` (version 2, which every Zarr reader supports and which specifies every data type
  the store holds, text included), consolidated metadata (``.zmetadata``), so ``xarray.open_zarr(path)`` reads it
  in one request;
* chunks along ``sample`` of a power of two of rows, at most :data:`ZARR_CHUNK_BYTES` and at most one statistics
  block (:data:`~uncertainty_footprint.analysis.sizes.STATS_BLOCK` rows): tasks start on whole blocks, so no two
  tasks ever write the same chunk; other dimensions whole;
* the per-sample doubles (footprints, totals, inputs) uncompressed, as in ``results.nc``
  (:data:`~uncertainty_footprint.io.netcdf.COMPRESS_SAMPLES`); coordinates with the Zarr library's default codec;
* no ``sample`` coordinate: it would be the row numbers ``0 .. n-1`` (``ds["sample"]`` gives them), 8 bytes per
  sample, and every reader would load them whole to build an index (8 GB at 10^9 samples).

``xarray.open_zarr`` reads it lazily (dask), chunk by chunk, so statistics of a store of any size are computed in
parallel, e.g. on the cluster that wrote it.
"""

from __future__ import annotations

import errno
import os
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import xarray as xr

from ..analysis.sizes import STATS_BLOCK
from .netcdf import InProcessWrite, annotate, per_sample_doubles, sample_chunk_rows

__all__ = ["ZARR_FORMAT", "ZARR_CHUNK_BYTES", "zarr_encoding", "write_zarr", "ResultsStore", "RegionWrite",
           "open_store"]

#: Zarr format version of the stores the package writes.
ZARR_FORMAT = 2
#: Largest size of one chunk of a per-sample variable [bytes] (a file each; 2^18 rows of 15 components).
ZARR_CHUNK_BYTES = 32 << 20


def zarr_encoding(ds: xr.Dataset, *, chunk_bytes: int = ZARR_CHUNK_BYTES) -> dict[str, dict]:
    """The ``encoding=`` argument of ``ds.to_zarr``: per-sample variables chunked along ``sample`` (a power of two
    of rows dividing a statistics block), the per-sample doubles without a codec.

    Parameters
    ----------
    ds : xarray.Dataset
        What is written (in memory or lazy).
    chunk_bytes : int
        Largest size of one chunk [bytes].

    Returns
    -------
    dict
        Variable name -> ``{"chunks"[, "compressors"]}`` for every variable along ``sample``.
    """
    out = {}
    for name, var in ds.variables.items():
        if "sample" not in var.dims or 0 in var.shape:
            continue
        rows = sample_chunk_rows(var, chunk_bytes, most=STATS_BLOCK)
        enc: dict = {"chunks": tuple(rows if d == "sample" else s for d, s in var.sizes.items())}
        if per_sample_doubles(name, var):
            enc["compressors"] = None
        out[str(name)] = enc
    return out


def _prepared(ds: xr.Dataset, attrs: dict | None) -> xr.Dataset:
    """``ds`` as the store holds it: without the ``sample`` row numbers, CF attributes and ``attrs`` added, no
    encoding left from where it was read."""
    ds = annotate(ds.drop_vars("sample", errors="ignore").copy()).drop_encoding()
    ds.attrs.update(attrs or {})
    return ds


def write_zarr(ds: xr.Dataset, path: str | os.PathLike, attrs: dict | None = None) -> None:
    """Write ``ds`` (an in-memory run's results; lazy variables are computed chunk by chunk) to a new Zarr store
    at ``path`` with the CF attributes, the global ``attrs`` (the provenance stamp) and :func:`zarr_encoding`;
    ``ds`` itself is not changed."""
    ds = _prepared(ds, attrs)
    encoding = zarr_encoding(ds)
    lazy = {name: {"sample": encoding[name]["chunks"][var.dims.index("sample")]}
            for name, var in ds.data_vars.items() if var.chunks is not None and name in encoding}
    for name, chunks in lazy.items():  # a dask chunk covers whole Zarr chunks
        ds[name] = ds[name].chunk(chunks)
    ds.to_zarr(Path(path), mode="w-", encoding=encoding, zarr_format=ZARR_FORMAT, consolidated=True)


@dataclass(frozen=True)
class RegionWrite:
    """Rows ``start:stop`` of a run's per-sample arrays into the store at ``path`` (``xarray``'s region write):
    what a task calls where it runs, in any process that sees ``path``. A store it does not find (a worker that
    does not share the output folder's file system, or a run that has ended) is refused with that reason rather
    than created; a store removed between that check and the write can still get the chunk's folder back (the
    Zarr library creates missing folders), inside the run's temporary folder, which the next run into the same
    place removes once the run's process is gone."""

    path: str

    def __call__(self, start: int, stop: int, footprint: np.ndarray, inputs: np.ndarray | None) -> None:
        if not os.path.isdir(self.path):  # no errno: the message is the reason the user reads
            raise OSError("a task does not see the results store (a cluster's workers need --out on a shared "
                          "file system)")
        data = {"footprint": (("sample", "component"), footprint), "total": ("sample", footprint.sum(axis=1))}
        if inputs is not None:
            data["inputs"] = (("sample", "parameter"), inputs)
        xr.Dataset(data).to_zarr(self.path, region={"sample": slice(start, stop)}, mode="r+", consolidated=False)


class ResultsStore:
    """Where a streaming run writes its per-sample arrays as ``results.zarr``: :meth:`create` writes the store's
    metadata and coordinates, then every task writes its own rows (:meth:`task_writer`, in parallel wherever the
    tasks run; :meth:`write` does the same in the calling process). Used by
    :func:`~uncertainty_footprint.analysis.streaming.stream_monte_carlo` as a context manager; a failed run's
    store is removed with the results folder's temporary folder (:mod:`uncertainty_footprint.io.folder`).

    Parameters
    ----------
    path : path
        The store to create (a folder).
    attrs : dict
        Its global attributes (the provenance stamp).
    """

    def __init__(self, path: str | os.PathLike, attrs: dict | None = None):
        self.path = Path(os.path.abspath(path))  # the workers of a cluster get this path
        self.attrs = dict(attrs or {})
        self._state = threading.Condition()
        self._writing = 0  # writes of this process in progress
        self._closed = False

    def __enter__(self) -> "ResultsStore":
        return self

    def __exit__(self, *exc) -> bool:
        """The run has ended (or failed): refuse further writes of this process's tasks and wait for those in
        progress, so that nothing writes into the store once the results folder's transaction removes or moves
        it (tasks of the threaded scheduler go on after an interrupt of the calling thread)."""
        with self._state:
            self._closed = True
            self._state.wait_for(lambda: self._writing == 0)
        return False

    def create(self, skeleton: xr.Dataset) -> None:
        """Create the store with the coordinates, attributes and empty per-sample variables of ``skeleton`` (lazy:
        nothing per sample is computed or written here)."""
        ds = _prepared(skeleton, self.attrs)
        ds.to_zarr(self.path, compute=False, mode="w-", encoding=zarr_encoding(ds), zarr_format=ZARR_FORMAT,
                   consolidated=True)

    def write(self, start: int, stop: int, footprint: np.ndarray, inputs: np.ndarray | None) -> None:
        """Rows ``start:stop`` of the footprints (and totals, and inputs when kept), from this process; refused
        once the run has ended."""
        with self._state:
            if self._closed:
                raise FileNotFoundError(errno.ENOENT, "the results store is closed (the run has ended)",
                                        str(self.path))
            self._writing += 1
        try:
            RegionWrite(str(self.path))(start, stop, footprint, inputs)
        finally:
            with self._state:
                self._writing -= 1
                self._state.notify_all()

    def task_writer(self, in_process: bool):
        """What every task calls to write its rows where it runs: :meth:`write` for tasks of this process
        (``in_process``), a :class:`RegionWrite` for other processes and a cluster's workers."""
        return InProcessWrite(self) if in_process else RegionWrite(str(self.path))


def open_store(path: str | os.PathLike, task_rows: int) -> xr.Dataset:
    """A written ``results.zarr`` opened lazily, chunked along ``sample`` in about ``task_rows`` [rows] (dask): a
    whole number of the store's own chunks (rounded up)."""
    with xr.open_zarr(path) as ds:
        stored = max([int(v.encoding["chunks"][v.dims.index("sample")]) for v in ds.variables.values()
                      if "sample" in v.dims and v.encoding.get("chunks")] or [1])
    rows = -(-int(task_rows) // stored) * stored
    return xr.open_zarr(path, chunks={"sample": rows})
