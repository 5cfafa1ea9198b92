"""Methods as alternatives (``methods:`` of an experiment, ``distributions/methods.yaml``): how each recipe builds
a component, a hand computation of ACT's IC path, the mixture of methods and the refusals of bad choices."""

from __future__ import annotations

import numpy as np
import pytest

from tests.helpers import KWS
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.model import lifecycle
from uncertainty_footprint.model.experiment import load_experiment

MM2_PER_CM2 = 100.0


def _model(**methods):
    return load_experiment(KWS).with_methods(**methods).model


def _typical(model) -> dict[str, float]:
    """Footprint per component with HSL quantities typical and every other parameter at its nominal."""
    values = model.parameters.deterministic("typical")
    row = model.evaluate(values)[0]
    return dict(zip(model.component_names, row))


def test_act_ic_function_is_the_hand_computation():
    # die area x (CI x EPA + GPA + MPA) / yield + package, with the die area in mm2 and the rest per cm2
    got = lifecycle.ic_footprint_act(die_area=np.array([10.0, 25.0]), fab_carbon_intensity=0.583,
                                     energy_per_area=0.9, gas_per_area=0.1375, materials_per_area=0.5,
                                     fab_yield=0.875, packaging_per_ic=0.15)
    per_cm2 = (0.583 * 0.9 + 0.1375 + 0.5) / 0.875
    np.testing.assert_allclose(got, [0.1 * per_cm2 + 0.15, 0.25 * per_cm2 + 0.15], rtol=1e-15)
    assert got[0] == pytest.approx(0.282823, abs=1e-6)


def test_act_die_area_method_reproduces_the_hand_computation_for_the_kws_mcu():
    model = _model(processing="act_die_area")
    ps = model.parameters
    comp = model.components[model.component_names.index("processing")]
    assert comp.kind == "methods" and comp.inputs["choice"] is None and comp.methods == ("act_die_area",)
    (ic,) = comp.inputs["options"][0]["ics"]
    assert ic["die_area"] == "mcu_die_area" and ic["energy_per_area"] == "act_energy_per_area_legacy"
    nominal = {n: ps[n].nominal for n in ("act_fab_carbon_intensity", "act_energy_per_area_legacy",
                                         "act_gas_per_area_legacy", "act_materials_per_area", "act_fab_yield",
                                         "act_ic_packaging")}
    # the shipped data: ACT's Taiwan grid, the mid-points of the bridged legacy ranges, 500 g/cm2, 0.875, 150 g
    assert nominal["act_fab_carbon_intensity"] == pytest.approx(0.583)
    assert nominal["act_energy_per_area_legacy"] == pytest.approx((0.24 + 0.90) / 2)
    assert nominal["act_gas_per_area_legacy"] == pytest.approx((0.100 + 0.175) / 2)
    assert nominal["act_materials_per_area"] == 0.5 and nominal["act_fab_yield"] == pytest.approx(0.875)
    assert nominal["act_ic_packaging"] == pytest.approx(0.150)
    die = 10.0  # the MCU's typical die area, hsl_items.csv [mm2]
    hand = die / MM2_PER_CM2 * (0.583 * 0.57 + 0.1375 + 0.5) / 0.875 + 0.150
    assert _typical(model)["processing"] == pytest.approx(hand, rel=1e-12)
    assert hand == pytest.approx(0.2608, abs=1e-4)


def test_catalog_method_is_the_default_model():
    base = _typical(load_experiment(KWS).model)
    same = _typical(_model(processing="pirson_bol", casing={"pirson_bol": 1}))
    assert same == pytest.approx(base, rel=1e-15)


def test_li_ion_per_kwh_replaces_the_battery_item_only():
    model = _model(power_supply="li_ion_per_kwh")
    comp = model.components[model.component_names.index("power_supply")]
    option = comp.inputs["options"][0]
    assert "li_ion_battery_capacity" in option["quantities"] and "li_ion_battery_mass" not in option["quantities"]
    assert "li_ion_cell_factor_per_kwh" in option["factors"]
    # the factor is converted to the quantity's unit: 74 kg/kWh -> 0.074 kg/Wh
    assert model.parameters["li_ion_cell_factor_per_kwh"].unit == "kg CO2-eq/Wh"
    assert model.parameters["li_ion_cell_factor_per_kwh"].nominal == pytest.approx(0.074)
    plain = load_experiment(KWS).model
    base = _typical(plain)["power_supply"]
    battery = 7.2 * 0.074  # the published device's 7.2 Wh (typical) x 74 kg/kWh
    mass = float(plain.parameters.deterministic("typical")["li_ion_battery_mass"][0])
    others = base - mass * plain.parameters["li_ion_battery_factor"].nominal
    assert _typical(model)["power_supply"] == pytest.approx(others + battery, rel=1e-9)


def test_block_value_method_is_the_published_block_value_with_its_pedigree():
    model = _model(power_supply="boavizta_tide")
    p = model.parameters["boavizta_tide_power_supply_hsl2"]
    assert p.nominal == 4.64 and p.distribution.family == "lognormal" and p.pedigree is not None
    assert _typical(model)["power_supply"] == pytest.approx(4.64)


def test_mixture_picks_one_method_per_sample():
    model = _model(processing={"pirson_bol": 1, "act_die_area": 3})
    choice = model.parameters["method:processing"]
    assert choice.distribution.family == "categorical" and choice.status == "assumed"
    assert [choice.distribution.params[k] for k in ("w0", "w1")] == pytest.approx([0.25, 0.75])
    values = model.parameters.deterministic("typical")
    by = {}
    for k in (0.0, 1.0):
        v = dict(values)
        v["method:processing"] = np.array([k])
        by[k] = dict(zip(model.component_names, model.evaluate(v)[0]))["processing"]
    alone = {m: _typical(_model(processing=m))["processing"] for m in ("pirson_bol", "act_die_area")}
    assert by[0.0] == pytest.approx(alone["pirson_bol"]) and by[1.0] == pytest.approx(alone["act_die_area"])


def test_truncation_adds_the_gap_ratio_times_manufacturing():
    model = _model(truncation="company_reports")
    row = _typical(model)
    manufacturing = sum(v for c, v in row.items() if model.components[model.component_names.index(c)].stage
                        == "manufacturing" and c != "truncation")
    ratio = model.parameters["truncation_gap_ratio"].nominal
    assert ratio == pytest.approx(1.0)  # "a factor around 2x" (Pirson & Bol 2021)
    assert row["truncation"] == pytest.approx(ratio * manufacturing, rel=1e-12)
    # end of life is a share of the embodied footprint, the gap included
    eol = model.parameters["end_of_life_fraction"].nominal
    embodied = sum(v for c, v in row.items()
                   if model.components[model.component_names.index(c)].stage in ("manufacturing", "transport"))
    assert row["end_of_life"] == pytest.approx(eol * embodied, rel=1e-12)
    assert "truncation" not in _model(truncation="none").component_names


def test_methods_leave_the_published_reproduction_alone():
    plain = load_experiment(KWS)
    mixed = load_experiment(KWS).with_methods(processing={"pirson_bol": 1, "act_die_area": 1},
                                              truncation="company_reports")
    assert mixed.published_model.fingerprint() == plain.published_model.fingerprint()


@pytest.mark.parametrize("methods,path,words", [
    ({"processing": "nope"}, "methods.processing", "not a method for processing; allowed: pirson_bol"),
    ({"processing": {"pirson_bol": 1, "li_ion_per_kwh": 1}}, "methods.processing.li_ion_per_kwh",
     "not a method for processing"),
    ({"processing": {"pirson_bol": -1, "act_die_area": 1}}, "methods.processing.pirson_bol", "a weight is a number"),
    ({"processing": {"pirson_bol": 0, "act_die_area": 0}}, "methods.processing", "must not all be 0"),
    ({"ml_training": "pirson_bol"}, "methods.ml_training", "no methods for 'ml_training'"),
    ({"transport": "pirson_bol"}, "methods.transport", "no methods for 'transport'"),
    ({"truncation": "pirson_bol"}, "methods.truncation", "allowed: none, company_reports"),
])
def test_bad_methods_are_refused_with_the_key_path(methods, path, words):
    with pytest.raises(ConfigError) as err:
        _model(**methods)
    assert err.value.path == path and words in str(err.value)


def test_methods_and_a_replacing_distribution_are_refused():
    exp = load_experiment(KWS).with_components(processing={"family": "fixed", "value": 1.0})
    with pytest.raises(ConfigError, match="methods or a distribution, not both"):
        exp.with_methods(processing="act_die_area").model


def test_a_method_that_does_not_cover_the_block_is_not_offered():
    # the ACT die-area method has no IC in the casing: only the catalog and the block values compute it
    with pytest.raises(ConfigError, match="allowed: pirson_bol, boavizta_tide$"):
        _model(casing="act_die_area")


def test_method_options_are_the_methods_each_component_may_take():
    exp = load_experiment(KWS)
    options = exp.method_options()
    assert options["processing"] == ["pirson_bol", "act_die_area", "boavizta_tide"]
    assert options["power_supply"] == ["pirson_bol", "li_ion_per_kwh", "boavizta_tide"]
    assert options["truncation"] == ["none", "company_reports"]
    assert "transport" not in options and "ml_training" not in options
    # every option builds, and nothing else does
    for comp, methods in options.items():
        for m in methods:
            exp.with_methods(**{comp: m}).model
    # at another HSL, other methods: no Li-ion battery at HSL-1; a replaced component has none
    other = exp.with_blocks(power_supply=1).with_components(processing={"family": "fixed", "value": 0.2})
    assert "li_ion_per_kwh" not in other.method_options()["power_supply"]
    assert "processing" not in other.method_options()


def test_every_single_method_builds_a_model_whose_parameters_are_all_used(tmp_path):
    from uncertainty_footprint.analysis.engine import EngineOptions
    from uncertainty_footprint.analysis.exact import exact_indices
    from uncertainty_footprint.api import run

    exp = load_experiment(KWS)
    for comp, methods in exp.method_options().items():
        for m in methods:
            model = exp.with_methods(**{comp: m}).model
            used = set().union(*(c.parameter_names() for c in model.components))
            assert set(model.parameters.random_names) <= used, (comp, m)
            assert not used & {"pirson_bol", "none", m}, (comp, m)  # method names are not parameters
            exact_indices(model)  # every parameter has an owner
    # a single method, streamed (the constant columns are looked up by parameter name)
    single = exp.with_methods(pcb="tide_pcb", truncation="company_reports")
    memory = run(single, samples=3000, seed=2, design="mc", sobol=False)
    streamed = run(single, samples=3000, seed=2, design="mc", sobol=False, out=tmp_path / "s", figures=False,
                   engine=EngineOptions(stream=True, scheduler="synchronous", task_rows=1024))
    assert streamed.summary.loc["total", "mean"] == pytest.approx(memory.summary.loc["total", "mean"], rel=1e-12)
