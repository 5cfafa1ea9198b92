"""The calculator's one link to the package: every number the page shows comes through here, from the public API
(:mod:`uncertainty_footprint.api`: :func:`~uncertainty_footprint.api.run` for one design,
:func:`~uncertainty_footprint.api.compare` for two). No model logic lives in the app; this module only calls the
API and reshapes its results into plain numbers for the page (:class:`View`, :class:`Pair`).
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .. import api as uf
from ..errors import ConfigError, shorten

__all__ = ["ConfigError", "shorten", "View", "Pair", "Row", "Index", "Source", "OptionStats", "parse_yaml", "load",
           "evaluate", "compare", "catalog", "shipped", "experiment_yaml", "option_stats", "reference_devices",
           "method_options", "card_methods", "data_version", "summary_csv", "comparison_csv", "runs_shapley"]

#: How many bins the small distribution of the total (or of a difference) has.
HISTOGRAM_BINS = 40
#: How many parameters the hotspot table lists (and the table of what decides a difference).
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


def runs_shapley(exp: uf.Experiment) -> bool:
    """The experiment declares correlations, so its hotspots are Shapley effects estimated by permutations (its
    ``shapley`` section); otherwise they are the exact decomposition that comes with every run."""
    return bool(exp.spec.correlations)


def _as_run(exp: uf.Experiment, samples: int, seed: int) -> uf.Experiment:
    """The experiment as the page runs it: the page's sample size and seed; no sampled Sobol' analysis (the exact
    indices come with every run) unless it declares correlations (then the Shapley effects of its ``shapley``
    section)."""
    exp = exp.with_options("sampling", samples=samples, seed=seed)
    return exp if runs_shapley(exp) else exp.with_options("sobol", enabled=False)


def same_design(exp_a: uf.Experiment, exp_b: uf.Experiment, samples: int, seed: int) -> bool:
    """Whether two experiments give the same numbers as the page runs them: the same file but for the name and the
    description."""
    def numbers(exp: uf.Experiment) -> dict:
        data = _as_run(exp, samples, seed).to_dict()
        data.pop("name", None)
        data.pop("description", None)
        return data

    return numbers(exp_a) == numbers(exp_b)


def experiment_yaml(exp: uf.Experiment, samples: int, seed: int) -> str:
    """The experiment file the page's state stands for, as the page runs it (``run`` on it reproduces the page's
    numbers)."""
    return _as_run(exp, samples, seed).to_yaml()


@lru_cache(maxsize=None)
def shipped(name: str) -> dict:
    """A shipped experiment (``kws``, ...) as a plain mapping."""
    return uf.load_experiment(name).to_dict()


@lru_cache(maxsize=1)
def catalog() -> uf.Catalog:
    """The data catalog (:func:`uncertainty_footprint.api.catalog`), loaded once."""
    return uf.catalog()


@lru_cache(maxsize=1)
def data_version() -> dict[str, str]:
    """The version of what the numbers come from: the package version and a checksum of the data catalog (the
    SHA-256 of every file of the catalog's folder, names and bytes, in name order; the first 12 hex digits)."""
    root = Path(catalog().root)
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0")
        digest.update(path.read_bytes() + b"\0")
    return {"package": uf.package_version(), "data": digest.hexdigest()[:12]}


@dataclass(frozen=True)
class Row:
    """One component (or the total, or a difference): median, 5 and 95 % quantiles, mean [kg CO2-eq], share of the
    mean [-] and the published method's point value [kg CO2-eq] (NaN where there is none)."""

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
    """A variance-based index: first order, total order and Shapley effect [-] (exact); for a run with correlated
    inputs the Shapley effect with its bootstrap interval (``S1``, ``ST`` are NaN)."""

    name: str
    S1: float
    ST: float
    shapley: float
    component: str = ""
    status: str = ""
    conf_low: float = math.nan
    conf_high: float = math.nan


@dataclass(frozen=True)
class Source:
    """One input behind a card's value, as the data catalog (or the experiment) gives it."""

    name: str
    description: str
    distribution: str
    unit: str
    status: str
    sources: tuple[str, ...]
    pedigree: str = ""
    pedigree_reasons: str = ""
    note: str = ""


@dataclass
class View:
    """Everything the page shows for one design, as plain numbers [kg CO2-eq; indices in 0..1]."""

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
    #: ``exact`` (the exact decomposition), ``shapley`` (estimated, correlated inputs) or ``""`` (none).
    hotspots: str = "exact"
    #: Component -> the inputs behind it (:class:`Source`), in the model's order.
    sources: dict[str, list[Source]] = field(default_factory=dict)
    #: Component -> the methods it is computed by (more than one: a mixture); empty without ``methods:``.
    methods: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: Declared correlations (pairs) and the total's 90 % interval without them (None without correlations).
    correlations: int = 0
    without: Row | None = None


@dataclass
class Pair:
    """Two designs with common random numbers (:func:`uncertainty_footprint.api.compare`): design A's numbers,
    the paired difference B - A [kg CO2-eq], P(B < A) and what decides the difference (exact shares of its
    variance per input; empty with ``note`` when the package gives none)."""

    a_components: list[Row]
    a_total: Row
    difference: Row
    p_b_lt_a: float
    decides: list[Index]
    histogram: tuple[list[float], list[int]]
    note: str = ""
    #: (component, the sum of the Shapley effects of its inputs in the variance of B - A), largest first.
    decides_components: list[tuple[str, float]] = field(default_factory=list)
    #: P(B > A) (with P(B < A): the share of ties, e.g. designs that differ in no input).
    p_b_gt_a: float = math.nan


def _rows(res) -> tuple[list[Row], Row]:
    s, det = res.summary, res.deterministic["typical"]
    comps = s[s["level"] == "component"]
    titles = {c.name: c.title for c in res.model.components}
    rows = [Row(str(n), titles.get(str(n), str(n)), str(r["stage"]), float(r["median"]), float(r["p5"]),
                float(r["p95"]), float(r["mean"]), float(r["share"]), float(det.get(n, np.nan)))
            for n, r in comps.iterrows()]
    t = s.loc["total"]
    total = Row("total", "Total", "", float(t["median"]), float(t["p5"]), float(t["p95"]), float(t["mean"]), 1.0,
                float(det.get("total", np.nan)))
    return rows, total


def _owners(model) -> dict[str, str]:
    """Parameter -> the component it belongs to (the first that uses it)."""
    out: dict[str, str] = {}
    for c in model.components:
        for p in c.parameter_names():
            out.setdefault(p, c.name)
    return out


def _status(model, name: str) -> str:
    try:
        return str(model.parameters.get(name).status)
    except (KeyError, AttributeError):
        return ""


def _ranked(res, by: str, owners: Mapping[str, str]) -> list[Index]:
    try:
        table = res.hotspots(by)
    except ConfigError:  # a run without indices (e.g. correlated inputs compared without Shapley effects)
        return []
    shapley = "ST" not in table
    out = []
    for name, r in table.iterrows():
        name = str(name)
        out.append(Index(name, math.nan if shapley else float(r["S1"]), math.nan if shapley else float(r["ST"]),
                         float(r["shapley"]), owners.get(name, "") if by == "parameter" else "",
                         _status(res.model, name) if by == "parameter" else "",
                         float(r["conf_low"]) if shapley else math.nan,
                         float(r["conf_high"]) if shapley else math.nan))
    return out


def _sources(model) -> dict[str, list[Source]]:
    out: dict[str, list[Source]] = {}
    params = model.parameters
    for c in model.components:
        rows = []
        for name in c.parameter_names():
            try:
                p = params.get(name)
            except KeyError:
                continue
            ped = p.pedigree if p.pedigree is not None else getattr(p.distribution, "pedigree", None)
            rows.append(Source(str(name), str(p.description or ""), p.distribution.describe(), str(p.unit),
                               str(p.status), tuple(str(s) for s in (p.source or ())),
                               ped.describe() if ped is not None else "", str(p.pedigree_reasons or ""),
                               str(p.note or "")))
        out[c.name] = rows
    return out


def _histogram(values) -> tuple[list[float], list[int]]:
    counts, edges = np.histogram(np.asarray(values, dtype=float), bins=HISTOGRAM_BINS)
    return [float(e) for e in edges], [int(c) for c in counts]


def _view(res, samples: int, seed: int) -> View:
    rows, total = _rows(res)
    owners = _owners(res.model)
    by_component = _ranked(res, "component", owners)
    by_parameter = _ranked(res, "parameter", owners)[:TOP_PARAMETERS]
    kind = "shapley" if res.dependence is not None else "exact"
    if not by_component:
        kind = ""
    refs = {n: reference_devices()[n] for n in (res.model.reference_labels or {})}
    balance = None
    if res.balance is not None and "net_balance" in res.balance.table.index:
        table = res.balance.table
        nb = table.loc["net_balance"]
        balance = {"median": float(nb["median"]), "p5": float(nb["p5"]), "p95": float(nb["p95"]),
                   "p_offset": float(table.loc["p_offset", "mean"]), "statement": res.balance.statement}
    without, pairs = None, 0
    if res.dependence is not None:
        pairs = len(res.dependence.correlations)
        w = res.dependence.without.loc["total"]
        without = Row("total", "Total without correlations", "", float(w["median"]), float(w["p5"]),
                      float(w["p95"]), float(w["mean"]), 1.0, math.nan)
    methods = {c.name: tuple(c.methods) for c in res.model.components if c.methods}
    return View(rows, total, by_component, by_parameter, _histogram(res.results["total"].values), refs, samples,
                seed, res.experiment.to_yaml(), balance=balance, hotspots=kind, sources=_sources(res.model),
                methods=methods, correlations=pairs, without=without)


def evaluate(exp: uf.Experiment, samples: int, seed: int) -> View:
    """Run the experiment (:func:`uncertainty_footprint.api.run`; the exact indices come with every run, the
    Shapley effects with declared correlations) and collect what the page shows.

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
    return _view(uf.run(_as_run(exp, samples, seed)), samples, seed)


def compare(exp_a: uf.Experiment, exp_b: uf.Experiment, samples: int, seed: int) -> tuple[View, Pair]:
    """Design B's view and its comparison with design A (:func:`uncertainty_footprint.api.compare`: the same
    samples, seed and design, common random numbers), for the page's A/B view.

    The comparison is run as (B, A), so that its paired difference is A - B and its ``p_a_lt_b`` is P(B < A);
    the difference B - A is that one negated (its 5 % quantile is minus the 95 % of A - B).

    Raises
    ------
    ConfigError
        An experiment cannot be built, or the designs cannot be compared (a design without common random
        numbers).
    """
    a, b = _as_run(exp_a, samples, seed), _as_run(exp_b, samples, seed)
    comp = uf.compare(b, a, samples=samples, seed=seed, labels=["B", "A"])
    res_b, res_a = comp.runs
    view = _view(res_b, samples, seed)
    a_rows, a_total = _rows(res_a)
    d = comp.differences.loc[("B", "A")]
    def minus(x) -> float:  # -x, without a negative zero
        return 0.0 - float(x)

    difference = Row("difference", "B - A", "", minus(d["median"]), minus(d["p95"]), minus(d["p5"]),
                     minus(d["mean"]), math.nan, view.total.point - a_total.point)
    totals = comp.totals["total"]
    diff = totals.sel(experiment="B").values - totals.sel(experiment="A").values
    decides, note, components = [], "", []
    shares = comp.difference_variance
    if shares is None:
        note = ("no exact shares of the difference's variance: " +
                ("a design has correlated inputs" if runs_shapley(a) or runs_shapley(b) else
                 "a design chooses among methods"))
    else:
        owners = {**_owners(res_a.model), **_owners(res_b.model)}
        models = (res_b.model, res_a.model)
        table = shares.sort_values("shapley", ascending=False, kind="stable")
        by_component: dict[str, float] = {}
        for _, r in table.iterrows():
            owner = owners.get(str(r["parameter"]), str(r["parameter"]))
            by_component[owner] = by_component.get(owner, 0.0) + float(r["shapley"])
        components = sorted(((c, v) for c, v in by_component.items() if v > 1e-4), key=lambda cv: -cv[1])
        for _, r in table.iterrows():
            if float(r["shapley"]) <= 1e-4 or len(decides) >= TOP_PARAMETERS:
                continue
            name = str(r["parameter"])
            status = next((s for s in (_status(m, name) for m in models) if s), "")
            decides.append(Index(name, float(r["S1"]), float(r["ST"]), float(r["shapley"]), owners.get(name, ""),
                                 status))
    return view, Pair(a_rows, a_total, difference, float(d["p_a_lt_b"]), decides, _histogram(diff), note,
                      components, float(np.mean(diff > 0)))


def summary_csv(exp: uf.Experiment, samples: int, seed: int) -> str:
    """The summary table of the design as the page runs it (``summary.csv`` of ``run``), as CSV text."""
    return uf.run(_as_run(exp, samples, seed)).summary.to_csv(float_format="%.6g")


def comparison_csv(exp_a: uf.Experiment, exp_b: uf.Experiment, samples: int, seed: int) -> str:
    """Designs A and B side by side as CSV text: each design's summary (column ``design`` A or B) and the paired
    difference B - A of the totals with P(B < A) (:func:`uncertainty_footprint.api.compare`, common random
    numbers)."""
    import pandas as pd

    a, b = _as_run(exp_a, samples, seed), _as_run(exp_b, samples, seed)
    comp = uf.compare(b, a, samples=samples, seed=seed, labels=["B", "A"])
    res_b, res_a = comp.runs
    frames = []
    for label, res in (("A", res_a), ("B", res_b)):
        s = res.summary.reset_index()
        s.insert(0, "design", label)
        frames.append(s)
    d = comp.differences.loc[("B", "A")]
    frames.append(pd.DataFrame([{"design": "B - A", "name": "total", "level": "difference", "mean": -d["mean"],
                                 "sd": d["sd"], "median": -d["median"], "p2_5": -d["p97_5"], "p5": -d["p95"],
                                 "p95": -d["p5"], "p97_5": -d["p2_5"], "p_b_lt_a": d["p_a_lt_b"]}]))
    table = pd.concat(frames, ignore_index=True)
    return table.to_csv(index=False, float_format="%.6g")


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


# ------------------------------------------------------------------------------------------------ methods
def method_options(data: Mapping[str, Any]) -> dict[str, list[str]]:
    """The methods each component of an experiment (a mapping with the schema of an experiment file) may take:
    :meth:`uncertainty_footprint.api.Experiment.method_options` of its application, blocks and replaced
    components (cached by those).

    Raises
    ------
    ConfigError
        The blocks or the application are not valid.
    """
    key = json.dumps({"application": data.get("application") or None, "blocks": data.get("blocks") or {},
                      "replaced": sorted(data.get("components") or {})}, sort_keys=True)
    return _method_options(key)


@lru_cache(maxsize=256)
def _method_options(key: str) -> dict[str, list[str]]:
    info = json.loads(key)
    data: dict[str, Any] = {"name": "method options", "blocks": info["blocks"],
                            "components": {c: {"family": "fixed", "value": 0.0} for c in info["replaced"]}}
    if info["application"]:
        data["application"] = info["application"]
    return {k: list(v) for k, v in load(data, "calculator methods").method_options().items()}


@lru_cache(maxsize=1)
def card_methods() -> dict[str, dict[str, tuple[int, ...]]]:
    """Component (a block, or ``truncation``) -> method -> the HSLs at which it computes that block, for every
    method that computes it at some HSL (``distributions/methods.yaml`` order; the truncation corrections apply
    at every HSL)."""
    cat = catalog()
    levels = {b: sorted(int(h) for h in info["hsl"]) for b, info in cat.blocks.items()}
    out: dict[str, dict[str, list[int]]] = {}
    for h in range(max(max(v) for v in levels.values()) + 1):
        blocks = {b: min(h, v[-1]) for b, v in levels.items() if h in v}
        for comp, names in method_options({"blocks": blocks}).items():
            if comp not in blocks and comp != "truncation":
                continue
            for name in names:
                hsls = out.setdefault(comp, {}).setdefault(name, [])
                if comp in blocks and blocks[comp] not in hsls:
                    hsls.append(blocks[comp])
    order = list(cat.methods)
    return {comp: {m: tuple(v[m]) for m in sorted(v, key=lambda m: order.index(m) if m in order else -1)}
            for comp, v in out.items()}
