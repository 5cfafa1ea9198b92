"""The public Python API: load an experiment, change it, run it, compare, write, plot, list the catalog.

>>> import uncertainty_footprint as uf
>>> exp = uf.load_experiment("kws").with_blocks(casing=2)
>>> res = uf.run(exp, samples=200, seed=1, sobol=False)
>>> float(res.summary.loc["total", "median"]) > 0
True

:func:`run` is the one run path: it decides what is computed (through the engine,
:func:`uncertainty_footprint.analysis.engine.compute`) and, with ``out``, writes every output in this order: the
files of numbers (:mod:`uncertainty_footprint.io.writers`), then the figures and reports
(:mod:`uncertainty_footprint.reports`), inside the results-folder transaction of :mod:`uncertainty_footprint.io.folder`
(nothing is written unless the whole run succeeds; files the package did not write are never touched). The
command line (``run``, ``compare``, ``list``) and the calculator call these functions and only format their
results. Invalid input raises :class:`~uncertainty_footprint.errors.ConfigError` (one line naming the file or the
Python call, the key path and what is allowed); a failing environment while writing raises
:class:`~uncertainty_footprint.errors.WriteError`.

Footprints are in kg CO2-eq throughout (IPCC GWP100 basis of the data catalog).
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

from .analysis.sizes import IN_MEMORY_MAX, RESULTS_FORMATS  # RESULTS_FORMATS: the choices of --format
from .errors import ConfigError, WriteError
from .inputs.choices import CRN_DESIGNS, DESIGN_NAMES, GROUPINGS, SCHEDULERS, SOBOL_METHODS, STORE_MODES
from .inputs.examples import example_names, example_text, example_title, is_example, resolve_experiment
from .io.folder import COMPARISON_OUTPUTS, RUN_OUTPUTS, discard_unfinished
from .io.provenance import package_version

if TYPE_CHECKING:  # the classes are imported on first use (see __getattr__), so that the command line starts fast
    import pandas as pd

    from .analysis.compare import Comparison
    from .analysis.engine import EngineOptions, Result
    from .inputs.catalog import Catalog
    from .inputs.schema import SobolOptions
    from .model.experiment import Experiment

#: Public classes and functions of other modules, imported on first use (PEP 562): ``api.Result`` ...
_LAZY = {
    "Experiment": "model.experiment", "load_experiment": "model.experiment", "parse_yaml": "model.experiment",
    "Result": "analysis.engine", "EngineOptions": "analysis.engine", "Comparison": "analysis.compare",
    "experiment_labels": "analysis.compare", "Sampling": "inputs.schema", "SobolOptions": "inputs.schema",
    "Catalog": "inputs.catalog",
}


def __getattr__(name: str):
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__package__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    # experiments and runs
    "Experiment", "load_experiment", "parse_yaml", "run", "write_results", "summarize_results", "Result",
    "EngineOptions", "Sampling",
    "SobolOptions", "compare", "write_comparison", "Comparison", "experiment_labels",
    # the data catalog
    "Catalog", "catalog", "block_options", "distribution_families",
    # figures and text
    "plot_total", "plot_components", "plot_indices", "plot_stacked", "plot_convergence", "plot_balance",
    "plot_comparison", "format_result", "format_comparison", "format_files", "format_catalog", "written_outputs",
    # provenance, shipped examples, errors
    "provenance", "package_version", "example_names", "example_text", "example_title", "resolve_experiment",
    "is_example", "discard_unfinished", "ConfigError", "WriteError",
    # names the command line offers
    "DESIGN_NAMES", "GROUPINGS", "SOBOL_METHODS", "CRN_DESIGNS", "SCHEDULERS", "STORE_MODES", "IN_MEMORY_MAX",
    "RUN_OUTPUTS", "COMPARISON_OUTPUTS",
]


# ------------------------------------------------------------------------------------------------ run
def _sobol_changes(sobol: bool | Mapping[str, Any] | SobolOptions | None) -> dict[str, Any]:
    """The ``sobol`` section overrides of a call (``None``: the experiment's own)."""
    from .inputs.schema import SobolOptions
    if sobol is None:
        return {}
    if isinstance(sobol, bool):
        return {"enabled": True, "method": "sampled"} if sobol else {"enabled": False}
    if isinstance(sobol, SobolOptions):
        return sobol.model_dump(exclude_unset=True)
    if isinstance(sobol, Mapping):
        changes = dict(sobol)
        if isinstance(changes.get("groupings"), str):
            changes["groupings"] = [g.strip() for g in changes["groupings"].split(",")]
        return changes
    raise ConfigError("run", "sobol", f"expected True, False, None, a mapping of sobol options or SobolOptions, "
                      f"got {type(sobol).__name__}")


def _as_run(experiment, *, samples, seed, design, sobol, data_dir) -> Experiment:
    """The experiment as the call runs it (validated, with the call's overrides)."""
    from .model.experiment import load_experiment
    exp = load_experiment(experiment, data_dir=data_dir)
    exp = exp.with_options("sampling", samples=samples, seed=seed, design=design)
    return exp.with_options("sobol", **_sobol_changes(sobol))


def run(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *, samples: int | None = None,
        seed: int | None = None, design: str | None = None,
        sobol: bool | Mapping[str, Any] | SobolOptions | None = None, engine: EngineOptions | None = None,
        data_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None, figures: bool = True,
        progress: Callable[[int, int], None] | None = None,
        on_result: Callable[[Result], None] | None = None) -> Result:
    """Run an experiment: Monte Carlo propagation, summary tables, exact (and sampled) Sobol' hotspots.

    Parameters
    ----------
    experiment : path, name, mapping or Experiment
        See :func:`load_experiment`.
    samples, seed, design : optional
        Override ``sampling.samples`` [samples], ``sampling.seed`` and ``sampling.design`` (``mc``, ``lhs``,
        ``sobol``) for this run. Same seed, same numbers.
    sobol : bool, mapping, SobolOptions or None
        ``None``: as the experiment's ``sobol`` section says (by default ``method: auto``: the exact indices, and
        sampled Saltelli estimates only for an output without an exact decomposition); ``False``: no sampled
        Sobol' analysis (the exact decomposition, milliseconds, is still made); ``True``: the sampled analysis
        beside the exact one (``method: sampled``); a mapping or :class:`SobolOptions` overrides options of the
        section (``{"samples": 1024, "second_order": True}``).
    engine : EngineOptions, optional
        How the Monte Carlo runs: in memory or streamed with dask (a scheduler, a cluster address), what
        ``results.nc`` keeps per sample and whether it is ``results.zarr`` instead (``format='zarr'``: written by
        the tasks in parallel, on a cluster's workers too), chunk sizes. Never changes the numbers. A streaming
        run without ``out`` keeps no per-sample data (``results`` is None).
    data_dir : path, optional
        Folder of the data catalog.
    out : path, optional
        Write every output into this folder, as the command line does (checked before anything runs; see
        :mod:`uncertainty_footprint.io.folder`); ``figures=False`` skips figures and reports.
    progress : callable, optional
        ``progress(done, total)`` [samples].
    on_result : callable, optional
        Called with the :class:`Result` as soon as the numbers are computed, before any file is written (the
        command line prints the summary then).

    Returns
    -------
    Result
        With ``folder`` set when written.

    Raises
    ------
    ConfigError
        Invalid experiment or option, a request that does not fit in memory, a refused ``out``.
    WriteError
        A failing environment while writing ``out``.

    Examples
    --------
    >>> res = run("kws", samples=200, seed=1, sobol=False)
    >>> t = res.summary.loc["total"]
    >>> bool(t["p5"] < t["median"] < t["p95"])
    True
    >>> sorted(res.exact)
    ['component', 'parameter', 'stage']
    """
    from .analysis.engine import EngineOptions, check_resources, compute
    from .io.folder import check_output_folder, source_inputs

    exp = _as_run(experiment, samples=samples, seed=seed, design=design, sobol=sobol, data_dir=data_dir)
    engine = engine if engine is not None else EngineOptions()
    if not isinstance(engine, EngineOptions):
        raise ConfigError("run", "engine", f"expected EngineOptions, got {type(engine).__name__}")
    if out is None:
        result = compute(exp, engine, progress=progress)
        if on_result is not None:
            on_result(result)
        return result
    check_resources(exp, engine)  # refused before the file system is touched
    target = check_output_folder(out, inputs=source_inputs([exp]), outputs=RUN_OUTPUTS,
                                 suggestion=f"results/{exp.label}")
    return _run_into(exp, engine, target, figures=figures, progress=progress, on_result=on_result)


def _run_into(exp: Experiment, engine: EngineOptions, target, *, figures: bool, progress, on_result) -> Result:
    """Compute ``exp`` and write its outputs into the checked folder ``target`` (one transaction)."""
    from functools import partial

    from .analysis.engine import compute
    from .io.folder import atomic_output_dir
    from .io.netcdf import ResultsFile, open_results
    from .io.provenance import results_provenance
    from .io.writers import results_name, write_result_files
    from .io.zarr_store import ResultsStore, open_store

    streams = engine.streams(exp.spec.sampling.samples)
    keeps_file = streams and engine.store != "none"
    name = results_name(engine.format)
    open_results = open_store if engine.format == "zarr" else open_results
    done: dict[str, Result] = {}

    def write(folder: Path, note: Callable[[str], None]) -> None:
        note("running the experiment" + (f" (writing {name})" if keeps_file else ""))
        sink = None
        if keeps_file:
            kind = ResultsStore if engine.format == "zarr" else ResultsFile
            sink = kind(folder / name, results_provenance(exp, streamed=True))
        result = compute(exp, engine, convergence=figures, sink=sink, progress=progress)
        if keeps_file:
            result = result.replace(results=open_results(folder / name, engine.task_rows))
        result = result.replace(documents=figures and result.results is not None)
        done["result"] = result
        if on_result is not None:
            on_result(result)
        try:
            _write_result(result, folder, note, partial(write_result_files, format=engine.format))
        finally:
            if keeps_file:
                result.results.close()

    written = atomic_output_dir(target, write, record={"command": "run", "experiments": [exp.source]})
    result = done["result"]
    results = open_results(written / name, engine.task_rows) if keeps_file else result.results
    return result.replace(results=results, folder=written)


def _write_result(result: Result, folder: Path, note, write_result_files) -> None:
    """The files of numbers, and (with ``result.documents``) the figures and reports drawn meanwhile."""
    if result.documents:
        from .reports.drawing import write_documents

        write_documents(result, folder, note, meanwhile=lambda: write_result_files(result, folder, note))
    else:
        write_result_files(result, folder, note)


def write_results(result: Result, out: str | os.PathLike, *, figures: bool = True, format: str = "netcdf") -> Result:
    """Write what the command line writes (results.nc, tables, sobol.nc, exact.nc, figures and reports) for a
    run made without ``out``, with the safety rules of :mod:`uncertainty_footprint.io.folder`: a new or empty
    folder, or an earlier results folder whose files are replaced once everything is written; other files are
    kept. ``format='zarr'`` writes ``results.zarr`` instead of ``results.nc``.

    Returns
    -------
    Result
        ``result`` with ``folder`` (absolute) set.

    Raises
    ------
    ConfigError
        A refused folder, or a streamed result (it writes its folder while it runs: pass ``out=`` to
        :func:`run`).
    WriteError
        A failing environment (nothing changed).
    """
    from functools import partial

    from .io.folder import atomic_output_dir, check_output_folder, source_inputs
    from .io.writers import write_result_files

    if result.streamed:
        raise ConfigError("write_results", "", "a streaming run writes its folder while it runs: pass out= to run()")
    if format not in RESULTS_FORMATS:
        raise ConfigError("write_results", "format", f"got {format!r}; allowed: {', '.join(RESULTS_FORMATS)}")
    write_result_files = partial(write_result_files, format=format)
    exp = result.experiment
    target = check_output_folder(out, inputs=source_inputs([exp]), outputs=RUN_OUTPUTS,
                                 suggestion=f"results/{exp.label}")
    result = result.replace(documents=figures and result.results is not None)
    written = atomic_output_dir(target, lambda folder, note: _write_result(result, folder, note, write_result_files),
                                record={"command": "run", "experiments": [exp.source]})
    return result.replace(folder=written)


def provenance(result: Result) -> dict[str, Any]:
    """The provenance stamp of a run, as ``results.nc`` carries it: experiment, seed, design, SHA-256 of the
    experiment and of the model, library versions, the assumed parameters it depends on
    (:mod:`uncertainty_footprint.io.provenance`)."""
    from .io.provenance import result_provenance

    return result_provenance(result)


def summarize_results(results: str | os.PathLike | Any, *, scheduler: str | None = "threads",
                      address: str | None = None, task_rows: int | None = None) -> "pd.DataFrame":
    """The summary table (``summary.csv``'s numbers) of stored per-sample results, computed from them in parallel.

    For the results of a large run, e.g. ``results.zarr`` written by a cluster: every dask task reads whole
    statistics blocks of the footprints and returns their moments and histogram, which are combined as the run
    combined them, so a streamed run's summary is reproduced bit for bit. An in-memory run's summary has the same
    moments, while its percentiles are exact order statistics: the histogram's differ from them by its relative
    resolution (2.4e-4) plus the gap between neighbouring samples, which matters only for small runs.

    Parameters
    ----------
    results : path or xarray.Dataset
        A results folder (its ``results.zarr`` or ``results.nc``), a ``results.zarr`` store, a ``results.nc`` file,
        or an opened Dataset with ``footprint(sample, component)`` and its ``stage`` coordinate.
    scheduler : {'synchronous', 'threads', 'processes'}, optional
        The local dask scheduler.
    address : str, optional
        A ``dask.distributed`` scheduler (``tcp://host:port``) instead; its workers must see the path.
    task_rows : int, optional
        Rows per task [rows] (default: a streaming run's). Memory and scheduling only: the numbers do not change.

    Returns
    -------
    pandas.DataFrame
        Mean, sd, median, 2.5/5/95/97.5 % quantiles [kg CO2-eq] and share per component, stage and the total.

    Raises
    ------
    ConfigError
        A path that holds no per-sample results, or a scheduler that does not exist.

    Examples
    --------
    >>> import uncertainty_footprint as uf
    >>> res = uf.run("kws", samples=2000, sobol=False)
    >>> table = uf.summarize_results(res.results)
    >>> bool(abs(table.loc["total", "mean"] / res.summary.loc["total", "mean"] - 1) < 1e-12)
    True
    """
    from .analysis.sizes import TASK_ROWS
    from .analysis.streaming import summarize_stored
    from .errors import shorten

    if scheduler is not None and scheduler not in SCHEDULERS:
        raise ConfigError("summarize_results", "scheduler", f"got {shorten(scheduler)}; allowed: "
                          f"{', '.join(SCHEDULERS)}")
    rows = TASK_ROWS if task_rows is None else task_rows
    opened = isinstance(results, (str, os.PathLike))
    ds = _open_stored(Path(results), rows) if opened else results
    where = shorten(str(results), 120) if opened else "summarize_results"
    try:
        return summarize_stored(ds, task_rows=rows, scheduler=scheduler, address=address)
    except (ValueError, KeyError, OSError) as exc:  # e.g. a store another program changed, a NaN, no 'stage'
        raise ConfigError(where, "" if opened else "results", f"cannot be summarized: {shorten(str(exc), 200)}"
                          ) from None
    finally:
        if opened:
            ds.close()


def _open_stored(path: Path, task_rows: int):
    """The per-sample results at ``path`` (a folder holding them, a Zarr store or a netCDF file), opened lazily."""
    from .errors import shorten
    from .io.netcdf import open_results
    from .io.zarr_store import open_store

    shown = shorten(str(path), 120)
    if path.is_dir() and not any((path / marker).exists() for marker in (".zmetadata", ".zgroup", "zarr.json")):
        found = [path / name for name in ("results.zarr", "results.nc") if (path / name).exists()]
        if not found:
            raise ConfigError(shown, "", "holds no results.zarr or results.nc (a run with --store none keeps no "
                              "per-sample results)")
        path = found[0]
    if not path.exists():
        raise ConfigError(shorten(str(path), 120), "", "not found")
    try:
        ds = open_store(path, task_rows) if path.is_dir() else open_results(path, task_rows)
    except (OSError, ValueError, KeyError) as exc:
        raise ConfigError(shorten(str(path), 120), "", f"not readable as results ({shorten(str(exc), 120)})") from None
    if "footprint" not in ds:
        ds.close()
        raise ConfigError(shorten(str(path), 120), "", "holds no per-sample footprints")
    return ds


# ------------------------------------------------------------------------------------------------ compare
def _labels(exps: Sequence[Experiment], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(exps) or len(set(labels)) != len(labels) or not all(labels):
            raise ConfigError("compare", "labels", f"needs {len(exps)} distinct non-empty labels, got "
                              f"{labels!r}")
        return labels
    if all(e.is_file for e in exps):  # files: labelled as the command line does
        from .analysis.compare import experiment_labels

        return experiment_labels([e.source for e in exps])
    out: list[str] = []
    for e in exps:
        label, k = e.label, 2
        while label in out:
            label, k = f"{e.label}_{k}", k + 1
        out.append(label)
    return out


def compare(*experiments: str | os.PathLike | Mapping[str, Any] | Experiment, samples: int | None = None,
            seed: int | None = None, design: str | None = None, labels: Sequence[str] | None = None,
            data_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None) -> Comparison:
    """Compare two or more experiments with common random numbers (the command ``compare``).

    Parameters
    ----------
    *experiments : path, name, mapping or Experiment
        Two or more (see :func:`load_experiment`).
    samples, seed, design : optional
        Sampling for all (default: the first experiment's); ``design`` ``mc`` or ``lhs``.
    labels : sequence of str, optional
        Labels of the experiments in the tables (default: :attr:`Experiment.label`, made distinct by a suffix;
        for files, their stems with as many folders as it takes to tell them apart).
    data_dir : path, optional
    out : path, optional
        Write the comparison there (:func:`write_comparison`), checked before anything runs.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> from uncertainty_footprint import load_experiment
    >>> kws = load_experiment("kws")
    >>> comp = compare(kws, kws.with_blocks(casing=2), samples=200, labels=["as_published", "casing_2"])
    >>> comp.differences.index.tolist()
    [('as_published', 'casing_2')]
    """
    from .analysis.compare import compare_experiments
    from .io.folder import check_output_folder, source_inputs
    from .model.experiment import load_experiment

    exps = [load_experiment(e, data_dir=data_dir) for e in experiments]
    if len(exps) < 2:
        raise ConfigError("compare", "", "compare needs at least two experiments")
    names = _labels(exps, labels)
    first = exps[0].spec.sampling
    sampling = {"samples": first.samples if samples is None else samples, "seed": first.seed if seed is None else seed,
                "design": first.design if design is None else design}
    exps = [e.with_options("sampling", **sampling) for e in exps]
    target = None
    if out is not None:
        target = check_output_folder(out, inputs=source_inputs(exps), outputs=COMPARISON_OUTPUTS,
                                     suggestion="results/compare_" + "_".join(n.replace("/", "-") for n in names))
    comp = compare_experiments(exps, labels=names)
    return comp if target is None else write_comparison(comp, target)


def write_comparison(comparison: Comparison, out) -> Comparison:
    """Write comparison.nc, comparison.csv, differences.csv, difference_variance.csv and the figure
    (comparison.png, comparison.pdf) into ``out`` (the safety rules of :mod:`uncertainty_footprint.io.folder`; the
    experiments' folders are refused); returns ``comparison`` with ``folder`` set."""
    from .io.folder import atomic_output_dir, check_output_folder, source_inputs
    from .io.writers import write_comparison_files

    if isinstance(out, (str, os.PathLike)):
        out = check_output_folder(out, inputs=source_inputs(comparison.experiments), outputs=COMPARISON_OUTPUTS)

    def write(folder: Path, note: Callable[[str], None]) -> None:
        from .reports.figures import plot_comparison as draw, save_figure

        write_comparison_files(comparison, folder, note)
        note("writing the comparison figure")
        save_figure(draw(comparison), folder, "comparison")

    written = atomic_output_dir(out, write, record={"command": "compare",
                                                    "experiments": [e.source for e in comparison.experiments]})
    return dataclasses.replace(comparison, folder=written)


# ------------------------------------------------------------------------------------------------ catalog
def catalog(data_dir: str | os.PathLike | None = None) -> Catalog:
    """The data catalog (blocks with their HSL options, parameters, sources, reference devices, application
    presets); its ``*_table()`` methods give pandas DataFrames.

    Examples
    --------
    >>> cat = catalog()
    >>> float(cat.references_table().loc["apple_watch_series_7", "footprint"])
    34.0
    """
    from .inputs.catalog import load_catalog

    return load_catalog(data_dir)


def block_options(data_dir: str | os.PathLike | None = None, *, samples: int | None = None,
                  seed: int | None = None) -> pd.DataFrame:
    """The footprint of every HSL option of every block, indexed by ``(block, hsl)``: ``label``, ``median``,
    ``p5``, ``p95``, ``mean`` and the published method's point value ``published`` [kg CO2-eq]
    (:func:`uncertainty_footprint.analysis.blocks.option_intervals`, a seeded Monte Carlo of ``samples`` per
    option, default those of ``list blocks``)."""
    from .analysis.blocks import option_intervals
    from .inputs.catalog import load_catalog

    extra = {k: v for k, v in {"n": samples, "seed": seed}.items() if v is not None}
    return option_intervals(load_catalog(data_dir), **extra)


def distribution_families() -> dict[str, tuple[str, ...]]:
    """Distribution families an experiment may use, with their required parameter names, in registry order.

    >>> distribution_families()["pert"]
    ('low', 'mode', 'high')
    """
    from .inputs.distributions import FAMILIES

    return {name: tuple(f.required) for name, f in FAMILIES.items()}


# ------------------------------------------------------------------------------------------------ figures
def _published(result: Result):
    from .reports.document import resolve_published

    column, _ = resolve_published(result.experiment.spec.application, None, result.catalog)
    total = float(column["total"]) if column is not None and "total" in column.index else None
    return column, total


def _titles(result: Result):
    from .reports.document import component_titles

    return component_titles(result.need_results("plot")) or None


def plot_total(result: Result, **kwargs):
    """Histogram of the total with its median, 90 % and 95 % intervals and the published value [kg CO2-eq]
    (:func:`uncertainty_footprint.reports.figures.plot_total_distribution`); a matplotlib Figure."""
    from .reports.figures import plot_total_distribution, published_label

    column, total = _published(result)
    return plot_total_distribution(result.need_results("plot_total"), total,
                                   **{"published_label": published_label(column), **kwargs})


def plot_components(result: Result, log: bool = False, **kwargs):
    """Median and intervals of every component [kg CO2-eq]
    (:func:`uncertainty_footprint.reports.figures.plot_component_intervals`); a matplotlib Figure."""
    from .reports.figures import plot_component_intervals, published_label

    column, _ = _published(result)
    published = column.drop("total", errors="ignore") if column is not None and len(column) > 1 else None
    return plot_component_intervals(result.summary, log, **{"titles": _titles(result), "published": published,
                                                            "published_label": published_label(column), **kwargs})


def plot_indices(result: Result, kind: str | None = None, **kwargs):
    """S1 and ST (:func:`uncertainty_footprint.reports.figures.plot_sobol_indices`): ``kind`` ``sampled`` (the
    Saltelli estimates with their intervals; a run with ``sobol=True``) or ``exact`` (the exact decomposition);
    default: the sampled ones when the run has them, else the exact ones. A matplotlib Figure."""
    from .reports.figures import plot_sobol_indices

    found = {"sampled": result.sobol, "exact": result.exact}
    if kind is not None and kind not in found:
        raise ConfigError("plot_indices", "kind", f"got {kind!r}; allowed: sampled, exact")
    indices = found[kind] if kind is not None else (found["sampled"] or found["exact"])
    if not indices:
        what = {"sampled": "sampled Sobol' indices: run with sobol=True" if result.dependence is None else
                "Sobol' indices: its inputs are correlated (Result.hotspots gives the Shapley effects)",
                "exact": "exact indices (the model has no exact variance decomposition)"}
        raise ConfigError("plot_indices", "kind", f"this run has no {what[kind or 'sampled']}")
    return plot_sobol_indices(indices, **{"titles": _titles(result), **kwargs})


def plot_stacked(result: Result, **kwargs):
    """The published calculator's stacked comparison with the reference devices, with the uncertainty of the
    total [kg CO2-eq] (:func:`uncertainty_footprint.reports.figures.plot_comparison_stacked`); a Figure."""
    from .reports.figures import plot_comparison_stacked, published_label

    column, total = _published(result)
    return plot_comparison_stacked(result.summary, result.need_results("plot_stacked"),
                                   **{"published": total, "published_label": published_label(column), **kwargs})


def plot_convergence(result: Result, **kwargs):
    """Running mean and quantiles of the total (and the component ST at smaller base samples when the run
    computed them) (:func:`uncertainty_footprint.reports.figures.plot_convergence`); a matplotlib Figure."""
    import xarray as xr

    from .analysis.convergence import running_statistics
    from .reports.figures import plot_convergence as draw

    conv = running_statistics(result.need_results("plot_convergence")["total"].values)
    if result.convergence is not None:
        conv = xr.merge([conv, result.convergence])
    return draw(conv, **kwargs)


def plot_balance(result: Result, **kwargs):
    """The net-balance histogram and the payback-time CDF of a run with a ``benefit``
    (:func:`uncertainty_footprint.reports.figures.plot_balance`); a matplotlib Figure."""
    from .reports.figures import plot_balance as draw

    if result.balance is None or result.balance.net_balance is None:
        raise ConfigError("plot_balance", "benefit", "this run has no benefit: add a benefit section")
    return draw(result.balance, **kwargs)


def plot_comparison(comparison: Comparison, **kwargs):
    """Totals side by side and the paired differences of a comparison
    (:func:`uncertainty_footprint.reports.figures.plot_comparison`); a matplotlib Figure."""
    from .reports.figures import plot_comparison as draw

    return draw(comparison, **kwargs)


# ------------------------------------------------------------------------------------------------ text
def format_result(result: Result) -> str:
    """What the command ``run`` prints: summary, hotspots, deterministic reproduction, assumptions, balance."""
    from .reports.terminal import result_report

    return result_report(result)


def written_outputs(folder: str | os.PathLike) -> list[str]:
    """The outputs the package wrote into a results folder, as its manifest lists them (top-level names; a folder
    with a trailing ``/``), in the order of :data:`RUN_OUTPUTS` and :data:`COMPARISON_OUTPUTS`; empty for a folder
    without a manifest. Your own files in the folder are never among them."""
    from .io.folder import read_manifest

    try:
        manifest = read_manifest(folder) or {}
    except (OSError, ValueError):
        return []
    top = {f.split("/")[0] for f in manifest.get("files", [])} | set(manifest.get("folders", []))
    return [n for n in (*RUN_OUTPUTS, *COMPARISON_OUTPUTS) if n.rstrip("/") in top]


def format_files(folder: str | os.PathLike, files: Sequence[str]) -> str:
    """The line that names a written folder and its files."""
    from .reports.terminal import written_report

    return written_report(Path(folder), list(files))


def format_comparison(comparison: Comparison) -> str:
    """What the command ``compare`` prints: totals side by side and the paired differences."""
    from .reports.terminal import comparison_report

    return comparison_report(comparison)


def format_catalog(what: str = "all", *, data_dir: str | os.PathLike | None = None, options: bool | None = None,
                   width: int | None = None) -> str:
    """What the command ``list`` prints (``what``: all, blocks, parameters, methods, applications, references, sources);
    ``options``: each HSL option's footprint interval beside the blocks (default: when blocks are listed)."""
    from .inputs.catalog import load_catalog
    from .reports.terminal import catalog_listing

    if options is None:
        options = what in ("all", "blocks")
    return catalog_listing(load_catalog(data_dir), what, width=width,
                           intervals=block_options(data_dir) if options else None)
