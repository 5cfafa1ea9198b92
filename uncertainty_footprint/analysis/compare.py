"""Compare experiments with common random numbers: totals, paired differences and P(A < B).

Every experiment is run with the same seed, sample size and design. Monte Carlo and Latin hypercube columns
are keyed by parameter name (:mod:`uncertainty_footprint.analysis.designs`), so a parameter shared by two experiments gets
the same uniforms in both: the paired difference then carries only the uncertainty of what differs, which is far
narrower than the difference of two independent intervals.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import ConfigError
from ..inputs.experiment import Experiment
from .cf import annotate, footprint_attrs
from .choices import CRN_DESIGNS
from .exact import difference_shares
from .provenance import provenance
from .run import EngineOptions, RunResult, run_experiment
from .sizes import EVAL_CHUNK
from .summary import PERCENTILES

__all__ = ["Comparison", "compare_experiments", "experiment_labels", "paired_differences", "CRN_DESIGNS"]



@dataclass
class Comparison:
    """Results of a comparison: the runs, the totals side by side and the pairwise differences."""

    runs: list[RunResult]
    totals: xr.Dataset
    table: pd.DataFrame
    differences: pd.DataFrame
    #: Exact share of every input in the variance of each paired difference B - A (columns ``a, b, parameter,
    #: shapley, S1, ST, remaining_sd``; :func:`~uncertainty_footprint.analysis.exact.difference_shares`), or None
    #: when a model is not separable.
    difference_variance: pd.DataFrame | None = None


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


def _file_sha256(path: Path) -> str:
    import hashlib

    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return ""  # reported by the run that reads it


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


def compare_experiments(paths, *, samples=None, seed=None, design=None, data_dir=None,
                        chunk_size: int = EVAL_CHUNK, labels=None) -> Comparison:
    """Run every experiment with common random numbers and compare their totals.

    ``paths`` holds experiment files or in-memory
    :class:`~uncertainty_footprint.inputs.experiment.Experiment` objects. The first experiment's sampling
    settings apply to all unless given here. The results are labelled by ``labels`` (default
    :func:`experiment_labels` of the files, or of the experiments' sources: the stems, with their folders where
    two files share a name); the same file twice is refused.
    """
    paths = [p if isinstance(p, Experiment) else Path(p) for p in paths]
    if len(paths) < 2:
        raise ConfigError("command line", "", "compare needs at least two experiment files")
    sources = [p.source if isinstance(p, Experiment) else p for p in paths]
    # the same file twice (an in-memory experiment is its file while its content is unchanged)
    same = [(os.path.realpath(src) if Path(src).is_file() else str(src),
             p.sha256 if isinstance(p, Experiment) else _file_sha256(p)) for p, src in zip(paths, sources)]
    if len(set(same)) != len(same):
        raise ConfigError("command line", "", "compare needs different experiment files, got "
                          f"{', '.join(map(str, sources))}")
    stems = list(labels) if labels is not None else experiment_labels(sources)
    if len(stems) != len(paths) or len(set(stems)) != len(stems):
        raise ConfigError("command line", "", f"experiment labels must be distinct, one per file, got "
                          f"{', '.join(map(str, stems))}")
    no_sobol = {"enabled": False}  # a comparison needs the totals only, paired sample by sample in memory
    in_memory = EngineOptions(stream=False)
    first = run_experiment(paths[0], data_dir=data_dir, samples=samples, seed=seed, design=design,
                           chunk_size=chunk_size, sobol=no_sobol, engine=in_memory)
    s = first.results.attrs
    if s["design"] not in CRN_DESIGNS:
        raise ConfigError(str(paths[0]), "sampling.design", f"compare needs a design with common random "
                          f"numbers: {', '.join(CRN_DESIGNS)} (got {s['design']!r})")
    runs = [first] + [run_experiment(p, data_dir=data_dir, samples=s["n_samples"], seed=s["seed"],
                                     design=s["design"], chunk_size=chunk_size, sobol=no_sobol, engine=in_memory)
                      for p in paths[1:]]
    totals = xr.concat([r.results["total"] for r in runs], dim=pd.Index(stems, name="experiment"))
    shared = set.intersection(*(set(r.model.parameters.random_names) for r in runs))
    ds = xr.Dataset({"total": totals}, coords={"experiment_name": ("experiment", [r.experiment.name
                                                                                  for r in runs])})
    ds["total"].attrs.update(footprint_attrs("total carbon footprint"))
    ds.attrs.update(provenance(experiment=[r.experiment.name for r in runs], seed=s["seed"], design=s["design"],
                               config_sha256=[r.experiment.sha256 for r in runs],
                               model_sha256=[r.model.fingerprint() for r in runs],
                               n_samples=int(s["n_samples"]), shared_parameters=",".join(sorted(shared)),
                               note="shared parameters take common random numbers (same uniforms) in every "
                                    "experiment"))
    annotate(ds)
    table = pd.DataFrame([{**_stats(r.results["total"].values), "name": r.experiment.name} for r in runs],
                         index=pd.Index(stems, name="experiment"))
    differences = paired_differences(ds["total"])
    exact = difference_shares(dict(zip(stems, (r.model for r in runs))))
    shares = None
    if exact is not None:  # exact mean and sd of every difference beside the Monte Carlo ones
        shares, moments = exact
        differences = differences.join(moments)
    nets = [None if r.balance is None else r.balance.net_balance for r in runs]
    if all(x is not None for x in nets):  # every experiment has a benefit (common random numbers for it too)
        net = dict(zip(stems, nets))
        differences["p_a_saves_more"] = [float(np.mean(net[a] < net[b])) for a, b in differences.index]
    return Comparison(runs, ds, table, differences, shares)
