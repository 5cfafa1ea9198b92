"""A run with correlated inputs: the Shapley hotspots, the achieved correlations and the interval without them.

When an experiment declares ``correlations``, its inputs are sampled with a Gaussian copula
(:mod:`uncertainty_footprint.inputs.copula`). Sobol' indices then no longer split the variance into shares of the
inputs (an input's share and its correlated partner's overlap), and the exact decomposition, which needs
independent inputs, does not apply. Shapley effects do: they split ``Var(total)`` into non-negative shares that sum
to 1 whatever the dependence (Owen 2014; Owen & Prieur 2017; Iooss & Prieur 2019). :func:`dependence_analysis`
estimates them per grouping (:func:`~uncertainty_footprint.analysis.shapley.shapley_effects`, Song, Nelson & Staum
2016, with bootstrap intervals), measures the rank correlations the run's design achieved beside the targets, and
runs the same design without the correlations, so that the interval with and without them can be set side by side.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..inputs.choices import GROUPINGS
from ..inputs.copula import achieved_spearman, apply_copula
from ..model.builder import LifecycleModel
from .designs import make_design
from .hotspots import parameter_groups
from .propagate import run_monte_carlo
from .shapley import shapley_effects
from .sizes import EVAL_CHUNK
from .summary import summarize

__all__ = ["DependenceResult", "dependence_analysis", "shapley_hotspots", "shapley_table", "correlation_table",
           "independent_model",
           "SHAPLEY_COLUMNS", "CORRELATION_COLUMNS", "MAX_CHECK_SAMPLES", "DEPENDENCE_NOTE"]

#: Columns of ``shapley.csv``.
SHAPLEY_COLUMNS = ("grouping", "name", "shapley", "conf_low", "conf_high")
#: Columns of ``correlations.csv``.
CORRELATION_COLUMNS = ("a", "b", "target", "normal_score", "achieved", "reason", "source")
#: Rows of the design the achieved correlations and the run without correlations use at most [samples].
MAX_CHECK_SAMPLES = 1 << 17
#: What the hotspots of a run with correlations are, in one sentence.
DEPENDENCE_NOTE = ("The inputs are correlated: the hotspots are Shapley effects (each input's share of the "
                   "total's variance, summing to 1 with dependence); Sobol' S1 and ST are not shares of the variance "
                   "when inputs are dependent, and are not computed.")


@dataclass(frozen=True, eq=False)
class DependenceResult:
    """What correlated inputs add to a run.

    Attributes
    ----------
    shapley : dict of str to xarray.Dataset
        Per grouping: ``shapley``, ``conf_low``, ``conf_high`` [-] over ``parameter`` or ``group`` (``shapley.nc``).
    correlations : pandas.DataFrame
        Every declared pair: target Spearman rho, its normal-score correlation, the rho the run's design achieved
        (on its first rows, up to :data:`MAX_CHECK_SAMPLES`), the reason and the sources (``correlations.csv``).
    without : pandas.DataFrame
        The summary (mean, median, 5 % and 95 % quantiles [kg CO2-eq], per component, stage and the total) of the
        same design and seed with the inputs independent: the interval without the correlations.
    """

    shapley: dict[str, xr.Dataset]
    correlations: pd.DataFrame
    without: pd.DataFrame


def independent_model(model: LifecycleModel) -> LifecycleModel:
    """The same model with every input independent (the correlations dropped)."""
    ps = model.parameters
    return dataclasses.replace(model, parameters=type(ps)([ps[n] for n in ps.names]))


def correlation_table(model: LifecycleModel, *, n: int, design: str, seed: int, rows: int | None = None
                      ) -> pd.DataFrame:
    """Target and achieved Spearman correlation of every declared pair, on the first ``rows`` (default all ``n``)
    rows of the run's design of ``n`` rows (:data:`CORRELATION_COLUMNS`; ranks do not change under the marginals'
    inverse CDFs, so they are measured on the correlated uniforms)."""
    ps = model.parameters
    corr = ps.correlations
    names = ps.random_names
    m = n if rows is None else min(int(rows), n)
    u = apply_copula(make_design(design, n, names, seed).points(0, m), names, corr)
    columns = [names.index(c) for c in corr.names]
    achieved = achieved_spearman(u[:, columns])
    index = {c: k for k, c in enumerate(corr.names)}
    rows = []
    for (a, b, rho), reason, keys in zip(corr.pairs, corr.reasons, corr.sources):
        i, j = index[a], index[b]
        rows.append({"a": a, "b": b, "target": rho, "normal_score": float(corr.normal[i, j]),
                     "achieved": float(achieved[i, j]), "reason": reason, "source": ",".join(keys)})
    return pd.DataFrame(rows, columns=list(CORRELATION_COLUMNS))


def _dataset(model: LifecycleModel, grouping: str, res, groups, output: str = "total footprint [kg CO2-eq]"
             ) -> xr.Dataset:
    dim = "parameter" if groups is None else "group"
    coords: dict = {dim: list(res.players)}
    ps = model.parameters
    if groups is None:
        owner = {n: "+".join(c.name for c in model.components if n in c.parameter_names()) for n in res.players}
        coords.update(unit=(dim, [ps[n].unit for n in res.players]),
                      status=(dim, [ps[n].status for n in res.players]),
                      component=(dim, [owner[n] for n in res.players]))
    else:
        coords["members"] = (dim, [",".join(m) for m in res.members])
    level = f"{res.conf_level:.0%}".replace("%", " %")
    what = output.rsplit(" [", 1)[0]
    data = {"shapley": ((dim,), res.shapley[:, 0], {"long_name": f"Shapley effect (share of the variance of the "
                                                                  f"{what}, with dependence)", "units": "1"}),
            "conf_low": ((dim,), res.conf_low[:, 0], {"long_name": f"lower end of the {level} bootstrap interval",
                                                      "units": "1"}),
            "conf_high": ((dim,), res.conf_high[:, 0], {"long_name": f"upper end of the {level} bootstrap "
                                                                     "interval", "units": "1"})}
    ds = xr.Dataset({k: xr.Variable(*v) for k, v in data.items()}, coords=coords)
    ds.attrs.update({"grouped_by": grouping, "output": output, "method": res.estimator,
                     "n_permutations": res.n_perm, "n_inner": res.n_inner, "n_outer": res.n_outer,
                     "n_variance": res.n_var, "n_evaluations": res.n_evaluations, "num_resamples": res.n_boot,
                     "conf_level": res.conf_level, "seed": res.seed, "variance": float(res.variance[0]),
                     "dependence_note": DEPENDENCE_NOTE})
    return ds


def shapley_hotspots(model: LifecycleModel, *, seed: int, permutations: int, inner: int = 3, bootstrap: int = 1000,
                     conf_level: float = 0.95, groupings: Sequence[str] = GROUPINGS,
                     label: str = "total footprint [kg CO2-eq]") -> dict[str, xr.Dataset]:
    """Shapley effects of the total of ``model`` (the footprint, or a balance model's net balance) per grouping
    (players: the parameters, or the parameters of each component or stage), with the model's correlations.

    Parameters
    ----------
    model : LifecycleModel
    seed : int
        The run's seed (the estimator draws its own samples from it; the same seed gives the same bytes).
    permutations, inner, bootstrap : int
        Random permutations of the players, inner runs per prefix, bootstrap resamples (``shapley`` options).
    conf_level : float
        Level of the bootstrap percentile intervals [1].
    groupings : sequence of str
        Of ``parameter``, ``component``, ``stage``.
    label : str
        What the output is, with its unit (the ``output`` attribute of the Datasets).
    """
    ps = model.parameters
    names = ps.random_names

    def total(values: dict[str, np.ndarray]) -> np.ndarray:
        n = len(next(iter(values.values())))
        return model.evaluate(ps.values(values, n)).sum(axis=1)

    def ppf(name: str, u: np.ndarray) -> np.ndarray:
        return ps[name].distribution.ppf(u)

    out = {}
    for grouping in groupings:
        groups = None if grouping == "parameter" else parameter_groups(model, grouping)
        res = shapley_effects(total, ppf, names, ps.correlations, n_perm=permutations, n_inner=inner,
                              seed=seed, n_boot=bootstrap, conf_level=conf_level, groups=groups)
        out[grouping] = _dataset(model, grouping, res, groups, label)
    return out


def shapley_table(shapley: dict[str, xr.Dataset]) -> pd.DataFrame:
    """``shapley.csv``: one row per grouping and player, :data:`SHAPLEY_COLUMNS`."""
    frames = []
    for grouping, ds in shapley.items():
        dim = ds["shapley"].dims[0]
        frames.append(pd.DataFrame({"grouping": grouping, "name": [str(v) for v in ds[dim].values],
                                    **{k: ds[k].values for k in SHAPLEY_COLUMNS[2:]}}))
    return pd.concat(frames, ignore_index=True)[list(SHAPLEY_COLUMNS)]


def dependence_analysis(model: LifecycleModel, *, n: int, design: str, seed: int, permutations: int,
                        shapley_seed: int | None = None, inner: int = 3, bootstrap: int = 1000,
                        conf_level: float = 0.95, groupings: Sequence[str] = GROUPINGS, hotspots: bool = True,
                        chunk_size: int = EVAL_CHUNK) -> DependenceResult | None:
    """The Shapley hotspots (with ``hotspots``), the achieved correlations and the summary without the
    correlations of a model with correlated inputs; None for a model without.

    ``n``, ``design``, ``seed``: the run's sampling (the achieved correlations are those of its first
    ``min(n, MAX_CHECK_SAMPLES)`` rows; the run without them is a design of that many rows of the same kind and
    seed); ``shapley_seed``: the estimator's (default ``seed``).
    """
    if not model.parameters.dependent:
        return None
    m = min(int(n), MAX_CHECK_SAMPLES)
    table = correlation_table(model, n=int(n), design=design, seed=seed, rows=m)
    ds = run_monte_carlo(independent_model(model), n=m, design=design, seed=seed, chunk_size=chunk_size)
    without = summarize(ds)[["level", "mean", "median", "p5", "p95"]]
    shapley = shapley_hotspots(model, seed=seed if shapley_seed is None else shapley_seed,
                               permutations=permutations, inner=inner, bootstrap=bootstrap, conf_level=conf_level,
                               groupings=groupings) if hotspots else {}
    return DependenceResult(shapley, table, without)
