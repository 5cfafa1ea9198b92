"""Memory-bounded Sobol' sensitivity analysis that reproduces SALib 1.6 exactly.

The module is model-agnostic: the caller supplies ``ppf`` (one inverse-CDF step that maps points of the unit
hypercube to physical parameter values) and ``evaluate`` (the model).  The Saltelli design is generated in
chunks, so the ``N (2D + 2) x D`` input matrix of :func:`SALib.sample.sobol.sample` is never held in memory;
only the ``N`` x ``D`` base matrices A and B and the model outputs Y are kept.

Estimators (identical to :func:`SALib.analyze.sobol.analyze`):

* first order ``S1_j = mean(f(B) (f(AB_j) - f(A))) / V`` (Saltelli et al. 2010, table 2 (b));
* total order ``ST_j = mean((f(A) - f(AB_j))^2) / (2 V)`` (Jansen 1999; Saltelli et al. 2010, table 2 (f));
* second order ``S2_jk = mean(f(BA_j) f(AB_k) - f(A) f(B)) / V - S1_j - S1_k`` (Saltelli 2002);

where ``V`` is the variance of the outputs of the A and B rows and the outputs are first standardised over all
rows.  Confidence intervals are bootstrap intervals: ``Z * std`` (ddof=1) of the estimates over
``num_resamples`` resamples (with replacement) of the N base points, ``Z = norm.ppf(0.5 + conf_level / 2)``;
the ``*_conf`` values are the half-widths of these intervals.

References
----------
Jansen, M. J. W. (1999). Analysis of variance designs for model output. Computer Physics Communications
117(1-2), 35-43. https://doi.org/10.1016/S0010-4655(98)00154-4

Sobol', I. M. (2001). Global sensitivity indices for nonlinear mathematical models and their Monte Carlo
estimates. Mathematics and Computers in Simulation 55(1-3), 271-280.
https://doi.org/10.1016/S0378-4754(00)00270-6

Saltelli, A. (2002). Making best use of model evaluations to compute sensitivity indices. Computer Physics
Communications 145(2), 280-297. https://doi.org/10.1016/S0010-4655(02)00280-1

Saltelli, A., Annoni, P., Azzini, I., Campolongo, F., Ratto, M., Tarantola, S. (2010). Variance based
sensitivity analysis of model output. Design and estimator for the total sensitivity index. Computer Physics
Communications 181(2), 259-270. https://doi.org/10.1016/j.cpc.2009.09.018
"""

from __future__ import annotations

import math
import numbers
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence

import numpy as np
import xarray as xr

from ..inputs.parameters import open_unit
from ..warnings import ConvergenceWarning
from .sizes import SALTELLI_CHUNK

__all__ = ["SaltelliDesign", "saltelli_base", "sobol_indices", "ESTIMATOR"]

_EPS = np.finfo(float).eps
# Upper bound on the bytes of one piece of the bootstrap count matrix (num_resamples x n_base floats).
_COUNT_PIECE_BYTES = 64 * 2**20
#: The estimators, as recorded in the ``estimator`` attribute of the results.
ESTIMATOR = "S1 Saltelli et al. (2010), ST Jansen (1999), S2 Saltelli (2002), as SALib 1.6; bootstrap intervals"


# --------------------------------------------------------------------------------------------------------
# argument checks
# --------------------------------------------------------------------------------------------------------
def check_int(value, name: str, minimum: int) -> int:
    """Return ``value`` as ``int`` if it is an integer >= ``minimum`` (bools refused), else raise ValueError."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


def _check_n_base(n_base) -> int:
    """Return ``n_base`` if it is a power of two >= 2, else raise ValueError."""
    n = check_int(n_base, "n_base", 2)
    if n & (n - 1):
        lower = 1 << (n.bit_length() - 1)
        raise ValueError(
            f"n_base must be a power of two (Sobol' sequence balance properties), got {n}; "
            f"use {lower} or {2 * lower}"
        )
    return n


def _check_seed(seed, minimum: int) -> int:
    """Return ``seed`` as ``int`` if it is an integer >= ``minimum``, else raise ValueError."""
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or seed < minimum:
        extra = " (SALib's analyze treats seed 0 as 'unseeded', so 0 is refused)" if minimum == 1 else ""
        raise ValueError(f"seed must be an integer >= {minimum}{extra}, got {seed!r}")
    return int(seed)


def _group_mask(labels: Sequence | None, d: int) -> tuple[np.ndarray, list]:
    """Membership matrix of design columns (groups) over parameters, in SALib's order.

    Parameters
    ----------
    labels : sequence of length d, or None
        Group label of every parameter (SALib's ``problem["groups"]``); None means one group per parameter.
    d : int
        Number of parameters.

    Returns
    -------
    mask : ndarray of bool, shape (k, d)
        ``mask[g, j]`` is True when parameter j belongs to group g.
    group_labels : list
        The k distinct labels in order of first appearance (the order SALib uses); ``list(range(d))`` when
        ``labels`` is None.
    """
    if labels is None:
        return np.eye(d, dtype=bool), list(range(d))
    labels = list(labels)
    if len(labels) != d:
        raise ValueError(f"groups must give one label per parameter ({d}), got {len(labels)}")
    unique = list(dict.fromkeys(labels))
    mask = np.array([[lab == g for lab in labels] for g in unique], dtype=bool)
    return mask, unique


def _labels_from_mapping(groups: Mapping[str, Sequence[str]], names: Sequence[str]) -> list[str]:
    """Convert ``{group: [parameter, ...]}`` into SALib's per-parameter group label list.

    Raises ValueError unless every parameter of ``names`` is in exactly one non-empty group.
    """
    owner: dict[str, str] = {}
    for group, members in groups.items():
        members = [members] if isinstance(members, str) else list(members)
        if not members:
            raise ValueError(f"group {group!r} has no members")
        for member in members:
            if member not in names:
                raise ValueError(f"group {group!r} lists unknown parameter {member!r}")
            if member in owner:
                raise ValueError(f"parameter {member!r} is in groups {owner[member]!r} and {group!r}")
            owner[member] = str(group)
    missing = [n for n in names if n not in owner]
    if missing:
        raise ValueError(f"parameters not in any group: {missing}")
    return [owner[n] for n in names]


# --------------------------------------------------------------------------------------------------------
# design
# --------------------------------------------------------------------------------------------------------
def saltelli_base(n_base: int, d: int, *, seed: int, calc_second_order: bool) -> tuple[np.ndarray, np.ndarray]:
    """Base matrices A and B of the Saltelli design, exactly as :func:`SALib.sample.sobol.sample` builds them.

    SALib 1.6 draws ``qmc.Sobol(d=2 * d, scramble=True, seed=seed).random(n_base)`` (no skipped points by
    default) and uses the first d columns as A and the last d as B.  Its design then consists, for every
    base point i, of the rows ``A[i], AB_1[i], ..., AB_k[i], (BA_1[i], ..., BA_k[i],) B[i]`` where ``AB_g``
    is A with the columns of group g taken from B, and ``BA_g`` is B with the columns of group g from A.

    Parameters
    ----------
    n_base : int
        Number N of base points, a power of two >= 2.
    d : int
        Number of parameters (columns of A and B).
    seed : int
        Seed (>= 0) of the scrambling, passed to :class:`scipy.stats.qmc.Sobol` as SALib does.
    calc_second_order : bool
        Whether the design includes the BA rows.  It does not change A and B (SALib draws the same base
        sequence either way); it is accepted so that the call mirrors SALib's ``sample``.

    Returns
    -------
    A, B : ndarray, shape (n_base, d)
        Points of the unit hypercube [0, 1)^d (dimensionless quantiles).  Both are views of one
        ``(n_base, 2 d)`` array.
    """
    n_base = _check_n_base(n_base)
    d = check_int(d, "d", 1)
    seed = _check_seed(seed, 0)
    from scipy.stats import qmc  # here, not at the top: scipy.stats is slow to import

    base = qmc.Sobol(d=2 * d, scramble=True, seed=seed).random(n_base)
    return base[:, :d], base[:, d:]


def _design_rows(a: np.ndarray, b: np.ndarray, mask: np.ndarray, calc_second_order: bool) -> np.ndarray:
    """Rows of the Saltelli design for a block of base points, in SALib's order.

    Parameters
    ----------
    a, b : ndarray, shape (n, d)
        Rows of A and B for n consecutive base points.
    mask : ndarray of bool, shape (k, d)
        Group membership (see :func:`_group_mask`).
    calc_second_order : bool
        Include the BA rows.

    Returns
    -------
    ndarray, shape (n * step, d)
        ``step = k + 2`` (or ``2 k + 2``) rows per base point: A, AB_1..AB_k, [BA_1..BA_k], B.
    """
    n, d = a.shape
    k = mask.shape[0]
    step = 2 * k + 2 if calc_second_order else k + 2
    out = np.empty((n, step, d))
    out[:, 0] = a
    out[:, 1 : k + 1] = np.where(mask[None], b[:, None, :], a[:, None, :])
    if calc_second_order:
        out[:, k + 1 : 2 * k + 1] = np.where(mask[None], a[:, None, :], b[:, None, :])
    out[:, step - 1] = b
    return out.reshape(n * step, d)


class SaltelliDesign:
    """The Saltelli design of :func:`SALib.sample.sobol.sample`, produced chunk by chunk.

    Parameters
    ----------
    n_base : int
        Number N of base points, a power of two >= 2.
    d : int
        Number of parameters.
    seed : int
        Scrambling seed (>= 0), with SALib's semantics.
    calc_second_order : bool
        Include the BA rows needed for second-order indices.
    chunk_size : int, optional
        Maximum number of design rows per chunk; rounded down to a whole number of base points (``step``
        rows each), but at least one base point.
    groups : sequence of length d, optional
        Group label of every parameter (SALib's ``problem["groups"]``).  The design then has one AB (and
        BA) column block per group, in order of first appearance of the labels.

    Attributes
    ----------
    A, B : ndarray, shape (n_base, d)
        Base matrices in the unit hypercube (see :func:`saltelli_base`).
    n_groups : int
        Number k of cross-sampled column blocks (d without groups).
    step : int
        Design rows per base point: ``k + 2``, or ``2 k + 2`` with second order.
    n_rows : int
        Total design rows ``n_base * step`` (model evaluations).
    mask : ndarray of bool, shape (k, d)
        Group membership.
    group_labels : list
        Labels of the k groups in design order (parameter indices without groups).

    Notes
    -----
    Contract of :meth:`blocks`: the row slices are consecutive, start at 0 and cover ``range(n_rows)``;
    a chunk holds whole base points, so rows ``i * step`` to ``(i + 1) * step - 1`` belong to base point i;
    and ``U`` equals ``SALib.sample.sobol.sample(problem, n_base, calc_second_order=..., seed=seed)[rows]``
    for the unit-bounds problem with the same groups (bit for bit).
    """

    def __init__(self, n_base, d, *, seed, calc_second_order, chunk_size=SALTELLI_CHUNK, groups=None):
        self.A, self.B = saltelli_base(n_base, d, seed=seed, calc_second_order=calc_second_order)
        self.n_base, self.d = self.A.shape
        self.seed = int(seed)
        self.calc_second_order = bool(calc_second_order)
        self.mask, self.group_labels = _group_mask(groups, self.d)
        self.n_groups = self.mask.shape[0]
        self.step = 2 * self.n_groups + 2 if self.calc_second_order else self.n_groups + 2
        self.n_rows = self.n_base * self.step
        self.chunk_size = check_int(chunk_size, "chunk_size", 1)

    @property
    def base_per_chunk(self) -> int:
        """Number of base points per chunk (the last chunk may hold fewer)."""
        return max(1, self.chunk_size // self.step)

    def blocks(self, a: np.ndarray | None = None, b: np.ndarray | None = None) -> Iterator[tuple[slice, np.ndarray]]:
        """Yield ``(rows, U)``: a slice of SALib's row order and the design rows there, shape (len, d).

        Each ``U`` is a new array in [0, 1) that the caller may modify. With ``a`` and ``b`` given (arrays of
        the shape of A and B, e.g. their images under a column-wise inverse CDF), the rows are assembled from
        them instead of A and B.
        """
        a = self.A if a is None else a
        b = self.B if b is None else b
        per = self.base_per_chunk
        for start in range(0, self.n_base, per):
            stop = min(start + per, self.n_base)
            u = _design_rows(a[start:stop], b[start:stop], self.mask, self.calc_second_order)
            yield slice(start * self.step, stop * self.step), u


def _checked_ppf(ppf: Callable, u: np.ndarray) -> np.ndarray:
    x = np.asarray(ppf(u), dtype=float)
    if x.shape != u.shape:
        raise ValueError(f"ppf returned shape {x.shape} for input of shape {u.shape}")
    return x


def _evaluate_design(design: SaltelliDesign, evaluate: Callable, ppf: Callable,
                     ppf_columnwise: bool = True, progress: Callable | None = None) -> tuple[np.ndarray, bool]:
    """Run the model over the design chunk by chunk.

    With ``ppf_columnwise`` (independent inputs: column j of ``ppf(U)`` depends on column j of U only), ``ppf``
    is applied once to A and once to B and the cross rows AB_g / BA_g are assembled from those physical values:
    the same numbers as ``ppf`` of every design row, for 2 N d inverse-CDF evaluations instead of
    N (k + 2) d.

    Returns
    -------
    y : ndarray, shape (n_out, n_rows)
        Outputs in SALib's row order, one contiguous row per model output (n_out = 1 for 1-D outputs).
    one_dim : bool
        True when ``evaluate`` returned 1-D arrays.
    """
    y = None
    one_dim = None
    if ppf_columnwise:
        chunks = design.blocks(_checked_ppf(ppf, open_unit(design.A)), _checked_ppf(ppf, open_unit(design.B)))
    else:
        chunks = ((rows, _checked_ppf(ppf, open_unit(u, out=u))) for rows, u in design.blocks())
    for rows, x in chunks:
        out = np.asarray(evaluate(x), dtype=float)
        n = x.shape[0]
        if out.ndim not in (1, 2) or out.shape[0] != n:
            raise ValueError(f"evaluate must return shape ({n},) or ({n}, k), got {out.shape}")
        if y is None:
            one_dim = out.ndim == 1
            y = np.empty((1 if one_dim else out.shape[1], design.n_rows))
        elif (out.ndim == 1) != one_dim or (not one_dim and out.shape[1] != y.shape[0]):
            raise ValueError(f"evaluate returned shape {out.shape}, inconsistent with earlier chunks")
        y[:, rows] = out[None, :] if one_dim else out.T
        if progress is not None:
            progress(rows.stop, design.n_rows)
    if not np.all(np.isfinite(y)):
        raise ValueError("evaluate returned non-finite values (NaN or inf); Sobol indices are undefined")
    return y, one_dim


# --------------------------------------------------------------------------------------------------------
# estimators
# --------------------------------------------------------------------------------------------------------
def _is_constant(y: np.ndarray) -> bool:
    """True if the output does not vary beyond floating-point round-off (relative 16 eps)."""
    return bool(np.ptp(y) <= 16 * _EPS * np.max(np.abs(y)))


def _zero_result(k: int, calc_second_order: bool) -> dict[str, np.ndarray]:
    """Indices of a constant output: all zero, zero-width intervals (S2 NaN below the diagonal, as SALib)."""
    res = {key: np.zeros(k) for key in ("S1", "S1_conf", "ST", "ST_conf")}
    if calc_second_order:
        upper = np.triu(np.ones((k, k), dtype=bool), 1)
        for key in ("S2", "S2_conf"):
            res[key] = np.where(upper, 0.0, np.nan)
    return res


def _resample_indices(n_base: int, num_resamples: int, seed: int) -> np.ndarray:
    """Bootstrap indices ``r`` (n_base x num_resamples) drawn exactly as SALib's analyze draws them."""
    return np.random.default_rng(seed).integers(n_base, size=(n_base, num_resamples))


def _count_matrix(r: np.ndarray) -> np.ndarray:
    """Resample counts ``C[b, i]`` = how often base point i is drawn in resample b, as small integers.

    Multiplicities of N draws among N points stay far below 256, so ``uint8`` suffices (checked; ``uint16``
    otherwise): 100 resamples of 2**20 base points take 100 MiB.
    """
    n, m = r.shape
    counts = np.empty((m, n), dtype=np.uint16)
    for b in range(m):
        counts[b] = np.bincount(r[:, b], minlength=n)
    return counts.astype(np.uint8) if counts.max(initial=0) < 256 else counts


def _split(y: np.ndarray, k: int, calc_second_order: bool):
    """Standardise one output like SALib and split it into the A, B, AB, BA parts.

    Returns
    -------
    a, b : ndarray, shape (n,)
    ab, ba : ndarray, shape (k, n) (``ba`` is None without second order)
        Each row contiguous.
    """
    y = (y - y.mean()) / y.std()
    step = 2 * k + 2 if calc_second_order else k + 2
    rows = y.reshape(-1, step)
    ab = np.ascontiguousarray(rows[:, 1 : k + 1].T)
    ba = np.ascontiguousarray(rows[:, k + 1 : 2 * k + 1].T) if calc_second_order else None
    return np.ascontiguousarray(rows[:, 0]), np.ascontiguousarray(rows[:, step - 1]), ab, ba


def _safe_ratio(num: np.ndarray, var: np.ndarray) -> np.ndarray:
    """``num / var`` where ``var > eps``, else 0 (SALib's guard against a vanishing variance)."""
    ok = var > _EPS
    return np.divide(num, var, out=np.zeros(np.broadcast(num, var).shape), where=ok)


def _point_estimates(a, b, ab, ba, calc_second_order: bool) -> dict[str, np.ndarray]:
    """S1, ST (and S2) from the standardised parts, with SALib's operation order.

    Returns zeros when the A and B outputs are constant (SALib returns zeros with a warning there).
    """
    k = ab.shape[0]
    if np.ptp(np.r_[a, b]) <= _EPS:
        res = _zero_result(k, calc_second_order)
        return {key: val for key, val in res.items() if not key.endswith("_conf")}
    var = np.var(np.r_[a, b])
    s1 = _safe_ratio(np.mean(b * (ab - a), axis=1), var)
    st = _safe_ratio(0.5 * np.mean((a - ab) ** 2, axis=1), var)
    res = {"S1": s1, "ST": st}
    if calc_second_order:
        s2 = np.full((k, k), np.nan)
        prod = a * b
        for j in range(k - 1):
            v = _safe_ratio(np.mean(ba[j] * ab[j + 1 :] - prod, axis=1), var)
            s2[j, j + 1 :] = v - s1[j] - s1[j + 1 :]
        res["S2"] = s2
    return res


def _resampled_sums(counts, a, b, ab, ba, calc_second_order: bool, block: int):
    """Resample-weighted sums ``C @ f(A, B, AB)`` of every estimator term, one pass over blocks of base points.

    Returns a dict of arrays with one row per resample: ``mom`` (m, 4) = sums of a0, b0, a0**2, b0**2 (shifted
    by the mean of A and B), ``s1`` and ``st`` (m, k), and ``s2`` (list of (m, k - j - 1)) with second order.
    """
    n = a.size
    k = ab.shape[0]
    m = counts.shape[0]
    shift = np.mean(np.r_[a, b])
    sums = {"mom": np.zeros((m, 4)), "s1": np.zeros((m, k)), "st": np.zeros((m, k))}
    if calc_second_order:
        sums["s2"] = [np.zeros((m, k - j - 1)) for j in range(k - 1)]
    for i0 in range(0, n, block):
        i1 = min(i0 + block, n)
        c = counts[:, i0:i1].astype(np.float64)
        ai, bi, abi = a[i0:i1], b[i0:i1], ab[:, i0:i1]
        a0, b0 = ai - shift, bi - shift
        sums["mom"] += c @ np.column_stack([a0, b0, a0**2, b0**2])
        sums["s1"] += c @ (bi * (abi - ai)).T
        sums["st"] += c @ (0.5 * (ai - abi) ** 2).T
        if calc_second_order:
            prod = ai * bi
            bai = ba[:, i0:i1]
            for j in range(k - 1):
                sums["s2"][j] += c @ (bai[j] * abi[j + 1 :] - prod).T
    return sums


def _resampled_estimates(sums, n: int, k: int, calc_second_order: bool):
    """S1, ST (and S2) of every resample from :func:`_resampled_sums`.

    Returns
    -------
    s1, st : ndarray, shape (m, k)
    s2 : ndarray, shape (m, k, k) (upper triangle, NaN elsewhere) or None
    """
    mom = sums["mom"]
    mean = (mom[:, 0] + mom[:, 1]) / (2 * n)
    var = ((mom[:, 2] + mom[:, 3]) / (2 * n) - mean**2)[:, None]
    s1 = _safe_ratio(sums["s1"] / n, var)
    st = _safe_ratio(sums["st"] / n, var)
    s2 = None
    if calc_second_order:
        s2 = np.full((mom.shape[0], k, k), np.nan)
        for j in range(k - 1):
            v = _safe_ratio(sums["s2"][j] / n, var)
            s2[:, j, j + 1 :] = v - s1[:, j : j + 1] - s1[:, j + 1 :]
    return s1, st, s2


def _analyze_vectorized(
    y: np.ndarray,
    k: int,
    *,
    calc_second_order: bool,
    num_resamples: int,
    conf_level: float,
    seed: int,
) -> list[dict[str, np.ndarray]]:
    """SALib's Sobol' estimates and bootstrap intervals, computed with matrix products.

    Gives the same point estimates and, since the resample indices are drawn with the same call
    (``np.random.default_rng(seed).integers(N, size=(N, num_resamples))``), the same confidence intervals as
    :func:`SALib.analyze.sobol.analyze` up to floating-point round-off.  Every resampled mean is a row of
    ``C @ f(A, B, AB)`` with ``C`` the (num_resamples x N) matrix of resample counts (kept as small integers),
    accumulated in one pass over blocks of base points whose working arrays stay within
    ``_COUNT_PIECE_BYTES``.

    Parameters
    ----------
    y : ndarray, shape (n_out, n_rows)
        Outputs in SALib's row order, one row per model output.
    k : int
        Number of design column blocks (parameters or groups).
    calc_second_order : bool
        Also compute S2 (the design then has ``2 k + 2`` rows per base point).
    num_resamples : int
        Number of bootstrap resamples.
    conf_level : float
        Confidence level of the intervals, in (0, 1).
    seed : int
        Seed (>= 1) of the bootstrap resampling.

    Returns
    -------
    list of dict
        One dict per output with ``S1, S1_conf, ST, ST_conf`` (k,) and, with second order, ``S2, S2_conf``
        (k, k) (upper triangle, NaN elsewhere), all dimensionless.
    """
    y = np.atleast_2d(y)
    step = 2 * k + 2 if calc_second_order else k + 2
    n = y.shape[1] // step
    from scipy.stats import norm  # here, not at the top: scipy.stats is slow to import

    z = norm.ppf(0.5 + conf_level / 2)
    live = [o for o in range(y.shape[0]) if not _is_constant(y[o])]
    parts = {o: _split(y[o], k, calc_second_order) for o in live}
    counts = _count_matrix(_resample_indices(n, num_resamples, seed))
    drawn = counts.any(axis=0)
    # base points per block: the float copy of the counts and the k-wide terms stay within _COUNT_PIECE_BYTES
    block = max(1, _COUNT_PIECE_BYTES // (8 * (num_resamples + 4 * k + 4)))
    boot = {o: _resampled_estimates(_resampled_sums(counts, *parts[o], calc_second_order, block), n, k,
                                    calc_second_order) for o in live}
    del counts
    results = []
    for o in range(y.shape[0]):
        if o not in parts:
            results.append(_zero_result(k, calc_second_order))
            continue
        a, b, ab, ba = parts[o]
        res = _point_estimates(a, b, ab, ba, calc_second_order)
        spread = np.ptp(np.r_[a[drawn], b[drawn]])
        for key, samples in zip(("S1", "ST", "S2"), boot[o]):
            if key not in res:
                continue
            if spread <= _EPS:  # SALib: resampled estimates are all zero
                samples = np.where(np.isnan(samples), np.nan, 0.0)
            res[f"{key}_conf"] = z * samples.std(axis=0, ddof=1)
        if spread == 0.0:
            res["S1_conf"][:] = 0.0
            res["ST_conf"][:] = 0.0
        results.append(res)
    return results


# --------------------------------------------------------------------------------------------------------
# result assembly
# --------------------------------------------------------------------------------------------------------
def _to_dataset(results, *, dim, labels, members, output_names, attrs) -> xr.Dataset:
    """Stack per-output results into a Dataset (leading ``output`` dim when ``output_names`` is not None)."""
    dim2 = f"{dim}_2"
    coords = {dim: list(labels)}
    if members is not None:
        coords["members"] = (dim, list(members))
    lead = ()
    if output_names is not None:
        coords["output"] = list(output_names)
        lead = ("output",)
    descriptions = {
        "S1": "first-order Sobol' index (Saltelli et al. 2010)",
        "ST": "total-order Sobol' index (Jansen 1999)",
        "S2": "second-order Sobol' index (Saltelli 2002); upper triangle only",
    }
    data_vars = {}
    for key in results[0]:
        stacked = np.stack([res[key] for res in results])
        if output_names is None:
            stacked = stacked[0]
        dims = lead + ((dim, dim2) if key.startswith("S2") else (dim,))
        base = key.split("_")[0]
        if key.endswith("_conf"):
            long_name = f"half-width of the {attrs['conf_level']:g} bootstrap confidence interval of {base}"
        else:
            long_name = descriptions[base]
        data_vars[key] = xr.Variable(dims, stacked, {"long_name": long_name, "units": "1"})
    if "S2" in results[0]:
        coords[dim2] = list(labels)
    order = [key for key in ("S1", "S1_conf", "ST", "ST_conf", "S2", "S2_conf") if key in data_vars]
    return xr.Dataset({key: data_vars[key] for key in order}, coords=coords, attrs=attrs)


def _convergence_message(ds: xr.Dataset, threshold: float) -> str | None:
    """Reason why the indices look unconverged, or None."""
    reasons = []
    max_conf = ds.attrs["max_conf"]
    n_base = ds.attrs["n_base"]
    suggested = 2 * n_base
    if max_conf > threshold:
        factor = (max_conf / threshold) ** 2
        suggested = max(suggested, 1 << math.ceil(math.log2(n_base * factor)))
        reasons.append(f"the widest confidence half-width of S1/ST is {max_conf:.3g} > {threshold:g}")
    negative = [key for key in ("S1", "ST") if bool(((ds[key] + ds[f"{key}_conf"]) < 0).any())]
    if negative:
        suggested = max(suggested, 4 * n_base)
        reasons.append(f"{'/'.join(negative)} has estimates negative beyond their confidence interval")
    if not reasons:
        return None
    return (
        f"Sobol' indices with n_base={n_base} have not converged: {'; '.join(reasons)}. "
        f"Use a larger base sample, e.g. n_base={suggested}."
    )


def sobol_indices(
    evaluate: Callable[[np.ndarray], np.ndarray],
    ppf: Callable[[np.ndarray], np.ndarray],
    *,
    names: Sequence[str],
    n_base: int,
    seed: int,
    calc_second_order: bool = False,
    num_resamples: int = 100,
    conf_level: float = 0.95,
    groups: Mapping[str, Sequence[str]] | None = None,
    chunk_size: int = SALTELLI_CHUNK,
    output_names: Sequence[str] | None = None,
    conf_warn_threshold: float = 0.05,
    ppf_columnwise: bool = True,
    progress: Callable[[int, int], None] | None = None,
) -> xr.Dataset:
    """Sobol' sensitivity indices of a model, SALib-exact and memory-bounded.

    The design is SALib's (``SALib.sample.sobol.sample`` with unit bounds, scrambled Sobol' sequence seeded
    with ``seed``); it is generated and evaluated in chunks of at most ``chunk_size`` rows and only the
    outputs are stored.  The indices and their bootstrap intervals are computed with matrix products and equal
    those of ``SALib.analyze.sobol.analyze(..., seed=seed)`` to round-off (the tests compare them with SALib's
    own ``analyze``, ``tests/oracles.py``), much faster.

    Parameters
    ----------
    evaluate : callable
        ``evaluate(X)`` with X of shape (n, d) (physical parameter values, columns in ``names`` order)
        returns the outputs, shape (n,) or (n, k) for k outputs.  Must be finite.
    ppf : callable
        ``ppf(U)`` maps quantiles U, shape (n, d) in the open unit hypercube, to physical values (n, d).
        The design is clipped to [2**-53, 1 - 2**-53] first (:func:`~uncertainty_footprint.inputs.parameters.open_unit`,
        the package's one edge policy: scrambled Sobol' points are multiples of 2**-30 and can be exactly 0).
    names : sequence of str
        The d parameter names.
    n_base : int
        Number N of base points, a power of two >= 2.  The model is run ``N (k + 2)`` times, or
        ``N (2 k + 2)`` with second order (k = number of parameters or groups).
    seed : int
        Seed >= 1, used both for the design scrambling and for the bootstrap (as ``seed=`` of SALib's sample
        and analyze).  0 is refused because SALib's analyze treats it as "unseeded".
    calc_second_order : bool, optional
        Also compute second-order indices S2.
    num_resamples : int, optional
        Number (>= 2) of bootstrap resamples for the confidence intervals.
    conf_level : float, optional
        Confidence level of the intervals, in (0, 1).
    groups : mapping of str to list of str, optional
        ``{group: [parameter, ...]}`` with every parameter in exactly one group: grouped indices as with
        SALib's ``groups`` problem key.  Groups are reported in order of the first appearance of their
        members in ``names`` (SALib's order), not in mapping order.
    chunk_size : int, optional
        Maximum design rows per ``ppf``/``evaluate`` call (at least one base point's rows).  Results do not
        depend on it.
    output_names : sequence of str, optional
        Names of the k outputs (default ``output_0, ...``).  Given with a 1-D ``evaluate`` result, it must
        have length 1 and an ``output`` dimension of length 1 is kept.
    conf_warn_threshold : float, optional
        A :class:`~uncertainty_footprint.warnings.ConvergenceWarning` is emitted when the widest S1/ST
        confidence half-width exceeds this (``math.inf`` disables this check).  It is also emitted when an
        S1 or ST estimate is negative beyond its interval.
    ppf_columnwise : bool, optional
        Declare that ``ppf`` acts column by column (independent inputs), so that it is applied to A and B
        only and the cross rows are assembled from their images (same numbers, far fewer inverse-CDF calls).
        Set False for a ``ppf`` that mixes columns.
    progress : callable, optional
        Called as ``progress(rows_done, n_rows)`` after each chunk of model evaluations.

    Returns
    -------
    xarray.Dataset
        Data variables ``S1, S1_conf, ST, ST_conf`` (dimensionless; ``*_conf`` are confidence half-widths)
        over ``parameter`` (or ``group``, with a coordinate ``members``: comma-separated parameter names),
        plus ``S2, S2_conf`` over (``parameter``, ``parameter_2``) (or (``group``, ``group_2``)) with
        second order, filled above the diagonal only (NaN elsewhere, as SALib).  A leading ``output``
        dimension is present when ``evaluate`` returns 2-D outputs.  Attributes: ``n_base``,
        ``num_resamples``, ``conf_level``, ``estimator``, ``seed``, ``calc_second_order`` (0/1),
        ``grouping`` ("parameters" or "groups"), ``n_evaluations``, ``max_conf`` (widest S1/ST half-width)
        and ``conf_warn_threshold``.  A constant output gives zero indices with zero-width intervals.

    Raises
    ------
    ValueError
        For invalid arguments or non-finite model outputs.
    """
    names = [str(n) for n in names]
    if len(set(names)) != len(names) or not names:
        raise ValueError(f"names must be non-empty and unique, got {names}")
    n_base = _check_n_base(n_base)
    seed = _check_seed(seed, 1)
    num_resamples = check_int(num_resamples, "num_resamples", 2)
    if not 0.0 < conf_level < 1.0:
        raise ValueError(f"conf_level must be in (0, 1), got {conf_level!r}")
    calc_second_order = bool(calc_second_order)
    labels = None if groups is None else _labels_from_mapping(groups, names)

    design = SaltelliDesign(
        n_base, len(names), seed=seed, calc_second_order=calc_second_order, chunk_size=chunk_size, groups=labels
    )
    y, one_dim = _evaluate_design(design, evaluate, ppf, ppf_columnwise, progress)
    k, n_rows, group_labels = design.n_groups, design.n_rows, design.group_labels
    del design  # A and B are no longer needed
    if output_names is not None:
        output_names = [str(o) for o in output_names]
        if len(output_names) != y.shape[0]:
            raise ValueError(f"output_names has {len(output_names)} names for {y.shape[0]} model outputs")
    elif not one_dim:
        output_names = [f"output_{i}" for i in range(y.shape[0])]

    results = _analyze_vectorized(y, k, seed=seed, calc_second_order=calc_second_order,
                                  num_resamples=num_resamples, conf_level=conf_level)
    del y

    if labels is None:
        dim, coord_labels, members = "parameter", names, None
    else:
        dim, coord_labels = "group", group_labels
        members = [",".join(n for n, g in zip(names, labels) if g == group) for group in coord_labels]
    max_conf = float(max(np.max(res[key]) for res in results for key in ("S1_conf", "ST_conf")))
    attrs = {
        "n_base": n_base,
        "num_resamples": num_resamples,
        "conf_level": float(conf_level),
        "estimator": ESTIMATOR,
        "seed": seed,
        "calc_second_order": int(calc_second_order),
        "grouping": "parameters" if labels is None else "groups",
        "n_evaluations": n_rows,
        "max_conf": max_conf,
        "conf_warn_threshold": float(conf_warn_threshold),
    }
    ds = _to_dataset(
        results, dim=dim, labels=coord_labels, members=members, output_names=output_names, attrs=attrs
    )
    message = _convergence_message(ds, float(conf_warn_threshold))
    if message is not None:
        warnings.warn(message, ConvergenceWarning, stacklevel=2)
    return ds
