"""Row counts shared by the analysis modules, defined once.

Two kinds of sizes, kept apart on purpose:

* **blocks** are part of a result's definition: changing one changes the numbers of a seeded run, so they are
  constants, never options (:data:`MC_BLOCK`, :data:`STATS_BLOCK`);
* **chunks** only bound memory and scheduling: results never depend on them (tests check this), so they are
  defaults that callers may override (:data:`EVAL_CHUNK`, :data:`TASK_ROWS`, :data:`SALTELLI_CHUNK`,
  :data:`IN_MEMORY_MAX`), as is the number of threads that evaluate chunks at once (:data:`EVAL_THREADS`).

The formats of the per-sample results (:data:`RESULTS_FORMATS`) live here too: like the chunks they never change
the numbers, and the command line reads them for its ``--help`` without importing the engine.
"""

from __future__ import annotations

import os

__all__ = ["MC_BLOCK", "STATS_BLOCK", "EVAL_CHUNK", "TASK_ROWS", "SALTELLI_CHUNK", "IN_MEMORY_MAX", "EVAL_THREADS",
           "COMPILED_MIN", "LAZY_INPUTS_MIN", "RESULTS_FORMATS", "task_size", "tasks_in_flight"]

#: Rows per independently seeded block of the Monte Carlo design (``analysis.designs``) [rows]. A block.
MC_BLOCK = 1 << 16
#: Rows per block of running moments in the streaming engine (``analysis.streaming``) [rows]. A block.
STATS_BLOCK = 1 << 18
#: Model rows evaluated at once by the in-memory Monte Carlo and the Sobol' hotspots [rows]. A chunk.
EVAL_CHUNK = 1 << 16
#: Rows per dask task of a streaming run (rounded up to whole statistics blocks) [rows]. A chunk.
TASK_ROWS = STATS_BLOCK
#: Default design rows per ``ppf``/``evaluate`` call of the model-agnostic Sobol' analysis [rows]. A chunk.
SALTELLI_CHUNK = 1 << 14
#: Largest sample count run in memory; above it a run streams with bounded memory [samples].
IN_MEMORY_MAX = 1 << 20
#: Smallest sample count a Monte Carlo run evaluates with the compiled kernels (``inputs.kernels``: the same
#: numbers; importing numba and loading the kernels pays back from about this many) [samples].
#: Speed only.
COMPILED_MIN = 1 << 20
#: Threads evaluating chunks of an in-memory Monte Carlo at once (numpy releases the GIL) [threads]. Scheduling.
EVAL_THREADS = max(1, min(8, os.cpu_count() or 1))
#: Smallest in-memory Monte Carlo whose sampled inputs are regenerated from the design when read instead of held
#: (``analysis.propagate.lazy_inputs``: the same values; below it holding them costs little) [samples]. Memory only.
LAZY_INPUTS_MIN = 1 << 18
#: Where a run keeps its per-sample results: ``results.nc`` (netCDF-4, one file written by one process) or
#: ``results.zarr`` (a Zarr store, chunked along ``sample``, written by the workers of a streaming run in
#: parallel). The same numbers either way.
RESULTS_FORMATS = ("netcdf", "zarr")


def task_size(task_rows: int) -> int:
    """Rows of a streaming task: ``task_rows`` rounded up to whole statistics blocks, at least one [rows]."""
    return max(STATS_BLOCK, -(-int(task_rows) // STATS_BLOCK) * STATS_BLOCK)


def tasks_in_flight(scheduler: str | None) -> int:
    """Streaming tasks a local dask scheduler runs at once: two per core keep every core busy while the slowest
    task of a batch finishes; one with the synchronous scheduler [tasks]."""
    return 1 if scheduler == "synchronous" else 2 * max(1, os.cpu_count() or 1)
