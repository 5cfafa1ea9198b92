"""Mergeable running statistics: moments and quantiles in memory independent of the sample count.

:class:`RunningStats` keeps, per column, the count, mean and sum of squared deviations (merged with the
parallel formula of Chan et al. 1979), the minimum and maximum, and a histogram with log-like bins: the bin of a
positive double is its bit pattern shifted right, i.e. its binary exponent and the leading
:data:`MANTISSA_BITS` bits of its mantissa (as in HDR histograms), so every binade from 2**:data:`EXP_LOW` to
2**:data:`EXP_HIGH` kg holds 2**MANTISSA_BITS bins of equal width; smaller values (and zeros) go to the first
bin, larger ones to the last. Histograms of chunks add up exactly (integer counts), so the result does not
depend on chunking or on the number of workers, up to the floating-point rounding of the merged means. A
quantile is read off the cumulative histogram with linear interpolation inside its bin: its relative error is
at most one bin width, 2**-MANTISSA_BITS (about 2.4e-4; typically far less).

References
----------
.. [1] Chan, T. F., Golub, G. H. & LeVeque, R. J. (1979). Updating formulae and a pairwise algorithm for
   computing sample variances. Stanford report STAN-CS-79-773.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["RunningStats", "Moments", "histogram", "EXP_LOW", "EXP_HIGH", "MANTISSA_BITS", "N_BINS", "relative_resolution"]

#: Histogram range in binary exponents of kg CO2-eq (2**-20 = 9.5e-7 to 2**17 = 131072) and mantissa bits kept
#: per bin (algorithm settings, not data).
EXP_LOW = -20
EXP_HIGH = 17
MANTISSA_BITS = 12
_SHIFT = 52 - MANTISSA_BITS
_OFFSET = int(np.array(2.0 ** EXP_LOW).view(np.int64)) >> _SHIFT
N_BINS = ((int(np.array(2.0 ** EXP_HIGH).view(np.int64)) >> _SHIFT) - _OFFSET) + 1


def relative_resolution() -> float:
    """Relative width of one histogram bin (the bound on a quantile's relative error inside the range)."""
    return 2.0 ** -MANTISSA_BITS


def _bin_index(x: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Bin of each non-negative value: its float64 bit pattern shifted right, offset and clipped (into ``out``,
    an int64 array of the size of ``x``, if given)."""
    bits = np.right_shift(np.ascontiguousarray(x, dtype=np.float64).view(np.int64), _SHIFT, out=out)
    bits -= _OFFSET
    return np.clip(bits, 0, N_BINS - 1, out=bits)


def _bin_low(b: int) -> float:
    """Lower edge of bin ``b`` (for 1 <= b < N_BINS)."""
    return float(np.array((b + _OFFSET) << _SHIFT, dtype=np.int64).view(np.float64))


def histogram(x: np.ndarray, alias=None, constant=None) -> np.ndarray:
    """``(k, N_BINS)`` counts of the columns of ``x`` (rows, k); values must be non-negative and finite.

    ``alias[j] = i < j`` says column j equals column i (its counts are copied); ``constant[j]`` says column j
    holds one value (all counts go to its bin). Both only save work.
    """
    if np.any(x < 0) or not np.all(np.isfinite(x)):
        raise ValueError("running statistics need finite, non-negative values")
    rows, k = x.shape
    hist = np.empty((k, N_BINS), dtype=np.int64)
    work = np.empty(rows, dtype=np.int64)  # the bins of one column at a time
    for j in range(k):
        if alias is not None and alias[j] != j:
            hist[j] = hist[alias[j]]
        elif constant is not None and constant[j]:
            hist[j] = 0
            hist[j, _bin_index(x[:1, j])[0]] = rows
        else:
            hist[j] = np.bincount(_bin_index(x[:, j], out=work), minlength=N_BINS)
    return hist


@dataclass
class Moments:
    """Count, mean, sum of squared deviations, minimum and maximum of ``k`` columns (mergeable)."""

    count: int
    mean: np.ndarray
    m2: np.ndarray
    minimum: np.ndarray
    maximum: np.ndarray

    @classmethod
    def of(cls, x: np.ndarray) -> "Moments":
        """The moments of the columns of ``x`` (rows, k): numpy's ``x.mean(axis=0)``,
        ``((x - mean) ** 2).sum(axis=0)``, ``x.min(axis=0)`` and ``x.max(axis=0)``."""
        x = np.asarray(x, dtype=float)
        if x.ndim != 2 or x.shape[0] == 0:
            raise ValueError(f"expected a non-empty (rows, k) array, got shape {x.shape}")
        if x.strides[0] != x.itemsize:  # rows contiguous: numpy's reductions over the whole array
            mean = x.mean(axis=0)
            return cls(x.shape[0], mean, ((x - mean) ** 2).sum(axis=0), x.min(axis=0), x.max(axis=0))
        # columns contiguous (the streaming engine's blocks): numpy reduces each column on its own (pairwise), so
        # column by column through one column of scratch gives the same sums, bit for bit, without temporaries
        # the size of the block
        k = x.shape[1]
        mean, m2, lo, hi = (np.empty(k) for _ in range(4))
        work = np.empty(x.shape[0])
        for j in range(k):
            col = x[:, j]
            mean[j] = col.mean()
            m2[j] = np.square(np.subtract(col, mean[j], out=work), out=work).sum()
            lo[j], hi[j] = col.min(), col.max()
        return cls(x.shape[0], mean, m2, lo, hi)

    def merge(self, other: "Moments") -> "Moments":
        n = self.count + other.count
        delta = other.mean - self.mean
        return Moments(n, self.mean + delta * (other.count / n),
                       self.m2 + other.m2 + delta ** 2 * (self.count * other.count / n),
                       np.minimum(self.minimum, other.minimum), np.maximum(self.maximum, other.maximum))


@dataclass
class RunningStats:
    """Statistics of ``k`` columns accumulated over fixed blocks of rows: :class:`Moments` and a histogram.

    Build with :meth:`from_blocks`: histograms add exactly and the block moments are folded in block order, so
    the result does not depend on how the blocks were grouped into chunks or tasks (see
    :mod:`uncertainty_footprint.analysis.streaming`).
    """

    moments: Moments
    hist: np.ndarray  # (k, N_BINS) int64

    @classmethod
    def from_blocks(cls, moments: list[Moments], hist: np.ndarray) -> "RunningStats":
        """Fold the moments of consecutive blocks in order; ``hist`` is the sum of their histograms."""
        folded = moments[0]
        for m in moments[1:]:
            folded = folded.merge(m)
        return cls(folded, hist)

    @property
    def mean(self) -> np.ndarray:
        return self.moments.mean

    @property
    def std(self) -> np.ndarray:
        """Sample standard deviation (ddof = 1)."""
        m = self.moments
        return np.sqrt(m.m2 / (m.count - 1)) if m.count > 1 else np.zeros_like(m.mean)

    def quantile(self, q: float) -> np.ndarray:
        """The ``q`` quantile (0 <= q <= 1) of every column, from the histogram (linear inside a bin)."""
        m = self.moments
        out = np.empty(self.hist.shape[0])
        target = q * m.count
        for j, h in enumerate(self.hist):
            cum = np.cumsum(h)
            b = min(int(np.searchsorted(cum, target, side="left")), N_BINS - 1)
            before = cum[b - 1] if b > 0 else 0
            frac = (target - before) / h[b] if h[b] else 0.0
            lo = m.minimum[j] if b == 0 else max(_bin_low(b), m.minimum[j])
            hi = m.maximum[j] if b == N_BINS - 1 else min(_bin_low(b + 1), m.maximum[j])
            out[j] = lo + frac * (hi - lo)
        return out
