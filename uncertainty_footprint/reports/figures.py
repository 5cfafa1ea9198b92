"""Figures for a paper: distributions, intervals, the published stacked comparison, Sobol hotspots, convergence.

Every plotting function returns a :class:`matplotlib.figure.Figure` built directly (no :mod:`matplotlib.pyplot`,
no global state): the caller's backend and ``rcParams`` are left alone, and the paper style (fonts >= 7 pt,
widths of one column, 3.4 in, or two columns, 7 in) is applied inside :func:`matplotlib.rc_context` and by
explicit font sizes. Figures stay readable in grey-scale: intervals, medians and published values differ by line
style and marker, bars by grey level and hatch, never by colour alone.

:func:`save_figure` writes ``name.png`` (200 dpi) and ``name.pdf``; :func:`write_figures` writes every figure of
a run into ``folder/figures/``. :func:`running_statistics` computes the convergence data of the total that the
pipeline can store beside the results.
"""

from __future__ import annotations

import functools
import numbers
import os
import textwrap
from pathlib import Path
from typing import Any, Mapping

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.figure import Figure

from ..model.builder import KG

__all__ = ["total_distribution", "component_intervals", "comparison_stacked", "sobol_indices", "convergence",
           "running_statistics", "save_figure", "write_figures", "indices_table", "published_column",
           "FIGURE_CAPTIONS", "SINGLE_COLUMN", "DOUBLE_COLUMN", "PNG_DPI"]

#: Figure widths in inches: one column and the full width of a two-column paper.
SINGLE_COLUMN = 3.4
DOUBLE_COLUMN = 7.0
#: Resolution of the PNG files.
PNG_DPI = 200
#: Font sizes in points (never below 7 pt at the printed size).
FONT = 8
FONT_SMALL = 7

_RC = {
    "font.size": FONT,
    "axes.titlesize": FONT,
    "axes.labelsize": FONT,
    "xtick.labelsize": FONT_SMALL,
    "ytick.labelsize": FONT_SMALL,
    "legend.fontsize": FONT_SMALL,
    "legend.title_fontsize": FONT_SMALL,
    "figure.titlesize": FONT,
    "axes.linewidth": 0.6,
    "lines.linewidth": 1.0,
    "xtick.major.width": 0.6,
    "ytick.major.width": 0.6,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "pdf.fonttype": 42,  # TrueType fonts in the PDF: editable text, accepted by publishers
    "ps.fonttype": 42,
    "svg.fonttype": "none",
}

#: Grey levels (0 black, 1 white) and hatches used for bars, so that they differ without colour.
_GREYS = ("0.15", "0.45", "0.70", "0.92")
_HATCHES = ("", "////", "....", "xxxx", "\\\\\\\\", "oo")
_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")

#: Figure name -> caption, used by the report.
FIGURE_CAPTIONS = {
    "total_distribution": "Distribution of the total footprint per device, with the median, the 90 % and 95 % "
                          "intervals and the published point value of the matching application.",
    "component_intervals": "Footprint per component: median (dot), 90 % interval (thick bar) and 95 % interval "
                           "(thin whisker), linear axis.",
    "component_intervals_log": "Footprint per component on a logarithmic axis (components that are zero in every "
                               "sample are omitted; zero lower bounds are clipped to the left edge).",
    "comparison_stacked": "The stacked view of the published web calculator: component means of the TinyML "
                          "device stacked (their sum is the mean total) with the median and 95 % interval of "
                          "the total, beside the reference devices (published point values); logarithmic axis.",
    "sobol_indices": "Sobol' first-order (S1) and total-order (ST) indices of the total footprint with their "
                     "bootstrap confidence intervals, by component and for the ten most influential parameters "
                     "(inputs assumed independent).",
    "convergence": "Convergence: running mean and 95 % interval of the total against the number of samples "
                   "(and, if computed, Sobol' total-order indices against the base sample size).",
}


def _styled(func):
    """Run a plotting function inside the paper style, leaving the caller's rcParams untouched."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_RC):
            return func(*args, **kwargs)

    return wrapper


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **subplot_kw) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    for ax in axes.flat:
        ax.tick_params(labelsize=FONT_SMALL, width=0.6)  # applies to ticks created later, at draw time, too
    return fig, axes


def _legend_below(ax, ncols: int = 1, **kwargs) -> None:
    """Legend under the axes (outside the data; constrained layout makes room for it)."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=ncols, fontsize=FONT_SMALL, frameon=False,
              borderaxespad=0.0, **kwargs)


def _label(name: str) -> str:
    return str(name).replace("_", " ")


def _kg(what: str) -> str:
    return f"{what} [{KG}]"


# ------------------------------------------------------------------------------------------------------------
# Helpers shared with the report
# ------------------------------------------------------------------------------------------------------------

def published_column(results: xr.Dataset, published: Any = None, catalog=None) -> pd.Series | None:
    """The published per-component values of the run's application, or None.

    Parameters
    ----------
    results : xarray.Dataset
        Results of a run (``attrs['application']`` names the application).
    published : pandas.DataFrame, pandas.Series, float or None
        :meth:`~uncertainty_footprint.inputs.catalog.Catalog.published_table` (the column is chosen by
        ``catalog.applications[app]['published_column']``, or the only column), one column already chosen, or
        the published total alone. None: no published values.
    catalog : Catalog, optional
        Needed to choose the column of a multi-column table.

    Returns
    -------
    pandas.Series or None
        Index component names (and ``total``), named after the published column.
    """
    if published is None:
        return None
    if isinstance(published, numbers.Real):
        return pd.Series({"total": float(published)}, name="published")
    if isinstance(published, pd.Series):
        return published.astype(float)
    if isinstance(published, pd.DataFrame):
        column = None
        app = results.attrs.get("application", "")
        if catalog is not None and app and app in catalog.applications:
            column = catalog.applications[app].get("published_column")
        if column is None and published.shape[1] == 1:
            column = published.columns[0]
        if column is None or column not in published.columns:
            return None
        return published[column].astype(float).rename(column)
    raise TypeError(f"published must be a DataFrame, Series, number or None, got {type(published).__name__}")


def _default_published(results: xr.Dataset, published: Any, catalog) -> tuple[pd.Series | None, Any]:
    """Resolve the published column, loading the default catalog when neither is given."""
    if catalog is None:
        try:
            from ..inputs.catalog import load_catalog

            catalog = load_catalog()
        except Exception:  # no catalog available: no published marker, nothing else changes
            catalog = None
    if published is None and catalog is not None:
        published = catalog.published_table()
    return published_column(results, published, catalog), catalog


def indices_table(ds: xr.Dataset, output: str = "total") -> pd.DataFrame:
    """S1, S1_conf, ST, ST_conf of one Sobol Dataset as a table indexed by parameter or group.

    A Dataset with an ``output`` dimension is reduced to ``output`` (if present, else the first output).
    """
    if "output" in ds.dims:
        outputs = [str(o) for o in ds["output"].values]
        ds = ds.sel(output=output) if output in outputs else ds.isel(output=0)
    dim = ds["ST"].dims[0]
    table = pd.DataFrame({key: np.asarray(ds[key].values, dtype=float) for key in ("S1", "S1_conf", "ST", "ST_conf")},
                         index=pd.Index([str(v) for v in ds[dim].values], name=dim))
    return table


# ------------------------------------------------------------------------------------------------------------
# 1. total distribution
# ------------------------------------------------------------------------------------------------------------

@_styled
def total_distribution(results: xr.Dataset, published: float | None = None, *,
                       published_label: str = "published point value", width: float = SINGLE_COLUMN) -> Figure:
    """Histogram (density) of the total footprint with the median, 90 % and 95 % intervals and published value.

    Parameters
    ----------
    results : xarray.Dataset
        Needs ``total(sample)``.
    published : float, optional
        The published total of the matching application [kg CO2-eq], marked by a dash-dotted line.
    published_label : str
        Legend text of the published value.
    width : float
        Figure width in inches.
    """
    total = np.asarray(results["total"].values, dtype=float)
    total = total[np.isfinite(total)]
    p = np.percentile(total, [0.1, 2.5, 5.0, 50.0, 95.0, 97.5, 99.9])
    fig, axes = _figure(width, 0.95 * width if width <= SINGLE_COLUMN else 0.45 * width)
    ax = axes[0, 0]
    lo, hi = p[0], p[-1]
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    ax.hist(total, bins=min(60, max(10, int(np.sqrt(total.size)))), range=(lo, hi), density=True,
            color="0.82", edgecolor="0.45", linewidth=0.3, label="Monte Carlo samples")
    ax.axvspan(p[1], p[5], color="0.5", alpha=0.12, linewidth=0)
    ax.axvline(p[3], color="black", linestyle="-", linewidth=1.4, label=f"median {p[3]:.2f}")
    for x, ls, lw, lab in ((p[2], "--", 1.0, f"90 % interval [{p[2]:.2f}, {p[4]:.2f}]"), (p[4], "--", 1.0, None),
                           (p[1], ":", 1.2, f"95 % interval [{p[1]:.2f}, {p[5]:.2f}]"), (p[5], ":", 1.2, None)):
        ax.axvline(x, color="0.2", linestyle=ls, linewidth=lw, label=lab)
    xmin, xmax = lo, hi
    if published is not None and np.isfinite(published):
        ax.axvline(published, color="black", linestyle="-.", linewidth=1.2,
                   label=f"{published_label} {published:.2f}")
        ax.plot([published], [1.0], marker="v", color="black", markersize=5, transform=ax.get_xaxis_transform(),
                clip_on=False, linestyle="none")
        xmin, xmax = min(xmin, published), max(xmax, published)
    pad = 0.03 * (xmax - xmin)
    ax.set_xlim(xmin - pad, xmax + pad)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(_kg("Total footprint per device"), fontsize=FONT)
    ax.set_ylabel(f"Probability density [1/({KG})]", fontsize=FONT)
    fig.legend(handles=ax.get_legend_handles_labels()[0], loc="outside lower center", fontsize=FONT_SMALL,
               frameon=False, ncols=1 if width <= SINGLE_COLUMN else 3, handlelength=2.4)
    return fig


# ------------------------------------------------------------------------------------------------------------
# 2. component intervals
# ------------------------------------------------------------------------------------------------------------

@_styled
def component_intervals(summary: pd.DataFrame, log: bool = False, *, titles: Mapping[str, str] | None = None,
                        width: float = SINGLE_COLUMN) -> Figure:
    """Median and 90 % / 95 % intervals of every component, sorted by median (largest at the top).

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~uncertainty_footprint.analysis.summary.summarize` output (rows with ``level == 'component'`` are used).
    log : bool
        Logarithmic axis. Components whose 97.5th percentile is 0 are omitted (they are zero in at least 97.5 %
        of the samples); lower bounds at or below 0 are clipped to the left edge of the axis.
    titles : mapping, optional
        Component name -> label (default: the name with spaces).
    """
    comp = summary[summary["level"] == "component"].sort_values("median", kind="stable")
    omitted: list[str] = []
    if log:
        keep = comp["p97_5"] > 0
        omitted = list(comp.index[~keep])
        comp = comp[keep]
    n = max(len(comp), 1)
    fig, axes = _figure(width, 0.95 + 0.19 * n)
    ax = axes[0, 0]
    y = np.arange(len(comp))
    if log and len(comp):
        positive = comp[["p2_5", "p5", "median"]].to_numpy().ravel()
        positive = positive[positive > 0]
        floor = 10 ** np.floor(np.log10(positive.min() if positive.size else comp["p97_5"].min()))
        ax.set_xscale("log")

        def clip(v):  # zero lower bounds drawn from the left edge
            return np.maximum(np.asarray(v, dtype=float), floor)
    else:
        floor = None

        def clip(v):
            return np.asarray(v, dtype=float)
    ax.hlines(y, clip(comp["p2_5"]), clip(comp["p97_5"]), color="black", linewidth=0.8, label="95 % interval")
    ax.hlines(y, clip(comp["p5"]), clip(comp["p95"]), color="0.35", linewidth=3.2, label="90 % interval")
    ax.plot(clip(comp["median"]), y, linestyle="none", marker="o", markersize=4, markerfacecolor="white",
            markeredgecolor="black", markeredgewidth=0.9, label="median")
    labels = [(titles or {}).get(c, _label(c)) for c in comp.index]
    ax.set_yticks(y, labels)
    ax.set_ylim(-0.7, len(comp) - 0.3)
    if floor is not None:
        ax.set_xlim(left=floor)
    elif not log:
        ax.set_xlim(left=0)
    ax.grid(axis="x", color="0.85", linewidth=0.4)
    ax.set_axisbelow(True)
    ax.set_xlabel(_kg("Footprint per device"), fontsize=FONT)
    fig.legend(handles=ax.get_legend_handles_labels()[0], loc="outside lower center", ncols=3,
               fontsize=FONT_SMALL, frameon=False, handlelength=1.8, columnspacing=1.2)
    if omitted:
        ax.set_title("omitted (zero): " + ", ".join(_label(o) for o in omitted), fontsize=FONT_SMALL, loc="left",
                     wrap=True)
    return fig


# ------------------------------------------------------------------------------------------------------------
# 3. stacked comparison with reference devices
# ------------------------------------------------------------------------------------------------------------

def _bar_style(i: int) -> dict:
    grey = _GREYS[i % len(_GREYS)]
    hatch = _HATCHES[(i // len(_GREYS)) % len(_HATCHES)]
    edge = "white" if float(grey) < 0.5 else "black"
    return {"color": grey, "hatch": hatch, "edgecolor": edge}


@_styled
def comparison_stacked(summary: pd.DataFrame, results: xr.Dataset, *, published: float | None = None,
                       width: float = SINGLE_COLUMN) -> Figure:
    """The published calculator's stacked comparison, with the TinyML device's uncertainty.

    The TinyML bar stacks the component **means** (means add up, so the stack height is the mean total);
    components whose mean is 0 are left out. An error bar gives the median and 95 % interval of the total.
    Beside it, one bar per reference device (``reference_footprint``, published point values). Log axis.

    Parameters
    ----------
    summary : pandas.DataFrame
    results : xarray.Dataset
        For component titles, the application and ``reference_footprint`` (optional).
    published : float, optional
        The published TinyML total of the matching application, marked by a triangle.
    """
    comp = summary[summary["level"] == "component"]
    comp = comp[comp["mean"] > 0].sort_values("mean", ascending=False, kind="stable")
    tot = summary.loc["total"]
    titles = dict(zip(results["component"].values.tolist(), results["component_title"].values.tolist())) \
        if "component_title" in results.coords else {}
    refs: list[tuple[str, float]] = []
    if "reference_footprint" in results:
        labels = results["reference_label"].values if "reference_label" in results.coords \
            else results["reference"].values
        refs = [(str(lab), float(v)) for lab, v in zip(labels, results["reference_footprint"].values)]
    fig, axes = _figure(width, 1.2 * width if width <= SINGLE_COLUMN else 0.5 * width)
    ax = axes[0, 0]
    ax.set_yscale("log")
    # one decade below the largest component (or the total's 2.5th percentile): smaller components are thin
    # slices on a log axis whatever the floor, and a lower floor only makes the largest one look taller
    positive = [v for v in [tot["p2_5"], comp["mean"].max() if len(comp) else 0.0] if v > 0]
    floor = 10 ** (np.floor(np.log10(min(positive))) - 1) if positive else 1e-3
    bottom = floor
    handles = []
    for i, (name, row) in enumerate(comp.iterrows()):
        style = _bar_style(i)
        top = bottom + row["mean"] if i else row["mean"]
        h = ax.bar(0, top - bottom, bottom=bottom, width=0.6, linewidth=0.4,
                   label=textwrap.fill(f"{titles.get(name, _label(name))} {row['mean']:.2f}", 22), **style)
        handles.append(h)
        bottom = top
    err = ax.errorbar([0.42], [tot["median"]], yerr=[[tot["median"] - tot["p2_5"]], [tot["p97_5"] - tot["median"]]],
                      fmt="o", color="black", markerfacecolor="white", markersize=4, capsize=3, linewidth=1.0,
                      label="total: median, 95 % interval")
    extra = [err]
    if published is not None and np.isfinite(published) and published > 0:
        (pub,) = ax.plot([-0.42], [published], marker=">", color="black", markersize=5, linestyle="none",
                         label=f"published total {published:.2f}")
        extra.append(pub)
    ref_styles = ({"color": "0.6", "hatch": "////", "edgecolor": "black"},
                  {"color": "0.3", "hatch": "", "edgecolor": "black"},
                  {"color": "white", "hatch": "xxxx", "edgecolor": "black"})
    for j, (label, value) in enumerate(refs, start=1):
        ax.bar(j, value - floor, bottom=floor, width=0.6, linewidth=0.6, **ref_styles[(j - 1) % len(ref_styles)])
        ax.annotate(f"{value:g}", (j, value), xytext=(0, 2), textcoords="offset points", ha="center",
                    va="bottom", fontsize=FONT_SMALL)
    app = results.attrs.get("application", "") or results.attrs.get("experiment", "")
    tiny = "TinyML device" + (f"\n({_label(app)})" if app else "") + \
        f"\n{tot['median']:.2f} [{tot['p2_5']:.2f}, {tot['p97_5']:.2f}]"
    ticks = [tiny] + [textwrap.fill(lab, 14) for lab, _ in refs]
    ax.set_xticks(range(len(ticks)), ticks)
    top_value = max([tot["p97_5"], bottom] + [v for _, v in refs])
    ax.set_ylim(floor, top_value * 3)
    ax.set_xlim(-0.7, len(ticks) - 0.3)
    ax.set_ylabel(_kg("Footprint"), fontsize=FONT)
    ax.grid(axis="y", which="major", color="0.85", linewidth=0.4)
    ax.set_axisbelow(True)
    legend_items = extra + handles[::-1]
    fig.legend(handles=legend_items, labels=[h.get_label() for h in legend_items], loc="outside lower center",
               ncols=2 if width <= SINGLE_COLUMN else 3, fontsize=FONT_SMALL, frameon=False, columnspacing=1.0,
               title=f"TinyML stack: component means [{KG}]", handleheight=1.2, handlelength=1.8)
    return fig


# ------------------------------------------------------------------------------------------------------------
# 4. Sobol indices
# ------------------------------------------------------------------------------------------------------------

def _sobol_panel(ax, table: pd.DataFrame, title: str, titles: Mapping[str, str]) -> None:
    table = table.iloc[::-1]  # largest at the top
    y = np.arange(len(table))
    h = 0.38
    ax.barh(y + h / 2, table["S1"], height=h, xerr=table["S1_conf"], color="0.25", edgecolor="black", linewidth=0.4,
            error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "black"}, label="S1 (first order)")
    ax.barh(y - h / 2, table["ST"], height=h, xerr=table["ST_conf"], color="white", edgecolor="black",
            hatch="////", linewidth=0.4, error_kw={"elinewidth": 0.7, "capsize": 1.5, "ecolor": "black"},
            label="ST (total order)")
    ax.set_yticks(y, [titles.get(i, _label(i)) for i in table.index])
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("Sobol' index of the total footprint [-]", fontsize=FONT)
    ax.set_title(title, fontsize=FONT, loc="left")
    ax.grid(axis="x", color="0.85", linewidth=0.4)
    ax.set_axisbelow(True)


@_styled
def sobol_indices(sobol: Mapping[str, xr.Dataset], *, top: int = 10, titles: Mapping[str, str] | None = None,
                  width: float = DOUBLE_COLUMN) -> Figure:
    """S1 and ST with confidence intervals: by component (grouping ``component``) and the ``top`` parameters by ST.

    Parameters
    ----------
    sobol : mapping of str to xarray.Dataset
        Grouping name -> Dataset with ``S1, S1_conf, ST, ST_conf`` over one dimension. The ``component`` and
        ``parameter`` groupings are drawn (any other grouping if neither is present).
    top : int
        Number of parameters shown (largest ST).
    titles : mapping, optional
        Component (or group) name -> label; default: the name with spaces.
    """
    keys = [k for k in ("component", "parameter") if k in sobol] or list(sobol)[:2]
    if not keys:
        raise ValueError("no Sobol results to plot")
    tables = []
    for key in keys:
        table = indices_table(sobol[key]).sort_values("ST", ascending=False, kind="stable")
        if key == "parameter":
            title = f"Top {min(top, len(table))} parameters by ST"
            table = table.head(top)
        else:
            title = f"By {key}"
        tables.append((table, title, {} if key == "parameter" else dict(titles or {})))
    rows = max(len(t) for t, _, _ in tables)
    fig, axes = _figure(width if len(tables) > 1 else min(width, SINGLE_COLUMN + 0.6), 1.0 + 0.24 * rows,
                        1, len(tables))
    for ax, (table, title, labels) in zip(axes.flat, tables):
        _sobol_panel(ax, table, title, labels)
    conf = [f"{100 * float(ds.attrs['conf_level']):g} %" for ds in sobol.values() if "conf_level" in ds.attrs]
    bars = f"bars: {conf[0]} bootstrap confidence intervals" if conf else "bars: bootstrap confidence intervals"
    fig.legend(handles=axes.flat[0].get_legend_handles_labels()[0], loc="outside lower center", ncols=2,
               fontsize=FONT_SMALL, frameon=False, title=bars, title_fontsize=FONT_SMALL)
    return fig


# ------------------------------------------------------------------------------------------------------------
# 5. convergence
# ------------------------------------------------------------------------------------------------------------

def running_statistics(total: np.ndarray, n_points: int = 30) -> xr.Dataset:
    """Mean and 95 % interval of the total on growing prefixes of the sample.

    Parameters
    ----------
    total : array_like, shape (n,)
        The total footprint per sample, in sample order [kg CO2-eq].
    n_points : int
        Number of prefix lengths, spaced geometrically from ``min(10, n)`` to ``n`` (duplicates removed, ``n``
        always included).

    Returns
    -------
    xarray.Dataset
        Dimension ``n`` (prefix length); variables ``mean``, ``p2_5``, ``p97_5`` in kg CO2-eq: statistics of
        ``total[:n]``. With a Latin hypercube design only the full sample is stratified; the prefixes show the
        order of magnitude of the Monte Carlo error.
    """
    total = np.asarray(total, dtype=float).ravel()
    if total.size == 0:
        raise ValueError("running_statistics needs at least one sample")
    if int(n_points) < 1:
        raise ValueError(f"n_points must be >= 1, got {n_points!r}")
    size = total.size
    start = min(10, size)
    grid = np.unique(np.round(np.geomspace(start, size, int(n_points))).astype(int))
    grid = np.unique(np.append(grid, size))
    mean = np.array([total[:k].mean() for k in grid])
    pct = np.array([np.percentile(total[:k], [2.5, 97.5]) for k in grid])
    attrs = {"units": KG}
    return xr.Dataset(
        {"mean": ("n", mean, {**attrs, "long_name": "running mean of the total"}),
         "p2_5": ("n", pct[:, 0], {**attrs, "long_name": "2.5th percentile of the total on the prefix"}),
         "p97_5": ("n", pct[:, 1], {**attrs, "long_name": "97.5th percentile of the total on the prefix"})},
        coords={"n": ("n", grid, {"long_name": "number of samples (prefix length)"})},
        attrs={"description": "statistics of total[:n] for growing n"})


@_styled
def convergence(conv: xr.Dataset, *, top: int = 5, width: float | None = None) -> Figure:
    """Running mean and 95 % interval of the total against n; Sobol ST of the top groups against n_base.

    Parameters
    ----------
    conv : xarray.Dataset
        ``mean, p2_5, p97_5`` over ``n`` (see :func:`running_statistics`) and/or ``ST, ST_conf`` over
        ``(n_base, group)`` (or ``(n_base, parameter)``); e.g. ``xr.merge([running_statistics(total), st])``.
    top : int
        Number of groups shown in the ST panel (largest ST at the largest n_base).
    """
    has_running = all(v in conv for v in ("mean", "p2_5", "p97_5"))
    has_st = "ST" in conv and "n_base" in conv["ST"].dims
    if not (has_running or has_st):
        raise ValueError("conv needs mean/p2_5/p97_5 over n and/or ST over (n_base, group)")
    panels = int(has_running) + int(has_st)
    width = width or (SINGLE_COLUMN if panels == 1 else DOUBLE_COLUMN)
    fig, axes = _figure(width, 2.9 if panels == 1 or width > SINGLE_COLUMN else 5.6,
                        1 if width > SINGLE_COLUMN else panels, panels if width > SINGLE_COLUMN else 1)
    axes = list(axes.flat)
    if has_running:
        ax = axes.pop(0)
        n = conv["n"].values
        mean, lo, hi = (conv[v].values for v in ("mean", "p2_5", "p97_5"))
        ax.fill_between(n, lo, hi, color="0.88", linewidth=0)
        ax.plot(n, hi, color="0.3", linestyle="--", label="2.5th and 97.5th percentiles")
        ax.plot(n, lo, color="0.3", linestyle="--")
        ax.plot(n, mean, color="black", linestyle="-", marker="o", markersize=2.5, label="mean")
        for v in (mean[-1], lo[-1], hi[-1]):
            ax.axhline(v, color="0.5", linestyle=":", linewidth=0.7)
        ax.set_xscale("log")
        ax.set_xlabel("Number of samples n", fontsize=FONT)
        ax.set_ylabel(_kg("Total footprint"), fontsize=FONT)
        _legend_below(ax, ncols=2)
        ax.set_title("Monte Carlo statistics on the first n samples", fontsize=FONT, loc="left")
    if has_st:
        ax = axes.pop(0)
        st = conv["ST"]
        dim = [d for d in st.dims if d != "n_base"][0]
        conf = conv["ST_conf"] if "ST_conf" in conv else xr.zeros_like(st)
        nb = conv["n_base"].values
        last = st.isel(n_base=int(np.argmax(nb)))
        order = np.argsort(-np.nan_to_num(last.values, nan=-np.inf), kind="stable")[:top]
        for k, idx in enumerate(order):
            label = str(st[dim].values[idx])
            ax.errorbar(nb, st.isel({dim: idx}).values, yerr=conf.isel({dim: idx}).values, color="black",
                        linestyle=_LINESTYLES[k % len(_LINESTYLES)], marker=_MARKERS[k % len(_MARKERS)],
                        markersize=3.5, markerfacecolor="white" if k % 2 else "black", capsize=2, linewidth=0.9,
                        label=_label(label))
        ax.set_xscale("log", base=2)
        ax.set_xlabel("Base sample size n_base", fontsize=FONT)
        ax.set_ylabel("Total-order Sobol' index ST [-]", fontsize=FONT)
        ax.set_title(f"ST of the top {len(order)} {dim}s (bars: confidence intervals)", fontsize=FONT, loc="left")
        _legend_below(ax, ncols=3, handlelength=3.0)
    return fig


_convergence_figure = convergence  # write_figures' ``convergence`` argument shadows the function


# ------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------

def save_figure(fig: Figure, folder: str | os.PathLike, name: str) -> list[Path]:
    """Write ``folder/name.png`` (200 dpi) and ``folder/name.pdf``; return both paths (png first)."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    with matplotlib.rc_context(_RC):
        fig.savefig(paths[0], dpi=PNG_DPI, format="png", facecolor="white")
        fig.savefig(paths[1], format="pdf", facecolor="white", metadata={"CreationDate": None})
    return paths


def write_figures(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                  convergence: xr.Dataset | None = None, *, published: Any = None, catalog=None) -> list[Path]:
    """Write every figure of a run into ``folder/figures/`` (PNG and PDF each).

    Parameters
    ----------
    result : RunResult
        :func:`~uncertainty_footprint.analysis.run.run_experiment` output.
    folder : path
        Output folder of the run.
    sobol : mapping of str to xarray.Dataset, optional
        Sobol results by grouping; without them the Sobol figure is skipped.
    convergence : xarray.Dataset, optional
        See :func:`convergence`; by default the running statistics of ``result.results['total']``.
    published : DataFrame, Series or float, optional
        Published values (see :func:`published_column`); by default the table of ``catalog`` (or of the default
        catalog) for the run's application.
    catalog : Catalog, optional

    Returns
    -------
    list of Path
        ``name.png`` and ``name.pdf`` of each figure, in the order of :data:`FIGURE_CAPTIONS`.
    """
    out = Path(folder) / "figures"
    ds, summary = result.results, result.summary
    column, _ = _default_published(ds, published, catalog)
    pub_total = float(column["total"]) if column is not None and "total" in column.index else None
    pub_label = f"published ({column.name})" if column is not None else "published"
    titles = dict(zip(ds["component"].values.tolist(), ds["component_title"].values.tolist())) \
        if "component_title" in ds.coords else None
    paths: list[Path] = []
    paths += save_figure(total_distribution(ds, pub_total, published_label=pub_label), out, "total_distribution")
    paths += save_figure(component_intervals(summary, titles=titles), out, "component_intervals")
    paths += save_figure(component_intervals(summary, log=True, titles=titles), out, "component_intervals_log")
    paths += save_figure(comparison_stacked(summary, ds, published=pub_total), out, "comparison_stacked")
    if sobol:
        paths += save_figure(sobol_indices(sobol, titles=titles), out, "sobol_indices")
    conv = convergence if convergence is not None else running_statistics(ds["total"].values)
    paths += save_figure(_convergence_figure(conv), out, "convergence")
    return paths


def comparison_figure(comp):
    """Totals side by side (box plots with 95 % whiskers) and the paired differences' distributions."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7.0, 3.0), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    names = list(comp.totals["experiment"].values)
    data = [comp.totals["total"].sel(experiment=n).values for n in names]
    ax1.boxplot(data, whis=(2.5, 97.5), showfliers=False, medianprops={"color": "black"},
                patch_artist=True, boxprops={"facecolor": "0.85"})
    ax1.set_xticks(range(1, len(names) + 1), names, rotation=20, ha="right", fontsize=7)
    ax1.set_ylabel(f"total footprint [{KG}]", fontsize=8)
    ax1.set_title("Totals (box 25-75 %, whiskers 2.5-97.5 %)", fontsize=8)
    styles = ["-", "--", ":", "-."]
    for k, ((a, b), row) in enumerate(comp.differences.iterrows()):
        diff = comp.totals["total"].sel(experiment=b).values - comp.totals["total"].sel(experiment=a).values
        ax2.hist(diff, bins=60, histtype="step", linestyle=styles[k % 4], color=str(0.6 * (k % 3) / 2),
                 label=f"{b} - {a}, P(A<B)={row['p_a_lt_b']:.2f}")
    ax2.axvline(0.0, color="0.5", linewidth=0.8)
    ax2.set_xlabel(f"paired difference B - A [{KG}]", fontsize=8)
    ax2.set_ylabel("samples", fontsize=8)
    ax2.legend(fontsize=6)
    ax2.set_title("Paired differences (common random numbers)", fontsize=8)
    for ax in (ax1, ax2):
        ax.tick_params(labelsize=7)
    return fig
