"""The calculator's one link to the package: every number the page shows comes through here, from the public API
(:mod:`uncertainty_footprint.api`). No model logic lives in the app; this module only calls the API and reshapes
its results into plain numbers for the page (:class:`View`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Mapping

import numpy as np

from .. import api as uf
from ..errors import ConfigError, shorten

__all__ = ["ConfigError", "shorten", "View", "OptionStats", "parse_yaml", "load", "evaluate", "catalog", "shipped",
           "experiment_yaml", "option_stats", "reference_devices"]

#: How many bins the small distribution of the total has.
HISTOGRAM_BINS = 40
#: How many parameters the hotspot table lists.
TOP_PARAMETERS = 8


def parse_yaml(text: str, source: str) -> Any:
    """Parse pasted or uploaded YAML text with the limits of experiment files (size, nesting, aliases, duplicate
    keys; :mod:`uncertainty_footprint.inputs.safe_yaml`).

    Raises
    ------
    ConfigError
        One line naming ``source`` and the problem.
    """
    return uf.parse_yaml(text, source)


def load(data: Mapping[str, Any] | str, source: str) -> uf.Experiment:
    """Validate an experiment given as a mapping or as YAML text (raises :class:`ConfigError`)."""
    if isinstance(data, str):
        return uf.Experiment.from_yaml(data, source=source)
    return uf.Experiment.from_dict(data, source=source)


def experiment_yaml(exp: uf.Experiment) -> str:
    """The experiment file the page's state stands for (``run`` on it reproduces the page's numbers)."""
    return exp.to_yaml()


@lru_cache(maxsize=None)
def shipped(name: str) -> dict:
    """A shipped experiment (``kws``, ...) as a plain mapping."""
    return uf.load_experiment(name).to_dict()


@lru_cache(maxsize=1)
def catalog() -> uf.Catalog:
    """The data catalog (:func:`uncertainty_footprint.api.catalog`), loaded once."""
    return uf.catalog()


@dataclass(frozen=True)
class Row:
    """One component (or the total): median, 5 and 95 % quantiles, mean [kg CO2-eq] and share of the mean [-]."""

    name: str
    title: str
    stage: str
    median: float
    p5: float
    p95: float
    mean: float
    share: float
    point: float


@dataclass(frozen=True)
class Index:
    """An exact variance-based index: first order, total order and Shapley effect [-]."""

    name: str
    S1: float
    ST: float
    shapley: float
    component: str = ""
    status: str = ""


@dataclass
class View:
    """Everything the page shows for one state, as plain numbers [kg CO2-eq; indices in 0..1]."""

    components: list[Row]
    total: Row
    components_ranked: list[Index]
    parameters_ranked: list[Index]
    histogram: tuple[list[float], list[int]]
    references: dict[str, tuple[str, float]]
    samples: int
    seed: int
    yaml: str
    extra: dict = field(default_factory=dict)
    #: With a benefit: the net balance per device (median, 5 and 95 % [kg CO2-eq]), P(offset) and the
    #: break-even statement; None otherwise.
    balance: dict | None = None


def _indices(ds) -> list[Index]:
    df = ds[["S1", "ST", "shapley"]].to_dataframe().sort_values("ST", ascending=False, kind="stable")
    coords = {k: [str(v) for v in ds[k].values] for k in ("component", "status") if k in ds.coords}
    names = [str(v) for v in ds[ds["ST"].dims[0]].values]
    info = {k: dict(zip(names, v)) for k, v in coords.items()}
    return [Index(str(name), float(r["S1"]), float(r["ST"]), float(r["shapley"]),
                  info.get("component", {}).get(str(name), ""), info.get("status", {}).get(str(name), ""))
            for name, r in df.iterrows()]


def evaluate(exp: uf.Experiment, samples: int, seed: int) -> View:
    """Run the experiment (:func:`uncertainty_footprint.api.run`, no sampled Sobol' analysis: the exact indices
    come with every run) and collect what the page shows.

    Parameters
    ----------
    exp : Experiment
    samples : int
        Monte Carlo sample size [samples] behind the intervals.
    seed : int

    Raises
    ------
    ConfigError
        The experiment cannot be built (an invalid component, stage, distribution ...).
    """
    res = uf.run(exp, samples=samples, seed=seed, sobol=False)
    s, det = res.summary, res.deterministic["typical"]
    comps = s[s["level"] == "component"]
    titles = {c.name: c.title for c in res.model.components}
    rows = [Row(str(n), titles.get(str(n), str(n)), str(r["stage"]), float(r["median"]), float(r["p5"]),
                float(r["p95"]), float(r["mean"]), float(r["share"]), float(det.get(n, np.nan)))
            for n, r in comps.iterrows()]
    t = s.loc["total"]
    total = Row("total", "Total", "", float(t["median"]), float(t["p5"]), float(t["p95"]), float(t["mean"]), 1.0,
                float(det.get("total", np.nan)))
    exact = res.exact
    if exact is not None:
        by_component = _indices(exact["component"])
        by_parameter = _indices(exact["parameter"])[:TOP_PARAMETERS]
    else:
        by_component, by_parameter = [], []
    totals = np.asarray(res.results["total"].values)
    counts, edges = np.histogram(totals, bins=HISTOGRAM_BINS)
    refs = {n: reference_devices()[n] for n in (res.model.reference_labels or {})}
    balance = None
    if res.balance is not None and "net_balance" in res.balance.table.index:
        table = res.balance.table
        nb = table.loc["net_balance"]
        balance = {"median": float(nb["median"]), "p5": float(nb["p5"]), "p95": float(nb["p95"]),
                   "p_offset": float(table.loc["p_offset", "mean"]), "statement": res.balance.statement}
    return View(rows, total, by_component, by_parameter, ([float(e) for e in edges], [int(c) for c in counts]),
                refs, samples, seed, res.experiment.to_yaml(), balance=balance)


@dataclass(frozen=True)
class OptionStats:
    """Median, 5 and 95 % quantiles [kg CO2-eq] of one option of a card, and its published-method point value."""

    median: float
    p5: float
    p95: float
    point: float


def option_stats(experiments: tuple[tuple[str, str], ...], samples: int, seed: int
                 ) -> dict[tuple[str, str], OptionStats]:
    """Per-option intervals from a few runs: each YAML text sets one option of every card, and the component of
    each card in that run gives its option's median, 90 % interval and point value.

    Parameters
    ----------
    experiments : tuple of (YAML text, JSON list of [card, option] pairs)
        Made by :func:`uncertainty_footprint.app.state.option_rounds`; hashable so the result is cached.
    samples, seed : int
    """
    import json

    out: dict[tuple[str, str], OptionStats] = {}
    for text, pairs in experiments:
        res = uf.run(load(text, "calculator options"), samples=samples, seed=seed, sobol=False)
        s, det = res.summary, res.deterministic["typical"]
        for card, option in json.loads(pairs):
            r = s.loc[card]
            out[(card, option)] = OptionStats(float(r["median"]), float(r["p5"]), float(r["p95"]), float(det[card]))
    return out


option_stats = lru_cache(maxsize=16)(option_stats)


@lru_cache(maxsize=1)
def families() -> dict[str, tuple[str, ...]]:
    """Distribution family -> its required parameter names, in the registry's order (for the Custom fields)."""
    return uf.distribution_families()


@lru_cache(maxsize=None)
def effective_blocks(application: str | None) -> dict[str, int]:
    """The HSL every block takes when an experiment does not name it (the published choice, with the
    application preset's own choices)."""
    return catalog().effective_blocks(application)


@lru_cache(maxsize=1)
def reference_devices() -> dict[str, tuple[str, float]]:
    """Reference device -> ``(label, footprint [kg CO2-eq])``."""
    cat = catalog()
    return {n: (cat.reference_labels[n], float(p.nominal)) for n, p in cat.reference_devices.items()}


@lru_cache(maxsize=1)
def applications() -> dict[str, str]:
    """Application preset -> title."""
    return {n: str(a["title"]) for n, a in catalog().applications.items()}
