"""Exports round-trip: SALib's own analyses on the exported problem, stats_arrays and OpenTURNS distributions
against the package's, ArviZ on a run."""

from __future__ import annotations

import math

import numpy as np
import pytest

import uncertainty_footprint as uf
from uncertainty_footprint.errors import ConfigError


@pytest.fixture(scope="module")
def kws():
    return uf.load_experiment("kws")


@pytest.fixture(scope="module")
def parameters(kws):
    return kws.check().parameters


@pytest.fixture(scope="module")
def exact(kws):
    return uf.run(kws, samples=100, seed=1, sobol=False)


def test_salib_sobol_on_the_export_agrees_with_the_exact_indices(kws, exact):
    sp = uf.export.salib_problem(kws)
    assert sp["dists"].count("lognorm") == 25 and len(sp["transformed"]) == 25  # PERT through our inverse CDF
    sp.sample_sobol(512, calc_second_order=False, seed=11).evaluate().analyze_sobol(calc_second_order=False,
                                                                                     seed=11)
    ours = exact.hotspots("parameter")
    salib = sp.analysis.to_df()[0]
    st = ours.loc[salib.index, "ST"]
    # SALib's bootstrap intervals (95 %) with a margin for a few of 51 falling outside by chance
    assert ((salib["ST"] - st).abs() <= 2 * salib["ST_conf"] + 0.02).all()
    assert salib["ST"].idxmax() == ours["ST"].idxmax() == "li_ion_battery_mass"


def test_salib_grouped_and_component_outputs(kws, exact):
    sp = uf.export.salib_problem(kws, groups="component", outputs=("total", "casing"))
    assert len(set(sp["groups"])) == 11 and sp["outputs"] == ["total", "casing"]
    x = np.full((3, sp["num_vars"]), 0.5)
    for j, (dist, b) in enumerate(zip(sp["dists"], sp["bounds"])):
        x[:, j] = {"unif": lambda: (b[0] + b[1]) / 2, "logunif": lambda: math.sqrt(b[0] * b[1]),
                   "lognorm": lambda: math.exp(b[0])}[dist]()
    y = sp.model(x)
    assert y.shape == (3, 2) and np.all(y[:, 0] > y[:, 1]) and np.all(y[:, 1] > 0)
    with pytest.raises(ConfigError, match="unknown output 'casingg'"):
        uf.export.salib_problem(kws, outputs=("casingg",))


def test_morris_in_three_lines(kws):
    sp = uf.export.salib_problem(kws, space="probability", trim=0.005)
    sp.sample_morris(6, seed=2).evaluate().analyze_morris(seed=2)
    mu_star = sp.analysis.to_df()["mu_star"]
    assert np.isfinite(mu_star).all() and mu_star.idxmax() == "li_ion_battery_mass"


def test_stats_arrays_dicts_sample_like_our_distributions(kws, parameters):
    stats_arrays = pytest.importorskip("stats_arrays")
    wide = kws.with_parameters(solder_paste_factor={"family": "loguniform", "low": 1.0e-5, "high": 1.0e-4})
    with pytest.raises(ConfigError, match="solder_paste_factor: stats_arrays has no loguniform"):
        uf.export.stats_arrays(wide)
    dicts = uf.export.stats_arrays(wide, unsupported="skip")
    assert "solder_paste_factor" not in dicts and len(dicts) == 50
    dicts = uf.export.stats_arrays(kws)  # a pedigree's lognormal is a stats_arrays lognormal
    lognormal = parameters["training_runs"].distribution.params
    assert dicts["training_runs"]["loc"] == pytest.approx(math.log(lognormal["median"]))
    assert dicts["training_runs"]["scale"] == pytest.approx(math.log(lognormal["gsd"]))
    names = list(dicts)
    array = stats_arrays.UncertaintyBase.from_dicts(*(dicts[n] for n in names))
    draws = stats_arrays.MCRandomNumberGenerator(array, seed=5).generate(20_000)  # (parameter, draw)
    for name, row in zip(names, draws):
        dist = parameters[name].distribution
        q = dist.ppf(np.array([0.05, 0.5, 0.95]))
        spread = q[2] - q[0]
        np.testing.assert_allclose(np.quantile(row, [0.05, 0.5, 0.95]), q, atol=0.05 * spread, err_msg=name)
    approx = uf.export.stats_arrays(wide, unsupported="lognormal")["solder_paste_factor"]
    rng = stats_arrays.MCRandomNumberGenerator(stats_arrays.UncertaintyBase.from_dicts(approx), seed=1)
    q = wide.model.parameters["solder_paste_factor"].distribution.ppf(np.array([0.05, 0.95]))
    np.testing.assert_allclose(np.quantile(rng.generate(40_000)[0], [0.05, 0.95]), q, rtol=0.05)
    assert "5 % and 95 % quantiles" in approx["note"]


def test_openturns_marginals_have_our_moments(kws, parameters):
    pytest.importorskip("openturns")
    joint = uf.export.openturns(kws)
    names = list(joint.getDescription())
    assert names == parameters.random_names
    mean, sd = np.array(joint.getMean()), np.array(joint.getStandardDeviation())
    ours_mean = np.array([parameters[n].distribution.mean() for n in names])
    ours_sd = np.array([parameters[n].distribution.std() for n in names])
    np.testing.assert_allclose(mean, ours_mean, rtol=1e-9)
    np.testing.assert_allclose(sd, ours_sd, rtol=1e-9)
    u = np.array([0.1, 0.5, 0.9])
    for j in (0, names.index("training_runs")):
        marginal = joint.getMarginal(j)
        got = [marginal.computeQuantile(p)[0] for p in u]
        np.testing.assert_allclose(got, parameters[names[j]].distribution.frozen.ppf(u), rtol=1e-9)


def test_inferencedata_of_a_run(exact):
    az = pytest.importorskip("arviz")
    idata = exact.to_inferencedata()
    post = idata.posterior
    assert post["total"].shape == (1, 100) and post["footprint"].dims == ("chain", "draw", "component")
    np.testing.assert_array_equal(post["total"].values[0], exact.results["total"].values)
    assert post["total"].attrs["units"] == "kg CO2-eq"
    assert idata.prior["unit"].sizes["parameter"] == exact.results.sizes["parameter"]
    summary = az.summary(idata, var_names=["total"], kind="stats")
    assert summary.loc["total", "mean"] == pytest.approx(float(exact.results["total"].mean()), rel=1e-3)
