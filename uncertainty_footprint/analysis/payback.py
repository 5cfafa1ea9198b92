"""Does it pay back? Samples of the footprint -> net balance, P(offset), payback time, fleet totals, hotspots.

The balance model (:mod:`uncertainty_footprint.model.benefit`) is the footprint model plus the negative benefit
term. Its sampled values reuse the run's samples: the footprint parameters' values are those in ``results.nc``
(``inputs``), and only the benefit's own parameters are drawn, from a design of the run's kind and seed whose
columns are those parameters (Monte Carlo and Latin hypercube columns are keyed by name, so these are the very
columns a joint design of the balance model would give; a scrambled Sobol' design, positional, gets its own
scrambling seed derived from the run's seed). The net balance's indices are exact
(:func:`~uncertainty_footprint.analysis.exact.exact_analysis` of the balance model); the payback time, a ratio, gets
sampled Sobol' indices.
"""

from __future__ import annotations

import math
import statistics
import warnings
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..inputs.schema import GROUPINGS
from ..inputs.parameters import ParameterSet
from ..inputs.units import cf_unit, footprint_attrs
from ..model.benefit import BalanceModel, benefit_term, fleet_total, payback_time
from ..model.builder import KG
from ..warnings import SubsetWarning
from .designs import make_design
from .exact import exact_or_none
from .hotspots import parameter_groups, sobol_problem
from .propagate import run_monte_carlo
from .sizes import EVAL_CHUNK
from .sobol import sobol_indices
from .summary import PERCENTILES

__all__ = ["BalanceResult", "balance_analysis", "balance_samples", "balance_table", "break_even_statement",
           "p_offset_interval", "exact_balance_indices", "payback_indices", "balance_shapley", "anchors_table", "BALANCE_COLUMNS",
           "PAYBACK_QUANTILE", "STREAMED_SAMPLES"]

#: Columns of ``balance.csv`` (those of ``summary.csv``, plus the unit).
BALANCE_COLUMNS = ("level", "unit", "mean", "sd", "median", "p2_5", "p5", "p95", "p97_5")
#: The probability of the break-even statement ("pays back within ... with 90 % probability").
PAYBACK_QUANTILE = 0.90
#: Spawn key of the benefit columns of a Sobol' design (positional columns need their own scrambling).
_SOBOL_SPAWN = 0x62616C61  # "bala"
#: Rows of a streamed run's design the balance is computed from (in memory) [samples].
STREAMED_SAMPLES = 1 << 17
#: Mega per unit (t -> Mt) [1].
MEGA = 1.0e6


@dataclass
class BalanceResult:
    """The balance of a run.

    Attributes
    ----------
    table : pandas.DataFrame
        ``balance.csv``: rows ``net_balance`` [kg CO2-eq], ``payback_years`` [yr], ``p_offset`` [1] and, with a fleet,
        ``fleet_devices`` [1 or 1/yr], ``fleet_footprint`` and ``fleet_net_balance`` [t CO2-eq or t CO2-eq/yr];
        columns :data:`BALANCE_COLUMNS` (``p_offset``: mean = the estimate, sd its standard error, the intervals
        Wilson score intervals), plus ``exact_mean``/``exact_sd`` of the net balance when separable.
    p_offset : float
        P(benefit x lifetime > footprint), the share of samples with a negative net balance [1].
    statement : str
        The break-even statement in words.
    exact : dict of str to xarray.Dataset or None
        Exact S1/ST/Shapley of the net balance per grouping (layout of ``sobol.nc``).
    payback_sobol : dict of str to xarray.Dataset or None
        Sampled Sobol' indices of the payback time per grouping.
    shapley : dict of str to xarray.Dataset or None
        With correlated inputs (where the Sobol' indices are no shares of the variance): estimated Shapley effects
        of the net balance per grouping, with bootstrap intervals (layout of ``shapley.nc``;
        :func:`balance_shapley`).
    anchors : pandas.DataFrame
        Published fleet-scale anchors beside the fleet totals (empty without a fleet).
    """

    balance: BalanceModel
    table: pd.DataFrame
    p_offset: float
    statement: str
    net_balance: np.ndarray = field(repr=False)
    payback_years: np.ndarray | None = field(default=None, repr=False)
    exact: dict[str, xr.Dataset] | None = None
    payback_sobol: dict[str, xr.Dataset] | None = None
    anchors: pd.DataFrame = field(default_factory=pd.DataFrame)
    shapley: dict[str, xr.Dataset] | None = None


# ------------------------------------------------------------------------------------------------------------
# samples
# ------------------------------------------------------------------------------------------------------------
def _own_values(balance: BalanceModel, names: Sequence[str], n: int, design: str, seed: int) -> dict[str, np.ndarray]:
    """Values of the parameters ``names`` (not in the footprint model) for the run's ``n`` samples."""
    ps = ParameterSet([balance.parameters[m] if m in balance.parameters else balance.devices for m in names])
    random = ps.random_names
    if not random:
        return ps.values({}, n)
    if design == "sobol":
        seed = int(np.random.SeedSequence(seed, spawn_key=(_SOBOL_SPAWN,)).generate_state(1)[0])
    points = make_design(design, n, random, seed).points(0, n)
    return ps.ppf(points, in_place=True)


def balance_samples(balance: BalanceModel, results: xr.Dataset, *, design: str, seed: int
                    ) -> dict[str, np.ndarray]:
    """Per-sample ``total``, ``net_balance``, ``yearly_benefit``, ``payback_years`` and ``devices`` of a run.

    Parameters
    ----------
    balance : BalanceModel
    results : xarray.Dataset
        The run's in-memory results (``total(sample)``, ``inputs(sample, parameter)``).
    design, seed
        The run's design and seed (the benefit's own parameters are drawn from a design of that kind and seed).

    Returns
    -------
    dict of str to numpy.ndarray
        ``total`` [kg CO2-eq] and, with a benefit, ``benefit`` (the negative term) and ``net_balance``
        [kg CO2-eq], ``yearly_benefit`` [kg CO2-eq/yr], ``payback_years`` [yr]; with a fleet ``devices``.
    """
    n = results.sizes["sample"]
    total = np.asarray(results["total"].values, dtype=float)
    own = balance.benefit_parameters() + ([balance.devices.name] if balance.devices is not None else [])
    values = _own_values(balance, own, n, design, seed)
    out = {"total": total}
    if balance.has_benefit:
        names = [str(p) for p in results["parameter"].values]
        shared = [name for name in balance.benefit.parameter_names() if name not in values]
        if shared:  # one read of the columns (lazy inputs are regenerated once, not once per column)
            block = np.asarray(results["inputs"].isel(parameter=[names.index(n) for n in shared]).values, dtype=float)
            values.update({name: block[:, j] for j, name in enumerate(shared)})
        yearly = np.broadcast_to(np.asarray(balance.yearly_benefit(values), dtype=float), (n,))
        term = benefit_term(avoided_emissions_per_year=yearly, lifetime=values[balance.benefit.inputs["lifetime"]])
        out.update(benefit=term, net_balance=total + term, yearly_benefit=yearly,
                   payback_years=payback_time(footprint=total, avoided_emissions_per_year=yearly))
    if balance.devices is not None:
        out["devices"] = values[balance.devices.name]
    return out


# ------------------------------------------------------------------------------------------------------------
# statistics
# ------------------------------------------------------------------------------------------------------------
def p_offset_interval(k: int, n: int, level: float) -> tuple[float, float]:
    """Wilson score interval of a probability from ``k`` successes in ``n`` samples at confidence ``level`` [1]."""
    if n == 0:
        return (math.nan, math.nan)
    z = statistics.NormalDist().inv_cdf(0.5 + level / 2)
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


def _row(x: np.ndarray, level: str, unit: str) -> dict:
    x = np.asarray(x, dtype=float)
    finite = x[np.isfinite(x)]
    pct = np.percentile(x, PERCENTILES, method="linear") if x.size else [math.nan] * 5
    return {"level": level, "unit": unit, "mean": float(finite.mean()) if finite.size == x.size else math.inf,
            "sd": float(x.std(ddof=1)) if x.size > 1 and finite.size == x.size else math.nan,
            "median": float(pct[2]), "p2_5": float(pct[0]), "p5": float(pct[1]), "p95": float(pct[3]),
            "p97_5": float(pct[4])}


def _duration(years: float) -> str:
    """A duration in words: days below a month, months below two years, else years."""
    if not math.isfinite(years):
        return "never"
    months = years * 12.0
    if months < 1.0:
        return f"{years * 365.0:.0f} days"
    if years < 2.0:
        return f"{months:.1f} months" if months < 10 else f"{months:.0f} months"
    return f"{years:.1f} years"


def break_even_statement(payback: np.ndarray, p_offset: float, lifetime_median: float,
                         interval: tuple[float, float] | None = None) -> str:
    """The break-even sentence: the payback time reached with :data:`PAYBACK_QUANTILE` probability, the median,
    and P(offset) over the service life (with its 95 % interval when given)."""
    q = float(np.quantile(payback, PAYBACK_QUANTILE))
    med = float(np.median(payback))
    ci = f" (95 % interval {interval[0]:.1%} to {interval[1]:.1%})" if interval is not None else ""
    return (f"Pays back its own footprint within {_duration(q)} with {PAYBACK_QUANTILE:.0%} probability (median "
            f"{_duration(med)}); over its service life (median {lifetime_median:.1f} years) it offsets its footprint "
            f"with probability {p_offset:.1%}{ci}.").replace("%", " %").replace("  %", " %")


def balance_table(samples: Mapping[str, np.ndarray], balance: BalanceModel) -> pd.DataFrame:
    """The rows of ``balance.csv`` (see :class:`BalanceResult`)."""
    rows, names = [], []
    fleet_unit = "t CO2-eq/yr" if balance.per_year else "t CO2-eq"
    if "net_balance" in samples:
        nb = samples["net_balance"]
        k, n = int(np.count_nonzero(nb < 0)), nb.size
        p = k / n
        lo95, hi95 = p_offset_interval(k, n, 0.95)
        lo90, hi90 = p_offset_interval(k, n, 0.90)
        rows += [_row(nb, "balance", KG), _row(samples["payback_years"], "balance", "yr"),
                 {"level": "probability", "unit": "1", "mean": p, "sd": math.sqrt(p * (1 - p) / n),
                  "median": math.nan, "p2_5": lo95, "p5": lo90, "p95": hi90, "p97_5": hi95}]
        names += ["net_balance", "payback_years", "p_offset"]
    if "devices" in samples:
        dev = samples["devices"]
        rows.append(_row(dev, "fleet", "1/yr" if balance.per_year else "1"))
        rows.append(_row(fleet_total(per_device=samples["total"], devices=dev), "fleet", fleet_unit))
        names += ["fleet_devices", "fleet_footprint"]
        if "net_balance" in samples:
            rows.append(_row(fleet_total(per_device=samples["net_balance"], devices=dev), "fleet", fleet_unit))
            names.append("fleet_net_balance")
    return pd.DataFrame(rows, index=pd.Index(names, name="name"), columns=list(BALANCE_COLUMNS))


def anchors_table(balance: BalanceModel, table: pd.DataFrame) -> pd.DataFrame:
    """The published fleet anchors (``benefits.yaml``) beside this fleet's footprint, in Mt CO2-eq."""
    if "fleet_footprint" not in table.index or not balance.anchors:
        return pd.DataFrame()
    rows = [{"name": "this fleet (footprint, 95 % interval)", "low": table.loc["fleet_footprint", "p2_5"] / MEGA,
             "high": table.loc["fleet_footprint", "p97_5"] / MEGA,
             "unit": "Mt CO2-eq/yr" if balance.per_year else "Mt CO2-eq", "status": "computed",
             "source": "this run"}]
    for a in balance.anchors:
        rows.append({k: a[k] for k in ("name", "low", "high", "unit", "status", "source")})
    return pd.DataFrame(rows).set_index("name")


# ------------------------------------------------------------------------------------------------------------
# hotspots
# ------------------------------------------------------------------------------------------------------------
def exact_balance_indices(balance: BalanceModel, groupings: Sequence[str] = GROUPINGS, second_order: bool = False
                          ) -> tuple[dict[str, xr.Dataset], float, float] | None:
    """Exact S1/ST/Shapley of the net balance per grouping, with its exact mean and sd [kg CO2-eq]; None with one
    :class:`~uncertainty_footprint.analysis.exact.ExactDecompositionWarning` when not separable."""
    analysis = exact_or_none(balance, of=" of the net balance", fallback="")
    if analysis is None:
        return None
    out = analysis.indices(groupings, second_order)
    for ds in out.values():
        ds.attrs["output"] = f"net balance per device (footprint minus benefit x lifetime) [{KG}]"
        ds["remaining_variance"].attrs["long_name"] = "variance of the net balance left if this were known exactly"
    return out, analysis.total.mean, math.sqrt(max(analysis.total.variance, 0.0))


def payback_indices(balance: BalanceModel, *, n_base: int, seed: int, groupings: Sequence[str] = GROUPINGS,
                    conf_level: float = 0.95, num_resamples: int = 100, chunk_size: int = EVAL_CHUNK
                    ) -> dict[str, xr.Dataset]:
    """Sampled Sobol' indices of the payback time (footprint / yearly benefit [yr]) per grouping.

    The groups are those of the balance model (:func:`~uncertainty_footprint.analysis.hotspots.parameter_groups`),
    so the payback time's hotspots read like the net balance's.
    """
    def payback(values):
        total = balance.footprint.evaluate(values).sum(axis=1)
        return payback_time(footprint=total, avoided_emissions_per_year=balance.yearly_benefit(values))

    names, ppf, evaluate = sobol_problem(balance, output=payback)

    out = {}
    for grouping in groupings:
        groups = None if grouping == "parameter" else parameter_groups(balance, grouping)
        ds = sobol_indices(evaluate, ppf, names=names, n_base=n_base, seed=seed, groups=groups,
                           conf_level=conf_level, num_resamples=num_resamples, chunk_size=chunk_size,
                           conf_warn_threshold=math.inf)
        ds.attrs.update(grouped_by=grouping, output="payback time [yr]")
        out[grouping] = ds
    return out


# ------------------------------------------------------------------------------------------------------------
# the analysis
# ------------------------------------------------------------------------------------------------------------
def balance_analysis(balance: BalanceModel, results: xr.Dataset | None, *, n: int | None = None,
                     design: str = "lhs", seed: int = 1, groupings: Sequence[str] = GROUPINGS,
                     sobol_samples: int | None = None, sobol_seed: int | None = None, conf_level: float = 0.95,
                     num_resamples: int = 100, chunk_size: int = EVAL_CHUNK,
                     shapley: Mapping[str, int] | None = None) -> BalanceResult:
    """The balance of a run, and its variables added to ``results`` (in place).

    Parameters
    ----------
    balance : BalanceModel
    results : xarray.Dataset or None
        The run's in-memory results; gains ``net_balance(sample)`` [kg CO2-eq], ``payback_years(sample)`` [yr]
        and, with a fleet, ``fleet_footprint(sample)`` / ``fleet_net_balance(sample)`` [t CO2-eq] and
        ``fleet_devices(sample)``, with units (kg and t of CO2-eq,
        ``common_year``) and P(offset) and the break-even statement in the Dataset's attrs. None (a streamed run,
        whose samples are not in memory): the balance comes from an in-memory design of ``min(n, STREAMED_SAMPLES)``
        rows of the run's kind and seed (``design``, ``seed``; for ``mc`` these are the run's first rows); the run's
        file is left alone, and a :class:`~uncertainty_footprint.warnings.SubsetWarning` says so when those rows
        are fewer than the run's.
    n, design, seed
        The run's sample count, design and seed (used when ``results`` is None).
    groupings : sequence of str
        Groupings of the exact and sampled indices.
    sobol_samples : int, optional
        Base sample size of the payback time's Sobol' indices (a power of two); None skips them.
    sobol_seed : int, optional
        Their seed (default the run's).
    conf_level, num_resamples, chunk_size
        As for :func:`~uncertainty_footprint.analysis.hotspots.hotspot_analysis`.
    shapley : mapping, optional
        ``{"permutations", "inner", "bootstrap", "seed"}`` of the Shapley estimator: with correlated inputs, the
        hotspots of the net balance are its Shapley effects (:func:`balance_shapley`); None skips them.

    Returns
    -------
    BalanceResult
    """
    if results is None:
        m = min(int(n), STREAMED_SAMPLES)
        results = run_monte_carlo(balance.footprint, n=m, design=design, seed=seed, chunk_size=chunk_size)
        note = (f"the balance of this streamed run of {n} samples (balance.csv and, where they are written, the "
                f"balance figure and report section) comes from an in-memory {design} design of {m} rows with the "
                "run's seed; results.nc holds no per-sample balance")
        results.attrs["balance_note"] = note
        if m < n:
            warnings.warn(note, SubsetWarning, stacklevel=2)
    samples = balance_samples(balance, results, design=design, seed=seed)
    table = balance_table(samples, balance)
    p = float(table.loc["p_offset", "mean"]) if "p_offset" in table.index else math.nan
    statement, exact, sobol = "", None, None
    fleet_unit = "t CO2-eq/yr" if balance.per_year else "t CO2-eq"
    fleet_attrs = {**footprint_attrs(""), "units": cf_unit(fleet_unit)}
    fleet_attrs["quantity"] = fleet_attrs["quantity"].replace("in kg CO2-eq", "in t CO2-eq")
    attrs = {"net_balance": footprint_attrs("net balance per device: footprint minus benefit x lifetime (negative = "
                                            "net saving)"),
             "payback_years": {"units": cf_unit("yr"), "long_name": "payback time: footprint / avoided emissions "
                                                                     "per year"},
             "fleet_devices": {"units": cf_unit("1/yr" if balance.per_year else "1"),
                               "long_name": "devices in the fleet" + (" produced per year" if balance.per_year else "")},
             "fleet_footprint": {**fleet_attrs, "long_name": "fleet footprint"},
             "fleet_net_balance": {**fleet_attrs, "long_name": "fleet net balance"}}
    variables = {"net_balance": samples.get("net_balance"), "payback_years": samples.get("payback_years")}
    if "devices" in samples:
        variables["fleet_devices"] = samples["devices"]
        variables["fleet_footprint"] = fleet_total(per_device=samples["total"], devices=samples["devices"])
        if "net_balance" in samples:
            variables["fleet_net_balance"] = fleet_total(per_device=samples["net_balance"], devices=samples["devices"])
    for name, values in variables.items():
        if values is not None:
            results[name] = xr.Variable("sample", np.asarray(values, dtype=float), attrs[name])
    if balance.has_benefit:
        lifetime = balance.parameters[balance.benefit.inputs["lifetime"]]
        statement = break_even_statement(samples["payback_years"], p, lifetime.distribution.median()
                                         if lifetime.is_random else float(lifetime.distribution.central),
                                         (float(table.loc["p_offset", "p2_5"]), float(table.loc["p_offset", "p97_5"])))
        results.attrs.update(p_offset=p, break_even=statement)
        done = exact_balance_indices(balance, groupings) if balance.parameters.random_names else None
        if done is not None:
            exact, mean, sd = done
            table["exact_mean"] = pd.Series({"net_balance": mean})
            table["exact_sd"] = pd.Series({"net_balance": sd})
        if sobol_samples and balance.parameters.random_names:
            sobol = payback_indices(balance, n_base=sobol_samples, seed=sobol_seed or seed,
                                    groupings=groupings, conf_level=conf_level, num_resamples=num_resamples,
                                    chunk_size=chunk_size)
    shapley_net = None
    if balance.has_benefit and shapley is not None and balance.parameters.dependent:
        shapley_net = balance_shapley(balance, groupings=groupings, conf_level=conf_level, **shapley)
    return BalanceResult(balance, table, p, statement, samples.get("net_balance"), samples.get("payback_years"),
                         exact, sobol, anchors_table(balance, table), shapley_net)


def balance_shapley(balance: BalanceModel, *, permutations: int, seed: int, inner: int = 3, bootstrap: int = 1000,
                    conf_level: float = 0.95, groupings: Sequence[str] = GROUPINGS) -> dict[str, xr.Dataset]:
    """Shapley effects of the net balance [kg CO2-eq] per grouping, with the balance model's correlations: the
    hotspots of a balance whose inputs are dependent (the groups are those of the balance model, as for its exact
    indices).

    The payback time gets none: it is a ratio whose heavy tail (a small yearly benefit) makes the permutation
    estimator's bootstrap intervals unreliable at any affordable number of permutations (with 10^4 permutations
    on ``kws_correlated.yaml`` with a benefit, an effect near zero came out at -0.10 with an interval excluding
    zero), while the net balance's effects have intervals that cover the exact ones of the independent model
    (tests).
    """
    from .dependence import shapley_hotspots

    return shapley_hotspots(balance, seed=seed, permutations=permutations, inner=inner, bootstrap=bootstrap,
                            conf_level=conf_level, groupings=groupings,
                            label=f"net balance per device (footprint minus benefit x lifetime) [{KG}]")
