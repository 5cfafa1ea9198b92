"""Distribution families: a registry from a data-file spec to a frozen distribution.

A spec is a mapping with a ``family`` key and the family's named parameters, as written in the files under
``distributions/`` and in experiment files::

    {family: pert, low: 10, mode: 50, high: 100}
    {family: lognormal, median: 0.421, gsd: 1.88}

Every family maps the unit interval to physical values with one vectorized ``ppf`` (the single inverse-CDF step
of the package) and states its *central* value (the value a deterministic evaluation uses when a record gives
no explicit nominal): the mode for triangular and PERT, the median for lognormal, the mean for (truncated)
normal, the mid-point for uniform, the geometric mid-point for log-uniform.

Families (parameters)
---------------------
fixed (value); uniform (low, high); loguniform (low, high); triangular (low, mode, high);
pert (low, mode, high[, lambda=4]); normal (mean, sd); truncnormal (mean, sd, low, high);
lognormal (median, gsd).

References
----------
.. [1] Vose, D. (2008). Risk Analysis: A Quantitative Guide, 3rd ed. Wiley. (PERT with lambda = 4.)
.. [2] Limpert, E., Stahel, W. A. & Abbt, M. (2001). Log-normal distributions across the sciences. BioScience 51(5).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Callable, Mapping

import numpy as np
from scipy import special, stats

from ..errors import SpecError, shorten

__all__ = ["Distribution", "Family", "FAMILIES", "make_distribution", "as_number"]

_FLOAT_RE = re.compile(r"^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$")


def as_number(value: Any, what: str) -> float:
    """Return ``value`` as a finite float, accepting YAML 1.2 number strings such as ``"1e-3"``.

    PyYAML follows YAML 1.1 and reads ``1e-3`` (no dot) as a string; this accepts it. Booleans, other strings,
    NaN and infinities are refused with a :class:`SpecError` naming ``what``.
    """
    if isinstance(value, bool) or value is None:
        raise SpecError(f"{what} must be a number, got {shorten(value)}")
    if isinstance(value, str):
        if not _FLOAT_RE.match(value.strip()):
            raise SpecError(f"{what} must be a number, got {shorten(value)}")
        value = float(value)
    if not isinstance(value, (int, float, np.integer, np.floating)):
        raise SpecError(f"{what} must be a number, got {type(value).__name__} {shorten(value)}")
    value = float(value)
    if not math.isfinite(value):
        raise SpecError(f"{what} must be finite, got {shorten(value)}")
    return value


@dataclass(frozen=True)
class Distribution:
    """A frozen one-dimensional distribution built from a spec.

    Attributes
    ----------
    family : str
        Registry name of the family.
    params : dict
        The spec's parameters as floats.
    frozen : scipy.stats frozen distribution or None
        ``None`` for the ``fixed`` family.
    central : float
        The family's central value (mode, median, mean or mid-point; see module docstring).
    """

    family: str
    params: Mapping[str, float]
    frozen: Any
    central: float
    _fast_ppf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False, compare=False)

    @property
    def is_fixed(self) -> bool:
        """True when the distribution is a single value (no design column is needed)."""
        return self.frozen is None

    def ppf(self, u: np.ndarray) -> np.ndarray:
        """Inverse CDF: map probabilities ``u`` in (0, 1) to values (vectorized).

        Uses the family's fast path (closed form, or a verified interpolation table; see :data:`FAST_PPF`)
        where there is one; ``frozen.ppf`` is the reference.
        """
        u = np.asarray(u, dtype=float)
        if self.frozen is None:
            return np.full(u.shape, self.central)
        if self._fast_ppf is not None:
            return self._fast_ppf(u)
        return self.frozen.ppf(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Cumulative distribution function [1] at ``x`` [the parameter's unit] (a step at the value for
        ``fixed``); scipy's, the reference the fast inverse CDFs are verified against."""
        x = np.asarray(x, dtype=float)
        if self.frozen is None:
            return (x >= self.central).astype(float)
        return self.frozen.cdf(x)

    def mean(self) -> float:
        """Mean [the parameter's unit] (the value for ``fixed``)."""
        return self.central if self.frozen is None else float(self.frozen.mean())

    def std(self) -> float:
        """Standard deviation [the parameter's unit] (0 for ``fixed``)."""
        return 0.0 if self.frozen is None else float(self.frozen.std())

    def support(self) -> tuple[float, float]:
        """Lower and upper bound of the support (may be infinite)."""
        if self.frozen is None:
            return (self.central, self.central)
        lo, hi = self.frozen.support()
        return (float(lo), float(hi))

    def to_spec(self) -> dict[str, Any]:
        """The spec this distribution was built from (a plain dict)."""
        return {"family": self.family, **dict(self.params)}

    def describe(self) -> str:
        """Short human-readable form, e.g. ``pert(low=10, mode=50, high=100)``."""
        args = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        return f"{self.family}({args})"


@dataclass(frozen=True)
class Family:
    """A registry entry: required and optional parameter names, a checker and a builder (the families and their
    meaning are described in the module docstring)."""

    name: str
    required: tuple[str, ...]
    optional: Mapping[str, float]
    build: Callable[[Mapping[str, float]], tuple[Any, float]]
    check: Callable[[Mapping[str, float]], None]


FAMILIES: dict[str, Family] = {}


def _register(name: str, required: tuple[str, ...], optional: Mapping[str, float] | None = None):
    def decorator(pair):
        check, build = pair
        FAMILIES[name] = Family(name, required, dict(optional or {}), build, check)
        return pair

    return decorator


def _need(cond: bool, message: str) -> None:
    if not cond:
        raise SpecError(message)


def _ordered(p, names):
    values = [p[n] for n in names]
    _need(all(a <= b for a, b in zip(values, values[1:])), f"needs {' <= '.join(names)}, got "
          + ", ".join(f"{n}={p[n]:g}" for n in names))


# --- fixed ---------------------------------------------------------------------------------------------------
_register("fixed", ("value",))((
    lambda p: None,
    lambda p: (None, p["value"]),
))

# --- uniform -------------------------------------------------------------------------------------------------
_register("uniform", ("low", "high"))((
    lambda p: _need(p["low"] < p["high"], f"needs low < high, got low={p['low']:g}, high={p['high']:g}"),
    lambda p: (stats.uniform(loc=p["low"], scale=p["high"] - p["low"]), 0.5 * (p["low"] + p["high"])),
))

# --- loguniform ----------------------------------------------------------------------------------------------
_register("loguniform", ("low", "high"))((
    lambda p: (_need(p["low"] > 0, f"needs low > 0, got low={p['low']:g}"),
               _need(p["low"] < p["high"], f"needs low < high, got low={p['low']:g}, high={p['high']:g}")),
    lambda p: (stats.loguniform(p["low"], p["high"]), math.sqrt(p["low"] * p["high"])),
))


# --- triangular ----------------------------------------------------------------------------------------------
def _triangular(p):
    width = p["high"] - p["low"]
    return stats.triang(c=(p["mode"] - p["low"]) / width, loc=p["low"], scale=width), p["mode"]


_register("triangular", ("low", "mode", "high"))((
    lambda p: (_ordered(p, ("low", "mode", "high")), _need(p["low"] < p["high"], "needs low < high")),
    _triangular,
))


# --- PERT ----------------------------------------------------------------------------------------------------
def _pert_shape(p):
    width = p["high"] - p["low"]
    lam = p["lambda"]
    a = 1.0 + lam * (p["mode"] - p["low"]) / width
    b = 1.0 + lam * (p["high"] - p["mode"]) / width
    return a, b, width


def _pert(p):
    a, b, width = _pert_shape(p)
    return stats.beta(a, b, loc=p["low"], scale=width), p["mode"]


_register("pert", ("low", "mode", "high"), optional={"lambda": 4.0})((
    lambda p: (_ordered(p, ("low", "mode", "high")), _need(p["low"] < p["high"], "needs low < high"),
               _need(p["lambda"] > 0, f"needs lambda > 0, got {p['lambda']:g}")),
    _pert,
))

# --- normal --------------------------------------------------------------------------------------------------
_register("normal", ("mean", "sd"))((
    lambda p: _need(p["sd"] > 0, f"needs sd > 0, got sd={p['sd']:g}"),
    lambda p: (stats.norm(loc=p["mean"], scale=p["sd"]), p["mean"]),
))


# --- truncated normal ----------------------------------------------------------------------------------------
def _truncnormal(p):
    a = (p["low"] - p["mean"]) / p["sd"]
    b = (p["high"] - p["mean"]) / p["sd"]
    return stats.truncnorm(a, b, loc=p["mean"], scale=p["sd"]), min(max(p["mean"], p["low"]), p["high"])


_register("truncnormal", ("mean", "sd", "low", "high"))((
    lambda p: (_need(p["sd"] > 0, f"needs sd > 0, got sd={p['sd']:g}"),
               _need(p["low"] < p["high"], f"needs low < high, got low={p['low']:g}, high={p['high']:g}")),
    _truncnormal,
))

# --- lognormal -----------------------------------------------------------------------------------------------
_register("lognormal", ("median", "gsd"))((
    lambda p: (_need(p["median"] > 0, f"needs median > 0, got median={p['median']:g}"),
               _need(p["gsd"] > 1, f"needs gsd > 1, got gsd={p['gsd']:g}")),
    lambda p: (stats.lognorm(s=math.log(p["gsd"]), scale=p["median"]), p["median"]),
))


# --- fast inverse CDFs ----------------------------------------------------------------------------------------
# scipy's generic ppf costs about 1 us per value for the beta (PERT) and truncated normal. The families with a
# closed form use it directly; PERT and truncnormal use a cubic Hermite table of the exact inverse of the
# standardized shape (nodes and slopes from scipy) whose accuracy is verified at every cell's midpoint when the
# table is built: cells that miss the tolerance (the tails, where the inverse is steep) fall back to scipy's exact
# ppf. The table is always used, whatever the size of the call, so results never depend on chunking.

#: Cells of an inverse-CDF table and the accepted interpolation error (relative to the support's width).
TABLE_CELLS = 1 << 14
TABLE_TOLERANCE = 1e-12


class _InverseTable:
    """Piecewise cubic Hermite interpolant of a *standardized* distribution's ppf on ``cells`` equal cells of
    probability ``[u0, u1]``. Cells whose midpoint error exceeds the tolerance are *inexact*; a run of inexact
    cells at either end (the steep tails) gets a finer sub-table over that run, up to :data:`TABLE_DEPTH`
    levels; the remaining inexact cells use the exact ppf. Tables are shared by all distributions of the same
    shape (see :func:`_table`), built on first use, and never pickled (a worker process rebuilds them)."""

    def __init__(self, frozen, u0: float = 0.0, u1: float = 1.0, depth: int = 0,
                 cells: int = TABLE_CELLS, tolerance: float = TABLE_TOLERANCE):
        self.frozen, self.u0, self.u1, self.depth = frozen, u0, u1, depth
        self.cells = cells
        self.tolerance = tolerance
        self.coef = None  # (4, cells) polynomial coefficients in the cell's local coordinate t in [0, 1)
        self.exact = None
        self.subtables: list["_InverseTable"] = []

    def __getstate__(self):
        state = dict(self.__dict__)
        state.update(coef=None, exact=None, subtables=[])
        return state

    def build(self) -> None:
        cells, frozen = self.cells, self.frozen
        grid = np.linspace(self.u0, self.u1, cells + 1)
        h = (self.u1 - self.u0) / cells
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = frozen.ppf(grid)
            m = h / frozen.pdf(x)  # dx/du over one cell
            x0, x1, m0, m1 = x[:-1], x[1:], m[:-1], m[1:]
            coef = np.column_stack([x0, m0, 3 * (x1 - x0) - 2 * m0 - m1, 2 * (x0 - x1) + m0 + m1])
            mid = coef[:, 0] + 0.5 * (coef[:, 1] + 0.5 * (coef[:, 2] + 0.5 * coef[:, 3]))
            err = np.abs(mid - frozen.ppf(self.u0 + (np.arange(cells) + 0.5) * h))
        lo, hi = frozen.support()
        width = (hi - lo) if np.isfinite(hi - lo) else float(frozen.std())
        exact = ~(err <= self.tolerance * width)  # NaN (infinite slopes in the tails) counts as inexact
        coef[exact] = 0.0
        # route[cell]: 0 = this table, 1 = exact ppf, 2 + k = sub-table k
        route = exact.astype(np.int8)
        if self.depth < TABLE_DEPTH:
            good = np.flatnonzero(~exact)
            if good.size:
                for first, last in ((0, good[0]), (good[-1] + 1, cells)):
                    if last > first:  # a run of inexact cells at an end: refine it
                        sub = _InverseTable(frozen, self.u0 + first * h, self.u0 + last * h, self.depth + 1,
                                            cells=max(64, cells // 16), tolerance=self.tolerance)
                        sub.build()
                        route[first:last] = 2 + len(self.subtables)
                        self.subtables.append(sub)
        self.coef = np.ascontiguousarray(coef.T)
        self.exact = route

    def __call__(self, u: np.ndarray) -> np.ndarray:
        if self.coef is None:
            self.build()
        scaled = (u - self.u0) * (self.cells / (self.u1 - self.u0))
        i = np.clip(scaled.astype(np.intp), 0, self.cells - 1)
        t = scaled - i
        c = self.coef
        out = c[0, i] + t * (c[1, i] + t * (c[2, i] + t * c[3, i]))
        route = self.exact[i]
        special = np.flatnonzero(route)
        if special.size:
            kinds = route[special]
            for kind in np.unique(kinds):
                at = special[kinds == kind]
                out[at] = self.frozen.ppf(u[at]) if kind == 1 else self.subtables[kind - 2](u[at])
        return out


#: Levels of finer sub-tables for the tails of an inverse-CDF table.
TABLE_DEPTH = 3


@lru_cache(maxsize=256)
def _table(family: str, a: float, b: float) -> _InverseTable:
    """The shared inverse table of a standardized beta (PERT) or truncated normal of shape (a, b)."""
    frozen = stats.beta(a, b) if family == "pert" else stats.truncnorm(a, b)
    return _InverseTable(frozen)


def _scaled_table(family: str, a: float, b: float, loc: float, scale: float):
    table = _table(family, a, b)

    def ppf(u):
        out = table(u)
        out *= scale
        out += loc
        return out

    return ppf


def _pert_fast(p, frozen):
    a, b, width = _pert_shape(p)
    return _scaled_table("pert", a, b, p["low"], width)


def _truncnormal_fast(p, frozen):
    return _scaled_table("truncnormal", (p["low"] - p["mean"]) / p["sd"], (p["high"] - p["mean"]) / p["sd"],
                         p["mean"], p["sd"])


def _lognormal_ppf(p):
    mu, sigma = math.log(p["median"]), math.log(p["gsd"])
    return lambda u: np.exp(mu + sigma * special.ndtri(u))


def _triangular_ppf(p):
    lo, mode, hi = p["low"], p["mode"], p["high"]
    c = (mode - lo) / (hi - lo)

    def ppf(u):
        left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
        return np.where(u < c, left, right)

    return ppf


#: family -> factory(params, frozen) of a vectorized ppf faster than scipy's generic one.
FAST_PPF: dict[str, Callable[[Mapping[str, float], Any], Callable[[np.ndarray], np.ndarray]]] = {
    "uniform": lambda p, f: (lambda u: p["low"] + u * (p["high"] - p["low"])),
    "loguniform": lambda p, f: (lambda u: np.exp(math.log(p["low"]) + u * math.log(p["high"] / p["low"]))),
    "normal": lambda p, f: (lambda u: p["mean"] + p["sd"] * special.ndtri(u)),
    "lognormal": lambda p, f: _lognormal_ppf(p),
    "triangular": lambda p, f: _triangular_ppf(p),
    "pert": _pert_fast,
    "truncnormal": _truncnormal_fast,
}


def allowed_families() -> str:
    """One line listing the families and their parameters, for error messages."""
    parts = []
    for fam in FAMILIES.values():
        names = list(fam.required) + [f"{k}={v:g}" for k, v in fam.optional.items()]
        parts.append(f"{fam.name}({', '.join(names)})")
    return ", ".join(parts)


def make_distribution(spec: Mapping[str, Any]) -> Distribution:
    """Build a :class:`Distribution` from a spec mapping.

    Parameters
    ----------
    spec : mapping
        ``{"family": name, <param>: number, ...}``; see the module docstring for the families.

    Raises
    ------
    SpecError
        Unknown family, unknown or missing parameter, non-numeric value, or values that violate the family's
        constraints. The message says what is allowed; the caller adds the file and key path.
    """
    if not isinstance(spec, Mapping):
        raise SpecError(f"a distribution must be a mapping with 'family' and its parameters; allowed: "
                        f"{allowed_families()}")
    if "family" not in spec:
        raise SpecError(f"missing 'family'; allowed: {allowed_families()}")
    name = spec["family"]
    if not isinstance(name, str) or name not in FAMILIES:
        raise SpecError(f"unknown distribution family {shorten(name)}; allowed: {allowed_families()}")
    fam = FAMILIES[name]
    given = {k: v for k, v in spec.items() if k != "family"}
    allowed = set(fam.required) | set(fam.optional)
    unknown = sorted(set(given) - allowed, key=str)
    if unknown:
        raise SpecError(f"unknown parameter {shorten(unknown[0])} for family {name!r}; allowed: "
                        f"{', '.join(list(fam.required) + list(fam.optional))}")
    missing = [k for k in fam.required if k not in given]
    if missing:
        raise SpecError(f"family {name!r} needs parameter {missing[0]!r} (parameters: "
                        f"{', '.join(fam.required)})")
    params = {k: as_number(given.get(k, fam.optional.get(k)), f"{name} parameter {k!r}")
              for k in list(fam.required) + list(fam.optional)}
    try:
        fam.check(params)
    except SpecError as exc:
        raise SpecError(f"{name}: {exc}") from None
    frozen, central = fam.build(params)
    fast = FAST_PPF[name](params, frozen) if name in FAST_PPF else None
    return Distribution(name, params, frozen, float(central), fast)
