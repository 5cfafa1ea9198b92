"""A choice of method as an uncertain input: exact moments and indices of a mixture against the law of total
variance, sampling that does not depend on chunking or streaming, and ``methods.csv`` (each method alone and the
mixture, on common random numbers)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.helpers import KWS
from uncertainty_footprint.analysis.engine import EngineOptions
from uncertainty_footprint.analysis.exact import exact_analysis
from uncertainty_footprint.analysis.method_runs import (METHOD_COLUMNS, MIXTURE, method_choices, method_table,
                                                        methods_of, totals_by_method)
from uncertainty_footprint.analysis.propagate import run_monte_carlo
from uncertainty_footprint.api import run
from uncertainty_footprint.model.experiment import load_experiment

WEIGHTS = {"pirson_bol": 1.0, "act_die_area": 2.0, "boavizta_tide": 1.0}


@pytest.fixture(scope="module")
def mixed():
    return load_experiment(KWS).with_methods(processing=WEIGHTS, truncation={"none": 1, "company_reports": 1})


def _component_moments(model, name):
    ex = exact_analysis(model)
    return ex.moments(ex.components[model.component_names.index(name)])


def test_exact_moments_of_a_mixture_follow_the_law_of_total_variance(mixed):
    w = np.array(list(WEIGHTS.values())) / sum(WEIGHTS.values())
    alone = [_component_moments(load_experiment(KWS).with_methods(processing=m).model, "processing")
             for m in WEIGHTS]
    m_k = np.array([m for m, _ in alone])
    v_k = np.array([v for _, v in alone])
    mean = float(w @ m_k)
    var = float(w @ (v_k + m_k ** 2) - mean ** 2)
    got_mean, got_var = _component_moments(mixed.model, "processing")
    assert got_mean == pytest.approx(mean, rel=1e-12)
    assert got_var == pytest.approx(var, rel=1e-10)


def test_exact_first_order_index_of_the_choice_is_the_variance_of_the_method_means():
    exp = load_experiment(KWS).with_methods(processing=WEIGHTS)
    w = np.array(list(WEIGHTS.values())) / sum(WEIGHTS.values())
    # E[total | method k] is the mean total of the experiment with method k alone (the choice is independent of
    # every other input); end of life, a share of the embodied footprint, moves with the processing too
    t_k = np.array([exact_analysis(load_experiment(KWS).with_methods(processing=m).model).total.mean
                    for m in WEIGHTS])
    ex = exact_analysis(exp.model)
    s1 = float(w @ (t_k - w @ t_k) ** 2) / ex.total.variance
    table = ex.indices(("parameter",))["parameter"]
    assert float(table["S1"].sel(parameter="method:processing")) == pytest.approx(s1, rel=1e-9)
    # the choice interacts with the parameters of the methods it picks: its total effect is larger
    assert float(table["ST"].sel(parameter="method:processing")) > s1


def test_monte_carlo_agrees_with_the_exact_mixture(mixed):
    ds = run_monte_carlo(mixed.model, n=1 << 15, design="sobol", seed=11)
    ex = exact_analysis(mixed.model)
    mean, var = ex.total.mean, ex.total.variance
    sample = ds["total"].values
    assert sample.mean() == pytest.approx(mean, abs=4 * np.sqrt(var / sample.size))
    assert sample.var() == pytest.approx(var, rel=0.05)
    # the choice is drawn with its weights
    picked = ds["inputs"].sel(parameter="method:processing").values
    shares = np.bincount(picked.astype(int), minlength=3) / picked.size
    assert shares == pytest.approx(np.array(list(WEIGHTS.values())) / 4, abs=2e-3)


def test_the_choice_is_the_same_whatever_the_chunking(mixed):
    a = run_monte_carlo(mixed.model, n=5000, design="lhs", seed=3, chunk_size=5000)
    b = run_monte_carlo(mixed.model, n=5000, design="lhs", seed=3, chunk_size=777, threads=2)
    assert a["inputs"].values.tobytes() == b["inputs"].values.tobytes()
    assert a["footprint"].values.tobytes() == b["footprint"].values.tobytes()


def test_a_streamed_run_with_methods_gives_the_in_memory_numbers(mixed, tmp_path):
    memory = run(mixed, samples=3000, seed=4, design="mc", sobol=False)
    run(mixed, samples=3000, seed=4, design="mc", sobol=False, out=tmp_path / "s", figures=False,
        engine=EngineOptions(stream=True, scheduler="synchronous", task_rows=1000, store="footprint"))
    with xr.open_dataset(tmp_path / "s" / "results.nc") as ds:
        assert ds["total"].values.tobytes() == memory.results["total"].values.tobytes()
    table = pd.read_csv(tmp_path / "s" / "methods.csv")
    pd.testing.assert_frame_equal(table[table["method"] != MIXTURE].reset_index(drop=True),
                                  memory.methods[memory.methods["method"] != MIXTURE].reset_index(drop=True),
                                  check_exact=False, rtol=1e-5)  # methods.csv: 6 significant digits


def test_method_table_has_every_method_alone_and_the_mixture(mixed):
    res = run(mixed, samples=4000, seed=8, sobol=False)
    table = res.methods
    assert tuple(table.columns) == METHOD_COLUMNS
    assert methods_of(mixed.model) == ["pirson_bol", "act_die_area", "boavizta_tide", "company_reports"]
    assert list(dict.fromkeys(table["method"])) == methods_of(mixed.model) + [MIXTURE]
    names = list(res.summary.index)
    for method, rows in table.groupby("method", sort=False):
        assert list(rows["name"]) == names  # one row per component, stage and the total
    mixture = table[table["method"] == MIXTURE].set_index("name")
    pd.testing.assert_frame_equal(mixture[["mean", "median", "p5", "p95"]], res.summary[["mean", "median", "p5",
                                                                                         "p95"]], check_names=False)
    # a method alone is the experiment with that method only, on the same draws (common random numbers)
    for method, setting in [("act_die_area", {"processing": "act_die_area"}),
                            ("company_reports", {"truncation": "company_reports"})]:
        alone = run(load_experiment(KWS).with_methods(**setting), samples=4000, seed=8, sobol=False)
        got = table[table["method"] == method].set_index("name").loc[alone.summary.index]
        np.testing.assert_allclose(got["mean"], alone.summary["mean"], rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(got["p95"], alone.summary["p95"], rtol=1e-12, atol=1e-15)
    totals = totals_by_method(table)
    assert totals.loc["company_reports", "median"] > 1.5 * totals.loc["pirson_bol", "median"]


def test_no_methods_no_table():
    exp = load_experiment(KWS)
    assert method_choices(exp.model) == {}
    res = run(exp, samples=500, sobol=False)
    assert res.methods is None
    assert method_table(exp.model, res.summary, n=500, design="lhs", seed=1) is None


def test_method_choice_is_ranked_among_the_hotspots(mixed):
    res = run(mixed, samples=2000, sobol=False)
    shapley = res.exact["parameter"]["shapley"].to_series().sort_values(ascending=False)
    assert "method:truncation" in list(shapley.index[:3])
    assert shapley.sum() == pytest.approx(1.0, abs=1e-9)
