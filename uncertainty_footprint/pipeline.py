"""The `run` job: experiment file -> model -> Monte Carlo -> tables -> an output folder written atomically."""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pandas as pd
import xarray as xr

from .catalog import Catalog, load_catalog
from .config import Experiment, load_experiment
from .hotspots import hotspot_analysis, sobol_table, st_convergence, to_datatree
from .model import LifecycleModel, build_model
from .propagate import DEFAULT_CHUNK, run_monte_carlo
from .summary import deterministic_table, summarize

__all__ = ["RunResult", "prepare", "run_experiment", "write_outputs", "atomic_output_dir", "published_table"]


@dataclass
class RunResult:
    """Everything a run produced, before or after it is written."""

    experiment: Experiment
    model: LifecycleModel
    results: xr.Dataset
    summary: pd.DataFrame
    deterministic: pd.DataFrame
    sobol: dict[str, xr.Dataset] | None = None
    catalog: Catalog | None = None
    convergence: xr.Dataset | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def prepare(path: str | os.PathLike, *, data_dir: str | os.PathLike | None = None, samples: int | None = None,
            seed: int | None = None, design: str | None = None, sobol: dict | None = None
            ) -> tuple[Experiment, Catalog, LifecycleModel, LifecycleModel]:
    """Load and validate an experiment (with command-line overrides) and build its two models.

    ``sobol`` overrides options of the experiment's ``sobol`` section (``None`` values are ignored). Returns the
    experiment, the catalog, the Monte Carlo model and the published-method model used by the deterministic
    table. Raises :class:`~uncertainty_footprint.errors.ConfigError` on any invalid input.
    """
    catalog = load_catalog(data_dir)
    experiment = load_experiment(path).with_sampling(samples=samples, seed=seed, design=design)
    if sobol:
        experiment = experiment.with_options("sobol", **sobol)
    model = build_model(experiment, catalog)
    published = build_model(experiment, catalog, published_method=True)
    return experiment, catalog, model, published


def run_experiment(path: str | os.PathLike, *, data_dir=None, samples=None, seed=None, design=None,
                   sobol: dict | None = None, chunk_size: int = DEFAULT_CHUNK, convergence: bool = False,
                   progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run an experiment: Monte Carlo, summary and deterministic tables, and (unless the experiment's or the
    ``sobol`` overrides' ``enabled`` is false) the Sobol' hotspot analysis; with ``convergence``, also the
    component indices at smaller base samples for the convergence figure. Nothing is written."""
    experiment, catalog, model, published = prepare(path, data_dir=data_dir, samples=samples, seed=seed,
                                                    design=design, sobol=sobol)
    s = experiment.spec.sampling
    ds = run_monte_carlo(model, n=s.samples, design=s.design, seed=s.seed, chunk_size=chunk_size,
                         experiment=experiment.name, config_sha256=experiment.sha256, progress=progress)
    ds.attrs["experiment_file"] = str(experiment.source)
    ds.attrs["application"] = experiment.spec.application or ""
    result = RunResult(experiment, model, ds, summarize(ds), deterministic_table(published), catalog=catalog)
    so = experiment.spec.sobol
    if so.enabled and model.parameters.random_names:
        result.sobol = hotspot_analysis(model, n_base=so.samples, seed=so.seed or s.seed,
                                        groupings=so.groupings, calc_second_order=so.second_order,
                                        conf_level=so.conf_level, num_resamples=so.num_resamples,
                                        chunk_size=chunk_size)
        for sds in result.sobol.values():
            sds.attrs.update({"experiment": experiment.name, "config_sha256": experiment.sha256,
                              "model_sha256": ds.attrs["model_sha256"]})
        if convergence and "component" in so.groupings:
            result.convergence = st_convergence(model, n_base=so.samples, seed=so.seed or s.seed,
                                                conf_level=so.conf_level, num_resamples=so.num_resamples,
                                                chunk_size=chunk_size)
    return result


def published_table(catalog: Catalog) -> pd.DataFrame:
    """The published per-component footprints shipped in ``distributions/published_tinyml_2023.csv``."""
    path = catalog.root / "published_tinyml_2023.csv"
    return pd.read_csv(path, comment="#", index_col="component")


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
    from .report import write_report

    conv = running_statistics(result.results["total"].values)
    if result.convergence is not None:
        conv = xr.merge([conv, result.convergence])
    paths = write_figures(result, folder, sobol=result.sobol, convergence=conv, catalog=result.catalog)
    write_report(result, folder, sobol=result.sobol, figures=paths, catalog=result.catalog)


def write_outputs(result: RunResult, out: Path, extra_writers: list[Callable[[RunResult, Path], None]] = ()) -> Path:
    """Write ``results.nc``, ``summary.csv``, ``deterministic.csv``, ``sobol.nc`` and ``sobol.csv`` (with a Sobol'
    analysis) and any extra files (e.g. :func:`write_documents`), atomically."""

    def write(folder: Path) -> None:
        result.results.to_netcdf(folder / "results.nc")
        result.summary.to_csv(folder / "summary.csv", float_format="%.6g")
        result.deterministic.to_csv(folder / "deterministic.csv", float_format="%.6g")
        if result.sobol:
            to_datatree(result.sobol).to_netcdf(folder / "sobol.nc")
            sobol_table(result.sobol).to_csv(folder / "sobol.csv", index=False, float_format="%.6g")
        for writer in extra_writers:
            writer(result, folder)

    return atomic_output_dir(out, write)
