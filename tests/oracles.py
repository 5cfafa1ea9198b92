"""Test oracles: reference implementations the package's results are compared with (not part of the package).

:func:`salib_sobol_indices` is :func:`uncertainty_footprint.analysis.sobol.sobol_indices` with SALib's own
``SALib.analyze.sobol.analyze`` in place of the package's matrix-product estimator: the same chunked Saltelli
design, the same ``ppf`` step and model evaluation, then SALib's estimator and bootstrap on the outputs. It was
the package's ``estimator="salib"`` option; it lives here because only the tests need it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import numpy as np
import xarray as xr
from SALib.analyze import sobol as salib_sobol

from uncertainty_footprint.analysis import sobol as sens
from uncertainty_footprint.analysis.sizes import SALTELLI_CHUNK


def salib_estimates(y: np.ndarray, k: int, *, calc_second_order: bool, num_resamples: int, conf_level: float,
                    seed: int) -> dict[str, np.ndarray]:
    """Indices of one output with :func:`SALib.analyze.sobol.analyze` (a constant output gives zeros).

    Parameters
    ----------
    y : ndarray, shape (n_rows,)
        Outputs in SALib's row order.
    k : int
        Number of design column blocks (parameters or groups).

    Returns
    -------
    dict of ndarray
        ``S1, S1_conf, ST, ST_conf`` of shape (k,), plus ``S2, S2_conf`` of shape (k, k) (upper triangle).
    """
    if sens._is_constant(y):
        return sens._zero_result(k, calc_second_order)
    problem = {"num_vars": k, "names": [f"g{i}" for i in range(k)], "bounds": [[0.0, 1.0]] * k}
    res = salib_sobol.analyze(problem, y, calc_second_order=calc_second_order, num_resamples=num_resamples,
                              conf_level=conf_level, seed=seed)
    keys = ("S1", "S1_conf", "ST", "ST_conf") + (("S2", "S2_conf") if calc_second_order else ())
    return {key: np.array(res[key], dtype=float) for key in keys}


def salib_sobol_indices(evaluate: Callable, ppf: Callable, *, names: Sequence[str], n_base: int, seed: int,
                        calc_second_order: bool = False, num_resamples: int = 100, conf_level: float = 0.95,
                        groups: Mapping[str, Sequence[str]] | None = None, chunk_size: int = SALTELLI_CHUNK,
                        output_names: Sequence[str] | None = None) -> xr.Dataset:
    """Sobol' indices through the package's design and evaluation and SALib's ``analyze`` (the oracle).

    Same arguments and Dataset layout as :func:`~uncertainty_footprint.analysis.sobol.sobol_indices` (without
    the convergence warning); ``attrs["estimator"]`` is ``"SALib.analyze.sobol.analyze"``.
    """
    names = [str(n) for n in names]
    labels = None if groups is None else sens._labels_from_mapping(groups, names)
    design = sens.SaltelliDesign(n_base, len(names), seed=seed, calc_second_order=calc_second_order,
                                 chunk_size=chunk_size, groups=labels)
    y, one_dim = sens._evaluate_design(design, evaluate, ppf)
    results = [salib_estimates(row, design.n_groups, calc_second_order=calc_second_order,
                               num_resamples=num_resamples, conf_level=conf_level, seed=seed) for row in y]
    if output_names is None and not one_dim:
        output_names = [f"output_{i}" for i in range(y.shape[0])]
    if labels is None:
        dim, coord_labels, members = "parameter", names, None
    else:
        dim, coord_labels = "group", design.group_labels
        members = [",".join(n for n, g in zip(names, labels) if g == group) for group in coord_labels]
    attrs = {"n_base": n_base, "num_resamples": num_resamples, "conf_level": float(conf_level), "seed": seed,
             "estimator": "SALib.analyze.sobol.analyze"}
    return sens._to_dataset(results, dim=dim, labels=coord_labels, members=members, output_names=output_names,
                            attrs=attrs)
