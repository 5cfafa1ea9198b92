"""Drawing a run's figures: the plan (which figures, from which data) and the processes that draw them.

:func:`figure_plan` lists the figures of a run (name -> :class:`PlannedFigure`, a call of a plotting function of
:mod:`uncertainty_footprint.reports.figures` with its data). :func:`start_figures` hands them, in the plan's order,
to a :class:`concurrent.futures.ProcessPoolExecutor` of processes forked from this one (one per usable CPU, at
most :data:`MAX_FIGURE_JOBS`; they inherit the data and the plan, only names go to them and the PNG and PDF bytes
come back) while the caller goes on (the run's tables are written meanwhile); the caller's process writes every
file, in the plan's order. Why processes: drawing and encoding the six figures of a run costs several times the
Monte Carlo itself, and matplotlib holds the GIL while it draws, so threads would not overlap (the start-up
benchmark, ``benchmarks/startup_benchmark.py``, measures the difference).

The bytes are those of drawing inline, which happens with one job, one figure, no ``fork`` (or macOS, where it is
not safe) or another thread alive (:func:`figure_jobs`). A failing figure is drawn again inline, so that its
exception (and message) is the one of the inline path; a drawing process that is killed gives
:class:`FigureProcessError`. This module imports no plotting library: matplotlib is imported by whichever process
draws.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import sys
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import xarray as xr

from ..analysis.convergence import running_statistics
from .document import component_titles, published_label, resolve_published

__all__ = ["figure_plan", "balance_plan", "write_figures", "write_documents", "start_figures", "PendingFigures", "PlannedFigure",
           "figure_jobs", "usable_cpus", "FigureProcessError", "MAX_FIGURE_JOBS", "BALANCE_FIGURE",
           "METHODS_FIGURE"]

#: Name of the methods figure (``figures/methods.png`` and ``.pdf``), drawn for a run with methods.
METHODS_FIGURE = "methods"
#: Name of the balance figure (``figures/balance.png`` and ``.pdf``).
BALANCE_FIGURE = "balance"


def _figures():
    """The plotting module (imports matplotlib)."""
    from . import figures

    return figures


@dataclass(frozen=True)
class PlannedFigure:
    """A figure of a plan: calling it calls ``function`` (a name in the module ``module()`` returns) with
    ``args`` and ``kwargs`` and returns the :class:`matplotlib.figure.Figure`. The function is looked up when
    the figure is drawn, in the process that draws it."""

    module: Callable[[], Any]
    function: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __call__(self):
        return getattr(self.module(), self.function)(*self.args, **self.kwargs)


def _method_components(result) -> dict[str, list[str]]:
    """Component -> its methods, for the components that several methods compute."""
    from ..analysis.method_runs import method_choices

    return {c: list(m) for c, (_, m) in method_choices(result.experiment.model).items() if len(m) > 1}


def _planned(function: str, *args, **kwargs) -> PlannedFigure:
    return PlannedFigure(_figures, function, args, kwargs)


def figure_plan(result, sobol: Mapping[str, xr.Dataset] | None = None, convergence: xr.Dataset | None = None, *,
                published: Any = None, catalog=None) -> dict[str, PlannedFigure]:
    """The figures of a run: name -> a :class:`PlannedFigure` that builds the figure (see :func:`write_figures`),
    in the order the report shows them. Making the plan imports no plotting library."""
    ds, summary = result.results.drop_vars("inputs", errors="ignore"), result.summary  # no figure draws inputs
    column, _ = resolve_published(result.experiment.spec.application, published, catalog)
    pub_total = float(column["total"]) if column is not None and "total" in column.index else None
    pub_label = published_label(column, published)
    pub_components = column.drop("total", errors="ignore") if column is not None and len(column) > 1 else None
    titles = component_titles(ds) or None
    conv = convergence if convergence is not None else running_statistics(ds["total"].values)
    indices = sobol or getattr(result, "exact", None)  # the sampled estimates, else the exact indices
    second = next((g for g in ("component", "parameter", "stage") if g in (indices or {}) and "S2" in indices[g]),
                  None)
    pub = {"published": pub_components, "published_label": pub_label}
    plan = {
        "total_distribution": _planned("plot_total_distribution", ds, pub_total, published_label=pub_label),
        "component_intervals": _planned("plot_component_intervals", summary, titles=titles, **pub),
        "component_intervals_log": _planned("plot_component_intervals", summary, log=True, titles=titles, **pub),
        "comparison_stacked": _planned("plot_comparison_stacked", summary, ds, published=pub_total,
                                       published_label=pub_label),
        "sobol_indices": _planned("plot_sobol_indices", indices, titles=titles) if indices else None,
        "second_order": _planned("plot_second_order", indices[second],
                                 titles=titles if second == "component" else None) if second else None,
        "convergence": _planned("plot_convergence", conv),
        METHODS_FIGURE: _planned("plot_methods", result.methods, _method_components(result), titles=titles)
        if getattr(result, "methods", None) is not None else None,
    }
    return {name: plot for name, plot in plan.items() if plot is not None}


def balance_plan(result) -> dict[str, PlannedFigure]:
    """The balance figure of a run as a figure plan entry (see :func:`figure_plan`): ``{BALANCE_FIGURE: figure}``
    (:func:`~uncertainty_footprint.reports.figures.plot_balance`) when the run's
    :class:`~uncertainty_footprint.analysis.payback.BalanceResult` has a benefit, else empty (a fleet without
    benefit, or no balance)."""
    if result is None or result.net_balance is None:
        return {}
    return {BALANCE_FIGURE: _planned("plot_balance", result)}


def write_figures(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                  convergence: xr.Dataset | None = None, *, published: Any = None, catalog=None,
                  jobs: int | None = None) -> list[Path]:
    """Write every figure of a run into ``folder/figures/`` (PNG and PDF each), drawing them in parallel.

    Parameters
    ----------
    result : Result
        A run (:class:`~uncertainty_footprint.analysis.engine.Result`).
    folder : path
        Output folder of the run.
    sobol : mapping of str to xarray.Dataset, optional
        Sampled Sobol' results by grouping; without them the Sobol' figure draws ``result.exact`` (the exact
        indices), and is skipped when the run has neither.
    convergence : xarray.Dataset, optional
        See :func:`~uncertainty_footprint.reports.figures.plot_convergence`; by default the running statistics of ``result.results['total']``.
    published : DataFrame, Series or float, optional
        Published values (see :func:`~uncertainty_footprint.reports.document.published_column`); by default the
        table of ``catalog`` (or of the default catalog) for the run's application.
    catalog : Catalog, optional
    jobs : int, optional
        Processes drawing the figures (see :func:`figure_jobs`); 1 draws them one after the other in this
        process. The files are the same either way.

    Returns
    -------
    list of Path
        ``name.png`` and ``name.pdf`` of each figure: ``total_distribution``, ``component_intervals`` (with the
        published per-component values), ``component_intervals_log``, ``comparison_stacked``,
        ``sobol_indices`` (the sampled ``sobol``, else the exact indices), ``second_order`` (when those hold
        S2: by component, else by parameter or stage) and ``convergence``.
    """
    plan = figure_plan(result, sobol, convergence, published=published, catalog=catalog)
    with start_figures(plan, Path(folder) / "figures", jobs=jobs, data=result.results) as pending:
        return pending.wait()


# ------------------------------------------------------------------------------------------------------------
# Drawing in parallel
# ------------------------------------------------------------------------------------------------------------

#: Most processes that draw the figures of a run at once.
MAX_FIGURE_JOBS = 3
#: Platforms where forking a process that has loaded system frameworks is unsafe (CPython's default there is
#: ``spawn``): figures are drawn inline.
_FORK_UNSAFE_PLATFORMS = ("darwin",)
#: Signals a drawing process takes with their default action (it ends at once): it never runs the parent's
#: handlers (which remove the unfinished outputs and report on the terminal).
_WORKER_SIGNALS = tuple(getattr(signal, s) for s in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, s))


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def figure_jobs(jobs: int | None, count: int) -> int:
    """How many processes draw ``count`` figures; 1 means in this process, one after the other.

    Parameters
    ----------
    jobs : int or None
        Processes asked for; None: the usable CPUs (:func:`usable_cpus`), at most :data:`MAX_FIGURE_JOBS`.
    count : int
        Number of figures (never more processes than figures).

    Returns
    -------
    int
        1 when ``jobs`` is 1, when there are fewer than two figures, when ``jobs`` is None and fewer than two
        CPUs are usable, when the ``fork`` start method is not available or not safe (macOS; the drawing
        processes inherit the data and the plan instead of receiving them pickled) or when other threads run in
        this process (a thread may hold a lock that a forked child would wait for forever); else
        ``min(jobs, count)``.
    """
    if jobs is not None and (isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1):
        raise ValueError(f"jobs must be a positive integer or None, got {jobs!r}")
    if jobs is None:
        jobs = min(usable_cpus(), MAX_FIGURE_JOBS)
    if jobs < 2 or count < 2 or threading.active_count() > 1:
        return 1
    if "fork" not in multiprocessing.get_all_start_methods() or sys.platform in _FORK_UNSAFE_PLATFORMS:
        return 1
    return min(jobs, count)


class FigureProcessError(OSError):
    """A process drawing figures ended without its figures (killed, e.g. by the out-of-memory killer): the
    environment failed (an :class:`OSError`, so the command line reports it on one line with exit status 1).
    ``filename`` is the figures' folder; the text is the first argument alone."""

    def __str__(self) -> str:
        return str(self.args[0]) if self.args else ""


_PLAN: Mapping[str, Callable[[], Any]] = {}  # in a drawing process: the plan it inherited


def _start_worker(plan: Mapping[str, Callable[[], Any]]) -> None:
    """Set up a drawing process (forked: ``plan`` is inherited, not pickled): default signal actions, and an end
    when the parent process ends (it may be ended by a signal without unwinding)."""
    global _PLAN
    _PLAN = plan
    for signum in _WORKER_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    parent = multiprocessing.parent_process()
    if parent is not None:
        threading.Thread(target=_end_with, args=(parent.sentinel,), daemon=True).start()


def _end_with(sentinel: int) -> None:
    """Wait until the parent process has ended, then end this process at once."""
    from multiprocessing.connection import wait

    wait([sentinel])
    os._exit(1)


def _write_files(folder: Path, name: str, files: tuple[bytes, bytes]) -> list[Path]:
    """Write the PNG and PDF bytes of figure ``name`` into ``folder`` (created if missing); both paths."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = [folder / f"{name}.png", folder / f"{name}.pdf"]
    for path, data in zip(paths, files):
        path.write_bytes(data)
    return paths


def _files(plot: Callable[[], Any]) -> tuple[bytes, bytes]:
    """The PNG and PDF bytes of the figure ``plot`` builds (:func:`~uncertainty_footprint.reports.figures.
    save_figure`); imports the plotting code."""
    return _figures().figure_files(plot())


def _draw_planned(name: str) -> tuple[bytes, bytes]:
    """In a drawing process: the PNG and PDF bytes of figure ``name`` of the inherited plan."""
    return _files(_PLAN[name])


def start_figures(plan: Mapping[str, Callable[[], Any]], folder: str | os.PathLike, *, jobs: int | None = None,
                  data: xr.Dataset | None = None) -> "PendingFigures":
    """Start drawing the figures of ``plan`` (name -> function building the figure) for ``folder``.

    Use the result as a context manager and call :meth:`PendingFigures.wait` in it: the figures are drawn by
    :func:`figure_jobs` processes, forked now, while the caller goes on (e.g. writes the tables); ``wait`` writes
    the files, in the order of ``plan``, and returns their paths. With one job nothing happens until ``wait``,
    which then draws and writes them one after the other. ``data``: the Dataset the plan reads; one backed by a
    file (a streaming run) is drawn in this process, since a forked child must not share the open file.
    """
    if data is not None and data.chunks:
        jobs = 1
    return PendingFigures(plan, Path(folder), figure_jobs(jobs, len(plan)))


class PendingFigures:
    """Figures being drawn (:func:`start_figures`); a context manager: leaving it stops the drawing processes.

    The parent process writes every file: a drawing process only returns the bytes, so it never touches the
    output folder (an error while writing arises where it does with one job, and nothing is written after the
    caller has given up). A figure whose process raised is drawn again in this process, which raises the same
    exception with its own traceback (or writes the figure): the same message and exit status as with one job.
    A process that ended without its figures (killed) gives a :class:`FigureProcessError`.
    """

    def __init__(self, plan: Mapping[str, Callable[[], Any]], folder: Path, jobs: int):
        self.plan, self.folder, self.jobs = dict(plan), folder, jobs
        self._futures: dict = {}
        self._processes: dict = {}
        self._executor = None
        if jobs > 1:
            self._start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor

        for stream in (sys.stdout, sys.stderr):  # a child must not write the parent's buffered text again
            try:
                stream.flush()
            except (OSError, ValueError, AttributeError):
                pass
        self._executor = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_start_worker, initargs=(self.plan,))
        try:
            for name in self.plan:
                self._futures[name] = self._executor.submit(_draw_planned, name)  # the first one forks
        except OSError:  # no process could be made (e.g. a limit on processes): drawn here, one after the other
            self.close()
            self._futures, self.jobs = {}, 1

    def wait(self) -> list[Path]:
        """Write every figure into the folder (waiting for the drawing processes); return the paths (``png``,
        ``pdf`` of each figure, in the order of the plan)."""
        paths: list[Path] = []
        for name in self.plan:
            files = self._drawn(name) if self._executor is not None else None
            paths += _write_files(self.folder, name, files if files is not None else _files(self.plan[name]))
        self.close()
        return paths

    def _drawn(self, name: str) -> tuple[bytes, bytes] | None:
        """The files a process drew, or None when it raised (the figure is then drawn here)."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._futures[name].result()
        except BrokenProcessPool:
            error = FigureProcessError("a process drawing the figures ended unexpectedly (killed, e.g. for want of "
                                       "memory, or ended by a failure of its own)")
            error.filename = str(self.folder)
            raise error from None
        except Exception:  # noqa: BLE001 - drawn again here: the same exception, raised where it was raised
            return None

    def close(self) -> None:
        """Stop the drawing: figures not started are cancelled, those being drawn are finished (a process is
        never killed while it sends its result), and the processes end."""
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "PendingFigures":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def write_documents(result, folder: Path, note: Callable[[str], None] = lambda what: None, *,
                    meanwhile: Callable[[], None] | None = None, jobs: int | None = None) -> list[Path]:
    """A run's documents: its figures (``figures/*.png|pdf``), ``report.md``, ``report.html`` and ``table.tex``.

    The figures are drawn by other processes (:func:`start_figures`; ``jobs`` of them, default one per usable
    CPU) while this one calls ``meanwhile`` (e.g. writes the tables); then the figure files are written and the
    reports, which embed them, follow. ``note`` is told what is being written (for the message of a failure). If
    ``meanwhile`` fails, the drawing is stopped and nothing more is written.

    Returns
    -------
    list of Path
        The figure files, then the reports.
    """
    from .document import write_report

    note("writing the figures and reports")
    conv = running_statistics(result.results["total"].values)
    if result.convergence is not None:
        conv = xr.merge([conv, result.convergence])
    plan = {**figure_plan(result, sobol=result.sobol, convergence=conv, catalog=result.catalog),
            **balance_plan(result.balance)}
    with start_figures(plan, Path(folder) / "figures", jobs=jobs, data=result.results) as figures:
        if meanwhile is not None:
            meanwhile()
        note("writing the figures and reports")
        paths = figures.wait()
    return paths + write_report(result, folder, sobol=result.sobol, figures=paths, catalog=result.catalog)
