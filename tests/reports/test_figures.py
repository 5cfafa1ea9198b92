"""Tests of :mod:`uncertainty_footprint.reports.figures` (and the figure plan of :mod:`~uncertainty_footprint.reports.drawing`)."""

import dataclasses
import re

import matplotlib
import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.text import Text

from uncertainty_footprint.analysis.convergence import running_statistics
from uncertainty_footprint.analysis.hotspots import indices_table
from uncertainty_footprint.analysis.summary import absent_components
from uncertainty_footprint.model.builder import KG
from uncertainty_footprint.reports import document as R
from uncertainty_footprint.reports import drawing as D
from uncertainty_footprint.reports import figures as F
from tests.reports.synthetic import FIGURE_NAMES

NUMBER = r"-?\d+\.\d+"


def test_every_figure_file_is_written(run):
    out = run["out"] / "figures"
    expected = [out / f"{name}.{ext}" for name in FIGURE_NAMES for ext in ("png", "pdf")]
    assert sorted(run["figures"]) == sorted(expected)
    for path in expected:
        assert path.stat().st_size > 1000, path
    for name in FIGURE_NAMES:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert name in R.FIGURE_CAPTIONS


def test_the_plan_lists_the_figures_written_in_their_order(run):
    plan = D.figure_plan(run["result"], run["sobol"], run["conv"], catalog=run["catalog"])
    assert list(plan) == list(FIGURE_NAMES)
    assert [p.name for p in run["figures"]] == [f"{n}.{ext}" for n in FIGURE_NAMES for ext in ("png", "pdf")]
    fig = plan["total_distribution"]()
    png, pdf = F.figure_files(fig)  # the bytes save_figure writes
    assert png == (run["out"] / "figures" / "total_distribution.png").read_bytes()
    assert pdf == (run["out"] / "figures" / "total_distribution.pdf").read_bytes()


def test_save_figure_returns_png_and_pdf(tmp_path):
    fig = Figure(figsize=(2, 2))
    fig.add_subplot().plot([0, 1], [0, 1])
    paths = F.save_figure(fig, tmp_path / "sub", "line")
    assert paths == [tmp_path / "sub" / "line.png", tmp_path / "sub" / "line.pdf"]
    assert all(p.stat().st_size > 0 for p in paths)


@pytest.fixture(scope="module")
def all_figures(run):
    result = run["result"]
    ds, summary = result.results, result.summary
    return {
        "total_distribution": F.plot_total_distribution(ds, 2.66),
        "component_intervals": F.plot_component_intervals(summary),
        "component_intervals_log": F.plot_component_intervals(summary, log=True),
        "comparison_stacked": F.plot_comparison_stacked(summary, ds, published=2.66),
        "sobol_indices": F.plot_sobol_indices(run["sobol"]),
        "convergence": F.plot_convergence(run["conv"]),
    }


def test_axis_labels_carry_units(all_figures):
    assert KG == "kg CO2-eq"
    assert KG in all_figures["total_distribution"].axes[0].get_xlabel()
    assert KG in all_figures["total_distribution"].axes[0].get_ylabel()
    assert KG in all_figures["component_intervals"].axes[0].get_xlabel()
    log_ax = all_figures["component_intervals_log"].axes[0]
    assert KG in log_ax.get_xlabel() and log_ax.get_xscale() == "log"
    stacked = all_figures["comparison_stacked"].axes[0]
    assert KG in stacked.get_ylabel() and stacked.get_yscale() == "log"
    conv_axes = all_figures["convergence"].axes
    assert len(conv_axes) == 2 and KG in conv_axes[0].get_ylabel() and "ST" in conv_axes[1].get_ylabel()
    sobol_axes = all_figures["sobol_indices"].axes
    assert len(sobol_axes) == 2 and all("Sobol" in ax.get_xlabel() for ax in sobol_axes)


def test_paper_sizes_and_fonts(all_figures):
    for name, fig in all_figures.items():
        assert isinstance(fig, Figure)
        width = fig.get_figwidth()
        assert min(abs(width - F.SINGLE_COLUMN), abs(width - F.DOUBLE_COLUMN)) < 0.05, name
        fig.draw_without_rendering()  # lays out the ticks and their labels
        sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
        for ax in fig.axes:
            sizes += [t.get_fontsize() for t in ax.get_xticklabels() + ax.get_yticklabels() if t.get_text()]
        assert sizes and min(sizes) >= 7, (name, min(sizes))


def test_grey_scale_distinguishable(all_figures):
    """Bars differ by hatch or grey level, intervals by line style, not by colour alone."""
    stacked = all_figures["comparison_stacked"].axes[0]
    styles = [(tuple(np.round(p.get_facecolor(), 3)), p.get_hatch()) for p in stacked.patches]
    assert len(set(styles)) == len(styles)  # every component and device bar has its own grey/hatch pair
    for p in stacked.patches:
        r, g, b, _ = p.get_facecolor()
        assert r == pytest.approx(g) == pytest.approx(b)  # grey levels
    styles = {ln.get_linestyle() for ln in all_figures["total_distribution"].axes[0].lines}
    assert {"-", "--", ":", "-."} <= styles


def test_figures_leave_rcparams_and_backend_alone(run):
    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    F.plot_total_distribution(run["result"].results)
    F.plot_component_intervals(run["result"].summary, log=True)
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


def test_figures_without_sobol_or_references(run, tmp_path):
    result = run["result"]
    assert result.sobol is None and result.exact  # the default (sobol.method auto): exact indices only
    paths = D.write_figures(result, tmp_path / "exact", published=2.66)
    names = {p.stem for p in paths}
    assert {"sobol_indices", "total_distribution", "convergence", "comparison_stacked"} <= names  # exact bars
    paths = D.write_figures(dataclasses.replace(result, exact=None), tmp_path / "none", published=2.66)
    names = {p.stem for p in paths}
    assert "sobol_indices" not in names and {"total_distribution", "convergence", "comparison_stacked"} <= names
    # a results set without reference devices still gives the stacked bar
    fig = F.plot_comparison_stacked(result.summary, result.results.drop_vars("reference_footprint"))
    assert len(fig.axes[0].get_xticklabels()) == 1


# ------------------------------------------------------------------------------------------------ running_statistics
def test_running_statistics_on_known_array():
    x = np.random.default_rng(3).permutation(np.arange(1.0, 1001.0))
    st = running_statistics(x, n_points=12)
    n = st["n"].values
    assert set(st.data_vars) == {"mean", "p2_5", "p97_5"} and st["mean"].dims == ("n",)
    assert n[0] == 10 and n[-1] == 1000 and np.all(np.diff(n) > 0) and len(n) <= 13
    for i, k in enumerate(n):
        assert st["mean"].values[i] == pytest.approx(np.mean(x[:k]), rel=1e-12)
        assert st["p2_5"].values[i] == pytest.approx(np.percentile(x[:k], 2.5), rel=1e-12)
        assert st["p97_5"].values[i] == pytest.approx(np.percentile(x[:k], 97.5), rel=1e-12)
    assert st["mean"].values[-1] == pytest.approx(500.5)
    assert st["mean"].attrs["units"] == KG


def test_running_statistics_small_and_invalid():
    st = running_statistics(np.array([4.0, 2.0, 6.0]))
    assert st["n"].values.tolist() == [3] and st["mean"].values[0] == pytest.approx(4.0)
    with pytest.raises(ValueError):
        running_statistics(np.array([]))
    with pytest.raises(ValueError):
        running_statistics(np.ones(5), n_points=0)


def test_sobol_table_selects_the_total_output(run):
    ds = run["sobol"]["stage"]
    stacked = xr.concat([ds * 0, ds], dim=xr.DataArray(["first", "total"], dims="output", name="output"))
    table = indices_table(stacked)
    assert np.allclose(table["ST"].values, ds["ST"].values)
    assert list(table.columns) == ["S1", "S1_conf", "ST", "ST_conf"]


# ------------------------------------------------------------------------------------------------ report
def _texts(fig):
    """Every visible non-empty text of a drawn figure (titles, labels, tick labels, legends, annotations)."""
    return [t.get_text() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]


def _legend_texts(fig):
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [t.get_text() for leg in legends for t in leg.get_texts()]


def test_total_distribution_content(run):
    ds = run["result"].results
    total = ds["total"].values
    fig = F.plot_total_distribution(ds, 2.66, published_label="published (kws_typical)")
    ax = fig.axes[0]
    p = np.percentile(total, [0.1, 2.5, 5.0, 50.0, 95.0, 97.5, 99.9])
    (steps, outline) = [a for a in ax.patches if type(a).__name__ == "StepPatch"]
    values, edges, _ = steps.get_data()
    expected, expected_edges = np.histogram(total, bins=44, range=(p[0], p[-1]), density=True)  # sqrt(2000)
    np.testing.assert_allclose(values, expected)
    np.testing.assert_allclose(edges, expected_edges)
    np.testing.assert_allclose(outline.get_data()[0], expected)
    vlines = sorted(float(ln.get_xdata()[0]) for ln in ax.lines if ln.get_linestyle() != "None")
    np.testing.assert_allclose(vlines, sorted([p[1], p[2], p[3], p[4], p[5], 2.66]))
    assert _legend_texts(fig) == ["Monte Carlo samples", f"median {p[3]:.2f}",
                                  f"90 % interval [{p[2]:.2f}, {p[4]:.2f}]", f"95 % interval [{p[1]:.2f}, {p[5]:.2f}]",
                                  "published (kws_typical): 2.66"]
    assert ax.get_xlabel() == f"Total footprint per device [{KG}]"


def _drawn_components(summary, log: bool):
    """The rows a component-interval figure draws, bottom to top: absent components never, and on a log axis no
    component whose 97.5th percentile is 0."""
    comp = summary[summary["level"] == "component"].drop(index=absent_components(summary))
    comp = comp.sort_values("median", kind="stable")
    return comp[comp["p97_5"] > 0] if log else comp


def test_component_intervals_content(run):
    summary, ds = run["result"].summary, run["result"].results
    titles = dict(zip(ds["component"].values, ds["component_title"].values))
    for log in (False, True):
        fig = F.plot_component_intervals(summary, log=log, titles=titles)
        ax = fig.axes[0]
        comp = _drawn_components(summary, log)
        fig.draw_without_rendering()
        assert [t.get_text() for t in ax.get_yticklabels()] == [titles[c] for c in comp.index]
        floor = ax.get_xlim()[0] if log else -np.inf
        wide, thick = ax.collections[:2]
        for segments, (lo, hi) in ((wide.get_segments(), ("p2_5", "p97_5")), (thick.get_segments(), ("p5", "p95"))):
            np.testing.assert_allclose([s[0][0] for s in segments], np.maximum(comp[lo], floor))
            np.testing.assert_allclose([s[1][0] for s in segments], np.maximum(comp[hi], floor))
        np.testing.assert_allclose(ax.lines[0].get_xdata(), np.maximum(comp["median"], floor))
        assert _legend_texts(fig) == ["95 % interval", "90 % interval", "median"]
        absent = absent_components(summary)  # kws: actuators, connectivity, memory, security: named once, no rows
        assert absent and all(titles[a] not in [t.get_text() for t in ax.get_yticklabels()] for a in absent)
        named = ax.get_title(loc="left").replace("\n", " ")
        assert named.startswith("omitted (zero): ") and all(F._label(a) in named for a in absent)
    # plain-text decade labels on the log axis (no mathtext), e.g. 0.001 ... 1
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert labels and all("$" not in t for t in labels) and "0.01" in labels and "1" in labels
    assert ax.get_title(loc="left").startswith("omitted (zero): ")


def test_comparison_stacked_content(run):
    summary, ds = run["result"].summary, run["result"].results
    fig = F.plot_comparison_stacked(summary, ds, published=2.66)
    ax = fig.axes[0]
    comp = summary[summary["level"] == "component"]
    comp = comp[comp["mean"] > 0].sort_values("mean", ascending=False, kind="stable")
    bars = [p for p in ax.patches if abs(p.get_x() + p.get_width() / 2) < 1e-9]
    tops = [p.get_y() + p.get_height() for p in bars]
    np.testing.assert_allclose(tops, np.cumsum(comp["mean"].values))  # the stack sums to the mean total
    refs = [p for p in ax.patches if p.get_x() > 0.5]
    np.testing.assert_allclose([p.get_y() + p.get_height() for p in refs], ds["reference_footprint"].values)
    assert f"{F.PUBLISHED_LABEL}: total 2.66" in [" ".join(t.split()) for t in _legend_texts(fig)]  # wrapped
    assert F.PUBLISHED_LABEL == "published, Prakash et al. 2023"  # words, not the column id kws_typical


def test_sobol_indices_content(run):
    sobol = run["sobol"]
    fig = F.plot_sobol_indices(sobol, top=4)
    by_component, by_parameter = fig.axes
    table = indices_table(sobol["parameter"]).sort_values("ST", ascending=False, kind="stable").head(4)
    widths = [p.get_width() for p in by_parameter.patches]
    np.testing.assert_allclose(widths[:4], table["S1"].values[::-1])  # largest at the top
    np.testing.assert_allclose(widths[4:], table["ST"].values[::-1])
    assert by_parameter.get_title(loc="left") == "Top 4 parameters by ST"
    assert by_component.get_title(loc="left") == "By component"
    assert _legend_texts(fig) == ["S1 (first order)", "ST (total order)"]
    assert fig.legends[0].get_title().get_text() == "bars: 95 % bootstrap confidence intervals"


def test_convergence_content(run):
    conv = run["conv"]
    fig = F.plot_convergence(conv)
    running, st = fig.axes
    mean_line = [ln for ln in running.lines if ln.get_label() == "mean"][0]
    np.testing.assert_allclose(mean_line.get_xdata(), conv["n"].values)
    np.testing.assert_allclose(mean_line.get_ydata(), conv["mean"].values)
    fig.draw_without_rendering()
    lo, hi = st.get_xlim()
    shown = [t.get_text() for t, x in zip(st.get_xticklabels(), st.get_xticks()) if lo <= x <= hi]
    assert shown == ["64", "128", "256", "512"]  # plain numbers on the base-2 axis
    assert st.get_title(loc="left").startswith("ST of the top 5 groups")


def test_plain_log_labels():
    fmt = F._PlainLogFormatter()
    assert [fmt(x) for x in (0.001, 0.1, 1.0, 100.0, 3.0)] == ["0.001", "0.1", "1", "100", ""]
    fig = Figure(figsize=(3, 2))
    ax = fig.add_subplot()
    ax.plot([1e-6, 1e2], [1, 2])
    F._log_axis(ax, "x")
    fig.draw_without_rendering()
    labels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert "10\u207b\u2076" in labels and "10\u00b2" in labels  # 10^-6 and 10^2 with Unicode superscripts


def test_saving_keeps_the_figure_and_its_content(run, tmp_path):
    fig = F.plot_convergence(run["conv"])
    fig.draw_without_rendering()
    before = (_texts(fig), [ln.get_xydata().tolist() for ax in fig.axes for ln in ax.lines])
    engine, canvas, dpi = fig.get_layout_engine(), fig.canvas, fig.dpi
    F.save_figure(fig, tmp_path, "conv")
    assert fig.get_layout_engine() is engine and fig.canvas is canvas and fig.dpi == dpi
    fig.draw_without_rendering()
    assert (_texts(fig), [ln.get_xydata().tolist() for ax in fig.axes for ln in ax.lines]) == before


def test_pdf_fonts_png_mode_and_reproducible_files(run, tmp_path):
    from PIL import Image

    fig = F.plot_sobol_indices(run["sobol"])  # its texts contain "fi" (first, confidence): no ligature subset
    a = F.save_figure(fig, tmp_path / "a", "s")
    b = F.save_figure(fig, tmp_path / "b", "s")
    pdf = a[1].read_bytes()
    assert pdf == b[1].read_bytes() and a[0].read_bytes() == b[0].read_bytes()
    assert b"/Type3" not in pdf and b"/CIDFontType2" in pdf and b"CreationDate" not in pdf
    assert len(set(re.findall(rb"/BaseFont /(\w+\+\w+)", pdf))) == 1  # one font subset
    with Image.open(a[0]) as png:
        assert png.mode == "L" and png.size == (round(F.DOUBLE_COLUMN * F.PNG_DPI), round(fig.get_figheight()
                                                                                          * F.PNG_DPI))


def test_comparison_figure_uses_the_shared_style(tmp_path):
    from types import SimpleNamespace

    import pandas as pd

    rng = np.random.default_rng(2)
    a = rng.lognormal(1.0, 0.2, 500)
    totals = xr.Dataset({"total": (("experiment", "sample"), np.stack([a, a * 0.9, a + rng.normal(0, 0.1, 500)]))},
                        coords={"experiment": ["kws", "kws_low_carbon_grid", "kws_coin_cell"]})
    index = pd.MultiIndex.from_tuples([("kws", "kws_low_carbon_grid"), ("kws", "kws_coin_cell")])
    comp = SimpleNamespace(totals=totals, differences=pd.DataFrame({"p_a_lt_b": [0.0, 0.5]}, index=index))
    fig = F.plot_comparison(comp)
    assert abs(fig.get_figwidth() - F.DOUBLE_COLUMN) < 0.05
    boxes, diffs = fig.axes
    assert KG in boxes.get_ylabel() and KG in diffs.get_xlabel()
    assert _legend_texts(fig) == ["kws low carbon grid - kws, P(A < B) = 0.00",
                                  "kws coin cell - kws, P(A < B) = 0.50"]
    assert fig.legends and not diffs.get_legend()  # the legend under the figure, as in the other figures
    steps = [p for p in diffs.patches if type(p).__name__ == "StepPatch"]
    assert len(steps) == 2 and len({p.get_linestyle() for p in steps}) == 2
    medians = [ln.get_xdata()[0] for ln in diffs.lines if ln.get_marker() == "v"]
    np.testing.assert_allclose(medians, [np.median(a * 0.9 - a), np.median(totals["total"].values[2] - a)])
    assert diffs.get_title(loc="left").startswith("Paired differences") and boxes.get_title(loc="left")
    assert int(steps[0].get_data()[0].sum()) >= 495  # the central 99 % of the first difference is drawn
    png, pdf = F.save_figure(fig, tmp_path, "comparison")
    assert b"/Type3" not in pdf.read_bytes() and b"CreationDate" not in pdf.read_bytes()


def test_component_intervals_mark_the_published_values(run):
    """The published per-component values (the catalog's column for the run's application) are marked on each
    component's row, labelled in words; zero published values are left out on the log axis."""
    summary, ds = run["result"].summary, run["result"].results
    column, _ = R.resolve_published(run["result"].experiment.spec.application, None, run["catalog"])
    assert column.name == "kws_typical"
    for log in (False, True):
        fig = F.plot_component_intervals(summary, log=log, published=column)
        ax = fig.axes[0]
        comp = _drawn_components(summary, log)
        rows = [(i, float(column[c])) for i, c in enumerate(comp.index) if not log or column[c] > 0]
        marks = ax.lines[1]
        assert marks.get_label() == F.PUBLISHED_LABEL and marks.get_marker() == "v"
        np.testing.assert_allclose(marks.get_xdata(), [v for _, v in rows])  # at the published value
        np.testing.assert_allclose(marks.get_ydata(), [i + F._PUBLISHED_OFFSET for i, _ in rows])  # its row
        assert _legend_texts(fig) == ["95 % interval", "90 % interval", "median", "published, Prakash et al. 2023"]
    assert len(rows) < len(comp)  # end of life is 0.00 in the published table: not drawn on the log axis
    # write_figures uses the catalog's column and the words label for every published mark
    fig = F.plot_total_distribution(ds, float(column["total"]))
    assert _legend_texts(fig)[-1] == "published, Prakash et al. 2023: 2.66"
    assert F.published_label(column) == F.PUBLISHED_LABEL and F.published_label(column, 2.66) == "published"


def synthetic_second_order(groups, seed=3):
    """A Sobol' Dataset with S2 in its upper triangle (NaN below), as the Sobol' module returns it."""
    rng = np.random.default_rng(seed)
    k = len(groups)
    s2 = np.triu(rng.uniform(-0.02, 0.1, (k, k)), 1)
    s2[np.tril_indices(k)] = np.nan
    conf = np.where(np.isnan(s2), np.nan, 0.03)
    return xr.Dataset({"S1": ("group", rng.uniform(0, 0.3, k)), "S1_conf": ("group", np.full(k, 0.02)),
                       "ST": ("group", np.linspace(0.9, 0.1, k)), "ST_conf": ("group", np.full(k, 0.03)),
                       "S2": (("group", "group_2"), s2), "S2_conf": (("group", "group_2"), conf)},
                      coords={"group": list(groups), "group_2": list(groups)}, attrs={"conf_level": 0.95})


def test_second_order_heat_map_content(run, tmp_path):
    groups = ["power_supply", "transport", "casing", "pcb", "processing"]
    full = synthetic_second_order(groups)
    ds = full.assign(ST=("group", [0.5, 0.9, 0.7, 0.1, 0.3]))  # ST order: transport, casing, power supply, ...
    fig = F.plot_second_order(ds, top=4, titles={"pcb": "PCB"})
    ax = fig.axes[0]
    fig.draw_without_rendering()
    shown = ["transport", "casing", "power_supply", "processing"]  # the four largest ST, largest first
    assert [t.get_text() for t in ax.get_yticklabels()] == ["transport", "casing", "power supply"]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["casing", "power\nsupply", "processing"]  # wrapped
    cells = {(round(float(t.get_position()[1])), round(float(t.get_position()[0]))): t for t in ax.texts}
    assert len(cells) == 6 == len(ax.patches)  # one cell per pair of the 4 groups
    for (r, c), text in cells.items():
        a, b = shown[r], shown[c + 1]
        i, j = sorted((groups.index(a), groups.index(b)))
        value = float(full["S2"].values[i, j])
        assert text.get_text() == f"{value:.2f}".replace("-0.00", "0.00")
        assert (text.get_color() == "black") == (abs(value) > 0.03)  # grey: the interval includes 0
    assert "S2" in fig.axes[1].get_xlabel() and "[-]" in fig.axes[1].get_xlabel()  # the colour bar
    assert "95 % confidence interval includes 0" in fig.get_suptitle().replace("\n", " ")
    with pytest.raises(ValueError, match="second-order"):
        F.plot_second_order(ds.drop_vars(["S2", "S2_conf"]))
    # write_figures draws it when the Sobol' results have S2 (by component)
    sobol = dict(run["sobol"])
    sobol["component"] = synthetic_second_order(sobol["component"]["group"].values.tolist())
    paths = D.write_figures(run["result"], tmp_path, sobol=sobol, convergence=run["conv"], catalog=run["catalog"])
    assert {p.name for p in paths} >= {"second_order.png", "second_order.pdf"}


def test_the_figure_font_gives_the_same_pixels(run, tmp_path, monkeypatch):
    """The shipped figure font (DejaVu Sans reduced to the characters figures use) draws the pixels of the full
    font; the PDF embeds it alone; without it the full DejaVu Sans is used."""
    from PIL import Image

    assert F._figure_family() == [F.FIGURE_FONT_FAMILY, "DejaVu Sans"]
    small = F.save_figure(F.plot_total_distribution(run["result"].results, 2.66), tmp_path / "small", "t")
    assert set(re.findall(rb"/BaseFont /\w+\+(\w+)", small[1].read_bytes())) == {b"DejaVuSansUF"}
    monkeypatch.setattr(F, "_figure_family", lambda: None)
    full = F.save_figure(F.plot_total_distribution(run["result"].results, 2.66), tmp_path / "full", "t")
    assert set(re.findall(rb"/BaseFont /\w+\+(\w+)", full[1].read_bytes())) == {b"DejaVuSans"}
    with Image.open(small[0]) as a, Image.open(full[0]) as b:
        assert np.array_equal(np.asarray(a), np.asarray(b))
