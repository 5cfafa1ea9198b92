"""Designs in the unit hypercube: plain Monte Carlo, Latin hypercube and scrambled Sobol' points.

Every design is addressed by row index: ``design.points(start, stop)`` returns rows ``start..stop-1`` and the
same rows whatever the chunking, so results never depend on chunk size or the number of workers. Randomness
comes from one integer ``seed`` through :class:`numpy.random.SeedSequence`; nothing touches global state.

- ``mc``: independent uniforms, generated in fixed blocks of :data:`MC_BLOCK` rows; block ``k`` uses the
  generator of ``SeedSequence(seed, spawn_key=(k,))`` (the k-th child of ``SeedSequence(seed).spawn``).
- ``lhs``: :class:`scipy.stats.qmc.LatinHypercube` over all ``n`` rows (stratification needs the whole design; it
  is materialised once, n x d floats).
- ``sobol``: scrambled :class:`scipy.stats.qmc.Sobol`; rows are taken by index with ``fast_forward``. Its balance
  properties hold for ``n`` a power of two.

References
----------
.. [1] McKay, M. D., Beckman, R. J. & Conover, W. J. (1979). A comparison of three methods for selecting values
   of input variables in the analysis of output from a computer code. Technometrics 21(2).
.. [2] Owen, A. B. (1998). Scrambling Sobol' and Niederreiter-Xing points. Journal of Complexity 14(4).
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.stats import qmc

__all__ = ["Design", "DESIGNS", "make_design", "MC_BLOCK"]

#: Rows per independently seeded Monte Carlo block (part of the design's definition: changing it changes the
#: numbers, so it is a constant, not an option).
MC_BLOCK = 1 << 16


@dataclass
class Design:
    """Base class: ``n`` points in ``[0, 1)^d`` addressed by row index."""

    n: int
    d: int
    seed: int
    name: str = field(default="", init=False)

    def __post_init__(self):
        if self.n < 1 or self.d < 0:
            raise ValueError(f"a design needs n >= 1 and d >= 0, got n={self.n}, d={self.d}")

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
        rng = np.random.default_rng(np.random.SeedSequence(self.seed, spawn_key=(k,)))
        return rng.random((rows, self.d))

    def points(self, start: int, stop: int) -> np.ndarray:
        self._check(start, stop)
        out = np.empty((stop - start, self.d))
        pos = start
        while pos < stop:
            k = pos // MC_BLOCK
            lo = pos - k * MC_BLOCK
            hi = min(stop - k * MC_BLOCK, MC_BLOCK)
            out[pos - start: pos - start + hi - lo] = self._block(k)[lo:hi]
            pos += hi - lo
        return out


class LatinHypercubeDesign(Design):
    """Latin hypercube over all rows (scipy's ``LatinHypercube``), materialised once."""

    def __post_init__(self):
        super().__post_init__()
        self.name = "lhs"
        self._all = None

    def points(self, start: int, stop: int) -> np.ndarray:
        self._check(start, stop)
        if self._all is None:
            engine = qmc.LatinHypercube(d=self.d, rng=np.random.default_rng(np.random.SeedSequence(self.seed)))
            self._all = engine.random(self.n)
        return self._all[start:stop]


class SobolDesign(Design):
    """Scrambled Sobol' points (scipy's ``Sobol``), taken by index."""

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


def make_design(name: str, n: int, d: int, seed: int) -> Design:
    """Create a design from the registry.

    Parameters
    ----------
    name : {'mc', 'lhs', 'sobol'}
    n : int
        Number of points (rows).
    d : int
        Dimension (one column per random parameter).
    seed : int
        Seed of the design (>= 0).
    """
    try:
        cls = DESIGNS[name]
    except KeyError:
        raise ValueError(f"unknown design {name!r}; allowed: {', '.join(DESIGNS)}") from None
    return cls(n=int(n), d=int(d), seed=int(seed))
