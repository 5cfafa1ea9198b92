"""The report of a run with correlated inputs: the pairs, the intervals with and without, Shapley hotspots."""

from __future__ import annotations

import pytest

from tests.helpers import EXPERIMENTS_DIR
from uncertainty_footprint.api import run
from uncertainty_footprint.reports import document as R


@pytest.fixture(scope="module")
def result():
    return run(EXPERIMENTS_DIR / "kws_correlated.yaml", samples=2000, seed=3)


def test_report_shows_the_correlations_and_both_intervals(result, tmp_path):
    context = R.report_context(result, tmp_path, catalog=result.catalog)
    dep = context["dependence"]
    assert len(dep["pairs"].rows) == 4
    assert dep["pairs"].rows[0][4].startswith("inferred: the shipped total weight")
    total = dep["sides"].rows[-1]
    assert total[0] == [("strong_code", "total")]
    w = result.dependence.without.loc["total"]
    assert total[3] == R._num(w["median"]) and total[4] == R._interval(w["p5"], w["p95"])
    text = R.render_markdown(context)
    assert "## Correlated inputs" in text and "90 % interval, independent" in text
    assert 'id="correlations"' in R.render_html(context)


def test_report_hotspots_are_the_shapley_effects(result, tmp_path):
    context = R.report_context(result, tmp_path, catalog=result.catalog)
    titles = [s["title"] for s in context["hotspots"]]
    assert titles[:2] == ["By component", "By stage"] and titles[2].startswith("By parameter")
    first = context["hotspots"][0]["tables"][0]
    assert first.header[:2] == ["Component", "Shapley"]
    shares = [float(row[1]) for row in first.rows]
    assert shares == sorted(shares, reverse=True)
    note = " ".join(t for _, t in context["notes"][0])
    assert "Shapley effects" in note and "not shares of the variance" in note
