"""The balance ("Does it pay back?") for a person: the report section and the printed lines (``balance.csv`` is
written by :mod:`uncertainty_footprint.io.writers`).

The report section is the template ``templates/balance.j2``, included by ``report.j2`` when the report context has
a ``balance`` entry (:func:`balance_context`). The figure is :func:`uncertainty_footprint.reports.figures.plot_balance`.
This module imports no other report module (the report and the terminal import it), so the import graph has no
cycle.
"""

from __future__ import annotations

import math
import textwrap

import numpy as np
import pandas as pd

from ..analysis.payback import BalanceResult
from ..model.builder import KG

__all__ = ["balance_context", "balance_lines"]

#: Rows of the hotspot tables of the report and terminal.
TOP = 8


def _exact_frame(ds, dim: str, name: str) -> pd.DataFrame:
    return pd.DataFrame({k: np.asarray(ds[k].values, dtype=float) for k in ("S1", "ST", "shapley", "remaining_sd")},
                        index=pd.Index([str(v) for v in ds[dim].values], name=name))


def _hotspot_frames(result: BalanceResult) -> list[tuple[str, str, pd.DataFrame]]:
    out = []
    for grouping, ds in (result.exact or {}).items():
        if grouping == "parameter":
            continue
        dim = "group"
        frame = _exact_frame(ds, dim, grouping)
        out.append((f"Net balance: exact indices by {grouping}",
                    "Exact first-order and total-order Sobol' indices and Shapley effects of the net balance (no "
                    "sampling error): the inputs whose uncertainty would have to shrink to decide whether the "
                    f"device pays back; remaining_sd [{KG}] is the standard deviation of the net balance left if "
                    "that group were known exactly.", frame.sort_values("ST", ascending=False).head(TOP)))
    if result.exact and "parameter" in result.exact:
        ds = result.exact["parameter"]
        frame = _exact_frame(ds, "parameter", "parameter")
        out.append(("Net balance: exact indices, top parameters", "Exact indices per parameter, largest ST first.",
                    frame.sort_values("ST", ascending=False).head(TOP)))
    for grouping, ds in sorted((result.shapley or {}).items(), key=lambda item: item[0] == "parameter"):
        dim = ds["shapley"].dims[0]
        frame = pd.DataFrame({k: np.asarray(ds[k].values, dtype=float) for k in ("shapley", "conf_low", "conf_high")},
                             index=pd.Index([str(v) for v in ds[dim].values], name=grouping))
        level = f"{ds.attrs.get('conf_level', 0.95):.0%}".replace("%", " %")
        by = ", top parameters" if grouping == "parameter" else f" by {grouping}"
        out.append((f"Net balance: Shapley effects{by}",
                    "The inputs are correlated: each input's (or group's) share of the variance of the net balance, "
                    "summing to 1 "
                    f"with dependence (estimated by {ds.attrs.get('n_permutations')} random permutations; "
                    f"conf_low and conf_high: {level} bootstrap interval). The payback time has no hotspots with "
                    "correlated inputs: its heavy tail makes the estimator's intervals unreliable.",
                    frame.sort_values("shapley", ascending=False).head(TOP)))
    for grouping, ds in (result.payback_sobol or {}).items():
        dim = ds["ST"].dims[0]
        frame = pd.DataFrame({k: np.asarray(ds[k].values, dtype=float) for k in ("S1", "S1_conf", "ST", "ST_conf")},
                             index=pd.Index([str(v) for v in ds[dim].values], name=grouping))
        out.append((f"Payback time: sampled indices by {grouping}",
                    f"Sampled Sobol' indices of the payback time (N = {ds.attrs.get('n_base')}; conf = bootstrap "
                    "half-widths).", frame.sort_values("ST", ascending=False).head(TOP)))
    return out


def _table(frame: pd.DataFrame, digits: int = 3, caption: str = "") -> dict:
    """A DataFrame as a report table (the fields of :class:`~uncertainty_footprint.reports.document.Table`):
    the index as code, numbers to ``digits`` significant digits (or decimals, for a frame marked by
    :func:`_decimals`), text as it is."""
    numeric = [pd.api.types.is_numeric_dtype(frame[c]) for c in frame.columns]
    fixed = frame.attrs.get("decimals", False)

    def number(v) -> str:
        return f"{v:.{digits}f}" if fixed else _g(v, digits)

    rows = [[[("code", str(name))]] + [number(v) if isnum else str(v) for v, isnum in zip(values, numeric)]
            for name, values in zip(frame.index, frame.itertuples(index=False))]
    return {"header": [str(frame.index.name or "")] + [str(c) for c in frame.columns], "rows": rows,
            "align": "l" + "".join("r" if isnum else "l" for isnum in numeric), "classes": [""] * len(rows),
            "caption": caption}


def balance_context(result: BalanceResult) -> dict:
    """The data ``templates/balance.j2`` renders: statement, tables of the balance, fleet anchors and hotspots."""
    anchors = None
    if not result.anchors.empty:
        anchors = _table(result.anchors, caption="Fleet footprint (95 % interval) beside published anchors, "
                         "Mt CO2-eq; anchors from distributions/benefits.yaml.")
    return {"statement": result.statement,
            "table": _table(result.table, 4, caption="balance.csv (4 significant digits)"),
            "anchors": anchors,
            "hotspots": [{"title": t, "text": text, "table": _table(_decimals(f), 3)}
                         for t, text, f in _hotspot_frames(result)],
            "inputs": _inputs(result),
            "sources": [[("code", key), ("text", f": {cite}")] for key, cite in result.balance.citations.items()]}


def _inputs(result: BalanceResult) -> list:
    """The benefit's and the fleet's own inputs: name, distribution, unit, status and sources, as list items."""
    b = result.balance
    params = [b.parameters[n] for n in b.benefit_parameters()] + ([b.devices] if b.devices is not None else [])
    return [[("code", p.name), ("text", f": {p.distribution.describe()} [{p.unit}], {p.status}; sources "),
             ("code", ", ".join(p.source))] for p in params]


def _decimals(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` marked to be shown with fixed decimals (Sobol' indices)."""
    frame = frame.copy()
    frame.attrs["decimals"] = True
    return frame


def _left(column: pd.Series):
    """A formatter that left-aligns a text column (pandas right-aligns them)."""
    width = max(len(str(v)) for v in column)
    return lambda v: str(v).ljust(width)


def _g(x: float, digits: int = 3) -> str:
    """A number to ``digits`` significant digits; ``n/a`` for NaN (a statistic that does not apply)."""
    return "n/a" if math.isnan(x) else f"{x:.{digits}g}"


def balance_lines(result: BalanceResult, width: int = 115) -> list[str]:
    """What ``run`` prints about the balance: the statement, the balance table, the fleet beside the published
    anchors and the largest exact (net balance) and sampled (payback time) indices, or with correlated inputs the
    largest Shapley effects of the net balance with their intervals."""
    t = result.table
    rows = [[name, r["unit"], _g(r["mean"]), _g(r["median"]), f"[{_g(r['p5'])}, {_g(r['p95'])}]",
             f"[{_g(r['p2_5'])}, {_g(r['p97_5'])}]"] for name, r in t.iterrows()]
    table = pd.DataFrame(rows, columns=["balance", "unit", "mean", "median", "90 % interval", "95 % interval"])
    lines = ["Does it pay back?"] + (textwrap.wrap(result.statement, width) if result.statement else []) + [
        table.to_string(index=False, justify="left", formatters={c: _left(table[c]) for c in ("balance", "unit")})]
    if not result.anchors.empty:
        lines += textwrap.wrap("Fleet beside published anchors (Mt CO2-eq): " + "; ".join(
            f"{name} {a['low']:.3g}-{a['high']:.3g} {a['unit']} ({a['source']})"
            for name, a in result.anchors.iterrows()), width)
    frames = _hotspot_frames(result)
    shown = [next((f for f in frames if f[0].startswith(kind)), None) for kind in ("Net balance", "Payback time")]
    for title, _, frame in (f for f in shown if f is not None):
        if "ST" in frame:
            text = ", ".join(f"{n} ST {r['ST']:.2f}" for n, r in frame.head(4).iterrows())
        else:
            text = ", ".join(f"{n} {r['shapley']:.2f} [{r['conf_low']:.2f}, {r['conf_high']:.2f}]"
                             for n, r in frame.head(4).iterrows())
        lines += textwrap.wrap(f"{title}: {text}", width)
    if not frames and result.balance.parameters.dependent:
        lines += textwrap.wrap("The balance's hotspots are not computed: its inputs are correlated, Sobol' indices "
                               "are not shares of the variance then, and the Shapley hotspots were switched off "
                               "(sobol.enabled: false).", width)
    return lines
