"""Plain-text tables for the terminal: the run summary and the catalog listing (returned as strings)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs.catalog import Catalog
from ..analysis.running_stats import relative_resolution

__all__ = ["format_summary", "run_report", "catalog_listing", "format_table"]


def format_table(rows: list[list[str]], header: list[str], align: str | None = None) -> str:
    """Align text columns; ``align`` has one ``l`` or ``r`` per column (default: first left, rest right)."""
    align = align or "l" + "r" * (len(header) - 1)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def format_summary(summary: pd.DataFrame) -> str:
    """The summary table in kg CO2-eq: mean, median, 90 % and 95 % intervals and share of the total."""
    rows = []
    for name, r in summary.iterrows():
        label = name.replace("stage:", "stage ") if r["level"] != "component" else f"  {name}"
        if r["level"] == "total":
            label = "TOTAL"
        rows.append([label, f"{r['mean']:.3f}", f"{r['median']:.3f}", f"[{r['p5']:.3f}, {r['p95']:.3f}]",
                     f"[{r['p2_5']:.3f}, {r['p97_5']:.3f}]", f"{100 * r['share']:.1f} %"])
    return format_table(rows, ["component / stage", "mean", "median", "90 % interval", "95 % interval", "share"])


def run_report(result, out: Path) -> str:
    """What ``run`` prints: the summary, the deterministic reproduction, assumptions and files written."""
    det = result.deterministic
    s = result.experiment.spec.sampling
    how = (f"streamed; percentiles from a histogram, relative error <= {relative_resolution():.1e}"
           if result.extra.get("streamed") else "")
    lines = [f"{result.experiment.name}  ({s.samples} samples, design {s.design}, seed {s.seed}"
             + (f"; {how}" if how else "") + ")", "Footprint per device, kg CO2-eq", "",
             format_summary(result.summary), ""]
    tot = det.loc["total"]
    lines.append(f"Published-method point values (deterministic.csv): lower {tot['lower']:.2f}, "
                 f"typical {tot['typical']:.2f}, upper {tot['upper']:.2f} kg CO2-eq. These are corners "
                 "(every block at its bound at once), not percentiles.")
    assumed = result.model.parameters.assumed()
    if assumed:
        lines.append(textwrap.fill(f"This result depends on {len(assumed)} assumed placeholder parameters "
                                   f"(no published basis): {', '.join(assumed)}.", width=110))
    files = ("results.nc, " if (Path(out) / "results.nc").exists() else "") + "summary.csv, deterministic.csv" \
        + (", sobol.nc, sobol.csv" if result.sobol else "")
    if (Path(out) / "report.html").exists():
        files += ", report.md, report.html, table.tex, figures/"
    if result.sobol:
        lines[5:5] = [format_hotspots(result.sobol), ""]
    lines.append(f"Written to {out}/: {files}")
    return "\n".join(lines)


def _interval(value: float, conf: float) -> str:
    return f"{value:6.3f} +- {conf:.3f}"


def format_hotspots(sobol, top: int = 10) -> str:
    """Components (or stages) ranked by total-order index ST, then the top parameters."""
    parts = []
    any_ds = next(iter(sobol.values()))
    level = int(round(100 * any_ds.attrs["conf_level"]))
    for grouping, title in (("component", "component"), ("stage", "stage")):
        if grouping not in sobol:
            continue
        ds = sobol[grouping]
        order = np.argsort(-ds["ST"].values, kind="stable")
        rows = [[str(ds["group"].values[i]), _interval(ds["ST"].values[i], ds["ST_conf"].values[i]),
                 _interval(ds["S1"].values[i], ds["S1_conf"].values[i])] for i in order]
        parts.append(f"Hotspots by {title}: Sobol' indices of the total's variance ({level} % intervals; "
                     f"N = {ds.attrs['n_base']})\n" + format_table(rows, [title, "ST (total)", "S1 (first)"]))
    if "parameter" in sobol:
        ds = sobol["parameter"]
        order = np.argsort(-ds["ST"].values, kind="stable")[:top]
        rows = [[str(ds["parameter"].values[i]), str(ds["component"].values[i]),
                 _interval(ds["ST"].values[i], ds["ST_conf"].values[i]),
                 _interval(ds["S1"].values[i], ds["S1_conf"].values[i])] for i in order]
        parts.append(f"Top {len(rows)} parameters\n" + format_table(rows, ["parameter", "component", "ST (total)",
                                                                             "S1 (first)"], "llrr"))
    widest = max(float(ds.attrs["max_conf"]) for ds in sobol.values())
    parts.append(f"Widest interval half-width: {widest:.3f}. ST = share of variance a group causes with its "
                 "interactions; S1 = alone. Inputs are independent (correlations are out of scope).")
    return "\n\n".join(parts)


def comparison_report(comp, out: Path) -> str:
    """What ``compare`` prints: totals side by side and the paired differences."""
    attrs = comp.totals.attrs
    rows = [[name, f"{r['mean']:.3f}", f"{r['median']:.3f}", f"[{r['p5']:.3f}, {r['p95']:.3f}]",
             f"[{r['p2_5']:.3f}, {r['p97_5']:.3f}]"] for name, r in comp.table.iterrows()]
    diffs = [[f"{b} - {a}", f"{r['mean']:+.3f}", f"{r['median']:+.3f}", f"[{r['p5']:+.3f}, {r['p95']:+.3f}]",
              f"[{r['p2_5']:+.3f}, {r['p97_5']:+.3f}]", f"{r['p_a_lt_b']:.3f}"]
             for (a, b), r in comp.differences.iterrows()]
    n_shared = len([p for p in attrs["shared_parameters"].split(",") if p])
    return "\n".join([
        f"Comparison ({attrs['n_samples']} samples, design {attrs['design']}, seed {attrs['seed']}; "
        f"{n_shared} shared parameters take common random numbers)", "Total footprint per device, kg CO2-eq", "",
        format_table(rows, ["experiment", "mean", "median", "90 % interval", "95 % interval"]), "",
        "Paired differences B - A, kg CO2-eq",
        format_table(diffs, ["B - A", "mean", "median", "90 % interval", "95 % interval", "P(A < B)"]), "",
        f"Written to {out}/: comparison.nc, comparison.csv, differences.csv, comparison.png, comparison.pdf"])


def _blocks(cat: Catalog) -> str:
    rows = []
    for name, info in cat.blocks.items():
        for level, label in info["hsl"].items():
            items = cat.block_items(name, level) or [None]
            for k, it in enumerate(items):
                head = [name if level == min(info["hsl"]) and k == 0 else "", f"HSL-{level}" if k == 0 else "",
                        label if k == 0 else ""]
                rows.append(head + (["-", "", "", ""] if it is None else
                                    [it.parameter, it.unit, f"{it.low:g}/{it.typical:g}/{it.high:g}",
                                     it.factor or "(transport factors)"]))
    return "Functional blocks (Pirson & Bol 2021): HSL items, quantity lower/typical/upper, unit factor\n" + \
        format_table(rows, ["block", "HSL", "meaning", "quantity", "unit", "low/typ/high", "factor"], "lllllrl")


def _parameters(cat: Catalog) -> str:
    rows = [[n, p.unit, p.distribution.describe(), f"{p.nominal:g}", p.status, ",".join(p.source)]
            for n, p in cat.parameters.items()]
    return "Parameters (distributions/*.yaml; HSL quantities are listed with the blocks)\n" + format_table(
        rows, ["parameter", "unit", "distribution", "nominal", "status", "source"], "llllll")


def _applications(cat: Catalog) -> str:
    rows = [[n, a["title"], ", ".join(f"{b}={h}" for b, h in a["blocks"].items()),
             ", ".join(a["parameters"])] for n, a in cat.applications.items()]
    return "Application presets (distributions/applications.yaml)\n" + format_table(
        rows, ["application", "title", "blocks", "parameters"], "llll")


def _references(cat: Catalog) -> str:
    rows = [[n, cat.reference_labels[n], f"{p.nominal:g} {p.unit}", ",".join(p.source)]
            for n, p in cat.reference_devices.items()]
    return "Reference devices (distributions/reference_devices.yaml)\n" + format_table(
        rows, ["name", "device", "footprint", "source"], "llll")


def _sources(cat: Catalog) -> str:
    return "Sources (distributions/sources.yaml)\n" + "\n".join(
        textwrap.fill(f"{k}: {v}", width=110, subsequent_indent="    ") for k, v in cat.sources.items())


_LISTINGS = {"blocks": _blocks, "parameters": _parameters, "applications": _applications,
             "references": _references, "sources": _sources}


def catalog_listing(cat: Catalog, what: str = "all") -> str:
    """The ``list`` command's text."""
    parts = _LISTINGS.values() if what == "all" else [_LISTINGS[what]]
    return "\n\n".join(f(cat) for f in parts)
