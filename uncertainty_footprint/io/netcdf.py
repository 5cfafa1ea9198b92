"""netCDF files with CF-1.10 metadata: every file of numbers the package writes, and the streaming run's sink.

``results.nc``, ``sobol.nc``, ``exact.nc`` and ``comparison.nc`` follow the CF conventions so that the tools of
the xarray ecosystem read them without help:

* the global attribute ``Conventions = "CF-1.10"``;
* a ``long_name`` on every variable and coordinate;
* ``units`` that udunits and pint both parse. A footprint is a mass of CO2 with the same warming effect, so its
  ``units`` are ``kg`` and its ``quantity`` attribute states the CO2-equivalent basis (:data:`FOOTPRINT_QUANTITY`):
  ``ds.pint.quantify()`` (pint-xarray) gives kilograms, ``ds.cf`` (cf_xarray) finds the uncertainty of every
  Sobol' index through ``ancillary_variables``. Indices are ``units = "1"``.

The sampled inputs ``inputs(sample, parameter)`` mix units (a power, a lifetime, emission factors), which one
netCDF variable cannot carry. The array therefore has no ``units``; the coordinates ``unit(parameter)`` (the
project's notation, e.g. ``kg CO2-eq/mm2``) and ``units_cf(parameter)`` (udunits/pint, e.g. ``kg/mm^2``) give
each column's unit, and :func:`inputs_by_parameter` turns the array into one variable per parameter with its own
``units``, which is what xarray users expect (``inputs_by_parameter(ds).pint.quantify()``).

Layout and compression (:func:`netcdf_encoding`): every variable along ``sample`` is chunked along it in chunks of
about :data:`CHUNK_BYTES`. The per-sample floating-point numbers (footprints, totals, inputs) are stored
uncompressed: they are random doubles, which no lossless codec shrinks by more than about 1.4x (zstd) or 1.3x
(zlib), while compressing them costs several times the computation of a large run
(``benchmarks/store_benchmark.py`` measures the codecs). Every other numeric variable (the ``sample`` numbers,
coordinates, indices) is compressed with zlib level :data:`COMPLEVEL` and the shuffle filter, which every netCDF
reader decodes. Lossless either way: the numbers read back are the numbers computed. The streaming engine creates
``results.nc`` with the same encoding.
"""

from __future__ import annotations

import errno
import os
import threading
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Mapping

import numpy as np
import xarray as xr

from ..inputs.units import FOOTPRINT_UNITS, cf_unit


__all__ = ["CONVENTIONS", "FOOTPRINT_UNITS", "COMPLEVEL", "COMPRESS_SAMPLES", "CHUNK_BYTES", "LONG_NAMES", "annotate",
           "netcdf_encoding", "per_sample_doubles",
           "tree_encoding", "inputs_by_parameter", "released_on_failure", "write_dataset", "write_groups",
           "ResultsFile", "open_results"]

#: The ``Conventions`` attribute of every netCDF file the package writes.
CONVENTIONS = "CF-1.10"
#: zlib compression level (1 fastest .. 9 smallest) of the variables that are compressed.
COMPLEVEL = 4
#: Whether the per-sample floating-point variables are compressed (zlib with shuffle) [-]: no, they are random
#: doubles (see the module's docstring).
COMPRESS_SAMPLES = False
#: Serializes the package's own calls into HDF5 through netCDF4 (which releases the GIL, while HDF5 is not
#: thread-safe): every :class:`ResultsFile` of the process, and the probe of :func:`open_results`.
_HDF5_LOCK = threading.RLock()
#: Free space below which a failed write is reported as a full disk [bytes]
FULL_DISK_BYTES = 1 << 20
#: Target size of one chunk of a per-sample variable [bytes].
CHUNK_BYTES = 1 << 20

#: ``long_name`` of the variables and coordinates the package writes (others get their name in words).
LONG_NAMES = {
    "sample": "Monte Carlo sample index",
    "component": "footprint component",
    "stage": "life-cycle stage of the component",
    "component_title": "component title",
    "component_detail": "component detail (HSL items and factors)",
    "parameter": "input parameter",
    "unit": "unit of the parameter (project notation)",
    "units_cf": "unit of the parameter (udunits and pint notation)",
    "status": "status of the value: quoted, inferred or assumed",
    "source": "source keys of the value (distributions/sources.yaml)",
    "distribution": "probability distribution of the parameter",
    "nominal": "nominal (published or typical) value of the parameter, in its unit",
    "confidence": "confidence note of the value",
    "converted_from": "unit an override was given in and converted from",
    "pedigree": "pedigree scores (reliability, completeness, temporal, geographical, technological) and table of the spread",
    "reference": "reference device",
    "reference_label": "reference device name",
    "reference_source": "source keys of the reference footprint",
    "group": "group of parameters",
    "members": "parameters of the group",
    "parameter_2": "second input parameter of a pair",
    "group_2": "second group of a pair",
    "experiment": "experiment (file stem)",
    "experiment_name": "experiment name",
    "output": "model output",
    "n_base": "Sobol' base sample size",
}

def _long_name(name) -> str:
    return LONG_NAMES.get(str(name), str(name).replace("_", " "))


def annotate(ds: xr.Dataset) -> xr.Dataset:
    """Add the CF attributes in place and return ``ds``: ``Conventions``, a ``long_name`` on every variable and
    coordinate that lacks one, and ``ancillary_variables`` linking each Sobol' index ``X`` to ``X_conf``."""
    ds.attrs["Conventions"] = CONVENTIONS
    for name, var in ds.variables.items():
        var.attrs.setdefault("long_name", _long_name(name))
        conf = f"{name}_conf"
        if conf in ds.data_vars and name in ds.data_vars:
            var.attrs["ancillary_variables"] = conf
    return ds


def sample_chunk_rows(var: xr.Variable, chunk_bytes: int, most: int | None = None) -> int:
    """Rows of one chunk of ``var`` along ``sample``: a power of two (streamed tasks, whole statistics blocks,
    then fill whole chunks), at most ``most``, whose chunk spanning the other dimensions whole holds at most
    ``chunk_bytes`` (at least one row); never more than the variable has [rows]."""
    other = int(np.prod([s for d, s in var.sizes.items() if d != "sample"], dtype=np.int64)) or 1
    rows = max(1, chunk_bytes // (var.dtype.itemsize * other))
    rows = 1 << (rows.bit_length() - 1)
    if most is not None:
        rows = min(rows, most)
    return max(1, min(rows, var.sizes["sample"]))


def _chunks(var: xr.Variable, chunk_bytes: int) -> tuple[int, ...]:
    rows = sample_chunk_rows(var, chunk_bytes)
    return tuple(rows if d == "sample" else s for d, s in var.sizes.items())


def per_sample_doubles(name, var: xr.Variable) -> bool:
    """Whether ``var`` holds floating-point numbers per sample (footprints, totals, inputs, balances): the
    variables stored uncompressed (:data:`COMPRESS_SAMPLES`)."""
    return "sample" in var.dims and var.dtype.kind == "f" and str(name) != "sample"


def netcdf_encoding(ds: xr.Dataset, *, complevel: int = COMPLEVEL, chunk_bytes: int = CHUNK_BYTES,
                    compress_samples: bool = COMPRESS_SAMPLES) -> dict[str, dict]:
    """The ``encoding=`` argument of ``ds.to_netcdf`` (netCDF4 engine): per-sample doubles chunked along
    ``sample`` and uncompressed, every other numeric variable lossless zlib with shuffle.

    Parameters
    ----------
    ds : xarray.Dataset
        What is written (in memory or lazy, e.g. the streaming engine's skeleton of ``results.nc``).
    complevel : int
        zlib level, 1-9.
    chunk_bytes : int
        Target size of one chunk of a per-sample variable [bytes]; chunks run along ``sample`` over a power of two
        of rows and span the other dimensions whole.
    compress_samples : bool
        Compress the per-sample doubles too (:func:`per_sample_doubles`; zlib with shuffle, as the rest).

    Returns
    -------
    dict
        Variable name -> ``{"zlib"[, "complevel", "shuffle"][, "chunksizes"]}`` for every numeric variable of
        one or more dimensions (text variables are left as they are: HDF5 does not compress them).
    """
    out = {}
    for name, var in ds.variables.items():
        if var.ndim == 0 or var.dtype.kind not in "biuf" or 0 in var.shape:
            continue
        if per_sample_doubles(name, var) and not compress_samples:
            enc = {"zlib": False, "shuffle": False}
        else:
            enc = {"zlib": True, "complevel": int(complevel), "shuffle": True}
        if "sample" in var.dims:
            enc["chunksizes"] = _chunks(var, chunk_bytes)
        out[str(name)] = enc
    return out


def tree_encoding(tree: xr.DataTree, **options) -> dict[str, dict]:
    """:func:`netcdf_encoding` per node, as ``DataTree.to_netcdf(encoding=...)`` takes it (keyed by node path)."""
    return {node.path: netcdf_encoding(node.to_dataset(inherit=False), **options) for node in tree.subtree}


def inputs_by_parameter(ds: xr.Dataset) -> xr.Dataset:
    """The sampled inputs of a results Dataset as one variable per parameter, each with its own CF units.

    Parameters
    ----------
    ds : xarray.Dataset
        ``results.nc`` (with ``inputs(sample, parameter)``, written with ``--store all`` by a streaming run).

    Returns
    -------
    xarray.Dataset
        One variable per parameter over ``sample`` with ``units`` (:func:`cf_unit`), ``unit`` (project
        notation), ``long_name``, ``status``, ``source`` and ``distribution``; ``.pint.quantify()`` gives each
        its unit.
    """
    if "inputs" not in ds:
        raise KeyError("the Dataset has no sampled inputs (a streaming run keeps them with --store all)")
    out = {}
    units = ds["unit"].values if "unit" in ds.coords else [""] * ds.sizes["parameter"]
    for i, name in enumerate(ds["parameter"].values):
        name = str(name)
        attrs = {"long_name": f"sampled {name}", "units": cf_unit(str(units[i])), "unit": str(units[i])}
        for key in ("status", "source", "distribution"):
            if key in ds.coords:
                attrs[key] = str(ds[key].values[i])
        out[name] = xr.Variable(("sample",), ds["inputs"].isel(parameter=i).data, attrs)
    return xr.Dataset(out, coords={"sample": ds["sample"]},
                      attrs={"Conventions": CONVENTIONS, **{k: v for k, v in ds.attrs.items() if k != "Conventions"}})



@contextmanager
def released_on_failure(path: str | os.PathLike):
    """Around a netCDF write: on failure, empty the partial file (HDF5 may keep its handle open after an error,
    e.g. a full disk during a compressed write, which would hold the space until the process ends) and report a
    full disk as :class:`OSError` ``ENOSPC`` (the netCDF library says only "HDF error"). A file that existed
    before the write began is never emptied."""
    ours = not os.path.lexists(path)
    try:
        yield
    except BaseException as exc:
        full = None
        if not isinstance(exc, OSError):
            try:
                st = os.statvfs(Path(path).parent)
                if st.f_bavail * st.f_frsize < FULL_DISK_BYTES:
                    full = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            except OSError:
                pass
        if ours:
            try:
                os.truncate(path, 0)
            except OSError:
                pass
        if full is not None:
            raise full from exc
        raise


# ------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------
def write_dataset(ds: xr.Dataset, path: str | os.PathLike, attrs: dict | None = None) -> None:
    """Write ``ds`` to ``path`` as CF-1.10 netCDF, compressed (:func:`netcdf_encoding`), with the global ``attrs``
    (the provenance stamp, :mod:`uncertainty_footprint.io.provenance`) added; ``ds`` itself is not changed."""
    ds = annotate(ds.copy())
    ds.attrs.update(attrs or {})
    with released_on_failure(path):
        ds.to_netcdf(path, encoding=netcdf_encoding(ds))


def write_groups(groups: Mapping[str, xr.Dataset], path: str | os.PathLike, attrs: dict | None = None) -> None:
    """Indices by grouping as one CF-1.10 netCDF tree (``sobol.nc``, ``exact.nc``): the ``parameter`` grouping at
    the root (``xarray.open_dataset`` reads it), the others as groups ``by_<grouping>``
    (``xarray.open_datatree`` reads all, :func:`~uncertainty_footprint.analysis.hotspots.from_datatree` gives the
    mapping back); every node stamped with ``attrs``."""
    from ..analysis.hotspots import to_datatree

    tree = to_datatree(groups)
    nodes = {}
    for node in tree.subtree:
        ds = annotate(node.to_dataset(inherit=False))
        ds.attrs.update(attrs or {})
        nodes[node.path] = ds
    tree = xr.DataTree.from_dict(nodes)
    encoding = {node.path: netcdf_encoding(node.to_dataset(inherit=False)) for node in tree.subtree}
    with released_on_failure(path):
        tree.to_netcdf(path, encoding=encoding)


class ResultsFile:
    """Where a streaming run writes its per-sample arrays: ``results.nc``, created empty from the run's layout
    and filled block by block as the tasks finish. :func:`uncertainty_footprint.analysis.streaming.
    stream_monte_carlo` uses it as a context manager around :meth:`create` and :meth:`write`; on leaving, the file
    is closed, and after a failure emptied (:func:`released_on_failure`).

    Tasks that run in this process (the ``threads`` and ``synchronous`` schedulers) write their own rows through
    :meth:`task_writer`, one at a time (HDF5 writes one thing at a time), while the other tasks compute: the writing
    overlaps the computation and no task's arrays wait for the calling thread. Tasks in other processes hand their
    arrays back and the calling process writes them (:meth:`write`): one netCDF file has one writer.

    Parameters
    ----------
    path : path
        The file to create.
    attrs : dict
        Its global attributes (the provenance stamp).
    """

    def __init__(self, path: str | os.PathLike, attrs: dict | None = None):
        self.path = Path(path)
        self.attrs = dict(attrs or {})
        self._nc = None
        self._stack = None
        self._lock = _HDF5_LOCK

    def __enter__(self) -> "ResultsFile":
        # on leaving: the file is closed first, then (after a failure, also one of closing it) emptied
        self._stack = ExitStack()
        self._stack.enter_context(released_on_failure(self.path))
        self._stack.callback(self._close)
        return self

    def __exit__(self, *exc) -> bool:
        stack, self._stack = self._stack, None
        return bool(stack.__exit__(*exc))

    def _close(self) -> None:
        with self._lock:
            nc, self._nc = self._nc, None
            if nc is not None:
                nc.close()

    def create(self, skeleton: xr.Dataset) -> None:
        """Create the file with the coordinates, attributes and empty (lazy) per-sample variables of
        ``skeleton``, encoded as an in-memory run's, and open it for :meth:`write`."""
        import netCDF4

        skeleton = annotate(skeleton.copy())
        skeleton.attrs.update(self.attrs)
        with self._lock:
            skeleton.to_netcdf(self.path, compute=False, encoding=netcdf_encoding(skeleton))
            self._nc = netCDF4.Dataset(self.path, "a")
            self._nc.set_auto_mask(False)
            for name, var in skeleton.variables.items():
                if "sample" in var.dims:  # whole chunks are written once: no chunk cache (it would hold memory)
                    self._nc[name].set_var_chunk_cache(size=0)

    def write(self, start: int, stop: int, footprint: np.ndarray, inputs: np.ndarray | None) -> None:
        """Rows ``start:stop`` of the footprints (and totals, and inputs when kept)."""
        total = footprint.sum(axis=1)
        with self._lock:
            nc = self._nc
            if nc is None:
                raise RuntimeError(f"{self.path} is closed: the run has ended")
            nc["sample"][start:stop] = np.arange(start, stop)
            nc["footprint"][start:stop, :] = footprint
            nc["total"][start:stop] = total
            if inputs is not None:
                nc["inputs"][start:stop, :] = inputs

    def task_writer(self, in_process: bool):
        """What the tasks of a streaming run call to write their rows themselves: :meth:`write` when they run in
        this process (``in_process``), else None (they hand their arrays back)."""
        return InProcessWrite(self) if in_process else None


class InProcessWrite:
    """A sink's ``write`` (:class:`ResultsFile`, :class:`~uncertainty_footprint.io.zarr_store.ResultsStore`),
    called by a task of this process: the sink's handle and state never leave the process."""

    def __init__(self, sink):
        self.sink = sink

    def __call__(self, start: int, stop: int, footprint: np.ndarray, inputs: np.ndarray | None) -> None:
        self.sink.write(start, stop, footprint, inputs)

    def __dask_tokenize__(self):
        return ("uncertainty_footprint.InProcessWrite", type(self.sink).__name__, str(self.sink.path), id(self.sink))


def open_results(path: str | os.PathLike, task_rows: int) -> xr.Dataset:
    """A written ``results.nc`` opened lazily, chunked along ``sample`` in about ``task_rows`` [rows] (dask): a
    whole number of the file's own chunks (rounded up), so that no task reads a stored chunk another reads too
    (``results.zarr``: :func:`~uncertainty_footprint.io.zarr_store.open_store`).

    The ``sample`` numbers stay lazy, without an index (reading them whole to build one costs a tenth of a second
    per 10^7 samples and 8 bytes per sample); the other dimensions are indexed as usual.
    """
    import netCDF4

    with _HDF5_LOCK, netCDF4.Dataset(path) as nc:
        stored = max([int(v.chunking()[v.dimensions.index("sample")]) for v in nc.variables.values()
                      if "sample" in v.dimensions and v.chunking() != "contiguous"] or [1])
    rows = -(-int(task_rows) // stored) * stored
    ds = xr.open_dataset(path, chunks={"sample": rows}, create_default_indexes=False)
    return _indexed(ds)


def _indexed(ds: xr.Dataset) -> xr.Dataset:
    """``ds`` with the default index of every dimension coordinate but ``sample``."""
    for dim in ds.dims:
        if dim != "sample" and dim in ds.coords and dim not in ds.xindexes:
            ds = ds.set_xindex(dim)
    return ds
