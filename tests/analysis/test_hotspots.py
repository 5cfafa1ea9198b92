"""Sobol' hotspots of the lifecycle model: groupings, consistency with per-parameter indices, files, CLI."""

import warnings

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.helpers import KWS
from uncertainty_footprint.cli import main
from uncertainty_footprint.analysis.hotspots import (from_datatree, hotspot_analysis, parameter_groups, sobol_table,
                                            to_datatree)


@pytest.fixture(scope="module")
def kws_sobol(kws_model):
    model = kws_model
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence is asserted below, not warned about
        sobol = hotspot_analysis(model, n_base=8192, seed=11)
    return model, sobol


def test_groups_partition_the_random_parameters(kws_sobol):
    model, _ = kws_sobol
    for by in ("component", "stage"):
        groups = parameter_groups(model, by)
        members = [p for ps in groups.values() for p in ps]
        assert sorted(members) == sorted(model.parameters.random_names)
    assert parameter_groups(model, "component")["power_supply"][0] == "li_ion_battery_mass"


def test_shared_parameters_form_joint_groups():
    import yaml

    from uncertainty_footprint.inputs.catalog import load_catalog
    from uncertainty_footprint.model.experiment import parse_experiment
    from uncertainty_footprint.model.builder import build_model

    raw = yaml.safe_load(KWS.read_text())
    raw["blocks"]["others"] = 1  # the steel shield shares steel_factor with the casing
    model = build_model(parse_experiment(raw, "x"), load_catalog())
    groups = parameter_groups(model, "component")
    assert groups["casing+others"] == ["steel_factor"]


def test_component_indices_consistent_with_their_parameters(kws_sobol):
    """A component's ST is at least the largest ST of its own parameters, within the intervals."""
    _, sobol = kws_sobol
    comp, par = sobol["component"], sobol["parameter"]
    for group, members in zip(comp["group"].values, comp["members"].values):
        names = members.split(",")
        sub = par.sel(parameter=names)
        k = int(np.argmax(sub["ST"].values))
        st_par, conf_par = float(sub["ST"][k]), float(sub["ST_conf"][k])
        st_grp, conf_grp = float(comp["ST"].sel(group=group)), float(comp["ST_conf"].sel(group=group))
        assert st_grp + conf_grp >= st_par - conf_par, group
        # and the group's first-order index is at least the sum of its members' (additive within a component)
        assert float(comp["S1"].sel(group=group)) + float(comp["S1_conf"].sel(group=group)) >= \
            float((sub["S1"] - sub["S1_conf"]).clip(min=0).sum()) - 0.05, group


def test_invariants_and_ranking(kws_sobol):
    _, sobol = kws_sobol
    for ds in sobol.values():
        assert np.all(ds["S1"] <= ds["ST"] + ds["S1_conf"] + ds["ST_conf"])
        assert float(ds["S1"].sum()) <= 1 + float(np.sqrt((ds["S1_conf"] ** 2).sum()))
        assert ds.attrs["max_conf"] < 0.05
    comp = sobol["component"]
    top = str(comp["group"].values[int(np.argmax(comp["ST"].values))])
    assert top == "power_supply"  # a 10-100 g battery at 0.025 kg/g dominates, as in the published table
    stage = sobol["stage"]
    assert float(stage["ST"].sum()) == pytest.approx(1.0, abs=0.1)  # near-additive model


def test_ignored_parameter_has_zero_total_index(kws_sobol):
    _, sobol = kws_sobol
    par = sobol["parameter"]
    # the microphone is 0.02 kg of 2.7 kg: its parameters explain (almost) nothing
    assert float(par["ST"].sel(parameter="microphone_mass")) < 1e-3


def test_sobol_files_round_trip(kws_sobol, tmp_path):
    _, sobol = kws_sobol
    to_datatree(sobol).to_netcdf(tmp_path / "sobol.nc")
    with xr.open_datatree(tmp_path / "sobol.nc") as tree:
        back = from_datatree(tree.load())
    assert set(back) == set(sobol)
    for key in sobol:
        xr.testing.assert_identical(sobol[key], back[key])
    with xr.open_dataset(tmp_path / "sobol.nc") as root:  # plain open_dataset reads the per-parameter analysis
        assert "ST" in root and root["ST"].dims == ("parameter",)
    table = sobol_table(sobol)
    comp = table[table.grouping == "component"]
    assert list(comp["ST"]) == sorted(comp["ST"], reverse=True)
    np.testing.assert_allclose(comp.set_index("name").loc["power_supply", "ST"],
                               float(sobol["component"]["ST"].sel(group="power_supply")))


def test_cli_sobol_options(tmp_path, capsys):
    out = tmp_path / "a"
    assert main(["run", str(KWS), "--out", str(out), "--samples", "100", "--no-sobol", "--no-figures", "--quiet"]) == 0
    assert not (out / "sobol.nc").exists() and (out / "results.nc").exists()
    out = tmp_path / "b"
    assert main(["run", str(KWS), "--out", str(out), "--samples", "100", "--sobol-samples", "128",
                 "--groupings", "stage", "--second-order", "--num-resamples", "20", "--quiet"]) == 0
    with xr.open_datatree(out / "sobol.nc") as tree:
        ds = tree["by_stage"].to_dataset(inherit=False)
        assert "S2" in ds and ds.attrs["n_base"] == 128 and ds.attrs["num_resamples"] == 20
    csv = pd.read_csv(out / "sobol.csv")
    assert set(csv["grouping"]) == {"stage"}
    # second order end to end: the pairs table, the heat map and the report's figure
    s2 = pd.read_csv(out / "sobol_s2.csv")
    assert {"a", "b", "S2", "S2_conf", "exact_S2"} <= set(s2.columns)
    sampled = s2[s2["S2"].notna()]  # exact S2 for every grouping, sampled S2 for the sampled grouping only
    assert len(sampled) and set(sampled["grouping"]) == {"stage"} and s2["exact_S2"].notna().all()
    assert (out / "figures" / "second_order.png").stat().st_size > 0
    assert "figures/second_order.png" in (out / "report.md").read_text()
    capsys.readouterr()
    assert main(["run", str(KWS), "--out", str(tmp_path / "c"), "--sobol-samples", "1000"]) == 2
    err = capsys.readouterr().err
    assert "sobol.samples" in err and "power of two" in err
    assert not (tmp_path / "c").exists()
    assert main(["run", str(KWS), "--out", str(tmp_path / "d"), "--groupings", "blocks"]) == 2
    assert "sobol.groupings" in capsys.readouterr().err
