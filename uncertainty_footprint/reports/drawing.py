"""Drawing a run's figures: the plan (which figures, from which data) and the processes that draw them.

:func:`figure_plan` lists the figures of a run (name -> :class:`PlannedFigure`, a call of a plotting function of
:mod:`uncertainty_footprint.reports.figures` with its data) and :func:`start_figures` hands them to processes
forked from this one (one per usable CPU, at most :data:`MAX_FIGURE_JOBS`; they inherit the data and the plan,
only names go to them and the PNG and PDF bytes come back), costliest first, while the caller goes on (the run's
tables are written meanwhile); the caller's process writes every file, in the plan's order. The bytes are those of
drawing inline, which happens with one job, one figure, no safe ``fork`` or another thread alive
(:func:`figure_jobs`). A failing figure is drawn again inline, so that its exception (and message) is the one of
the inline path; a drawing process that is killed gives :class:`FigureProcessError`.

This module imports no plotting library: matplotlib is imported by whichever process draws (0.3 s), so when
the figures are drawn by other processes the caller never imports it. A run writing a results folder forks a
:class:`FigureHost` before it computes (:func:`start_host`): that process imports the plotting code while the
run goes on, receives the plan (pickled) and forks the drawing processes from itself, so that they inherit the
imported code, and sends each figure's bytes back. The rules above hold there too.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import pickle
import signal
import sys
import tempfile
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import xarray as xr

from ..analysis.convergence import running_statistics
from .document import component_titles, published_label, resolve_published

__all__ = ["figure_plan", "balance_plan", "write_figures", "start_host", "start_figures", "FigureHost",
           "PendingFigures", "PlannedFigure",
           "figure_jobs", "usable_cpus", "FigureProcessError", "MAX_FIGURE_JOBS", "BALANCE_FIGURE"]

#: Name of the balance figure (``figures/balance.png`` and ``.pdf``).
BALANCE_FIGURE = "balance"


def _figures():
    """The plotting module (imports matplotlib)."""
    from . import figures

    return figures


def _balance_figures():
    """The balance figure's module (imports matplotlib)."""
    from . import balance_figure

    return balance_figure


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


def _planned(function: str, *args, **kwargs) -> PlannedFigure:
    return PlannedFigure(_figures, function, args, kwargs)


def figure_plan(result, sobol: Mapping[str, xr.Dataset] | None = None, convergence: xr.Dataset | None = None, *,
                published: Any = None, catalog=None) -> dict[str, PlannedFigure]:
    """The figures of a run: name -> a :class:`PlannedFigure` that builds the figure (see :func:`write_figures`),
    in the order the report shows them. Making the plan imports no plotting library."""
    ds, summary = result.results.drop_vars("inputs", errors="ignore"), result.summary  # no figure draws inputs
    column, _ = resolve_published(ds, published, catalog)
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
    }
    return {name: plot for name, plot in plan.items() if plot is not None}


def balance_plan(result) -> dict[str, PlannedFigure]:
    """The balance figure of a run as a figure plan entry (see :func:`figure_plan`): ``{BALANCE_FIGURE: figure}``
    (:func:`~uncertainty_footprint.reports.balance_figure.plot_balance`) when the run's
    :class:`~uncertainty_footprint.analysis.balance.BalanceResult` has a benefit, else empty (a fleet without
    benefit, or no balance)."""
    if result is None or result.net_balance is None:
        return {}
    return {BALANCE_FIGURE: PlannedFigure(_balance_figures, "plot_balance", (result,))}


def write_figures(result, folder: str | os.PathLike, sobol: Mapping[str, xr.Dataset] | None = None,
                  convergence: xr.Dataset | None = None, *, published: Any = None, catalog=None,
                  jobs: int | None = None) -> list[Path]:
    """Write every figure of a run into ``folder/figures/`` (PNG and PDF each), drawing them in parallel.

    Parameters
    ----------
    result : RunResult
        :func:`~uncertainty_footprint.analysis.run.run_experiment` output.
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

#: Most processes that draw the figures of a run at once (the costliest figure takes about a fifth of the time
#: of all six, so a fourth process would gain little).
MAX_FIGURE_JOBS = 3
#: Time to draw and encode each figure (PNG and PDF) [s], measured on a 2-core AMD EPYC for ``kws.yaml``: the
#: costliest are handed out first, so that the processes finish together. Other figures count as
#: :data:`_DEFAULT_COST`.
_FIGURE_COST = {"total_distribution": 0.25, "component_intervals": 0.28, "component_intervals_log": 0.35,
                "comparison_stacked": 0.48, "sobol_indices": 0.50, "second_order": 0.45, "convergence": 0.50}
_DEFAULT_COST = 0.4
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
    return _figures()._figure_files(plot())


def _draw_planned(name: str) -> tuple[bytes, bytes]:
    """In a drawing process: the PNG and PDF bytes of figure ``name`` of the inherited plan."""
    return _files(_PLAN[name])


def start_figures(plan: Mapping[str, Callable[[], Any]], folder: str | os.PathLike, *, jobs: int | None = None,
                  data: xr.Dataset | None = None, host: "FigureHost | None" = None) -> "PendingFigures":
    """Start drawing the figures of ``plan`` (name -> function building the figure) for ``folder``.

    Use the result as a context manager and call :meth:`PendingFigures.wait` in it: the figures are drawn by
    :func:`figure_jobs` processes, forked now (or by ``host``'s, :func:`start_host`, which receives the plan
    pickled), while the caller goes on (e.g. writes the tables); ``wait`` writes the files, in the order of
    ``plan``, and returns their paths. With one job nothing happens until ``wait``, which then draws and writes
    them one after the other. ``data``: the Dataset the plan reads; one backed by a file (a streaming run) is
    drawn in this process, since a forked child must not share the open file. ``host`` is closed when the
    figures are (or at once, when it is not used).
    """
    if data is not None and data.chunks:
        jobs = 1
    return PendingFigures(plan, Path(folder), figure_jobs(jobs, len(plan)), host)


#: How long closing a figure host waits for it to finish the figures being drawn before ending it [s].
_HOST_END_TIMEOUT = 60.0


@contextmanager
def _forking():
    """Around a ``fork``: the standard streams flushed (a child must not write buffered text a second time), and
    the objects alive left out of the children's garbage collections (a collection touches every object, and so
    would copy every page of the parent: about 90 MB per process)."""
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError, AttributeError):
            pass
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class FigureHost:
    """A process forked before a run has its figures (:func:`start_host`), which imports the plotting code while
    the run computes. Given the plan (:meth:`send`, pickled: :class:`PlannedFigure` entries are), it draws it
    with a :class:`PendingFigures` of its own, whose processes it forks and which so inherit the imported code,
    and sends back each figure's bytes in the plan's order (:meth:`receive`): None for a figure that raised
    (drawn again by the caller), or the message of a drawing process that ended unexpectedly. Single use."""

    def __init__(self, process, conn, payload):
        self._process, self._conn, self._payload = process, conn, payload

    def send(self, plan: Mapping[str, Callable[[], Any]], jobs: int) -> bool:
        """Hand over the plan, to be drawn by ``jobs`` processes; False (and the host closed) when it cannot be
        sent (an entry that does not pickle, a host that has ended). The pickled plan goes through an anonymous
        file both processes share, and only its length through the pipe, so that this returns at once even while
        the host is still importing."""
        try:
            data = pickle.dumps((dict(plan), jobs), protocol=pickle.HIGHEST_PROTOCOL)
            view, offset = memoryview(data), 0
            while offset < len(data):
                offset += os.pwrite(self._payload.fileno(), view[offset:], offset)
            self._conn.send(len(data))
            return True
        except Exception:  # noqa: BLE001 - then the caller draws the figures its own way
            self.close()
            return False

    def receive(self, name: str, folder: Path) -> tuple[bytes, bytes] | None:
        """The PNG and PDF bytes of figure ``name`` (the next in the plan's order), or None when drawing it
        raised. Raises :class:`FigureProcessError` when a drawing process (or the host) ended unexpectedly."""
        try:
            got, files = self._conn.recv()
        except (EOFError, OSError):
            raise _ended_unexpectedly(folder, _how_ended([self._process])) from None
        if got is None:  # the host's own FigureProcessError
            error = FigureProcessError(files)
            error.filename = str(folder)
            raise error
        if got != name:
            raise _ended_unexpectedly(folder, f" (figure {got!r} arrived for {name!r})")
        return files

    def close(self) -> None:
        """End the host: it stops after the figures being drawn (the figures not started are cancelled)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None
            self._process.join(timeout=_HOST_END_TIMEOUT)
            if self._process.is_alive():  # stuck: ended (its drawing processes end with it)
                self._process.terminate()
                self._process.join()
            self._payload.close()


def _read_payload(payload, size: int) -> bytes:
    parts, offset = [], 0
    while offset < size:
        part = os.pread(payload.fileno(), size - offset, offset)
        if not part:
            raise EOFError("the plan is shorter than announced")
        parts.append(part)
        offset += len(part)
    return b"".join(parts)


def _host_main(conn, other_end, payload) -> None:
    """The host process (:class:`FigureHost`); any failure ends it at once, with exit status 1 and nothing on the
    terminal (the caller reports how it ended, on one line)."""
    try:
        _host(conn, other_end, payload)
    except BaseException:  # noqa: BLE001 - see above: no traceback may reach the user
        os._exit(1)


def _host(conn, other_end, payload) -> None:
    """Import the plotting code, wait for the plan, draw it and send back each figure (None: to be drawn by the
    caller, which raises its error where it is handled, or draws it when no process could be made here)."""
    other_end.close()  # the parent's end: when the parent ends, this process sees the end of the pipe
    for signum in _WORKER_SIGNALS:
        signal.signal(signum, signal.SIG_DFL)
    try:
        _figures()._rc()
        import matplotlib.backends.backend_pdf  # noqa: F401 - the PDF writer every figure uses
    except Exception:  # noqa: BLE001 - left to the first figure, which raises it again where it is handled
        pass
    try:
        plan, jobs = pickle.loads(_read_payload(payload, conn.recv()))
    except (EOFError, OSError):
        return
    with PendingFigures(plan, Path("."), jobs) as pending:
        try:
            for name, files in pending.collected():
                conn.send((name, files))
        except FigureProcessError as exc:
            conn.send((None, str(exc)))


def start_host(jobs: int | None = None) -> FigureHost | None:
    """Fork a :class:`FigureHost` now, before the run has its figures; None when the figures would be drawn in
    this process (:func:`figure_jobs`: one job, no safe ``fork``, another thread alive) or no process can be
    made. Pass it to :func:`start_figures` (``host=``), or close it."""
    if figure_jobs(jobs, MAX_FIGURE_JOBS) < 2:
        return None
    context = multiprocessing.get_context("fork")
    try:
        payload = tempfile.TemporaryFile(prefix="uncertainty_footprint-figures-")  # no name: nothing left behind
    except OSError:
        return None
    conn, child_end = context.Pipe(duplex=True)
    process = context.Process(target=_host_main, args=(child_end, conn, payload),
                              name="uncertainty_footprint figures")
    try:
        with _forking():
            process.start()
    except OSError:
        conn.close()
        payload.close()
        return None
    finally:
        child_end.close()
    return FigureHost(process, conn, payload)


def _how_ended(processes) -> str:
    """How the first of ``processes`` that failed ended, e.g. `` (killed by SIGKILL, ...)``, or ""."""
    codes = []
    for process in processes:
        process.join(timeout=1.0)
        if process.exitcode not in (None, 0):
            codes.append(process.exitcode)
    # the pool terminates the others (SIGTERM) once one has died: name the first that ended otherwise
    code = next((c for c in codes if c != -signal.SIGTERM), codes[0] if codes else None)
    if code is None:
        return ""
    if code < 0:
        try:
            name = signal.Signals(-code).name
        except ValueError:
            name = f"signal {-code}"
        return f" (killed by {name}{', e.g. for want of memory' if -code == signal.SIGKILL else ''})"
    return f" (exit status {code})"


def _ended_unexpectedly(folder: Path, how: str) -> FigureProcessError:
    error = FigureProcessError(f"a process drawing the figures ended unexpectedly{how}")
    error.filename = str(folder)
    return error


class PendingFigures:
    """Figures being drawn (:func:`start_figures`); a context manager: leaving it stops the drawing processes.

    The parent process writes every file: a drawing process only returns the bytes, so it never touches the
    output folder (an error while writing arises where it does with one job, and nothing is written after the
    caller has given up). A figure whose process raised is drawn again in this process, which raises the same
    exception with its own traceback (or writes the figure): the same message and exit status as with one job.
    A process that ended without its figures (killed) gives a :class:`FigureProcessError`.
    """

    def __init__(self, plan: Mapping[str, Callable[[], Any]], folder: Path, jobs: int,
                 host: FigureHost | None = None):
        self.plan, self.folder, self.jobs = dict(plan), folder, jobs
        self._futures: dict = {}
        self._processes: dict = {}
        self._executor = None
        self._host = host if host is not None and jobs > 1 and host.send(self.plan, jobs) else None
        if host is not None and self._host is None:
            host.close()
        if jobs > 1 and self._host is None:
            self._start()

    def _start(self) -> None:
        from concurrent.futures import ProcessPoolExecutor

        self._executor = ProcessPoolExecutor(self.jobs, mp_context=multiprocessing.get_context("fork"),
                                             initializer=_start_worker, initargs=(self.plan,))
        try:
            with _forking():
                for name in sorted(self.plan, key=lambda n: -_FIGURE_COST.get(n, _DEFAULT_COST)):  # costliest first
                    self._futures[name] = self._executor.submit(_draw_planned, name)  # the first one forks
        except OSError:  # no process could be made (e.g. a limit on processes): drawn here, one after the other
            self.close()
            self._futures, self.jobs = {}, 1
            return
        self._processes = dict(getattr(self._executor, "_processes", None) or {})  # for the message of a kill

    def wait(self) -> list[Path]:
        """Write every figure into the folder (waiting for the drawing processes); return the paths (``png``,
        ``pdf`` of each figure, in the order of the plan)."""
        paths: list[Path] = []
        for name, files in self.collected():
            paths += _write_files(self.folder, name, files if files is not None else _files(self.plan[name]))
        self.close()
        return paths

    def collected(self):
        """``(name, files)`` for every figure, in the plan's order, as other processes deliver them: the PNG and
        PDF bytes, or None for a figure to be drawn here (it raised there, or nothing else draws). Raises
        :class:`FigureProcessError` when a drawing process ended unexpectedly."""
        for name in self.plan:
            if self._host is not None:
                yield name, self._host.receive(name, self.folder)
            else:
                yield name, self._drawn(name) if self._executor is not None else None

    def _drawn(self, name: str) -> tuple[bytes, bytes] | None:
        """The files a process drew, or None when it raised (the figure is then drawn here)."""
        from concurrent.futures.process import BrokenProcessPool

        try:
            return self._futures[name].result()
        except BrokenProcessPool:
            raise _ended_unexpectedly(self.folder, self._how_ended()) from None
        except Exception:  # noqa: BLE001 - drawn again here: the same exception, raised where it was raised
            return None

    def _how_ended(self) -> str:
        return _how_ended(self._processes.values())

    def close(self) -> None:
        """Stop the drawing: figures not started are cancelled, those being drawn are finished (a process is
        never killed while it sends its result), and the processes end."""
        if self._host is not None:
            host, self._host = self._host, None
            host.close()
        if self._executor is not None:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=True, cancel_futures=True)

    def __enter__(self) -> "PendingFigures":
        return self

    def __exit__(self, *exc) -> None:
        self.close()
