"""Compare experiments with common random numbers: totals, paired differences and P(A < B).

Every experiment is run with the same seed, sample size and design. Monte Carlo and Latin hypercube columns
are keyed by parameter name (:mod:`uncertainty_footprint.analysis.designs`), so a parameter shared by two experiments gets
the same uniforms in both: the paired difference then carries only the uncertainty of what differs, which is far
narrower than the difference of two independent intervals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Sequence
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..display import FactsDisplay
from ..errors import ConfigError
from ..inputs.units import footprint_attrs
from ..model.experiment import Experiment
from ..inputs.choices import CRN_DESIGNS
from .engine import EngineOptions, compute
from .exact import difference_shares
from .summary import PERCENTILES

__all__ = ["Comparison", "compare_experiments", "experiment_labels", "paired_differences", "CRN_DESIGNS"]


@dataclass(frozen=True, eq=False, repr=False)
class Comparison(FactsDisplay):
    """What a comparison produced (:func:`compare_experiments`, :func:`uncertainty_footprint.api.compare`).

    Attributes
    ----------
    runs : tuple of Result
        One run per experiment, with common random numbers.
    labels : tuple of str
        The experiments' labels in the tables.
    totals : xarray.Dataset
        ``total(experiment, sample)`` [kg CO2-eq] (``comparison.nc``).
    table : pandas.DataFrame
        Each experiment's total: mean, sd, median, 2.5/5/95/97.5 % quantiles [kg CO2-eq] (``comparison.csv``).
    differences : pandas.DataFrame
        Paired differences B - A for every ordered pair, with intervals [kg CO2-eq] and ``p_a_lt_b`` = P(A < B)
        (``differences.csv``).
    difference_variance : pandas.DataFrame or None
        Exact share of every input in the variance of each paired difference B - A (columns ``a, b, parameter,
        shapley, S1, ST, remaining_sd``; :func:`~uncertainty_footprint.analysis.exact.difference_shares`), or None
        when a model is not separable (``difference_variance.csv``).
    folder : Path or None
        The folder written, when one was.
    """

    runs: tuple
    labels: tuple
    totals: xr.Dataset
    table: pd.DataFrame
    differences: pd.DataFrame
    difference_variance: pd.DataFrame | None = None
    folder: Path | None = None

    @property
    def experiments(self) -> list[Experiment]:
        """The experiments as run."""
        return [r.experiment for r in self.runs]

    def _facts(self) -> list[tuple[str, str]]:
        rows = [(str(k), f"median {r['median']:.3g} kg CO2-eq, 90 % interval {r['p5']:.3g} - {r['p95']:.3g}")
                for k, r in self.table.iterrows()]
        rows += [(f"{b} - {a}", f"median {r['median']:.3g} kg CO2-eq, 90 % interval {r['p5']:.3g} - "
                                f"{r['p95']:.3g}, P({a} < {b}) = {r['p_a_lt_b']:.2f}")
                 for (a, b), r in self.differences.iterrows()]
        if self.folder is not None:
            rows.append(("folder", str(self.folder)))
        return rows


def _stats(x: np.ndarray) -> dict[str, float]:
    p = np.percentile(x, PERCENTILES)
    return {"mean": float(x.mean()), "sd": float(x.std(ddof=1)), "median": float(p[2]), "p2_5": float(p[0]),
            "p5": float(p[1]), "p95": float(p[3]), "p97_5": float(p[4])}


def paired_differences(totals: xr.DataArray) -> pd.DataFrame:
    """Statistics of ``B - A`` for every ordered pair (A before B) of the ``experiment`` dimension.

    Parameters
    ----------
    totals : xarray.DataArray
        Totals with dims ``(experiment, sample)`` from runs that share their random numbers.

    Returns
    -------
    pandas.DataFrame
        One row per pair with the difference's mean, sd, median, 90 % and 95 % interval bounds and
        ``p_a_lt_b`` = P(A < B) estimated as the share of samples where A < B.
    """
    rows = []
    names = list(totals["experiment"].values)
    for a, b in combinations(names, 2):
        ta, tb = totals.sel(experiment=a).values, totals.sel(experiment=b).values
        rows.append({"a": a, "b": b, **_stats(tb - ta), "p_a_lt_b": float(np.mean(ta < tb))})
    return pd.DataFrame(rows).set_index(["a", "b"])


def experiment_labels(paths) -> list[str]:
    """Labels of the compared experiments: their file stems, with as many parent folders as it takes to tell
    files of the same name apart (``a/kws``, ``b/kws``).

    Examples
    --------
    >>> experiment_labels(["x/kws.yaml", "y/kws.yaml", "z/image.yaml"])
    ['x/kws', 'y/kws', 'image']
    """
    paths = [Path(p) for p in paths]
    labels = [p.stem for p in paths]
    for depth in range(1, max(len(Path(os.path.abspath(p)).parts) for p in paths)):
        clash = {lab for lab in labels if labels.count(lab) > 1}
        if not clash:
            break
        labels = ["/".join(Path(os.path.abspath(p)).parts[-depth - 1:-1] + (p.stem,)) if lab in clash else lab
                  for p, lab in zip(paths, labels)]
    return labels


def compare_experiments(experiments: Sequence[Experiment], *, labels: Sequence[str],
                        engine: EngineOptions = EngineOptions(stream=False)) -> Comparison:
    """Run every experiment with common random numbers and compare their totals.

    The experiments (validated, with their ``sampling`` options as the comparison runs them: the same samples,
    seed and design) are run in memory without sampled Sobol' analysis (a comparison needs the totals only,
    paired sample by sample); the results are labelled by ``labels`` (distinct, one per experiment). The same
    experiment twice is refused.
    """
    exps = list(experiments)
    if len(exps) < 2:
        raise ConfigError("compare", "", "compare needs at least two experiments")
    same = [(os.path.realpath(e.source) if Path(e.source).is_file() else e.source, e.sha256) for e in exps]
    if len(set(same)) != len(same):
        raise ConfigError("compare", "", "compare needs different experiment files (or experiments), got "
                          f"{', '.join(e.source for e in exps)}")
    stems = [str(x) for x in labels]
    if len(stems) != len(exps) or len(set(stems)) != len(stems) or not all(stems):
        raise ConfigError("compare", "labels", f"needs {len(exps)} distinct non-empty labels, got {stems!r}")
    s = exps[0].spec.sampling
    if s.design not in CRN_DESIGNS:
        raise ConfigError(exps[0].source, "sampling.design", f"compare needs a design with common random "
                          f"numbers: {', '.join(CRN_DESIGNS)} (got {s.design!r})")
    for e in exps:
        t = e.spec.sampling
        if (t.samples, t.seed, t.design) != (s.samples, s.seed, s.design):
            raise ConfigError(e.source, "sampling", "the experiments of a comparison share samples, seed and "
                              f"design; got {t.samples}/{t.seed}/{t.design} beside {s.samples}/{s.seed}/{s.design}")
    runs = tuple(compute(e.with_options("sobol", enabled=False), engine) for e in exps)
    totals = xr.concat([r.results["total"] for r in runs], dim=pd.Index(stems, name="experiment"))
    ds = xr.Dataset({"total": totals}, coords={"experiment_name": ("experiment", [e.name for e in exps])})
    ds["total"].attrs.update(footprint_attrs("total carbon footprint"))
    table = pd.DataFrame([{**_stats(r.results["total"].values), "name": r.experiment.name} for r in runs],
                         index=pd.Index(stems, name="experiment"))
    differences = paired_differences(ds["total"])
    exact = difference_shares(dict(zip(stems, (e.model for e in exps))))
    shares = None
    if exact is not None:  # exact mean and sd of every difference beside the Monte Carlo ones
        shares, moments = exact
        differences = differences.join(moments)
    nets = [None if r.balance is None else r.balance.net_balance for r in runs]
    if all(x is not None for x in nets):  # every experiment has a benefit (common random numbers for it too)
        net = dict(zip(stems, nets))
        differences["p_a_saves_more"] = [float(np.mean(net[a] < net[b])) for a, b in differences.index]
    return Comparison(runs, tuple(stems), ds, table, differences, shares)


def shared_parameters(comparison: Comparison) -> list[str]:
    """The random parameters every experiment of ``comparison`` has (they take common random numbers)."""
    return sorted(set.intersection(*(set(r.model.parameters.random_names) for r in comparison.runs)))
