"""The public Python API (uncertainty_footprint.api): loading, changing, running, results, folders, compare."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pandas as pd
import pytest
import xarray as xr
from matplotlib.figure import Figure

import uncertainty_footprint as uf
from uncertainty_footprint.analysis.engine import compute
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.io.folder import MANIFEST
from uncertainty_footprint.warnings import ConvergenceWarning

from tests.helpers import KWS, IMAGE_CLASSIFICATION

N = 300  # samples: enough for every table, fast on a loaded machine


@pytest.fixture(scope="module")
def kws_result():
    return uf.run("kws", samples=N, seed=7, sobol=False)


def test_import_is_light_and_names_are_lazy():
    code = ("import sys, uncertainty_footprint as uf; heavy = [m for m in ('numpy', 'xarray', "
            "'uncertainty_footprint.api') if m in sys.modules]; print(heavy, uf.__version__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split("]")[0] == "[" and uf.__version__ in out
    assert uf.run is uf.api.run and uf.Result is uf.api.Result and uf.export.salib_problem
    with pytest.raises(AttributeError):
        uf.no_such_name


def test_path_name_and_dict_give_the_same_experiment():
    by_path, by_name = uf.load_experiment(KWS), uf.load_experiment("kws")
    assert by_path == by_name and by_path.label == by_name.label == "kws"
    by_dict = uf.load_experiment(by_path.to_dict())
    assert by_dict.spec == by_path.spec and by_dict.source == "experiment dict"


def test_changes_are_validated_like_the_file_and_name_the_key():
    exp = uf.load_experiment("kws")
    changed = exp.with_blocks(casing=2).with_parameters(lifetime={"family": "uniform", "low": 2, "high": 5})
    assert changed.spec.blocks["casing"] == 2 and changed.spec.parameters["lifetime"]["high"] == 5
    assert exp.spec.blocks["casing"] == 1  # a copy; the original is unchanged
    with pytest.raises(ConfigError, match=r"with_blocks\): blocks\.casing: HSL 9 is not defined.*allowed: 0"):
        exp.with_blocks(casing=9)
    with pytest.raises(ConfigError, match=r"blocks: unknown block 'casingg'|blocks\.casingg"):
        exp.with_blocks(casingg=1)
    with pytest.raises(ConfigError, match=r"parameters\.lifetime.*needs low < high"):
        exp.with_parameters(lifetime={"family": "uniform", "low": 5, "high": 2})
    with pytest.raises(ConfigError, match=r"sampling\.samples"):
        exp.with_sampling(samples=1)
    with pytest.raises(ConfigError, match="experiment dict: name: required key is missing"):
        uf.load_experiment({"blocks": {}})
    with pytest.raises(ConfigError, match="no shipped experiment is called 'kwz'"):
        uf.load_experiment("kwz")


def test_yaml_text_has_the_file_limits():
    with pytest.raises(ConfigError, match="experiment text: .*duplicate"):
        uf.Experiment.from_yaml("name: a\nname: b\n")
    with pytest.raises(ConfigError, match="larger than"):
        uf.Experiment.from_yaml("name: a\n" + "#" * (1 << 20))


def test_the_written_yaml_reproduces_the_run(tmp_path):
    exp = uf.load_experiment("kws").with_blocks(casing=2).with_sampling(samples=N, seed=3)
    res = uf.run(exp, sobol=False)
    path = tmp_path / "mine.yaml"
    exp.to_yaml(path)
    with pytest.raises(ConfigError, match="exists already"):
        exp.to_yaml(path)
    again = uf.run(path, sobol=False)
    np.testing.assert_array_equal(res.results["total"].values, again.results["total"].values)
    assert uf.provenance(res)["config_sha256"] == uf.provenance(again)["config_sha256"] == exp.sha256
    assert uf.Experiment.from_yaml(path.read_text()).sha256 == exp.sha256


def test_run_equals_the_engine(kws_result):
    """run decides the options and calls the engine once: the engine on the same experiment gives the same."""
    exp = uf.load_experiment(KWS).with_options("sampling", samples=N, seed=7).with_options("sobol", enabled=False)
    raw = compute(exp)
    np.testing.assert_array_equal(kws_result.results["total"].values, raw.results["total"].values)
    pd.testing.assert_frame_equal(kws_result.summary, raw.summary)
    assert uf.provenance(kws_result)["config_sha256"] == uf.provenance(raw)["config_sha256"]


def test_options_are_the_option_objects():
    exp = uf.load_experiment("kws")
    a = uf.run(exp, samples=N, seed=7, sobol=uf.SobolOptions(enabled=False),
               engine=uf.EngineOptions(chunk_size=77))
    b = uf.run(exp, samples=N, seed=7, sobol={"enabled": False})
    np.testing.assert_array_equal(a.results["total"].values, b.results["total"].values)  # chunks never matter
    with pytest.raises(ConfigError, match="run: engine: expected EngineOptions"):
        uf.run(exp, engine={"stream": True})
    with pytest.raises(ConfigError, match="command line: sobol.samples: the Sobol base sample size must be a power"):
        uf.run(exp, sobol={"samples": 1000})


def test_the_summary_comes_before_any_file(tmp_path):
    """on_result sees the numbers before the folder exists (the command line prints the summary then)."""
    seen = []

    def look(result):
        seen.append((result.summary.loc["total", "median"], (tmp_path / "out").exists(), result.folder))

    res = uf.run("kws", samples=N, out=tmp_path / "out", figures=False, on_result=look)
    assert seen == [(res.summary.loc["total", "median"], False, None)] and res.folder == (tmp_path / "out").resolve()


def test_result_tables_trees_and_display(kws_result):
    res = kws_result
    assert {"median", "p5", "p95", "exact_mean"} <= set(res.summary.columns) and "total" in res.summary.index
    assert isinstance(res.results, xr.Dataset) and res.results.sizes["sample"] == N
    assert "typical" in res.deterministic.columns
    assert res.sobol is None and set(res.exact) == {"parameter", "component", "stage"}
    assert all(isinstance(ds, xr.Dataset) for ds in res.exact.values())
    shapley = res.exact["component"]["shapley"]
    assert float(shapley.sum()) == pytest.approx(1.0, abs=1e-9)  # Shapley effects share the variance
    top = res.hotspots("component")
    assert top.index[0] == "power_supply" and top["ST"].is_monotonic_decreasing
    assert res.experiment.spec.sampling.samples == N and res.experiment.spec.sampling.seed == 7
    text = repr(res)
    assert "median" in text and "power_supply" in text and "kg CO2-eq" in text
    assert "<table>" in res._repr_html_() and "Experiment" in res.experiment._repr_html_()
    assert "blocks: " in repr(res.experiment)
    with pytest.raises(ConfigError, match="allowed: parameter, component, stage"):
        res.hotspots("block")


def test_sampled_sobol_beside_the_exact_indices():
    with pytest.warns(ConvergenceWarning):  # 128 base samples: wide intervals, said once per grouping
        res = uf.run("kws", samples=100, sobol={"samples": 128, "groupings": "component", "num_resamples": 10})
    assert set(res.sobol) == {"component"} and res.indices("component", "sampled") is res.sobol["component"]
    table = res.hotspots("component")
    assert {"ST", "ST_sampled", "ST_sampled_conf"} <= set(table.columns)


def test_plots_are_figures(kws_result):
    for fig in (uf.plot_total(kws_result), uf.plot_components(kws_result, log=True), uf.plot_stacked(kws_result),
                uf.plot_convergence(kws_result)):
        assert isinstance(fig, Figure) and fig.axes
    exact = uf.plot_indices(kws_result)  # a run without sampled indices draws the exact ones, without error bars
    assert "exact variance decomposition" in exact.legends[0].get_title().get_text()
    bars = [c for ax in exact.axes for c in ax.containers]
    assert len(bars) == 4 and all(c.errorbar is None for c in bars)
    with pytest.raises(ConfigError, match="no sampled Sobol"):
        uf.plot_indices(kws_result, kind="sampled")
    with pytest.raises(ConfigError, match="allowed: sampled, exact"):
        uf.plot_indices(kws_result, kind="bootstrap")
    with pytest.raises(ConfigError, match="plot_balance: benefit: this run has no benefit"):
        uf.plot_balance(kws_result)


def test_write_results_writes_what_the_cli_writes_with_its_safety_rules(kws_result, tmp_path):
    out = tmp_path / "kws"
    assert uf.write_results(kws_result, out, figures=False).folder == out.resolve()
    assert kws_result.folder is None  # the result itself is immutable
    manifest = json.loads((out / MANIFEST).read_text())
    assert {"results.nc", "summary.csv", "exact.nc"} <= set(manifest["files"])
    reread = xr.open_dataset(out / "results.nc")
    np.testing.assert_array_equal(reread["total"].values, kws_result.results["total"].values)
    reread.close()
    foreign = tmp_path / "notes"
    foreign.mkdir()
    (foreign / "mine.txt").write_text("keep")
    with pytest.raises(ConfigError, match="not empty and has no"):
        uf.write_results(kws_result, foreign)
    assert (foreign / "mine.txt").read_text() == "keep" and len(list(foreign.iterdir())) == 1


def test_run_with_out_checks_the_folder_before_running(tmp_path):
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(ConfigError, match="existing file"):
        uf.run("kws", samples=N, sobol=False, out=target)
    res = uf.run("kws", samples=N, sobol=False, out=tmp_path / "run", figures=False)
    assert res.folder == (tmp_path / "run").resolve() and (res.folder / "summary.csv").is_file()


def test_compare_experiments_in_memory_and_on_disk(tmp_path):
    kws = uf.load_experiment("kws")
    comp = uf.compare(kws, kws.with_blocks(casing=2), IMAGE_CLASSIFICATION, samples=N)
    assert list(comp.table.index) == ["kws", "kws_2", "image_classification"]
    diff = comp.differences.loc[("kws", "kws_2")]
    assert diff["median"] > 0 and diff["p_a_lt_b"] > 0.9  # a medium casing weighs more
    assert [r.experiment.source for r in comp.runs][0] == kws.source
    assert "P(kws < kws_2)" in repr(comp)
    assert isinstance(uf.plot_comparison(comp), Figure)
    folder = uf.write_comparison(comp, tmp_path / "cmp").folder
    assert (folder / "comparison.csv").is_file() and (folder / "differences.csv").is_file()
    with pytest.raises(ConfigError, match="distinct non-empty labels"):
        uf.compare(kws, kws, samples=N, labels=["a", "a"])


def test_catalog_tables():
    cat = uf.catalog()
    blocks = cat.blocks_table()
    assert {"block", "hsl", "meaning", "parameter", "low", "typical", "high"} <= set(blocks.columns)
    assert set(blocks["block"]) >= {"casing", "power_supply", "sensing"}
    parameters = cat.parameters_table()
    assert {"unit", "distribution", "status", "source"} <= set(parameters.columns)
    assert set(parameters["status"]) <= {"quoted", "inferred", "assumed"}
    assert cat.sources_table()["cite"].str.len().min() > 0
    assert float(cat.references_table().loc["macbook_pro_16_m1_pro", "footprint"]) == 349.0
    assert "keyword_spotting" in cat.applications_table().index
    options = uf.block_options(samples=512)  # one row per (block, HSL)
    assert len(options) == len(blocks.drop_duplicates(["block", "hsl"]))
    assert ((options["p5"] <= options["median"]) & (options["median"] <= options["p95"])).all()


def test_helpers_for_the_web_calculator():
    assert uf.parse_yaml("a: [1, 2]") == {"a": [1, 2]}
    with pytest.raises(ConfigError, match="calculator: .*duplicate"):
        uf.parse_yaml("a: 1\na: 2\n", "calculator")
    assert uf.distribution_families()["lognormal"] == ("median", "gsd") and "kws" in uf.example_names()
    with pytest.raises(ConfigError, match="^calculator: blocks.casing"):
        uf.load_experiment({"name": "x", "blocks": {"casing": 7}}, source="calculator")


@pytest.mark.parametrize("name", uf.example_names())
def test_every_shipped_experiment_runs_as_its_file_and_its_dict(name):
    """An experiment made in Python from a shipped file's dict runs as the file does."""
    from uncertainty_footprint.inputs.examples import example_path

    exp = uf.load_experiment(name)
    assert uf.load_experiment(exp.to_dict()).spec == exp.spec
    res = uf.run(exp.to_dict(), samples=50, seed=2, sobol=False)
    raw = uf.run(example_path(name), samples=50, seed=2, sobol=False)
    assert set(res.results.variables) == set(raw.results.variables)
    for var in res.results.data_vars:
        np.testing.assert_array_equal(res.results[var].values, raw.results[var].values, err_msg=var)
    assert (res.balance is None) == (raw.balance is None)


def test_written_outputs_are_what_the_run_wrote_not_what_the_folder_holds(tmp_path):
    out = tmp_path / "res"
    uf.run("kws", samples=200, sobol=False, figures=False, out=out)
    (out / "comparison.csv").write_text("mine\n")  # a user's file with the name of an output of compare
    (out / "figures").mkdir()
    assert uf.api.written_outputs(out) == ["results.nc", "summary.csv", "deterministic.csv", "exact.nc", "exact.csv"]
    assert uf.api.written_outputs(tmp_path) == []
