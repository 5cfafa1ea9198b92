"""The balance of a run: P(offset), payback time, results variables, exact indices of the net balance."""

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tests.helpers import EXPERIMENTS_DIR, assert_shapley_near_exact
from uncertainty_footprint.analysis import payback as ba
from uncertainty_footprint.analysis.exact import sampled_coverage
from uncertainty_footprint.analysis.hotspots import hotspot_analysis
from uncertainty_footprint.analysis.propagate import run_monte_carlo
from uncertainty_footprint.model.experiment import load_experiment
from uncertainty_footprint.inputs.distributions import make_distribution
from uncertainty_footprint.model.experiment import parse_experiment
from uncertainty_footprint.inputs.parameters import Parameter, ParameterSet
from uncertainty_footprint.model.benefit import build_balance
from uncertainty_footprint.model.builder import Component, LifecycleModel, build_model

SOURCE = {"source": "prakash_2023", "status": "assumed"}


def balance_of(catalog, benefit, random_footprint):
    """A one-component footprint [kg CO2-eq] (``random_footprint``), lifetime 3 yr, grid 0.5 kg/kWh, ``benefit``."""
    def fixed(name, value, unit):
        return Parameter(name, unit, make_distribution({"family": "fixed", "value": value}), value, "assumed")

    params = ParameterSet([Parameter("device_footprint", "kg CO2-eq", make_distribution(random_footprint), 1.0,
                                     "assumed"), fixed("lifetime", 3.0, "yr"),
                           fixed("grid_carbon_intensity", 0.5, "kg CO2-eq/kWh")])
    model = LifecycleModel((Component("device", "manufacturing", "value", {"value": "device_footprint"}),), params)
    return build_balance(parse_experiment({"name": "tiny", "benefit": benefit}, "tiny.yaml"), catalog, model)


def _run(b, n=4000, design="lhs", seed=7):
    return run_monte_carlo(b.footprint, n=n, design=design, seed=seed)


@pytest.mark.parametrize("saved, offset", [(1.0, 0.0), (8.0, 1.0)])
def test_fixed_benefit_and_footprint_give_exact_payback_and_p_offset(catalog, saved, offset):
    # footprint 2 kg; benefit saved x 0.5 kg/kWh per year over 3 years
    b = balance_of(catalog, {"saved_energy_per_year": {"distribution": {"family": "fixed", "value": saved},
                                                       "unit": "kWh/yr", **SOURCE}},
                   random_footprint={"family": "uniform", "low": 1.999999, "high": 2.000001})
    res = ba.balance_analysis(b, _run(b, n=64), design="lhs", seed=7)
    np.testing.assert_allclose(res.payback_years, 2.0 / (saved * 0.5), rtol=1e-6)
    assert res.p_offset == offset
    assert res.table.loc["net_balance", "median"] == pytest.approx(2.0 - saved * 0.5 * 3.0, rel=1e-6)


def test_lognormal_benefit_against_a_fixed_footprint_follows_the_lognormal_cdf(catalog):
    median, gsd = 1.0, 2.0  # kg CO2-eq/yr; footprint 2 kg over 3 years: offset when b > 2/3
    b = balance_of(catalog, {"avoided_emissions_per_year": {
        "distribution": {"family": "lognormal", "median": median, "gsd": gsd}, "unit": "kg CO2-eq/yr", **SOURCE}},
        random_footprint={"family": "uniform", "low": 1.999999, "high": 2.000001})
    n = 4000
    res = ba.balance_analysis(b, _run(b, n=n, design="mc"), design="mc", seed=7)
    expected = 1.0 - stats.norm.cdf(math.log((2.0 / 3.0) / median) / math.log(gsd))
    assert abs(res.p_offset - expected) < 4 * math.sqrt(expected * (1 - expected) / n)
    lo, hi = res.table.loc["p_offset", ["p2_5", "p97_5"]]
    assert lo < res.p_offset < hi
    np.testing.assert_allclose(np.median(res.payback_years), 2.0 / median, rtol=0.05)


def test_the_benefit_columns_are_those_of_a_joint_design(catalog):
    """Keyed-by-name designs: the run's footprint columns and the benefit's own columns together are the balance
    model's own Monte Carlo, so net_balance in results.nc is the balance model's total sample by sample."""
    exp = load_experiment(EXPERIMENTS_DIR / "predictive_maintenance.yaml")
    model = build_model(exp, catalog)
    b = build_balance(exp, catalog, model)
    ds = run_monte_carlo(model, n=300, design="mc", seed=11)
    ba.balance_analysis(b, ds, design="mc", seed=11)
    joint = run_monte_carlo(b, n=300, design="mc", seed=11)
    np.testing.assert_allclose(ds["net_balance"].values, joint["total"].values, rtol=1e-12)
    assert ds["net_balance"].attrs["units"] == "kg" and ds["payback_years"].attrs["units"] == "common_year"
    assert ds["fleet_footprint"].attrs["units"] == "t" and "CO2-eq" in ds["fleet_footprint"].attrs["quantity"]
    assert 0.0 <= ds.attrs["p_offset"] <= 1.0
    np.testing.assert_allclose(ds["fleet_footprint"].values, ds["total"].values * ds["fleet_devices"].values / 1e3)


def test_exact_indices_of_the_net_balance_agree_with_the_sampled_ones(catalog):
    b = balance_of(catalog, {"saved_energy_per_year": {"distribution": {"family": "uniform", "low": 1.0, "high": 6.0},
                                                       "unit": "kWh/yr", **SOURCE}},
                   random_footprint={"family": "pert", "low": 1.0, "mode": 2.0, "high": 5.0})
    exact, mean, sd = ba.exact_balance_indices(b, ["parameter", "stage"])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # N = 2^11 is wider than the run's warning threshold
        sampled = hotspot_analysis(b, n_base=2048, seed=1, groupings=["parameter", "stage"])
    for grouping, table in sampled_coverage(exact, sampled).items():
        assert (table["S1_covered"] & table["ST_covered"]).all(), (grouping, table)
    assert exact["stage"].attrs["output"].startswith("net balance")
    assert mean == pytest.approx((1 + 4 * 2 + 5) / 6 - 3.5 * 0.5 * 3.0)  # E[PERT] - E[saved] x grid x lifetime


def test_a_shipped_balance_has_exact_indices_by_stage(catalog):
    exp = load_experiment(EXPERIMENTS_DIR / "smart_building_lighting.yaml")
    b = build_balance(exp, catalog, build_model(exp, catalog))
    exact, mean, sd = ba.exact_balance_indices(b, ["stage"])
    shares = dict(zip(exact["stage"]["group"].values, exact["stage"]["shapley"].values))
    assert set(shares) >= {"benefit", "use+benefit"} and sum(shares.values()) == pytest.approx(1.0)
    assert max(shares, key=shares.get) == "benefit" and sd > 0 and mean < 0


def test_wilson_interval_and_statement():
    assert ba.p_offset_interval(0, 100, 0.95)[0] == pytest.approx(0.0, abs=1e-12)
    assert ba.p_offset_interval(100, 100, 0.95)[1] == pytest.approx(1.0)
    lo, hi = ba.p_offset_interval(50, 100, 0.95)
    assert lo == pytest.approx(0.4038, abs=1e-3) and hi == pytest.approx(0.5962, abs=1e-3)
    text = ba.break_even_statement(np.full(10, 0.5), 1.0, 3.0)
    assert text.startswith("Pays back its own footprint within 6.0 months with 90 % probability")


def test_a_streamed_run_gets_its_balance_from_an_in_memory_design_of_its_kind(catalog):
    exp = load_experiment(EXPERIMENTS_DIR / "predictive_maintenance.yaml")
    b = build_balance(exp, catalog, build_model(exp, catalog))
    in_memory = ba.balance_analysis(b, run_monte_carlo(b.footprint, n=256, design="mc", seed=5), design="mc", seed=5,
                                  groupings=["stage"])
    streamed = ba.balance_analysis(b, None, n=256, design="mc", seed=5, groupings=["stage"])
    pd.testing.assert_frame_equal(in_memory.table, streamed.table)


def test_a_streamed_run_larger_than_its_balance_design_says_so(catalog, tmp_path, capsys):
    from uncertainty_footprint.cli import main
    from uncertainty_footprint.warnings import SubsetWarning

    exp = load_experiment(EXPERIMENTS_DIR / "predictive_maintenance.yaml")
    b = build_balance(exp, catalog, build_model(exp, catalog))
    n = ba.STREAMED_SAMPLES + 1
    with pytest.warns(SubsetWarning, match=f"streamed run of {n} samples .* design of {ba.STREAMED_SAMPLES} rows"):
        result = ba.balance_analysis(b, None, n=n, design="mc", seed=5, groupings=["stage"])
    assert result.net_balance.size == ba.STREAMED_SAMPLES
    out = tmp_path / "pm"
    rc = main(["run", str(EXPERIMENTS_DIR / "predictive_maintenance.yaml"), "--samples", str(n), "--stream",
               "--no-figures", "--no-sobol", "--quiet", "--out", str(out)])
    err = capsys.readouterr().err
    assert rc == 0, err
    lines = [line for line in err.splitlines() if "balance of this streamed run" in line]
    assert len(lines) == 1 and lines[0].startswith("warning: ") and "results.nc holds no per-sample balance" in lines[0]
    assert (out / "balance.csv").exists()


def test_run_and_compare_carry_the_balance():
    import uncertainty_footprint as uf

    paths = [EXPERIMENTS_DIR / "smart_building_lighting.yaml", EXPERIMENTS_DIR / "predictive_maintenance.yaml"]
    comp = uf.compare(*paths, samples=200, seed=3)
    run = comp.runs[0]
    assert run.balance is not None and "net_balance" in run.results and run.balance.payback_sobol is None
    np.testing.assert_array_equal(run.results["net_balance"].values, run.balance.net_balance)
    a, b = comp.runs[0].balance.net_balance, comp.runs[1].balance.net_balance
    assert comp.differences["p_a_saves_more"].iloc[0] == pytest.approx(np.mean(a < b))


def test_the_balance_shapley_estimator_finds_the_exact_effects_of_independent_inputs(catalog):
    """The estimator behind the balance's hotspots with correlated inputs, on the shipped balance without them:
    every component and stage effect within twice its bootstrap half-width of the exact Shapley effect (the
    net balance has a heavy tail: saved energy x grid intensity x lifetime)."""
    exp = load_experiment(EXPERIMENTS_DIR / "smart_building_lighting.yaml")
    b = build_balance(exp, catalog, build_model(exp, catalog))
    exact, _, _ = ba.exact_balance_indices(b, ["component", "stage"])
    sampled = ba.balance_shapley(b, permutations=20_000, seed=2, bootstrap=300, groupings=["component", "stage"])
    for grouping in ("component", "stage"):
        ds = sampled[grouping]
        assert_shapley_near_exact(exact[grouping], ds, floor=0.01, max_half_width=0.25)
        assert ds.attrs["output"].startswith("net balance")
        assert "variance of the net balance" in ds["shapley"].attrs["long_name"]
