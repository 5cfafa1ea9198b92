"""Statistical battery over every distribution the package ships, and the family registry itself.

Collected records (readable ids; every check runs over all of them at once, vectorized where the check is an
array comparison, and a failure lists every record that fails it with the reason):

* ``catalog:<name>``: every record of ``load_catalog().parameters`` (distributions/*.yaml);
* ``app:<application>:<name>``: every application preset parameter (distributions/applications.yaml);
* ``ref:<name>``: every reference device (distributions/reference_devices.yaml);
* ``hsl:<block>-<hsl>:<item>:<mode>``: the HSL quantity the model builds from every row of hsl_items.csv, for
  the quantity modes ``pert``, ``triangular`` and ``uniform`` (``model._hsl_quantity``);
* ``benefit:<name>``: every named benefit record of distributions/benefits.yaml (read by the balance model);
* ``registry:<family>``: a minimal spec of every registered family (covers families no data file uses yet).

Tolerances (stated once, used below):

* ppf/cdf round trip: ``|cdf(ppf(u)) - u| <= 1e-8 * max(u, 1 - u) + 1e-12`` on u in [1e-6, 1 - 1e-6];
* declared parameters: relative 1e-9 (closed forms), pdf maximum located within width / 2000 of the mode;
* bounded families: ``ppf(0) == low`` and ``ppf(1) == high`` to 1e-12 relative; ``ppf(1e-12)`` within 1 % of
  the width from low (and symmetric at the top; a Beta-PERT with shape 5 at a bound needs 0.4 %);
* sample mean of N = 200 000 draws ``ppf(default_rng(seed).random(N))``: within 4 standard errors
  ``4 * std / sqrt(N)`` of ``Distribution.mean()`` (a false alarm has probability about 6e-5 per record; the
  seed is fixed so the outcome is reproducible).

``Distribution.cdf`` and the medians are scipy's (``Distribution.frozen``), the reference the fast inverse CDFs
are checked against.
"""

from __future__ import annotations

import json
import math
from typing import Callable, NamedTuple

import numpy as np
import pytest
import yaml
from scipy import stats

from uncertainty_footprint.model import builder as model_mod
from uncertainty_footprint.inputs.catalog import default_data_dir, load_catalog
from uncertainty_footprint.model.experiment import parse_experiment
from uncertainty_footprint.model.methods import build_option
from uncertainty_footprint.inputs.distributions import FAMILIES, Distribution, as_number, make_distribution
from uncertainty_footprint.errors import SpecError
from uncertainty_footprint.inputs.parameters import STATUSES, UNIT_EDGE, ParameterSet, open_unit, parse_record
from uncertainty_footprint.model.benefit import load_benefit_library

CAT = load_catalog()
#: distributions/benefits.yaml: the named benefit records (read by the balance model, beside the catalog).
BENEFITS = load_benefit_library(default_data_dir())
HSL_MODES = ("pert", "triangular", "uniform")
BOUNDED = {"uniform", "loguniform", "triangular", "pert", "truncnormal"}
N_SAMPLES = 200_000
SEED = 20230101
ROUNDTRIP_RTOL = 1e-8

#: Families of a discrete choice (the method of a component): tested on their own, not by the continuous battery.
DISCRETE = {"categorical"}
#: A minimal valid spec of every registered family (a new family must be added here: see test below).
MINIMAL_SPECS = {
    "fixed": {"family": "fixed", "value": 2.5},
    "uniform": {"family": "uniform", "low": 1.0, "high": 3.0},
    "loguniform": {"family": "loguniform", "low": 0.01, "high": 10.0},
    "triangular": {"family": "triangular", "low": 1.0, "mode": 2.0, "high": 5.0},
    "pert": {"family": "pert", "low": 10.0, "mode": 50.0, "high": 100.0},
    "normal": {"family": "normal", "mean": 3.0, "sd": 0.5},
    "truncnormal": {"family": "truncnormal", "mean": 1.0, "sd": 2.0, "low": 0.0, "high": 4.0},
    "lognormal": {"family": "lognormal", "median": 0.421, "gsd": 1.88},
    "categorical": {"family": "categorical", "w0": 1.0, "w1": 2.0, "w2": 1.0},
}


# --------------------------------------------------------------------------------------------- collection
class Record(NamedTuple):
    id: str
    param: object  # Parameter, or None for a registry spec
    dist: Distribution
    kind: str


def _collect() -> list[Record]:
    """Every shipped record and every registry family."""
    out = []
    for name, p in CAT.parameters.items():
        out.append(Record(f"catalog:{name}", p, p.distribution, "catalog"))
    for app, rec in CAT.applications.items():
        for name, p in rec["parameters"].items():
            out.append(Record(f"app:{app}:{name}", p, p.distribution, "app"))
    for name, p in CAT.reference_devices.items():
        out.append(Record(f"ref:{name}", p, p.distribution, "ref"))
    for it in CAT.items:
        for mode in HSL_MODES:
            p = model_mod._hsl_quantity(it, mode, "distributions/hsl_items.csv")
            out.append(Record(f"hsl:{it.block}-{it.hsl}:{it.item}:{mode}", p, p.distribution, "hsl"))
    known = list(CAT.sources) + list(BENEFITS.sources)
    for name, raw in BENEFITS.records.items():
        p = parse_record(name, raw, origin=f"{BENEFITS.path}:records.{name}", known_sources=known)
        out.append(Record(f"benefit:{name}", p, p.distribution, "benefit"))
    seen = set()
    for mname, method in CAT.methods.items():  # every method's records, as each block and HSL it computes gets them
        for name, p in method.parameters.items():
            seen.add(name)
            out.append(Record(f"method:{mname}:{name}", p, p.distribution, "method"))
        for block, info in CAT.blocks.items():
            if info["model"] != "items" or method.recipe == "truncation":
                continue
            for hsl in info["hsl"]:
                for mode in HSL_MODES:
                    option = build_option(method, block, hsl, CAT.block_items(block, hsl), mode,
                                          model_mod._hsl_quantity)
                    for name, p in (option.parameters if option is not None else {}).items():
                        key = (name, mode if name in method.quantities else None)
                        if name not in seen and key not in seen:
                            seen.add(key)
                            if key[1]:  # a method's HSL quantity, made as the catalog's are
                                out.append(Record(f"hsl:method:{mname}:{name}:{mode}", p, p.distribution, "hsl"))
                            else:
                                out.append(Record(f"method:{mname}:{name}", p, p.distribution, "method"))
    for fam, spec in MINIMAL_SPECS.items():
        if fam not in DISCRETE:  # a choice among alternatives has its own tests below
            out.append(Record(f"registry:{fam}", None, make_distribution(spec), "registry"))
    return out


ALL = _collect()
RECORDS = [r for r in ALL if r.param is not None]
RANDOM = [r for r in ALL if not r.dist.is_fixed]
FIXED = [r for r in ALL if r.dist.is_fixed]
BOUNDED_RANDOM = [r for r in ALL if r.dist.family in BOUNDED]


def assert_every_record(records: list[Record], ok, why: Callable[[int], str], what: str) -> None:
    """Fail unless ``ok[i]`` holds for every record; the message names each failing record and ``why(i)``."""
    ok = np.asarray(ok, dtype=bool)
    assert ok.shape == (len(records),) and len(records) > 0
    bad = [f"{records[i].id}: {why(i)}" for i in np.flatnonzero(~ok)]
    assert not bad, f"{len(bad)} of {len(records)} records fail {what}:\n  " + "\n  ".join(bad)


def assert_no_problems(records: list[Record], problems: Callable[[Record], list[str]], what: str) -> None:
    """Fail unless ``problems(record)`` is empty for every record; the message lists each record's problems."""
    found = [problems(r) for r in records]
    assert_every_record(records, [not p for p in found], lambda i: "; ".join(found[i]), what)


def approx_ok(actual, expected, rel: float, abs: float = 1e-12) -> np.ndarray:
    """Element-wise ``actual == pytest.approx(expected, rel=rel, abs=abs)`` (equal, or within
    ``max(rel * |expected|, abs)``; NaN never matches)."""
    actual, expected = np.asarray(actual, dtype=float), np.asarray(expected, dtype=float)
    with np.errstate(invalid="ignore"):
        return (actual == expected) | (np.abs(actual - expected) <= np.maximum(rel * np.abs(expected), abs))


def test_collection_covers_everything_shipped():
    kinds = [r.kind for r in ALL]
    assert kinds.count("catalog") == len(CAT.parameters) > 0
    assert kinds.count("app") == sum(len(a["parameters"]) for a in CAT.applications.values()) > 0
    assert kinds.count("ref") == len(CAT.reference_devices) > 0
    method_quantities = sum(len(m.quantities) for m in CAT.methods.values())
    assert kinds.count("hsl") == (len(CAT.items) + method_quantities) * len(HSL_MODES) > 0
    block_values = sum(len(hsls) for m in CAT.methods.values() for hsls in m.values.values())
    assert kinds.count("method") == sum(len(m.parameters) for m in CAT.methods.values()) + block_values > 0
    assert kinds.count("benefit") == len(BENEFITS.records) > 0
    ids = [r.id for r in ALL]
    assert len(ids) == len(set(ids)), "record ids must be unique"
    # Every family that a data file uses is exercised by the random battery.
    assert {r.dist.family for r in ALL} == set(FAMILIES) - DISCRETE
    assert FIXED and RANDOM and BOUNDED_RANDOM and RECORDS


def test_every_block_and_hsl_has_its_rows_collected():
    """Every (block, HSL) of blocks.yaml is covered by the collection (an HSL without rows is 'nothing')."""
    collected = {(it.block, it.hsl) for it in CAT.items}
    for block, info in CAT.blocks.items():
        for hsl in info["hsl"]:
            rows = CAT.block_items(block, hsl)
            assert ((block, hsl) in collected) == bool(rows)


@pytest.mark.parametrize("mode", HSL_MODES)
@pytest.mark.parametrize("hsl", [0, 1, 2, 3])
def test_model_builds_the_collected_hsl_distributions(hsl, mode):
    """The model's HSL quantities are exactly the ``_hsl_quantity`` distributions collected above."""
    blocks = {b: {"hsl": min(hsl, max(info["hsl"])), "quantities": mode} for b, info in CAT.blocks.items()}
    exp = parse_experiment({"name": "all blocks", "blocks": blocks}, "test.yaml")
    built = model_mod.build_model(exp, CAT).parameters
    n_checked = 0
    for block, choice in blocks.items():
        for it in CAT.block_items(block, choice["hsl"]):
            expected = model_mod._hsl_quantity(it, mode, "distributions/hsl_items.csv")
            got = built[it.parameter]
            assert got.distribution.to_spec() == expected.distribution.to_spec(), (block, choice, it.item)
            assert got.unit == it.unit
            n_checked += 1
    assert n_checked > 0


# --------------------------------------------------------------------------------------------- metadata
def _metadata_problems(r: Record) -> list[str]:
    p = r.param
    problems = []
    if not (isinstance(p.unit, str) and p.unit.strip()):
        problems.append("empty unit")
    if p.status not in STATUSES:
        problems.append(f"status {p.status!r} not in {STATUSES}")
    if not len(p.source) > 0:
        problems.append("no source")
    cited = {**CAT.sources, **(BENEFITS.sources if r.kind == "benefit" else {})}  # benefits.yaml cites its own
    unknown = [s for s in p.source if s not in cited]
    if unknown:
        problems.append(f"source keys {unknown} not in distributions/sources.yaml"
                        + (" or the sources of benefits.yaml" if r.kind == "benefit" else ""))
    if not math.isfinite(p.nominal):
        problems.append(f"nominal {p.nominal!r}")
    return problems


def test_every_record_has_metadata():
    assert_no_problems(RECORDS, _metadata_problems, "the metadata check (unit, status, source, nominal)")


#: Spread of a back-calculated unit factor by its confidence (distributions/README.md): lognormal GSD.
CONFIDENCE_GSD = {"H": 1.2, "M": 1.5, "L": 2.0}


def test_confidence_sets_the_lognormal_spread():
    """A record's ``confidence`` (kept on the Parameter) is the GSD its lognormal spread says it is."""
    rated = [r for r in RECORDS if r.param.confidence is not None]
    assert len(rated) > 0
    assert_every_record(rated, [r.dist.family == "lognormal" and r.dist.params["gsd"] == CONFIDENCE_GSD[
        r.param.confidence] for r in rated], lambda i: f"confidence {rated[i].param.confidence} with "
                        f"{rated[i].dist.describe()}", "the confidence -> GSD rule of distributions/README.md")


# --------------------------------------------------------------------------------------------- fixed
def test_fixed_ppf_is_the_value_everywhere():
    u = np.array([0.0, 1e-12, 0.25, 0.5, 0.75, 1 - 1e-12, 1.0])
    values = np.array([r.dist.params["value"] for r in FIXED])
    x = np.vstack([r.dist.ppf(u) for r in FIXED])
    assert_every_record(FIXED, np.all(x == values[:, None], axis=1), lambda i: f"ppf = {x[i]}", "ppf == value")

    def problems(r: Record) -> list[str]:
        d, value = r.dist, r.dist.params["value"]
        out = []
        if not d.central == value == d.mean():
            out.append(f"central {d.central!r}, value {value!r}, mean {d.mean()!r} differ")
        if d.std() != 0.0:
            out.append(f"std {d.std()!r}")
        if d.support() != (value, value):
            out.append(f"support {d.support()!r}")
        step = d.cdf([value - 1e-9, value, value + 1])
        if not np.array_equal(step, [0.0, 1.0, 1.0]):
            out.append(f"cdf(value - 1e-9, value, value + 1) = {step}")
        return out

    assert_no_problems(FIXED, problems, "central == value == mean, std == 0, support == (value, value), cdf a "
                       "step at the value")


# --------------------------------------------------------------------------------------------- random
U_GRID = np.unique(np.concatenate([
    np.logspace(-6, -2, 41), np.linspace(0.01, 0.99, 197), 1.0 - np.logspace(-6, -2, 41)]))


def test_ppf_cdf_round_trip():
    x = np.vstack([r.dist.ppf(U_GRID) for r in RANDOM])
    back = np.vstack([r.dist.cdf(row) for r, row in zip(RANDOM, x)])
    err = np.abs(back - U_GRID)
    tol = ROUNDTRIP_RTOL * np.maximum(U_GRID, 1 - U_GRID) + 1e-12
    ratio = err / tol

    def why(i):
        w = int(np.nanargmax(np.where(np.isnan(ratio[i]), np.inf, ratio[i])))
        return (f"{RANDOM[i].dist.describe()}: cdf(ppf(u)) != u, worst at u={U_GRID[w]:.3g}: {float(back[i, w])!r} "
                f"(error {err[i, w]:.3g}, tolerance {tol[w]:.3g})")

    assert_every_record(RANDOM, np.all(err <= tol, axis=1), why, "the ppf/cdf round trip")


def test_ppf_monotone_finite_within_support():
    u = np.concatenate([[1e-15, 1e-12, 1e-9], np.linspace(1e-6, 1 - 1e-6, 20_001), [1 - 1e-9, 1 - 1e-12]])
    x = np.vstack([r.dist.ppf(u) for r in RANDOM])
    lo, hi = np.array([r.dist.support() for r in RANDOM]).T
    finite = np.isfinite(x)
    dx = np.diff(x, axis=1)
    checks = {
        "non-finite ppf": np.all(finite, axis=1),
        "ppf decreases": np.all(dx >= 0, axis=1),
        "ppf leaves its support": (lo <= x.min(axis=1)) & (x.max(axis=1) <= hi),
        "a random distribution must spread": x[:, 0] < x[:, -1],
    }

    def why(i):
        failed = [name for name, ok in checks.items() if not ok[i]]
        where = {"non-finite ppf": u[~finite[i]][:3], "ppf decreases": u[1:][dx[i] < 0][:3]}
        details = [f"{name}" + (f" at u={where[name]}" if name in where else "") for name in failed]
        return f"{RANDOM[i].dist.describe()}: " + "; ".join(details) + f" (support [{lo[i]}, {hi[i]}])"

    assert_every_record(RANDOM, np.logical_and.reduce(list(checks.values())), why,
                        "ppf finite, non-decreasing, within the support and spread")


def test_bounded_ppf_reaches_its_bounds():
    low = np.array([r.dist.params["low"] for r in BOUNDED_RANDOM])
    high = np.array([r.dist.params["high"] for r in BOUNDED_RANDOM])
    width = high - low
    support = np.array([r.dist.support() for r in BOUNDED_RANDOM])
    ends = np.vstack([r.dist.ppf(np.array([0.0, 1.0])) for r in BOUNDED_RANDOM])
    tiny = 1e-12
    near = np.vstack([r.dist.ppf(np.array([tiny, 1 - tiny])) for r in BOUNDED_RANDOM])
    x_lo, x_hi = near[:, 0], near[:, 1]
    truncnormal = np.array([r.dist.family == "truncnormal" for r in BOUNDED_RANDOM])
    with np.errstate(invalid="ignore"):
        # density at a truncnormal bound can be tiny when the bound is far in a tail: only ordering there
        close = np.where(truncnormal, (low <= x_lo) & (x_lo < x_hi) & (x_hi <= high),
                         (0 <= x_lo - low) & (x_lo - low <= 0.01 * width)
                         & (0 <= high - x_hi) & (high - x_hi <= 0.01 * width))
        checks = {
            "support != (low, high)": np.all(approx_ok(support, np.column_stack([low, high]), rel=1e-12,
                                                       abs=1e-300), axis=1),
            "ppf(0), ppf(1) != low, high": np.all(np.abs(ends - np.column_stack([low, high]))
                                                  <= 1e-12 * np.abs(np.column_stack([low, high])), axis=1),
            f"ppf({tiny}) or ppf(1-{tiny}) not near the bounds": close,
        }

    def why(i):
        failed = [name for name, ok in checks.items() if not ok[i]]
        return (f"{BOUNDED_RANDOM[i].dist.describe()}: {'; '.join(failed)} (support {support[i].tolist()}, "
                f"ppf(0, 1) = {ends[i].tolist()}, ppf({tiny}, 1-{tiny}) = {near[i].tolist()}, low = {low[i]!r}, "
                f"high = {high[i]!r})")

    assert_every_record(BOUNDED_RANDOM, np.logical_and.reduce(list(checks.values())), why,
                        "the bounds check")


def _mode_problems(dist: Distribution) -> list[str]:
    low, mode, high = dist.params["low"], dist.params["mode"], dist.params["high"]
    width = high - low
    pdf = dist.frozen.pdf
    peak = pdf(mode)
    if not (np.isfinite(peak) and peak > 0):
        return [f"pdf(mode) = {peak!r}"]
    out = []
    for delta in width * np.array([1e-4, 1e-3, 1e-2, 1e-1]):
        for x in (mode - delta, mode + delta):
            if low <= x <= high and not pdf(x) <= peak * (1 + 1e-12):
                out.append(f"pdf({x:g}) > pdf(mode={mode:g})")
    grid = np.linspace(low, high, 2001)
    arg = grid[int(np.argmax(pdf(grid)))]
    if not abs(arg - mode) <= width / 2000 + 1e-12 * abs(mode):
        out.append(f"pdf maximal at {arg:g}, declared mode {mode:g}")
    return out


def _declared_problems(r: Record) -> list[str]:
    """The family's declared parameters against the distribution (relative 1e-9 unless stated)."""
    dist = r.dist
    p, fam = dist.params, dist.family
    rel = 1e-9
    checks: list[tuple[str, bool]] = []
    if fam in ("pert", "triangular"):
        lo, m, hi = p["low"], p["mode"], p["high"]
        problems = _mode_problems(dist)
        if fam == "pert":
            lam = p["lambda"]
            checks.append(("mean != (low + lambda mode + high) / (lambda + 2) (Vose 2008)",
                           dist.mean() == pytest.approx((lo + lam * m + hi) / (lam + 2), rel=rel)))
        else:
            checks.append(("mean != (low + mode + high) / 3", dist.mean() == pytest.approx((lo + m + hi) / 3, rel=rel)))
    elif fam == "lognormal":
        problems = []
        one_sigma = dist.ppf(np.array([stats.norm.cdf(1.0)]))[0]  # u = 0.8413...
        checks += [("median != declared median", dist.frozen.median() == pytest.approx(p["median"], rel=rel)),
                   ("ppf(Phi(1)) / median != gsd", one_sigma / p["median"] == pytest.approx(p["gsd"], rel=rel)),
                   ("ppf(0.5) != median", dist.ppf(np.array([0.5]))[0] == pytest.approx(p["median"], rel=rel))]
    elif fam == "uniform":
        problems = []
        checks += [("support != (low, high)", dist.support() == pytest.approx((p["low"], p["high"]), rel=1e-12)),
                   ("mean != (low + high) / 2", dist.mean() == pytest.approx(0.5 * (p["low"] + p["high"]), rel=rel)),
                   ("std != (high - low) / sqrt(12)",
                    dist.std() == pytest.approx((p["high"] - p["low"]) / math.sqrt(12), rel=rel))]
    elif fam == "loguniform":
        problems = []
        # uniform in log space: the quartiles are equally spaced in log
        q = np.log(dist.ppf(np.array([0.25, 0.5, 0.75])))
        checks += [("support != (low, high)", dist.support() == pytest.approx((p["low"], p["high"]), rel=1e-12)),
                   ("median != sqrt(low high)",
                    dist.frozen.median() == pytest.approx(math.sqrt(p["low"] * p["high"]), rel=rel)),
                   ("quartiles not equally spaced in log", q[1] - q[0] == pytest.approx(q[2] - q[1], rel=1e-7))]
    elif fam == "normal":
        problems = []
        checks += [("mean != declared mean", dist.mean() == pytest.approx(p["mean"], rel=rel)),
                   ("std != sd", dist.std() == pytest.approx(p["sd"], rel=rel)),
                   ("support != (-inf, inf)", dist.support() == (-math.inf, math.inf))]
    elif fam == "truncnormal":
        problems = []
        x = dist.ppf(np.linspace(1e-9, 1 - 1e-9, 1001))
        # same shape as the parent normal inside the bounds
        xs = np.linspace(p["low"], p["high"], 7)[1:-1]
        ratio = dist.frozen.pdf(xs) / stats.norm(p["mean"], p["sd"]).pdf(xs)
        checks += [("support != (low, high)", dist.support() == pytest.approx((p["low"], p["high"]), rel=1e-12)),
                   ("ppf leaves [low, high]", bool(p["low"] <= x.min() and x.max() <= p["high"])),
                   ("pdf not proportional to the parent normal's",
                    bool(np.all(np.abs(ratio - ratio[0]) <= 1e-9 * np.abs(ratio[0]))))]
    else:  # a new family needs its own check
        return [f"no declared-parameter check for family {fam!r}"]
    return problems + [name for name, ok in checks if not ok]


def _described(problems: Callable[[Record], list[str]]) -> Callable[[Record], list[str]]:
    """``problems`` with the distribution named in front."""
    def named(r: Record) -> list[str]:
        found = problems(r)
        return [f"{r.dist.describe()}: " + "; ".join(found)] if found else []

    return named


def test_declared_parameters_are_reproduced():
    assert_no_problems(RANDOM, _described(_declared_problems), "the declared-parameter check")


def test_sample_mean_within_four_standard_errors():
    u = np.random.default_rng(SEED).random(N_SAMPLES)
    u.flags.writeable = False  # the same draws for every record: no ppf may change them
    means: dict[tuple, float] = {}  # identical specs (HSL rows) are sampled once
    for r in RANDOM:
        key = json.dumps(r.dist.to_spec(), sort_keys=True)
        if key not in means:
            means[key] = float(r.dist.ppf(u).mean())
    sample = np.array([means[json.dumps(r.dist.to_spec(), sort_keys=True)] for r in RANDOM])
    mean = np.array([r.dist.mean() for r in RANDOM])
    se = np.array([r.dist.std() for r in RANDOM]) / math.sqrt(N_SAMPLES)
    ok = np.isfinite(mean) & (se > 0) & (np.abs(sample - mean) <= 4 * se)
    assert_every_record(RANDOM, ok, lambda i: (
        f"{RANDOM[i].dist.describe()}: sample mean {sample[i]:.6g} vs mean() {mean[i]:.6g}, "
        f"{abs(sample[i] - mean[i]) / se[i]:.1f} standard errors (allowed 4)"), "the sample-mean check")


def _central_rule(dist: Distribution) -> float:
    p = dist.params
    return {
        "fixed": lambda: p["value"],
        "uniform": lambda: 0.5 * (p["low"] + p["high"]),
        "loguniform": lambda: math.sqrt(p["low"] * p["high"]),
        "triangular": lambda: p["mode"],
        "pert": lambda: p["mode"],
        "normal": lambda: p["mean"],
        "truncnormal": lambda: min(max(p["mean"], p["low"]), p["high"]),  # mean clipped to the bounds
        "lognormal": lambda: p["median"],
    }[dist.family]()


def _central_problems(r: Record) -> list[str]:
    dist = r.dist
    out = []
    if not dist.central == pytest.approx(_central_rule(dist), rel=1e-12):
        out.append(f"central {dist.central!r} != rule {_central_rule(dist)!r}")
    # cross-checks against scipy where the rule is a property of the distribution
    if dist.family in ("lognormal", "uniform", "loguniform") and not dist.central == pytest.approx(
            dist.frozen.median(), rel=1e-9):
        out.append(f"central {dist.central!r} != median {dist.frozen.median()!r}")
    if dist.family == "normal" and not dist.central == pytest.approx(dist.mean(), rel=1e-12):
        out.append(f"central {dist.central!r} != mean {dist.mean()!r}")
    return out


def test_central_follows_the_nominal_rule():
    assert_no_problems(RANDOM + FIXED, _described(_central_problems), "the central-value rule")


def _raw_records() -> dict[str, dict]:
    """Raw YAML records by collection id (catalog and application presets), to see whether a nominal is declared."""
    from uncertainty_footprint.inputs.catalog import PARAMETER_FILES

    raw = {}
    for fname in PARAMETER_FILES:
        for name, rec in yaml.safe_load((CAT.root / fname).read_text())["parameters"].items():
            raw[f"catalog:{name}"] = rec
    for app, rec in yaml.safe_load((CAT.root / "applications.yaml").read_text())["applications"].items():
        for name, prec in (rec.get("parameters") or {}).items():
            raw[f"app:{app}:{name}"] = prec
    for mname, rec in yaml.safe_load((CAT.root / "methods.yaml").read_text())["methods"].items():
        for name, prec in (rec.get("parameters") or {}).items():
            raw[f"method:{mname}:{name}"] = prec
    return raw


RAW = _raw_records()


def _nominal_problems(r: Record) -> list[str]:
    """A record without an explicit nominal takes its distribution's central value; an HSL quantity's nominal is
    the published typical value."""
    param = r.param
    if r.id.startswith("hsl:"):
        if param.scenarios is not None:
            ok, expected = param.nominal == param.scenarios["typical"], "the typical value"
        else:  # low == typical == high: a fixed value
            ok, expected = param.nominal == param.distribution.central, "central"
        return [] if ok else [f"nominal {param.nominal} != {expected}"]
    raw = RAW.get(r.id)
    if raw is not None and "nominal" in raw:
        declared = as_number(raw["nominal"], "nominal")
        return [] if param.nominal == pytest.approx(declared, rel=1e-15) else [
            f"nominal {param.nominal} != declared {declared}"]
    return [] if param.nominal == param.distribution.central else [
        f"nominal {param.nominal} != central {param.distribution.central}"]


def test_nominal_defaults_to_central():
    assert_no_problems(RECORDS, _nominal_problems, "the nominal rule")


def test_shipped_specs_round_trip():
    def problems(r: Record) -> list[str]:
        d = r.dist
        again = make_distribution(d.to_spec())
        return ([] if again.to_spec() == d.to_spec() else [f"to_spec {again.to_spec()} != {d.to_spec()}"]) + (
            [] if again.central == d.central else [f"central {again.central} != {d.central}"])

    assert_no_problems(RECORDS, problems, "make_distribution(to_spec()) == the record's distribution")


def test_parameter_set_ppf_handles_exact_zero_and_one():
    ps = ParameterSet(list(CAT.parameters.values()))
    k = len(ps.random_names)
    u = np.vstack([np.zeros(k), np.full(k, 0.5), np.ones(k)])
    values = ps.ppf(u)
    for name, x in values.items():
        assert x.shape == (3,)
        assert np.all(np.isfinite(x)), f"{name}: {x}"
        lo, hi = ps[name].distribution.support()
        slack = 1e-12 * np.maximum(np.abs(x), 1e-300)  # exp(log(...)) of log-uniform may round by an ulp
        assert np.all((lo - slack <= x) & (x <= hi + slack)), f"{name}: {x} outside [{lo}, {hi}]"
        assert x[0] <= x[1] <= x[2]


def test_one_edge_policy_for_every_design():
    """``open_unit`` is the one edge policy: exact 0 and 1 (and anything beyond 2**-53 of them) move to
    [2**-53, 1 - 2**-53], every other point is unchanged; the Monte Carlo step and the Sobol' analysis both
    use it."""
    from uncertainty_footprint.analysis.hotspots import sobol_problem

    assert UNIT_EDGE == 2.0**-53
    u = np.array([0.0, 2.0**-60, 2.0**-53, 2.0**-31, 0.5, 1 - 2.0**-30, 1 - 2.0**-53, 1.0])
    np.testing.assert_array_equal(open_unit(u), [2.0**-53, 2.0**-53, 2.0**-53, 2.0**-31, 0.5, 1 - 2.0**-30,
                                                 1 - 2.0**-53, 1 - 2.0**-53])
    out = u.copy()
    assert open_unit(out, out=out) is out and out[0] == 2.0**-53
    model = model_mod.build_model(parse_experiment({"name": "edges"}, "test.yaml"), CAT)
    ps = model.parameters
    design = np.tile(u[:, None], (1, len(ps.random_names)))
    names, ppf, _ = sobol_problem(model)
    values = ps.ppf(design)
    expected = np.column_stack([ps[n].distribution.ppf(open_unit(u)) for n in names])
    np.testing.assert_array_equal(np.column_stack([values[n] for n in names]), expected)
    np.testing.assert_array_equal(ppf(design), expected)
    assert np.all(np.isfinite(expected))


# --------------------------------------------------------------------------------------------- registry
def test_minimal_specs_cover_every_family():
    assert set(MINIMAL_SPECS) == set(FAMILIES), "add a minimal spec for every registered family"


@pytest.mark.parametrize("family", sorted(MINIMAL_SPECS))
def test_family_construction_and_to_spec_round_trip(family):
    spec = MINIMAL_SPECS[family]
    dist = make_distribution(spec)
    assert dist.family == family
    assert dist.is_fixed == (family == "fixed")
    fam = FAMILIES[family]
    expected = {"family": family, **{k: float(v) for k, v in spec.items() if k != "family"},
                **{k: float(v) for k, v in fam.optional.items() if k not in spec}}
    assert dist.to_spec() == expected
    again = make_distribution(dist.to_spec())
    assert again.to_spec() == dist.to_spec()
    assert again.central == dist.central
    u = np.linspace(0.001, 0.999, 101)
    np.testing.assert_array_equal(again.ppf(u), dist.ppf(u))
    # the spec survives YAML (what a results file or a log would hold)
    assert make_distribution(yaml.safe_load(yaml.safe_dump(dist.to_spec()))).to_spec() == dist.to_spec()
    assert dist.describe().startswith(f"{family}(")


def test_pert_lambda_is_optional_and_changes_the_shape():
    default = make_distribution({"family": "pert", "low": 0, "mode": 1, "high": 4})
    assert default.params["lambda"] == 4.0
    wide = make_distribution({"family": "pert", "low": 0, "mode": 1, "high": 4, "lambda": 2})
    assert wide.std() > default.std()
    assert wide.central == default.central == 1.0


ALL_FAMILY_NAMES = tuple(FAMILIES)

BAD_SPECS = [
    # (id, spec, fragments the message must contain: the offending thing and what is allowed)
    ("unknown-family", {"family": "gauss", "mean": 1}, ("'gauss'", "allowed") + ALL_FAMILY_NAMES),
    ("family-not-text", {"family": 3, "value": 1}, ("3", "allowed") + ALL_FAMILY_NAMES),
    ("missing-family", {"low": 1, "high": 2}, ("'family'", "allowed") + ALL_FAMILY_NAMES),
    ("not-a-mapping", 3.0, ("mapping", "allowed", "uniform(low, high)")),
    ("unknown-parameter", {"family": "uniform", "low": 0, "high": 1, "mode": 0.5}, ("'mode'", "low, high")),
    ("unknown-parameter-pert", {"family": "pert", "low": 0, "mode": 1, "high": 2, "shape": 3},
     ("'shape'", "low, mode, high, lambda")),
    ("missing-parameter", {"family": "uniform", "low": 0}, ("'high'", "low, high")),
    ("missing-parameter-lognormal", {"family": "lognormal", "median": 1}, ("'gsd'", "median, gsd")),
    ("text-value", {"family": "uniform", "low": "abc", "high": 1}, ("'low'", "'abc'", "number")),
    ("bool-value", {"family": "normal", "mean": True, "sd": 1}, ("'mean'", "True", "number")),
    ("none-value", {"family": "fixed", "value": None}, ("'value'", "None", "number")),
    ("list-value", {"family": "fixed", "value": [1, 2]}, ("'value'", "number")),
    ("nan-value", {"family": "normal", "mean": float("nan"), "sd": 1}, ("'mean'", "finite")),
    ("inf-value", {"family": "uniform", "low": 0, "high": float("inf")}, ("'high'", "finite")),
    ("nan-text", {"family": "uniform", "low": 0, "high": "nan"}, ("'high'", "number")),
    ("uniform-low-gt-high", {"family": "uniform", "low": 5, "high": 3}, ("low < high", "low=5", "high=3")),
    ("uniform-low-eq-high", {"family": "uniform", "low": 3, "high": 3}, ("low < high",)),
    ("loguniform-low-gt-high", {"family": "loguniform", "low": 5, "high": 3}, ("low < high", "low=5")),
    ("loguniform-low-zero", {"family": "loguniform", "low": 0, "high": 3}, ("low > 0", "low=0")),
    ("pert-low-gt-high", {"family": "pert", "low": 5, "mode": 4, "high": 3}, ("low <= mode <= high", "low=5")),
    ("pert-mode-above", {"family": "pert", "low": 1, "mode": 4, "high": 3}, ("low <= mode <= high", "mode=4")),
    ("pert-mode-below", {"family": "pert", "low": 1, "mode": 0, "high": 3}, ("low <= mode <= high", "mode=0")),
    ("pert-degenerate", {"family": "pert", "low": 2, "mode": 2, "high": 2}, ("low < high",)),
    ("pert-lambda-zero", {"family": "pert", "low": 1, "mode": 2, "high": 3, "lambda": 0}, ("lambda > 0",)),
    ("triangular-mode-outside", {"family": "triangular", "low": 1, "mode": 5, "high": 3},
     ("low <= mode <= high", "mode=5")),
    ("triangular-degenerate", {"family": "triangular", "low": 2, "mode": 2, "high": 2}, ("low < high",)),
    ("lognormal-gsd-one", {"family": "lognormal", "median": 1, "gsd": 1}, ("gsd > 1", "gsd=1")),
    ("lognormal-gsd-below-one", {"family": "lognormal", "median": 1, "gsd": 0.5}, ("gsd > 1", "gsd=0.5")),
    ("lognormal-median-zero", {"family": "lognormal", "median": 0, "gsd": 2}, ("median > 0", "median=0")),
    ("normal-sd-zero", {"family": "normal", "mean": 1, "sd": 0}, ("sd > 0", "sd=0")),
    ("normal-sd-negative", {"family": "normal", "mean": 1, "sd": -1}, ("sd > 0", "sd=-1")),
    ("truncnormal-sd-zero", {"family": "truncnormal", "mean": 1, "sd": 0, "low": 0, "high": 2}, ("sd > 0",)),
    ("truncnormal-low-gt-high", {"family": "truncnormal", "mean": 1, "sd": 1, "low": 3, "high": 2},
     ("low < high", "low=3", "high=2")),
]


@pytest.mark.parametrize("spec, fragments", [pytest.param(s, f, id=i) for i, s, f in BAD_SPECS])
def test_make_distribution_refuses_bad_specs(spec, fragments):
    with pytest.raises(SpecError) as info:
        make_distribution(spec)
    msg = str(info.value)
    assert "\n" not in msg
    missing = [f for f in fragments if f not in msg]
    assert not missing, f"message {msg!r} lacks {missing}"


@pytest.mark.parametrize("text, value", [
    ("1e-3", 0.001), ("1E5", 1e5), ("-2.5e+2", -250.0), (" 1e-3 ", 0.001), (".5", 0.5), ("3", 3.0),
    ("+4.", 4.0), (7, 7.0), (0.25, 0.25), (np.float32(0.5), 0.5), (np.int64(3), 3.0),
])
def test_as_number_accepts_numbers_and_yaml12_strings(text, value):
    got = as_number(text, "x")
    assert isinstance(got, float)
    assert got == value


def test_as_number_1e_minus_3():
    assert as_number("1e-3", "x") == 0.001
    # PyYAML (YAML 1.1) reads 1e-3 without a dot as text; the registry must still accept it.
    spec = yaml.safe_load("{family: loguniform, low: 1e-3, high: 1}")
    assert spec["low"] == "1e-3"
    dist = make_distribution(spec)
    assert dist.params["low"] == 0.001
    assert dist.support()[0] == pytest.approx(0.001, rel=1e-12)


@pytest.mark.parametrize("bad", ["abc", "1e", "nan", "inf", "-inf", "0x10", "1,5", "1_000", "", True, False,
                                 None, [1], {"a": 1}, float("nan"), float("inf")],
                         ids=repr)
def test_as_number_refuses_non_numbers(bad):
    with pytest.raises(SpecError) as info:
        as_number(bad, "the thing")
    msg = str(info.value)
    assert msg.startswith("the thing must be")
    assert "number" in msg or "finite" in msg


# ------------------------------------------------------------------------- the lazily built scipy distribution
#: The scipy distribution of each random family as the registry built it eagerly (before it was deferred).
EAGER = {
    "uniform": lambda p: stats.uniform(loc=p["low"], scale=p["high"] - p["low"]),
    "loguniform": lambda p: stats.loguniform(p["low"], p["high"]),
    "triangular": lambda p: stats.triang(c=(p["mode"] - p["low"]) / (p["high"] - p["low"]), loc=p["low"],
                                         scale=p["high"] - p["low"]),
    "pert": lambda p: stats.beta(1.0 + p["lambda"] * (p["mode"] - p["low"]) / (p["high"] - p["low"]),
                                 1.0 + p["lambda"] * (p["high"] - p["mode"]) / (p["high"] - p["low"]),
                                 loc=p["low"], scale=p["high"] - p["low"]),
    "normal": lambda p: stats.norm(loc=p["mean"], scale=p["sd"]),
    "truncnormal": lambda p: stats.truncnorm((p["low"] - p["mean"]) / p["sd"], (p["high"] - p["mean"]) / p["sd"],
                                             loc=p["mean"], scale=p["sd"]),
    "lognormal": lambda p: stats.lognorm(s=math.log(p["gsd"]), scale=p["median"]),
}


def test_eager_references_cover_every_random_family():
    assert set(EAGER) == {f for f in FAMILIES if FAMILIES[f].build is not None} - DISCRETE == \
        set(FAMILIES) - {"fixed"} - DISCRETE


@pytest.mark.parametrize("family", sorted(EAGER))
def test_frozen_is_built_on_first_access_and_equals_the_eager_one(family):
    """Building a distribution and using what a run needs (is_fixed, central, ppf, mean, std, median, support)
    leaves ``frozen`` unbuilt; built, it is the same scipy distribution as the eager registry's: equal ppf,
    isf, cdf and pdf on grids, moments, median and support, bit for bit."""
    dist = make_distribution(MINIMAL_SPECS[family])
    assert not dist.is_fixed and dist.central == make_distribution(MINIMAL_SPECS[family]).central
    dist.ppf(np.linspace(0.01, 0.99, 7)), dist.mean(), dist.std(), dist.median(), dist.support()
    assert "frozen" not in vars(dist)
    lazy, eager = dist.frozen, EAGER[family](dist.params)
    assert dist.frozen is lazy  # built once
    assert type(lazy.dist) is type(eager.dist) and lazy.args == eager.args and lazy.kwds == eager.kwds
    u = np.concatenate([[0.0, UNIT_EDGE], np.linspace(0.0, 1.0, 1001)[1:-1], [1.0 - UNIT_EDGE, 1.0]])
    x = eager.ppf(np.linspace(0.001, 0.999, 1001))
    for method, grid in (("ppf", u), ("isf", u), ("cdf", x), ("pdf", x)):
        np.testing.assert_array_equal(getattr(lazy, method)(grid), getattr(eager, method)(grid), err_msg=method)
    for method in ("mean", "var", "std", "median", "support"):
        assert getattr(lazy, method)() == getattr(eager, method)(), method
    np.testing.assert_array_equal(dist.cdf(x), eager.cdf(x))


def test_fixed_has_no_frozen_distribution():
    dist = make_distribution(MINIMAL_SPECS["fixed"])
    assert dist.is_fixed and dist.frozen is None and dist.median() == dist.central == 2.5


def test_moments_median_and_support_are_scipys_for_every_record():
    """``mean``, ``std``, ``median`` and ``support`` (cached in the cache folder) are exactly scipy's values of
    the frozen distribution, for every shipped random record and every family."""
    def problems(r: Record) -> list[str]:
        f = r.dist.frozen
        expected = {"mean": float(f.mean()), "std": float(f.std()), "median": float(f.median()),
                    "support": tuple(float(b) for b in f.support())}
        got = {"mean": r.dist.mean(), "std": r.dist.std(), "median": r.dist.median(), "support": r.dist.support()}
        return [f"{k} {got[k]!r} != scipy's {expected[k]!r}" for k in expected
                if repr(got[k]) != repr(expected[k]) or type(got[k]) is not type(expected[k])]

    assert_no_problems(RANDOM, problems, "scipy's moments, median and support")


def test_same_spec_same_distribution():
    spec = MINIMAL_SPECS["pert"]
    assert make_distribution(spec) == make_distribution(dict(spec))
    assert make_distribution(spec) != make_distribution({**spec, "mode": 60.0})


# ------------------------------------------------------------------------- a choice among alternatives
def test_categorical_draws_each_alternative_with_its_weight():
    dist = make_distribution({"family": "categorical", "w0": 1, "w1": 2, "w2": 1})
    u = np.random.default_rng(SEED).random(N_SAMPLES)
    k = dist.ppf(u)
    assert set(np.unique(k)) == {0.0, 1.0, 2.0}
    np.testing.assert_allclose(np.bincount(k.astype(int)) / N_SAMPLES, [0.25, 0.5, 0.25], atol=4e-3)
    np.testing.assert_array_equal(dist.ppf(np.array([0.0, 0.2499, 0.25, 0.7499, 0.75, 1 - 1e-12])), [0, 0, 1, 1, 2, 2])
    assert dist.mean() == pytest.approx(1.0) and dist.std() == pytest.approx(math.sqrt(0.5))
    assert dist.support() == (0.0, 2.0) and dist.central == 1.0 and dist.median() == 1.0
    assert dist.frozen.mean() == pytest.approx(dist.mean()) and dist.frozen.std() == pytest.approx(dist.std())
    assert make_distribution(dist.to_spec()) == dist


@pytest.mark.parametrize("spec, words", [({"w0": -1, "w1": 2}, "weights >= 0"), ({"w0": 0, "w1": 0}, "positive sum"),
                                         ({"w1": 1, "w0": 2}, "w0, w1, ... in order"), ({}, "w0, w1")])
def test_categorical_refuses_bad_weights(spec, words):
    with pytest.raises(SpecError, match=words):
        make_distribution({"family": "categorical", **spec})


def test_a_pedigree_gives_the_lognormal_of_its_formula():
    """sigma_ln = 1/2 sqrt((ln U_b)^2 + sum (ln U_i)^2) with the Ciroth et al. (2016) factors of the scores; the
    sampled sd of ln matches it."""
    from uncertainty_footprint.inputs.pedigree import pedigree_tables

    spec = {"family": "lognormal", "median": 0.02, "basic_gsd2": 1.05,
            "pedigree": {"scores": [4, 4, 3, 3, 4], "table": "ciroth_2016"}}
    dist = make_distribution(spec)
    by_hand = 0.5 * math.sqrt(math.log(1.05) ** 2 + math.log(1.69) ** 2 + math.log(1.08) ** 2 + math.log(1.10) ** 2
                              + math.log(1.08) ** 2 + math.log(2.08) ** 2)
    assert dist.pedigree.sigma == pytest.approx(by_hand, rel=1e-12) and dist.params["gsd"] == pytest.approx(
        math.exp(by_hand), rel=1e-12)
    x = dist.ppf(np.random.default_rng(SEED).random(N_SAMPLES))
    sd_ln = float(np.std(np.log(x), ddof=1))
    assert sd_ln == pytest.approx(by_hand, rel=4 / math.sqrt(2 * N_SAMPLES))  # 4 standard errors of an sd
    assert float(np.median(x)) == pytest.approx(0.02, rel=0.01)
    assert make_distribution(dist.to_spec()) == dist and "pedigree (4,4,3,3,4) ciroth_2016" in dist.describe()
    v1 = make_distribution({**spec, "pedigree": {"scores": [5, 5, 5, 5, 5], "table": "ecoinvent_v2"}})
    assert v1.pedigree.sigma == pytest.approx(0.5 * math.sqrt(sum(math.log(x) ** 2 for x in (1.05, 1.5, 1.2, 1.5, 1.1,
                                                                                             2.0))))
    tables = pedigree_tables().factors
    assert tables["ciroth_2016"]["further_technological_correlation"] == (1.0, 1.18, 1.65, 2.08, 2.80)
    assert tables["ecoinvent_v2"]["reliability"] == (1.0, 1.05, 1.10, 1.20, 1.50)


@pytest.mark.parametrize("change, words", [
    ({"pedigree": {"scores": [1, 2, 3], "table": "ciroth_2016"}}, "five integers 1-5"),
    ({"pedigree": {"scores": [1, 2, 3, 4, 6]}}, "five integers 1-5"),
    ({"pedigree": {"scores": [1, 1, 1, 1, 1], "table": "nope"}}, "unknown pedigree table 'nope'; allowed: ciroth_2016"),
    ({"basic_gsd2": 0.5}, "basic_gsd2 is a GSD\\^2 >= 1"),
    ({"gsd": 2.0}, "its gsd follows from them"),
    ({"median": None}, "median"),
])
def test_a_bad_pedigree_is_refused(change, words):
    spec = {"family": "lognormal", "median": 0.02, "basic_gsd2": 1.05,
            "pedigree": {"scores": [4, 4, 3, 3, 4], "table": "ciroth_2016"}, **change}
    spec = {k: v for k, v in spec.items() if v is not None}
    with pytest.raises(SpecError, match=words):
        make_distribution(spec)
