"""Rank correlations between named inputs, sampled with a Gaussian copula.

An experiment may declare Spearman rank correlations between pairs of its random inputs, as a list of
``[name_a, name_b, rho]`` items. :func:`correlation_matrix` checks the list and builds the target Spearman matrix
over the inputs that appear in it; the copula works with the correlation of the *normal scores*
``z = Phi^-1(u)``, which for a Gaussian copula relates to Spearman's rho by (Kruskal 1958)

    ``rho_S = (6 / pi) arcsin(r / 2)``, i.e. ``r = 2 sin(pi rho_S / 6)``

(:func:`spearman_to_pearson`, :func:`pearson_to_spearman`). Rank correlations are invariant under the monotone
inverse CDFs of the marginals, so the target holds for any marginals. A Spearman matrix that is positive definite
can give a normal-score matrix that is not (Ghosh & Henderson 2003); such a declaration is refused and a small
set of declared pairs that conflict is named.

:func:`apply_copula` turns a design block of independent uniforms into correlated uniforms: the correlated
columns ``u`` become ``Phi(L Phi^-1(u))`` with ``L`` the Cholesky factor of the normal-score matrix (the NORTA
construction, Cario & Nelson 1997; the Gaussian copula of Nelsen 2006, sect. 2.3 and Iman & Conover 1982 for the
use of rank correlation). Each row is transformed on its own, in a fixed order of floating-point operations, so
the bytes of a row do not depend on how the design is cut into blocks; the marginals stay uniform and the other
columns are not touched. :func:`achieved_spearman` measures the rank correlation reached by a sample.

References
----------
Kruskal, W. H. (1958). Ordinal measures of association. Journal of the American Statistical Association 53(284),
814-861. https://doi.org/10.1080/01621459.1958.10501481

Iman, R. L., Conover, W. J. (1982). A distribution-free approach to inducing rank correlation among input
variables. Communications in Statistics - Simulation and Computation 11(3), 311-334.
https://doi.org/10.1080/03610918208812265

Cario, M. C., Nelson, B. L. (1997). Modeling and generating random vectors with arbitrary marginal distributions
and correlation matrix. Technical report, Northwestern University.

Ghosh, S., Henderson, S. G. (2003). Behavior of the NORTA method for correlated random vector generation as the
dimension increases. ACM Transactions on Modeling and Computer Simulation 13(3), 276-294.
https://doi.org/10.1145/937332.937336

Nelsen, R. B. (2006). An Introduction to Copulas, 2nd edition. Springer. https://doi.org/10.1007/0-387-28678-0
"""

from __future__ import annotations

import math
import reprlib
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.special import ndtr, ndtri  # scipy.stats (slow to import) only in achieved_spearman

from ..errors import ConfigError, SpecError
from .distributions import UNIT_EDGE, as_number

__all__ = ["CorrelationSpec", "correlation_matrix", "spearman_to_pearson", "pearson_to_spearman", "apply_copula",
           "achieved_spearman", "fixed_order_product", "UNIT_LOW", "UNIT_HIGH", "PD_TOLERANCE"]

#: The open unit interval the copula works in: uniforms are clipped to ``[UNIT_LOW, UNIT_HIGH]`` before
#: ``Phi^-1`` and its results after ``Phi`` (the package's edge policy,
#: :func:`~uncertainty_footprint.inputs.parameters.open_unit`: ``2**-53`` from either end). Points inside the
#: interval are unchanged.
UNIT_LOW = UNIT_EDGE
UNIT_HIGH = 1.0 - UNIT_EDGE
#: A normal-score matrix whose smallest eigenvalue is not above this is refused as not positive definite [1].
PD_TOLERANCE = 1e-10
#: Names of allowed inputs an error message lists at most.
_LISTED_NAMES = 10
#: Rows transformed together by :func:`apply_copula` (cache-sized; the results do not depend on it).
_BLOCK_ROWS = 8192

_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 60
_REPR.maxlist = _REPR.maxtuple = _REPR.maxdict = 4


def _quote(value: Any) -> str:
    """A short one-line ``repr`` of a value read from the user's file."""
    try:
        text = _REPR.repr(value)
    except Exception:  # a broken __repr__
        text = f"<{type(value).__name__}>"
    return " ".join(text.splitlines())


def spearman_to_pearson(rho):
    """Normal-score (Pearson) correlation of a Gaussian copula with Spearman rank correlation ``rho``.

    Parameters
    ----------
    rho : float or array_like
        Spearman's rho, in [-1, 1] [1].

    Returns
    -------
    float or numpy.ndarray
        ``2 sin(pi rho / 6)`` [1], elementwise (the same shape as ``rho``).

    Examples
    --------
    >>> float(spearman_to_pearson(0.5))  # doctest: +ELLIPSIS
    0.517638...
    """
    return 2.0 * np.sin(np.pi * np.asarray(rho, dtype=float) / 6.0)


def pearson_to_spearman(r):
    """Spearman rank correlation of a Gaussian copula with normal-score correlation ``r`` (the inverse of
    :func:`spearman_to_pearson`).

    Parameters
    ----------
    r : float or array_like
        Normal-score correlation, in [-1, 1] [1].

    Returns
    -------
    float or numpy.ndarray
        ``(6 / pi) arcsin(r / 2)`` [1], elementwise.
    """
    return (6.0 / np.pi) * np.arcsin(np.asarray(r, dtype=float) / 2.0)


def _read_only(a: np.ndarray) -> np.ndarray:
    a = np.array(a, dtype=float, order="C")
    a.setflags(write=False)
    return a


@dataclass(frozen=True, eq=False)
class CorrelationSpec:
    """Checked rank correlations of some inputs: the target and the Gaussian copula that samples it.

    Build it with :func:`correlation_matrix`. The arrays are read-only.

    Attributes
    ----------
    names : tuple of str
        The inputs that appear in a declared pair, in the order of the ``names`` given to
        :func:`correlation_matrix`; rows and columns of the matrices follow it.
    pairs : tuple of (str, str, float)
        The declared pairs, in the order of the file.
    spearman : numpy.ndarray, shape (m, m)
        Target Spearman rank correlation (0 for undeclared pairs) [1].
    normal : numpy.ndarray, shape (m, m)
        Correlation of the normal scores, :func:`spearman_to_pearson` of ``spearman`` (unit diagonal) [1].
    cholesky : numpy.ndarray, shape (m, m)
        Lower-triangular ``L`` with ``L L^T = normal``.
    reasons : tuple of str
        Why each pair is correlated (empty when the item did not say).
    sources : tuple of tuple of str
        The source keys of each pair.
    """

    names: tuple[str, ...]
    pairs: tuple[tuple[str, str, float], ...]
    spearman: np.ndarray
    normal: np.ndarray
    cholesky: np.ndarray
    reasons: tuple[str, ...] = ()
    sources: tuple[tuple[str, ...], ...] = ()

    def __post_init__(self):
        m = len(self.names)
        for field_name in ("spearman", "normal", "cholesky"):
            value = _read_only(getattr(self, field_name))
            if value.shape != (m, m):
                raise ValueError(f"{field_name} must have shape ({m}, {m}), got {value.shape}")
            object.__setattr__(self, field_name, value)
        object.__setattr__(self, "names", tuple(self.names))
        object.__setattr__(self, "pairs", tuple(self.pairs))
        object.__setattr__(self, "reasons", tuple(self.reasons) or ("",) * len(self.pairs))
        object.__setattr__(self, "sources", tuple(tuple(x) for x in self.sources) or ((),) * len(self.pairs))
        if not len(self.reasons) == len(self.sources) == len(self.pairs):
            raise ValueError("reasons and sources must have one entry per pair")

    def __repr__(self) -> str:
        pairs = ", ".join(f"({a}, {b}, {rho:g})" for a, b, rho in self.pairs)
        return f"CorrelationSpec({len(self.names)} inputs; {pairs})"


def _allowed(names: Sequence[str]) -> str:
    shown = ", ".join(names[:_LISTED_NAMES])
    if len(names) > _LISTED_NAMES:
        shown += f", ... ({len(names)} in all)"
    return shown or "(none)"


def _pair_list(pairs) -> str:
    return ", ".join(f"({a}, {b})" for a, b in pairs)


def _is_pd(matrix: np.ndarray) -> bool:
    return bool(np.linalg.eigvalsh(matrix)[0] > PD_TOLERANCE)


def _conflicting_subset(normal: np.ndarray) -> list[int]:
    """Indices of a minimal set of inputs whose normal-score submatrix is not positive definite.

    Starting from all inputs, drop one input at a time, those with the smallest weight in the eigenvector of the
    smallest eigenvalue first, whenever the rest is still not positive definite. A principal submatrix of a
    positive definite matrix is positive definite, so a single pass leaves a set from which no input can be
    dropped."""
    _, vectors = np.linalg.eigh(normal)
    weight = np.abs(vectors[:, 0])
    keep = list(range(normal.shape[0]))
    for i in sorted(keep, key=lambda k: (weight[k], k)):
        trial = [k for k in keep if k != i]
        if len(trial) >= 2 and not _is_pd(normal[np.ix_(trial, trial)]):
            keep = trial
    return keep


_ITEM_KEYS = ("between", "rho", "reason", "source")
#: Longest ``reason`` of a correlation [characters].
MAX_REASON = 300


def _item(item: Any, where: str, source: str, known_sources) -> tuple[tuple, str, tuple[str, ...]]:
    """``[a, b, rho]`` from an item, with its reason and source keys (a mapping item may give them)."""
    if isinstance(item, Mapping):
        unknown = [k for k in item if k not in _ITEM_KEYS]
        if unknown:
            raise ConfigError(source, f"{where}.{str(unknown[0])[:40]}", f"unknown key; allowed: "
                              f"{', '.join(_ITEM_KEYS)}")
        between = item.get("between")
        if not isinstance(between, (list, tuple)) or len(between) != 2 or "rho" not in item:
            raise ConfigError(source, where, "a mapping item gives between: [name_a, name_b] and rho (and may give "
                              "reason and source)")
        reason = item.get("reason", "")
        if not isinstance(reason, str) or not reason.isprintable() or len(reason) > MAX_REASON:
            raise ConfigError(source, f"{where}.reason", f"must be one line of printable text of at most "
                              f"{MAX_REASON} characters")
        keys = item.get("source", ())
        keys = (keys,) if isinstance(keys, str) else keys
        if not isinstance(keys, (list, tuple)) or not all(isinstance(k, str) for k in keys):
            raise ConfigError(source, f"{where}.source", "must be a source key or a list of them")
        if known_sources is not None:
            for k in keys:
                if k not in known_sources:
                    raise ConfigError(source, f"{where}.source", f"unknown source {_quote(k)}; add it to the "
                                      "experiment's sources or distributions/sources.yaml")
        return (between[0], between[1], item["rho"]), reason, tuple(keys)
    if not isinstance(item, (list, tuple)) or len(item) != 3:
        raise ConfigError(source, where, f"must be a list [name_a, name_b, rho] (or a mapping with between, rho, "
                          f"reason, source), got {_quote(item)}")
    return tuple(item), "", ()


def correlation_matrix(names: Sequence[str], pairs: Any, *, source: str, aliases: Mapping[str, str] | None = None,
                       known_sources: Collection[str] | None = None) -> CorrelationSpec:
    """Check declared Spearman correlations and build the Gaussian copula that samples them.

    Parameters
    ----------
    names : sequence of str
        The inputs that may be correlated (the experiment's random parameters), in design order.
    pairs : list
        The ``correlations`` list read from the file: items ``[name_a, name_b, rho]`` with two different names
        of ``names`` and a Spearman rank correlation ``-1 < rho < 1`` [1]; each pair at most once (in either
        order). Undeclared pairs are uncorrelated. ``None`` or an empty list declares nothing.
    source : str
        The file the list comes from, for error messages.
    aliases : mapping of str to str, optional
        Other names of inputs (e.g. a component given as a distribution -> its parameter ``<component>_footprint``).
    known_sources : collection of str, optional
        The source keys a mapping item may cite (not checked when None).

    Returns
    -------
    CorrelationSpec
        The inputs that appear in a pair (in ``names`` order) with the target Spearman matrix, the normal-score
        matrix and its Cholesky factor.

    Raises
    ------
    ConfigError
        With key path ``correlations[i]`` for a bad item: not a list of three, an unknown name, a name paired
        with itself, a ``rho`` that is not a finite number in (-1, 1), a pair given twice; with key path
        ``correlations`` when the normal-score matrix is not positive definite (the message names a small set
        of declared pairs that conflict).

    Examples
    --------
    >>> spec = correlation_matrix(["a", "b", "c"], [["c", "a", 0.5]], source="exp.yaml")
    >>> spec.names
    ('a', 'c')
    >>> spec.normal.round(4).tolist()
    [[1.0, 0.5176], [0.5176, 1.0]]
    """
    names = list(names)
    if pairs is None:
        pairs = []
    if not isinstance(pairs, (list, tuple)):
        raise ConfigError(source, "correlations",
                          f"must be a list of [name_a, name_b, rho] items, got {_quote(pairs)}")
    known = set(names)
    aliases = dict(aliases or {})
    seen: dict[frozenset, int] = {}
    checked: list[tuple[str, str, float]] = []
    reasons: list[str] = []
    cited: list[tuple[str, ...]] = []
    for i, item in enumerate(pairs):
        where = f"correlations[{i}]"
        item, reason, keys = _item(item, where, source, known_sources)
        a, b, rho = item
        a, b = aliases.get(a, a) if isinstance(a, str) else a, aliases.get(b, b) if isinstance(b, str) else b
        for name in (a, b):
            if not isinstance(name, str) or name not in known:
                raise ConfigError(source, where, f"unknown parameter {_quote(name)}; allowed: {_allowed(names)}")
        if a == b:
            raise ConfigError(source, where, f"{a!r} cannot be correlated with itself")
        try:
            rho = as_number(rho, "rho")
        except SpecError:
            rho = math.nan
        if not -1.0 < rho < 1.0:
            raise ConfigError(source, where, f"rho must be a finite number with -1 < rho < 1, got {_quote(item[2])}")
        key = frozenset((a, b))
        if key in seen:
            raise ConfigError(source, where, f"the pair ({a}, {b}) is already given in correlations[{seen[key]}]")
        seen[key] = i
        checked.append((a, b, float(rho)))
        reasons.append(reason)
        cited.append(keys)

    involved = {n for a, b, _ in checked for n in (a, b)}
    order = tuple(n for n in dict.fromkeys(names) if n in involved)
    index = {n: k for k, n in enumerate(order)}
    m = len(order)
    spearman = np.eye(m)
    for a, b, rho in checked:
        spearman[index[a], index[b]] = spearman[index[b], index[a]] = rho
    normal = spearman_to_pearson(spearman)
    np.fill_diagonal(normal, 1.0)
    if m and not _is_pd(normal):
        subset = set(_conflicting_subset(normal))
        inside = [(a, b) for a, b, _ in checked if index[a] in subset and index[b] in subset]
        message = f"not positive definite after conversion; the pairs {_pair_list(inside)} conflict"
        declared = {frozenset(pair) for pair in inside}
        members = [n for n in order if index[n] in subset]
        undeclared = [(a, b) for k, a in enumerate(members) for b in members[k + 1:] if {a, b} not in declared]
        if undeclared:  # the conflict needs them: say that an undeclared pair means rho = 0
            message += f" (undeclared pairs are uncorrelated: {_pair_list(undeclared[:3])})"
        raise ConfigError(source, "correlations", message)
    cholesky = np.linalg.cholesky(normal) if m else np.zeros((0, 0))
    return CorrelationSpec(order, tuple(checked), spearman, normal, cholesky, tuple(reasons), tuple(cited))


def fixed_order_product(matrix: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``out[a] = sum_k matrix[a, k] x[k]`` over the first axis of x, in a fixed order of elementwise operations
    (zero coefficients skipped): every element depends on its own position in x only, whatever the other axes'
    lengths (no BLAS kernel whose summation order changes with the size), so a row's bytes do not depend on how
    a design is cut into blocks."""
    out = np.zeros((matrix.shape[0],) + x.shape[1:])
    for a in range(matrix.shape[0]):
        for k in range(matrix.shape[1]):
            coef = matrix[a, k]
            if coef != 0.0:
                out[a] += coef * x[k]
    return out


def apply_copula(u: np.ndarray, columns: Sequence[str], corr: CorrelationSpec | None,
                 out: np.ndarray | None = None) -> np.ndarray:
    """Correlate the columns of a design block of independent uniforms with the Gaussian copula.

    The columns of ``corr.names`` become ``Phi(L z)`` with ``z = Phi^-1(u)`` and ``L = corr.cholesky``; the other
    columns are copied unchanged (bit for bit). Each row is transformed on its own in a fixed order of operations:
    the result for a row depends on that row only, so any cut of a design into blocks gives the same bytes.

    Parameters
    ----------
    u : numpy.ndarray, shape (n, d)
        Independent uniforms in [0, 1] [1]. Values of correlated columns are clipped to
        ``[UNIT_LOW, UNIT_HIGH]`` before ``Phi^-1``.
    columns : sequence of str
        The name of each column of ``u`` (length d); every name of ``corr.names`` must be one of them.
    corr : CorrelationSpec or None
        From :func:`correlation_matrix`; ``None`` (or no correlated inputs) only copies ``u``.
    out : numpy.ndarray, optional
        Where to write the result: ``u`` itself to transform in place, another array of the shape of ``u``, or a
        new array (the default, in the memory order of ``u``).

    Returns
    -------
    numpy.ndarray, shape (n, d)
        ``out``: correlated uniforms in ``[UNIT_LOW, UNIT_HIGH]`` in the correlated columns (each still uniform on
        its own) [1].

    Examples
    --------
    >>> spec = correlation_matrix(["a", "b"], [["a", "b", -0.9]], source="exp.yaml")
    >>> x = apply_copula(np.array([[0.1, 0.5], [0.9, 0.5]]), ("a", "b"), spec)
    >>> bool(x[0, 1] > 0.5 > x[1, 1])
    True
    """
    u = np.asarray(u)
    columns = tuple(columns)
    if u.ndim != 2 or u.shape[1] != len(columns):
        raise ValueError(f"u must have shape (n, {len(columns)}) for {len(columns)} columns, got {u.shape}")
    if out is None:
        out = np.array(u, dtype=float, order="K", copy=True)
    elif out is not u:
        if out.shape != u.shape:
            raise ValueError(f"out must have shape {u.shape}, got {out.shape}")
        out[...] = u
    if corr is None or not corr.names:
        return out
    position = {name: j for j, name in enumerate(columns)}
    missing = [name for name in corr.names if name not in position]
    if missing:
        raise ValueError(f"correlated inputs without a design column: {', '.join(missing)}")
    idx = [position[name] for name in corr.names]
    cholesky = corr.cholesky
    m, n = len(idx), u.shape[0]
    z = np.empty((m, min(n, _BLOCK_ROWS)))
    for start in range(0, n, _BLOCK_ROWS):
        stop = min(start + _BLOCK_ROWS, n)
        zb = z[:, : stop - start]
        for k, j in enumerate(idx):  # read every correlated column of the block before writing any
            np.clip(u[start:stop, j], UNIT_LOW, UNIT_HIGH, out=zb[k])
            ndtri(zb[k], out=zb[k])
        x = fixed_order_product(cholesky, zb)
        for k, j in enumerate(idx):
            out[start:stop, j] = np.clip(ndtr(x[k]), UNIT_LOW, UNIT_HIGH)
    return out


def achieved_spearman(x_columns) -> np.ndarray:
    """Spearman rank correlation matrix of a sample, to report the achieved against the target correlation.

    Parameters
    ----------
    x_columns : array_like, shape (n, m)
        n >= 2 draws of m variables (one column per variable; uniforms or physical values alike: ranks do not
        change under the inverse CDFs).

    Returns
    -------
    numpy.ndarray, shape (m, m)
        Pearson correlation of the column ranks (average ranks for ties) [1].
    """
    from scipy.stats import rankdata

    x = np.asarray(x_columns, dtype=float)
    if x.ndim != 2 or x.shape[0] < 2:
        raise ValueError(f"x_columns must have shape (n, m) with n >= 2, got {x.shape}")
    ranks = rankdata(x, axis=0)
    return np.atleast_2d(np.corrcoef(ranks, rowvar=False))
