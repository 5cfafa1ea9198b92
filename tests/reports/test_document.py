"""Tests of :mod:`uncertainty_footprint.reports.document`: report.md, report.html and table.tex."""

import base64
import re

import numpy as np
import pytest
import xarray as xr

import uncertainty_footprint as uf
from tests.helpers import ROOT
from uncertainty_footprint.analysis.hotspots import indices_table
from uncertainty_footprint.analysis.summary import absent_components
from uncertainty_footprint.inputs.catalog import CORNERS_NOTE
from uncertainty_footprint.model.builder import KG
from uncertainty_footprint.reports import document as R
from tests.reports.synthetic import FIGURE_NAMES

NUMBER = r"-?\d+\.\d+"


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
    absent = absent_components(summary)
    comp = summary[summary["level"] == "component"].drop(index=absent)
    assert len(rows) == len(comp) + 1 and not set(absent) & set(rows)  # absent components: named once, no row
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
    absent = absent_components(summary)
    assert absent and set(rows) == set(summary.index) - set(absent)  # kws has absent components: listed once
    for name, r in summary.drop(index=absent).iterrows():
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
    stamp = uf.provenance(run["result"])
    for key in ("seed", "design", "config_sha256"):
        assert str(stamp[key]) in text
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
    assumed = uf.provenance(run["result"])["assumed_parameters"].split(",")
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
    result = run["result"].replace(exact=None)  # no exact decomposition either
    paths = R.write_report(result, tmp_path)  # default catalog, no figures, no Sobol
    md = paths[0].read_text()
    assert "Sobol' sensitivity indices were not computed" in md
    assert "No figures were written" in md
    assert "published (kws\\_typical)" in md
    html = paths[1].read_text()
    assert "data:image/png" not in html
    same = R.latex_table(result)
    assert same == (run["out"] / "table.tex").read_text()


# ------------------------------------------------------------------------------------------------ figure content
def test_corners_note_written_once_in_the_package(run):
    """The paragraph on the published corners is stated once (inputs/catalog.py) and shown once per report."""
    md = (run["out"] / "report.md").read_text()
    assert md.count(CORNERS_NOTE) == 1
    html = (run["out"] / "report.html").read_text()
    assert html.count("are corners, where every block") == 1
    package = ROOT / "uncertainty_footprint"
    sources = [p.read_text() for p in (*package.rglob("*.py"), *(package / "reports" / "templates").iterdir())]
    assert sum(s.count("are corners") for s in sources) == 1


def test_templates_ship_as_package_data():
    import tomllib

    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    assert "reports/templates/*" in data["uncertainty_footprint"]
    names = {p.name for p in (ROOT / "uncertainty_footprint" / "reports" / "templates").iterdir()}
    assert {"report.j2", "report.md.j2", "report.html.j2", "markdown.j2", "html.j2", "report.css",
            "table.tex.j2"} <= names


def test_html_escapes_data_text(run, tmp_path):
    result = run["result"]
    named = uf.Experiment.from_dict({**result.experiment.to_dict(), "name": "<script>alert(1)</script> & co"})
    fake = result.replace(experiment=named)
    md, html, _ = R.write_report(fake, tmp_path, catalog=run["catalog"])
    text = html.read_text()
    assert "<script>" not in text and "&lt;script&gt;alert(1)&lt;/script&gt; &amp; co" in text
    assert "\\<script\\>" in md.read_text()  # Markdown escapes its special characters too


def test_exact_decomposition_beside_the_sampled_indices(run, tmp_path):
    result, sobol = run["result"], run["sobol"]
    comp = sobol["component"]
    st = comp["ST"].values
    exact = {"component": xr.Dataset({"S1": ("group", 0.9 * st), "ST": ("group", st + 0.001),
                                      "shapley": ("group", 0.95 * st)}, coords={"group": comp["group"].values})}
    fake = result.replace(exact=exact)
    md, html, _ = R.write_report(fake, tmp_path, sobol=sobol, catalog=run["catalog"])
    text = md.read_text()
    section = text.split("### By component")[1].split("###")[0]
    assert "*Sampled (Saltelli estimator)*" in section and "*Exact variance decomposition*" in section
    assert "| Component | S1 | ST | shapley |" in section
    order = indices_table(comp).sort_values("ST", ascending=False, kind="stable").index
    first = order[0]
    i = list(comp["group"].values).index(first)
    assert re.search(rf"\| `{first}` \| {_fmt(0.9 * st[i], 3)} \| {_fmt(st[i] + 0.001, 3)} \| "
                     rf"{_fmt(0.95 * st[i], 3)} \|", section)
    page = html.read_text()
    assert page.count('<div class="side-by-side">') == 3  # one per grouping; the exact table only by component
    assert "<caption>Exact variance decomposition</caption>" in page
    assert "Exact variance decomposition" not in text.split("### By stage")[1]


def test_frame_table_formats_numbers_and_text():
    import pandas as pd

    table = R.frame_table(pd.DataFrame({"S1": [0.12345, np.nan], "note": ["a", "b"]},
                                       index=pd.Index(["x", "y"], name="parameter")))
    assert table.header == ["parameter", "S1", "note"] and table.align == "lrl"
    assert table.rows == [[[("code", "x")], "0.123", "a"], [[("code", "y")], "n/a", "b"]]


def test_exact_decomposition_alone_with_units(run, tmp_path):
    result = run["result"]
    names = ["a_factor", "b_mass", "c_count"]
    ds = xr.Dataset({"S1": ("parameter", [0.1, 0.6, 0.25], {"units": "1"}),
                     "ST": ("parameter", [0.12, 0.62, 0.26], {"units": "1"}),
                     "remaining_variance": ("parameter", [0.5, 0.2, 0.4], {"units": f"({KG})2"}),
                     "remaining_sd": ("parameter", np.sqrt([0.5, 0.2, 0.4]), {"units": KG})},
                    coords={"parameter": names})
    fake = result.replace(exact={"parameter": ds})
    md = R.write_report(fake, tmp_path, catalog=run["catalog"])[0].read_text()
    section = md.split("### By parameter")[1].split("## ")[0]
    assert "Beside the sampled" not in section and "The exact variance decomposition" in section
    assert f"| Parameter | S1 | ST | remaining\\_sd [{KG}] |" in section  # the variance (kg2) is left out
    rows = re.findall(r"^\| `(\w+)` \| .*$", section, re.M)
    assert rows == ["b_mass", "c_count", "a_factor"]  # by ST, largest first
    assert f"| `b_mass` | 0.600 | 0.620 | {np.sqrt(0.2):.4f} |" in section
    assert "Sobol' sensitivity indices were not computed" not in md
