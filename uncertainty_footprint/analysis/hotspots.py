"""Hotspots: Sobol' indices of the total footprint by parameter, component and stage.

Glue between a :class:`~uncertainty_footprint.model.builder.LifecycleModel` and the model-agnostic
:func:`~uncertainty_footprint.analysis.sobol.sobol_indices`: the random parameters form the Sobol' problem (fixed
ones are not in it), the package's single inverse-CDF step (:meth:`ParameterSet.ppf
<uncertainty_footprint.inputs.parameters.ParameterSet.ppf>`, with its one edge policy) is the ``ppf`` and the
model's total is the output.

Groupings
---------
``parameter``: one index per random parameter. ``component`` / ``stage``: grouped indices (SALib ``groups``):
the share of the total's variance due to all the inputs of a component (or stage) together. A parameter used by
several components (e.g. the steel factor in the casing and the shield of ``others``) belongs to all of them;
since groups must partition the inputs, such parameters form a joint group named ``casing+others``.

Sobol' indices assume independent inputs, which is how the package samples them; correlated inputs are out of
scope.
"""

from __future__ import annotations

import warnings
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import DependentInputsError
from ..inputs.schema import GROUPINGS
from ..model.builder import LifecycleModel
from .sizes import EVAL_CHUNK
from .sobol import sobol_indices
from ..warnings import ConvergenceWarning

__all__ = ["parameter_groups", "hotspot_analysis", "st_convergence", "sobol_table", "to_datatree",
           "from_datatree", "indices_table", "second_order_table"]


def parameter_groups(model: LifecycleModel, by: str) -> dict[str, list[str]]:
    """Partition the random parameters by ``component`` or ``stage``.

    Returns
    -------
    dict of str to list of str
        Group name -> member parameters, in model order. Parameters shared by several components (stages)
        form a joint group whose name joins theirs with ``+``.
    """
    if by not in ("component", "stage"):
        raise ValueError(f"grouping must be 'component' or 'stage', got {by!r}")
    owners: dict[str, list[str]] = {}
    for comp in model.components:
        label = comp.name if by == "component" else comp.stage
        for name in comp.parameter_names():
            owners.setdefault(name, [])
            if label not in owners[name]:
                owners[name].append(label)
    groups: dict[str, list[str]] = {}
    for name in model.parameters.random_names:
        groups.setdefault("+".join(owners[name]), []).append(name)
    return groups


def sobol_problem(model: LifecycleModel, output=None):
    """``(names, ppf, evaluate)`` of the model's uncertain parameters for
    :func:`~uncertainty_footprint.analysis.sobol.sobol_indices`: ``evaluate`` gives ``output(values)`` of every
    parameter's values (default: the total footprint, the sum of the components) [its unit].

    Raises
    ------
    DependentInputsError
        The model's inputs are correlated.
    """
    ps = model.parameters
    names = ps.random_names
    if ps.dependent:  # Saltelli's mixed matrices take columns from independent draws
        raise DependentInputsError("Sobol' indices by Saltelli's estimator need independent inputs, and the inputs "
                                   f"{', '.join(ps.correlations.names)} are correlated (use Shapley effects)")

    def ppf(u: np.ndarray) -> np.ndarray:
        values = ps.ppf(u)
        return np.column_stack([values[n] for n in names])

    def evaluate(x: np.ndarray) -> np.ndarray:
        values = ps.values({name: x[:, j] for j, name in enumerate(names)}, x.shape[0])
        return model.evaluate(values).sum(axis=1) if output is None else output(values)

    return names, ppf, evaluate


def hotspot_analysis(model: LifecycleModel, *, n_base: int, seed: int, groupings: Sequence[str] = GROUPINGS,
                     calc_second_order: bool = False, conf_level: float = 0.95, num_resamples: int = 100,
                     chunk_size: int = EVAL_CHUNK, conf_warn_threshold: float = 0.05,
                     progress=None) -> dict[str, xr.Dataset]:
    """Sobol' indices of the total footprint for each requested grouping.

    Parameters
    ----------
    model : LifecycleModel
    n_base : int
        Base sample size N (a power of two); the model runs N (k + 2) times per grouping (k = number of
        parameters or groups), N (2 k + 2) with second order.
    seed : int
        Seed (>= 1) of the design scrambling and the bootstrap.
    groupings : sequence of {'parameter', 'component', 'stage'}
    calc_second_order : bool
    conf_level : float
        Confidence level of the bootstrap intervals.
    num_resamples : int
        Bootstrap resamples.
    chunk_size : int
        Model evaluations at once (memory only).
    conf_warn_threshold : float
        Interval half-width above which a :class:`~uncertainty_footprint.warnings.ConvergenceWarning` is
        emitted.
    progress : callable, optional
        ``progress(done, total)`` after each chunk of model runs (restarts for each grouping).

    Returns
    -------
    dict of str to xarray.Dataset
        Grouping -> Dataset with ``S1, S1_conf, ST, ST_conf`` (and ``S2, S2_conf``) over ``parameter`` or
        ``group``; attrs ``grouped_by`` say which.
    """
    unknown = [g for g in groupings if g not in GROUPINGS]
    if unknown:
        raise ValueError(f"unknown grouping {unknown[0]!r}; allowed: {', '.join(GROUPINGS)}")
    names, ppf, evaluate = sobol_problem(model)
    if not names:
        raise ValueError("the model has no uncertain parameter: nothing to analyse")
    out = {}
    for grouping in groupings:
        groups = None if grouping == "parameter" else parameter_groups(model, grouping)
        ds = sobol_indices(evaluate, ppf, names=names, n_base=n_base, seed=seed, groups=groups,
                           calc_second_order=calc_second_order, num_resamples=num_resamples,
                           conf_level=conf_level, chunk_size=chunk_size, conf_warn_threshold=conf_warn_threshold,
                           progress=progress)
        ds.attrs["grouped_by"] = grouping
        ds.attrs["output"] = "total footprint [kg CO2-eq]"
        ds.attrs["independence_note"] = "Sobol indices assume independent inputs; correlated inputs are out of scope"
        if grouping == "parameter":
            ps = model.parameters
            ds = ds.assign_coords(unit=("parameter", [ps[n].unit for n in names]),
                                  status=("parameter", [ps[n].status for n in names]),
                                  component=("parameter", [_owner(model, n) for n in names]))
        out[grouping] = ds
    return out


def st_convergence(model: LifecycleModel, *, n_base: int, seed: int, grouping: str = "component",
                   steps: int = 4, conf_level: float = 0.95, num_resamples: int = 100,
                   chunk_size: int = EVAL_CHUNK) -> xr.Dataset:
    """Total-order indices of a grouping against the base sample size: N / 2**(steps - 1), ..., N.

    Returns
    -------
    xarray.Dataset
        ``ST`` and ``ST_conf`` over ``(n_base, group)`` (or ``parameter``), for the convergence figure.
    """
    sizes = [n_base >> k for k in range(steps - 1, -1, -1) if n_base >> k >= 2]
    parts = []
    for nb in sizes:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # small N are expected to be wide here
            ds = hotspot_analysis(model, n_base=nb, seed=seed, groupings=[grouping], conf_level=conf_level,
                                  num_resamples=num_resamples, chunk_size=chunk_size)[grouping]
        parts.append(ds[["ST", "ST_conf"]].drop_vars([c for c in ds.coords if c not in ds.dims]))
    return xr.concat(parts, dim=pd.Index(sizes, name="n_base"))


def _owner(model: LifecycleModel, name: str) -> str:
    return "+".join(c.name for c in model.components if name in c.parameter_names())


def sobol_table(sobol: Mapping[str, xr.Dataset]) -> pd.DataFrame:
    """All indices in one long table: grouping, name, S1, S1_conf, ST, ST_conf, members; ranked by ST."""
    frames = []
    for grouping, ds in sobol.items():
        dim = "parameter" if "parameter" in ds["ST"].dims else "group"
        frame = pd.DataFrame({"grouping": grouping, "name": ds[dim].values,
                              **{v: ds[v].values for v in ("S1", "S1_conf", "ST", "ST_conf")}})
        frame["members"] = ds["members"].values if "members" in ds.coords else frame["name"]
        frames.append(frame.sort_values("ST", ascending=False, kind="stable"))
    return pd.concat(frames, ignore_index=True)


def to_datatree(sobol: Mapping[str, xr.Dataset]) -> xr.DataTree:
    """One tree for ``sobol.nc``: the per-parameter analysis at the root (``xarray.open_dataset`` reads it), the
    grouped analyses as child nodes ``by_component`` and ``by_stage`` (``xarray.open_datatree`` reads all)."""
    root = sobol.get("parameter", xr.Dataset())
    tree = {"/": root.assign_attrs(groupings=",".join(sobol))}
    tree.update({f"/by_{g}": ds for g, ds in sobol.items() if g != "parameter"})
    return xr.DataTree.from_dict(tree)


def from_datatree(tree: xr.DataTree) -> dict[str, xr.Dataset]:
    """Inverse of :func:`to_datatree`."""
    out = {}
    for grouping in tree.attrs.get("groupings", "").split(","):
        if not grouping:
            continue
        node = tree if grouping == "parameter" else tree[f"by_{grouping}"]
        ds = node.to_dataset(inherit=False)
        if grouping == "parameter":
            ds.attrs.pop("groupings", None)
        out[grouping] = ds
    return out


def indices_table(ds: xr.Dataset, output: str = "total") -> pd.DataFrame:
    """S1, S1_conf, ST, ST_conf of one Sobol' Dataset as a table indexed by parameter or group.

    Parameters
    ----------
    ds : xarray.Dataset
        One grouping of :func:`hotspot_analysis` (``S1, S1_conf, ST, ST_conf`` over one dimension). A Dataset
        with an ``output`` dimension is reduced to ``output`` (if present, else the first output).
    output : str
        The output to keep.

    Returns
    -------
    pandas.DataFrame
        Columns ``S1, S1_conf, ST, ST_conf`` [-], index named after the Dataset's dimension, in its order; the
        ``*_conf`` columns are NaN for exact indices (a Dataset without them: no sampling error).
    """
    if "output" in ds.dims:
        outputs = [str(o) for o in ds["output"].values]
        ds = ds.sel(output=output) if output in outputs else ds.isel(output=0)
    dim = ds["ST"].dims[0]
    nan = np.full(ds.sizes[dim], np.nan)
    return pd.DataFrame({key: np.asarray(ds[key].values, dtype=float) if key in ds else nan
                         for key in ("S1", "S1_conf", "ST", "ST_conf")},
                        index=pd.Index([str(v) for v in ds[dim].values], name=dim))


def _without_output(ds):
    if "output" in ds.dims:
        outputs = [str(o) for o in ds["output"].values]
        ds = ds.sel(output="total") if "total" in outputs else ds.isel(output=0)
    return ds


def second_order_table(sobol, exact=None) -> pd.DataFrame | None:
    """Second-order indices of every pair, one row each, largest first (None when none were computed).

    Parameters
    ----------
    sobol : mapping of str to xarray.Dataset or None
        Sampled indices by grouping (``S2``, ``S2_conf`` when computed with second order).
    exact : mapping of str to xarray.Dataset or None
        Exact indices by grouping (``S2`` when computed with second order).

    Returns
    -------
    pandas.DataFrame or None
        Columns ``grouping, a, b`` (the pair, a before b in model order), ``S2``, ``S2_conf`` (sampled; NaN
        without them) and ``exact_S2`` (NaN without it) [-], per grouping ranked by the exact value if known,
        else by the sampled one.
    """
    frames = []
    for grouping in ("component", "stage", "parameter"):
        sampled = _without_output(sobol[grouping]) if sobol and grouping in sobol else None
        known = exact[grouping] if exact and grouping in exact else None
        sampled = sampled if sampled is not None and "S2" in sampled else None
        known = known if known is not None and "S2" in known else None
        if sampled is None and known is None:
            continue
        ref = sampled if sampled is not None else known
        dim = ref["S2"].dims[0]
        labels = [str(v) for v in ref[dim].values]
        i, j = np.triu_indices(len(labels), k=1)
        frame = pd.DataFrame({"grouping": grouping, "a": [labels[k] for k in i], "b": [labels[k] for k in j]})
        for column, ds, key in (("S2", sampled, "S2"), ("S2_conf", sampled, "S2_conf"), ("exact_S2", known, "S2")):
            if ds is None:
                frame[column] = np.nan
                continue
            names = [str(v) for v in ds[ds[key].dims[0]].values]
            position = {n: k for k, n in enumerate(names)}
            values = ds[key].values
            frame[column] = [values[min(position[a], position[b]), max(position[a], position[b])]
                             if a in position and b in position else np.nan for a, b in zip(frame["a"], frame["b"])]
        rank = frame["exact_S2"] if known is not None else frame["S2"]
        frames.append(frame.iloc[np.argsort(-rank.abs().fillna(-1).to_numpy(), kind="stable")])
    return pd.concat(frames, ignore_index=True) if frames else None
