"""The engine (:mod:`uncertainty_footprint.analysis.engine`): what a run computes. ``sobol.method``: which outputs
get sampled Saltelli estimates beside (or instead of) the exact indices.

The default ``auto`` samples only an output without an exact variance decomposition: the footprint of every
shipped model has one, so the default run samples nothing (its hotspots are exact); ``sampled`` samples every
output; ``exact`` never samples. Options of the sampled analysis given without a method ask for it.
"""

from __future__ import annotations

import dataclasses
import warnings

import numpy as np
import pytest

import uncertainty_footprint as uf
from tests.helpers import KWS
from uncertainty_footprint.analysis.exact import ExactDecompositionWarning
from uncertainty_footprint.analysis.resources import estimate_memory
from uncertainty_footprint.analysis.engine import (SAMPLES_SOBOL, EngineOptions, compute, samples_payback_sobol,
                                                    samples_sobol)
from uncertainty_footprint.analysis.exact import try_exact
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.inputs.choices import SOBOL_METHODS
from uncertainty_footprint.model.builder import COMPONENT_KINDS, ComponentKind
from uncertainty_footprint.model.experiment import Experiment

SMALL = dict(samples=200, seed=3)
FAST_SOBOL = dict(samples=64, num_resamples=10, groupings=["component"])


def _with_model(exp, model):
    """``exp`` with its Monte Carlo model replaced by ``model(exp)``."""
    return Experiment(exp.spec, exp.source, exp.sha256, models=dataclasses.replace(exp.models, footprint=model(exp)))


def _run(exp, model=None):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # wide intervals at 64 base samples; no exact decomposition
        exp = exp.with_options("sampling", **SMALL)
        return compute(exp if model is None else _with_model(exp, model))


def _not_separable(monkeypatch):
    """A kws model whose end of life is multiplied by exp(lifetime / 10): not a sum of products, so no exact
    decomposition (every parameter is still used)."""
    def strange(c, v):
        others = [v[n] for n in c.parameter_names() if n != c.inputs["value"]]
        return np.exp(v[c.inputs["value"]] / 10.0) * np.prod(others, axis=0)

    monkeypatch.setitem(COMPONENT_KINDS, "exp_of_lifetime", ComponentKind(strange))

    def model(exp):
        comps = tuple(dataclasses.replace(c, kind="exp_of_lifetime", inputs={**c.inputs, "value": "lifetime"})
                      if c.name == "end_of_life" else c for c in exp.model.components)
        return dataclasses.replace(exp.model, components=comps)
    return model


def test_the_registry_covers_every_method_and_auto_samples_only_without_exact():
    assert set(SAMPLES_SOBOL) == set(SOBOL_METHODS)
    assert [SAMPLES_SOBOL["auto"](has) for has in (True, False)] == [False, True]
    assert [SAMPLES_SOBOL["sampled"](has) for has in (True, False)] == [True, True]
    assert [SAMPLES_SOBOL["exact"](has) for has in (True, False)] == [False, False]


def test_the_default_run_has_exact_hotspots_and_samples_nothing():
    exp = uf.load_experiment(KWS).with_options("sampling", **SMALL)
    assert exp.spec.sobol.method == "auto"
    assert try_exact(exp.model) is not None and not samples_sobol(exp, has_exact=True)
    result = compute(exp)
    assert result.sobol is None and set(result.exact) == {"parameter", "component", "stage"}
    # the memory check does not count an analysis that will not run
    big = exp.with_options("sobol", samples=2**20)
    assert estimate_memory(exp.model, big, streams=False, sobol=False).sobol == 0
    assert estimate_memory(exp.model, big, streams=False, sobol=True).sobol > 0


@pytest.mark.parametrize("changes, method", [
    ({}, "auto"), ({"samples": 64}, "sampled"), ({"conf_level": 0.9}, "sampled"), ({"num_resamples": 10}, "sampled"),
    ({"seed": 5}, "sampled"), ({"samples": 64, "method": "exact"}, "exact"), ({"second_order": True}, "auto"),
    ({"groupings": ["stage"]}, "auto"), ({"method": "sampled"}, "sampled")])
def test_options_of_the_sampled_analysis_ask_for_it(changes, method):
    assert uf.load_experiment("kws").with_sobol(**changes).spec.sobol.method == method  # as a file's section
    exp = uf.load_experiment(KWS).with_options("sobol", **changes)  # as command-line overrides
    assert exp.spec.sobol.method == method


def test_a_file_section_gives_the_method(tmp_path):
    text = KWS.read_text()
    for section, method in (("sobol: {samples: 64}", "sampled"), ("sobol: {method: exact, samples: 64}", "exact"),
                            ("sobol: {second_order: true}", "auto")):
        path = tmp_path / "exp.yaml"
        path.write_text(text + "\n" + section + "\n")
        assert uf.load_experiment(path).spec.sobol.method == method
    path.write_text(text + "\nsobol: {method: bootstrap}\n")
    with pytest.raises(ConfigError, match=r"sobol\.method.*'auto', 'exact' or 'sampled'|sobol\.method.*auto"):
        uf.load_experiment(path)


def test_sampled_gives_both_and_exact_gives_exact_only():
    kws = uf.load_experiment("kws")
    both = _run(kws.with_sobol(method="sampled", **FAST_SOBOL))
    assert set(both.sobol) == {"component"} and both.exact is not None
    exact = _run(kws.with_sobol(method="exact", **FAST_SOBOL))
    assert exact.sobol is None and exact.exact is not None


def test_auto_samples_a_model_without_exact_decomposition_and_exact_then_has_no_indices(monkeypatch):
    model = _not_separable(monkeypatch)
    kws = uf.load_experiment("kws")
    with pytest.warns(ExactDecompositionWarning, match="numpy.exp"):
        assert try_exact(_with_model(kws, model).model) is None
    auto = _run(kws.with_sobol(method="auto", groupings=["component"]), model)
    assert auto.exact is None and set(auto.sobol) == {"component"}
    none = _run(kws.with_sobol(method="exact"), model)
    assert none.exact is None and none.sobol is None


def test_the_command_line_option(tmp_path):
    from uncertainty_footprint.cli import main

    out = tmp_path / "sampled"
    assert main(["run", str(KWS), "--out", str(out), "--samples", "200", "--sobol-method", "sampled",
                 "--sobol-samples", "64", "--num-resamples", "10", "--groupings", "component", "--no-figures",
                 "--quiet"]) == 0
    assert (out / "sobol.csv").is_file() and (out / "exact.csv").is_file()
    out = tmp_path / "auto"
    assert main(["run", str(KWS), "--out", str(out), "--samples", "200", "--no-figures", "--quiet"]) == 0
    assert not (out / "sobol.csv").exists() and (out / "exact.csv").is_file()


def test_the_memory_check_counts_the_payback_time_indices(monkeypatch):
    """An experiment with a benefit samples the payback time's indices (no exact decomposition) even when the
    footprint's are exact: the memory check counts them, and refuses a run they would not fit."""
    from uncertainty_footprint.analysis.resources import MEMORY_ENV
    from uncertainty_footprint.analysis.engine import check_resources
    from tests.helpers import EXPERIMENTS_DIR

    path = EXPERIMENTS_DIR / "smart_building_lighting.yaml"
    auto = uf.load_experiment(path).with_options("sobol", method="auto", samples=2**16)  # the payback time's base
    assert not samples_sobol(auto, has_exact=True) and samples_payback_sobol(auto)
    without = estimate_memory(auto.model, auto, streams=False, sobol=False)
    est = estimate_memory(auto.model, auto, streams=False, sobol=False, payback=auto.balance_model)
    assert without.sobol == 0 < est.monte_carlo < est.sobol
    monkeypatch.setenv(MEMORY_ENV, str((est.monte_carlo + est.sobol) // 2))
    with pytest.raises(ConfigError, match=r"sobol\.samples.*Sobol' analysis with 65536 base samples.*--sobol-samples"):
        check_resources(auto)
    exact = uf.load_experiment(path).with_options("sobol", method="exact", samples=2**16)
    assert not samples_payback_sobol(exact) and not samples_payback_sobol(uf.load_experiment(KWS))
    check_resources(exact)  # nothing sampled: it fits


def test_engine_options_are_checked():
    with pytest.raises(ConfigError, match="EngineOptions: store: got 'some'; allowed: all, footprint, none"):
        EngineOptions(store="some")
    with pytest.raises(ConfigError, match="EngineOptions: chunk_size: expected a positive integer"):
        EngineOptions(chunk_size=0)
    assert EngineOptions(scheduler="threads").streams(10) and not EngineOptions().streams(10)


def test_the_result_is_immutable_and_reports_itself():
    res = uf.run("kws", samples=100, seed=2)
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.summary = None
    assert "Keyword spotting" in repr(res) and "<table>" in res._repr_html_()
    assert res.hotspots("stage").index[0] == "manufacturing"
    with pytest.raises(ConfigError, match="Result.hotspots: by: unknown grouping 'x'"):
        res.hotspots("x")
