"""Synthetic indices for the figure and report tests: Datasets of the shapes the Sobol' analysis returns."""

import numpy as np
import xarray as xr

FIGURE_NAMES = ("total_distribution", "component_intervals", "component_intervals_log", "comparison_stacked",
                "sobol_indices", "convergence")


def synthetic_sobol(result, seed=0):
    """Small Sobol Datasets of the shape sensitivity.sobol_indices returns (per parameter, grouped)."""
    rng = np.random.default_rng(seed)
    ds = result.results

    def make(labels, dim):
        k = len(labels)
        st = rng.dirichlet(np.ones(k)) * 1.1
        return xr.Dataset({"S1": (dim, 0.8 * st), "S1_conf": (dim, np.full(k, 0.02)), "ST": (dim, st),
                           "ST_conf": (dim, np.full(k, 0.03))}, coords={dim: list(labels)},
                          attrs={"n_base": 256, "num_resamples": 100, "conf_level": 0.95})

    components = [c for c, v in zip(ds["component"].values, ds["footprint"].std("sample").values) if v > 0]
    return {"parameter": make(ds["parameter"].values.tolist(), "parameter"),
            "component": make(components, "group"),
            "stage": make(sorted(set(ds["stage"].values.tolist())), "group")}


def st_convergence(groups, seed=1):
    rng = np.random.default_rng(seed)
    n_base = np.array([64, 128, 256, 512])
    st = np.clip(rng.uniform(0, 0.5, len(groups))[None, :] + rng.normal(0, 0.02, (4, len(groups))), 0, 1)
    conf = 0.2 / np.sqrt(n_base[:, None] / 64) * np.ones_like(st)
    return xr.Dataset({"ST": (("n_base", "group"), st), "ST_conf": (("n_base", "group"), conf)},
                      coords={"n_base": n_base, "group": list(groups)})
