"""Summary statistics of a results Dataset: mean, median, intervals and shares per component, stage and total."""

from __future__ import annotations

import numpy as np
import pandas as pd
import xarray as xr

from .model import STAGES

__all__ = ["summarize", "deterministic_table", "PERCENTILES", "SUMMARY_COLUMNS"]

#: Percentiles reported: 95 % (2.5-97.5) and 90 % (5-95) intervals and the median.
PERCENTILES = (2.5, 5.0, 50.0, 95.0, 97.5)
SUMMARY_COLUMNS = ("level", "stage", "mean", "sd", "median", "p2_5", "p5", "p95", "p97_5", "share")


def _stage_order(stages) -> list[str]:
    known = [s for s in STAGES if s in stages]
    return known + sorted(set(stages) - set(known))


def summarize(ds: xr.Dataset) -> pd.DataFrame:
    """Statistics of every component, every stage and the total, in kg CO2-eq.

    Parameters
    ----------
    ds : xarray.Dataset
        Results of :func:`~uncertainty_footprint.propagate.run_monte_carlo`.

    Returns
    -------
    pandas.DataFrame
        Indexed by name (components, then ``stage:<name>``, then ``total``), with columns ``level``
        (component/stage/total), ``stage``, ``mean``, ``sd``, ``median``, ``p2_5``, ``p5``, ``p95``, ``p97_5``
        and ``share`` (mean over mean total).
    """
    fp = ds["footprint"].transpose("sample", "component").values
    stages = list(ds["stage"].values)
    order = _stage_order(stages)
    stage_sums = np.column_stack([fp[:, [s == st for s in stages]].sum(axis=1) for st in order])
    total = ds["total"].values[:, None]
    columns = np.hstack([fp, stage_sums, total])
    names = list(ds["component"].values) + [f"stage:{s}" for s in order] + ["total"]
    levels = ["component"] * fp.shape[1] + ["stage"] * len(order) + ["total"]
    stage_col = stages + order + [""]
    pct = np.percentile(columns, PERCENTILES, axis=0)
    mean = columns.mean(axis=0)
    sd = columns.std(axis=0, ddof=1) if columns.shape[0] > 1 else np.zeros(columns.shape[1])
    total_mean = mean[-1]
    share = mean / total_mean if total_mean != 0 else np.zeros_like(mean)
    table = pd.DataFrame({"level": levels, "stage": stage_col, "mean": mean, "sd": sd, "median": pct[2],
                          "p2_5": pct[0], "p5": pct[1], "p95": pct[3], "p97_5": pct[4], "share": share},
                         index=pd.Index(names, name="name"))
    return table


def deterministic_table(model, components=None) -> pd.DataFrame:
    """Published-method point values per component and total (columns ``lower``, ``typical``, ``upper``)."""
    values = model.deterministic()
    names = list(components or model.component_names)
    table = pd.DataFrame({k: v for k, v in values.items()}, index=pd.Index(names, name="component"))
    table.loc["total"] = table.sum(axis=0)
    return table
