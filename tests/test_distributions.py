"""Statistical battery over every distribution the package ships, and the family registry itself.

Collected records (one pytest param each, readable ids):

* ``catalog:<name>``: every record of ``load_catalog().parameters`` (distributions/*.yaml);
* ``app:<application>:<name>``: every application preset parameter (distributions/applications.yaml);
* ``ref:<name>``: every reference device (distributions/reference_devices.yaml);
* ``hsl:<block>-<hsl>:<item>:<mode>``: the HSL quantity the model builds from every row of hsl_items.csv, for
  the quantity modes ``pert``, ``triangular`` and ``uniform`` (``model._hsl_quantity``);
* ``registry:<family>``: a minimal spec of every registered family (covers families no data file uses yet).

Tolerances (stated once, used below):

* ppf/cdf round trip: ``|cdf(ppf(u)) - u| <= 1e-8 * max(u, 1 - u) + 1e-12`` on u in [1e-6, 1 - 1e-6];
* declared parameters: relative 1e-9 (closed forms), pdf maximum located within width / 2000 of the mode;
* bounded families: ``ppf(0) == low`` and ``ppf(1) == high`` to 1e-12 relative; ``ppf(1e-12)`` within 1 % of
  the width from low (and symmetric at the top; a Beta-PERT with shape 5 at a bound needs 0.4 %);
* sample mean of N = 200 000 draws ``ppf(default_rng(seed).random(N))``: within 4 standard errors
  ``4 * std / sqrt(N)`` of ``Distribution.mean()`` (a false alarm has probability about 6e-5 per record; the
  seed is fixed so the outcome is reproducible).
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
import yaml
from scipy import stats

from uncertainty_footprint.model import builder as model_mod
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.inputs.experiment import parse_experiment
from uncertainty_footprint.inputs.distributions import FAMILIES, Distribution, as_number, make_distribution
from uncertainty_footprint.errors import SpecError
from uncertainty_footprint.inputs.parameters import STATUSES, ParameterSet

CAT = load_catalog()
HSL_MODES = ("pert", "triangular", "uniform")
BOUNDED = {"uniform", "loguniform", "triangular", "pert", "truncnormal"}
N_SAMPLES = 200_000
SEED = 20230101
ROUNDTRIP_RTOL = 1e-8

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
}


# --------------------------------------------------------------------------------------------- collection
def _collect():
    """(id, Parameter or None, Distribution, kind) for every shipped record and every registry family."""
    out = []
    for name, p in CAT.parameters.items():
        out.append((f"catalog:{name}", p, p.distribution, "catalog"))
    for app, rec in CAT.applications.items():
        for name, p in rec["parameters"].items():
            out.append((f"app:{app}:{name}", p, p.distribution, "app"))
    for name, p in CAT.reference_devices.items():
        out.append((f"ref:{name}", p, p.distribution, "ref"))
    for it in CAT.items:
        for mode in HSL_MODES:
            p = model_mod._hsl_quantity(it, mode, "distributions/hsl_items.csv")
            out.append((f"hsl:{it.block}-{it.hsl}:{it.item}:{mode}", p, p.distribution, "hsl"))
    for fam, spec in MINIMAL_SPECS.items():
        out.append((f"registry:{fam}", None, make_distribution(spec), "registry"))
    return out


ALL = _collect()
RECORDS = [pytest.param(p, id=i) for i, p, d, k in ALL if p is not None]
RANDOM = [pytest.param(d, id=i) for i, p, d, k in ALL if not d.is_fixed]
FIXED = [pytest.param(d, id=i) for i, p, d, k in ALL if d.is_fixed]
BOUNDED_RANDOM = [pytest.param(d, id=i) for i, p, d, k in ALL if d.family in BOUNDED]


def test_collection_covers_everything_shipped():
    kinds = [k for _, _, _, k in ALL]
    assert kinds.count("catalog") == len(CAT.parameters) > 0
    assert kinds.count("app") == sum(len(a["parameters"]) for a in CAT.applications.values()) > 0
    assert kinds.count("ref") == len(CAT.reference_devices) > 0
    assert kinds.count("hsl") == len(CAT.items) * len(HSL_MODES) > 0
    ids = [i for i, *_ in ALL]
    assert len(ids) == len(set(ids)), "record ids must be unique"
    # Every family that a data file uses is exercised by the random battery.
    assert {d.family for _, _, d, _ in ALL} == set(FAMILIES)


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
@pytest.mark.parametrize("param", RECORDS)
def test_record_metadata(param):
    assert isinstance(param.unit, str) and param.unit.strip(), f"{param.name}: empty unit"
    assert param.status in STATUSES, f"{param.name}: status {param.status!r} not in {STATUSES}"
    assert len(param.source) > 0, f"{param.name}: no source"
    unknown = [s for s in param.source if s not in CAT.sources]
    assert not unknown, f"{param.name}: source keys {unknown} not in distributions/sources.yaml"
    assert math.isfinite(param.nominal), f"{param.name}: nominal {param.nominal!r}"


# --------------------------------------------------------------------------------------------- fixed
@pytest.mark.parametrize("dist", FIXED)
def test_fixed_ppf_is_the_value_everywhere(dist):
    value = dist.params["value"]
    u = np.array([0.0, 1e-12, 0.25, 0.5, 0.75, 1 - 1e-12, 1.0])
    np.testing.assert_array_equal(dist.ppf(u), np.full(u.shape, value))
    assert dist.central == value == dist.mean() == dist.median()
    assert dist.std() == 0.0
    assert dist.support() == (value, value)
    np.testing.assert_array_equal(dist.cdf([value - 1e-9, value, value + 1]), [0.0, 1.0, 1.0])


# --------------------------------------------------------------------------------------------- random
U_GRID = np.unique(np.concatenate([
    np.logspace(-6, -2, 41), np.linspace(0.01, 0.99, 197), 1.0 - np.logspace(-6, -2, 41)]))


@pytest.mark.parametrize("dist", RANDOM)
def test_ppf_cdf_round_trip(dist):
    back = dist.cdf(dist.ppf(U_GRID))
    err = np.abs(back - U_GRID)
    tol = ROUNDTRIP_RTOL * np.maximum(U_GRID, 1 - U_GRID) + 1e-12
    worst = int(np.argmax(err / tol))
    assert np.all(err <= tol), (f"{dist.describe()}: cdf(ppf(u)) != u, worst at u={U_GRID[worst]:.3g}: "
                                f"{back[worst]!r} (error {err[worst]:.3g}, tolerance {tol[worst]:.3g})")


@pytest.mark.parametrize("dist", RANDOM)
def test_ppf_monotone_finite_within_support(dist):
    u = np.concatenate([[1e-15, 1e-12, 1e-9], np.linspace(1e-6, 1 - 1e-6, 20_001), [1 - 1e-9, 1 - 1e-12]])
    x = dist.ppf(u)
    assert np.all(np.isfinite(x)), f"{dist.describe()}: non-finite ppf at u={u[~np.isfinite(x)][:3]}"
    dx = np.diff(x)
    assert np.all(dx >= 0), f"{dist.describe()}: ppf decreases at u={u[1:][dx < 0][:3]}"
    lo, hi = dist.support()
    assert lo <= x.min() and x.max() <= hi, f"{dist.describe()}: ppf leaves support [{lo}, {hi}]"
    assert x[0] < x[-1], f"{dist.describe()}: a random distribution must spread"


@pytest.mark.parametrize("dist", BOUNDED_RANDOM)
def test_bounded_ppf_reaches_its_bounds(dist):
    low, high = dist.params["low"], dist.params["high"]
    width = high - low
    assert dist.support() == pytest.approx((low, high), rel=1e-12, abs=1e-300)
    ends = dist.ppf(np.array([0.0, 1.0]))
    np.testing.assert_allclose(ends, [low, high], rtol=1e-12, err_msg=dist.describe())
    tiny = 1e-12
    x_lo, x_hi = dist.ppf(np.array([tiny, 1 - tiny]))
    if dist.family == "truncnormal":
        # density at a bound can be tiny when the bound is far in a tail; only check ordering there
        assert low <= x_lo < x_hi <= high
    else:
        assert 0 <= x_lo - low <= 0.01 * width, f"{dist.describe()}: ppf({tiny}) = {x_lo!r}, low = {low!r}"
        assert 0 <= high - x_hi <= 0.01 * width, f"{dist.describe()}: ppf(1-{tiny}) = {x_hi!r}, high = {high!r}"


def _check_mode(dist: Distribution) -> None:
    low, mode, high = dist.params["low"], dist.params["mode"], dist.params["high"]
    width = high - low
    pdf = dist.frozen.pdf
    peak = pdf(mode)
    assert np.isfinite(peak) and peak > 0, f"{dist.describe()}: pdf(mode) = {peak!r}"
    for delta in width * np.array([1e-4, 1e-3, 1e-2, 1e-1]):
        for x in (mode - delta, mode + delta):
            if low <= x <= high:
                assert pdf(x) <= peak * (1 + 1e-12), f"{dist.describe()}: pdf({x:g}) > pdf(mode={mode:g})"
    grid = np.linspace(low, high, 2001)
    arg = grid[int(np.argmax(pdf(grid)))]
    assert abs(arg - mode) <= width / 2000 + 1e-12 * abs(mode), (
        f"{dist.describe()}: pdf maximal at {arg:g}, declared mode {mode:g}")


@pytest.mark.parametrize("dist", RANDOM)
def test_declared_parameters_are_reproduced(dist):
    p, fam = dist.params, dist.family
    rel = 1e-9
    if fam in ("pert", "triangular"):
        _check_mode(dist)
        lo, m, hi = p["low"], p["mode"], p["high"]
        if fam == "pert":
            lam = p["lambda"]
            assert dist.mean() == pytest.approx((lo + lam * m + hi) / (lam + 2), rel=rel)  # Vose (2008)
        else:
            assert dist.mean() == pytest.approx((lo + m + hi) / 3, rel=rel)
    elif fam == "lognormal":
        assert dist.median() == pytest.approx(p["median"], rel=rel)
        one_sigma = dist.ppf(np.array([stats.norm.cdf(1.0)]))[0]  # u = 0.8413...
        assert one_sigma / p["median"] == pytest.approx(p["gsd"], rel=rel)
        assert dist.ppf(np.array([0.5]))[0] == pytest.approx(p["median"], rel=rel)
    elif fam == "uniform":
        assert dist.support() == pytest.approx((p["low"], p["high"]), rel=1e-12)
        assert dist.mean() == pytest.approx(0.5 * (p["low"] + p["high"]), rel=rel)
        assert dist.std() == pytest.approx((p["high"] - p["low"]) / math.sqrt(12), rel=rel)
    elif fam == "loguniform":
        assert dist.support() == pytest.approx((p["low"], p["high"]), rel=1e-12)
        assert dist.median() == pytest.approx(math.sqrt(p["low"] * p["high"]), rel=rel)
        # uniform in log space: the quartiles are equally spaced in log
        q = np.log(dist.ppf(np.array([0.25, 0.5, 0.75])))
        assert q[1] - q[0] == pytest.approx(q[2] - q[1], rel=1e-7)
    elif fam == "normal":
        assert dist.mean() == pytest.approx(p["mean"], rel=rel)
        assert dist.std() == pytest.approx(p["sd"], rel=rel)
        assert dist.support() == (-math.inf, math.inf)
    elif fam == "truncnormal":
        assert dist.support() == pytest.approx((p["low"], p["high"]), rel=1e-12)
        x = dist.ppf(np.linspace(1e-9, 1 - 1e-9, 1001))
        assert p["low"] <= x.min() and x.max() <= p["high"]
        # same shape as the parent normal inside the bounds
        xs = np.linspace(p["low"], p["high"], 7)[1:-1]
        ratio = dist.frozen.pdf(xs) / stats.norm(p["mean"], p["sd"]).pdf(xs)
        np.testing.assert_allclose(ratio, ratio[0], rtol=1e-9)
    else:  # pragma: no cover - a new family needs its own check
        pytest.fail(f"no declared-parameter check for family {fam!r}")


@lru_cache(maxsize=None)
def _sample_mean(spec_key: tuple) -> float:
    dist = make_distribution(dict(spec_key))
    u = np.random.default_rng(SEED).random(N_SAMPLES)
    return float(dist.ppf(u).mean())


@pytest.mark.parametrize("dist", RANDOM)
def test_sample_mean_within_four_standard_errors(dist):
    key = tuple(sorted(dist.to_spec().items()))  # identical HSL specs are sampled once
    mean = _sample_mean(key)
    se = dist.std() / math.sqrt(N_SAMPLES)
    assert math.isfinite(dist.mean()) and se > 0
    assert abs(mean - dist.mean()) <= 4 * se, (
        f"{dist.describe()}: sample mean {mean:.6g} vs mean() {dist.mean():.6g}, "
        f"{abs(mean - dist.mean()) / se:.1f} standard errors (allowed 4)")


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


@pytest.mark.parametrize("dist", RANDOM + FIXED)
def test_central_follows_the_nominal_rule(dist):
    assert dist.central == pytest.approx(_central_rule(dist), rel=1e-12), dist.describe()
    # cross-checks against scipy where the rule is a property of the distribution
    if dist.family in ("lognormal", "uniform", "loguniform"):
        assert dist.central == pytest.approx(dist.median(), rel=1e-9)
    if dist.family == "normal":
        assert dist.central == pytest.approx(dist.mean(), rel=1e-12)


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
    return raw


RAW = _raw_records()


@pytest.mark.parametrize("pid, param", [pytest.param(i, p, id=i) for i, p, d, k in ALL if p is not None])
def test_nominal_defaults_to_central(pid, param):
    """A record without an explicit nominal takes its distribution's central value; an HSL quantity's nominal is
    the published typical value."""
    if pid.startswith("hsl:"):
        if param.scenarios is not None:
            assert param.nominal == param.scenarios["typical"]
        else:  # low == typical == high: a fixed value
            assert param.nominal == param.distribution.central
        return
    raw = RAW.get(pid)
    if raw is not None and "nominal" in raw:
        assert param.nominal == pytest.approx(as_number(raw["nominal"], "nominal"), rel=1e-15)
    else:
        assert param.nominal == param.distribution.central, f"{pid}: nominal {param.nominal} != central"


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


@pytest.mark.parametrize("param", RECORDS)
def test_shipped_specs_round_trip(param):
    d = param.distribution
    again = make_distribution(d.to_spec())
    assert again.to_spec() == d.to_spec()
    assert again.central == d.central


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
