"""Figures for a paper: distributions, intervals, the published stacked comparison, Sobol' hotspots, convergence.

Every ``plot_*`` function returns a :class:`matplotlib.figure.Figure` built directly (no :mod:`matplotlib.pyplot`,
no global state): the caller's backend and ``rcParams`` are left alone, and the paper style (fonts >= 7 pt,
widths of one column, 3.4 in, or two columns, 7 in) is applied inside :func:`matplotlib.rc_context` and by
explicit font sizes. Figures stay readable in grey-scale: intervals, medians and published values differ by line
style and marker, bars by grey level and hatch, never by colour alone.

:func:`save_figure` writes ``name.png`` (:data:`PNG_DPI`) and ``name.pdf`` (TrueType fonts, no creation date, so
that the same figure gives the same file). A run's figures (which, from which data) are planned and drawn in
parallel by :mod:`uncertainty_footprint.reports.drawing`, which imports no plotting library.

Published values of the catalog (Prakash et al. 2023) are marked in the total, component and stacked figures
and labelled in words (:data:`PUBLISHED_LABEL`); :func:`plot_second_order` draws the second-order indices of a
run with ``--second-order`` as a heat map.

Speed: the layout (constrained layout, the costly part of a draw) is computed once, when the PNG is drawn, and
reused for the PDF; logarithmic axes are labelled with plain text (``0.01``, ``10⁴``) instead of mathtext, and
ligatures are not formed, so that each PDF embeds one subset of one font (the package's reduced copy of DejaVu
Sans, :data:`FIGURE_FONT_FAMILY`); histograms are one step path.
"""

from __future__ import annotations

import functools
import io
import math
import os
import textwrap
from pathlib import Path
from typing import Any, Mapping

import matplotlib
import numpy as np
import pandas as pd
import xarray as xr
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.text import Text
from matplotlib.ticker import Formatter, NullFormatter
from PIL import Image
from PIL.PngImagePlugin import PngInfo

from .. import __version__
from ..analysis.hotspots import indices_table
from ..analysis.payback import PAYBACK_QUANTILE
from ..model.builder import KG
from .document import PUBLISHED_LABEL, component_titles, published_label  # noqa: F401 - published_label: re-exported
from ..analysis.summary import absent_components

__all__ = ["plot_total_distribution", "plot_component_intervals", "plot_comparison_stacked", "plot_sobol_indices",
           "plot_second_order", "plot_convergence", "plot_comparison", "plot_balance", "plot_methods", "save_figure", "figure_files",
           "published_label", "SINGLE_COLUMN", "DOUBLE_COLUMN", "PNG_DPI", "PUBLISHED_LABEL", "FIGURE_FONT_FAMILY"]

#: Figure widths in inches: one column and the full width of a two-column paper.
SINGLE_COLUMN = 3.4
DOUBLE_COLUMN = 7.0
#: Resolution of the PNG files [dots per inch]: 680 px across a single-column figure.
PNG_DPI = 200
#: Font sizes in points (never below 7 pt at the printed size).
FONT = 8
FONT_SMALL = 7
#: Font features passed to the text shaper: no ligatures, so that a PDF needs one font subset, not two.
_FONT_FEATURES = ("-liga",)

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
    "axes.formatter.use_mathtext": False,
    "figure.autolayout": False,  # layouts are chosen per figure (constrained), never by the caller's rcParams
    "figure.constrained_layout.use": False,
    "pdf.fonttype": 42,  # TrueType fonts in the PDF: editable text, accepted by publishers (Type 3 is not)
    "ps.fonttype": 42,
    "svg.fonttype": "none",
}

#: Grey levels (0 black, 1 white) and hatches used for bars, so that they differ without colour.
_GREYS = ("0.15", "0.45", "0.70", "0.92")
_HATCHES = ("", "////", "....", "xxxx", "\\\\\\\\", "oo")
_LINESTYLES = ("-", "--", "-.", ":", (0, (5, 1, 1, 1, 1, 1)))
_MARKERS = ("o", "s", "^", "D", "v", "P", "X")
#: Vertical offset of the published markers above a row of the interval figure [rows].
_PUBLISHED_OFFSET = 0.3
_SUPERSCRIPT = str.maketrans("-0123456789", "\u207b\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079")


#: The figure font shipped with the package: matplotlib's DejaVu Sans reduced to the characters figures use
#: (built by ``tools/build_figure_font.py``; the same glyphs, so the same pixels). A PDF embeds a subset of each
#: font it uses, and subsetting this small copy instead of the full font is most of the time saved on a PDF.
FIGURE_FONT_FAMILY = "DejaVu Sans UF"
_FIGURE_FONT = Path(__file__).resolve().parent / "fonts" / "DejaVuSansUF.ttf"
_BASE_FAMILY = "DejaVu Sans"


@functools.lru_cache(maxsize=1)
def _figure_family() -> list[str] | None:
    """The font families of the figures: the figure font with the full DejaVu Sans as fallback, when the
    caller's font is matplotlib's default DejaVu Sans (otherwise, or without the file, None: the caller's)."""
    from matplotlib import font_manager

    default = Path(font_manager.findfont(font_manager.FontProperties()))
    if default.name != "DejaVuSans.ttf" or not _FIGURE_FONT.is_file():
        return None
    font_manager.fontManager.addfont(str(_FIGURE_FONT))
    return [FIGURE_FONT_FAMILY, _BASE_FAMILY]


def _rc() -> dict:
    """The paper style (:data:`_RC`), with the figure font (:func:`_figure_family`) where it applies."""
    family = _figure_family()
    return {**_RC, "font.family": family} if family else dict(_RC)


def _styled(func):
    """Run a plotting function inside the paper style, leaving the caller's rcParams untouched; finish the
    figure (no ligatures in its texts)."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(_rc()):
            fig = func(*args, **kwargs)
        for text in fig.findobj(Text):
            text.set_fontfeatures(_FONT_FEATURES)
        return fig

    return wrapper


def _figure(width: float, height: float, nrows: int = 1, ncols: int = 1, **subplot_kw) -> tuple[Figure, Any]:
    fig = Figure(figsize=(width, height), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=False, **subplot_kw)
    for ax in axes.flat:
        ax.tick_params(labelsize=FONT_SMALL, width=0.6)  # applies to ticks created later, at draw time, too
    return fig, axes


class _PlainLogFormatter(Formatter):
    """Labels of a logarithmic axis in plain text: ``0.001 ... 10000`` when every labelled tick lies in that
    range, else powers with Unicode superscripts (``10⁻⁵``, ``2¹⁷``); only exact powers of the base are
    labelled. Plain text is drawn without the mathtext parser and needs no extra font in the PDF."""

    def __init__(self, base: float = 10.0):
        self.base = float(base)
        self._decimal = True

    def _exponent(self, x: float) -> int | None:
        if not (x > 0 and math.isfinite(x)):
            return None
        e = round(math.log(x, self.base))
        return e if math.isclose(x, self.base ** e, rel_tol=1e-9) else None

    def format_ticks(self, values):
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis is not None else (-np.inf, np.inf)
        shown = [x for x in values if self._exponent(x) is not None and lo * (1 - 1e-9) <= x <= hi * (1 + 1e-9)]
        self._decimal = all(1e-3 <= x <= 1e4 for x in shown)
        return [self(x) for x in values]

    def __call__(self, x, pos=None):
        e = self._exponent(x)
        if e is None:
            return ""
        if self._decimal:
            return f"{x:.{max(0, -e)}f}" if self.base == 10 else f"{x:g}"
        return f"{self.base:g}" + str(e).translate(_SUPERSCRIPT)


def _log_axis(ax, which: str, base: float = 10.0) -> None:
    """Logarithmic ``x`` or ``y`` axis with plain-text labels on the powers of ``base`` (minor ticks unlabelled)."""
    (ax.set_xscale if which == "x" else ax.set_yscale)("log", base=base)
    axis = ax.xaxis if which == "x" else ax.yaxis
    axis.set_major_formatter(_PlainLogFormatter(base))
    axis.set_minor_formatter(NullFormatter())


def _legend_below(ax, ncols: int = 1, **kwargs) -> None:
    """Legend under the axes (outside the data; constrained layout makes room for it)."""
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.2), ncols=ncols, fontsize=FONT_SMALL, frameon=False,
              borderaxespad=0.0, **kwargs)


def _label(name: str) -> str:
    return str(name).replace("_", " ")


def _kg(what: str) -> str:
    return f"{what} [{KG}]"


# ------------------------------------------------------------------------------------------------------------
# 1. total distribution
# ------------------------------------------------------------------------------------------------------------

@_styled
def plot_total_distribution(results: xr.Dataset, published: float | None = None, *,
                            published_label: str = PUBLISHED_LABEL, width: float = SINGLE_COLUMN) -> Figure:
    """Histogram (density) of the total footprint with the median, 90 % and 95 % intervals and published value.

    Parameters
    ----------
    results : xarray.Dataset
        Needs ``total(sample)`` [kg CO2-eq].
    published : float, optional
        The published total of the matching application [kg CO2-eq], marked by a dash-dotted line.
    published_label : str
        Legend text of the published value (followed by ``: <value>``).
    width : float
        Figure width [in].

    Returns
    -------
    matplotlib.figure.Figure
        The histogram is one filled step path (``Axes.stairs``) between the 0.1th and 99.9th percentiles.
    """
    total = np.asarray(results["total"].values, dtype=float)
    total = total[np.isfinite(total)]
    p = np.percentile(total, [0.1, 2.5, 5.0, 50.0, 95.0, 97.5, 99.9])
    fig, axes = _figure(width, 0.95 * width if width <= SINGLE_COLUMN else 0.45 * width)
    ax = axes[0, 0]
    lo, hi = p[0], p[-1]
    if hi <= lo:
        lo, hi = lo - 0.5, hi + 0.5
    density, edges = np.histogram(total, bins=min(60, max(10, int(np.sqrt(total.size)))), range=(lo, hi),
                                  density=True)
    ax.stairs(density, edges, fill=True, color="0.82", linewidth=0, label="Monte Carlo samples")
    ax.stairs(density, edges, color="0.45", linewidth=0.6)
    ax.axvspan(p[1], p[5], color="0.5", alpha=0.12, linewidth=0)
    ax.axvline(p[3], color="black", linestyle="-", linewidth=1.4, label=f"median {p[3]:.2f}")
    for x, ls, lw, lab in ((p[2], "--", 1.0, f"90 % interval [{p[2]:.2f}, {p[4]:.2f}]"), (p[4], "--", 1.0, None),
                           (p[1], ":", 1.2, f"95 % interval [{p[1]:.2f}, {p[5]:.2f}]"), (p[5], ":", 1.2, None)):
        ax.axvline(x, color="0.2", linestyle=ls, linewidth=lw, label=lab)
    xmin, xmax = lo, hi
    if published is not None and np.isfinite(published):
        ax.axvline(published, color="black", linestyle="-.", linewidth=1.2,
                   label=f"{published_label}: {published:.2f}")
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
def plot_component_intervals(summary: pd.DataFrame, log: bool = False, *, titles: Mapping[str, str] | None = None,
                             published: Mapping[str, float] | pd.Series | None = None,
                             published_label: str = PUBLISHED_LABEL, width: float = SINGLE_COLUMN) -> Figure:
    """Median and 90 % / 95 % intervals of every component, sorted by median (largest at the top), with the
    published per-component values marked.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~uncertainty_footprint.analysis.summary.summarize` output (rows with ``level == 'component'`` are
        used) [kg CO2-eq].
    log : bool
        Logarithmic axis. Components that are zero in every sample are omitted on either axis and named once
        above the axes; on a logarithmic axis, so are those whose 97.5th percentile is 0 (they are zero in at least 97.5 %
        of the samples); lower bounds at or below 0 are clipped to the left edge of the axis.
    titles : mapping, optional
        Component name -> label (default: the name with spaces).
    published : mapping or pandas.Series, optional
        Published value per component [kg CO2-eq] (e.g. the column of
        :func:`~uncertainty_footprint.reports.document.published_column`; other keys such as ``total`` are
        ignored), drawn as a black triangle pointing down at the value, just above the component's intervals
        (as the published total in :func:`plot_total_distribution`); on a log axis values at or below 0 are
        not drawn.
    published_label : str
        Legend text of the published values.
    width : float
        Figure width [in].

    Returns
    -------
    matplotlib.figure.Figure
        ``axes[0].lines[0]`` holds the medians, ``lines[1]`` (if any) the published values.
    """
    absent = absent_components(summary)
    comp = summary[summary["level"] == "component"].drop(index=absent).sort_values("median", kind="stable")
    omitted: list[str] = list(absent)  # named once above the axes, not drawn as rows of zeros
    if log:
        keep = comp["p97_5"] > 0
        omitted += list(comp.index[~keep])
        comp = comp[keep]
    n = max(len(comp), 1)
    fig, axes = _figure(width, 0.95 + 0.19 * n)
    ax = axes[0, 0]
    y = np.arange(len(comp))
    floor = None
    if log and len(comp):
        positive = comp[["p2_5", "p5", "median"]].to_numpy().ravel()
        positive = positive[positive > 0]
        floor = 10 ** np.floor(np.log10(positive.min() if positive.size else comp["p97_5"].min()))
        _log_axis(ax, "x")

    def clip(v):  # zero lower bounds drawn from the left edge of a log axis
        v = np.asarray(v, dtype=float)
        return v if floor is None else np.maximum(v, floor)

    ax.hlines(y, clip(comp["p2_5"]), clip(comp["p97_5"]), color="black", linewidth=0.8, label="95 % interval")
    ax.hlines(y, clip(comp["p5"]), clip(comp["p95"]), color="0.35", linewidth=3.2, label="90 % interval")
    ax.plot(clip(comp["median"]), y, linestyle="none", marker="o", markersize=4, markerfacecolor="white",
            markeredgecolor="black", markeredgewidth=0.9, label="median")
    if published is not None:
        values = {str(k): float(v) for k, v in dict(published).items()}
        rows = [(i, values[c]) for i, c in enumerate(comp.index) if c in values and np.isfinite(values[c])
                and (values[c] > 0 or not log)]
        if rows:
            ax.plot([v for _, v in rows], [i + _PUBLISHED_OFFSET for i, _ in rows], linestyle="none", marker="v",
                    markersize=4, color="black", markeredgewidth=0, label=published_label, zorder=3)
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
    handles = ax.get_legend_handles_labels()[0]
    fig.legend(handles=handles, loc="outside lower center", ncols=3 if len(handles) <= 3 else 2,
               fontsize=FONT_SMALL, frameon=False, handlelength=1.8, columnspacing=1.2)
    if omitted:
        ax.set_title(textwrap.fill("omitted (zero): " + ", ".join(_label(o) for o in omitted),
                                   int(8.5 * width) + 10), fontsize=FONT_SMALL, loc="left")
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
def plot_comparison_stacked(summary: pd.DataFrame, results: xr.Dataset, *, published: float | None = None,
                            published_label: str = PUBLISHED_LABEL, width: float = SINGLE_COLUMN) -> Figure:
    """The published calculator's stacked comparison, with the TinyML device's uncertainty.

    The TinyML bar stacks the component means (largest at the bottom; their sum is the mean total);
    components whose mean is 0 are left out. An error bar gives the median and 95 % interval of the total.
    Beside it, one bar per reference device (``reference_footprint``, published point values). Log axis.

    Parameters
    ----------
    summary : pandas.DataFrame
        :func:`~uncertainty_footprint.analysis.summary.summarize` output [kg CO2-eq].
    results : xarray.Dataset
        For component titles, the application and ``reference_footprint`` (optional) [kg CO2-eq].
    published : float, optional
        The published TinyML total of the matching application [kg CO2-eq], marked by a triangle.
    published_label : str
        Legend text of the published total (followed by ``: total <value>``).
    width : float
        Figure width [in].
    """
    comp = summary[summary["level"] == "component"]
    comp = comp[comp["mean"] > 0].sort_values("mean", ascending=False, kind="stable")
    tot = summary.loc["total"]
    titles = component_titles(results)
    refs: list[tuple[str, float]] = []
    if "reference_footprint" in results:
        labels = results["reference_label"].values if "reference_label" in results.coords \
            else results["reference"].values
        refs = [(str(lab), float(v)) for lab, v in zip(labels, results["reference_footprint"].values)]
    fig, axes = _figure(width, 1.2 * width if width <= SINGLE_COLUMN else 0.5 * width)
    ax = axes[0, 0]
    _log_axis(ax, "y")
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
                      label=textwrap.fill("total: median, 95 % interval", 22))
    extra = [err]
    if published is not None and np.isfinite(published) and published > 0:
        (pub,) = ax.plot([-0.42], [published], marker=">", color="black", markersize=5, linestyle="none",
                         label=textwrap.fill(f"{published_label}: total {published:.2f}", 22))
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
    bars = {"elinewidth": 0.7, "capsize": 1.5, "ecolor": "black"}

    def err(column: str):  # confidence half-widths of sampled indices; exact ones have none
        return table[column] if np.isfinite(table[column]).any() else None

    ax.barh(y + h / 2, table["S1"], height=h, xerr=err("S1_conf"), color="0.25", edgecolor="black", linewidth=0.4,
            error_kw=bars, label="S1 (first order)")
    ax.barh(y - h / 2, table["ST"], height=h, xerr=err("ST_conf"), color="white", edgecolor="black",
            hatch="////", linewidth=0.4, error_kw=bars, label="ST (total order)")
    ax.set_yticks(y, [titles.get(i, _label(i)) for i in table.index])
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.axvline(0, color="black", linewidth=0.6)
    ax.set_xlabel("Sobol' index of the total footprint [-]", fontsize=FONT)
    ax.set_title(title, fontsize=FONT, loc="left")
    ax.grid(axis="x", color="0.85", linewidth=0.4)
    ax.set_axisbelow(True)


@_styled
def plot_sobol_indices(sobol: Mapping[str, xr.Dataset], *, top: int = 10, titles: Mapping[str, str] | None = None,
                       width: float = DOUBLE_COLUMN) -> Figure:
    """S1 and ST by component (grouping ``component``) and of the ``top`` parameters by ST: the sampled estimates
    with their confidence intervals, or the exact indices (no sampling error, so no bars).

    Parameters
    ----------
    sobol : mapping of str to xarray.Dataset
        Grouping name -> Dataset with ``S1, S1_conf, ST, ST_conf`` [-] over one dimension (sampled), or ``S1, ST``
        (the exact decomposition, :attr:`Result.exact <uncertainty_footprint.analysis.engine.Result>`).
        The ``component`` and ``parameter`` groupings are drawn (any other grouping if neither is present).
    top : int
        Number of parameters shown (largest ST).
    titles : mapping, optional
        Component (or group) name -> label; default: the name with spaces.
    width : float
        Figure width [in] (one panel is at most a column and a bit wide).
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
    if not any("ST_conf" in sobol[key] for key in keys):
        bars = "exact variance decomposition (closed form, no sampling error)"
    else:
        bars = f"bars: {conf[0]} bootstrap confidence intervals" if conf else "bars: bootstrap confidence intervals"
    fig.legend(handles=axes.flat[0].get_legend_handles_labels()[0], loc="outside lower center", ncols=2,
               fontsize=FONT_SMALL, frameon=False, title=bars, title_fontsize=FONT_SMALL)
    return fig


def _second_order_frame(ds: xr.Dataset, output: str = "total") -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """S2 and S2_conf as square tables (upper triangle filled, as the Sobol' module stores them), and ST."""
    if "output" in ds.dims:
        outputs = [str(o) for o in ds["output"].values]
        ds = ds.sel(output=output) if output in outputs else ds.isel(output=0)
    if "S2" not in ds:
        raise ValueError("the Sobol' results have no second-order indices S2 (run with --second-order)")
    dim, dim2 = ds["S2"].dims
    labels = [str(v) for v in ds[dim].values]
    s2 = np.asarray(ds["S2"].values, dtype=float)
    conf = np.asarray(ds["S2_conf"].values, dtype=float) if "S2_conf" in ds else np.full_like(s2, np.nan)
    st = pd.Series(np.asarray(ds["ST"].values, dtype=float) if "ST" in ds else np.nanmax(np.abs(s2), axis=1),
                   index=labels)
    return pd.DataFrame(s2, index=labels, columns=labels), pd.DataFrame(conf, index=labels, columns=labels), st


@_styled
def plot_second_order(sobol: xr.Dataset, *, top: int = 8, titles: Mapping[str, str] | None = None,
                      width: float = SINGLE_COLUMN) -> Figure:
    """Heat map of the second-order Sobol' indices S2 of the total: one cell per pair, with its value.

    Parameters
    ----------
    sobol : xarray.Dataset
        One grouping of the Sobol' results with ``S2`` (and ``S2_conf``) over ``(group, group_2)`` or
        ``(parameter, parameter_2)``, upper triangle filled [-] (a run with ``--second-order``); ``ST`` (if
        present) chooses the ``top`` groups shown.
    top : int
        Number of groups shown (largest ST first).
    titles : mapping, optional
        Group name -> label; default: the name with spaces.
    width : float
        Figure width [in].

    Returns
    -------
    matplotlib.figure.Figure
        One cell per pair of the upper triangle, its estimate written in it. A pair whose confidence interval
        excludes 0 is shaded (darker: larger S2); one whose interval includes 0 is left white, its value in grey.
    """
    from matplotlib.cm import ScalarMappable
    from matplotlib.colors import LinearSegmentedColormap, Normalize
    from matplotlib.patches import Rectangle

    s2, conf, st = _second_order_frame(sobol)
    order = st.sort_values(ascending=False, kind="stable").index[:max(2, top)].tolist()
    k = len(order)
    if k < 2:
        raise ValueError("second-order indices need at least two groups")
    rows, cols = order[:-1], order[1:]
    pos = {name: i for i, name in enumerate(s2.index)}

    def pair(table: pd.DataFrame, a: str, b: str) -> float:
        i, j = sorted((pos[a], pos[b]))  # stored in the upper triangle of the Dataset's own order
        value = float(table.iat[i, j])
        return value if np.isfinite(value) else float(table.iat[j, i])

    values = np.full((len(rows), len(cols)), np.nan)
    half = np.full_like(values, np.nan)
    for r, a in enumerate(rows):
        for c in range(r, len(cols)):  # upper triangle of the shown order (the columns start one later)
            values[r, c], half[r, c] = pair(s2, a, cols[c]), pair(conf, a, cols[c])
    resolved = np.isfinite(values) & ~(np.abs(values) <= half)  # the interval excludes 0 (or is unknown)
    vmax = max(float(np.nanmax(np.where(resolved, values, np.nan))) if resolved.any() else 0.0, 0.05)
    labels = dict(titles or {})
    cell = min(0.42, (width - 1.25) / len(cols))
    fig, axes = _figure(width, 1.45 + cell * len(rows))
    ax = axes[0, 0]
    shade = ScalarMappable(Normalize(0.0, vmax), LinearSegmentedColormap.from_list("s2", ["white", "0.45"]))
    for r, c in zip(*np.nonzero(np.isfinite(values))):  # black text stays readable on the darkest grey
        fill = shade.to_rgba(max(values[r, c], 0.0)) if resolved[r, c] else "white"
        ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1.0, 1.0, facecolor=fill, edgecolor="0.7", linewidth=0.4))
        ax.text(c, r, f"{values[r, c]:.2f}".replace("-0.00", "0.00"), ha="center", va="center",
                fontsize=FONT_SMALL, color="black" if resolved[r, c] else "0.45")
    ax.set_xticks(range(len(cols)), [textwrap.fill(labels.get(n, _label(n)), 11) for n in cols], rotation=90)
    ax.set_yticks(range(len(rows)), [labels.get(n, _label(n)) for n in rows])
    ax.set_xlim(-0.5, len(cols) - 0.5)
    ax.set_ylim(len(rows) - 0.5, -0.5)  # first row at the top
    ax.xaxis.tick_top()
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_aspect("equal")
    bar = fig.colorbar(shade, ax=ax, location="bottom", shrink=0.85, aspect=28, pad=0.03)
    bar.set_label("Second-order Sobol' index S2 of the total [-]", fontsize=FONT)
    bar.ax.tick_params(labelsize=FONT_SMALL, width=0.6)
    bar.outline.set_linewidth(0.4)
    conf_level = sobol.attrs.get("conf_level")
    level = f"{100 * float(conf_level):g} % " if conf_level is not None else ""
    fig.suptitle(textwrap.fill(f"S2 of the {k} groups with the largest ST; grey numbers: the {level}confidence "
                               "interval includes 0", int(17 * width)), fontsize=FONT_SMALL, x=0.02, ha="left")
    return fig


# ------------------------------------------------------------------------------------------------------------
# 5. convergence
# ------------------------------------------------------------------------------------------------------------

@_styled
def plot_convergence(conv: xr.Dataset, *, top: int = 5, width: float | None = None) -> Figure:
    """Running mean and 95 % interval of the total against n; Sobol' ST of the top groups against n_base.

    Parameters
    ----------
    conv : xarray.Dataset
        ``mean, p2_5, p97_5`` [kg CO2-eq] over ``n`` (see
        :func:`~uncertainty_footprint.analysis.convergence.running_statistics`) and/or ``ST, ST_conf`` [-] over
        ``(n_base, group)`` (or ``(n_base, parameter)``); e.g. ``xr.merge([running_statistics(total), st])``.
    top : int
        Number of groups shown in the ST panel (largest ST at the largest n_base).
    width : float, optional
        Figure width [in]; default one column for one panel, two columns for two (side by side).
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
        _log_axis(ax, "x")
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
        _log_axis(ax, "x", base=2)
        ax.set_xlabel("Base sample size n_base", fontsize=FONT)
        ax.set_ylabel("Total-order Sobol' index ST [-]", fontsize=FONT)
        ax.set_title(f"ST of the top {len(order)} {dim}s (bars: confidence intervals)", fontsize=FONT, loc="left")
        _legend_below(ax, ncols=3, handlelength=3.0)
    return fig


# ------------------------------------------------------------------------------------------------------------
# 6. paired comparison of experiments
# ------------------------------------------------------------------------------------------------------------

@_styled
def plot_comparison(comp, *, width: float = DOUBLE_COLUMN) -> Figure:
    """Totals side by side (box 25-75 %, whiskers 2.5-97.5 %) and the distributions of the paired differences.

    Parameters
    ----------
    comp : Comparison
        :func:`~uncertainty_footprint.analysis.compare.compare_experiments` output: ``totals['total']`` over
        ``(experiment, sample)`` [kg CO2-eq] and ``differences`` indexed by ``(A, B)`` with ``p_a_lt_b``.
    width : float
        Figure width [in].

    Returns
    -------
    matplotlib.figure.Figure
        Each difference B - A is one step histogram (common bins over the central 99 % of every difference),
        told apart by line style and grey level, with its median marked by a triangle; the style (fonts, greys,
        grid, legend under the figure) is the one of the other figures.
    """
    fig, axes = _figure(width, 0.43 * width if width > SINGLE_COLUMN else 1.7 * width,
                        1 if width > SINGLE_COLUMN else 2, 2 if width > SINGLE_COLUMN else 1)
    ax1, ax2 = axes.flat
    totals = comp.totals["total"]
    names = [str(n) for n in comp.totals["experiment"].values]
    ax1.boxplot([totals.sel(experiment=n).values for n in names], whis=(2.5, 97.5), showfliers=False,
                patch_artist=True, widths=0.5,
                boxprops={"facecolor": "0.82", "edgecolor": "0.2", "linewidth": 0.6},
                medianprops={"color": "black", "linewidth": 1.4}, whiskerprops={"linewidth": 0.6, "color": "0.2"},
                capprops={"linewidth": 0.6, "color": "0.2"})
    ax1.set_xticks(range(1, len(names) + 1), [textwrap.fill(_label(n), 16) for n in names])
    ax1.set_ylabel(_kg("Total footprint per device"), fontsize=FONT)
    ax1.set_title("Totals (box 25-75 %, whiskers 2.5-97.5 %)", fontsize=FONT, loc="left")
    ax1.grid(axis="y", color="0.85", linewidth=0.4)
    ax1.set_axisbelow(True)
    pairs = list(comp.differences.iterrows())
    diffs = [totals.sel(experiment=b).values - totals.sel(experiment=a).values for (a, b), _ in pairs]
    # common bins over the central 99 % of every difference (and zero): long tails do not squash the rest
    lo = min([0.0] + [float(np.percentile(d, 0.5)) for d in diffs])
    hi = max([0.0] + [float(np.percentile(d, 99.5)) for d in diffs])
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, 61)
    for k, (((a, b), row), diff) in enumerate(zip(pairs, diffs)):
        grey = _GREYS[k % 3]
        ax2.stairs(np.histogram(diff, bins=edges)[0], edges, linestyle=_LINESTYLES[k % len(_LINESTYLES)],
                   color=grey, linewidth=1.0,
                   label=f"{_label(b)} - {_label(a)}, P(A < B) = {row['p_a_lt_b']:.2f}")
        ax2.plot([float(np.median(diff))], [1.0], marker="v", color=grey, markersize=5, linestyle="none",
                 transform=ax2.get_xaxis_transform(), clip_on=False)
    ax2.axvline(0.0, color="black", linewidth=0.8)
    ax2.set_xlim(edges[0], edges[-1])
    ax2.set_ylim(bottom=0)
    ax2.set_xlabel(_kg("Paired difference B - A"), fontsize=FONT)
    ax2.set_ylabel("Samples per bin", fontsize=FONT)
    ax2.set_title("Paired differences B - A (\u25bc median)", fontsize=FONT, loc="left")
    ax2.grid(axis="y", color="0.85", linewidth=0.4)
    ax2.set_axisbelow(True)
    fig.legend(handles=ax2.get_legend_handles_labels()[0], loc="outside lower center", fontsize=FONT_SMALL,
               frameon=False, ncols=1 if width <= SINGLE_COLUMN else 2, handlelength=2.4)
    return fig


_METHOD_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "<", ">")


@_styled
def plot_methods(table: pd.DataFrame, components: Mapping[str, list[str]] | None = None, *,
                 titles: Mapping[str, str] | None = None, width: float = DOUBLE_COLUMN) -> Figure:
    """The footprint by each method alone beside the experiment's mixture: the total (linear axis), and every
    component that several methods compute, by each of its methods (logarithmic axis).

    Parameters
    ----------
    table : pandas.DataFrame
        :func:`~uncertainty_footprint.analysis.method_runs.method_table` output (``methods.csv``): columns
        ``name``, ``method``, ``mean``, ``median``, ``p5``, ``p95`` [kg CO2-eq].
    components : mapping of str to list of str, optional
        Component -> the methods that compute it (e.g. from
        :func:`~uncertainty_footprint.analysis.method_runs.method_choices`); the second panel shows these
        components, each by its own methods and the mixture. Without it, only the total is drawn.
    titles : mapping, optional
        Component name -> label.
    width : float
        Figure width [in].

    Returns
    -------
    matplotlib.figure.Figure
        Each method has one marker shape (median) and a thick line for its 90 % interval; the mean is a vertical
        tick. ``axes[0]`` is the total, ``axes[1]`` (if any) the components.
    """
    methods = list(dict.fromkeys(table["method"]))
    style = {m: _METHOD_MARKERS[i % len(_METHOD_MARKERS)] for i, m in enumerate(methods)}
    rows = {}
    for comp, names in (components or {}).items():
        names = [m for m in names if ((table["name"] == comp) & (table["method"] == m)).any()]
        if names:
            rows[comp] = names + ["mixture"] if "mixture" in methods else names
    two = bool(rows)
    n_rows = sum(len(v) + 1 for v in rows.values())
    height = max(0.9 + 0.22 * len(methods), 0.9 + 0.11 * n_rows if two else 0.0)
    fig, axes = _figure(width, height, 1, 2 if two else 1)
    panels = list(axes.flat)

    def draw(ax, y, row, method, floor=None):
        def at(v):  # on a log axis, zero drawn at its left edge (a zero component, or a lower bound of zero)
            return float(v) if floor is None else max(float(v), floor)

        grey = "0.0" if method == "mixture" else "0.40"
        ax.hlines(y, at(row["p5"]), at(row["p95"]), color=grey, linewidth=2.6 if method == "mixture" else 1.8)
        ax.plot([at(row["median"])], [y], linestyle="none", marker=style[method], markersize=4.2,
                markerfacecolor="white", markeredgecolor="black", markeredgewidth=0.9, zorder=3, clip_on=False)
        ax.plot([at(row["mean"])], [y], linestyle="none", marker="|", markersize=7, color="black", zorder=3,
                clip_on=False)

    ax = panels[0]
    total = table[table["name"] == "total"].set_index("method")
    for i, m in enumerate(methods[::-1]):
        if m in total.index:
            draw(ax, i, total.loc[m], m)
    ax.set_yticks(range(len(methods)), [_label(m) for m in methods[::-1]])
    ax.set_ylim(-0.7, len(methods) - 0.3)
    ax.set_xlim(left=0)
    ax.set_xlabel(_kg("Total footprint per device"), fontsize=FONT)
    ax.set_title("Total, each method alone and the mixture", fontsize=FONT, loc="left")
    ax.grid(axis="x", color="0.85", linewidth=0.4)
    ax.set_axisbelow(True)
    if two:
        ax = panels[1]
        parts = table[table["name"].isin(list(rows))]
        positive = parts[["p5", "median", "p95"]].to_numpy().ravel()
        positive = positive[positive > 0]
        floor = 10 ** np.floor(np.log10(positive.min())) if positive.size else None
        if floor is not None:
            _log_axis(ax, "x")
            ax.set_xlim(left=floor)
        y, ticks, labels = 0.0, [], []
        for comp, names in list(rows.items())[::-1]:
            sub = table[table["name"] == comp].set_index("method")
            for m in names[::-1]:
                draw(ax, y, sub.loc[m], m, floor)
                y += 0.8
            ticks.append(y - 0.8 * (len(names) + 1) / 2)
            labels.append((titles or {}).get(comp, _label(comp)))
            y += 0.6
        ax.set_yticks(ticks, labels)
        ax.set_ylim(-0.6, y - 0.8)
        ax.set_xlabel(_kg("Component per device"), fontsize=FONT)
        ax.set_title("Components with several methods\n(zero at the left edge)" if floor is not None
                     else "Components with several methods", fontsize=FONT, loc="left")
        ax.grid(axis="x", color="0.85", linewidth=0.4)
        ax.set_axisbelow(True)
    handles = [Line2D([], [], linestyle="none", marker=style[m], markersize=4.2,
                                       markerfacecolor="white", markeredgecolor="black", label=_label(m))
               for m in methods]
    handles += [Line2D([], [], color="0.4", linewidth=1.8, label="90 % interval"),
                Line2D([], [], linestyle="none", marker="|", markersize=7, color="black",
                                        label="mean")]
    fig.legend(handles=handles, loc="outside lower center", ncols=min(len(handles), 5 if two else 3),
               fontsize=FONT_SMALL, frameon=False, handlelength=1.6, columnspacing=1.0)
    return fig


@_styled
def plot_balance(result):
    """The net-balance histogram with P(offset) marked and the payback-time CDF (two panels, two columns wide).

    Returns
    -------
    matplotlib.figure.Figure
    """
    nb = np.asarray(result.net_balance, dtype=float)
    pay = np.asarray(result.payback_years, dtype=float)
    fig, axes = _figure(DOUBLE_COLUMN, 0.40 * DOUBLE_COLUMN, 1, 2)
    ax = axes[0, 0]
    lo, hi = np.percentile(nb, [0.5, 99.5])
    lo, hi = min(lo, 0.0), max(hi, 0.0)
    density, edges = np.histogram(nb, bins=60, range=(lo, hi), density=True)
    ax.stairs(density, edges, fill=True, color="0.82", linewidth=0, label="Monte Carlo samples")
    ax.stairs(density, edges, color="0.45", linewidth=0.6)
    ax.axvspan(lo, 0.0, color="0.5", alpha=0.15, linewidth=0, hatch="////",
               label=f"offset: P = {result.p_offset:.3f}")
    ax.axvline(0.0, color="black", linestyle="-", linewidth=1.2)
    ax.axvline(float(np.median(nb)), color="0.2", linestyle="--", linewidth=1.0,
               label=f"median {np.median(nb):.3g}")
    ax.set_xlim(lo, hi)
    ax.set_ylim(bottom=0)
    ax.set_xlabel(f"Net balance per device [{KG}]", fontsize=FONT)
    ax.set_ylabel(f"Probability density [1/({KG})]", fontsize=FONT)
    ax.legend(fontsize=FONT_SMALL, frameon=False, loc="upper left")
    ax = axes[0, 1]
    finite = np.sort(pay[np.isfinite(pay) & (pay > 0)])
    if finite.size:
        ax.step(finite, np.arange(1, finite.size + 1) / pay.size, where="post", color="black", linewidth=1.0,
                label="payback time")
        med, q = np.median(pay), np.quantile(pay, PAYBACK_QUANTILE)
        ax.axvline(med, color="0.2", linestyle="--", linewidth=1.0, label=f"median {med:.3g} yr")
        ax.axvline(q, color="0.2", linestyle=":", linewidth=1.2,
                   label=f"{PAYBACK_QUANTILE:.0%} probability: {q:.3g} yr".replace("%", " %"))
        if finite[0] < finite[-1]:
            _log_axis(ax, "x")
    ax.set_ylim(0, 1)
    ax.set_xlabel("Payback time [yr]", fontsize=FONT)
    ax.set_ylabel("P(payback time <= t)", fontsize=FONT)
    ax.legend(fontsize=FONT_SMALL, frameon=False, loc="lower right")
    return fig


# ------------------------------------------------------------------------------------------------------------
# Writing
# ------------------------------------------------------------------------------------------------------------

def _png_bytes(rgba) -> bytes:
    """An opaque RGBA image as PNG: one grey channel when every pixel is grey (the figures are designed for
    grey-scale, so this is the usual case: a quarter of the data to compress), else RGB."""
    rgb = np.asarray(rgba)[..., :3]
    grey = bool(np.array_equal(rgb[..., 0], rgb[..., 1]) and np.array_equal(rgb[..., 1], rgb[..., 2]))
    image = Image.fromarray(np.ascontiguousarray(rgb[..., 0] if grey else rgb))  # uint8: mode L or RGB
    info = PngInfo()
    info.add_text("Software", f"uncertainty_footprint {__version__}, Matplotlib {matplotlib.__version__}")
    buffer = io.BytesIO()
    image.save(buffer, format="png", dpi=(PNG_DPI, PNG_DPI), pnginfo=info)
    return buffer.getvalue()


def figure_files(fig: Figure) -> tuple[bytes, bytes]:
    """The PNG (:data:`PNG_DPI`) and PDF files of ``fig``, as bytes (see :func:`save_figure`)."""
    engine, canvas, dpi, face = fig.get_layout_engine(), fig.canvas, fig.dpi, fig.get_facecolor()
    with matplotlib.rc_context(_rc()):
        try:
            fig.set_dpi(PNG_DPI)
            fig.set_facecolor("white")
            agg = FigureCanvasAgg(fig)
            agg.draw()  # the layout engine runs here, once
            png = _png_bytes(agg.buffer_rgba())
            fig.set_layout_engine(None)  # keep the positions just computed (_RC turns every automatic layout off)
            pdf = io.BytesIO()
            fig.savefig(pdf, format="pdf", facecolor="white", metadata={"CreationDate": None})
        finally:
            if engine is not None:
                fig.set_layout_engine(engine)
            fig.set_canvas(canvas)
            fig.set_dpi(dpi)
            fig.set_facecolor(face)
    return png, pdf.getvalue()


def save_figure(fig: Figure, folder: str | os.PathLike, name: str) -> list[Path]:
    """Write ``folder/name.png`` (:data:`PNG_DPI`) and ``folder/name.pdf``; return both paths (png first).

    The figure is laid out and drawn once for the PNG (an Agg canvas; :meth:`Figure.savefig` would draw it twice,
    once to lay it out and once to print it) and drawn once more for the PDF, which reuses that layout (positions
    are relative to the figure, so they do not depend on the resolution). The PDF embeds TrueType (Type 42) font
    subsets and carries no creation date, so that the same figure gives the same file. The figure's canvas,
    resolution, face colour and layout engine are restored afterwards.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    for path, data in zip(paths, figure_files(fig)):
        path.write_bytes(data)
    return paths
