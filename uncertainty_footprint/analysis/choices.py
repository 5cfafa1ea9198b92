"""The engine's named options, in a module without dependencies: the command line reads them for its ``--help``
without importing numpy, xarray or dask."""

from __future__ import annotations

__all__ = ["SCHEDULERS", "STORE_MODES", "CRN_DESIGNS"]

#: Local dask schedulers of a streaming run (a ``dask.distributed`` cluster is given by its address instead).
SCHEDULERS = ("synchronous", "threads", "processes")
#: What ``results.nc`` holds: per-sample footprints and inputs, footprints only, or no per-sample data.
STORE_MODES = ("all", "footprint", "none")
#: Designs whose columns are keyed by parameter name (common random numbers).
CRN_DESIGNS = ("mc", "lhs")
