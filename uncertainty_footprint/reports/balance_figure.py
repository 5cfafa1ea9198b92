"""The balance figure: the net-balance distribution with P(offset) marked and the payback-time CDF.

Drawn in the style of :mod:`uncertainty_footprint.reports.figures` (its style helpers: paper widths, fonts >= 7 pt,
grey-scale with line styles and hatching, plain-text log labels); :func:`~uncertainty_footprint.reports.drawing.balance_plan`
adds it to a run's figure plan, which writes it with the other figures.
"""

from __future__ import annotations

import numpy as np

from ..analysis.balance import PAYBACK_QUANTILE, BalanceResult
from ..model.builder import KG
from .figures import DOUBLE_COLUMN, FONT, FONT_SMALL, _figure, _log_axis, _styled

__all__ = ["plot_balance"]


@_styled
def plot_balance(result: BalanceResult):
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
