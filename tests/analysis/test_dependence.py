"""Correlated inputs end to end: an experiment's ``correlations`` through the copula, the run and its outputs;
Shapley effects against closed forms and against the exact effects of independent inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import xarray as xr
import yaml

from tests.helpers import EXPERIMENTS_DIR, KWS, assert_shapley_near_exact
from uncertainty_footprint.analysis.dependence import (CORRELATION_COLUMNS, SHAPLEY_COLUMNS, correlation_table,
                                                      independent_model, shapley_hotspots)
from uncertainty_footprint.analysis.engine import EngineOptions
from uncertainty_footprint.analysis.exact import DependentInputsError, exact_analysis, exact_indices
from uncertainty_footprint.analysis.propagate import run_monte_carlo
from uncertainty_footprint.analysis.shapley import shapley_linear_gaussian
from uncertainty_footprint.api import run
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.inputs.copula import achieved_spearman, spearman_to_pearson
from uncertainty_footprint.model.experiment import load_experiment, parse_experiment

CORRELATED = EXPERIMENTS_DIR / "kws_correlated.yaml"
BLOCKS = ("actuators", "casing", "connectivity", "memory", "others", "pcb", "power_supply", "processing",
          "security", "sensing", "transport", "user_interface")


def _kws(**extra):
    data = yaml.safe_load(KWS.read_text())
    data.update(extra)
    return parse_experiment(data, "kws_test.yaml")


def _three_normals(rho_s: float, sd=(1.0, 1.0, 1.0)):
    """Total = X1 + X2 + X3 (the components casing, pcb, others as normal distributions, everything else 0),
    with Spearman rho_s between X2 and X3."""
    comps = {c: {"family": "fixed", "value": 0.0} for c in ("ml_training", "use_stage", "end_of_life", *BLOCKS)}
    comps.update({c: {"family": "truncnormal", "mean": 10.0, "sd": s, "low": 0.0, "high": 20.0}  # 10 sd: normal
                  for c, s in zip(("casing", "pcb", "others"), sd)})
    return parse_experiment({"name": "three", "components": comps, "correlations": [["pcb", "others", rho_s]],
                             "shapley": {"permutations": 4000}}, "three.yaml")


@pytest.mark.parametrize("rho_s", [0.5, -0.4])
def test_sum_of_three_normals_gives_the_closed_form(rho_s):
    """Y = X1 + X2 + X3, standard normal, correlation r between X2 and X3: Shapley (1, 1+r, 1+r) / (3 + 2r)
    (Iooss & Prieur 2019); a Gaussian copula of normal marginals has Pearson r = 2 sin(pi rho_s / 6)."""
    exp = _three_normals(rho_s)
    r = float(spearman_to_pearson(rho_s))
    expected = np.array([1.0, 1.0 + r, 1.0 + r]) / (3.0 + 2.0 * r)
    # the closed form is what the enumeration of the linear Gaussian model gives too
    exact, _ = shapley_linear_gaussian([1, 1, 1], [[1, 0, 0], [0, 1, r], [0, r, 1]])
    np.testing.assert_allclose(exact, expected, rtol=1e-12)
    res = run(exp, samples=20_000, seed=5)
    ds = res.dependence.shapley["parameter"].sel(parameter=["casing_footprint", "pcb_footprint", "others_footprint"])
    np.testing.assert_allclose(ds["shapley"].values, expected, atol=0.02)
    assert np.all(ds["conf_low"].values <= expected + 0.005) and np.all(expected - 0.005 <= ds["conf_high"].values)
    # the sum's variance is 3 + 2r: the copula keeps the marginals and gives the correlation
    assert float(res.summary.loc["total", "sd"]) ** 2 == pytest.approx(3 + 2 * r, rel=0.03)
    achieved = res.dependence.correlations.iloc[0]
    assert achieved["a"] == "pcb_footprint" and achieved["achieved"] == pytest.approx(rho_s, abs=0.02)


def test_independent_inputs_give_the_exact_shapley_effects():
    """Without correlations the estimator estimates the exact Shapley effects (Owen 2014): every estimate within
    twice its bootstrap half-width of the exact value (the total has a heavy lognormal tail: training runs,
    gsd 3, so the intervals are those of a heavy-tailed output)."""
    model = load_experiment(KWS).model
    exact = exact_indices(model)
    sampled = shapley_hotspots(model, seed=2, permutations=20_000, groupings=("component", "stage"))
    for grouping in ("component", "stage"):
        assert_shapley_near_exact(exact[grouping], sampled[grouping], floor=0.005, max_half_width=0.03)


@pytest.mark.parametrize("design", ["mc", "lhs", "sobol"])
def test_achieved_rank_correlations_are_within_0_02_at_1e5_samples(design):
    model = load_experiment(CORRELATED).model
    table = correlation_table(model, n=100_000, design=design, seed=7)
    assert list(table.columns) == list(CORRELATION_COLUMNS)
    np.testing.assert_allclose(table["achieved"], table["target"], atol=0.02)
    # and on the physical values the model sees
    ds = run_monte_carlo(model, n=100_000, design=design, seed=7)
    corr = model.parameters.correlations
    x = ds["inputs"].sel(parameter=list(corr.names)).values
    got = achieved_spearman(x)
    for a, b, rho in corr.pairs:
        assert got[corr.names.index(a), corr.names.index(b)] == pytest.approx(rho, abs=0.02)


def test_marginals_are_unchanged_by_the_copula():
    model = load_experiment(CORRELATED).model
    a = run_monte_carlo(model, n=20_000, design="lhs", seed=2)
    b = run_monte_carlo(independent_model(model), n=20_000, design="lhs", seed=2)
    for name in model.parameters.correlations.names:
        x = np.sort(a["inputs"].sel(parameter=name).values)
        y = np.sort(b["inputs"].sel(parameter=name).values)
        # a Latin hypercube column stays stratified through the copula only approximately: the same law
        assert np.quantile(x, [0.05, 0.5, 0.95]) == pytest.approx(np.quantile(y, [0.05, 0.5, 0.95]), rel=0.02)
    for name in set(model.parameters.random_names) - set(model.parameters.correlations.names):
        assert a["inputs"].sel(parameter=name).values.tobytes() == b["inputs"].sel(parameter=name).values.tobytes()


def test_same_bytes_whatever_the_chunking_and_streaming(tmp_path):
    exp = load_experiment(CORRELATED)
    model = exp.model
    for design in ("mc", "sobol"):
        x = run_monte_carlo(model, n=6000, design=design, seed=4, chunk_size=6000)
        y = run_monte_carlo(model, n=6000, design=design, seed=4, chunk_size=701, threads=2)
        assert x["footprint"].values.tobytes() == y["footprint"].values.tobytes()
    memory = run(exp, samples=6000, seed=4, design="mc", sobol=False)
    streamed = run(exp, samples=6000, seed=4, design="mc", sobol=False, out=tmp_path / "s", figures=False,
                   engine=EngineOptions(stream=True, scheduler="threads", task_rows=2048))
    with xr.open_dataset(tmp_path / "s" / "results.nc") as ds:
        assert ds["total"].values.tobytes() == memory.results["total"].values.tobytes()
    assert streamed.dependence.correlations.equals(memory.dependence.correlations)


def test_a_correlated_run_writes_and_prints_its_dependence(tmp_path):
    out = tmp_path / "out"
    res = run(CORRELATED, samples=3000, out=out, figures=False)
    assert res.exact is None and res.sobol is None  # no Sobol' indices with dependent inputs
    with pytest.raises(ConfigError, match="sampled Sobol' indices need independent inputs"):
        run(CORRELATED, samples=300, sobol=True)
    table = pd.read_csv(out / "shapley.csv")
    assert tuple(table.columns) == SHAPLEY_COLUMNS
    assert set(table["grouping"]) == {"parameter", "component", "stage"}
    for grouping, rows in table.groupby("grouping"):
        assert rows["shapley"].sum() == pytest.approx(1.0, abs=1e-5)  # 6 significant digits in the file
        assert (rows["conf_low"] <= rows["shapley"]).all() and (rows["shapley"] <= rows["conf_high"]).all()
    tree = xr.open_datatree(out / "shapley.nc")
    assert tree["by_component"].attrs["n_permutations"] == 10_000
    assert tree.attrs["design"] == "shapley permutations" and tree.attrs["experiment"] == res.experiment.name
    pairs = pd.read_csv(out / "correlations.csv", keep_default_na=False)
    assert tuple(pairs.columns) == CORRELATION_COLUMNS and len(pairs) == 4
    assert pairs.loc[0, "source"] == "pirson_bol_2021,prakash_2023" and pairs.loc[2, "reason"].startswith("assumed")
    # the interval widens with the positive mass correlations
    without, with_ = res.dependence.without.loc["total"], res.summary.loc["total"]
    assert with_["p95"] - with_["p5"] > without["p95"] - without["p5"]
    text = res.experiment.name
    from uncertainty_footprint.reports.terminal import result_report

    printed = result_report(res)
    assert "Correlated inputs" in printed and "Shapley effects of the total's variance" in printed and text in printed
    assert "without them (same design and seed)" in " ".join(printed.split())


def test_the_exact_decomposition_refuses_dependent_inputs():
    model = load_experiment(CORRELATED).model
    with pytest.raises(DependentInputsError, match="correlated"):
        exact_analysis(model)
    assert exact_analysis(independent_model(model)).total.variance > 0


@pytest.mark.parametrize("correlations,key,words", [
    ([["li_ion_battery_mass", "no_such_thing", 0.3]], "correlations[0]", "unknown parameter 'no_such_thing'"),
    ([["li_ion_battery_mass", "shipped_mass", 1.0]], "correlations[0]", "-1 < rho < 1"),
    ([["li_ion_battery_mass", "shipped_mass", 0.3], ["shipped_mass", "li_ion_battery_mass", 0.2]],
     "correlations[1]", "already given in correlations[0]"),
    ([["li_ion_battery_mass", "shipped_mass", 0.9], ["casing_abs_mass", "shipped_mass", 0.9],
      ["li_ion_battery_mass", "casing_abs_mass", -0.9]], "correlations", "not positive definite"),
    ([{"between": ["li_ion_battery_mass", "shipped_mass"], "rho": 0.3, "source": "nobody_2099"}],
     "correlations[0].source", "unknown source 'nobody_2099'"),
    ([{"between": ["li_ion_battery_mass", "shipped_mass"], "rho": 0.3, "colour": "red"}],
     "correlations[0].colour", "unknown key"),
    ([["plane_distance", "ml_training_footprint", 0.3]], "correlations[0]", "unknown parameter"),
])
def test_bad_correlations_are_refused_with_the_key_path(correlations, key, words):
    with pytest.raises(ConfigError) as err:
        _kws(correlations=correlations)
    assert err.value.path == key and words in err.value.message


def test_conflicting_pairs_are_named():
    with pytest.raises(ConfigError) as err:
        _kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.9], ["casing_abs_mass", "shipped_mass", 0.9],
                           ["li_ion_battery_mass", "casing_abs_mass", -0.9]])
    for pair in ("(li_ion_battery_mass, shipped_mass)", "(casing_abs_mass, shipped_mass)",
                 "(li_ion_battery_mass, casing_abs_mass)"):
        assert pair in err.value.message


def test_sampled_sobol_and_a_method_choice_are_refused_with_correlations():
    with pytest.raises(ConfigError, match="sobol.method: sampled Sobol' indices need independent inputs"):
        _kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.3]], sobol={"method": "sampled"})
    with pytest.raises(ConfigError, match="unknown parameter 'method:processing'"):
        _kws(correlations=[["method:processing", "shipped_mass", 0.3]],
             methods={"processing": {"pirson_bol": 1, "act_die_area": 1}})


def test_a_component_given_as_a_distribution_is_named_as_the_component():
    exp = _kws(components={"casing": {"family": "uniform", "low": 0.2, "high": 0.4}},
               correlations=[["casing", "li_ion_battery_mass", 0.5]])
    assert exp.model.parameters.correlations.names == ("casing_footprint", "li_ion_battery_mass")


def test_correlations_change_the_model_fingerprint():
    plain = load_experiment(KWS).model.fingerprint()
    correlated = _kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.3]]).model.fingerprint()
    other = _kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.4]]).model.fingerprint()
    assert len({plain, correlated, other}) == 3


def test_a_benefit_shares_the_correlated_inputs_of_the_footprint():
    data = yaml.safe_load((EXPERIMENTS_DIR / "smart_building_lighting.yaml").read_text())
    data["correlations"] = [["lifetime", "grid_carbon_intensity", 0.6]]
    res = run(parse_experiment(data, "sbl.yaml"), samples=4000, seed=2)
    ds = res.results
    life = ds["inputs"].sel(parameter="lifetime").values
    grid = ds["inputs"].sel(parameter="grid_carbon_intensity").values
    assert achieved_spearman(np.column_stack([life, grid]))[0, 1] == pytest.approx(0.6, abs=0.03)
    # the benefit is valued with the same draws: the avoided emissions grow with both
    avoided = ds["total"].values - ds["net_balance"].values
    assert achieved_spearman(np.column_stack([avoided, life * grid]))[0, 1] > 0.5
    assert res.balance.exact is None and res.balance.payback_sobol is None
    from uncertainty_footprint.reports.payback_report import balance_context, balance_lines

    # the balance's hotspots are the Shapley effects of the net balance, with the correlations
    shapley = res.balance.shapley
    assert set(shapley) == {"parameter", "component", "stage"}
    for ds in shapley.values():
        assert float(ds["shapley"].sum()) == pytest.approx(1.0, abs=1e-12)
        assert ds.attrs["output"].startswith("net balance") and ds.attrs["seed"] == 2  # the run's seed
    stage = shapley["stage"]["shapley"].to_series()
    assert set(stage.nlargest(2).index) == {"benefit", "use+benefit"}  # saved energy; lifetime and grid (shared)
    text = " ".join(balance_lines(res.balance))
    assert "Net balance: Shapley effects by component: " in text and "not computed" not in text
    titles = [h["title"] for h in balance_context(res.balance)["hotspots"]]
    assert titles == ["Net balance: Shapley effects by component", "Net balance: Shapley effects by stage",
                      "Net balance: Shapley effects, top parameters"]
    # without hotspots (sobol.enabled: false) the page says why there are none
    data["sobol"] = {"enabled": False}
    res = run(parse_experiment(data, "sbl.yaml"), samples=1000, seed=2)
    assert res.balance.shapley is None
    assert "switched off" in " ".join(balance_lines(res.balance))


def test_the_inputs_of_the_training_model_and_of_methods_can_be_correlated():
    exp = _kws(training={"model": "energy"}, methods={"processing": {"pirson_bol": 1, "act_die_area": 1}},
               correlations=[["training_runs", "training_pue", 0.5], ["act_fab_yield", "act_fab_carbon_intensity", -0.3]])
    assert set(exp.model.parameters.correlations.names) == {"training_runs", "training_pue", "act_fab_yield",
                                                             "act_fab_carbon_intensity"}
    assert exp.published_model.parameters.correlations is None  # the deterministic reproduction has no sampling


def test_sobol_level_and_seed_are_those_of_the_shapley_estimator():
    exp = _kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.6]], sobol={"conf_level": 0.9, "seed": 7},
               shapley={"permutations": 500, "bootstrap": 200})
    assert exp.spec.sobol.method == "auto"
    res = run(exp, samples=2000)
    ds = res.indices("stage", "shapley")
    assert ds.attrs["conf_level"] == 0.9 and ds.attrs["seed"] == 7 and ds.attrs["n_permutations"] == 500
    # the run without the correlations uses the run's own seed, not the estimator's
    other = run(_kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.6]], sobol={"seed": 8},
                     shapley={"permutations": 500, "bootstrap": 200}), samples=2000)
    pd.testing.assert_frame_equal(res.dependence.without, other.dependence.without)
    assert res.hotspots("stage").columns.tolist() == ["shapley", "conf_low", "conf_high"]
    with pytest.raises(ConfigError, match="second-order Sobol' indices need independent inputs"):
        _kws(correlations=[["li_ion_battery_mass", "shipped_mass", 0.6]], sobol={"second_order": True})


def test_a_shapley_section_without_correlations_and_a_bad_reason_are_refused():
    with pytest.raises(ConfigError, match="declares none"):
        _kws(shapley={"permutations": 500})
    for reason in ("a\u2028b", "x" * 301):
        with pytest.raises(ConfigError, match=r"correlations\[0\]\.reason: must be one line of printable text"):
            _kws(correlations=[{"between": ["li_ion_battery_mass", "shipped_mass"], "rho": 0.3, "reason": reason}])


def test_exports_keep_or_refuse_the_dependence():
    from uncertainty_footprint.analysis.hotspots import hotspot_analysis
    from uncertainty_footprint.errors import DependentInputsError
    from uncertainty_footprint.export import salib_problem, stats_arrays

    with pytest.raises(ConfigError, match="SALib's samplers draw independent inputs"):
        salib_problem(CORRELATED)
    dicts = stats_arrays(CORRELATED, unsupported="skip")
    assert "correlates it with li_ion_battery_mass (Spearman 0.6)" in dicts["shipped_mass"]["note"]
    assert "note" not in dicts["pcb_area"]
    with pytest.raises(DependentInputsError, match="need independent inputs"):
        hotspot_analysis(load_experiment(CORRELATED).model, n_base=64, seed=1)
    pytest.importorskip("openturns")
    from uncertainty_footprint.export import openturns

    joint = openturns(CORRELATED)
    names = list(joint.getDescription())
    sample = np.array(joint.getSample(20_000))
    i, j = names.index("li_ion_battery_mass"), names.index("shipped_mass")
    assert achieved_spearman(sample[:, [i, j]])[0, 1] == pytest.approx(0.6, abs=0.03)
