"""The engine: one experiment in, one immutable :class:`Result` out (plain numbers and labelled arrays; no files).

:func:`compute` runs, in this order: the Monte Carlo (in memory, or streamed with dask into a caller's sink),
the summary and deterministic tables, the exact variance decomposition (closed form, where the model has one),
the sampled Sobol' analysis (where ``sobol.method`` asks for it), and the balance of an experiment with a
``benefit`` or ``fleet``. What is computed is decided here and nowhere else; writing files, stamping provenance and
drawing are the callers' (:mod:`uncertainty_footprint.api`, :mod:`uncertainty_footprint.io`,
:mod:`uncertainty_footprint.reports`).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import pandas as pd
import xarray as xr

from ..display import FactsDisplay
from ..errors import ConfigError
from ..inputs.schema import GROUPINGS
from ..model.experiment import Experiment
from ..inputs.choices import SCHEDULERS, STORE_MODES
from .dependence import DependenceResult, dependence_analysis
from .exact import try_exact
from .hotspots import hotspot_analysis, indices_table, st_convergence
from .method_runs import method_table
from .payback import BalanceResult, balance_analysis
from .propagate import run_monte_carlo
from .resources import check_memory
from .sizes import EVAL_CHUNK, IN_MEMORY_MAX, RESULTS_FORMATS, TASK_ROWS
from .summary import deterministic_table, summarize

__all__ = ["EngineOptions", "Result", "compute", "check_resources", "samples_sobol", "samples_payback_sobol",
           "SAMPLES_SOBOL", "IN_MEMORY_MAX"]

#: ``sobol.method`` -> whether the sampled (Saltelli) analysis of an output runs, given whether that output has an
#: exact variance decomposition (:mod:`uncertainty_footprint.analysis.exact`).
SAMPLES_SOBOL: dict[str, Callable[[bool], bool]] = {
    "auto": lambda has_exact: not has_exact,
    "sampled": lambda has_exact: True,
    "exact": lambda has_exact: False,
}


@dataclass(frozen=True)
class EngineOptions:
    """How the Monte Carlo runs (never what it computes: the numbers do not depend on these).

    Attributes
    ----------
    stream : bool or None
        Stream with bounded memory (:mod:`uncertainty_footprint.analysis.streaming`); None: when the sample count
        exceeds :data:`IN_MEMORY_MAX` or a scheduler or cluster address is given.
    scheduler : {'synchronous', 'threads', 'processes'} or None
        Local dask scheduler of a streaming run (default threads).
    address : str or None
        A ``dask.distributed`` scheduler, ``tcp://host:port``.
    store : {'footprint', 'all', 'none'}
        What ``results.nc`` keeps per sample: footprints and totals (default), also the sampled inputs (which a
        rerun with the same seed regenerates exactly), or nothing (no results.nc).
    format : {'netcdf', 'zarr'}
        Where the per-sample results go: ``results.nc`` (default; one file, written by the calling process) or
        ``results.zarr`` (a Zarr store that the tasks of a streaming run write in parallel, on a cluster's
        workers too). The same values either way.
    task_rows : int
        Rows per streaming task [rows].
    chunk_size : int or None
        Rows evaluated at once [rows] (memory only; default
        :data:`~uncertainty_footprint.analysis.sizes.EVAL_CHUNK`).
    """

    stream: bool | None = None
    scheduler: str | None = None
    address: str | None = None
    store: str = "footprint"
    task_rows: int = TASK_ROWS
    chunk_size: int | None = None
    format: str = "netcdf"

    def __post_init__(self):
        if self.store not in STORE_MODES:
            raise ConfigError("EngineOptions", "store", f"got {self.store!r}; allowed: {', '.join(STORE_MODES)}")
        if self.format not in RESULTS_FORMATS:
            raise ConfigError("EngineOptions", "format", f"got {self.format!r}; allowed: {', '.join(RESULTS_FORMATS)}")
        if self.scheduler is not None and self.scheduler not in SCHEDULERS:
            raise ConfigError("EngineOptions", "scheduler", f"got {self.scheduler!r}; allowed: "
                              f"{', '.join(SCHEDULERS)} (or a cluster's address)")
        for name in ("task_rows", "chunk_size"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ConfigError("EngineOptions", name, f"expected a positive integer, got {value!r}")

    def streams(self, n: int) -> bool:
        """Whether a run of ``n`` samples streams."""
        if self.stream is not None:
            return self.stream
        return n > IN_MEMORY_MAX or self.scheduler is not None or self.address is not None

    @property
    def chunk(self) -> int:
        """Rows evaluated at once [rows]."""
        return self.chunk_size or EVAL_CHUNK


@dataclass(frozen=True, eq=False, repr=False)
class Result(FactsDisplay):
    """What a run produced: the one result of :func:`compute` (and of :func:`uncertainty_footprint.api.run`).

    Attributes
    ----------
    experiment : Experiment
        The experiment as run (with the run's overrides); :meth:`Experiment.to_yaml` of it reproduces the run.
    summary : pandas.DataFrame
        Per component, stage and the total: mean, sd, median, 2.5/5/95/97.5 % quantiles [kg CO2-eq], share of the
        mean [-], and the exact mean and sd [kg CO2-eq] where the model has an exact decomposition
        (``summary.csv``).
    deterministic : pandas.DataFrame
        The published method's lower, typical and upper values per component [kg CO2-eq] (``deterministic.csv``).
    results : xarray.Dataset or None
        Per-sample ``footprint(sample, component)``, ``total(sample)`` [kg CO2-eq] and ``inputs(sample,
        parameter)`` (each in its parameter's unit), with the balance's per-sample variables; backed by the
        written ``results.nc`` after a streaming run that kept it, None after one that did not.
    exact : dict of str to xarray.Dataset or None
        Exact Sobol' indices and Shapley effects per grouping (``parameter``, ``component``, ``stage``): ``S1``,
        ``ST``, ``shapley`` [-], ``remaining_sd`` [kg CO2-eq]; None when the model is not separable.
    sobol : dict of str to xarray.Dataset or None
        Sampled Sobol' indices per grouping: ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` [-] (``S2`` with second
        order); None when not sampled.
    convergence : xarray.Dataset or None
        Component ST at smaller base samples (the convergence figure), when asked for and sampled.
    balance : BalanceResult or None
        With a ``benefit`` or ``fleet``: net balance, P(offset), payback time, fleet totals and their indices.
    methods : pandas.DataFrame or None
        With ``methods``: every component, stage and the total by each method alone and for the ``mixture``
        (columns ``name, method, mean, median, p5, p95`` [kg CO2-eq]; ``methods.csv``,
        :func:`~uncertainty_footprint.analysis.method_runs.method_table`).
    dependence : DependenceResult or None
        With ``correlations``: the Shapley hotspots per grouping, the achieved correlations beside the targets and
        the summary without the correlations (:mod:`~uncertainty_footprint.analysis.dependence`).
    streamed : bool
        The Monte Carlo streamed (percentiles from a histogram).
    store : str
        What ``results.nc`` keeps per sample (:class:`EngineOptions`).
    folder : Path or None
        The results folder, when one was written.
    documents : bool
        Figures and reports were written into ``folder``.
    """

    experiment: Experiment
    summary: pd.DataFrame
    deterministic: pd.DataFrame
    results: xr.Dataset | None = None
    exact: Mapping[str, xr.Dataset] | None = None
    sobol: Mapping[str, xr.Dataset] | None = None
    convergence: xr.Dataset | None = None
    balance: BalanceResult | None = None
    methods: pd.DataFrame | None = None
    dependence: DependenceResult | None = None
    streamed: bool = False
    store: str = "footprint"
    folder: Path | None = None
    documents: bool = False

    # -- derived
    model = property(lambda self: self.experiment.model, doc="The Monte Carlo model (LifecycleModel).")
    catalog = property(lambda self: self.experiment.catalog, doc="The data catalog the experiment was built from.")

    def replace(self, **changes) -> "Result":
        """A copy with fields changed (:func:`dataclasses.replace`)."""
        return dataclasses.replace(self, **changes)

    def indices(self, by: str = "component", kind: str = "exact") -> xr.Dataset | None:
        """The indices of one grouping as a Dataset (``kind`` ``exact``: S1, ST, shapley, remaining_sd;
        ``sampled``: S1, S1_conf, ST, ST_conf; ``shapley``: the Shapley effects of a run with correlated inputs,
        shapley, conf_low, conf_high), or None when the run has none.

        >>> from uncertainty_footprint import run
        >>> run("kws", samples=100, sobol=False).indices("stage")["shapley"].dims
        ('group',)
        """
        if kind not in ("exact", "sampled", "shapley"):
            raise ConfigError("Result.indices", "kind", f"got {kind!r}; allowed: exact, sampled, shapley")
        found = {"exact": self.exact, "sampled": self.sobol,
                 "shapley": self.dependence.shapley if self.dependence is not None else None}[kind]
        return (found or {}).get(by)

    def hotspots(self, by: str = "component") -> pd.DataFrame:
        """The hotspot table of one grouping, ranked by total-effect index: exact ``S1``, ``ST``, ``shapley``
        [-] and, when the run sampled them, ``S1_sampled``, ``ST_sampled`` with their confidence half-widths
        ``*_conf`` [-]; for a run with correlated inputs, ranked by Shapley effect: ``shapley``, ``conf_low``,
        ``conf_high`` [-].

        Parameters
        ----------
        by : {'component', 'parameter', 'stage'}

        Examples
        --------
        >>> from uncertainty_footprint import run
        >>> run("kws", samples=100, sobol=False).hotspots("component").index[0]
        'power_supply'
        """
        if by not in GROUPINGS:
            raise ConfigError("Result.hotspots", "by", f"unknown grouping {by!r}; allowed: {', '.join(GROUPINGS)}")
        shapley = self.indices(by, "shapley")
        if shapley is not None:  # correlated inputs: the Shapley effects with their intervals
            dim = shapley["shapley"].dims[0]
            table = pd.DataFrame({k: shapley[k].values for k in ("shapley", "conf_low", "conf_high")},
                                 index=pd.Index([str(v) for v in shapley[dim].values], name="name"))
            return table.sort_values("shapley", ascending=False, kind="stable")
        frames = []
        if self.exact and by in self.exact:
            ds = self.exact[by]
            dim = ds["ST"].dims[0]
            frames.append(pd.DataFrame({k: ds[k].values for k in ("S1", "ST", "shapley")},
                                       index=pd.Index([str(v) for v in ds[dim].values], name="name")))
        if self.sobol and by in self.sobol:
            t = indices_table(self.sobol[by])
            t.index.name = "name"
            frames.append(t.rename(columns=lambda c: c.replace("S1", "S1_sampled").replace("ST", "ST_sampled")))
        if not frames:
            raise ConfigError("Result.hotspots", "by", f"this run has no indices by {by}")
        table = pd.concat(frames, axis=1)
        return table.sort_values("ST" if "ST" in table else "ST_sampled", ascending=False, kind="stable")

    def need_results(self, what: str = "Result") -> xr.Dataset:
        """The per-sample results, or a :class:`~uncertainty_footprint.errors.ConfigError` naming ``what`` when
        this streaming run kept none."""
        if self.results is None:
            raise ConfigError(what, "results", "this streaming run kept no per-sample data: run with out= and "
                              "store='footprint' (or a smaller sample in memory)")
        return self.results

    def to_inferencedata(self):
        """The per-sample results as ArviZ ``InferenceData`` (needs ``arviz``, the ``arviz`` extra).

        The ``posterior`` group holds ``total`` (chain, draw) and ``footprint`` (chain, draw, component)
        [kg CO2-eq] with the Monte Carlo samples as draws of chain 0; the inputs are in the ``prior`` group
        (``inputs`` (chain, draw, parameter), in each parameter's unit, coordinate ``unit``). ``az.summary`` and
        ``az.plot_*`` work on it; the samples are independent draws (a Latin hypercube is not a Markov chain, so
        ``r_hat`` and ``ess`` are not diagnostics here).
        """
        try:
            import arviz as az
        except ImportError:
            raise ConfigError("to_inferencedata", "", "needs the arviz package: pip install "
                              "'uncertainty_footprint[arviz]'") from None
        import numpy as np

        ds = self.need_results("to_inferencedata")
        comps = [str(c) for c in ds["component"].values]
        posterior = {"total": np.asarray(ds["total"].values)[None, :],
                     "footprint": np.asarray(ds["footprint"].values)[None, :, :]}
        dims = {"footprint": ["component"]}
        coords = {"component": comps}
        prior = None
        if "inputs" in ds:
            params = [str(p) for p in ds["parameter"].values]
            prior = {"inputs": np.asarray(ds["inputs"].values)[None, :, :]}
            dims["inputs"] = ["parameter"]
            coords["parameter"] = params
        s = self.experiment.spec.sampling
        idata = az.from_dict(posterior=posterior, prior=prior, coords=coords, dims=dims,
                             attrs={"experiment": self.experiment.name, "seed": s.seed, "design": s.design,
                                    "config_sha256": self.experiment.sha256})
        idata.posterior["total"].attrs.update({"units": "kg CO2-eq", "long_name": "total footprint"})
        idata.posterior["footprint"].attrs.update({"units": "kg CO2-eq", "long_name": "footprint per component"})
        if prior is not None:
            units = [str(u) for u in ds["unit"].values] if "unit" in ds.coords else [""] * len(coords["parameter"])
            idata.prior = idata.prior.assign_coords(unit=("parameter", units))
        return idata

    # -- display
    def _facts(self) -> list[tuple[str, str]]:
        t = self.summary.loc["total"]
        s = self.experiment.spec
        rows = [("experiment", self.experiment.name),
                ("samples", f"{s.sampling.samples} ({s.sampling.design}, seed {s.sampling.seed})"),
                ("total", f"median {t['median']:.3g} kg CO2-eq, 90 % interval {t['p5']:.3g} - {t['p95']:.3g}, "
                          f"mean {t['mean']:.3g}")]
        try:
            top = self.hotspots("component").head(3)
            key = next(k for k in ("ST", "ST_sampled", "shapley") if k in top)
            rows.append((f"hotspots ({key})", ", ".join(f"{n} {v:.2f}" for n, v in top[key].items())))
        except ConfigError:
            pass
        if self.folder is not None:
            rows.append(("folder", str(self.folder)))
        return rows

    def _html_extra(self) -> str:
        return self.summary[["median", "p5", "p95", "mean", "share"]].to_html(float_format="{:.3g}".format)


def samples_sobol(experiment: Experiment, has_exact: bool) -> bool:
    """The sampled Sobol' analysis of the total footprint runs: ``sobol.enabled``, an uncertain parameter,
    independent inputs (with correlations the hotspots are Shapley effects) and ``sobol.method`` asks for it
    (:data:`SAMPLES_SOBOL`; ``auto``: only without an exact decomposition)."""
    so, ps = experiment.spec.sobol, experiment.model.parameters
    return so.enabled and bool(ps.random_names) and not ps.dependent and SAMPLES_SOBOL[so.method](has_exact)


def samples_payback_sobol(experiment: Experiment) -> bool:
    """The sampled indices of the payback time run: the experiment has a benefit, something is uncertain and
    ``sobol.method`` asks for it (the payback time has no exact decomposition, so ``auto`` samples it)."""
    so, balance = experiment.spec.sobol, experiment.balance_model
    return (balance is not None and balance.has_benefit and bool(balance.parameters.random_names)
            and not balance.parameters.dependent and so.enabled and SAMPLES_SOBOL[so.method](False))


def check_resources(experiment: Experiment, engine: EngineOptions = EngineOptions(), *,
                    has_exact: bool | None = None) -> None:
    """Refuse, before anything runs, a request whose memory need exceeds what is available
    (:func:`~uncertainty_footprint.analysis.resources.check_memory`; a
    :class:`~uncertainty_footprint.errors.ConfigError` with the estimate and the option that would fit).
    ``has_exact``: whether the model has an exact decomposition (computed when not given)."""
    if has_exact is None:
        has_exact = _exact(experiment) is not None
    check_memory(experiment.model, experiment, streams=engine.streams(experiment.spec.sampling.samples),
                 store=engine.store, scheduler=engine.scheduler, task_rows=engine.task_rows,
                 chunk_size=engine.chunk_size, sobol=samples_sobol(experiment, has_exact),
                 payback=experiment.balance_model if samples_payback_sobol(experiment) else None)


def _exact(experiment: Experiment):
    """The exact indices and moments (:func:`~uncertainty_footprint.analysis.exact.try_exact`), or None."""
    return try_exact(experiment.model, second_order=experiment.spec.sobol.second_order)


def compute(experiment: Experiment, engine: EngineOptions = EngineOptions(), *, convergence: bool = False,
            sink=None, progress: Callable[[int, int], None] | None = None) -> Result:
    """Run an experiment as its ``sampling`` and ``sobol`` sections say.

    Parameters
    ----------
    experiment : Experiment
        Validated, with its models (:class:`~uncertainty_footprint.model.experiment.Experiment`).
    engine : EngineOptions
        How the Monte Carlo runs (in memory or streamed; never changes the numbers).
    convergence : bool
        Also the component indices at smaller base samples, for the convergence figure (with sampled indices).
    sink : object, optional
        Where a streaming run writes its per-sample arrays (e.g.
        :class:`uncertainty_footprint.io.netcdf.ResultsFile`): ``create(skeleton)``, ``write(start, stop,
        footprint, inputs)``, ``close()``. Without one a streaming run keeps no per-sample data (``results`` is
        None; the caller opens what the sink wrote).
    progress : callable, optional
        ``progress(done, total)`` [samples].

    Returns
    -------
    Result

    Raises
    ------
    ConfigError
        A request that does not fit in memory (checked first, before anything runs).
    """
    exact = _exact(experiment)  # milliseconds; None (one warning) if not separable
    check_resources(experiment, engine, has_exact=exact is not None)
    model, s, so = experiment.model, experiment.spec.sampling, experiment.spec.sobol
    streamed = engine.streams(s.samples)
    if not streamed:
        results = run_monte_carlo(model, n=s.samples, design=s.design, seed=s.seed, chunk_size=engine.chunk,
                                  progress=progress)
        summary = summarize(results)
    else:
        from .streaming import stream_monte_carlo

        res = stream_monte_carlo(model, n=s.samples, design=s.design, seed=s.seed, chunk_size=engine.chunk,
                                 task_rows=engine.task_rows, scheduler=engine.scheduler, address=engine.address,
                                 store=engine.store if sink is not None else "none", sink=sink, progress=progress)
        results, summary = None, res.summary
    exact_indices = None
    if exact is not None:
        exact_indices, exact_moments = exact
        summary = summary.join(exact_moments)
    sobol = conv = None
    seed = so.seed or s.seed
    if samples_sobol(experiment, exact is not None):
        sobol = hotspot_analysis(model, n_base=so.samples, seed=seed, groupings=so.groupings,
                                 calc_second_order=so.second_order, conf_level=so.conf_level,
                                 num_resamples=so.num_resamples, chunk_size=engine.chunk, progress=progress)
        if convergence and "component" in so.groupings:
            conv = st_convergence(model, n_base=so.samples, seed=seed, conf_level=so.conf_level,
                                  num_resamples=so.num_resamples, chunk_size=engine.chunk)
    balance = None
    sh = experiment.spec.shapley
    if experiment.balance_model is not None:  # adds net_balance, payback_years (, fleet_*) to in-memory results
        balance = balance_analysis(
            experiment.balance_model, results, n=s.samples, design=s.design, seed=s.seed, groupings=so.groupings,
            sobol_samples=so.samples if samples_payback_sobol(experiment) else None, sobol_seed=seed,
            conf_level=so.conf_level, num_resamples=so.num_resamples, chunk_size=engine.chunk,
            shapley=dict(permutations=sh.permutations, inner=sh.inner, bootstrap=sh.bootstrap, seed=seed)
            if so.enabled else None)
    methods = method_table(model, summary, n=s.samples, design=s.design, seed=s.seed, chunk_size=engine.chunk)
    dependence = dependence_analysis(model, n=s.samples, design=s.design, seed=s.seed, shapley_seed=seed,
                                     permutations=sh.permutations, inner=sh.inner, bootstrap=sh.bootstrap,
                                     conf_level=so.conf_level, groupings=so.groupings, hotspots=so.enabled,
                                     chunk_size=engine.chunk)
    return Result(experiment, summary, deterministic_table(experiment.published_model), results, exact_indices,
                  sobol, conv, balance, methods, dependence, streamed, engine.store)
