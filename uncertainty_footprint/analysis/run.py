"""The `run` job in numbers: experiment file -> model -> Monte Carlo -> tables and Sobol' indices (nothing written,
except by a streaming run)."""

from __future__ import annotations

import os
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Callable

import pandas as pd
import xarray as xr

from ..inputs.catalog import Catalog, load_catalog
from ..inputs.experiment import Experiment, load_experiment
from .balance import BalanceResult, balance_analysis
from .exact import try_exact
from .hotspots import hotspot_analysis, st_convergence
from ..model.balance import BalanceModel, build_balance
from ..model.builder import LifecycleModel, build_model
from .propagate import results_attrs, run_monte_carlo
from .provenance import provenance
from .resources import check_memory
from .sizes import EVAL_CHUNK, IN_MEMORY_MAX, TASK_ROWS
from .summary import deterministic_table, summarize

__all__ = ["RunResult", "EngineOptions", "IN_MEMORY_MAX", "Prepared", "prepare", "check_resources", "run_prepared",
           "run_experiment", "SAMPLES_SOBOL"]

#: ``sobol.method`` -> whether the sampled (Saltelli) analysis of an output runs, given whether that output has an
#: exact variance decomposition (:mod:`uncertainty_footprint.analysis.exact`).
SAMPLES_SOBOL: dict[str, Callable[[bool], bool]] = {
    "auto": lambda has_exact: not has_exact,
    "sampled": lambda has_exact: True,
    "exact": lambda has_exact: False,
}


@dataclass(frozen=True)
class EngineOptions:
    """How the Monte Carlo runs.

    ``stream=None`` streams when the sample count exceeds :data:`IN_MEMORY_MAX` or a scheduler or cluster
    address is given; streaming writes ``results.nc`` chunk by chunk and computes the summary from running
    statistics (see :mod:`uncertainty_footprint.analysis.streaming`). ``store`` says what ``results.nc`` keeps
    per sample, streamed or not: ``footprint`` (footprints and totals, the default), ``all`` (also the sampled
    inputs, which a rerun with the same seed regenerates exactly) or ``none`` (no results.nc).
    """

    stream: bool | None = None
    scheduler: str | None = None
    address: str | None = None
    store: str = "footprint"
    task_rows: int = TASK_ROWS

    def streams(self, n: int) -> bool:
        if self.stream is not None:
            return self.stream
        return n > IN_MEMORY_MAX or self.scheduler is not None or self.address is not None


@dataclass
class RunResult:
    """Everything a run produced, before or after it is written.

    Attributes
    ----------
    streamed : bool
        The Monte Carlo streamed: ``results`` is the dask-backed Dataset of the ``results.nc`` it wrote (or
        None with ``store='none'``) and the summary comes from running statistics.
    documents : bool
        Figures and reports were written (set by :func:`~uncertainty_footprint.reports.folder.run_to_folder`).
    """

    experiment: Experiment
    model: LifecycleModel
    results: xr.Dataset | None
    summary: pd.DataFrame
    deterministic: pd.DataFrame
    sobol: dict[str, xr.Dataset] | None = None
    catalog: Catalog | None = None
    convergence: xr.Dataset | None = None
    #: Exact Sobol' indices and Shapley effects per grouping
    #: (:func:`~uncertainty_footprint.analysis.exact.exact_indices`), None when the model is not separable (then
    #: only the sampled ``sobol`` exists).
    exact: dict[str, xr.Dataset] | None = None
    streamed: bool = False
    documents: bool = False
    #: What ``results.nc`` keeps per sample (:class:`EngineOptions` ``store``): ``footprint`` (footprints and
    #: totals), ``all`` (also the sampled inputs) or ``none`` (no results.nc).
    store: str = "footprint"
    #: Net balance, P(offset), payback time and fleet totals when the experiment has a ``benefit`` or ``fleet``
    #: (:func:`~uncertainty_footprint.analysis.balance.balance_analysis`).
    balance: BalanceResult | None = None


@dataclass(frozen=True)
class Prepared:
    """A validated experiment and its models, ready to run (:func:`prepare`).

    Attributes
    ----------
    experiment : Experiment
        With the command-line overrides applied.
    catalog : Catalog
    model : LifecycleModel
        The Monte Carlo model.
    published : LifecycleModel
        The published-method model of the deterministic table.
    """

    experiment: Experiment
    catalog: Catalog
    model: LifecycleModel
    published: LifecycleModel
    #: The balance model (footprint + benefit term) of an experiment with ``benefit`` or ``fleet``, else None.
    balance: BalanceModel | None = None

    @cached_property
    def exact(self) -> tuple[dict[str, xr.Dataset], pd.DataFrame] | None:
        """The exact indices by grouping and the exact moments of the total footprint
        (:func:`~uncertainty_footprint.analysis.exact.try_exact`, milliseconds; computed once), or None (one
        warning) when the model has no exact variance decomposition."""
        return try_exact(self.model, second_order=self.experiment.spec.sobol.second_order)

    @property
    def samples_sobol(self) -> bool:
        """The sampled Sobol' analysis of the total footprint runs: ``sobol.enabled``, an uncertain parameter, and
        ``sobol.method`` asks for it (:data:`SAMPLES_SOBOL`; ``auto``: only without an exact decomposition)."""
        so = self.experiment.spec.sobol
        return (so.enabled and bool(self.model.parameters.random_names)
                and SAMPLES_SOBOL[so.method](self.exact is not None))

    @property
    def samples_payback_sobol(self) -> bool:
        """The sampled indices of the payback time run: the experiment has a benefit, something is uncertain and
        ``sobol.method`` asks for it (the payback time has no exact decomposition, so ``auto`` samples it)."""
        so, balance = self.experiment.spec.sobol, self.balance
        return (balance is not None and balance.has_benefit and bool(balance.parameters.random_names)
                and so.enabled and SAMPLES_SOBOL[so.method](False))


def prepare(path: str | os.PathLike | Experiment, *, data_dir: str | os.PathLike | None = None,
            samples: int | None = None, seed: int | None = None, design: str | None = None,
            sobol: dict | None = None) -> Prepared:
    """Load and validate an experiment (a file, or an :class:`~uncertainty_footprint.inputs.experiment.Experiment`
    already in memory) with command-line overrides, and build its models (Monte Carlo, published method, and
    the balance model of an experiment with ``benefit`` or ``fleet``).

    ``sobol`` overrides options of the experiment's ``sobol`` section (``None`` values are ignored). Nothing is
    written. Raises :class:`~uncertainty_footprint.errors.ConfigError` on any invalid input.
    """
    catalog = load_catalog(data_dir)
    experiment = path if isinstance(path, Experiment) else load_experiment(path)
    experiment = experiment.with_options("sampling", samples=samples, seed=seed, design=design)
    if sobol:
        experiment = experiment.with_options("sobol", **sobol)
    model = build_model(experiment, catalog)
    published = build_model(experiment, catalog, published_method=True)
    return Prepared(experiment, catalog, model, published, build_balance(experiment, catalog, model))


def check_resources(prepared: Prepared, engine: EngineOptions = EngineOptions(),
                    chunk_size: int | None = None) -> None:
    """Refuse, before anything runs, a request whose memory need exceeds what is available
    (:func:`~uncertainty_footprint.analysis.resources.check_memory`; a
    :class:`~uncertainty_footprint.errors.ConfigError` with the estimate and the option that would fit)."""
    exp = prepared.experiment
    check_memory(prepared.model, exp, streams=engine.streams(exp.spec.sampling.samples), store=engine.store,
                 scheduler=engine.scheduler, task_rows=engine.task_rows, chunk_size=chunk_size,
                 sobol=prepared.samples_sobol,
                 payback=prepared.balance if prepared.samples_payback_sobol else None)


def _monte_carlo(experiment: Experiment, model: LifecycleModel, engine: EngineOptions, folder: Path | None,
                 chunk_size: int | None, progress) -> tuple[xr.Dataset | None, pd.DataFrame, bool]:
    """Run the Monte Carlo in memory or streaming; return (results, summary, streamed)."""
    s = experiment.spec.sampling
    extra = {"experiment_file": str(experiment.source), "application": experiment.spec.application or ""}
    if not engine.streams(s.samples):
        ds = run_monte_carlo(model, n=s.samples, design=s.design, seed=s.seed, chunk_size=chunk_size or EVAL_CHUNK,
                             experiment=experiment.name, config_sha256=experiment.sha256, progress=progress)
        ds.attrs.update(extra)
        return ds, summarize(ds), False
    from .streaming import stream_monte_carlo
    from .running_stats import relative_resolution

    store = engine.store if folder is not None else "none"
    attrs = {**results_attrs(model, experiment=experiment.name, seed=s.seed, design=s.design, n=s.samples,
                             config_sha256=experiment.sha256), **extra,
             "summary_quantiles": f"streaming histogram, relative error <= {relative_resolution():.2g}"}
    res = stream_monte_carlo(model, n=s.samples, design=s.design, seed=s.seed, chunk_size=chunk_size or EVAL_CHUNK,
                             task_rows=engine.task_rows, scheduler=engine.scheduler, address=engine.address,
                             store=store, path=None if store == "none" else Path(folder) / "results.nc",
                             attrs=attrs, progress=progress)
    ds = None if res.path is None else xr.open_dataset(res.path, chunks={"sample": engine.task_rows})
    return ds, res.summary, True


def run_experiment(path: str | os.PathLike | Experiment, *, data_dir=None, samples=None, seed=None, design=None,
                   sobol: dict | None = None, chunk_size: int | None = None, convergence: bool = False,
                   engine: EngineOptions = EngineOptions(), folder: str | os.PathLike | None = None,
                   progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run an experiment: :func:`prepare` then :func:`run_prepared` (see there)."""
    prepared = prepare(path, data_dir=data_dir, samples=samples, seed=seed, design=design, sobol=sobol)
    return run_prepared(prepared, chunk_size=chunk_size, convergence=convergence, engine=engine, folder=folder,
                        progress=progress)


def run_prepared(prepared: Prepared, *, chunk_size: int | None = None, convergence: bool = False,
                 engine: EngineOptions = EngineOptions(), folder: str | os.PathLike | None = None,
                 progress: Callable[[int, int], None] | None = None) -> RunResult:
    """Run a prepared experiment: Monte Carlo, summary and deterministic tables, and (unless the experiment's or
    the ``sobol`` overrides' ``enabled`` is false) the Sobol' hotspot analysis; with ``convergence``, also the
    component indices at smaller base samples for the convergence figure.

    A request whose memory need exceeds what is available is refused first (:func:`check_resources`).
    Nothing is written, except by a streaming run (see :class:`EngineOptions`), which writes ``results.nc``
    into ``folder`` as it goes; its ``results`` is then the dask-backed Dataset of that file (or ``None`` with
    ``store='none'``)."""
    check_resources(prepared, engine, chunk_size)
    experiment, catalog, model = prepared.experiment, prepared.catalog, prepared.model
    s = experiment.spec.sampling
    ds, summary, streamed = _monte_carlo(experiment, model, engine, None if folder is None else Path(folder),
                                         chunk_size, progress)
    result = RunResult(experiment, model, ds, summary, deterministic_table(prepared.published), catalog=catalog,
                       streamed=streamed, store=engine.store)
    so = experiment.spec.sobol
    exact = prepared.exact  # milliseconds; None (one warning) if not separable
    if exact is not None:
        result.exact, exact_moments = exact
        result.summary = result.summary.join(exact_moments)
        stamp = provenance(experiment=experiment.name, seed=0, design="exact", config_sha256=experiment.sha256,
                           model_sha256=model.fingerprint())
        for eds in result.exact.values():
            eds.attrs.update(stamp)
    if prepared.samples_sobol:
        result.sobol = hotspot_analysis(model, n_base=so.samples, seed=so.seed or s.seed,
                                        groupings=so.groupings, calc_second_order=so.second_order,
                                        conf_level=so.conf_level, num_resamples=so.num_resamples,
                                        chunk_size=chunk_size or EVAL_CHUNK, progress=progress)
        stamp = provenance(experiment=experiment.name, seed=so.seed or s.seed, design="saltelli",
                           config_sha256=experiment.sha256, model_sha256=model.fingerprint())
        for sds in result.sobol.values():
            sds.attrs.update(stamp)
        if convergence and "component" in so.groupings:
            result.convergence = st_convergence(model, n_base=so.samples, seed=so.seed or s.seed,
                                                conf_level=so.conf_level, num_resamples=so.num_resamples,
                                                chunk_size=chunk_size or EVAL_CHUNK)
    if prepared.balance is not None:  # adds net_balance, payback_years (, fleet_*) to an in-memory results
        result.balance = balance_analysis(
            prepared.balance, None if streamed else ds, n=s.samples, design=s.design, seed=s.seed,
            groupings=so.groupings, sobol_samples=so.samples if prepared.samples_payback_sobol else None,
            sobol_seed=so.seed or s.seed,
            conf_level=so.conf_level, num_resamples=so.num_resamples, chunk_size=chunk_size or EVAL_CHUNK)
    return result
