"""Named options of experiments and runs, in a module without dependencies: the command line reads them for its
``--help`` without importing numpy, pydantic, xarray or dask."""

from __future__ import annotations

__all__ = ["DESIGN_NAMES", "GROUPINGS", "SOBOL_METHODS", "SAMPLED_SOBOL_OPTIONS", "QUANTITY_FAMILIES",
           "QUANTITY_MODES", "SCHEDULERS", "STORE_MODES", "CRN_DESIGNS"]

#: Unit-hypercube designs: plain Monte Carlo, Latin hypercube, scrambled Sobol' points.
DESIGN_NAMES = ("mc", "lhs", "sobol")
#: How Sobol' indices and Shapley effects are grouped.
GROUPINGS = ("parameter", "component", "stage")
#: ``sobol.method``: ``auto`` samples the Saltelli estimates only for an output without an exact variance
#: decomposition; ``sampled`` samples them for every output (beside the exact indices where they exist);
#: ``exact`` never samples (an output without an exact decomposition then has no indices).
SOBOL_METHODS = ("auto", "exact", "sampled")
#: ``sobol`` options that only the sampled analysis uses: given without ``method``, they mean ``sampled``.
SAMPLED_SOBOL_OPTIONS = ("samples", "conf_level", "num_resamples", "seed")
#: Distributions of the HSL quantities between their lower, typical and upper values.
QUANTITY_FAMILIES = ("pert", "triangular", "uniform")
#: Quantity modes of a block: a distribution, or one of the published corners.
QUANTITY_MODES = QUANTITY_FAMILIES + ("lower", "typical", "upper")
#: Local dask schedulers of a streaming run (a ``dask.distributed`` cluster is given by its address instead).
SCHEDULERS = ("synchronous", "threads", "processes")
#: What ``results.nc`` holds: per-sample footprints and inputs, footprints only, or no per-sample data.
STORE_MODES = ("all", "footprint", "none")
#: Designs whose columns are keyed by parameter name (common random numbers).
CRN_DESIGNS = ("mc", "lhs")
