"""Methods side by side in the figures, the report and the terminal: what a run with ``methods:`` shows."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.helpers import EXPERIMENTS_DIR, KWS
from uncertainty_footprint.analysis.method_runs import MIXTURE, method_choices
from uncertainty_footprint.api import run
from uncertainty_footprint.model.experiment import load_experiment
from uncertainty_footprint.reports import document as R
from uncertainty_footprint.reports import drawing as D
from uncertainty_footprint.reports import figures as F
from uncertainty_footprint.reports.terminal import format_methods, result_report


@pytest.fixture(scope="module")
def result():
    return run(EXPERIMENTS_DIR / "kws_methods.yaml", samples=2000, seed=3, sobol=False)


def test_the_plan_draws_the_methods_only_for_a_run_with_methods(result):
    plan = D.figure_plan(result, catalog=result.catalog)
    assert D.METHODS_FIGURE in plan and D.METHODS_FIGURE in R.FIGURE_CAPTIONS
    plain = run(KWS, samples=500, sobol=False)
    assert D.METHODS_FIGURE not in D.figure_plan(plain, catalog=plain.catalog)


def test_methods_figure_shows_each_method_and_the_mixture(result):
    components = {c: m for c, (_, m) in method_choices(result.experiment.model).items() if len(m) > 1}
    fig = F.plot_methods(result.methods, components)
    total, parts = fig.axes[:2]
    methods = list(dict.fromkeys(result.methods["method"]))
    assert [t.get_text() for t in total.get_yticklabels()] == [m.replace("_", " ") for m in methods[::-1]]
    # every method's median is drawn where the table says
    table = result.methods[result.methods["name"] == "total"].set_index("method")
    medians = [line.get_xdata()[0] for line in total.lines if line.get_marker() not in ("|", "None")]
    assert sorted(medians) == pytest.approx(sorted(table["median"]))
    assert parts.get_xscale() == "log"
    labels = [t.get_text() for t in parts.get_yticklabels()]
    assert "power supply" in labels and "truncation" in labels
    titled = F.plot_methods(result.methods, components, titles={"power_supply": "Battery and charger"})
    assert "Battery and charger" in [t.get_text() for t in titled.axes[1].get_yticklabels()]
    # a zero (the TIDE sensing block at HSL-1) is drawn at the left edge of the log axis, not lost
    left = parts.get_xlim()[0]
    xs = np.concatenate([line.get_xdata() for line in parts.lines])
    assert np.all(xs >= left) and np.any(xs == left)
    # one legend entry per method, then the interval and the mean
    legend = [t.get_text() for t in fig.legends[0].get_texts()]
    assert legend[:len(methods)] == [m.replace("_", " ") for m in methods]
    png, pdf = F.figure_files(fig)
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and pdf[:5] == b"%PDF-"


def test_methods_figure_without_components_draws_the_total_only(result):
    fig = F.plot_methods(result.methods)
    assert len(fig.axes) == 1


def test_report_has_a_methods_section(result, tmp_path):
    context = R.report_context(result, tmp_path, catalog=result.catalog)
    section = context["methods"]
    assert [row[0][0][1] for row in section["totals"].rows] == list(dict.fromkeys(result.methods["method"]))
    assert section["share"] is not None and float(section["share"].rstrip(" %")) > 50
    text = R.render_markdown(context)
    assert "## Methods compared" in text and "`method:power_supply`" in text
    assert "act\\_die\\_area 0.33" in text  # the weights of the shipped equal mixture
    html = R.render_html(context)
    assert 'id="methods"' in html
    plain = run(KWS, samples=500, sobol=False)
    assert R.report_context(plain, tmp_path, catalog=plain.catalog)["methods"] is None
    assert "Methods compared" not in R.render_markdown(R.report_context(plain, tmp_path, catalog=plain.catalog))


def test_terminal_prints_the_totals_by_method(result):
    text = format_methods(result.methods)
    for method in dict.fromkeys(result.methods["method"]):
        assert f"\n{method} " in text
    assert all(len(line) <= 110 for line in text.splitlines())
    assert "Total by method" in result_report(result)
    row = result.methods[(result.methods["method"] == MIXTURE) & (result.methods["name"] == "total")].iloc[0]
    assert f"{row['median']:.3f}" in text


def test_methods_csv_is_written_with_the_run(tmp_path):
    out = tmp_path / "out"
    res = run(load_experiment(KWS).with_methods(processing={"pirson_bol": 1, "act_die_area": 1}), samples=800,
              out=out, figures=False, sobol=False)
    table = pd.read_csv(out / "methods.csv")
    assert list(table.columns) == ["name", "method", "mean", "median", "p5", "p95"]
    assert list(dict.fromkeys(table["method"])) == ["pirson_bol", "act_die_area", MIXTURE]
    pd.testing.assert_frame_equal(table, res.methods.reset_index(drop=True), rtol=1e-5)
