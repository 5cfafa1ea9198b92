"""Compiled kernels (numba) for the hot loops of large runs, bit for bit equal to the numpy code they stand in for.

A run of millions of samples spends most of its time in two loops that numpy does in many passes over memory:
the inverse-CDF tables of PERT and truncated normal parameters (:mod:`uncertainty_footprint.inputs.distributions`:
about 17 passes per value) and the Feistel permutation of the Latin hypercube
(:mod:`uncertainty_footprint.analysis.designs`). The kernels here do each in one pass, with the same floating-point
operations in the same order (no fused multiply-add: numba compiles without ``fastmath``), so a value is the same
double whichever path computed it; tests check this on every table and design. Results therefore never depend on
whether the kernels ran.

Numba is imported, and the kernels compiled (or loaded from numba's cache beside this file, or in the user cache
folder when the package folder is read-only), only when a run asks for them: importing numba is slow,
worth it from about :data:`~uncertainty_footprint.analysis.sizes.COMPILED_MIN` samples. Without numba (a
platform it does not support yet) :func:`available` is False and the numpy code runs.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import numpy as np

__all__ = ["available", "table_kernel", "feistel_kernel"]


@lru_cache(maxsize=1)
def _numba() -> Any:
    """The numba module, or None where it cannot be imported."""
    try:
        import numba
    except Exception:  # noqa: BLE001 - any failure to import (missing, or broken beside this numpy) means no kernels
        return None
    return numba


def available() -> bool:
    """True when numba can be imported (the kernels can run)."""
    return _numba() is not None


def _jit(function):
    """``function`` compiled without the GIL (threads run it in parallel), cached on disk, IEEE arithmetic."""
    return _numba().njit(cache=True, nogil=True, error_model="numpy")(function)


def _table_values(u, c0, c1, c2, c3, route, cells, scale, loc, out, special, kinds):  # pragma: no cover - compiled
    """``loc + scale * p(u)`` of the cubic cells of a table into ``out``; the indices of values in cells that are
    not cubic (tails, exact) into ``special`` and their cells' route codes into ``kinds``; returns their count.

    The same operations as ``_cell_index``, ``_horner`` and the scaling of
    :mod:`~uncertainty_footprint.inputs.distributions`: ``s = u cells``, ``i = clip(int(s), 0, cells - 1)``,
    ``t = s - i``, Horner from the cubic term down, then ``* scale + loc``.
    """
    count = 0
    last = cells - 1
    for k in range(u.shape[0]):
        s = u[k] * cells
        i = np.intp(s)
        if i < 0:
            i = 0
        elif i > last:
            i = last
        t = s - i
        v = c3[i] * t
        v = (v + c2[i]) * t
        v = (v + c1[i]) * t
        v = v + c0[i]
        out[k] = v * scale + loc
        if route[i] != 0:
            special[count] = k
            kinds[count] = route[i]
            count += 1
    return count


def _feistel_strata(start, stop, a, b, n, t0, t1, t2, t3, col):  # pragma: no cover - compiled
    """``col[r - start] = (col[r - start] + perm(r)) / n`` for rows ``start..stop-1``: the Latin hypercube's
    stratum of each row (four Feistel rounds on ``Z_a x Z_b`` with round tables ``t0..t3``, cycle-walked into
    ``[0, n)``) added to its jitter ``col`` and scaled, as ``LatinHypercubeDesign.fill`` does with numpy.

    The halves of row ``r = hi b + lo`` are stepped from row to row (one division per call, and one per
    cycle-walking step).
    """
    row_hi = start // b
    row_lo = start - row_hi * b
    for k in range(stop - start):
        hi = row_hi
        lo = row_lo
        while True:
            s = hi + t0[lo]  # round 0: Z_b -> Z_a
            s -= a * (s >= a)  # mod a without a branch (s < 2 a); a branch would be mispredicted half the time
            hi, lo = lo, s
            s = hi + t1[lo]  # round 1: Z_a -> Z_b
            s -= b * (s >= b)  # mod b without a branch (s < 2 b); a branch would be mispredicted half the time
            hi, lo = lo, s
            s = hi + t2[lo]
            s -= a * (s >= a)  # mod a without a branch (s < 2 a); a branch would be mispredicted half the time
            hi, lo = lo, s
            s = hi + t3[lo]
            s -= b * (s >= b)  # mod b without a branch (s < 2 b); a branch would be mispredicted half the time
            v = lo * b + s
            if v < n:
                break
            hi = v // b  # cycle walking: the permutation again, from the image
            lo = v - hi * b
        col[k] = (col[k] + v) / n
        row_lo += 1
        if row_lo == b:
            row_lo = 0
            row_hi += 1


@lru_cache(maxsize=1)
def table_kernel():
    """The compiled :func:`_table_values` (numba must be :func:`available`)."""
    return _jit(_table_values)


@lru_cache(maxsize=1)
def feistel_kernel():
    """The compiled :func:`_feistel_strata` (numba must be :func:`available`)."""
    return _jit(_feistel_strata)
