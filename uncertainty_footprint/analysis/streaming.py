"""Streaming Monte Carlo with dask: bounded memory at any sample count, one machine or a cluster.

The rows of a design are split into *tasks* of whole statistics blocks (:data:`STATS_BLOCK` rows). A task
evaluates its rows chunk by chunk and returns the histogram of its rows (integer counts), the moments of each
of its statistics blocks and, if asked, its per-sample arrays. Tasks run on a dask scheduler (``synchronous``,
``threads``, ``processes``, or a ``dask.distributed`` cluster at ``tcp://host:port``), a few at a time so that
memory stays bounded. The per-sample arrays go to a *sink*: a task writes its own rows where it runs when the sink
gives it a writer (:class:`uncertainty_footprint.io.zarr_store.ResultsStore`, ``results.zarr``, on any scheduler
and on a cluster's workers; :class:`uncertainty_footprint.io.netcdf.ResultsFile`, ``results.nc``, for tasks in
this process), otherwise the calling process writes the arrays the tasks hand back, as they finish. The calling
process folds the block moments in block order. Design rows are addressed by index and blocks are fixed, so the
numbers do not depend on the chunk size, the task size, the scheduler or the number of workers.

A task never raises: it returns its failure, so that every task of a batch has ended (and written what it writes)
before the run reports the first failure and its output is removed.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd

from ..model.builder import LifecycleModel
from .propagate import dataset_skeleton, evaluate_rows, points_buffer, uses_kernels
from .designs import make_design
from .running_stats import Moments, RunningStats, histogram
from .sizes import EVAL_CHUNK, STATS_BLOCK, TASK_ROWS, task_size, tasks_in_flight  # STATS_BLOCK: part of the result
from .summary import SummaryLayout, summarize_running
from ..inputs.choices import SCHEDULERS, STORE_MODES

__all__ = ["SCHEDULERS", "STORE_MODES", "STATS_BLOCK", "StreamResult", "stream_monte_carlo", "get_scheduler",
           "summarize_stored"]



@dataclass
class StreamResult:
    """Summary table and running statistics of a streamed run."""

    summary: "object"
    stats: RunningStats
    layout: SummaryLayout
    n: int


@dataclass
class _Failed:
    """An exception raised inside a task, returned rather than raised (see the module's docstring)."""

    error: BaseException


def _task(model: LifecycleModel, design, start: int, stop: int, chunk_size: int, layout: SummaryLayout,
          keep_footprint: bool, keep_inputs: bool, compiled: bool = False, writer=None):
    """Evaluate rows ``start:stop`` (whole statistics blocks); return histogram, block moments and arrays (None
    when ``writer(start, stop, footprint, inputs)`` wrote them here), or :class:`_Failed`.

    The design rows, footprints and summary columns of every chunk go into buffers allocated once per task (a
    chunk reuses the pages of the one before); the summary columns of a block are written in place, column by
    column contiguous, and reduced there.
    """
    try:
        start, stop, hist, moments, footprint, inputs = _evaluate(model, design, start, stop, chunk_size, layout,
                                                                  keep_footprint, keep_inputs, compiled)
        if writer is not None and keep_footprint:
            writer(start, stop, footprint, inputs)
            footprint = inputs = None
        return start, stop, hist, moments, footprint, inputs
    except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it once the batch has ended
        return _Failed(exc)


def _evaluate(model: LifecycleModel, design, start: int, stop: int, chunk_size: int, layout: SummaryLayout,
              keep_footprint: bool, keep_inputs: bool, compiled: bool):
    """The work of :func:`_task`."""
    ps = model.parameters
    constant = _constant_columns(model, layout)
    hist = None
    moments = []
    footprint = np.empty((stop - start, len(model.components))) if keep_footprint else None
    inputs = np.empty((stop - start, len(ps))) if keep_inputs else None
    rows = min(chunk_size, STATS_BLOCK, stop - start)
    points = points_buffer(model, rows)
    chunk_fp = np.empty((rows, len(model.components)))
    block = np.empty((min(STATS_BLOCK, stop - start), len(layout.names)), order="F")
    for block_start in range(start, stop, STATS_BLOCK):
        block_stop = min(block_start + STATS_BLOCK, stop)
        cols = block[:block_stop - block_start]
        for lo in range(block_start, block_stop, chunk_size):
            hi = min(lo + chunk_size, block_stop)
            fp = footprint[lo - start:hi - start] if keep_footprint else chunk_fp[:hi - lo]
            _, iv = evaluate_rows(model, design.fill(lo, hi, points[:hi - lo]), keep_inputs, out=fp,
                                  compiled=compiled)
            layout.columns(fp, out=cols[lo - block_start:hi - block_start])
            if keep_inputs:
                inputs[lo - start:hi - start] = iv
        moments.append(Moments.of(cols))
        h = histogram(cols, layout.alias, constant)
        if hist is None:
            hist = h
        else:
            hist += h
    return start, stop, hist, moments, footprint, inputs


def _constant_columns(model: LifecycleModel, layout: SummaryLayout) -> list[bool]:
    """Summary columns that cannot vary: components whose inputs are all fixed, and stages made only of them."""
    ps = model.parameters
    fixed = [not any(ps[n].is_random for n in names) for names in model.component_inputs()]
    stage_fixed = [all(f for f, st in zip(fixed, layout.stages) if st == stage) for stage in layout.stage_order]
    return fixed + stage_fixed + [all(fixed)]


def get_scheduler(scheduler: str | None, address: str | None):
    """The ``scheduler=`` argument for :func:`dask.compute` and the number of tasks to keep in flight."""
    if address:
        from dask.distributed import Client

        client = Client(address, set_as_default=False)
        workers = max(1, sum(client.nthreads().values()))
        return client, 2 * workers
    scheduler = scheduler or "threads"
    if scheduler not in SCHEDULERS:
        raise ValueError(f"unknown scheduler {scheduler!r}; allowed: {', '.join(SCHEDULERS)} or an address")
    return scheduler, tasks_in_flight(scheduler)


def stream_monte_carlo(model: LifecycleModel, *, n: int, design: str = "mc", seed: int = 1,
                       chunk_size: int = EVAL_CHUNK, task_rows: int = TASK_ROWS,
                       scheduler: str | None = "threads",
                       address: str | None = None, store: str = "footprint", sink=None,
                       progress: Callable[[int, int], None] | None = None,
                       compiled: bool | None = None) -> StreamResult:
    """Monte Carlo of ``model`` with memory independent of ``n``.

    Parameters
    ----------
    model : LifecycleModel
    n : int
        Number of samples.
    design : {'mc', 'lhs', 'sobol'}
        Unit-hypercube design (every design is addressed by row index).
    seed : int
    chunk_size : int
        Rows evaluated at once inside a task (memory and speed only: 2**16 rows keep the temporaries small
        enough to be reused by the allocator).
    task_rows : int
        Rows per dask task, rounded up to whole statistics blocks (memory and scheduling only).
    scheduler : {'synchronous', 'threads', 'processes'}
        Local dask scheduler, ignored when ``address`` is given.
    address : str, optional
        Address of a ``dask.distributed`` scheduler, e.g. ``tcp://127.0.0.1:8786``.
    store : {'footprint', 'all', 'none'}
        Per-sample data handed to ``sink``: footprints and totals, also the sampled inputs, or nothing.
    sink : context manager, optional
        Receives the per-sample arrays (required unless ``store='none'``): entered around the run,
        ``sink.create(skeleton)`` with the lazy layout of the results (:func:`~uncertainty_footprint.analysis.
        propagate.dataset_skeleton`), then, if ``sink.task_writer(in_process)`` (optional) gives a writer, every
        task calls ``writer(start, stop, footprint, inputs)`` where it runs (``in_process``: the tasks run in this
        process; the writer must pickle otherwise), else ``sink.write(start, stop, footprint, inputs)`` per task
        in the order tasks finish (``inputs`` None unless ``store='all'``); e.g.
        :class:`uncertainty_footprint.io.netcdf.ResultsFile`, :class:`uncertainty_footprint.io.zarr_store.
        ResultsStore`.
    progress : callable, optional
        Called as ``progress(done, n)``.
    compiled : bool, optional
        Evaluate with the compiled kernels (default: from
        :data:`~uncertainty_footprint.analysis.sizes.COMPILED_MIN` samples where numba is available, see
        :func:`~uncertainty_footprint.analysis.propagate.uses_kernels`); speed only, the same numbers.

    Returns
    -------
    StreamResult
    """
    import dask

    if store not in STORE_MODES:
        raise ValueError(f"store must be one of {', '.join(STORE_MODES)}")
    if store != "none" and sink is None:
        raise ValueError("a sink for the per-sample arrays is needed unless store='none'")
    ps = model.parameters
    compiled = uses_kernels(n, compiled)
    dsgn = make_design(design, n, ps.random_names, seed, compiled=compiled)
    layout = SummaryLayout(model.component_names, model.stages)
    task_rows = task_size(task_rows)
    keep_fp, keep_in = store in ("footprint", "all"), store == "all"
    target, in_flight = get_scheduler(scheduler, address)
    writing = sink if store != "none" else contextlib.nullcontext()
    with writing:  # a failed write leaves an empty file (removed with its temporary folder), no held disk space
        if store != "none":
            import dask.array as da

            sink.create(dataset_skeleton(model, n, inputs=keep_in,
                                         sample_array=lambda shape: da.zeros(shape, chunks=STATS_BLOCK * 4)))
        writer = None
        if store != "none" and hasattr(sink, "task_writer"):
            writer = sink.task_writer(isinstance(target, str) and target in ("threads", "synchronous"))
        starts = list(range(0, n, task_rows))
        hist = None
        moments: list[Moments] = []
        try:
            delayed_model = dask.delayed(model, pure=True)
            delayed_design = dask.delayed(dsgn, pure=True)
            delayed_writer = dask.delayed(writer, pure=True) if writer is not None else None
            for b in range(0, len(starts), in_flight):
                batch = [dask.delayed(_task, pure=True)(delayed_model, delayed_design, s, min(s + task_rows, n),
                                                        chunk_size, layout, keep_fp, keep_in, compiled,
                                                        delayed_writer)
                         for s in starts[b:b + in_flight]]
                done = dask.compute(*batch, scheduler=target)
                failed = next((d.error for d in done if isinstance(d, _Failed)), None)
                if failed is not None:
                    raise failed
                for start, stop, h, ms, fp, inputs in done:
                    if hist is None:
                        hist = h
                    else:
                        hist += h
                    moments.extend(ms)
                    if fp is not None:
                        sink.write(start, stop, fp, inputs if keep_in else None)
                    if progress is not None:
                        progress(stop, n)
                del done  # the batch's histograms, before the next batch computes its own
        finally:
            if hasattr(target, "close"):
                target.close()
    stats = RunningStats.from_blocks(moments, hist)
    return StreamResult(summarize_running(stats, layout), stats, layout, n)


def _rows_statistics(footprint: np.ndarray, layout: SummaryLayout) -> tuple[list[Moments], np.ndarray]:
    """The block moments and the histogram of consecutive rows of stored footprints (whole statistics blocks from
    a block's start), computed as a streaming task computes them: the same doubles."""
    footprint = np.ascontiguousarray(footprint, dtype=float)  # rows contiguous, as computed: the same row sums
    moments, hist = [], None
    for lo in range(0, footprint.shape[0], STATS_BLOCK):
        cols = layout.columns(footprint[lo:lo + STATS_BLOCK])  # columns contiguous, as a task's block buffer
        moments.append(Moments.of(cols))
        h = histogram(cols, layout.alias)
        if hist is None:
            hist = h
        else:
            hist += h
    return moments, hist


def summarize_stored(results, *, task_rows: int = TASK_ROWS, scheduler: str | None = "threads",
                     address: str | None = None) -> pd.DataFrame:
    """The summary table of stored per-sample results, computed from them in parallel.

    Every task reads whole statistics blocks of ``footprint`` (a lazy, dask-backed Dataset reads only its rows)
    and returns their moments and histogram; the calling process adds the histograms and folds the moments in
    block order, as :func:`stream_monte_carlo` does. A streamed run's summary is therefore reproduced bit for bit
    from its ``results.nc`` or ``results.zarr``. An in-memory run's summary has the same moments; its percentiles
    are exact order statistics, from which the histogram's differ by its resolution
    (:func:`~uncertainty_footprint.analysis.running_stats.relative_resolution`) plus the gap between neighbouring
    samples.

    Parameters
    ----------
    results : xarray.Dataset
        ``footprint(sample, component)`` with the ``component`` and ``stage`` coordinates, e.g.
        ``xarray.open_zarr("results.zarr")``.
    task_rows : int
        Rows per task [rows] (rounded up to whole statistics blocks). Memory and scheduling only.
    scheduler : {'synchronous', 'threads', 'processes'}, optional
        Local dask scheduler.
    address : str, optional
        A ``dask.distributed`` scheduler (``tcp://host:port``) instead: the workers read the store (they must see
        its path).

    Returns
    -------
    pandas.DataFrame
        The layout of :func:`~uncertainty_footprint.analysis.summary.summarize`.
    """
    import dask

    if "footprint" not in results:
        raise ValueError("the results hold no per-sample footprints (a run with store='none')")
    layout = SummaryLayout(results["component"].values, results["stage"].values)
    footprint = results["footprint"].transpose("sample", "component").data
    n = int(footprint.shape[0])
    if n == 0:
        raise ValueError("the results hold no samples")
    rows = task_size(task_rows)
    target, in_flight = get_scheduler(scheduler, address)
    hist, moments = None, []
    try:
        starts = list(range(0, n, rows))
        for b in range(0, len(starts), in_flight):
            batch = [dask.delayed(_rows_statistics, pure=True)(footprint[s:s + rows], layout)
                     for s in starts[b:b + in_flight]]
            for ms, h in dask.compute(*batch, scheduler=target):  # in the order of the rows
                moments.extend(ms)
                if hist is None:
                    hist = h
                else:
                    hist += h
    finally:
        if hasattr(target, "close"):
            target.close()
    return summarize_running(RunningStats.from_blocks(moments, hist), layout)

