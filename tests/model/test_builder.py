"""The deterministic (published-method) mode reproduces every published value of Prakash et al. (2023)."""

import pandas as pd
import pytest

from tests.helpers import REFERENCE_DIR, ROOT
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.model.experiment import load_experiment
from uncertainty_footprint.model.builder import build_model

from uncertainty_footprint.analysis.summary import deterministic_table

SHARED = REFERENCE_DIR / "tinyml_footprint_2023.csv"

# published column -> (experiment file, deterministic scenario)
COLUMNS = {
    "kws_lower": ("kws.yaml", "lower"),
    "kws_typical": ("kws.yaml", "typical"),
    "ad_typical": ("anomaly_detection.yaml", "typical"),
    "ic_typical": ("image_classification.yaml", "typical"),
    "ic_upper": ("image_classification.yaml", "upper"),
}
COMPONENT_TOL = 0.005  # published values are rounded to 0.01 kg
TOTAL_TOL = 0.02


@pytest.fixture(scope="module")
def published():
    return load_catalog().published_table()


@pytest.fixture(scope="module")
def deterministic():
    cat = load_catalog()
    out = {}
    for fname in {f for f, _ in COLUMNS.values()}:
        model = build_model(load_experiment(ROOT / "experiments" / fname), cat, published_method=True)
        out[fname] = deterministic_table(model)
    return out


def test_shipped_published_table_matches_reference(published):
    if not SHARED.exists():
        pytest.skip("shared reference folder not present")
    reference = pd.read_csv(SHARED, comment="#", index_col="component")
    pd.testing.assert_frame_equal(published, reference)


def _cases():
    table = pd.read_csv(ROOT / "distributions" / "published_tinyml_2023.csv", comment="#", index_col="component")
    for column in COLUMNS:
        for component in table.index:
            yield column, component


@pytest.mark.parametrize("column,component", list(_cases()))
def test_component_reproduces_published_value(column, component, published, deterministic):
    fname, scenario = COLUMNS[column]
    got = deterministic[fname].loc[component, scenario]
    expected = published.loc[component, column]
    tol = TOTAL_TOL if component == "total" else COMPONENT_TOL
    assert abs(got - expected) <= tol, f"{column} {component}: model {got:.4f} vs published {expected:.2f}"


def test_every_published_column_and_component_is_checked(published):
    assert set(published.columns) == set(COLUMNS)
    model = build_model(load_experiment(ROOT / "experiments" / "kws.yaml"), load_catalog(), published_method=True)
    assert set(published.index) == set(model.component_names) | {"total"}


def test_use_stage_matches_unrounded_spreadsheet(deterministic):
    # 27.0 Wh x 884.2 lb/MWh / 2204.62 lb/t = 0.01082880496 kg (the spreadsheet behind the published 0.01)
    assert deterministic["kws.yaml"].loc["use_stage", "typical"] == pytest.approx(0.01082880496, rel=2e-4)


def test_published_method_ignores_model_options_but_monte_carlo_uses_them():
    exp = load_experiment(ROOT / "experiments" / "kws.yaml")
    cat = load_catalog()
    assert exp.spec.training.model == "energy"
    mc_model = build_model(exp, cat)
    det_model = build_model(exp, cat, published_method=True)
    kinds = {c.name: c.kind for c in mc_model.components}
    assert kinds["ml_training"] == "training_energy"
    assert {c.name: c.kind for c in det_model.components}["ml_training"] == "value"
    assert "training_runs" in mc_model.parameters and "training_runs" not in det_model.parameters
