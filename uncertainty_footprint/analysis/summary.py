"""Summary statistics of a results Dataset: mean, median, intervals and shares per component, stage and total."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from ..model.builder import STAGES

__all__ = ["summarize", "summarize_running", "SummaryLayout", "deterministic_table", "absent_components", "summary_frame",
           "PERCENTILES"]

#: Percentiles reported: 95 % (2.5-97.5) and 90 % (5-95) intervals and the median.
PERCENTILES = (2.5, 5.0, 50.0, 95.0, 97.5)
#: Rows of the summary columns assembled at once by :func:`summarize` [rows]. A chunk: speed only.
SUMMARY_ROWS = 1 << 16


def _stage_order(stages) -> list[str]:
    known = [s for s in STAGES if s in stages]
    return known + sorted(set(stages) - set(known))


class SummaryLayout:
    """Rows of the summary: every component, every stage sum (in :data:`STAGES` order), then the total."""

    def __init__(self, components, stages):
        self.components = list(components)
        self.stages = list(stages)
        self.stage_order = _stage_order(self.stages)
        self.names = self.components + [f"stage:{s}" for s in self.stage_order] + ["total"]
        self.levels = ["component"] * len(self.components) + ["stage"] * len(self.stage_order) + ["total"]
        self.stage_column = self.stages + self.stage_order + [""]
        self._masks = [np.array([s == st for s in self.stages]) for st in self.stage_order]
        # alias[j]: an earlier row with identical values (a stage with a single component is that component)
        k = len(self.components)
        self.alias = list(range(len(self.names)))
        for j, mask in enumerate(self._masks):
            if mask.sum() == 1:
                self.alias[k + j] = int(np.flatnonzero(mask)[0])

    def columns(self, footprint: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """``(n, n_rows)`` values: the components, their stage sums and the total of each sample (written into
        ``out`` if given, e.g. rows of a caller's buffer)."""
        n, k = footprint.shape
        if out is None:
            out = np.empty((n, len(self.names)), order="F")  # columns contiguous for per-column statistics
        out[:, :k] = footprint
        for j, mask in enumerate(self._masks):
            if self.alias[k + j] != k + j:  # the sum of one component: 0 + x, as numpy's sum (-0 becomes +0)
                np.add(footprint[:, self.alias[k + j]], 0.0, out=out[:, k + j])
            else:
                out[:, k + j] = footprint[:, mask].sum(axis=1)
        out[:, -1] = footprint.sum(axis=1)
        return out

    def table(self, mean, sd, pct) -> pd.DataFrame:
        """Assemble the summary table; ``pct`` holds the :data:`PERCENTILES` rows."""
        mean = np.asarray(mean, dtype=float)
        share = mean / mean[-1] if mean[-1] != 0 else np.zeros_like(mean)
        return pd.DataFrame({"level": self.levels, "stage": self.stage_column, "mean": mean, "sd": sd,
                             "median": pct[2], "p2_5": pct[0], "p5": pct[1], "p95": pct[3], "p97_5": pct[4],
                             "share": share}, index=pd.Index(self.names, name="name"))


def summarize(ds: xr.Dataset) -> pd.DataFrame:
    """Statistics of every component, every stage and the total, in kg CO2-eq (exact percentiles).

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`~uncertainty_footprint.analysis.propagate.run_monte_carlo`.

    Returns
    -------
    pandas.DataFrame
        Indexed by name (components, then ``stage:<name>``, then ``total``), with columns ``level``
        (component/stage/total), ``stage``, ``mean``, ``sd``, ``median``, ``p2_5``, ``p5``, ``p95``, ``p97_5``
        and ``share`` (mean over mean total).
    """
    layout = SummaryLayout(ds["component"].values, ds["stage"].values)
    footprint = ds["footprint"].transpose("sample", "component").values
    n = footprint.shape[0]
    columns = np.empty((n, len(layout.names)), order="F")
    for lo in range(0, n, SUMMARY_ROWS):  # rows a block at a time: the transposing copy stays in the caches
        layout.columns(footprint[lo:lo + SUMMARY_ROWS], out=columns[lo:lo + SUMMARY_ROWS])
    # column by column (each contiguous): numpy's reductions over axis 0 give the same doubles, without
    # temporaries the size of the whole table
    mean = np.array([col.mean() for col in columns.T])
    sd = np.array([col.std(ddof=1) for col in columns.T]) if n > 1 else np.zeros(columns.shape[1])
    pct = np.stack([np.percentile(col, PERCENTILES) for col in columns.T], axis=1)
    return layout.table(mean, sd, pct)


def summarize_running(stats, layout: SummaryLayout) -> pd.DataFrame:
    """The same table from :class:`~uncertainty_footprint.analysis.running_stats.RunningStats` of the layout's columns
    (exact moments; percentiles from the histogram, see :mod:`uncertainty_footprint.analysis.running_stats`)."""
    pct = np.array([stats.quantile(p / 100.0) for p in PERCENTILES])
    return layout.table(stats.mean, stats.std, pct)


def deterministic_table(model, components=None) -> pd.DataFrame:
    """Published-method point values per component and total (columns ``lower``, ``typical``, ``upper``)."""
    values = model.deterministic()
    names = list(components or model.component_names)
    table = pd.DataFrame({k: v for k, v in values.items()}, index=pd.Index(names, name="component"))
    table.loc["total"] = table.sum(axis=0)
    return table


def absent_components(summary: pd.DataFrame) -> list[str]:
    """Components that are zero in every sample (mean and standard deviation exactly 0), in table order."""
    rows = summary[summary["level"] == "component"]
    return [str(n) for n, r in rows.iterrows() if r["mean"] == 0 and r["sd"] == 0]


def summary_frame(result) -> pd.DataFrame:
    """``summary.csv``: the summary table, every row kept (stable for scripts), with a last column ``absent``
    (True for a component that is zero in every sample)."""
    table = result.summary.copy()
    table["absent"] = table.index.isin(absent_components(table))
    return table
