"""balance.csv, the balance figure, the report section and the printed lines."""

import warnings

import pandas as pd
import pytest

from tests.helpers import EXPERIMENTS_DIR
from uncertainty_footprint.analysis.payback import BALANCE_COLUMNS, balance_analysis
from uncertainty_footprint.analysis.propagate import run_monte_carlo
from uncertainty_footprint.model.experiment import load_experiment
from uncertainty_footprint.model.benefit import build_balance
from uncertainty_footprint.model.builder import build_model
from uncertainty_footprint.reports import payback_report as rb
from uncertainty_footprint.reports.drawing import BALANCE_FIGURE, balance_plan
from uncertainty_footprint.reports.figures import save_figure
from uncertainty_footprint.reports.document import _environment


@pytest.fixture(scope="module")
def result():
    from uncertainty_footprint.inputs.catalog import load_catalog

    catalog = load_catalog()
    exp = load_experiment(EXPERIMENTS_DIR / "smart_building_lighting.yaml")
    b = build_balance(exp, catalog, build_model(exp, catalog))
    ds = run_monte_carlo(b.footprint, n=400, design="lhs", seed=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # N = 64 has wide intervals
        return balance_analysis(b, ds, design="lhs", seed=3, groupings=["component", "parameter"], sobol_samples=64)


def test_balance_table_has_the_summary_columns_and_rows(result, tmp_path):
    result.table.to_csv(tmp_path / "balance.csv", float_format="%.6g")  # as io.writers writes balance.csv
    (name, plot), = balance_plan(result).items()
    assert [p.name for p in save_figure(plot(), tmp_path / "figures", name)] == ["balance.png", "balance.pdf"]
    assert balance_plan(None) == {} and name == BALANCE_FIGURE
    table = pd.read_csv(tmp_path / "balance.csv", index_col="name")
    assert list(table.columns[:len(BALANCE_COLUMNS)]) == list(BALANCE_COLUMNS)
    assert {"net_balance", "payback_years", "p_offset", "fleet_devices", "fleet_footprint",
            "fleet_net_balance"} <= set(table.index)
    assert table.loc["fleet_footprint", "unit"] == "t CO2-eq/yr" and table.loc["payback_years", "unit"] == "yr"
    p = table.loc["p_offset"]
    assert p["p2_5"] <= p["p5"] <= p["mean"] <= p["p95"] <= p["p97_5"]
    assert table.loc["net_balance", "exact_mean"] == pytest.approx(table.loc["net_balance", "mean"], rel=0.5)
    assert (tmp_path / "figures" / "balance.png").stat().st_size > 0


@pytest.mark.parametrize("kind", ["markdown", "html"])
def test_the_report_section_renders_with_both_formats(result, kind):
    env = _environment(kind)
    fmt = "markdown.j2" if kind == "markdown" else "html.j2"
    template = env.from_string('{% import "' + fmt + '" as f %}{% include "balance.j2" %}')
    text = template.render(balance=rb.balance_context(result), KG="kg CO2-eq")
    assert "Does it pay back?" in text and "Pays back its own footprint within" in text
    assert "Pirson" in text and "Net balance: exact indices by component" in text
    assert "Payback time: sampled indices by component" in text


def test_printed_lines(result):
    lines = rb.balance_lines(result)
    assert lines[0] == "Does it pay back?" and lines[1].startswith("Pays back")
    text = "\n".join(lines)
    assert "net_balance" in text and "p_offset" in text and "Mt CO2-eq" in text and "ST" in text
