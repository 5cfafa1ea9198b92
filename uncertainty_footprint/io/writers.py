"""The files of numbers of a run and of a comparison: netCDF (:mod:`~uncertainty_footprint.io.netcdf`, stamped
with their provenance, :mod:`~uncertainty_footprint.io.provenance`) and CSV tables.

Each writer takes a folder (the temporary folder of the results-folder transaction,
:func:`~uncertainty_footprint.io.folder.atomic_output_dir`) and a ``note`` callable that it tells which file it is
writing, for the message of a failure.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from ..analysis.compare import Comparison
from ..analysis.dependence import shapley_table
from ..analysis.engine import Result
from ..analysis.exact import exact_table
from ..analysis.hotspots import second_order_table, sobol_table
from ..analysis.summary import summary_frame
from .netcdf import write_dataset, write_groups
from .provenance import comparison_provenance, indices_provenance, result_provenance

__all__ = ["write_result_files", "write_comparison_files", "results_name"]

#: The per-sample results of each format (:data:`~uncertainty_footprint.analysis.sizes.RESULTS_FORMATS`).
RESULTS_NAMES = {"netcdf": "results.nc", "zarr": "results.zarr"}


def results_name(format: str = "netcdf") -> str:
    """The name of the per-sample results in a results folder: ``results.nc`` or ``results.zarr`` (a folder)."""
    return RESULTS_NAMES[format]


def _quiet(what: str) -> None:
    """The default ``note``: says nothing."""


def write_result_files(result: Result, folder: Path, note: Callable[[str], None] = _quiet, *,
                       format: str = "netcdf") -> None:
    """``results.nc`` (``format='zarr'``: ``results.zarr``; unless a streaming run wrote it already, or ``store``
    is ``none``), ``summary.csv``, ``deterministic.csv``, ``sobol.nc``/``sobol.csv`` (sampled indices),
    ``exact.nc``/``exact.csv`` (exact indices), ``sobol_s2.csv`` (second order), ``balance.csv`` (a benefit or
    fleet), ``methods.csv`` (methods side by side), ``shapley.nc``/``shapley.csv`` and ``correlations.csv``
    (correlated inputs), as the run has them."""
    folder = Path(folder)
    if not result.streamed and result.store != "none" and result.results is not None:
        name = results_name(format)
        note(f"writing {name}")
        kept = result.results if result.store == "all" else result.results.drop_vars("inputs", errors="ignore")
        if format == "zarr":
            from .zarr_store import write_zarr

            write_zarr(kept, folder / name, result_provenance(result))
        else:
            write_dataset(kept, folder / name, result_provenance(result))
    note("writing summary.csv and deterministic.csv")
    summary_frame(result).to_csv(folder / "summary.csv", float_format="%.6g")
    result.deterministic.to_csv(folder / "deterministic.csv", float_format="%.6g")
    if result.sobol:
        note("writing sobol.nc and sobol.csv")
        write_groups(result.sobol, folder / "sobol.nc", indices_provenance(result, "sampled"))
        sobol_table(result.sobol).to_csv(folder / "sobol.csv", index=False, float_format="%.6g")
    if result.exact:
        note("writing exact.nc and exact.csv")
        write_groups(result.exact, folder / "exact.nc", indices_provenance(result, "exact"))
        exact_table(result.exact).to_csv(folder / "exact.csv", index=False, float_format="%.8g")
    pairs = second_order_table(result.sobol, result.exact)
    if pairs is not None:
        note("writing sobol_s2.csv")
        pairs.to_csv(folder / "sobol_s2.csv", index=False, float_format="%.6g")
    if result.balance is not None:
        note("writing balance.csv")
        result.balance.table.to_csv(folder / "balance.csv", float_format="%.6g")
    if result.methods is not None:
        note("writing methods.csv")
        result.methods.to_csv(folder / "methods.csv", index=False, float_format="%.6g")
    dep = result.dependence
    if dep is not None:
        if dep.shapley:
            note("writing shapley.nc and shapley.csv")
            write_groups(dep.shapley, folder / "shapley.nc", indices_provenance(result, "shapley"))
            shapley_table(dep.shapley).to_csv(folder / "shapley.csv", index=False, float_format="%.6g")
        note("writing correlations.csv")
        dep.correlations.to_csv(folder / "correlations.csv", index=False, float_format="%.6g")


def write_comparison_files(comparison: Comparison, folder: Path, note: Callable[[str], None] = _quiet) -> None:
    """``comparison.nc`` (``total(experiment, sample)``), ``comparison.csv``, ``differences.csv`` and
    ``difference_variance.csv`` (when every model is separable)."""
    folder = Path(folder)
    note("writing the comparison tables")
    write_dataset(comparison.totals, folder / "comparison.nc", comparison_provenance(comparison))
    comparison.table.to_csv(folder / "comparison.csv", float_format="%.6g")
    comparison.differences.to_csv(folder / "differences.csv", float_format="%.6g")
    if comparison.difference_variance is not None:
        comparison.difference_variance.to_csv(folder / "difference_variance.csv", index=False, float_format="%.8g")
