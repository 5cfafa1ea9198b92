"""Propagate a design through a lifecycle model into a labelled :class:`xarray.Dataset`.

The Dataset has dimensions ``sample``, ``component`` and ``parameter``; ``footprint(sample, component)``,
``total(sample)`` and ``inputs(sample, parameter)`` carry units in ``attrs``; coordinates say each component's
stage and each parameter's unit, status and source; the Dataset's ``attrs`` hold the provenance (experiment,
seed, design, hashes, package and library versions, the assumed parameters the result depends on). All attrs
are netCDF-compatible (text and numbers), so the Dataset round-trips through ``to_netcdf`` unchanged.
"""

from __future__ import annotations

import json
import platform
from typing import Callable

import numpy as np
import xarray as xr

from ..model.builder import KG, LifecycleModel
from .designs import make_design

__all__ = ["run_monte_carlo", "versions", "DEFAULT_CHUNK"]

#: Rows evaluated at once; affects memory only, never the numbers.
DEFAULT_CHUNK = 1 << 16


def versions() -> dict[str, str]:
    """Versions of Python, this package and the scientific libraries it uses."""
    import matplotlib
    import numpy
    import pandas
    import scipy
    import yaml

    from .. import __version__

    out = {"python": platform.python_version(), "uncertainty_footprint": __version__, "numpy": numpy.__version__,
           "scipy": scipy.__version__, "xarray": xr.__version__, "pandas": pandas.__version__,
           "matplotlib": matplotlib.__version__, "pyyaml": yaml.__version__}
    try:
        from importlib.metadata import version

        out["salib"] = version("SALib")
    except Exception:  # pragma: no cover - SALib is a dependency
        out["salib"] = "unknown"
    return out


def parameter_coords(model: LifecycleModel) -> dict[str, tuple]:
    """Coordinates describing each parameter (unit, status, source, family, distribution)."""
    ps = model.parameters
    names = ps.names
    return {
        "parameter": names,
        "unit": ("parameter", [ps[n].unit for n in names]),
        "status": ("parameter", [ps[n].status for n in names]),
        "source": ("parameter", [";".join(ps[n].source) for n in names]),
        "distribution": ("parameter", [ps[n].distribution.describe() for n in names]),
        "nominal": ("parameter", np.array([ps[n].nominal for n in names], dtype=float)),
    }


def provenance(model: LifecycleModel, *, experiment: str, seed: int, design: str, n: int,
               config_sha256: str) -> dict:
    """netCDF-compatible provenance attributes of a run."""
    assumed = model.parameters.assumed()
    return {
        "title": f"uncertainty_footprint results: {experiment}",
        "experiment": experiment,
        "seed": int(seed),
        "design": design,
        "n_samples": int(n),
        "chunk_size_note": "results do not depend on the chunk size or the number of workers",
        "config_sha256": config_sha256,
        "model_sha256": model.fingerprint(),
        "versions": json.dumps(versions(), sort_keys=True),
        "assumed_parameters": ",".join(assumed),
        "n_assumed_parameters": len(assumed),
        "correlation_note": "inputs are sampled independently; the published lower/upper columns are corners "
                            "where every block is at its bound at once, which independent sampling almost never "
                            "reaches",
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
        "footprint": (("sample", "component"), fp, {"units": KG, "long_name": "footprint per component"}),
        "total": ("sample", total, {"units": KG, "long_name": "total footprint"}),
    }
    if inputs:
        iv = input_values if input_values is not None else sample_array((n, len(ps)))
        data_vars["inputs"] = (("sample", "parameter"), iv, {"long_name": "sampled input values",
                                                             "units": "see the unit coordinate"})
    sample = np.arange(n) if footprint is not None else sample_array((n,)).astype(np.int64)
    ds = xr.Dataset(
        data_vars=data_vars,
        coords={
            "sample": sample,
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
            attrs={"units": KG, "long_name": "reference device footprint (published point value)"})
    return ds


def evaluate_rows(model: LifecycleModel, design, start: int, stop: int,
                  with_inputs: bool = True) -> tuple[np.ndarray, np.ndarray | None]:
    """Rows ``start:stop`` of a design through the inverse CDF and the model.

    Returns the footprint ``(rows, n_components)`` and, with ``with_inputs``, the input values
    ``(rows, n_parameters)`` in parameter order.
    """
    ps = model.parameters
    values = ps.ppf(design.points(start, stop), in_place=True)  # the design's rows are ours to clip
    footprint = model.evaluate(values)
    inputs = np.column_stack([values[n] for n in ps.names]) if with_inputs and len(ps) else None
    return footprint, inputs


def run_monte_carlo(model: LifecycleModel, *, n: int, design: str = "lhs", seed: int = 1,
                    chunk_size: int = DEFAULT_CHUNK, experiment: str = "", config_sha256: str = "",
                    progress: Callable[[int, int], None] | None = None) -> xr.Dataset:
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
    experiment, config_sha256 : str
        Provenance recorded in ``attrs``.
    progress : callable, optional
        Called as ``progress(done, n)`` after each chunk.

    Returns
    -------
    xarray.Dataset
        ``footprint(sample, component)``, ``total(sample)``, ``inputs(sample, parameter)`` and reference devices.
        For sample counts that do not fit in memory see :func:`uncertainty_footprint.analysis.streaming.stream_monte_carlo`.
    """
    ps = model.parameters
    dsgn = make_design(design, n, ps.random_names, seed)
    footprint = np.empty((n, len(model.components)))
    inputs = np.empty((n, len(ps)))
    for start in range(0, n, chunk_size):
        stop = min(start + chunk_size, n)
        fp, iv = evaluate_rows(model, dsgn, start, stop)
        footprint[start:stop] = fp
        inputs[start:stop] = 0.0 if iv is None else iv
        if progress is not None:
            progress(stop, n)
    ds = dataset_skeleton(model, n, footprint=footprint, input_values=inputs)
    ds.attrs.update(provenance(model, experiment=experiment, seed=seed, design=design, n=n,
                               config_sha256=config_sha256))
    return ds
