"""The pure model functions: hand-computed values, broadcasting, and the component registry."""

import numpy as np
import pytest

from uncertainty_footprint.model import lifecycle
from uncertainty_footprint.model.builder import COMPONENT_KINDS, Component, LifecycleModel
from uncertainty_footprint.inputs.parameters import ParameterSet


def test_items_footprint_is_sum_of_products_and_broadcasts():
    q1, q2 = np.array([1.0, 2.0, 3.0]), 4.0
    f1, f2 = 0.5, np.array([0.1, 0.2, 0.3])
    got = lifecycle.items_footprint(quantities=[q1, q2], factors=[f1, f2])
    np.testing.assert_allclose(got, q1 * f1 + q2 * f2)
    assert lifecycle.items_footprint(quantities=[], factors=[]) == 0.0
    with pytest.raises(ValueError):
        lifecycle.items_footprint(quantities=[1.0], factors=[])


def test_transport_hand_computed():
    # 100 g over 300 km truck at 0.40 and 6775 km plane at 0.575 kg/(t km): 1e-4 t x (120 + 3895.625) kg/t
    got = lifecycle.transport_footprint(shipped_mass=100.0, truck_distance=300.0, plane_distance=6775.0,
                                        transport_truck_factor=0.40, transport_plane_factor=0.575)
    assert got == pytest.approx(1e-4 * (300 * 0.40 + 6775 * 0.575))


def test_use_stage_published_value():
    got = lifecycle.use_stage_footprint(average_power=1.0, lifetime=3.0, charging_efficiency=26.28 / 27.0,
                                        grid_carbon_intensity=884.2 / 2204.62)
    assert got == pytest.approx(27.0e-3 * 884.2 / 2204.62)  # 27.0 Wh at 0.401 kg/kWh


def test_use_stage_scales_linearly_and_inversely():
    base = dict(average_power=2.0, lifetime=4.0, charging_efficiency=0.8, grid_carbon_intensity=0.5)
    ref = lifecycle.use_stage_footprint(**base)
    assert ref == pytest.approx(2e-3 * 4 * 8760 / 1e3 / 0.8 * 0.5)
    assert lifecycle.use_stage_footprint(**{**base, "average_power": 4.0}) == pytest.approx(2 * ref)
    assert lifecycle.use_stage_footprint(**{**base, "charging_efficiency": 0.4}) == pytest.approx(2 * ref)


def test_average_power_from_inference_units():
    # 1000 uJ at 1 Hz = 1 mW, plus a 0.1 mW floor
    got = lifecycle.average_power_from_inference(energy_per_inference=1000.0, inference_rate=1.0, sleep_power=0.1)
    assert got == pytest.approx(1.1)


def test_training_and_end_of_life():
    assert lifecycle.training_footprint(training_energy_per_run=0.04, training_runs=3.0, training_pue=1.5,
                                        training_grid_intensity=0.5) == pytest.approx(0.09)
    np.testing.assert_allclose(lifecycle.end_of_life_footprint(embodied=np.array([1.0, 2.0]),
                                                               end_of_life_fraction=0.01), [0.01, 0.02])


def test_component_kinds_registry_covers_every_kind_used(catalog):
    """Every component of every shipped experiment (and of its balance model) has a registered kind: the model
    evaluates it through COMPONENT_KINDS, the benefit term through YEARLY_BENEFIT."""
    from tests.helpers import EXPERIMENTS
    from uncertainty_footprint.model.experiment import load_experiment
    from uncertainty_footprint.model.benefit import YEARLY_BENEFIT, build_balance
    from uncertainty_footprint.model.builder import build_model

    used, benefits = set(), set()
    for path in EXPERIMENTS:
        exp = load_experiment(path)
        model = build_model(exp, catalog)
        used |= {c.kind for c in model.components}
        balance = build_balance(exp, catalog, model)
        if balance is not None and balance.has_benefit:
            benefits.add(balance.kind)
    assert used <= set(COMPONENT_KINDS) and {"items", "transport", "end_of_life"} <= used
    assert benefits and benefits <= set(YEARLY_BENEFIT)


def test_end_of_life_uses_only_embodied_stages():
    comps = (Component("a", "manufacturing", "value", {"value": "x"}),
             Component("t", "transport", "value", {"value": "y"}),
             Component("u", "use", "value", {"value": "z"}),
             Component("end_of_life", "end_of_life", "end_of_life", {"fraction": "f"}))
    model = LifecycleModel(comps, ParameterSet([]))
    values = {"x": np.array([1.0, 2.0]), "y": np.array([0.5, 0.5]), "z": np.array([100.0, 100.0]),
              "f": np.array([0.1, 0.2])}
    out = model.evaluate(values)
    np.testing.assert_allclose(out[:, 3], [0.15, 0.5])
