"""Writing a run's outputs into a results folder, atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable

import xarray as xr

from ..analysis.compare import Comparison
from ..analysis.hotspots import sobol_table, to_datatree
from ..analysis.run import RunResult, run_experiment

__all__ = ["atomic_output_dir", "write_tables", "write_documents", "run_to_folder", "write_comparison"]


def atomic_output_dir(out: Path, write: Callable[[Path], None]) -> Path:
    """Write into a fresh temporary folder beside ``out`` and move it into place only if ``write`` succeeds.

    A failure leaves no half-written output (an existing ``out`` is kept untouched until the new one is
    complete, then replaced).
    """
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o777 & ~umask)  # mkdtemp makes it private; the output folder is an ordinary folder
    try:
        write(tmp)
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}.old-", dir=out.parent))
            os.replace(out, old / out.name)
            os.replace(tmp, out)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def write_documents(result: RunResult, folder: Path) -> None:
    """Figures (``figures/*.png|pdf``), ``report.md``, ``report.html`` and ``table.tex``."""
    from .figures import running_statistics, write_figures
    from .document import write_report

    conv = running_statistics(result.results["total"].values)
    if result.convergence is not None:
        conv = xr.merge([conv, result.convergence])
    paths = write_figures(result, folder, sobol=result.sobol, convergence=conv, catalog=result.catalog)
    write_report(result, folder, sobol=result.sobol, figures=paths, catalog=result.catalog)


def write_tables(result: RunResult, folder: Path) -> None:
    """``results.nc`` (unless a streaming run wrote it already), the CSV tables and ``sobol.nc``."""
    if not result.extra.get("streamed"):
        result.results.to_netcdf(folder / "results.nc")
    result.summary.to_csv(folder / "summary.csv", float_format="%.6g")
    result.deterministic.to_csv(folder / "deterministic.csv", float_format="%.6g")
    if result.sobol:
        to_datatree(result.sobol).to_netcdf(folder / "sobol.nc")
        sobol_table(result.sobol).to_csv(folder / "sobol.csv", index=False, float_format="%.6g")


def run_to_folder(path: str | os.PathLike, out: str | os.PathLike, *, documents: bool = True,
                  **options) -> RunResult:
    """Run an experiment and write every output into ``out`` atomically (nothing is left on failure).

    ``options`` are those of :func:`run_experiment`; ``documents`` adds figures and reports (skipped, with
    ``result.extra['documents']`` False, when a streaming run keeps no per-sample data)."""
    holder: dict[str, RunResult] = {}

    def write(folder: Path) -> None:
        result = run_experiment(path, folder=folder, **options)
        holder["result"] = result
        write_tables(result, folder)
        result.extra["documents"] = documents and result.results is not None
        if result.extra["documents"]:
            write_documents(result, folder)
        if result.results is not None and result.extra.get("streamed"):
            result.results.close()

    out = atomic_output_dir(Path(out), write)
    result = holder["result"]
    if result.extra.get("streamed") and result.results is not None:
        result.results = xr.open_dataset(out / "results.nc", chunks={"sample": 1 << 20})
    return result


def write_comparison(comp: Comparison, out: os.PathLike) -> Path:
    """Write ``comparison.nc``, ``comparison.csv``, ``differences.csv`` and the figure (PNG and PDF)."""

    from .figures import comparison_figure

    def write(folder: Path) -> None:
        comp.totals.to_netcdf(folder / "comparison.nc")
        comp.table.to_csv(folder / "comparison.csv", float_format="%.6g")
        comp.differences.to_csv(folder / "differences.csv", float_format="%.6g")
        fig = comparison_figure(comp)
        fig.savefig(folder / "comparison.png", dpi=200)
        fig.savefig(folder / "comparison.pdf")

    return atomic_output_dir(Path(out), write)
