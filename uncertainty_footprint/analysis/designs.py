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
- ``lhs``: Latin hypercube: per column a random permutation of the ``n`` strata plus a uniform jitter,
  ``(perm + u) / n``, from the column's own generator (stratification needs the whole column; it is
  materialised once, n x d floats).
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
import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.stats import qmc

from .sizes import MC_BLOCK  # rows per independently seeded block: part of the design's definition

__all__ = ["Design", "DESIGNS", "make_design", "MC_BLOCK"]


@dataclass
class Design:
    """Base class: ``n`` points in ``[0, 1)^d`` addressed by row index."""

    n: int
    columns: tuple[str, ...]
    seed: int
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
        digest = hashlib.sha256(column.encode("utf-8")).digest()
        key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in (0, 4))
        return np.random.SeedSequence(self.seed, spawn_key=key + extra)

    def points(self, start: int, stop: int) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def chunks(self, chunk_size: int):
        """Yield ``(start, stop, points)`` covering all rows in order."""
        for start in range(0, self.n, chunk_size):
            stop = min(start + chunk_size, self.n)
            yield start, stop, self.points(start, stop)

    def _check(self, start: int, stop: int) -> None:
        if not 0 <= start <= stop <= self.n:
            raise IndexError(f"rows {start}:{stop} outside the design's {self.n} rows")


class MonteCarloDesign(Design):
    """Independent uniform points, seeded per block of :data:`MC_BLOCK` rows."""

    def __post_init__(self):
        super().__post_init__()
        self.name = "mc"

    def _block(self, k: int) -> np.ndarray:
        rows = min(MC_BLOCK, self.n - k * MC_BLOCK)
        out = np.empty((rows, self.d), order="F")  # columns contiguous: they are generated and mapped one by one
        for j, column in enumerate(self.columns):
            out[:, j] = np.random.default_rng(self._column_seed(column, k)).random(rows)
        return out

    def points(self, start: int, stop: int) -> np.ndarray:
        self._check(start, stop)
        k, offset = divmod(start, MC_BLOCK)
        if offset == 0 and stop == min(start + MC_BLOCK, self.n):
            return self._block(k)  # exactly one whole block: no copy
        out = np.empty((stop - start, self.d), order="F")
        pos = start
        while pos < stop:
            k = pos // MC_BLOCK
            lo = pos - k * MC_BLOCK
            hi = min(stop - k * MC_BLOCK, MC_BLOCK)
            out[pos - start: pos - start + hi - lo] = self._block(k)[lo:hi]
            pos += hi - lo
        return out


class LatinHypercubeDesign(Design):
    """Latin hypercube over all rows, one independently keyed column at a time, materialised once."""

    def __post_init__(self):
        super().__post_init__()
        self.name = "lhs"
        self._all = None

    def points(self, start: int, stop: int) -> np.ndarray:
        self._check(start, stop)
        if self._all is None:
            self._all = np.empty((self.n, self.d), order="F")
            for j, column in enumerate(self.columns):
                rng = np.random.default_rng(self._column_seed(column))
                self._all[:, j] = (rng.permutation(self.n) + rng.random(self.n)) / self.n
        return self._all[start:stop]


class SobolDesign(Design):
    """Scrambled Sobol' points (scipy's ``Sobol``), taken by index (columns are positional, not keyed)."""

    def __post_init__(self):
        super().__post_init__()
        self.name = "sobol"

    def points(self, start: int, stop: int) -> np.ndarray:
        self._check(start, stop)
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


def make_design(name: str, n: int, columns, seed: int) -> Design:
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
    """
    try:
        cls = DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design {name!r}; allowed: {', '.join(DESIGNS)}") from None
    if isinstance(columns, (int, np.integer)):
        columns = [f"x{j}" for j in range(int(columns))]
    return cls(n=int(n), columns=tuple(columns), seed=int(seed))
