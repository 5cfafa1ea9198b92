"""The run report: ``report.md``, a self-contained ``report.html`` and a booktabs ``table.tex``.

The Markdown and HTML reports are rendered from one list of blocks, so they say the same things: the experiment
and its provenance, the parameters a result depends on by assumption (listed first and highlighted), the results
table, hotspots (Sobol indices if given), the reproduction of the published point values, the figures and how
to cite the sources. The HTML file embeds its figures as base64 PNG data URIs and its CSS inline; it loads
nothing from anywhere and opens offline. Every number is formatted with a fixed number of decimals
(:data:`REPORT_DECIMALS`, :data:`TEX_DECIMALS`) from the summary table itself.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import pandas as pd
import xarray as xr

from .figures import FIGURE_CAPTIONS, _default_published, indices_table
from ..model.builder import KG

__all__ = ["write_report", "report_blocks", "render_markdown", "render_html", "latex_table", "latex_escape",
           "REPORT_DECIMALS", "TEX_DECIMALS", "SHARE_DECIMALS", "SOBOL_DECIMALS", "SOBOL_TOP_PARAMETERS"]

#: Decimals of the kg CO2-eq values in report.md / report.html.
REPORT_DECIMALS = 4
#: Decimals of the kg CO2-eq values in table.tex.
TEX_DECIMALS = 3
#: Decimals of the shares, in percent.
SHARE_DECIMALS = 1
#: Decimals of the Sobol indices.
SOBOL_DECIMALS = 3
#: Parameters listed in the per-parameter Sobol table (largest ST first).
SOBOL_TOP_PARAMETERS = 15
#: A deterministic value reproduces a published one when they agree to the published rounding (0.01 kg).
PUBLISHED_ROUNDING = 0.01

# ------------------------------------------------------------------------------------------------------------
# Inline text and blocks
# ------------------------------------------------------------------------------------------------------------
# Inline text is a str (plain) or a list of (kind, text) spans, kind in {"text", "bold", "code", "boldcode"}.


def _t(text: str) -> tuple[str, str]:
    return ("text", str(text))


def _b(text: str) -> tuple[str, str]:
    return ("bold", str(text))


def _c(text: str) -> tuple[str, str]:
    return ("code", str(text))


def _bc(text: str) -> tuple[str, str]:
    return ("boldcode", str(text))


@dataclass
class Block:
    """One block of the report: ``heading``, ``para``, ``list``, ``table``, ``box`` or ``figure``."""

    kind: str
    text: Any = ""
    level: int = 2
    items: list = field(default_factory=list)
    header: list = field(default_factory=list)
    rows: list = field(default_factory=list)
    row_classes: list = field(default_factory=list)
    align: str = ""
    anchor: str = ""
    data: Any = None


def _spans(inline) -> list[tuple[str, str]]:
    if isinstance(inline, str):
        return [("text", inline)]
    if isinstance(inline, tuple):
        return [inline]
    return list(inline)


_MD_SPECIAL = re.compile(r"([\\`*_|<>])")


def _md_inline(inline, in_table: bool = False) -> str:
    out = []
    for kind, text in _spans(inline):
        if kind in ("code", "boldcode"):
            ticks = "``" if "`" in text else "`"
            body = text.replace("|", "\\|") if in_table else text
            pad = " " if ticks == "``" else ""
            code = f"{ticks}{pad}{body}{pad}{ticks}"
            out.append(f"**{code}**" if kind == "boldcode" else code)
        else:
            escaped = _MD_SPECIAL.sub(r"\\\1", text)
            if in_table:
                escaped = escaped.replace("\n", " ")
            out.append(f"**{escaped}**" if kind == "bold" and escaped else escaped)
    return "".join(out)


def _html_inline(inline) -> str:
    out = []
    for kind, text in _spans(inline):
        e = html.escape(text, quote=True)
        out.append({"text": e, "bold": f"<strong>{e}</strong>", "code": f"<code>{e}</code>",
                    "boldcode": f"<strong><code>{e}</code></strong>"}[kind])
    return "".join(out)


# ------------------------------------------------------------------------------------------------------------
# Number formatting (the tests parse these back)
# ------------------------------------------------------------------------------------------------------------

def _num(x: Any, decimals: int = REPORT_DECIMALS) -> str:
    try:
        x = float(x)
    except (TypeError, ValueError):
        return "n/a"
    if not math.isfinite(x):
        return "n/a"
    text = f"{x:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text  # no "-0.000"


def _interval(lo: Any, hi: Any, decimals: int = REPORT_DECIMALS) -> str:
    return f"[{_num(lo, decimals)}, {_num(hi, decimals)}]"


def _share(x: Any) -> str:
    return f"{_num(100 * float(x), SHARE_DECIMALS)} %"


# ------------------------------------------------------------------------------------------------------------
# Content
# ------------------------------------------------------------------------------------------------------------

def _parameter_records(result) -> list[dict[str, Any]]:
    """Every input parameter with unit, distribution, nominal, status, source (results coords) and description."""
    ds = result.results
    model = getattr(result, "model", None)
    params = getattr(model, "parameters", None) or {}
    records = []
    for i, name in enumerate(ds["parameter"].values.tolist()):
        p = params.get(name) if hasattr(params, "get") else None
        records.append({
            "name": str(name),
            "unit": str(ds["unit"].values[i]) if "unit" in ds.coords else (p.unit if p else ""),
            "distribution": str(ds["distribution"].values[i]) if "distribution" in ds.coords
            else (p.distribution.describe() if p else ""),
            "nominal": float(ds["nominal"].values[i]) if "nominal" in ds.coords else (p.nominal if p else math.nan),
            "status": str(ds["status"].values[i]) if "status" in ds.coords else (p.status if p else ""),
            "source": [s for s in str(ds["source"].values[i]).split(";") if s] if "source" in ds.coords
            else list(p.source if p else ()),
            "description": p.description if p else "",
            "note": p.note if p else "",
        })
    return records


def _assumed_names(ds: xr.Dataset, records: list[dict]) -> list[str]:
    listed = [a for a in str(ds.attrs.get("assumed_parameters", "")).split(",") if a]
    from_status = [r["name"] for r in records if r["status"] == "assumed"]
    return listed + [n for n in from_status if n not in listed]


def _versions(ds: xr.Dataset) -> str:
    raw = ds.attrs.get("versions", "")
    try:
        versions = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return str(raw)
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def _component_titles(ds: xr.Dataset) -> dict[str, str]:
    if "component_title" not in ds.coords:
        return {}
    return dict(zip(ds["component"].values.tolist(), ds["component_title"].values.tolist()))


def _results_table(summary: pd.DataFrame) -> Block:
    rows, classes = [], []
    for name, r in summary.iterrows():
        cell = [_bc(name)] if r["level"] == "total" else [_c(name)]
        rows.append([cell, str(r["level"]), _num(r["mean"]), _num(r["median"]), _interval(r["p5"], r["p95"]),
                     _interval(r["p2_5"], r["p97_5"]), _share(r["share"])])
        classes.append(str(r["level"]))
    return Block("table", header=["Component / stage", "Level", "Mean", "Median", "90 % interval",
                                  "95 % interval", "Share of mean total"],
                 rows=rows, row_classes=classes, align="llrrrrr")


def _sobol_blocks(sobol: Mapping[str, xr.Dataset] | None) -> list[Block]:
    if not sobol:
        return [Block("para", "Sobol' sensitivity indices were not computed for this run; the shares above show "
                              "where the footprint is, not where its uncertainty comes from.")]
    blocks: list[Block] = []
    order = [k for k in ("component", "stage", "parameter") if k in sobol] + \
            [k for k in sobol if k not in ("component", "stage", "parameter")]
    for key in order:
        ds = sobol[key]
        table = indices_table(ds).sort_values("ST", ascending=False, kind="stable")
        n_all = len(table)
        if key == "parameter" and n_all > SOBOL_TOP_PARAMETERS:
            table = table.head(SOBOL_TOP_PARAMETERS)
            title = f"By parameter (the {SOBOL_TOP_PARAMETERS} largest ST of {n_all})"
        else:
            title = f"By {key}"
        attrs = ds.attrs
        details: list = []
        for k in ("n_base", "num_resamples", "conf_level", "n_evaluations"):
            if k in attrs:
                details += ([_t(", ")] if details else []) + [_c(k), _t(f" = {attrs[k]}")]
        blocks.append(Block("heading", title, level=3))
        if details:
            blocks.append(Block("para", [_t("Estimated with ")] + details
                                + [_t("; ± values are half-widths of bootstrap confidence intervals.")]))
        rows = [[[_c(name)], _num(r["S1"], SOBOL_DECIMALS), _num(r["S1_conf"], SOBOL_DECIMALS),
                 _num(r["ST"], SOBOL_DECIMALS), _num(r["ST_conf"], SOBOL_DECIMALS)] for name, r in table.iterrows()]
        blocks.append(Block("table", header=[key.capitalize(), "S1", "± S1", "ST", "± ST"], rows=rows,
                            row_classes=[""] * len(rows), align="lrrrr"))
    return blocks


def _reproduction_blocks(det: pd.DataFrame, column: pd.Series | None) -> list[Block]:
    header = ["Component", "lower", "typical", "upper"]
    align = "lrrr"
    if column is not None:
        header += [f"published ({column.name})", "typical − published", "reproduced (to 0.01)"]
        align += "rrl"
    rows, classes = [], []
    n_components = sum(1 for name in det.index if name != "total")
    for name, r in det.iterrows():
        # the published total is the sum of the rounded components: its rounding error adds up
        tolerance = PUBLISHED_ROUNDING / 2 * (n_components if name == "total" else 1) + 1e-9
        row = [[_bc(name)] if name == "total" else [_c(name)], _num(r["lower"]), _num(r["typical"]),
               _num(r["upper"])]
        cls = "total" if name == "total" else ""
        if column is not None:
            pub = column.get(name, math.nan)
            diff = float(r["typical"]) - float(pub) if pub == pub else math.nan
            ok = "n/a" if diff != diff else ("yes" if abs(diff) <= tolerance else "no")
            row += [_num(pub, 2), _num(diff), ok]
            if ok == "no":
                cls = (cls + " differs").strip()
        rows.append(row)
        classes.append(cls)
    intro = ("Point values of the published method (Prakash et al. 2023: HSL quantities at their lower, typical or "
             "upper value, every other parameter at its nominal value; the fixed published ML-training value and "
             "the direct average-power use stage), in kg CO2-eq per device. ")
    if column is not None:
        intro += (f"The published column `{column.name}` is rounded to 0.01 kg; a component is reproduced when the "
                  "typical value agrees to that rounding (the total, a sum of rounded components, to 0.005 kg per "
                  "component).")
        intro = [_t(intro.split("`")[0]), _c(column.name), _t(intro.split("`")[2])]
    else:
        intro += "No published column is available for this experiment's application."
    return [Block("para", intro), Block("table", header=header, rows=rows, row_classes=classes, align=align),
            Block("para", "The published lower and upper totals are corners (every block at its bound at once), "
                          "not percentiles: compare them with the intervals above only with that in mind.")]


def _parameter_blocks(records: list[dict], assumed: list[str]) -> list[Block]:
    ordered = [r for n in assumed for r in records if r["name"] == n] + \
              [r for r in records if r["name"] not in assumed]
    rows, classes = [], []
    for r in ordered:
        is_assumed = r["name"] in assumed
        rows.append([[_bc(r["name"])] if is_assumed else [_c(r["name"])],
                     [_b("ASSUMED")] if is_assumed else r["status"],
                     [_c(r["distribution"])], r["unit"], f"{r['nominal']:g}",
                     _source_spans(r["source"]),
                     r["description"]])
        classes.append("assumed" if is_assumed else "")
    return [Block("para", f"{len(records)} input parameters ({len(assumed)} assumed placeholders first, marked "
                          "ASSUMED). Status: quoted (a published value), inferred (derived from published data), "
                          "assumed (no published basis: project judgement)."),
            Block("table", header=["Parameter", "Status", "Distribution", "Unit", "Nominal", "Source",
                                   "Description"], rows=rows, row_classes=classes, align="lllllll")]


def _source_spans(keys: Sequence[str]) -> list[tuple[str, str]]:
    spans: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        if i:
            spans.append(_t(", "))
        spans.append(_c(key))
    return spans


def _reference_blocks(ds: xr.Dataset) -> list[Block]:
    if "reference_footprint" not in ds:
        return []
    labels = ds["reference_label"].values if "reference_label" in ds.coords else ds["reference"].values
    sources = ds["reference_source"].values if "reference_source" in ds.coords else [""] * ds.sizes["reference"]
    rows = [[str(lab), _num(v, 1), _source_spans([s for s in str(src).split(";") if s])]
            for lab, v, src in zip(labels, ds["reference_footprint"].values, sources)]
    return [Block("heading", "Reference devices", level=3),
            Block("table", header=["Device", f"Footprint [{KG}]", "Source"], rows=rows, row_classes=[""] * len(rows),
                  align="lrl")]


def _figure_blocks(figures: Sequence[os.PathLike | str], folder: Path) -> list[Block]:
    pngs: list[Path] = []
    for f in figures:
        f = Path(f)
        png = f if f.suffix.lower() == ".png" else f.with_suffix(".png")
        if png.exists() and png not in pngs:
            pngs.append(png)
    if not pngs:
        return [Block("para", "No figures were written for this report.")]
    blocks = []
    for png in pngs:
        pdf = png.with_suffix(".pdf")
        rel = Path(os.path.relpath(png, folder)).as_posix()
        rel_pdf = Path(os.path.relpath(pdf, folder)).as_posix() if pdf.exists() else ""
        caption = FIGURE_CAPTIONS.get(png.stem, png.stem.replace("_", " "))
        blocks.append(Block("figure", caption, data={"png": png, "rel": rel, "rel_pdf": rel_pdf, "name": png.stem}))
    return blocks


def _cite_blocks(records: list[dict], ds: xr.Dataset, catalog, sobol) -> list[Block]:
    keys: list[str] = []
    for r in records:
        for k in r["source"]:
            if k not in keys:
                keys.append(k)
    if "reference_source" in ds.coords:
        for src in ds["reference_source"].values:
            for k in str(src).split(";"):
                if k and k not in keys:
                    keys.append(k)
    sources = dict(getattr(catalog, "sources", {}) or {})
    items = []
    for k in keys:
        if k in sources:
            items.append([_c(k), _t(": " + str(sources[k]))])
        else:
            items.append([_c(k), _t(": not in the catalog's bibliography (an experiment file or local source; "
                                    "values from it are project assumptions unless it says otherwise).")])
    from .. import __version__

    cite_tool = [_t(f"Computed with uncertainty_footprint {__version__}; experiment configuration SHA-256 "),
                 _c(str(ds.attrs.get("config_sha256", ""))), _t(", model SHA-256 "),
                 _c(str(ds.attrs.get("model_sha256", ""))),
                 _t(f", seed {ds.attrs.get('seed', '')}, {ds.attrs.get('n_samples', '')} samples "
                    f"({ds.attrs.get('design', '')} design). Cite the sources below for the input data.")]
    notes = [
        "Inputs are sampled independently: the Monte Carlo intervals and the Sobol' indices assume independent "
        "inputs (Sobol' indices are only defined as a variance decomposition for independent inputs); correlated "
        "emission factors or quantities would change both."
        + ("" if sobol else " (No Sobol' indices were computed for this run.)"),
        "The published lower and upper values (Prakash et al. 2023) are corners where every block is at its bound "
        "at once, not percentiles; independent sampling almost never reaches them, so they are wider than the "
        "95 % interval by construction.",
        "Parameters with status ASSUMED have no published basis; results that depend on them (see the box at the "
        "top) should be reported as such.",
    ]
    return [Block("para", cite_tool), Block("heading", "Sources used by the parameters", level=3),
            Block("list", items=items), Block("heading", "Notes", level=3), Block("list", items=notes)]


def report_blocks(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                  figures: Sequence[os.PathLike | str] = (), catalog=None,
                  published_col: pd.Series | None = None) -> list[Block]:
    """The report's content as blocks (rendered by :func:`render_markdown` and :func:`render_html`)."""
    folder = Path(folder)
    ds, summary = result.results, result.summary
    records = _parameter_records(result)
    assumed = _assumed_names(ds, records)
    experiment = getattr(result, "experiment", None)
    name = ds.attrs.get("experiment", "") or getattr(experiment, "name", "") or "experiment"
    description = getattr(getattr(experiment, "spec", None), "description", "") or ""
    tot = summary.loc["total"]
    blocks = [Block("heading", f"Carbon footprint with uncertainty: {name}", level=1)]
    if description:
        blocks.append(Block("para", description.strip()))
    blocks.append(Block("para", [_b("Total footprint per device:"),
                                 _t(f" median {_num(tot['median'])} {KG}, 90 % interval "
                                    f"{_interval(tot['p5'], tot['p95'])}, 95 % interval "
                                    f"{_interval(tot['p2_5'], tot['p97_5'])}, mean {_num(tot['mean'])} "
                                    f"({ds.attrs.get('n_samples', ds.sizes.get('sample', ''))} samples).")]))
    if published_col is not None and "total" in published_col.index:
        blocks.append(Block("para", [_t("Published point value of the matching application ("), _c(published_col.name),
                                     _t(f"): {_num(published_col['total'], 2)} {KG}.")]))
    if assumed:
        by_name = {r["name"]: r for r in records}
        items = []
        for n in assumed:
            r = by_name.get(n)
            unit = f" [{r['unit']}]" if r and r["unit"] not in ("", "1") else ""
            items.append([_bc(n)] + ([_t(": "), _c(r["distribution"]), _t(unit)] if r else []))
        blocks.append(Block("box", "This result depends on assumptions", items=items, data=[
            _t(f"{len(assumed)} of {len(records)} input parameters are "), _b("assumed placeholders"),
            _t(" with no published basis (project judgement). They are marked ASSUMED in the parameter table; "
               "replace them with sourced values where one exists:")]))
    prov = [("Experiment", name), ("Experiment file", ds.attrs.get("experiment_file", "")),
            ("Application", [_c(ds.attrs["application"])] if ds.attrs.get("application") else "none"),
            ("Samples", ds.attrs.get("n_samples", "")), ("Design", ds.attrs.get("design", "")),
            ("Seed", ds.attrs.get("seed", "")), ("Config SHA-256", [_c(str(ds.attrs.get("config_sha256", "")))]),
            ("Model SHA-256", [_c(str(ds.attrs.get("model_sha256", "")))]), ("Versions", _versions(ds))]
    blocks += [Block("heading", "Provenance", anchor="provenance"),
               Block("table", header=["Item", "Value"], rows=[[k, v if isinstance(v, list) else str(v)]
                                                              for k, v in prov],
                     row_classes=[""] * len(prov), align="ll")]
    blocks += [Block("heading", "Results", anchor="results"),
               Block("para", f"Footprint per device in {KG}: mean, median, 90 % interval (5th-95th percentile), "
                             "95 % interval (2.5th-97.5th percentile) and share of the mean total, per component, "
                             "per life-cycle stage and in total."),
               _results_table(summary)]
    comp = summary[summary["level"] == "component"].sort_values("share", ascending=False, kind="stable")
    top = [c for c in comp.index if comp.loc[c, "share"] > 0][:5]
    hot = [_t("Largest contributions to the mean total: ")]
    for i, c in enumerate(top):
        hot += ([_t(", ")] if i else []) + [_c(c), _t(f" {_share(comp.loc[c, 'share'])}")]
    hot.append(_t("."))
    blocks += [Block("heading", "Hotspots", anchor="hotspots"), Block("para", hot)] + _sobol_blocks(sobol)
    blocks += [Block("heading", "Reproduction of the published point values", anchor="reproduction")]
    blocks += _reproduction_blocks(result.deterministic, published_col)
    blocks += [Block("heading", "Input parameters", anchor="parameters")] + _parameter_blocks(records, assumed)
    blocks += _reference_blocks(ds)
    blocks += [Block("heading", "Figures", anchor="figures")] + _figure_blocks(figures, folder)
    blocks += [Block("heading", "How to cite", anchor="cite")] + _cite_blocks(records, ds, catalog, sobol)
    return blocks


# ------------------------------------------------------------------------------------------------------------
# Renderers
# ------------------------------------------------------------------------------------------------------------

def render_markdown(blocks: Sequence[Block]) -> str:
    """Markdown (GitHub-flavoured tables) of the report blocks; figures link their PNG and PDF files."""
    out: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            out.append("#" * b.level + " " + _md_inline(b.text))
        elif b.kind == "para":
            out.append(_md_inline(b.text))
        elif b.kind == "list":
            out.append("\n".join("- " + _md_inline(item) for item in b.items))
        elif b.kind == "box":
            lines = [f"> **{_md_inline(b.text)}**", ">", "> " + _md_inline(b.data), ">"]
            lines += ["> - " + _md_inline(item) for item in b.items]
            out.append("\n".join(lines))
        elif b.kind == "table":
            sep = ["---:" if a == "r" else "---" for a in b.align or "l" * len(b.header)]
            lines = ["| " + " | ".join(_md_inline(h, True) for h in b.header) + " |", "| " + " | ".join(sep) + " |"]
            lines += ["| " + " | ".join(_md_inline(c, True) for c in row) + " |" for row in b.rows]
            out.append("\n".join(lines))
        elif b.kind == "figure":
            d = b.data
            line = f"![{_md_inline(d['name'])}]({d['rel']})\n\n*{_md_inline(b.text)}*"
            if d["rel_pdf"]:
                line += f" (PDF: [{d['rel_pdf']}]({d['rel_pdf']}))"
            out.append(line)
    return "\n\n".join(out) + "\n"


_CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif;
       max-width: 70em; margin: 2em auto; padding: 0 1em; color: #111; line-height: 1.45; }
h1 { font-size: 1.6em; } h2 { font-size: 1.3em; border-bottom: 1px solid #999; padding-bottom: .2em; }
h3 { font-size: 1.1em; }
table { border-collapse: collapse; margin: .8em 0; font-size: .9em; }
th, td { border-top: 1px solid #bbb; border-bottom: 1px solid #bbb; padding: .25em .6em; vertical-align: top; }
th { border-top: 2px solid #000; border-bottom: 1.5px solid #000; background: #f2f2f2; }
td.r, th.r { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
td.l, th.l { text-align: left; }
tr.total td { font-weight: bold; border-top: 1.5px solid #000; }
tr.stage td { background: #f7f7f7; }
tr.assumed td { background: #fff0c2; }
tr.assumed td:first-child { border-left: 5px solid #000; }
tr.differs td { font-style: italic; }
code { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, monospace; font-size: .95em; }
.box { border: 2px solid #000; border-left-width: 8px; background: #fff0c2; padding: .6em 1em; margin: 1em 0; }
.box h2 { border: none; margin: 0 0 .3em 0; font-size: 1.15em; }
figure { margin: 1.2em 0; } figure img { max-width: 100%; height: auto; border: 1px solid #ddd; }
figcaption { font-size: .9em; color: #333; }
@media print { body { max-width: none; } .box, tr.assumed td { -webkit-print-color-adjust: exact;
               print-color-adjust: exact; } }
"""


def render_html(blocks: Sequence[Block], title: str = "uncertainty_footprint report") -> str:
    """A self-contained HTML page: inline CSS, figures as ``data:image/png;base64`` URIs, no external resource."""
    body: list[str] = []
    for b in blocks:
        if b.kind == "heading":
            anchor = f' id="{html.escape(b.anchor)}"' if b.anchor else ""
            body.append(f"<h{b.level}{anchor}>{_html_inline(b.text)}</h{b.level}>")
        elif b.kind == "para":
            body.append(f"<p>{_html_inline(b.text)}</p>")
        elif b.kind == "list":
            body.append("<ul>\n" + "\n".join(f"<li>{_html_inline(i)}</li>" for i in b.items) + "\n</ul>")
        elif b.kind == "box":
            items = "\n".join(f"<li>{_html_inline(i)}</li>" for i in b.items)
            body.append(f'<div class="box assumptions" role="note"><h2>&#9888; {_html_inline(b.text)}</h2>\n'
                        f"<p>{_html_inline(b.data)}</p>\n<ul>\n{items}\n</ul></div>")
        elif b.kind == "table":
            align = b.align or "l" * len(b.header)
            head = "".join(f'<th class="{a}">{_html_inline(h)}</th>' for h, a in zip(b.header, align))
            rows = []
            for row, cls in zip(b.rows, b.row_classes or [""] * len(b.rows)):
                cells = "".join(f'<td class="{a}">{_html_inline(c)}</td>' for c, a in zip(row, align))
                attr = f' class="{html.escape(cls)}"' if cls else ""
                rows.append(f"<tr{attr}>{cells}</tr>")
            body.append(f"<table>\n<thead><tr>{head}</tr></thead>\n<tbody>\n" + "\n".join(rows)
                        + "\n</tbody>\n</table>")
        elif b.kind == "figure":
            d = b.data
            data = base64.b64encode(Path(d["png"]).read_bytes()).decode("ascii")
            body.append(f'<figure id="fig-{html.escape(d["name"])}"><img src="data:image/png;base64,{data}" '
                        f'alt="{html.escape(b.text, quote=True)}">\n<figcaption>{_html_inline(b.text)}'
                        "</figcaption></figure>")
    return ("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
            + "\n".join(body) + "\n</body>\n</html>\n")


# ------------------------------------------------------------------------------------------------------------
# LaTeX
# ------------------------------------------------------------------------------------------------------------

_TEX_ESCAPES = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
                "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}",
                "<": r"\textless{}", ">": r"\textgreater{}", '"': "''"}


def latex_escape(text: Any) -> str:
    """Escape LaTeX special characters of plain text."""
    return "".join(_TEX_ESCAPES.get(ch, ch) for ch in str(text))


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", str(text).lower()).strip("-") or "experiment"


def latex_table(result, decimals: int = TEX_DECIMALS) -> str:
    """A booktabs table (``table`` float) of the median [90 % interval] per component and the total.

    No preamble: ``\\input`` it in a document that loads ``booktabs``.
    """
    ds, summary = result.results, result.summary
    titles = _component_titles(ds)
    name = ds.attrs.get("experiment", "") or "experiment"
    stem = Path(str(ds.attrs.get("experiment_file", "") or name)).stem
    n = ds.attrs.get("n_samples", ds.sizes.get("sample", ""))
    lines = [
        f"% Generated by uncertainty_footprint: {latex_escape(name)}; {n} samples, "
        f"{ds.attrs.get('design', '')} design, seed {ds.attrs.get('seed', '')}.",
        f"% config SHA-256 {ds.attrs.get('config_sha256', '')}. Needs \\usepackage{{booktabs}}.",
        "\\begin{table}[tbp]",
        "  \\centering",
        f"  \\caption{{Carbon footprint per device of the {latex_escape(name)} experiment in kg CO$_2$-eq: median "
        f"and 90\\,\\% interval (5th--95th percentile) of {n} Monte Carlo samples.}}",
        f"  \\label{{tab:footprint-{_slug(stem)}}}",
        "  \\begin{tabular}{llrr}",
        "    \\toprule",
        "    Component & Stage & Median & 90\\,\\% interval \\\\",
        "    \\midrule",
    ]
    comp = summary[summary["level"] == "component"]
    for cname, r in comp.iterrows():
        lines.append(f"    {latex_escape(titles.get(cname, cname))} & {latex_escape(str(r['stage']).replace('_', ' '))}"
                     f" & {_num(r['median'], decimals)} & {_interval(r['p5'], r['p95'], decimals)} \\\\")
    tot = summary.loc["total"]
    lines += ["    \\midrule",
              f"    Total &  & {_num(tot['median'], decimals)} & {_interval(tot['p5'], tot['p95'], decimals)} \\\\",
              "    \\bottomrule",
              "  \\end{tabular}",
              "\\end{table}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------

def write_report(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                 figures: Sequence[os.PathLike | str] = (), catalog=None, published: Any = None) -> list[Path]:
    """Write ``report.md``, ``report.html`` and ``table.tex`` into ``folder``.

    Parameters
    ----------
    result : RunResult
        :func:`~uncertainty_footprint.analysis.run.run_experiment` output.
    folder : path
        Output folder (created if missing); figure paths are linked relative to it.
    sobol : mapping of str to xarray.Dataset, optional
        Sobol results by grouping (``parameter``, ``component``, ``stage``); without them the hotspot section
        shows the shares only.
    figures : sequence of paths
        Figure files (e.g. :func:`~uncertainty_footprint.reports.figures.write_figures` output); PNGs are embedded in the
        HTML as data URIs and linked from the Markdown, PDFs are linked from the Markdown.
    catalog : Catalog, optional
        For the citations and the published column of the application (default: the default catalog).
    published : DataFrame, Series or float, optional
        Published values (see :func:`~uncertainty_footprint.reports.figures.published_column`); default
        :meth:`~uncertainty_footprint.inputs.catalog.Catalog.published_table` of the catalog.

    Returns
    -------
    list of Path
        ``report.md``, ``report.html``, ``table.tex``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    column, catalog = _default_published(result.results, published, catalog)
    blocks = report_blocks(result, folder, sobol=sobol, figures=figures, catalog=catalog, published_col=column)
    title = f"Carbon footprint with uncertainty: {result.results.attrs.get('experiment', '')}"
    paths = [folder / "report.md", folder / "report.html", folder / "table.tex"]
    paths[0].write_text(render_markdown(blocks), encoding="utf-8")
    paths[1].write_text(render_html(blocks, title), encoding="utf-8")
    paths[2].write_text(latex_table(result), encoding="utf-8")
    return paths
