"""Designs in the unit hypercube: plain Monte Carlo, Latin hypercube and scrambled Sobol' points.

Every design is addressed by row index: ``design.points(start, stop)`` returns rows ``start..stop-1`` and the
same rows whatever the chunking, so results never depend on chunk size or the number of workers. Randomness
comes from one integer ``seed`` through :class:`numpy.random.SeedSequence`; nothing touches global state.

Monte Carlo and Latin hypercube columns are *keyed by name*: the column of a parameter is generated from
``SeedSequence(seed, spawn_key=key(name) + ...)``, so a parameter gets the same uniforms in every experiment that
uses it with the same seed (common random numbers for comparisons) and adding or removing another parameter does
not change its draws.

- ``mc``: independent uniforms, generated per column in fixed blocks of :data:`MC_BLOCK` rows; block ``k`` of
  column ``name`` uses the generator of ``SeedSequence(seed, spawn_key=key(name) + (k,))``.
- ``lhs``: Latin hypercube addressed by row: per column a keyed pseudo-random permutation of the ``n`` strata
  (a Feistel network with cycle walking, drawn from the column's own generator) plus a uniform jitter per row,
  ``(perm(r) + u) / n``; any rows are computed without the others, so it streams (see
  :class:`LatinHypercubeDesign`).
- ``sobol``: scrambled :class:`scipy.stats.qmc.Sobol`; rows are taken by index with ``fast_forward``. Its balance
  properties hold for ``n`` a power of two.

References
----------
.. [1] McKay, M. D., Beckman, R. J. & Conover, W. J. (1979). A comparison of three methods for selecting values
   of input variables in the analysis of output from a computer code. Technometrics 21(2).
.. [2] Owen, A. B. (1998). Scrambling Sobol' and Niederreiter-Xing points. Journal of Complexity 14(4).
"""

from __future__ import annotations

import hashlib
import math
import warnings
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Callable

import numpy as np

from .sizes import MC_BLOCK  # rows per independently seeded block: part of the design's definition

__all__ = ["Design", "DESIGNS", "make_design", "MC_BLOCK"]


@dataclass
class Design:
    """Base class: ``n`` points in ``[0, 1)^d`` addressed by row index."""

    n: int
    columns: tuple[str, ...]
    seed: int
    #: Compute rows with the compiled kernels where the design has one (:mod:`~uncertainty_footprint.inputs.kernels`;
    #: the same rows, bit for bit: speed only).
    compiled: bool = field(default=False, compare=False)
    name: str = field(default="", init=False)

    def __post_init__(self):
        self.columns = tuple(self.columns)
        if self.n < 1:
            raise ValueError(f"a design needs n >= 1, got n={self.n}")
        if len(set(self.columns)) != len(self.columns):
            raise ValueError("design columns must have distinct names")

    @property
    def d(self) -> int:
        return len(self.columns)

    def _column_seed(self, column: str, *extra: int) -> np.random.SeedSequence:
        return np.random.SeedSequence(self.seed, spawn_key=_column_key(column) + extra)

    def points(self, start: int, stop: int) -> np.ndarray:
        """Rows ``start..stop-1``, a new ``(stop - start, d)`` array in Fortran order (columns contiguous: they are
        generated, and mapped through the inverse CDFs, one by one)."""
        self._check(start, stop)
        return self.fill(start, stop, np.empty((stop - start, self.d), order="F"))

    def fill(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """Rows ``start..stop-1`` written into ``out``, a float64 ``(stop - start, d)`` array (e.g. a buffer a
        caller reuses from chunk to chunk, so that no chunk faults in fresh pages); returns ``out``.

        A subclass implements :meth:`fill` or :meth:`points` (this default copies the rows :meth:`points` makes).
        """
        _check_out(self, start, stop, out)
        out[...] = self.points(start, stop)
        return out

    def chunks(self, chunk_size: int):
        """Yield ``(start, stop, points)`` covering all rows in order."""
        for start in range(0, self.n, chunk_size):
            stop = min(start + chunk_size, self.n)
            yield start, stop, self.points(start, stop)

    def _check(self, start: int, stop: int) -> None:
        if not 0 <= start <= stop <= self.n:
            raise IndexError(f"rows {start}:{stop} outside the design's {self.n} rows")


def _check_out(design: Design, start: int, stop: int, out: np.ndarray) -> None:
    design._check(start, stop)
    if out.shape != (stop - start, design.d) or out.dtype != np.float64:
        raise ValueError(f"out must be a float64 array of shape {(stop - start, design.d)}, got {out.dtype} "
                         f"{out.shape}")


@lru_cache(maxsize=4096)
def _column_key(column: str) -> tuple[int, int]:
    """The spawn key of a column: the first two little-endian 32-bit words of the SHA-256 of its name."""
    digest = hashlib.sha256(column.encode("utf-8")).digest()
    return tuple(int.from_bytes(digest[i:i + 4], "little") for i in (0, 4))


def _block_uniforms(design: Design, column: str, start: int, stop: int, out: np.ndarray, *extra: int) -> None:
    """Uniforms of rows ``start:stop`` of ``column`` into ``out``: block ``k`` of :data:`MC_BLOCK` rows from
    ``SeedSequence(seed, spawn_key=key(column) + (k,) + extra)``."""
    pos = start
    while pos < stop:
        k = pos // MC_BLOCK
        lo = pos - k * MC_BLOCK
        hi = min(stop - k * MC_BLOCK, MC_BLOCK)
        rng = np.random.default_rng(design._column_seed(column, k, *extra))
        if lo:
            rng.bit_generator.advance(lo)  # skip the block's earlier rows (one 64-bit draw per double)
        rng.random(hi - lo, out=out[pos - start: pos - start + hi - lo])
        pos += hi - lo


class MonteCarloDesign(Design):
    """Independent uniform points, seeded per block of :data:`MC_BLOCK` rows."""

    def __post_init__(self):
        super().__post_init__()
        self.name = "mc"

    def fill(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        _check_out(self, start, stop, out)
        for j, column in enumerate(self.columns):
            _block_uniforms(self, column, start, stop, out[:, j])
        return out


class LatinHypercubeDesign(Design):
    """Latin hypercube addressed by row: row ``r`` of a column lies in stratum ``perm(r)`` of the ``n`` equal
    strata, at a uniform jitter inside it.

    ``perm`` is a keyed pseudo-random permutation of ``[0, n)``: a Feistel network of :attr:`ROUNDS` rounds on
    ``Z_A x Z_B`` (``A = ceil(sqrt(n))``, ``B = ceil(n / A)``, a row ``r = a B + b``) whose round functions are
    random tables drawn from the column's generator, ``SeedSequence(seed, spawn_key=key(name))``, restricted to
    ``[0, n)`` by cycle walking (re-applied while the image is ``>= n``). The jitter of block ``k`` of
    :data:`MC_BLOCK` rows comes from ``SeedSequence(seed, spawn_key=key(name) + (k, 1))``. Any rows are computed
    without the others, in O(sqrt(n)) memory per column, so a Latin hypercube streams like Monte Carlo.
    """

    #: Rounds of the Feistel permutation (four: a strong pseudo-random permutation for random round functions).
    ROUNDS = 4

    def __post_init__(self):
        super().__post_init__()
        self.name = "lhs"
        self._a = math.isqrt(self.n - 1) + 1
        self._b = -(-self.n // self._a)
        # integer types, the narrowest that hold the values (less memory traffic per round): the strata A B
        # (int32 below 2**31), and the rounds' halves, whose sums stay below 2 max(A, B) (uint16 up to 2**15)
        self._int = np.dtype(np.int32 if self._a * self._b <= np.iinfo(np.int32).max else np.int64)
        self._half = np.dtype(np.uint16 if max(self._a, self._b) <= 1 << 15 else self._int)
        self._tables = None

    def _round_tables(self) -> list[list[np.ndarray]]:
        """Per column, the round functions: round k maps Z_B -> Z_A (k even) or Z_A -> Z_B (k odd)."""
        if self._tables is None:  # built whole, then published (threads may share the design)
            a, b = self._a, self._b
            tables = []
            for column in self.columns:
                rng = np.random.default_rng(self._column_seed(column))
                # drawn as int64 (the definition of the tables), held in the rounds' integer type
                tables.append([rng.integers(0, a if k % 2 == 0 else b, size=b if k % 2 == 0 else a,
                                            dtype=np.int64).astype(self._half) for k in range(self.ROUNDS)])
            self._tables = tables
        return self._tables

    def _feistel(self, hi: np.ndarray, lo: np.ndarray, tables: list[np.ndarray],
                 work: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """The permutation of ``hi B + lo`` on ``[0, A B)`` (``hi`` in Z_A, ``lo`` in Z_B, in the rounds' type;
        not modified), into ``out`` (the strata's type).

        ``work`` is scratch of shape ``(4, len(lo))`` in the rounds' type; ``work`` and ``out`` are new if not
        given.
        """
        radix = (self._a, self._b)
        if work is None:
            work = np.empty((4, lo.size), dtype=self._half)
        if out is None:
            out = np.empty(lo.size, dtype=self._int)
        unsigned = work.dtype.str.replace("i", "u")
        spare = work[3]
        for k, table in enumerate(tables):
            s = work[k % 3]  # three rotating rows: never the current hi or lo
            np.take(table, lo, out=s, mode="clip")  # in range; "clip" lets take write into out directly
            s += hi
            np.subtract(s, radix[k % 2], out=spare)
            # (hi + F(lo)) mod radix: as unsigned, s - radix wraps around to a huge number when s < radix
            np.minimum(s.view(unsigned), spare.view(unsigned), out=s.view(unsigned))
            hi, lo = lo, s
        np.multiply(hi, radix[1], out=out, dtype=self._int)
        out += lo
        return out

    def _stratum(self, hi: np.ndarray, lo: np.ndarray, tables: list[np.ndarray],
                 work: np.ndarray | None = None, out: np.ndarray | None = None) -> np.ndarray:
        """Strata of the rows ``hi B + lo``: the Feistel permutation, cycle-walked into ``[0, n)`` (into ``out``,
        see :meth:`_feistel`)."""
        out = self._feistel(hi, lo, tables, work, out)
        walk = np.flatnonzero(out >= self.n)
        while walk.size:  # the permutation of [0, A B) restricted to [0, n): re-apply while outside
            again = np.divmod(out[walk], self._b)
            out[walk] = self._feistel(*(x.astype(self._half) for x in again), tables)
            walk = walk[out[walk] >= self.n]
        return out

    def fill(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        _check_out(self, start, stop, out)
        if self.compiled:
            return self._fill_compiled(start, stop, out)
        tables = self._round_tables()
        hi, lo = (x.astype(self._half) for x in np.divmod(np.arange(start, stop, dtype=self._int), self._b))
        work = np.empty((4, stop - start), dtype=self._half)  # the rounds' scratch, shared by the columns
        strata = np.empty(stop - start, dtype=self._int)
        for j, column in enumerate(self.columns):
            col = out[:, j]
            _block_uniforms(self, column, start, stop, col, 1)
            col += self._stratum(hi, lo, tables[j], work, strata)  # an integer below 2**53: exact in float64
            col /= self.n
        return out

    def _fill_compiled(self, start: int, stop: int, out: np.ndarray) -> np.ndarray:
        """:meth:`fill` with the strata, jitter and scaling of a column in one compiled pass
        (:func:`~uncertainty_footprint.inputs.kernels.feistel_kernel`, the same integers and doubles)."""
        from ..inputs.kernels import feistel_kernel

        kernel = feistel_kernel()
        for j, (column, tables) in enumerate(zip(self.columns, self._round_tables())):
            col = out[:, j]
            _block_uniforms(self, column, start, stop, col, 1)
            kernel(start, stop, self._a, self._b, self.n, *tables, col)
        return out


class SobolDesign(Design):
    """Scrambled Sobol' points (scipy's ``Sobol``), taken by index (columns are positional, not keyed)."""

    def __post_init__(self):
        super().__post_init__()
        self.name = "sobol"

    def points(self, start: int, stop: int) -> np.ndarray:
        self._check(start, stop)
        from scipy.stats import qmc  # here, not at the top: scipy.stats is slow to import

        engine = qmc.Sobol(d=self.d, scramble=True, rng=np.random.default_rng(np.random.SeedSequence(self.seed)))
        if start:
            engine.fast_forward(start)
        with warnings.catch_warnings():
            # scipy warns on chunks that are not powers of two; the balance of the whole design is what matters
            warnings.filterwarnings("ignore", message=".*balance properties.*", category=UserWarning)
            return engine.random(stop - start)


#: Registry of design names -> classes.
DESIGNS: dict[str, Callable[..., Design]] = {
    "mc": MonteCarloDesign,
    "lhs": LatinHypercubeDesign,
    "sobol": SobolDesign,
}


def make_design(name: str, n: int, columns, seed: int, *, compiled: bool = False) -> Design:
    """Create a design from the registry.

    Parameters
    ----------
    name : {'mc', 'lhs', 'sobol'}
    n : int
        Number of points (rows).
    columns : sequence of str or int
        Column names (one per random parameter), or a dimension d (columns named ``x0``, ``x1``, ...).
    seed : int
        Seed of the design (>= 0).
    compiled : bool
        Use the design's compiled kernel where it has one (numba must be available; the same rows).
    """
    try:
        cls = DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design {name!r}; allowed: {', '.join(DESIGNS)}") from None
    if isinstance(columns, (int, np.integer)):
        columns = [f"x{j}" for j in range(int(columns))]
    return cls(n=int(n), columns=tuple(columns), seed=int(seed), compiled=bool(compiled))
