"""The balance model: the benefit as a negative term of the one lifecycle model; its records validated."""

import numpy as np
import pytest

from tests.helpers import EXPERIMENTS_DIR
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.model.experiment import load_experiment, parse_experiment
from uncertainty_footprint.inputs.distributions import make_distribution
from uncertainty_footprint.inputs.parameters import Parameter, ParameterSet
from uncertainty_footprint.model import benefit as bm
from uncertainty_footprint.model.builder import Component, LifecycleModel, build_model
from uncertainty_footprint.model.expansion import expand_components

SOURCE = {"source": "prakash_2023", "status": "assumed"}


def _fixed(name, value, unit):
    return Parameter(name, unit, make_distribution({"family": "fixed", "value": value}), value, "assumed")


def tiny_model(footprint=2.0, lifetime=3.0, grid=0.5, random_footprint=None):
    """One-component footprint model [kg CO2-eq] with the inputs a benefit shares."""
    device = (Parameter("device_footprint", "kg CO2-eq", make_distribution(random_footprint), 1.0, "assumed")
              if random_footprint else _fixed("device_footprint", footprint, "kg CO2-eq"))
    params = ParameterSet([device, _fixed("lifetime", lifetime, "yr"), _fixed("grid_carbon_intensity", grid,
                                                                              "kg CO2-eq/kWh")])
    return LifecycleModel((Component("device", "manufacturing", "value", {"value": "device_footprint"}),), params)


def balance_of(catalog, benefit, fleet=None, **model_kw):
    data = {"name": "tiny", "benefit": benefit}
    if fleet is not None:
        data["fleet"] = fleet
    return bm.build_balance(parse_experiment(data, "tiny.yaml"), catalog, tiny_model(**model_kw))


def test_pure_functions():
    assert float(bm.yearly_avoided_emissions(saved_energy_per_year=10.0, grid_carbon_intensity=0.4)) == 4.0
    assert float(bm.benefit_term(avoided_emissions_per_year=4.0, lifetime=3.0)) == -12.0
    np.testing.assert_array_equal(bm.payback_time(footprint=[2.0, 2.0], avoided_emissions_per_year=[4.0, 0.0]),
                                  [0.5, np.inf])
    assert float(bm.fleet_total(per_device=2.0, devices=1.0e9)) == 2.0e6


def test_fixed_benefit_gives_the_exact_balance(catalog):
    b = balance_of(catalog, {"saved_energy_per_year": {"distribution": {"family": "fixed", "value": 8.0},
                                                       "unit": "kWh/yr", **SOURCE}})
    values = b.parameters.deterministic()
    parts = b.component_values(values)
    assert [c.name for c in b.components] == ["device", "benefit"] and b.components[-1].stage == "benefit"
    assert parts[0][0] == 2.0 and parts[1][0] == pytest.approx(-8.0 * 0.5 * 3.0)
    assert b.yearly_benefit(values)[0] == pytest.approx(4.0)


def test_units_are_converted_and_shared_inputs_are_one_parameter(catalog):
    b = balance_of(catalog, {"saved_energy_per_year": {"distribution": {"family": "fixed", "value": 8000.0},
                                                       "unit": "Wh/yr", **SOURCE},
                             "grid_carbon_intensity": {"distribution": {"family": "fixed", "value": 100.0},
                                                       "unit": "g CO2-eq/kWh", **SOURCE}})
    assert b.parameters["saved_energy_per_year"].nominal == pytest.approx(8.0)
    assert b.parameters[bm.BENEFIT_GRID].nominal == pytest.approx(0.1)
    assert b.benefit.inputs["grid_carbon_intensity"] == bm.BENEFIT_GRID
    assert b.benefit_parameters() == ["saved_energy_per_year", bm.BENEFIT_GRID]


def test_the_net_balance_expands_through_the_same_model(catalog):
    b = balance_of(catalog, {"avoided_emissions_per_year": {"distribution": {"family": "uniform", "low": 1.0,
                                                                             "high": 2.0},
                                                            "unit": "kg CO2-eq/yr", **SOURCE}},
                   random_footprint={"family": "uniform", "low": 1.0, "high": 3.0})
    polys = expand_components(b, b.parameters.random_names)
    assert str(polys[-1]) == "Polynomial(-3*avoided_emissions_per_year)"
    assert polys[0].variables == ["device_footprint"]


def test_a_shipped_balance_keeps_the_footprint_model(catalog):
    exp = load_experiment(EXPERIMENTS_DIR / "smart_building_lighting.yaml")
    model = build_model(exp, catalog)
    b = bm.build_balance(exp, catalog, model)
    assert b.components[:-1] == model.components and b.footprint is model
    assert b.parameters["saved_energy_per_year"].status == "inferred"
    assert "williams_2012_lighting_controls" in b.sources and b.per_year and b.devices.unit == "1/yr"
    assert {a["source"] for a in b.anchors} >= {"pirson_bol_2021"}
    assert bm.build_balance(load_experiment(EXPERIMENTS_DIR / "kws.yaml"), catalog, model) is None


@pytest.mark.parametrize("benefit, fleet, path, says", [
    ({"saved_energy_per_year": {"distribution": {"family": "normal", "mean": 1.0, "sd": 2.0}, "unit": "kWh/yr",
                                **SOURCE}}, None, "benefit.saved_energy_per_year", "negative values"),
    ({"saved_energy_per_year": {"distribution": {"family": "fixed", "value": 5.0}, **SOURCE}}, None,
     "benefit.saved_energy_per_year", "needs a unit"),
    ({"saved_energy_per_year": 5.0}, None, "benefit.saved_energy_per_year", "a number needs its unit"),
    ({"saved_energy_per_year": {"distribution": {"family": "fixed", "value": 5.0}, "unit": "kWh", **SOURCE}}, None,
     "benefit.saved_energy_per_year.unit", "not of power"),
    ({"avoided_emissions_per_year": {"distribution": {"family": "fixed", "value": 5.0}, "unit": "kg CO2-eq",
                                     **SOURCE}}, None, "benefit.avoided_emissions_per_year.unit", "expected"),
    ({"saved_energy_per_year": "no_such_record"}, None, "benefit.saved_energy_per_year", "unknown benefit record"),
    ({"saved_energy_per_year": {"distribution": {"family": "fixed", "value": 5.0}, "unit": "kWh/yr",
                                "source": "nowhere", "status": "assumed"}}, None, "benefit.saved_energy_per_year",
     "unknown source"),
    ({"avoided_emissions_per_year": {"distribution": {"family": "fixed", "value": 5.0}, "unit": "kg CO2-eq/yr",
                                     **SOURCE}}, {"devices": {"distribution": {"family": "fixed", "value": 9.0},
                                                              "unit": "kg", **SOURCE}}, "fleet.devices.unit",
     "not a number of devices"),
])
def test_bad_benefit_and_fleet_records_are_one_line_errors(catalog, benefit, fleet, path, says):
    with pytest.raises(ConfigError) as err:
        balance_of(catalog, benefit, fleet)
    text = str(err.value)
    assert "\n" not in text and text.startswith(f"tiny.yaml: {path}:") and says in text, text


@pytest.mark.parametrize("benefit, says", [
    ({}, "give exactly one of saved_energy_per_year, avoided_emissions_per_year"),
    ({"saved_energy_per_year": "occupancy_lighting_control", "avoided_emissions_per_year": "x"}, "exactly one"),
    ({"avoided_emissions_per_year": "x", "grid_carbon_intensity": {"distribution": 0.3}},
     "with saved_energy_per_year only"),
    ({"saved_energy": 1.0}, "unknown key 'saved_energy'; allowed: saved_energy_per_year"),
    ({"saved_energy_per_year": [1.0]}, "must be a record"),
])
def test_the_benefit_section_is_validated_with_the_schema(benefit, says):
    with pytest.raises(ConfigError) as err:
        parse_experiment({"name": "x", "benefit": benefit}, "x.yaml")
    assert "\n" not in str(err.value) and says in str(err.value) and str(err.value).startswith("x.yaml: benefit")


def _all_fixed(**extra):
    """Every component a fixed value, with a benefit: no component of the footprint uses the lifetime."""
    blocks = ("actuators", "casing", "connectivity", "memory", "others", "pcb", "power_supply", "processing",
              "security", "sensing", "transport", "user_interface")
    data = {"name": "all fixed",
            "components": {c: {"family": "fixed", "value": 0.1} for c in
                           ("ml_training", "use_stage", "end_of_life", *blocks)},
            "benefit": {"saved_energy_per_year": {"distribution": {"family": "uniform", "low": 1, "high": 3},
                                                  "unit": "kWh/yr", "source": "prakash_2023", "status": "assumed"}},
            **extra}
    return parse_experiment(data, "fixed.yaml")


def test_lifetime_of_a_benefit_may_be_set_when_no_component_uses_it():
    exp = _all_fixed(parameters={"lifetime": {"family": "fixed", "value": 3.0}})
    assert "lifetime" not in exp.model.parameters
    balance = exp.balance_model
    life = balance.parameters["lifetime"]
    assert life.distribution.family == "fixed" and life.nominal == 3.0 and life.unit == "yr"
    # and in months, one calendar: the same balance
    months = _all_fixed(parameters={"lifetime": {"distribution": {"family": "fixed", "value": 36},
                                                 "unit": "month"}})
    assert months.balance_model.parameters["lifetime"].nominal == 3.0
    # without the override, the catalog's record
    assert _all_fixed().balance_model.parameters["lifetime"].distribution.family != "fixed"


def test_an_override_no_model_uses_is_still_refused():
    with pytest.raises(ConfigError, match=r"parameters\.lifetime: not a parameter of this experiment's model"):
        parse_experiment({"name": "x", "components": {"use_stage": {"family": "fixed", "value": 0.1}},
                          "parameters": {"lifetime": {"family": "fixed", "value": 3.0}}}, "x.yaml").model
    benefit = {"saved_energy_per_year": {"distribution": {"family": "fixed", "value": 1}, "unit": "kWh/yr",
                                         "source": "prakash_2023", "status": "assumed"},
               "grid_carbon_intensity": {"distribution": {"family": "fixed", "value": 0.2},
                                         "unit": "kg CO2-eq/kWh", "source": "prakash_2023", "status": "assumed"}}
    with pytest.raises(ConfigError, match=r"parameters\.grid_carbon_intensity: not a parameter of this "
                                          r"experiment's model or benefit"):
        _all_fixed(benefit=benefit, parameters={"grid_carbon_intensity": {"family": "fixed", "value": 0.3}})
    with pytest.raises(ConfigError, match=r"parameters\.lifetime: distribution: unknown distribution family"):
        _all_fixed(parameters={"lifetime": {"family": "nope", "value": 3.0}}).balance_model
