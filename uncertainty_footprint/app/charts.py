"""The calculator's two charts, as Plotly figure specifications built from a
:class:`~uncertainty_footprint.app.engine.View` (and, for two designs, a
:class:`~uncertainty_footprint.app.engine.Pair`) and drawn in the browser by the plotly.js that Dash serves from the installed package. Plain mappings (the JSON
plotly.js reads) rather than ``plotly.graph_objects``, whose validation would run again on every click.

Text that comes from the page's inputs (the device's name, extra components' names) is escaped for plotly.js's
pseudo-HTML and never used as a hover template; the category labels are wrapped on word boundaries and the
margins grow to hold them (``automargin``), so that no label is cut.
"""

from __future__ import annotations

import html
import textwrap

from .engine import Pair, Row, View

__all__ = ["stacked_chart", "total_histogram", "difference_histogram", "COLORS", "label"]

#: One colour per component, in page order (the published calculator's palette order; Plotly's default colours).
COLORS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
          "#fecb52", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_LAYOUT = {"margin": {"l": 60, "r": 10, "t": 40, "b": 40}, "paper_bgcolor": "white", "plot_bgcolor": "#eef0f6",
           "font": {"family": "sans-serif", "size": 12, "color": "#222"}, "uirevision": "calculator"}
#: Widest line of a category label [characters].
LABEL_WIDTH = 16


def _esc(text: str) -> str:
    """Text for plotly.js's pseudo-HTML (it reads tags such as ``<a href>`` and ``<br>`` in labels)."""
    return html.escape(str(text), quote=False)


def label(text: str, width: int = LABEL_WIDTH) -> str:
    """A category label wrapped on word boundaries into lines of at most ``width`` characters (escaped)."""
    lines = textwrap.wrap(str(text), width=width, break_long_words=True, break_on_hyphens=True) or [""]
    return "<br>".join(_esc(line) for line in lines)


def _vline(x: float, text: str, color: str = "black", dash: str = "solid", width: int = 1, bottom: bool = False):
    line = {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": color, "dash": dash, "width": width}}
    note = {"x": x, "xref": "x", "yref": "paper", "y": 0.02 if bottom else 1.0, "yanchor": "bottom",
            "xanchor": "left", "text": text, "showarrow": False, "font": {"size": 10, "color": color}}
    return line, note


def _hover(row: Row) -> str:
    return (f"{_esc(row.title)}: mean {row.mean:.3g} kg, median {row.median:.3g} "
            f"[{row.p5:.3g}-{row.p95:.3g}]")


def stacked_chart(view: View, device: str = "This device", pair: Pair | None = None, device_a: str = "") -> dict:
    """The log-scale bar of the device (of designs A and B side by side when ``pair`` is given), stacked by
    component (means [kg CO2-eq], which add up to the mean total), beside the reference devices, with the median
    and 90 % interval of each total as a whisker and the published method's point total marked."""
    designs: list[tuple[str, list[Row], Row]] = []
    if pair is not None:
        designs.append((label(f"A: {device_a or 'design A'}"), pair.a_components, pair.a_total))
        designs.append((label(f"B: {device or 'design B'}"), view.components, view.total))
    else:
        designs.append((label(device or "This device"), view.components, view.total))
    references = {label(name) for name, _ in view.references.values()}
    designs = [(f"{x} (this device)" if x in references else x, rows, total) for x, rows, total in designs]
    order: list[str] = []
    titles: dict[str, str] = {}
    for _, rows, _ in designs:
        for r in rows:
            if r.name not in titles:
                order.append(r.name)
                titles[r.name] = r.title
    data = []
    for i, name in enumerate(order):
        xs, ys, texts = [], [], []
        for x, rows, _ in designs:
            row = next((r for r in rows if r.name == name), None)
            if row is not None and row.mean > 0:
                xs.append(x)
                ys.append(row.mean)
                texts.append(_hover(row))
        if xs:
            data.append({"type": "bar", "x": xs, "y": ys, "name": _esc(titles[name]),
                         "marker": {"color": COLORS[i % len(COLORS)]}, "hovertext": texts,
                         "hovertemplate": "%{hovertext}<extra></extra>"})
    for name, value in view.references.values():
        data.append({"type": "bar", "x": [label(name)], "y": [value], "name": _esc(name), "showlegend": False,
                     "marker": {"color": "#9aa0b5"}, "hovertext": [f"{_esc(name)}: {value:.3g} kg CO2-eq"],
                     "hovertemplate": "%{hovertext}<extra></extra>"})
    xs = [x for x, _, _ in designs]
    totals = [t for _, _, t in designs]
    data.append({"type": "scatter", "x": xs, "y": [t.median for t in totals], "mode": "markers",
                 "name": "total: median, 90 % interval", "marker": {"color": "black", "size": 9, "symbol": "diamond"},
                 "error_y": {"type": "data", "symmetric": False, "array": [t.p95 - t.median for t in totals],
                             "arrayminus": [t.median - t.p5 for t in totals], "color": "black", "thickness": 2,
                             "width": 12},
                 "hovertext": [f"total median {t.median:.3g} kg [90 %: {t.p5:.3g}-{t.p95:.3g}]" for t in totals],
                 "hovertemplate": "%{hovertext}<extra></extra>"})
    points = [(x, t.point) for x, t in zip(xs, totals) if t.point == t.point]  # not NaN
    if points:
        data.append({"type": "scatter", "x": [x for x, _ in points], "y": [p for _, p in points], "mode": "markers",
                     "name": "published method (point)",
                     "marker": {"color": "#d62728", "size": 11, "symbol": "x-thin",
                                "line": {"width": 3, "color": "#d62728"}},
                     "hovertext": [f"published method: {p:.3g} kg" for _, p in points],
                     "hovertemplate": "%{hovertext}<extra></extra>"})
    layout = {**_LAYOUT, "barmode": "stack", "height": 430,
              "title": {"text": "Embodied and operational CO2 footprint", "x": 0.02, "xanchor": "left"},
              "xaxis": {"type": "category", "tickangle": 0, "automargin": True},
              "yaxis": {"type": "log", "title": {"text": "kg CO2-eq (log scale)"}, "automargin": True},
              "legend": {"font": {"size": 10}, "tracegroupgap": 0, "traceorder": "reversed"}}
    return {"data": data, "layout": layout}


def _histogram(edges, counts, title: str, xtitle: str, marks, color: str = "#636efa") -> dict:
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    width = (edges[-1] - edges[0]) / max(len(counts), 1)
    layout = {**_LAYOUT, "margin": {"l": 60, "r": 10, "t": 30, "b": 40}, "height": 210, "showlegend": False,
              "bargap": 0.02, "title": {"text": title, "x": 0.5, "font": {"size": 12}},
              "xaxis": {"title": {"text": xtitle}, "automargin": True},
              "yaxis": {"title": {"text": "samples"}, "automargin": True},
              "shapes": [m[0] for m in marks], "annotations": [m[1] for m in marks]}
    return {"data": [{"type": "bar", "x": centres, "y": counts, "width": width, "marker": {"color": color},
                      "hovertemplate": "%{x:.3g} kg: %{y} samples<extra></extra>"}], "layout": layout}


def total_histogram(view: View) -> dict:
    """The distribution of the total footprint [kg CO2-eq] from the run's sample (40 bins, not the samples), with
    the 5 %, 50 % and 95 % quantiles and the published method's point value."""
    t = view.total
    marks = [_vline(t.p5, "5 %", dash="dot"), _vline(t.median, "median"), _vline(t.p95, "95 %", dash="dot")]
    if t.point == t.point:
        marks.append(_vline(t.point, "published method", color="#d62728", width=2, bottom=True))
    return _histogram(*view.histogram, f"Total footprint, {view.samples} samples (seed {view.seed})", "kg CO2-eq",
                      marks)


def difference_histogram(view: View, pair: Pair) -> dict:
    """The distribution of the paired difference B - A [kg CO2-eq] (common random numbers), with its 5 %, 50 % and
    95 % quantiles and zero."""
    d = pair.difference
    marks = [_vline(d.p5, "5 %", dash="dot"), _vline(d.median, "median"), _vline(d.p95, "95 %", dash="dot"),
             _vline(0.0, "0: B = A", color="#d62728", width=2, bottom=True)]
    return _histogram(*pair.histogram, f"Difference B - A, {view.samples} paired samples (seed {view.seed})",
                      "kg CO2-eq (B - A; below 0: B emits less)", marks, color="#00a087")
