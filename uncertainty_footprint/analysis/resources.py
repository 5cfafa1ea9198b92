"""Memory a run needs, estimated before it starts, and the refusal of requests that cannot fit.

A request that cannot fit in memory (an in-memory Monte Carlo of 10^9 samples, a Sobol' base sample of 2^30)
would otherwise run for a while and end in a :class:`MemoryError`, or get the process killed. :func:`check_memory`
estimates the peak from the sizes of the arrays the run holds and refuses the request up front, in
milliseconds, with the estimate, what is available and the option that would fit. The refusal is a
:class:`~uncertainty_footprint.errors.ConfigError` naming the experiment and the key path (``sampling.samples``
or ``sobol.samples``; the value may come from the command line): the request is the user's, so the command
line exits with status 2.

What the estimates count (8-byte floats; measured with :mod:`tracemalloc` on ``kws.yaml``, 51 uncertain
parameters, within 5 % of the estimate above a few MiB of fixed working memory):

* **in-memory Monte Carlo** (:func:`monte_carlo_bytes`): per sample, the inputs (P parameters) and footprints
  (C components) kept in the results, the summary's columns (C components, S stages and the total) with their
  sorted copy and the total; plus one chunk of rows being evaluated per thread (every design, the Latin
  hypercube included, is computed chunk by chunk).
* **streaming Monte Carlo** (:func:`streaming_bytes`): the tasks in flight (two per core, each of
  ``task_rows`` rows) with their design rows, footprints, summary columns and (``store='all'``) inputs.
  Independent of the sample count.
* **Sobol' analysis** (:func:`sobol_bytes`, for the grouping with most groups; groupings run one after the
  other): per base point, the maximum of three phases of :func:`~uncertainty_footprint.analysis.sobol.sobol_indices`:
  evaluation (A and B in the unit cube and as physical values, 4 D, or 5 D while the inverse CDF of B runs,
  plus the N (k + 2) outputs Y, N (2 k + 2) with second order), standardisation (Y, its standardised copy and
  the k cross columns) and the bootstrap (Y, the k cross columns and the resample indices, 11 bytes per
  resample); plus one chunk. An in-memory Monte Carlo's results stay in memory during the Sobol' analysis and
  are added.

A safety factor :data:`SAFETY` covers what is not modelled (allocator slack, the libraries' temporaries).

The memory available is the smallest of ``MemAvailable`` in ``/proc/meminfo`` (or ``os.sysconf`` where there is
no ``/proc``), the cgroup limit (``memory.max`` less ``memory.current``) and the address-space limit
(``ulimit -v``) less what the process maps already. ``$UNCERTAINTY_FOOTPRINT_MEMORY_LIMIT`` (bytes, or a number
with a unit: ``512M``, ``2GiB``) replaces it, e.g. in tests.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from ..errors import ConfigError
from ..model.builder import LifecycleModel
from .hotspots import parameter_groups
from .sizes import EVAL_CHUNK, EVAL_THREADS, TASK_ROWS, task_size, tasks_in_flight

__all__ = ["MEMORY_ENV", "SAFETY", "MemoryEstimate", "available_memory", "parse_size", "format_bytes",
           "monte_carlo_bytes", "streaming_bytes", "sobol_bytes", "estimate_memory", "check_memory"]

#: Environment variable that replaces the memory available (bytes, or ``512M``, ``2GiB``...).
MEMORY_ENV = "UNCERTAINTY_FOOTPRINT_MEMORY_LIMIT"
#: Allowance over the estimated arrays for allocator slack and temporaries not modelled [-].
SAFETY = 1.2
_FLOAT = 8  # bytes per float64
_UNITS = {"": 1, "b": 1, "k": 1e3, "kb": 1e3, "kib": 2**10, "m": 1e6, "mb": 1e6, "mib": 2**20,
          "g": 1e9, "gb": 1e9, "gib": 2**30, "t": 1e12, "tb": 1e12, "tib": 2**40}


@dataclass(frozen=True)
class MemoryEstimate:
    """Estimated peaks of a run's phases [bytes] (the safety factor included) and what is available.

    Attributes
    ----------
    monte_carlo : int
        Peak of the Monte Carlo phase [bytes].
    sobol : int
        Peak of the Sobol' phase, with what the Monte Carlo keeps in memory meanwhile [bytes]; 0 without
        Sobol' analysis.
    available : int or None
        Memory available [bytes]; None when it cannot be found out (then nothing is refused).
    source : str
        Where ``available`` comes from.
    """

    monte_carlo: int
    sobol: int
    available: int | None
    source: str

    @property
    def peak(self) -> int:
        """The larger of the two phases [bytes]."""
        return max(self.monte_carlo, self.sobol)


def parse_size(text: str) -> int:
    """A memory size: ``1073741824``, ``1e9``, ``512M`` (10^6), ``2GiB`` (2^30), ... -> bytes.

    Raises
    ------
    ValueError
        If ``text`` is not a non-negative number with an optional unit (B, k, M, G, T; kB..TB; KiB..TiB).
    """
    match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*", str(text))
    unit = match.group(2).lower() if match else None
    if match is None or unit not in _UNITS:
        raise ValueError(f"expected a size in bytes such as 1073741824, 512M or 2GiB, got {text[:40]!r}")
    return int(float(match.group(1)) * _UNITS[unit])


def format_bytes(n: float) -> str:
    """``1.5 GiB``-style text of a byte count."""
    for unit, size in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= size:
            return f"{n / size:.3g} {unit}"
    return f"{int(n)} B"


def _meminfo_available() -> int | None:
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def _cgroup_available() -> int | None:
    """Memory left under a cgroup v2 limit (``memory.max`` less ``memory.current``), if there is one."""
    try:
        line = Path("/proc/self/cgroup").read_text(encoding="ascii").splitlines()
        rel = next(entry.split(":", 2)[2] for entry in line if entry.startswith("0::"))
        folder = Path("/sys/fs/cgroup") / rel.lstrip("/")
        limit = (folder / "memory.max").read_text(encoding="ascii").strip()
        if limit == "max":
            return None
        return max(0, int(limit) - int((folder / "memory.current").read_text(encoding="ascii")))
    except (OSError, ValueError, StopIteration, IndexError):
        return None


def _address_space_available() -> int | None:
    """What ``ulimit -v`` leaves: the soft address-space limit less the process's virtual size."""
    try:
        import resource

        soft, _ = resource.getrlimit(resource.RLIMIT_AS)
        if soft == resource.RLIM_INFINITY:
            return None
        for line in Path("/proc/self/status").read_text(encoding="ascii").splitlines():
            if line.startswith("VmSize:"):
                return max(0, soft - int(line.split()[1]) * 1024)
        return soft
    except (ImportError, OSError, ValueError, IndexError):
        return None


def available_memory() -> tuple[int | None, str]:
    """Memory available to this process [bytes] and where the figure comes from.

    Returns
    -------
    (int or None, str)
        The smallest of the system's ``MemAvailable``, the cgroup limit and the address-space limit, or the
        value of ``$UNCERTAINTY_FOOTPRINT_MEMORY_LIMIT``; None if none of them can be read.

    Raises
    ------
    ConfigError
        If the environment variable is set to something that is not a size.
    """
    env = os.environ.get(MEMORY_ENV)
    if env is not None and env.strip():
        try:
            return parse_size(env), f"${MEMORY_ENV}"
        except ValueError as exc:
            raise ConfigError(f"${MEMORY_ENV}", "", str(exc)) from None
    found = [(v, src) for v, src in ((_meminfo_available(), "MemAvailable of /proc/meminfo"),
                                     (_cgroup_available(), "cgroup memory.max"),
                                     (_address_space_available(), "ulimit -v"))
             if v is not None]
    if not found:
        return None, "unknown"
    return min(found)


def monte_carlo_bytes(n: int, *, n_parameters: int, n_components: int, n_stages: int, n_random: int,
                      chunk_rows: int = EVAL_CHUNK) -> int:
    """Peak of an in-memory Monte Carlo of ``n`` samples and its summary [bytes], safety factor included."""
    per_sample = n_parameters + 2 * (n_components + n_stages + 1)
    chunk = EVAL_THREADS * chunk_rows * (3 * n_random + 2 * n_components)
    return int(SAFETY * _FLOAT * (n * per_sample + chunk))


def streaming_bytes(*, n_parameters: int, n_components: int, n_stages: int, n_random: int, store: str,
                    scheduler: str | None, task_rows: int = TASK_ROWS) -> int:
    """Peak of a streaming Monte Carlo [bytes], safety factor included; independent of the sample count.

    The tasks in flight and their rows are those :func:`~uncertainty_footprint.analysis.streaming.stream_monte_carlo`
    runs (:func:`~uncertainty_footprint.analysis.sizes.tasks_in_flight`, :func:`~.sizes.task_size`).
    """
    task_rows = task_size(task_rows)
    in_flight = tasks_in_flight(scheduler)
    per_row = n_random + 2 * n_components + n_stages + 1 + (n_parameters if store == "all" else 0)
    return int(SAFETY * _FLOAT * in_flight * task_rows * per_row)


def sobol_bytes(n_base: int, *, n_random: int, n_groups: Sequence[int], second_order: bool, num_resamples: int,
                n_components: int, chunk_rows: int = EVAL_CHUNK) -> int:
    """Peak of the Sobol' analysis over groupings of ``n_groups`` groups each (run one after the other)
    [bytes], safety factor included."""
    d = n_random
    per_base = 0
    for k in n_groups:
        step = 2 * k + 2 if second_order else k + 2
        evaluation = max(5 * d, 4 * d + step)
        standardise = 2 * step + k + 2
        bootstrap = step + k + 2 + 11 * num_resamples / _FLOAT
        per_base = max(per_base, evaluation, standardise, bootstrap)
    chunk = chunk_rows * (3 * d + 2 * n_components)
    return int(SAFETY * _FLOAT * (n_base * per_base + chunk))


def _sizes(model: LifecycleModel) -> dict[str, int]:
    ps = model.parameters
    return dict(n_parameters=len(ps), n_components=len(model.components), n_stages=len(set(model.stages)),
                n_random=len(ps.random_names))


def _sobol_sizes(model: LifecycleModel, so, chunk_size: int | None) -> dict:
    """The keyword arguments of :func:`sobol_bytes` but ``n_base`` for the ``sobol`` section ``so``."""
    d = len(model.parameters.random_names)
    return dict(n_random=d, n_groups=[d if g == "parameter" else len(parameter_groups(model, g))
                                      for g in so.groupings],
                second_order=so.second_order, num_resamples=so.num_resamples, n_components=len(model.components),
                chunk_rows=chunk_size or EVAL_CHUNK)


def _held_bytes(model: LifecycleModel, n: int) -> int:
    """What an in-memory Monte Carlo's results keep during the Sobol' analysis [bytes]."""
    return int(SAFETY * _FLOAT * n * (len(model.parameters) + len(model.components) + 1))


def _footprint_sobol(model: LifecycleModel, so, sobol: bool | None) -> bool:
    """``sobol``, or by default: the footprint's sampled analysis runs when enabled and something is uncertain."""
    return (so.enabled and bool(model.parameters.random_names)) if sobol is None else sobol


def _sobol_peak(model: LifecycleModel, so, chunk_size: int | None, n_base: int, held: int, *, footprint: bool,
                payback: LifecycleModel | None) -> int:
    """Peak of the sampled Sobol' analyses that run, one after the other, with base sample ``n_base`` [bytes]: the
    footprint's (``footprint``) and the payback time's on the balance model ``payback`` (first order only, as
    :func:`~uncertainty_footprint.analysis.payback.payback_indices` computes it); ``held`` is kept meanwhile."""
    peaks = [held + sobol_bytes(n_base, **_sobol_sizes(model, so, chunk_size))] if footprint else []
    if payback is not None and payback.parameters.random_names:
        peaks.append(held + sobol_bytes(n_base, **{**_sobol_sizes(payback, so, chunk_size), "second_order": False}))
    return max(peaks, default=0)


def estimate_memory(model: LifecycleModel, experiment, *, streams: bool, store: str = "footprint",
                    scheduler: str | None = None, task_rows: int = TASK_ROWS,
                    chunk_size: int | None = None, sobol: bool | None = None,
                    payback: LifecycleModel | None = None) -> MemoryEstimate:
    """Estimated peaks of the run of ``experiment`` (with its overrides) on ``model``.

    Parameters
    ----------
    model : LifecycleModel
    experiment : Experiment
        Its ``sampling`` and ``sobol`` sections give the sizes.
    streams : bool
        Whether the Monte Carlo streams (see :class:`~uncertainty_footprint.analysis.engine.EngineOptions`).
    store, scheduler, task_rows
        The streaming options.
    chunk_size : int, optional
        Rows evaluated at once [rows].
    sobol : bool, optional
        Whether the sampled Sobol' analysis runs (:func:`~uncertainty_footprint.analysis.engine.samples_sobol`);
        default: when ``sobol.enabled`` and the model has an uncertain parameter.
    payback : LifecycleModel, optional
        The balance model, when the sampled indices of the payback time run after the footprint's
        (:func:`~uncertainty_footprint.analysis.engine.samples_payback_sobol`); the peak of the two counts.

    Returns
    -------
    MemoryEstimate
    """
    s, so = experiment.spec.sampling, experiment.spec.sobol
    if streams:
        mc = streaming_bytes(store=store, scheduler=scheduler, task_rows=task_rows, **_sizes(model))
        held = 0
    else:
        mc = monte_carlo_bytes(s.samples, chunk_rows=chunk_size or EVAL_CHUNK, **_sizes(model))
        held = _held_bytes(model, s.samples)
    sob = _sobol_peak(model, so, chunk_size, so.samples, held, footprint=_footprint_sobol(model, so, sobol),
                      payback=payback)
    available, source = available_memory()
    return MemoryEstimate(mc, sob, available, source)


def _largest_fitting(fits, low: int, high: int) -> int | None:
    """The largest integer in [low, high] for which the increasing cost ``fits`` holds (bisection)."""
    if not fits(low):
        return None
    while low < high:
        mid = (low + high + 1) // 2
        low, high = (mid, high) if fits(mid) else (low, mid - 1)
    return low


def _round_down(n: int) -> int:
    """Two significant digits, rounded down (a number to suggest)."""
    if n < 100:
        return n
    scale = 10 ** (int(math.log10(n)) - 1)
    return n // scale * scale


def check_memory(model: LifecycleModel, experiment, *, streams: bool, store: str = "footprint",
                 scheduler: str | None = None, task_rows: int = TASK_ROWS,
                 chunk_size: int | None = None, sobol: bool | None = None,
                 payback: LifecycleModel | None = None) -> MemoryEstimate:
    """Refuse a run whose estimated memory exceeds what is available, before it starts.

    Parameters are those of :func:`estimate_memory`.

    Returns
    -------
    MemoryEstimate
        When the run fits (or the memory available is unknown).

    Raises
    ------
    ConfigError
        At ``sampling.samples`` (a Monte Carlo that does not fit: the message suggests ``--stream`` and the
        largest sample count that fits) or ``sobol.samples`` (the largest base sample that fits, or
        ``--no-sobol``); the message gives the estimate and what is available.
    """
    est = estimate_memory(model, experiment, streams=streams, store=store, scheduler=scheduler,
                          task_rows=task_rows, chunk_size=chunk_size, sobol=sobol, payback=payback)
    if est.available is None:
        return est
    avail = est.available
    s, so = experiment.spec.sampling, experiment.spec.sobol
    have = f"{format_bytes(avail)} is available ({est.source})"
    if est.monte_carlo > avail:
        if streams:
            raise ConfigError(experiment.source, "sampling.samples",
                              f"a streaming Monte Carlo needs about {format_bytes(est.monte_carlo)} of memory "
                              f"for its tasks in flight, whatever the sample count; {have}; use --scheduler "
                              "synchronous (one task at a time)")
        chunk = chunk_size or EVAL_CHUNK
        largest = _largest_fitting(lambda n: monte_carlo_bytes(n, chunk_rows=chunk,
                                                               **_sizes(model)) <= avail, 2, s.samples)
        stream = "--stream (bounded memory)"
        smaller = f" or at most --samples {_round_down(largest)}" if largest else ""
        raise ConfigError(experiment.source, "sampling.samples",
                          f"{s.samples} samples in memory need about {format_bytes(est.monte_carlo)} "
                          f"({len(model.parameters)} parameters, {len(model.components)} components); {have}; "
                          f"use {stream}{smaller}")
    if est.sobol > avail:
        held = 0 if streams else _held_bytes(model, s.samples)
        footprint = _footprint_sobol(model, so, sobol)
        exponent = _largest_fitting(lambda e: _sobol_peak(model, so, chunk_size, 1 << e, held, footprint=footprint,
                                                          payback=payback) <= avail, 1,
                                    max(1, so.samples.bit_length() - 1))
        option = f"--sobol-samples {1 << exponent} or less, or --no-sobol" if exponent else "--no-sobol"
        if held and held > avail // 2:
            option += " (the in-memory Monte Carlo results are held meanwhile: --stream frees them)"
        raise ConfigError(experiment.source, "sobol.samples",
                          f"a Sobol' analysis with {so.samples} base samples needs about "
                          f"{format_bytes(est.sobol)} of memory ({len(model.parameters.random_names)} uncertain "
                          f"parameters, groupings {', '.join(so.groupings)}, {so.num_resamples} bootstrap "
                          f"resamples" + (", second order" if so.second_order else "") + f"); {have}; use {option}")
    return est
