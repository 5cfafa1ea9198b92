"""The run report: ``report.md``, a self-contained ``report.html`` and a booktabs ``table.tex``.

The content is written once, in the Jinja2 template ``templates/report.j2``: the experiment and its provenance,
the parameters a result depends on by assumption (listed first and highlighted), the results table, hotspots
(Sobol' indices if given, and beside them the exact variance decomposition when the run carries one), the
reproduction of the published point values, every input parameter, the figures and how to cite the sources.
``report.md.j2`` renders it with the Markdown macros of ``markdown.j2``, ``report.html.j2`` with the HTML macros
of ``html.j2`` (autoescaped; inline CSS from ``report.css``; figures embedded as base64 PNG data URIs, so the page
loads nothing from anywhere and opens offline); ``table.tex.j2`` is the LaTeX table. This module only prepares
the data: tables of cells (plain text or spans of ``text``, ``code``, ``strong``, ``strong_code``) with every
number formatted to a fixed number of decimals (:data:`REPORT_DECIMALS`, :data:`TEX_DECIMALS`) from the summary
table itself.

It also owns the wording shared by the reports: :data:`FIGURE_CAPTIONS`, and the published
column of a run's application (:func:`published_column`, :func:`resolve_published`). It imports neither
matplotlib nor Jinja2 at import time.
"""

from __future__ import annotations

import base64
import functools
import json
import math
import numbers
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr

from ..inputs.catalog import CORNERS_NOTE
from ..io.provenance import package_version, result_provenance
from ..analysis.hotspots import indices_table
from ..inputs.units import FOOTPRINT_UNITS
from ..model.builder import KG
from ..analysis.summary import absent_components

__all__ = ["write_report", "report_context", "render_markdown", "render_html", "latex_table", "latex_escape",
           "frame_table", "published_column", "resolve_published", "Table", "FIGURE_CAPTIONS",
           "REPORT_DECIMALS", "TEX_DECIMALS", "SHARE_DECIMALS", "SOBOL_DECIMALS", "SOBOL_TOP_PARAMETERS"]

#: Decimals of the kg CO2-eq values in report.md / report.html.
REPORT_DECIMALS = 4
#: Decimals of the kg CO2-eq values in table.tex.
TEX_DECIMALS = 3
#: Decimals of the shares, in percent.
SHARE_DECIMALS = 1
#: Decimals of the Sobol' indices.
SOBOL_DECIMALS = 3
#: Parameters listed in the per-parameter Sobol' table (largest ST first).
SOBOL_TOP_PARAMETERS = 15
#: A deterministic value reproduces a published one when they agree to the published rounding (0.01 kg).
PUBLISHED_ROUNDING = 0.01


#: Legend text of the published values of the catalog (``published_tinyml_2023.csv``), in words.
PUBLISHED_LABEL = "published, Prakash et al. 2023"
#: Figure name -> caption, used by the report.
FIGURE_CAPTIONS = {
    "total_distribution": "Distribution of the total footprint per device, with the median, the 90 % and 95 % "
                          "intervals and the published point value of the matching application.",
    "component_intervals": "Footprint per component: median (dot), 90 % interval (thick bar) and 95 % interval "
                           "(thin whisker) and the published value (triangle), linear axis (components that are "
                           "zero in every sample are named above the axes, not drawn).",
    "component_intervals_log": "Footprint per component on a logarithmic axis (components that are zero in every "
                               "sample are omitted; zero lower bounds are clipped to the left edge).",
    "comparison_stacked": "The stacked view of the published web calculator: component means of the TinyML "
                          "device stacked (their sum is the mean total) with the median and 95 % interval of "
                          "the total, beside the reference devices (published point values); logarithmic axis.",
    "sobol_indices": "Sobol' first-order (S1) and total-order (ST) indices of the total footprint, by component "
                     "and for the ten most influential parameters (inputs assumed independent): the sampled "
                     "estimates with their bootstrap confidence intervals when the run sampled them "
                     "(--sobol-method sampled), else the exact indices (closed form, no error bars).",
    "second_order": "Second-order Sobol' indices S2 of the total footprint: the share of its variance each pair "
                    "causes together, beyond what each causes alone (upper triangle; computed with "
                    "--second-order).",
    "convergence": "Convergence: running mean and 95 % interval of the total against the number of samples "
                   "(and, if computed, Sobol' total-order indices against the base sample size).",
    "comparison": "Totals of the compared experiments (box 25-75 %, whiskers 2.5-97.5 %) and the distributions "
                  "of their paired differences under common random numbers (central 99 % of each difference).",
    "methods": "Methods compared. Left: the total by each method alone (the components it covers by it, the "
               "others by Pirson & Bol, without truncation gap unless the method is one) and by the experiment's "
               "mixture of methods: median (marker), mean (tick) and 90 % interval. Right: each component that "
               "several methods compute, by each of its methods and the mixture; logarithmic axis.",
    "balance": "Does it pay back? Left: distribution of the net balance per device (footprint minus avoided "
               "emissions over the service life; left of zero, shaded, the device offsets its footprint, with "
               "P(offset)). Right: cumulative distribution of the payback time with its median and the time "
               "reached with 90 % probability.",
}

_TEMPLATES = "templates"


# ------------------------------------------------------------------------------------------------------------
# Published values of the run's application
# ------------------------------------------------------------------------------------------------------------

def published_column(application: str | None, published: Any = None, catalog=None) -> pd.Series | None:
    """The published per-component values of the run's application, or None.

    Parameters
    ----------
    application : str or None
        The run's application preset (its experiment's ``application``).
    published : pandas.DataFrame, pandas.Series, float or None
        :meth:`~uncertainty_footprint.inputs.catalog.Catalog.published_table` (the column is chosen by
        ``catalog.applications[app]['published_column']``, or the only column), one column already chosen, or
        the published total alone [kg CO2-eq]. None: no published values.
    catalog : Catalog, optional
        Needed to choose the column of a multi-column table.

    Returns
    -------
    pandas.Series or None
        Index component names (and ``total``), named after the published column [kg CO2-eq].
    """
    if published is None:
        return None
    if isinstance(published, numbers.Real):
        return pd.Series({"total": float(published)}, name="published")
    if isinstance(published, pd.Series):
        return published.astype(float)
    if isinstance(published, pd.DataFrame):
        column = None
        app = application or ""
        if catalog is not None and app and app in catalog.applications:
            column = catalog.applications[app].get("published_column")
        if column is None and published.shape[1] == 1:
            column = published.columns[0]
        if column is None or column not in published.columns:
            return None
        return published[column].astype(float).rename(column)
    raise TypeError(f"published must be a DataFrame, Series, number or None, got {type(published).__name__}")


def published_label(column: pd.Series | None, published: Any = None) -> str:
    """Legend text of published values: :data:`PUBLISHED_LABEL` for the catalog's published table (``published``
    None or that table, a DataFrame), else ``published``.

    Parameters
    ----------
    column : pandas.Series or None
        The published column (:func:`~uncertainty_footprint.reports.document.resolve_published`).
    published : DataFrame, Series, float or None
        What the caller passed as published values.
    """
    if column is not None and (published is None or isinstance(published, pd.DataFrame)):
        return PUBLISHED_LABEL
    return "published"


def resolve_published(application: str | None, published: Any = None, catalog=None
                      ) -> tuple[pd.Series | None, Any]:
    """The published column of the run (:func:`published_column`) and the catalog it came from.

    Without ``catalog`` the default catalog is loaded; without ``published`` the catalog's published table is
    used.
    """
    if catalog is None:
        from ..inputs.catalog import load_catalog

        catalog = load_catalog()
    if published is None:
        published = catalog.published_table()
    return published_column(application, published, catalog), catalog


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
# Tables: cells are plain text or lists of (kind, text) spans, kind in text, code, strong, strong_code
# ------------------------------------------------------------------------------------------------------------

def _code(text: Any) -> list[tuple[str, str]]:
    return [("code", str(text))]


def _codes(keys: Sequence[str]) -> list[tuple[str, str]]:
    spans: list[tuple[str, str]] = []
    for i, key in enumerate(keys):
        spans += ([("text", ", ")] if i else []) + [("code", str(key))]
    return spans


@dataclass
class Table:
    """A table of the report: header cells, rows of cells, column alignment (``l``/``r``), row classes (HTML)."""

    header: list
    rows: list
    align: str
    classes: list = field(default_factory=list)
    caption: str = ""

    def __post_init__(self):
        self.classes = list(self.classes) or [""] * len(self.rows)


def frame_table(frame: pd.DataFrame, decimals: int | Mapping[str, int] = SOBOL_DECIMALS, *,
                index_header: str | None = None, caption: str = "") -> Table:
    """A DataFrame as a report table: the index as code, numbers to ``decimals``, other values as text.

    Parameters
    ----------
    frame : pandas.DataFrame
        Any table; its column names are the header.
    decimals : int or mapping of str to int
        Decimals of the numeric columns (one for all, or per column name; missing names take
        :data:`SOBOL_DECIMALS`).
    index_header : str, optional
        Header of the index column (default: the index name, or empty).
    caption : str
        Shown above the table.
    """
    header = [index_header if index_header is not None else str(frame.index.name or "")] + \
        [str(c) for c in frame.columns]
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    places = [decimals.get(c, SOBOL_DECIMALS) if isinstance(decimals, Mapping) else decimals for c in frame.columns]
    rows = [[_code(name)] + [_num(v, d) if isnum else str(v) for v, isnum, d in zip(values, numeric, places)]
            for name, values in zip(frame.index, frame.itertuples(index=False))]
    return Table(header, rows, "l" + "".join("r" if isnum else "l" for isnum in numeric), caption=caption)


# ------------------------------------------------------------------------------------------------------------
# Content
# ------------------------------------------------------------------------------------------------------------

def _parameter_records(result) -> list[dict[str, Any]]:
    """Every input parameter with unit, distribution, nominal, status, source (results coords) and description."""
    ds = result.results
    params = getattr(getattr(result, "model", None), "parameters", None) or {}
    coords = {k: ds[k].values for k in ("unit", "distribution", "nominal", "status", "source") if k in ds.coords}
    records = []
    for i, name in enumerate(ds["parameter"].values.tolist()):
        p = params.get(name) if hasattr(params, "get") else None
        records.append({
            "name": str(name),
            "unit": str(coords["unit"][i]) if "unit" in coords else (p.unit if p else ""),
            "distribution": str(coords["distribution"][i]) if "distribution" in coords
            else (p.distribution.describe() if p else ""),
            "nominal": float(coords["nominal"][i]) if "nominal" in coords else (p.nominal if p else math.nan),
            "status": str(coords["status"][i]) if "status" in coords else (p.status if p else ""),
            "source": [s for s in str(coords["source"][i]).split(";") if s] if "source" in coords
            else list(p.source if p else ()),
            "description": p.description if p else "",
        })
    return records


def _assumed_names(stamp: Mapping[str, Any], records: list[dict]) -> list[str]:
    listed = [a for a in str(stamp.get("assumed_parameters", "")).split(",") if a]
    from_status = [r["name"] for r in records if r["status"] == "assumed"]
    return listed + [n for n in from_status if n not in listed]


def _versions(stamp: Mapping[str, Any]) -> str:
    raw = stamp.get("versions", "")
    try:
        versions = json.loads(raw) if raw else {}
    except (TypeError, ValueError):
        return str(raw)
    return ", ".join(f"{k} {v}" for k, v in versions.items())


def component_titles(ds: xr.Dataset) -> dict[str, str]:
    """``{component: title}`` of a results Dataset (empty without its ``component_title`` coordinate)."""
    if "component_title" not in ds.coords:
        return {}
    return dict(zip(ds["component"].values.tolist(), ds["component_title"].values.tolist()))


def _results_table(summary: pd.DataFrame) -> Table:
    """The summary table without the components that are zero in every sample (listed once, see ``absent``)."""
    summary = summary.drop(index=absent_components(summary))
    rows = [[[("strong_code" if r["level"] == "total" else "code", str(name))], str(r["level"]), _num(r["mean"]),
             _num(r["median"]), _interval(r["p5"], r["p95"]), _interval(r["p2_5"], r["p97_5"]), _share(r["share"])]
            for name, r in summary.iterrows()]
    return Table(["Component / stage", "Level", "Mean", "Median", "90 % interval", "95 % interval",
                  "Share of mean total"], rows, "llrrrrr", [str(level) for level in summary["level"]])


def _exact_groupings(exact: Any) -> dict[str, xr.Dataset]:
    """The exact decomposition by grouping: a mapping grouping -> Dataset, a DataTree (``by_<grouping>``
    children, the root is ``parameter``) or one Dataset (split by its one-dimensional variables' dimension)."""
    if exact is None:
        return {}
    if isinstance(exact, Mapping):
        return {str(k): v for k, v in exact.items()}
    if hasattr(exact, "children") and hasattr(exact, "to_dataset"):  # xarray.DataTree
        out = {str(k).removeprefix("by_"): node.to_dataset(inherit=False) for k, node in exact.children.items()}
        root = exact.to_dataset(inherit=False)
        if root.data_vars:
            out = {"parameter": root, **out}
        return out
    if isinstance(exact, xr.Dataset):
        dims = [d for d in exact.dims if any(v.dims == (d,) for v in exact.data_vars.values())]
        return {str(d): exact[[k for k, v in exact.data_vars.items() if v.dims == (d,)]] for d in dims}
    raise TypeError(f"result.exact must be a mapping of Datasets, a DataTree or a Dataset, got {type(exact).__name__}")


def _dataset_frame(ds: xr.Dataset) -> tuple[pd.DataFrame, dict[str, int]]:
    """The one-dimensional numeric variables of a Dataset as columns (``output`` reduced to ``total``), and the
    decimals of each: indices (``units`` 1 or none) to :data:`SOBOL_DECIMALS`, values in kg CO2-eq to
    :data:`REPORT_DECIMALS` (headed ``name [unit]``); variables in other units (e.g. variances) are left out."""
    if "output" in ds.dims:
        outputs = [str(o) for o in ds["output"].values]
        ds = ds.sel(output="total") if "total" in outputs else ds.isel(output=0)
    dims = [v.dims[0] for v in ds.data_vars.values() if v.ndim == 1]
    if not dims:
        return pd.DataFrame(), {}
    dim = dims[0]
    columns, decimals = {}, {}
    for k, v in ds.data_vars.items():
        unit = str(v.attrs.get("units", "1") or "1")
        if unit == FOOTPRINT_UNITS and "quantity" in v.attrs:  # kg of CO2-eq (inputs.units)
            unit = KG
        if v.dims != (dim,) or not np.issubdtype(v.dtype, np.number) or unit not in ("1", KG):
            continue
        name = str(k) if unit == "1" else f"{k} [{unit}]"
        columns[name] = np.asarray(v.values, dtype=float)
        decimals[name] = SOBOL_DECIMALS if unit == "1" else REPORT_DECIMALS
    index = [str(v) for v in ds[dim].values] if dim in ds.coords else list(range(ds.sizes[dim]))
    return pd.DataFrame(columns, index=pd.Index(index, name=dim)), decimals


def _hotspot_sections(sobol: Mapping[str, xr.Dataset] | None, exact: Any) -> list[dict]:
    """Per grouping: heading, estimator details and the sampled table, with the exact table beside it."""
    exact_by = _exact_groupings(exact)
    sobol = dict(sobol or {})
    known = ("component", "stage", "parameter")
    keys = [k for k in known if k in sobol or k in exact_by] + \
        [k for k in list(sobol) + list(exact_by) if k not in known]
    sections = []
    for key in dict.fromkeys(keys):
        names: list[str] | None = None
        tables: list[Table] = []
        details: list = []
        n_all = None
        if key in sobol:
            ds = sobol[key]
            table = indices_table(ds).sort_values("ST", ascending=False, kind="stable")
            n_all = len(table)
            if key == "parameter":
                table = table.head(SOBOL_TOP_PARAMETERS)
            names = list(table.index)
            rows = [[_code(name), _num(r["S1"], SOBOL_DECIMALS), _num(r["S1_conf"], SOBOL_DECIMALS),
                     _num(r["ST"], SOBOL_DECIMALS), _num(r["ST_conf"], SOBOL_DECIMALS)] for name, r in table.iterrows()]
            tables.append(Table([key.capitalize(), "S1", "± S1", "ST", "± ST"], rows, "lrrrr",
                                caption="Sampled (Saltelli estimator)" if key in exact_by else ""))
            for k in ("n_base", "num_resamples", "conf_level", "n_evaluations"):
                if k in ds.attrs:
                    details += ([("text", ", ")] if details else []) + [("code", k), ("text", f" = {ds.attrs[k]}")]
        if key in exact_by:
            frame, decimals = _dataset_frame(exact_by[key])
            if names is not None:
                frame = frame.reindex([n for n in names if n in frame.index])
            elif "ST" in frame:
                n_all = len(frame)
                frame = frame.sort_values("ST", ascending=False, kind="stable")
                frame = frame.head(SOBOL_TOP_PARAMETERS) if key == "parameter" else frame
            tables.append(frame_table(frame, decimals, index_header=key.capitalize(),
                                      caption="Exact variance decomposition" if key in sobol else ""))
        title = f"By {key}"
        if key == "parameter" and n_all is not None and n_all > SOBOL_TOP_PARAMETERS:
            title = f"By parameter (the {SOBOL_TOP_PARAMETERS} largest ST of {n_all})"
        sections.append({"title": title, "details": details, "tables": tables, "exact": key in exact_by,
                         "sampled": key in sobol})
    return sections


def _shapley_sections(shapley: Mapping[str, xr.Dataset]) -> list[dict]:
    """Per grouping: the Shapley effects of a run with correlated inputs, largest first, with their intervals."""
    sections = []
    for key in [k for k in ("component", "stage", "parameter") if k in shapley]:
        ds = shapley[key]
        dim = ds["shapley"].dims[0]
        frame = pd.DataFrame({"Shapley": ds["shapley"].values, "low": ds["conf_low"].values,
                              "high": ds["conf_high"].values}, index=[str(v) for v in ds[dim].values])
        frame = frame.sort_values("Shapley", ascending=False, kind="stable")
        n_all = len(frame)
        if key == "parameter":
            frame = frame.head(SOBOL_TOP_PARAMETERS)
        level = f"{100 * ds.attrs['conf_level']:.0f} %"
        frame.columns = ["Shapley", f"{level} low", f"{level} high"]
        title = f"By {key}" + (f" (the {SOBOL_TOP_PARAMETERS} largest of {n_all})"
                               if key == "parameter" and n_all > SOBOL_TOP_PARAMETERS else "")
        details = [("text", f"{ds.attrs['n_permutations']} random permutations ("), ("code", "shapley.permutations"),
                   ("text", f"), {ds.attrs['n_evaluations']} model runs, {ds.attrs['num_resamples']} bootstrap "
                            "resamples")]
        sections.append({"title": title, "details": details, "tables": [frame_table(frame, index_header=key.capitalize())],
                         "exact": False, "sampled": True})
    return sections


def _dependence_context(result) -> dict | None:
    """The "Correlated inputs" section: the pairs with target and achieved rank correlations, and the intervals
    with and without the correlations; None for a run with independent inputs."""
    dep = getattr(result, "dependence", None)
    if dep is None:
        return None
    rows = [[[("code", r["a"])], [("code", r["b"])], _num(r["target"], 2), _num(r["achieved"], 3),
             r["reason"] or "-", r["source"] or "-"] for _, r in dep.correlations.iterrows()]
    pairs = Table(["Parameter", "with", "Target rho", "Achieved rho", "Reason", "Source"], rows, "llrrll")
    names = [n for n in result.summary.index if n == "total" or result.summary.loc[n, "level"] == "stage"]
    both = []
    for name in names:
        w, t = dep.without.loc[name], result.summary.loc[name]
        both.append([[("strong_code" if name == "total" else "code", str(name))], _num(t["median"]),
                     _interval(t["p5"], t["p95"]), _num(w["median"]), _interval(w["p5"], w["p95"])])
    sides = Table(["Stage / total", "Median, correlated", "90 % interval, correlated", "Median, independent",
                   "90 % interval, independent"], both, "lrrrr")
    return {"pairs": pairs, "sides": sides}


def _reproduction_table(det: pd.DataFrame, column: pd.Series | None) -> Table:
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
        row = [[("strong_code" if name == "total" else "code", str(name))], _num(r["lower"]), _num(r["typical"]),
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
    return Table(header, rows, align, classes)


def _parameter_table(records: list[dict], assumed: list[str]) -> Table:
    by_name = {r["name"]: r for r in records}
    ordered = [by_name[n] for n in assumed if n in by_name] + [r for r in records if r["name"] not in assumed]
    rows, classes = [], []
    for r in ordered:
        is_assumed = r["name"] in assumed
        rows.append([[("strong_code" if is_assumed else "code", r["name"])],
                     [("strong", "ASSUMED")] if is_assumed else r["status"],
                     _code(r["distribution"]), r["unit"], f"{r['nominal']:g}", _codes(r["source"]),
                     r["description"]])
        classes.append("assumed" if is_assumed else "")
    return Table(["Parameter", "Status", "Distribution", "Unit", "Nominal", "Source", "Description"], rows,
                 "lllllll", classes)


def _reference_table(ds: xr.Dataset) -> Table | None:
    if "reference_footprint" not in ds:
        return None
    labels = ds["reference_label"].values if "reference_label" in ds.coords else ds["reference"].values
    sources = ds["reference_source"].values if "reference_source" in ds.coords else [""] * ds.sizes["reference"]
    rows = [[str(lab), _num(v, 1), _codes([s for s in str(src).split(";") if s])]
            for lab, v, src in zip(labels, ds["reference_footprint"].values, sources)]
    return Table(["Device", f"Footprint [{KG}]", "Source"], rows, "lrl")


def _figure_entries(figures: Sequence[os.PathLike | str], folder: Path) -> list[dict]:
    pngs: list[Path] = []
    for f in figures:
        f = Path(f)
        png = f if f.suffix.lower() == ".png" else f.with_suffix(".png")
        if png.exists() and png not in pngs:
            pngs.append(png)
    entries = []
    for png in pngs:
        pdf = png.with_suffix(".pdf")
        entries.append({"name": png.stem, "png": png, "rel": Path(os.path.relpath(png, folder)).as_posix(),
                        "rel_pdf": Path(os.path.relpath(pdf, folder)).as_posix() if pdf.exists() else "",
                        "caption": FIGURE_CAPTIONS.get(png.stem, png.stem.replace("_", " "))})
    return entries


def _sources(records: list[dict], ds: xr.Dataset, catalog, own: Mapping[str, str] | None = None,
             balance: Mapping[str, str] | None = None) -> list[list]:
    """Citation lines of every source the inputs use: the catalog's bibliography, the experiment's own
    ``sources`` section (``own``) and the sources of the benefit and fleet inputs (``balance``: key -> citation)."""
    keys: list[str] = [k for r in records for k in r["source"]]
    if "reference_source" in ds.coords:
        keys += [k for src in ds["reference_source"].values for k in str(src).split(";") if k]
    keys += list(balance or {})
    sources = {**dict(getattr(catalog, "sources", {}) or {}), **dict(own or {}), **dict(balance or {})}
    return [[("code", k), ("text", ": " + (str(sources[k]) if k in sources else
                                          "not in the catalog's bibliography (an experiment file or local source; "
                                          "values from it are project assumptions unless it says otherwise)."))]
            for k in dict.fromkeys(keys)]


def _methods_context(result) -> dict | None:
    """The "Methods compared" section of a run whose components are computed by several methods, else None:
    the total by each method alone and the mixture, the components and their methods' weights, and the share of
    the total's variance the choices of method explain (their Shapley effects, from the exact decomposition)."""
    table = getattr(result, "methods", None)
    if table is None:
        return None
    from ..analysis.method_runs import MIXTURE, method_choices, method_weights, totals_by_method

    methods = getattr(result.catalog, "methods", {}) or {}
    totals = totals_by_method(table)
    rows = [[[("code", str(m))], "the experiment's mixture" if m == MIXTURE else
             getattr(methods.get(m), "title", str(m)), _num(r["mean"]), _num(r["median"]),
             _interval(r["p5"], r["p95"])] for m, r in totals.iterrows()]
    model = result.experiment.model
    weights = method_weights(model)
    choices = [[[("code", comp)], [("code", choice)] if choice is not None else "one method",
                ", ".join(f"{m} {w:.2f}" for m, w in weights[comp].items())]
               for comp, (choice, _) in method_choices(model).items()]
    share = None
    by_parameter = _exact_groupings(getattr(result, "exact", None)).get("parameter")
    if by_parameter is not None and "shapley" in by_parameter:
        frame = by_parameter["shapley"].to_series()
        picked = frame[[str(n).startswith("method:") for n in frame.index]]
        if len(picked):
            share = _share(float(picked.sum()))
    return {"totals": Table(["Method", "Title", "Mean", "Median", "90 % interval"], rows, "llrrr"),
            "components": Table(["Component", "Choice (input)", "Methods and weights"], choices, "lll"),
            "share": share}


def _balance_citations(result) -> Mapping[str, str] | None:
    """Key -> citation of the sources of a run's benefit and fleet inputs (None without them)."""
    analysis = getattr(result, "balance", None)
    return None if analysis is None else analysis.balance.citations


def _balance_context(result) -> dict | None:
    """The "Does it pay back?" section (``templates/balance.j2``) of a run with a benefit or fleet, else None."""
    if getattr(result, "balance", None) is None:
        return None
    from .payback_report import balance_context

    return balance_context(result.balance)


def report_context(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                   figures: Sequence[os.PathLike | str] = (), catalog=None,
                   published_col: pd.Series | None = None) -> dict[str, Any]:
    """The data the report templates render (the same for report.md and report.html).

    ``result.exact`` (an exact variance decomposition, when the run has one: a mapping grouping -> Dataset of
    per-parameter or per-group indices such as ``S1``, ``ST``, ``shapley``) is shown beside the sampled Sobol'
    indices of the same grouping.
    """
    folder = Path(folder)
    ds, summary = result.results, result.summary
    stamp = result_provenance(result)
    exact = getattr(result, "exact", None)
    records = _parameter_records(result)
    assumed = _assumed_names(stamp, records)
    by_name = {r["name"]: r for r in records}
    experiment = getattr(result, "experiment", None)
    name = stamp.get("experiment", "") or getattr(experiment, "name", "") or "experiment"
    tot = summary.loc["total"]
    n_samples = stamp.get("n_samples", "")
    comp = summary[summary["level"] == "component"].sort_values("share", ascending=False, kind="stable")
    contributions: list = []
    for c in [c for c in comp.index if comp.loc[c, "share"] > 0][:5]:
        contributions += ([("text", ", ")] if contributions else []) + \
            [("code", c), ("text", f" {_share(comp.loc[c, 'share'])}")]
    provenance = [("Experiment", name), ("Experiment file", stamp.get("experiment_file", "")),
                  ("Application", _code(stamp["application"]) if stamp.get("application") else "none"),
                  ("Samples", n_samples), ("Design", stamp.get("design", "")), ("Seed", stamp.get("seed", "")),
                  ("Config SHA-256", _code(stamp.get("config_sha256", ""))),
                  ("Model SHA-256", _code(stamp.get("model_sha256", ""))), ("Versions", _versions(stamp))]
    assumed_items = []
    for n in assumed:
        r = by_name.get(n)
        unit = f" [{r['unit']}]" if r and r["unit"] not in ("", "1") else ""
        assumed_items.append([("strong_code", n)] + ([("text", ": "), ("code", r["distribution"]), ("text", unit)]
                                                     if r else []))
    notes = [[("text", "Inputs are sampled independently: the Monte Carlo intervals and the Sobol' indices assume "
                       "independent inputs (Sobol' indices are only defined as a variance decomposition for "
                       "independent inputs); correlated emission factors or quantities would change both."
                       + ("" if sobol or exact else " (No Sobol' indices were computed for this run.)"))],
             [("text", "Parameters with status ASSUMED have no published basis; results that depend on them (see "
                       "the box at the top) should be reported as such.")]]
    dependence = getattr(result, "dependence", None)
    hotspots = _shapley_sections(dependence.shapley) if dependence is not None else _hotspot_sections(sobol, exact)
    if dependence is not None:
        from ..analysis.dependence import DEPENDENCE_NOTE

        notes[0] = [("text", "Some inputs are correlated (Gaussian copula on the declared Spearman rank "
                             "correlations, section Correlated inputs). " + DEPENDENCE_NOTE)]
    absent: list = []
    for c in absent_components(summary):
        absent += ([("text", ", ")] if absent else []) + [("code", c)]
    return {
        "KG": KG,
        "title": f"Carbon footprint with uncertainty: {name}",
        "description": (getattr(getattr(experiment, "spec", None), "description", "") or "").strip(),
        "total": {"median": _num(tot["median"]), "mean": _num(tot["mean"]), "p90": _interval(tot["p5"], tot["p95"]),
                  "p95": _interval(tot["p2_5"], tot["p97_5"])},
        "n_samples": n_samples,
        "published": None if published_col is None or "total" not in published_col.index
        else {"column": str(published_col.name), "total": _num(published_col["total"], 2)},
        "n_parameters": len(records),
        "assumed": assumed_items,
        "provenance": Table(["Item", "Value"], [[k, v if isinstance(v, list) else str(v)] for k, v in provenance],
                            "ll"),
        "results": _results_table(summary),
        "balance": _balance_context(result),
        "methods": _methods_context(result),
        "dependence": _dependence_context(result),
        "absent": absent,
        "contributions": contributions,
        "hotspots": hotspots,
        "reproduction": _reproduction_table(result.deterministic, published_col),
        "corners_note": CORNERS_NOTE,
        "parameters": _parameter_table(records, assumed),
        "references": _reference_table(ds),
        "figures": _figure_entries(figures, folder),
        "cite": {"version": package_version(), "config_sha256": str(stamp.get("config_sha256", "")),
                 "model_sha256": str(stamp.get("model_sha256", "")), "seed": stamp.get("seed", ""),
                 "design": stamp.get("design", "")},
        "sources": _sources(records, ds, catalog, getattr(result.model, "sources", None), _balance_citations(result)),
        "notes": notes,
    }


# ------------------------------------------------------------------------------------------------------------
# Rendering
# ------------------------------------------------------------------------------------------------------------

_MD_SPECIAL = re.compile(r"([\\`*_|<>])")


def _md_text(text: Any, table: bool = False) -> str:
    """Plain text in Markdown: special characters escaped; in a table cell, on one line."""
    escaped = _MD_SPECIAL.sub(r"\\\1", str(text))
    return escaped.replace("\n", " ") if table else escaped


def _md_code(text: Any, table: bool = False) -> str:
    return str(text).replace("|", "\\|") if table else str(text)


def _blockquote(text: str) -> str:
    text = re.sub(r"\n{3,}", "\n\n", str(text))
    return "\n".join(("> " + line) if line else ">" for line in text.splitlines())


def _data_uri(png: os.PathLike | str) -> str:
    return "data:image/png;base64," + base64.b64encode(Path(png).read_bytes()).decode("ascii")


@functools.cache
def _environment(kind: str):
    """The Jinja2 environment of ``markdown``, ``html`` or ``latex`` output (built once per process)."""
    import jinja2

    loader = jinja2.PackageLoader(__package__, _TEMPLATES)
    if kind == "latex":
        env = jinja2.Environment(loader=loader, block_start_string="((*", block_end_string="*))",
                                 variable_start_string="(((", variable_end_string=")))",
                                 comment_start_string="((=", comment_end_string="=))", trim_blocks=True,
                                 lstrip_blocks=True, keep_trailing_newline=True, autoescape=False,
                                 undefined=jinja2.StrictUndefined)
        env.filters["tex"] = latex_escape
        return env
    env = jinja2.Environment(loader=loader, autoescape=kind == "html", trim_blocks=True, lstrip_blocks=True,
                             undefined=jinja2.StrictUndefined)
    env.globals["zip"] = zip
    if kind == "html":
        env.filters.update(t=lambda text, table=False: text, tcode=lambda text, table=False: text,
                           data_uri=_data_uri)
    else:
        env.filters.update(t=_md_text, tcode=_md_code, blockquote=_blockquote)
    return env


def render_markdown(context: Mapping[str, Any]) -> str:
    """``report.md`` (GitHub-flavoured tables) from :func:`report_context`; figures link their PNG and PDF."""
    text = _environment("markdown").get_template("report.md.j2").render(**context)
    return re.sub(r"\n{3,}", "\n\n", text).strip() + "\n"


def render_html(context: Mapping[str, Any]) -> str:
    """A self-contained ``report.html``: inline CSS, figures as ``data:image/png;base64`` URIs, no external
    resource."""
    text = _environment("html").get_template("report.html.j2").render(**context)
    return re.sub(r"\n{2,}", "\n", text).strip() + "\n"


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
    """A booktabs table (``table`` float) of the median [90 % interval] per component and the total; components
    that are zero in every sample are named once in the caption instead of as rows of zeros.

    No preamble: ``\\input`` it in a document that loads ``booktabs``. Rendered from ``templates/table.tex.j2``.
    """
    ds, summary = result.results, result.summary
    stamp = result_provenance(result)
    titles = component_titles(ds)
    name = stamp.get("experiment", "") or "experiment"
    absent = absent_components(summary)
    comp = summary[summary["level"] == "component"].drop(index=absent)
    tot = summary.loc["total"]
    rows = [{"title": titles.get(c, c), "stage": str(r["stage"]).replace("_", " "),
             "median": _num(r["median"], decimals), "interval": _interval(r["p5"], r["p95"], decimals)}
            for c, r in comp.iterrows()]
    return _environment("latex").get_template("table.tex.j2").render(
        name=name, n_samples=stamp.get("n_samples", ""),
        design=stamp.get("design", ""), seed=stamp.get("seed", ""),
        config_sha256=stamp.get("config_sha256", ""),
        label=_slug(Path(str(stamp.get("experiment_file", "") or name)).stem), rows=rows,
        absent=[titles.get(c, c) for c in absent],
        total={"median": _num(tot["median"], decimals), "interval": _interval(tot["p5"], tot["p95"], decimals)})


# ------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------

def write_report(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                 figures: Sequence[os.PathLike | str] = (), catalog=None, published: Any = None) -> list[Path]:
    """Write ``report.md``, ``report.html`` and ``table.tex`` into ``folder``.

    Parameters
    ----------
    result : Result
        A run (:class:`~uncertainty_footprint.analysis.engine.Result`) (``result.exact``, if present, adds the
        exact variance decomposition to the hotspots).
    folder : path
        Output folder (created if missing); figure paths are linked relative to it.
    sobol : mapping of str to xarray.Dataset, optional
        Sobol' results by grouping (``parameter``, ``component``, ``stage``); without them the hotspot section
        shows the shares only.
    figures : sequence of paths
        Figure files (e.g. :func:`~uncertainty_footprint.reports.drawing.write_figures` output); PNGs are embedded in
        the HTML as data URIs and linked from the Markdown, PDFs are linked from the Markdown.
    catalog : Catalog, optional
        For the citations and the published column of the application (default: the default catalog).
    published : DataFrame, Series or float, optional
        Published values (see :func:`published_column`); default
        :meth:`~uncertainty_footprint.inputs.catalog.Catalog.published_table` of the catalog.

    Returns
    -------
    list of Path
        ``report.md``, ``report.html``, ``table.tex``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    column, catalog = resolve_published(result.experiment.spec.application, published, catalog)
    context = report_context(result, folder, sobol=sobol, figures=figures, catalog=catalog, published_col=column)
    paths = [folder / "report.md", folder / "report.html", folder / "table.tex"]
    paths[0].write_text(render_markdown(context), encoding="utf-8")
    paths[1].write_text(render_html(context), encoding="utf-8")
    paths[2].write_text(latex_table(result), encoding="utf-8")
    return paths
