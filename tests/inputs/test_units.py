"""Units as a contract: every unit in the data parses, factors are kg CO2-eq per their quantity's unit, overrides
in a compatible unit are converted (and recorded), unknown or incompatible units are refused naming the expected
unit, and the lifecycle functions use the units the catalog states."""

from __future__ import annotations

import inspect
import re

import numpy as np
import pytest
import xarray as xr
import yaml

from tests.helpers import ROOT, copy_data
from uncertainty_footprint.cli import main
from uncertainty_footprint.errors import ConfigError, SpecError
from uncertainty_footprint.inputs.catalog import default_data_dir, load_catalog
from uncertainty_footprint.inputs.distributions import FAMILIES, make_distribution
from uncertainty_footprint.model.experiment import parse_experiment
from uncertainty_footprint.inputs.parameters import UNIT_PARAMETERS
from uncertainty_footprint.inputs.units import KG_CO2EQ, conversion_factor, parse_unit, per, same_unit
from uncertainty_footprint.model import lifecycle
from uncertainty_footprint.model.builder import build_model
from uncertainty_footprint.analysis.propagate import run_monte_carlo

KWS = ROOT / "experiments" / "kws.yaml"


def _model(**changes):
    raw = yaml.safe_load(KWS.read_text(encoding="utf-8"))
    raw.update(changes)
    return build_model(parse_experiment(raw, str(KWS)), load_catalog())


def _units_in(value):
    """Every value of a ``unit`` key anywhere in parsed YAML."""
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "unit":
                yield v
            yield from _units_in(v)
    elif isinstance(value, list):
        for v in value:
            yield from _units_in(v)


# ------------------------------------------------------------------------------------------- the data
def test_every_unit_in_the_data_files_parses():
    data = default_data_dir()
    units = [u for f in sorted(data.glob("*.yaml")) for u in _units_in(yaml.safe_load(f.read_text("utf-8")))]
    units += [item.unit for item in load_catalog().items]
    assert len(units) > 100
    for unit in set(units):
        parse_unit(unit)  # raises SpecError naming the unit


def test_every_factor_is_kg_co2eq_per_its_quantity_unit():
    cat = load_catalog()
    checked = 0
    for item in cat.items:
        if item.factor:
            factor_unit = cat.parameters[item.factor].unit
            assert same_unit(factor_unit, per(KG_CO2EQ, item.unit)), (item, factor_unit)
            checked += 1
    assert checked == sum(1 for it in cat.items if it.block != "transport")


def test_footprints_and_reference_devices_are_in_kg_co2eq():
    cat = load_catalog()
    assert same_unit(cat.parameters["ml_training_footprint"].unit, KG_CO2EQ)
    assert all(same_unit(p.unit, KG_CO2EQ) for p in cat.reference_devices.values())


def test_lifecycle_docstring_units_match_the_catalog():
    """Each lifecycle function states the unit of every argument in [brackets]; where the argument is a catalog
    parameter (or an HSL quantity), that unit must be the catalog's (else the model computes nonsense)."""
    cat = load_catalog()
    units = {n: p.unit for n, p in cat.parameters.items()}
    units.update({it.parameter: it.unit for it in cat.items})
    checked = []
    for name, func in inspect.getmembers(lifecycle, inspect.isfunction):
        if func.__module__ != lifecycle.__name__:
            continue
        doc = inspect.getdoc(func) or ""
        for match in re.finditer(r"^(\w+(?:, \w+)*) : [^\n]+\n((?:    [^\n]*\n?)+)", doc, re.M):
            bracket = re.search(r"\[([^\]]+)\]", match.group(2))
            for arg in match.group(1).split(", "):
                if arg in units and bracket:
                    assert same_unit(bracket.group(1), units[arg]), (name, arg, bracket.group(1), units[arg])
                    checked.append(arg)
    for arg in ["average_power", "lifetime", "grid_carbon_intensity", "energy_per_inference", "inference_rate",
                "sleep_power", "transport_truck_factor", "shipped_mass", "truck_distance", "training_energy_per_run"]:
        assert arg in checked, f"{arg}: no [unit] found in the lifecycle docstrings"


def test_conversion_constants_come_from_the_registry():
    assert conversion_factor("W", "mW") == 1000.0
    assert conversion_factor("yr", "h") == 8760.0  # the published 365-day year
    assert lifecycle.KWH_PER_MW_YR == pytest.approx(8.76e-3, rel=1e-15)
    assert lifecycle.GRAMS_PER_TONNE == 1e6 and lifecycle.MW_PER_UJ_HZ == pytest.approx(1e-3, rel=1e-15)


@pytest.mark.parametrize("text", ["furlongs/kWh", "1000 W", "10**10**10", "kg CO2", "", "W - mW", "x" * 100])
def test_bad_unit_strings_are_refused_quickly(text):
    with pytest.raises(SpecError):
        conversion_factor(text, "kg CO2-eq/kWh")


def test_catalog_refuses_a_factor_in_the_wrong_unit(tmp_path):
    data = copy_data(tmp_path)
    path = data / "unit_factors.yaml"
    text = path.read_text(encoding="utf-8")
    start = text.index("  microphone_factor:")
    text = text[:start] + text[start:].replace("unit: kg CO2-eq/g", "unit: kg CO2-eq/mm2", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(data)
    msg = str(info.value)
    assert msg.startswith(f"{data / 'hsl_items.csv'}: sensing.electret_microphone: HSL-1: the factor "
                          "microphone_factor is in kg CO2-eq/mm2, but the quantity is in g"), msg
    assert "must be in kg CO2-eq/g" in msg


def test_catalog_refuses_an_unknown_unit(tmp_path):
    data = copy_data(tmp_path)
    path = data / "use_stage.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("unit: Hz", "unit: wibbles", 1), encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(data)
    assert str(info.value).startswith(f"{path}: parameters.inference_rate.unit: unit 'wibbles' is not a unit")


# ------------------------------------------------------------------------------------------- overrides
def test_override_in_watts_equals_the_same_power_in_milliwatts():
    in_w = _model(parameters={"average_power": {"distribution": {"family": "fixed", "value": 0.001}, "unit": "W"}})
    in_mw = _model(parameters={"average_power": {"distribution": {"family": "fixed", "value": 1.0}}})
    p = in_w.parameters["average_power"]
    assert p.unit == "mW" and p.nominal == 1.0 and p.distribution.central == 1.0
    assert p.converted_from == "W (x 1000 -> mW)" and p.note.endswith("Converted from W to mW (x 1000).")
    assert in_mw.parameters["average_power"].converted_from == ""
    a = run_monte_carlo(in_w, n=200, design="lhs", seed=3)
    b = run_monte_carlo(in_mw, n=200, design="lhs", seed=3)
    assert a["footprint"].values.tobytes() == b["footprint"].values.tobytes()
    np.testing.assert_array_equal(in_w.deterministic()["typical"], in_mw.deterministic()["typical"])


def test_a_distribution_in_another_unit_is_scaled():
    model = _model(parameters={
        "average_power": {"distribution": {"family": "lognormal", "median": 2.0, "gsd": 2.0}, "unit": "uW"},
        "casing_abs_mass": {"distribution": {"family": "pert", "low": 0.01, "mode": 0.05, "high": 0.1}, "unit": "kg"},
        "lifetime": {"distribution": {"family": "uniform", "low": 24, "high": 60}, "unit": "months",
                     "nominal": 36}})
    power = model.parameters["average_power"].distribution
    assert power.family == "lognormal" and power.params["median"] == pytest.approx(2e-3) and power.params["gsd"] == 2
    mass = model.parameters["casing_abs_mass"]
    assert mass.unit == "g" and mass.distribution.params == pytest.approx({"low": 10, "mode": 50, "high": 100,
                                                                          "lambda": 4})
    life = model.parameters["lifetime"]  # one calendar: a month is a twelfth of the 365-day year
    assert life.nominal == 3.0 and life.unit == "yr"


def test_one_calendar_36_months_are_3_years():
    assert conversion_factor("month", "yr") == 1 / 12 and conversion_factor("months", "h") == 730.0
    assert conversion_factor("yr", "d") == 365.0 and conversion_factor("julian_year", "d") == 365.25
    months = _model(parameters={"lifetime": {"distribution": {"family": "fixed", "value": 36}, "unit": "month"}})
    years = _model(parameters={"lifetime": {"distribution": {"family": "fixed", "value": 3}, "unit": "yr"}})
    a = run_monte_carlo(months, n=300, design="lhs", seed=2)
    b = run_monte_carlo(years, n=300, design="lhs", seed=2)
    assert a["footprint"].values.tobytes() == b["footprint"].values.tobytes()


def test_every_family_says_which_parameters_carry_the_unit():
    assert set(UNIT_PARAMETERS) == set(FAMILIES)
    specs = {"fixed": {"value": 2.0}, "uniform": {"low": 1, "high": 3}, "loguniform": {"low": 1, "high": 3},
             "triangular": {"low": 1, "mode": 2, "high": 4}, "pert": {"low": 1, "mode": 2, "high": 4},
             "normal": {"mean": 3, "sd": 1}, "truncnormal": {"mean": 2, "sd": 1, "low": 1, "high": 4},
             "lognormal": {"median": 2, "gsd": 1.5}}
    assert set(specs) == set(FAMILIES) - {"categorical"}  # a choice among alternatives carries no unit
    assert UNIT_PARAMETERS["categorical"] == ()
    u = np.linspace(0.01, 0.99, 9)
    for family, params in specs.items():
        dist = make_distribution({"family": family, **params})
        scaled = make_distribution({"family": family, **{k: v * (1000 if k in UNIT_PARAMETERS[family] else 1)
                                                         for k, v in params.items()}})
        np.testing.assert_allclose(scaled.ppf(u), 1000 * dist.ppf(u), rtol=1e-9, err_msg=family)


@pytest.mark.parametrize("unit, phrases", [
    ("furlongs", ("'furlongs' is a unit of length, not of power", "expected mW")),
    ("wibble", ("'wibble' is not a unit", "expected mW or another unit of power")),
    ("degC", ("not of power", "expected mW")),
    (3, ("unit must be text",)),
])
def test_unknown_or_incompatible_unit_is_refused(unit, phrases, tmp_path, capsys):
    path = tmp_path / "bad_unit.yaml"
    text = KWS.read_text(encoding="utf-8") + ("parameters:\n  average_power: {distribution: {family: fixed, value: "
                                              f"1}}, unit: {unit}}}\n")
    path.write_text(text, encoding="utf-8")
    capsys.readouterr()
    rc = main(["run", str(path), "--out", str(tmp_path / "out"), "--samples", "64", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: parameters.average_power.unit: "), err
    assert all(p in err for p in phrases), err
    assert not (tmp_path / "out").exists()


def test_a_unit_without_values_to_convert_is_refused():
    with pytest.raises(ConfigError, match=r"parameters\.average_power\.unit: unit 'W' is given without a "
                                          "distribution or nominal to convert; the record is in mW"):
        _model(parameters={"average_power": {"unit": "W"}})
    assert _model(parameters={"average_power": {"unit": "milliwatt"}}).parameters["average_power"].unit == "mW"


def test_extra_component_in_grams_is_converted_and_a_mass_is_refused():
    model = _model(extra_components={"solar_cell": {"distribution": {"family": "uniform", "low": 100, "high": 300},
                                                    "unit": "g CO2-eq"}})
    p = model.parameters["solar_cell_footprint"]
    assert p.unit == KG_CO2EQ and p.distribution.params == pytest.approx({"low": 0.1, "high": 0.3})
    assert p.converted_from == "g CO2-eq (x 0.001 -> kg CO2-eq)"
    with pytest.raises(ConfigError, match=r"extra_components\.solar_cell\.unit: unit 'g' is a unit of mass, not "
                                          "of carbon footprint; expected kg CO2-eq"):
        _model(extra_components={"solar_cell": {"distribution": {"family": "fixed", "value": 1}, "unit": "g"}})
    with pytest.raises(ConfigError, match=r"components\.casing\.unit: unit 'kWh' is a unit of energy"):
        _model(components={"casing": {"distribution": {"family": "fixed", "value": 1}, "unit": "kWh"}})


def test_results_show_the_catalog_unit(tmp_path, capsys):
    path = tmp_path / "in_watts.yaml"
    path.write_text(KWS.read_text(encoding="utf-8") + "parameters:\n  average_power: {distribution: {family: fixed, "
                    "value: 0.002}, unit: W}\n", encoding="utf-8")
    rc = main(["run", str(path), "--out", str(tmp_path / "out"), "--samples", "64", "--no-sobol", "--no-figures", "--store", "all",
               "--quiet"])
    assert rc == 0, capsys.readouterr().err
    with xr.open_dataset(tmp_path / "out" / "results.nc") as ds:
        power = ds.sel(parameter="average_power")
        assert str(power["unit"].values) == "mW"
        assert (power["inputs"].values == 2.0).all()


def test_cf_units_keep_the_projects_calendar():
    """udunits and pint read ``month`` as 30.4375 days; the project's month is 1/12 of its 365-day year."""
    import pint

    from uncertainty_footprint.inputs.units import cf_unit

    reg = pint.UnitRegistry()
    assert reg(cf_unit("kg CO2-eq/month")).to("kg/common_year").magnitude == pytest.approx(12.0, rel=1e-15)
    assert reg(cf_unit("kg CO2-eq/yr")).to("kg/day").magnitude == pytest.approx(1 / 365, rel=1e-15)
