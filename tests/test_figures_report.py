"""Tests of :mod:`uncertainty_footprint.reports.figures` and :mod:`uncertainty_footprint.reports.document`."""

import base64
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import xarray as xr
from matplotlib.figure import Figure
from matplotlib.text import Text

from uncertainty_footprint.reports import figures as F
from uncertainty_footprint.reports import document as R
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.model.builder import KG
from uncertainty_footprint.analysis.run import run_experiment

ROOT = Path(__file__).resolve().parents[1]
FIGURE_NAMES = ("total_distribution", "component_intervals", "component_intervals_log", "comparison_stacked",
                "sobol_indices", "convergence")
NUMBER = r"-?\d+\.\d+"


def synthetic_sobol(result, seed=0):
    """Small Sobol Datasets of the shape sensitivity.sobol_indices returns (per parameter, grouped)."""
    rng = np.random.default_rng(seed)
    ds = result.results

    def make(labels, dim):
        k = len(labels)
        st = rng.dirichlet(np.ones(k)) * 1.1
        return xr.Dataset({"S1": (dim, 0.8 * st), "S1_conf": (dim, np.full(k, 0.02)), "ST": (dim, st),
                           "ST_conf": (dim, np.full(k, 0.03))}, coords={dim: list(labels)},
                          attrs={"n_base": 256, "num_resamples": 100, "conf_level": 0.95})

    components = [c for c, v in zip(ds["component"].values, ds["footprint"].std("sample").values) if v > 0]
    return {"parameter": make(ds["parameter"].values.tolist(), "parameter"),
            "component": make(components, "group"),
            "stage": make(sorted(set(ds["stage"].values.tolist())), "group")}


def st_convergence(groups, seed=1):
    rng = np.random.default_rng(seed)
    n_base = np.array([64, 128, 256, 512])
    st = np.clip(rng.uniform(0, 0.5, len(groups))[None, :] + rng.normal(0, 0.02, (4, len(groups))), 0, 1)
    conf = 0.2 / np.sqrt(n_base[:, None] / 64) * np.ones_like(st)
    return xr.Dataset({"ST": (("n_base", "group"), st), "ST_conf": (("n_base", "group"), conf)},
                      coords={"n_base": n_base, "group": list(groups)})


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    result = run_experiment(ROOT / "experiments" / "kws.yaml", samples=2000, seed=7)
    catalog = load_catalog()
    sobol = synthetic_sobol(result)
    out = tmp_path_factory.mktemp("out")
    conv = xr.merge([F.running_statistics(result.results["total"].values),
                     st_convergence(sobol["component"]["group"].values.tolist())])
    fig_paths = F.write_figures(result, out, sobol=sobol, convergence=conv, catalog=catalog)
    report_paths = R.write_report(result, out, sobol=sobol, figures=fig_paths, catalog=catalog)
    return {"result": result, "catalog": catalog, "sobol": sobol, "out": out, "figures": fig_paths,
            "report": report_paths, "conv": conv}


# ------------------------------------------------------------------------------------------------ figures
def test_every_figure_file_is_written(run):
    out = run["out"] / "figures"
    expected = [out / f"{name}.{ext}" for name in FIGURE_NAMES for ext in ("png", "pdf")]
    assert sorted(run["figures"]) == sorted(expected)
    for path in expected:
        assert path.stat().st_size > 1000, path
    for name in FIGURE_NAMES:
        assert (out / f"{name}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (out / f"{name}.pdf").read_bytes()[:5] == b"%PDF-"
        assert name in F.FIGURE_CAPTIONS


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
        "total_distribution": F.total_distribution(ds, 2.66),
        "component_intervals": F.component_intervals(summary),
        "component_intervals_log": F.component_intervals(summary, log=True),
        "comparison_stacked": F.comparison_stacked(summary, ds, published=2.66),
        "sobol_indices": F.sobol_indices(run["sobol"]),
        "convergence": F.convergence(run["conv"]),
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
    F.total_distribution(run["result"].results)
    F.component_intervals(run["result"].summary, log=True)
    assert dict(matplotlib.rcParams) == before
    assert matplotlib.get_backend() == backend


def test_figures_without_sobol_or_references(run, tmp_path):
    result = run["result"]
    paths = F.write_figures(result, tmp_path, published=2.66)
    names = {p.stem for p in paths}
    assert "sobol_indices" not in names and {"total_distribution", "convergence", "comparison_stacked"} <= names
    # a results set without reference devices still gives the stacked bar
    fig = F.comparison_stacked(result.summary, result.results.drop_vars("reference_footprint"))
    assert len(fig.axes[0].get_xticklabels()) == 1


# ------------------------------------------------------------------------------------------------ running_statistics
def test_running_statistics_on_known_array():
    x = np.random.default_rng(3).permutation(np.arange(1.0, 1001.0))
    st = F.running_statistics(x, n_points=12)
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
    st = F.running_statistics(np.array([4.0, 2.0, 6.0]))
    assert st["n"].values.tolist() == [3] and st["mean"].values[0] == pytest.approx(4.0)
    with pytest.raises(ValueError):
        F.running_statistics(np.array([]))
    with pytest.raises(ValueError):
        F.running_statistics(np.ones(5), n_points=0)


def test_sobol_table_selects_the_total_output(run):
    ds = run["sobol"]["stage"]
    stacked = xr.concat([ds * 0, ds], dim=xr.DataArray(["first", "total"], dims="output", name="output"))
    table = F.indices_table(stacked)
    assert np.allclose(table["ST"].values, ds["ST"].values)
    assert list(table.columns) == ["S1", "S1_conf", "ST", "ST_conf"]


# ------------------------------------------------------------------------------------------------ report
def test_report_files(run):
    out = run["out"]
    assert run["report"] == [out / "report.md", out / "report.html", out / "table.tex"]
    assert all(p.stat().st_size > 0 for p in run["report"])


def _fmt(x, decimals):
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def test_table_tex_numbers_equal_summary(run):
    text = (run["out"] / "table.tex").read_text()
    assert "\\documentclass" not in text and "\\begin{document}" not in text
    assert text.index("\\toprule") < text.index("\\midrule") < text.index("\\bottomrule")
    summary = run["result"].summary
    ds = run["result"].results
    titles = dict(zip(ds["component"].values, ds["component_title"].values))
    rows = {}
    for line in text.splitlines():
        m = re.match(rf"\s*(.*?) & .*? & ({NUMBER}) & \[({NUMBER}), ({NUMBER})\] \\\\$", line)
        if m:
            rows[m.group(1)] = [m.group(2), m.group(3), m.group(4)]
    comp = summary[summary["level"] == "component"]
    assert len(rows) == len(comp) + 1
    d = R.TEX_DECIMALS
    for name, r in comp.iterrows():
        label = R.latex_escape(titles[name])
        assert rows[label] == [_fmt(r["median"], d), _fmt(r["p5"], d), _fmt(r["p95"], d)], name
        assert float(rows[label][0]) == pytest.approx(r["median"], abs=0.51 * 10 ** -d)
    tot = summary.loc["total"]
    assert rows["Total"] == [_fmt(tot["median"], d), _fmt(tot["p5"], d), _fmt(tot["p95"], d)]
    body = re.sub(r"\$[^$]*\$", "", "\n".join(ln for ln in text.splitlines() if not ln.startswith("%")))
    assert not re.search(r"(?<!\\)[_%#]", body), "unescaped LaTeX special character"


def test_latex_escape():
    assert R.latex_escape("a_b & 5% #1 {x} $") == r"a\_b \& 5\% \#1 \{x\} \$"


def test_report_md_numbers_equal_summary(run):
    text = (run["out"] / "report.md").read_text()
    summary = run["result"].summary
    d = R.REPORT_DECIMALS
    pattern = re.compile(rf"^\| (?:\*\*)?`([^`]+)`(?:\*\*)? \| (component|stage|total) \| ({NUMBER}) \| ({NUMBER}) \| "
                         rf"\[({NUMBER}), ({NUMBER})\] \| \[({NUMBER}), ({NUMBER})\] \| ({NUMBER}) % \|$", re.M)
    rows = {m.group(1): m.groups()[1:] for m in pattern.finditer(text)}
    assert set(rows) == set(summary.index)
    for name, r in summary.iterrows():
        expected = (r["level"], _fmt(r["mean"], d), _fmt(r["median"], d), _fmt(r["p5"], d), _fmt(r["p95"], d),
                    _fmt(r["p2_5"], d), _fmt(r["p97_5"], d), _fmt(100 * r["share"], R.SHARE_DECIMALS))
        assert rows[name] == expected, name
        assert float(rows[name][2]) == pytest.approx(r["median"], abs=0.51 * 10 ** -d)


def test_report_md_sections(run):
    text = (run["out"] / "report.md").read_text()
    ds = run["result"].results
    for heading in ("## Provenance", "## Results", "## Hotspots", "## Reproduction of the published point values",
                    "## Input parameters", "## Figures", "## How to cite"):
        assert heading in text
    for key in ("seed", "design", "config_sha256"):
        assert str(ds.attrs[key]) in text
    assert "Keyword spotting" in text and "python 3." in text
    # Sobol tables with the synthetic numbers
    st = run["sobol"]["stage"]["ST"].to_series()
    for stage, value in st.items():
        assert re.search(rf"\| `{stage}` \| {NUMBER} \| {NUMBER} \| {_fmt(value, R.SOBOL_DECIMALS)} \|", text)
    # deterministic table beside the published column, with the difference
    det = run["result"].deterministic
    pub = run["catalog"].published_table()["kws_typical"]
    line = re.search(r"^\| `casing` \| .*$", text.split("## Reproduction")[1], re.M).group(0)
    assert _fmt(det.loc["casing", "typical"], 4) in line and "0.27" in line
    assert _fmt(det.loc["casing", "typical"] - pub["casing"], 4) in line
    assert "kws\\_typical" in text or "kws_typical" in text
    # every parameter, every source cited, the two method notes
    for name in ds["parameter"].values:
        assert f"`{name}`" in text
    keys = {k for s in ds["source"].values for k in str(s).split(";") if k}
    for key in keys:
        assert f"`{key}`" in text and run["catalog"].sources[key][:40].replace("_", "\\_") in text.replace(
            "\\>", ">")
    assert "independent" in text and "corners" in text and "not percentiles" in text
    for name in FIGURE_NAMES:
        assert f"](figures/{name}.png)" in text


def test_assumed_parameters_highlighted(run):
    ds = run["result"].results
    assumed = ds.attrs["assumed_parameters"].split(",")
    assert assumed and all(ds["status"].sel(parameter=a).item() == "assumed" for a in assumed)
    md = (run["out"] / "report.md").read_text()
    html = (run["out"] / "report.html").read_text()
    assert "depends on assumptions" in md and 'class="box assumptions"' in html
    params_md = md.split("## Input parameters")[1].split("\n## ")[0].split("\n### ")[0]
    rows = [ln for ln in params_md.splitlines() if ln.startswith("| ") and "`" in ln]
    assert len(rows) == ds.sizes["parameter"]
    for i, row in enumerate(rows):  # assumed rows first, bold and marked
        if i < len(assumed):
            assert row.startswith(f"| **`{assumed[i]}`** | **ASSUMED** |"), row
        else:
            assert "ASSUMED" not in row and "**" not in row
    assert html.count('<tr class="assumed">') == len(assumed)
    for a in assumed:
        assert f'<tr class="assumed"><td class="l"><strong><code>{a}</code></strong>' in html


def test_report_html_is_self_contained(run):
    html = (run["out"] / "report.html").read_text()
    for value in re.findall(r"""\b(?:src|href)\s*=\s*["']([^"']*)""", html, re.I):
        assert not value.lower().startswith(("http://", "https://", "//")), value
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I)
    assert not re.search(r"<link[^>]*stylesheet", html, re.I) and "<link" not in html.lower()
    assert "@import" not in html and "url(" not in html and "@font-face" not in html
    pngs = [p for p in run["figures"] if p.suffix == ".png"]
    assert html.count("data:image/png;base64,") == len(pngs)
    for png in pngs:
        assert "data:image/png;base64," + base64.b64encode(png.read_bytes()).decode() in html
    assert "<style>" in html and html.rstrip().endswith("</html>")


def test_report_without_sobol_and_catalog_fallback(run, tmp_path):
    result = run["result"]
    paths = R.write_report(result, tmp_path)  # default catalog, no figures, no Sobol
    md = paths[0].read_text()
    assert "Sobol' sensitivity indices were not computed" in md
    assert "No figures were written" in md
    assert "published (kws\\_typical)" in md
    html = paths[1].read_text()
    assert "data:image/png" not in html
    same = R.latex_table(result)
    assert same == (run["out"] / "table.tex").read_text()
