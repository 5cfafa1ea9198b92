"""Propagate a design through a lifecycle model into a labelled :class:`xarray.Dataset`.

The Dataset has dimensions ``sample``, ``component`` and ``parameter``: ``footprint(sample, component)`` and
``total(sample)`` are in ``units = "kg"`` with the CO2-eq basis in ``quantity``; ``inputs(sample, parameter)``
mixes units, given per parameter by the coordinates ``unit`` (project notation) and ``units_cf`` (udunits/pint);
coordinates say each component's stage and each parameter's status and source. The CF attributes of a file and
the provenance are stamped when it is written (:mod:`uncertainty_footprint.io`).

The sampled inputs of a large in-memory run (from :data:`~uncertainty_footprint.analysis.sizes.LAZY_INPUTS_MIN`
samples) are not held in memory: ``inputs`` is a dask array that regenerates its rows from the design when read
(every design is addressed by row, so the values are the same doubles a run holding them would have). A run that
never reads them (the default ``store='footprint'``) never computes them: they are most of an in-memory run's
memory (52 of 68 numbers per sample for ``kws.yaml``).
"""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable

import numpy as np
import xarray as xr

from ..inputs.units import cf_unit, footprint_attrs
from ..model.builder import LifecycleModel
from .designs import make_design
from .sizes import COMPILED_MIN, EVAL_CHUNK, EVAL_THREADS, LAZY_INPUTS_MIN

__all__ = ["run_monte_carlo", "dataset_skeleton", "parameter_coords", "evaluate_rows", "points_buffer", "uses_kernels",
           "lazy_inputs"]


def parameter_coords(model: LifecycleModel) -> dict[str, tuple]:
    """Coordinates describing each parameter (unit, status, source, distribution, nominal, confidence, the unit an
    override was given in and converted from, and the pedigree scores its spread comes from)."""
    ps = model.parameters
    names = ps.names
    return {
        "parameter": names,
        "unit": ("parameter", [ps[n].unit for n in names]),
        "units_cf": ("parameter", [cf_unit(ps[n].unit) for n in names]),
        "status": ("parameter", [ps[n].status for n in names]),
        "source": ("parameter", [";".join(ps[n].source) for n in names]),
        "distribution": ("parameter", [ps[n].distribution.describe() for n in names]),
        "nominal": ("parameter", np.array([ps[n].nominal for n in names], dtype=float)),
        "confidence": ("parameter", [ps[n].confidence or "" for n in names]),
        "converted_from": ("parameter", [ps[n].converted_from or "" for n in names]),
        "pedigree": ("parameter", [ps[n].pedigree.describe() if ps[n].pedigree is not None else "" for n in names]),
    }


def dataset_skeleton(model: LifecycleModel, n: int, *, inputs: bool = True,
                     sample_array: Callable = np.empty, footprint=None, input_values=None) -> xr.Dataset:
    """The results Dataset's layout: variables, coordinates and units.

    ``footprint`` (n, n_components) and ``input_values`` (n, n_parameters) are used when given, else
    ``sample_array(shape)`` makes them (e.g. lazy dask zeros for a file filled chunk by chunk).
    """
    ps = model.parameters
    fp = footprint if footprint is not None else sample_array((n, len(model.components)))
    total = fp.sum(axis=1) if footprint is not None else sample_array((n,))
    data_vars = {
        "footprint": (("sample", "component"), fp, footprint_attrs("carbon footprint per component")),
        "total": ("sample", total, footprint_attrs("total carbon footprint")),
    }
    if inputs:  # mixed units: no units attribute; the unit and units_cf coordinates give each column's
        iv = input_values if input_values is not None else sample_array((n, len(ps)))
        data_vars["inputs"] = (("sample", "parameter"), iv, {
            "long_name": "sampled input values",
            "comment": "each parameter in its own unit: coordinate units_cf (udunits, pint) or unit (project "
                       "notation); uncertainty_footprint.io.netcdf.inputs_by_parameter gives one variable per "
                       "parameter with its units"})
    ds = xr.Dataset(
        data_vars=data_vars,
        coords={
            **({"sample": np.arange(n)} if footprint is not None else {}),
            "component": model.component_names,
            "stage": ("component", model.stages),
            "component_title": ("component", [c.title for c in model.components]),
            "component_detail": ("component", [c.detail for c in model.components]),
            **parameter_coords(model),
        },
    )
    if len(model.references):
        refs = model.references
        ds["reference_footprint"] = xr.DataArray(
            np.array([refs[r].nominal for r in refs]), dims="reference",
            coords={"reference": refs.names, "reference_label": ("reference",
                                                                 [model.reference_labels[r] for r in refs]),
                    "reference_source": ("reference", [";".join(refs[r].source) for r in refs])},
            attrs=footprint_attrs("reference device carbon footprint (published point value)"))
    if footprint is None:  # a lazy layout: the sample numbers stay lazy too (an index would hold n integers)
        ds = ds.assign_coords(xr.Coordinates({"sample": ("sample", sample_array((n,)).astype(np.int64))},
                                             indexes={}))
    return ds


def uses_kernels(n: int, compiled: bool | None = None) -> bool:
    """Whether a Monte Carlo run of ``n`` samples evaluates with the compiled kernels
    (:mod:`~uncertainty_footprint.inputs.kernels`; the same numbers either way): ``compiled`` when given, else
    from :data:`~uncertainty_footprint.analysis.sizes.COMPILED_MIN` samples, where numba is available.

    Raises
    ------
    ValueError
        ``compiled=True`` where numba cannot be imported.
    """
    from ..inputs import kernels

    if compiled is None:
        return n >= COMPILED_MIN and kernels.available()
    if compiled and not kernels.available():
        raise ValueError("the compiled kernels need numba, which cannot be imported here")
    return bool(compiled)


def evaluate_rows(model: LifecycleModel, points: np.ndarray, with_inputs: bool = True,
                  out: np.ndarray | None = None, compiled: bool = False, inputs_out: np.ndarray | None = None
                  ) -> tuple[np.ndarray, np.ndarray | None]:
    """Design rows through the inverse CDF and the model.

    ``points`` ``(rows, n_random)`` are rows of a design (``design.points(start, stop)`` or a caller's buffer
    filled by ``design.fill``); they are clipped in place (the design's rows are the caller's). Returns the
    footprint ``(rows, n_components)`` (written into ``out`` if given) and, with ``with_inputs``, the input values
    ``(rows, n_parameters)`` in parameter order (written into ``inputs_out`` if given). ``compiled``: the
    inverse-CDF tables run their compiled kernels (the same values).
    """
    ps = model.parameters
    values = ps.ppf(points, in_place=True, compiled=compiled)
    footprint = model.evaluate(values, out=out)
    if not (with_inputs and len(ps)):
        return footprint, None
    if inputs_out is None:
        return footprint, np.column_stack([values[n] for n in ps.names])
    for j, name in enumerate(ps.names):
        inputs_out[:, j] = values[name]
    return footprint, inputs_out


def points_buffer(model: LifecycleModel, rows: int) -> np.ndarray:
    """A buffer for ``rows`` design rows of the model's random parameters (columns contiguous, as
    ``design.points`` makes them), to be filled chunk after chunk by ``design.fill`` so that no chunk faults in
    fresh pages."""
    return np.empty((rows, len(model.parameters.random_names)), order="F")


def lazy_inputs(model: LifecycleModel, design, n: int, chunk_size: int = EVAL_CHUNK, compiled: bool = False):
    """The sampled inputs ``(n, n_parameters)`` of ``design``'s rows as a dask array, each chunk of ``chunk_size``
    rows regenerated from the design when it is computed (:func:`evaluate_rows`: the values a run holding them
    has, bit for bit).

    Parameters
    ----------
    model : LifecycleModel
    design
        The run's design (:func:`~uncertainty_footprint.analysis.designs.make_design`), addressed by row.
    n : int
        Rows [samples].
    chunk_size : int
        Rows per chunk [rows].
    compiled : bool
        Evaluate the inverse CDFs with the compiled kernels (the same values).
    """
    import uuid

    import dask.array as da

    width = len(model.parameters)
    rows = da.arange(n, chunks=chunk_size, dtype=np.int64)

    def regenerate(block: np.ndarray) -> np.ndarray:
        if block.size == 0:
            return np.empty((0, width))
        lo, hi = int(block[0]), int(block[-1]) + 1
        _, values = evaluate_rows(model, design.fill(lo, hi, points_buffer(model, hi - lo)), True,
                                  compiled=compiled)
        return values if values is not None else np.zeros((hi - lo, width))

    # named, not tokenized: hashing the model and the design would cost more than a chunk
    return rows.map_blocks(regenerate, dtype=float, new_axis=1, chunks=(rows.chunks[0], (width,)),
                           name=f"sampled-inputs-{uuid.uuid4().hex}")


def run_monte_carlo(model: LifecycleModel, *, n: int, design: str = "lhs", seed: int = 1,
                    chunk_size: int = EVAL_CHUNK, progress: Callable[[int, int], None] | None = None, threads: int | None = None,
                    compiled: bool | None = None, inputs: str | None = None) -> xr.Dataset:
    """Sample the model's parameters and evaluate every component, in memory.

    Parameters
    ----------
    model : LifecycleModel
    n : int
        Number of samples.
    design : {'mc', 'lhs', 'sobol'}
        Unit-hypercube design (see :mod:`uncertainty_footprint.analysis.designs`).
    seed : int
        The one seed of the run.
    chunk_size : int
        Rows evaluated at once (memory only; the numbers do not depend on it).
    progress : callable, optional
        Called as ``progress(done, n)`` after each chunk, in row order.
    threads : int, optional
        Chunks evaluated at once (default :data:`~uncertainty_footprint.analysis.sizes.EVAL_THREADS`, one per
        core); scheduling only, the numbers do not depend on it.
    compiled : bool, optional
        Evaluate with the compiled kernels (default: from
        :data:`~uncertainty_footprint.analysis.sizes.COMPILED_MIN` samples, see :func:`uses_kernels`); speed only.
    inputs : {'lazy', 'memory'}, optional
        ``lazy``: ``inputs`` is a dask array regenerated from the design when read (:func:`lazy_inputs`; no memory
        until then); ``memory``: computed with the footprints and held; default: ``lazy`` from
        :data:`~uncertainty_footprint.analysis.sizes.LAZY_INPUTS_MIN` samples. The same values either way.

    Returns
    -------
    xarray.Dataset
        ``footprint(sample, component)``, ``total(sample)``, ``inputs(sample, parameter)`` and reference devices.
        For sample counts that do not fit in memory see :func:`uncertainty_footprint.analysis.streaming.stream_monte_carlo`.
    """
    if inputs is None:
        inputs = "lazy" if n >= LAZY_INPUTS_MIN else "memory"
    if inputs not in ("lazy", "memory"):
        raise ValueError(f"inputs must be 'lazy' or 'memory', got {inputs!r}")
    ps = model.parameters
    compiled = uses_kernels(n, compiled)
    dsgn = make_design(design, n, ps.random_names, seed, compiled=compiled)
    footprint = np.empty((n, len(model.components)))
    held = np.empty((n, len(ps))) if inputs == "memory" else None
    local = threading.local()  # one design buffer per thread, reused from chunk to chunk

    def fill(start: int) -> int:
        stop = min(start + chunk_size, n)
        if getattr(local, "points", None) is None:
            local.points = points_buffer(model, min(chunk_size, n))
        _, iv = evaluate_rows(model, dsgn.fill(start, stop, local.points[:stop - start]), held is not None,
                              out=footprint[start:stop], compiled=compiled,
                              inputs_out=held[start:stop] if held is not None else None)
        if held is not None and iv is None:
            held[start:stop] = 0.0
        return stop

    starts = range(0, n, chunk_size)
    # rows are addressed by index: the threads write disjoint rows, the numbers never depend on their number
    with ThreadPoolExecutor(max(1, min(threads or EVAL_THREADS, len(starts)))) as pool:
        for stop in pool.map(fill, starts):  # in row order
            if progress is not None:
                progress(stop, n)
    if held is None:
        held = lazy_inputs(model, dsgn, n, chunk_size, compiled)
    return dataset_skeleton(model, n, footprint=footprint, input_values=held)
