"""The calculator's two charts, as Plotly figure specifications built from a
:class:`~uncertainty_footprint.app.engine.View` and drawn in the browser by the plotly.js that Dash serves from the
installed package. Plain mappings (the JSON plotly.js reads) rather than ``plotly.graph_objects``, whose
validation would run again on every click.
"""

from __future__ import annotations

from .engine import View

__all__ = ["stacked_chart", "total_histogram", "COLORS"]

#: One colour per component, in page order (the published calculator's palette order; Plotly's default colours).
COLORS = ("#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a", "#19d3f3", "#ff6692", "#b6e880", "#ff97ff",
          "#fecb52", "#8c564b", "#7f7f7f", "#bcbd22", "#17becf", "#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_LAYOUT = {"margin": {"l": 60, "r": 10, "t": 40, "b": 40}, "paper_bgcolor": "white", "plot_bgcolor": "#eef0f6",
           "font": {"family": "sans-serif", "size": 12}, "uirevision": "calculator"}


def _vline(x: float, text: str, color: str = "black", dash: str = "solid", width: int = 1, bottom: bool = False):
    line = {"type": "line", "xref": "x", "yref": "paper", "x0": x, "x1": x, "y0": 0, "y1": 1,
            "line": {"color": color, "dash": dash, "width": width}}
    note = {"x": x, "xref": "x", "yref": "paper", "y": 0.02 if bottom else 1.0, "yanchor": "bottom",
            "xanchor": "left", "text": text, "showarrow": False, "font": {"size": 10, "color": color}}
    return line, note


def stacked_chart(view: View, device: str = "This device") -> dict:
    """The log-scale bar of the device, stacked by component (means [kg CO2-eq], which add up to the mean total),
    beside the reference devices, with the median and 90 % interval of the total as a whisker and the published
    method's point total marked."""
    data = []
    for i, row in enumerate(view.components):
        if row.mean <= 0:
            continue
        data.append({"type": "bar", "x": [device], "y": [row.mean], "name": row.title,
                     "marker": {"color": COLORS[i % len(COLORS)]},
                     "hovertemplate": f"{row.title}: mean %{{y:.3g}} kg, median {row.median:.3g} "
                                      f"[{row.p5:.3g}-{row.p95:.3g}]<extra></extra>"})
    for label, value in view.references.values():
        data.append({"type": "bar", "x": [label], "y": [value], "name": label, "showlegend": False,
                     "marker": {"color": "#9aa0b5"}, "hovertemplate": f"{label}: %{{y:.3g}} kg CO2-eq<extra></extra>"})
    t = view.total
    data.append({"type": "scatter", "x": [device], "y": [t.median], "mode": "markers",
                 "name": "total: median, 90 % interval", "marker": {"color": "black", "size": 9, "symbol": "diamond"},
                 "error_y": {"type": "data", "symmetric": False, "array": [t.p95 - t.median],
                             "arrayminus": [t.median - t.p5], "color": "black", "thickness": 2, "width": 12},
                 "hovertemplate": f"total median {t.median:.3g} kg [90 %: {t.p5:.3g}-{t.p95:.3g}]<extra></extra>"})
    if t.point == t.point:  # not NaN
        data.append({"type": "scatter", "x": [device], "y": [t.point], "mode": "markers",
                     "name": "published method (point)",
                     "marker": {"color": "#d62728", "size": 11, "symbol": "x-thin",
                                "line": {"width": 3, "color": "#d62728"}},
                     "hovertemplate": f"published method: {t.point:.3g} kg<extra></extra>"})
    layout = {**_LAYOUT, "barmode": "stack", "height": 430,
              "title": {"text": "Embodied and operational CO2 footprint", "x": 0.02, "xanchor": "left"},
              "yaxis": {"type": "log", "title": {"text": "kg CO2-eq (log scale)"}},
              "legend": {"font": {"size": 10}, "tracegroupgap": 0}}
    return {"data": data, "layout": layout}


def total_histogram(view: View) -> dict:
    """The distribution of the total footprint [kg CO2-eq] from the run's sample, with the 5 %, 50 % and 95 %
    quantiles and the published method's point value."""
    edges, counts = view.histogram
    centres = [(a + b) / 2 for a, b in zip(edges[:-1], edges[1:])]
    width = (edges[-1] - edges[0]) / max(len(counts), 1)
    t = view.total
    marks = [_vline(t.p5, "5 %", dash="dot"), _vline(t.median, "median"), _vline(t.p95, "95 %", dash="dot")]
    if t.point == t.point:
        marks.append(_vline(t.point, "published method", color="#d62728", width=2, bottom=True))
    layout = {**_LAYOUT, "margin": {"l": 60, "r": 10, "t": 30, "b": 40}, "height": 210, "showlegend": False,
              "bargap": 0.02, "title": {"text": f"Total footprint, {view.samples} samples (seed {view.seed})",
                                        "x": 0.5, "font": {"size": 12}},
              "xaxis": {"title": {"text": "kg CO2-eq"}}, "yaxis": {"title": {"text": "samples"}},
              "shapes": [m[0] for m in marks], "annotations": [m[1] for m in marks]}
    return {"data": [{"type": "bar", "x": centres, "y": counts, "width": width, "marker": {"color": "#636efa"},
                      "hovertemplate": "%{x:.3g} kg: %{y} samples<extra></extra>"}], "layout": layout}
