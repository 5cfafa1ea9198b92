"""Convergence data of a run: statistics of the total on growing prefixes of the sample.

The convergence figure (:func:`uncertainty_footprint.reports.figures.plot_convergence`) draws these beside the
total-order Sobol' indices against the base sample size
(:func:`uncertainty_footprint.analysis.hotspots.st_convergence`).
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ..model.builder import KG

__all__ = ["running_statistics"]


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

    Raises
    ------
    ValueError
        If ``total`` is empty or ``n_points`` is below 1.
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
