"""The footprint of every HSL option of every functional block, with its uncertainty.

The published calculator shows one point value per option of a block (its hardware specification level,
HSL-0..3). :func:`option_intervals` gives the median, the 90 % interval and the mean of each option's footprint
[kg CO2-eq] under the catalog's distributions: the items of the option (quantity x unit factor, or the transport
model) sampled with a seeded Monte Carlo. A block's footprint depends only on its own items, so one model per
HSL level (every block that has the level set to it) covers all options; the whole table takes a few tens of
milliseconds at the default sample size. ``list blocks`` prints it; the web calculator shows the same numbers.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from ..inputs.catalog import Catalog
from ..inputs.choices import QUANTITY_MODES
from ..model.experiment import parse_experiment
from .designs import make_design
from .propagate import evaluate_rows

__all__ = ["option_intervals", "OPTION_SAMPLES", "OPTION_SEED"]

#: Default sample size of :func:`option_intervals` [samples]: percentiles to about 1 % of the interval width.
OPTION_SAMPLES = 4096
#: Default seed of :func:`option_intervals`.
OPTION_SEED = 20230101


def option_intervals(catalog: Catalog, *, seed: int = OPTION_SEED, n: int = OPTION_SAMPLES,
                     quantity_distribution: str = "pert", application: str | None = None) -> pd.DataFrame:
    """Median, 90 % interval and mean of the footprint of every HSL option of every block.

    Parameters
    ----------
    catalog : Catalog
        The data catalog (:func:`~uncertainty_footprint.inputs.catalog.load_catalog`).
    seed : int
        Seed of the Monte Carlo (plain Monte Carlo design): same seed, same numbers.
    n : int
        Samples per option [samples].
    quantity_distribution : str
        How an HSL quantity's lower/typical/upper values become a distribution (an experiment's
        ``quantity_distribution``).
    application : str, optional
        An application preset whose parameter choices apply (an experiment's ``application``).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``(block, hsl)`` in catalog order, with columns ``label`` (the option's meaning),
        ``median``, ``p5``, ``p95``, ``mean`` [kg CO2-eq] and ``published`` (the point value of the published
        method: every quantity at its typical value, every factor at its nominal) [kg CO2-eq]; ``attrs`` hold
        ``n``, ``seed`` and ``quantity_distribution``.

    Examples
    --------
    >>> from uncertainty_footprint.inputs.catalog import load_catalog
    >>> table = option_intervals(load_catalog(), n=256)
    >>> bool((table["p5"] <= table["median"]).all() and (table["median"] <= table["p95"]).all())
    True
    """
    if quantity_distribution not in QUANTITY_MODES:
        raise ValueError(f"quantity_distribution must be one of {', '.join(QUANTITY_MODES)}")
    levels = sorted({level for info in catalog.blocks.values() for level in info["hsl"]})
    found: dict[tuple[str, int], dict] = {}
    for level in levels:
        blocks = {b: level for b, info in catalog.blocks.items() if level in info["hsl"]}
        spec = {"name": f"HSL-{level} options", "blocks": blocks, "quantity_distribution": quantity_distribution,
                "sampling": {"samples": int(n), "seed": int(seed), "design": "mc"}}
        if application is not None:
            spec["application"] = application
        experiment = parse_experiment(spec, "HSL option table", data_dir=catalog.root)
        model = experiment.model
        published = experiment.published_model.deterministic()["typical"]
        design = make_design("mc", int(n), model.parameters.random_names, int(seed))
        footprint, _ = evaluate_rows(model, design.points(0, int(n)), with_inputs=False)
        names = model.component_names
        for block in blocks:
            j = names.index(block)
            x = footprint[:, j]
            p5, median, p95 = np.percentile(x, [5.0, 50.0, 95.0])
            found[(block, level)] = {"label": catalog.blocks[block]["hsl"][level], "median": float(median),
                                     "p5": float(p5), "p95": float(p95), "mean": float(x.mean()),
                                     "published": float(published[j])}
    order = [(b, level) for b, info in catalog.blocks.items() for level in sorted(info["hsl"])]
    table = pd.DataFrame([found[k] for k in order], index=pd.MultiIndex.from_tuples(order, names=["block", "hsl"]))
    table.attrs.update(n=int(n), seed=int(seed), quantity_distribution=quantity_distribution)
    return table
