"""Distribution families: a registry from a data-file spec to a frozen distribution.

A spec is a mapping with a ``family`` key and the family's named parameters, as written in the files under
``distributions/`` and in experiment files::

    {family: pert, low: 10, mode: 50, high: 100}
    {family: lognormal, median: 0.421, gsd: 1.88}

Every family maps the unit interval to physical values with one vectorized ``ppf`` (the single inverse-CDF step
of the package) and states its *central* value (the value a deterministic evaluation uses when a record gives
no explicit nominal): the mode for triangular and PERT, the median for lognormal, the mean for (truncated)
normal, the mid-point for uniform, the geometric mid-point for log-uniform.

The scipy distribution of a spec (:attr:`Distribution.frozen`, the reference) is built only when something asks
for it: importing ``scipy.stats`` is slow. A run needs only the fast inverse CDFs (closed forms, or
tables kept in the user cache folder) and scipy's mean, standard deviation, median and support, which are kept
in the same cache folder (:mod:`uncertainty_footprint.inputs.cache`); with a warm cache a run never imports
``scipy.stats``.

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
from functools import cached_property, lru_cache
from typing import Any, Callable, Mapping

import numpy as np
from scipy import special  # scipy.stats (slow to import) only where a frozen distribution is built

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
    try:
        value = float(value)
    except OverflowError:  # an integer too large for a double
        raise SpecError(f"{what} must be finite, got {shorten(value)}") from None
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
        The reference distribution, built on first access (importing ``scipy.stats``); ``None`` for the
        ``fixed`` family.
    central : float
        The family's central value (mode, median, mean or mid-point; see module docstring).
    """

    family: str
    params: Mapping[str, float]
    central: float
    _fast_ppf: Callable[[np.ndarray], np.ndarray] | None = field(default=None, repr=False, compare=False)
    #: The data quality a lognormal's spread comes from (:mod:`~uncertainty_footprint.inputs.pedigree`), or None.
    pedigree: Any = None

    @cached_property
    def frozen(self) -> Any:
        """The scipy.stats frozen distribution (the reference), built on first access; ``None`` for ``fixed``."""
        build = FAMILIES[self.family].build
        return None if build is None else build(self.params)

    @property
    def is_fixed(self) -> bool:
        """True when the distribution is a single value (no design column is needed)."""
        return FAMILIES[self.family].build is None

    @property
    def _summary(self) -> dict[str, float]:
        """scipy's mean, standard deviation, median and support bounds (see :func:`_summary_of`); the closed
        forms of a categorical choice."""
        if self.family == "categorical":
            return _categorical_summary(tuple(self.params.values()))
        return _summary_of(self.family, tuple((k, repr(v)) for k, v in self.params.items()))

    def ppf(self, u: np.ndarray, *, compiled: bool = False) -> np.ndarray:
        """Inverse CDF: map probabilities ``u`` in (0, 1) to values (vectorized).

        Uses the family's fast path (closed form, or a verified interpolation table; see :data:`FAST_PPF`)
        where there is one; ``frozen.ppf`` is the reference. ``compiled`` evaluates a table with its compiled
        kernel (:mod:`~uncertainty_footprint.inputs.kernels`; numba must be available): the same values, faster
        on large arrays once numba is loaded.
        """
        u = np.asarray(u, dtype=float)
        if self.is_fixed:
            return np.full(u.shape, self.central)
        if self._fast_ppf is not None:
            fast = getattr(self._fast_ppf, "compiled", None) if compiled else None
            return (fast or self._fast_ppf)(u)
        return self.frozen.ppf(u)

    def cdf(self, x: np.ndarray) -> np.ndarray:
        """Cumulative distribution function [1] at ``x`` [the parameter's unit] (a step at the value for
        ``fixed``); scipy's, the reference the fast inverse CDFs are verified against."""
        x = np.asarray(x, dtype=float)
        if self.is_fixed:
            return (x >= self.central).astype(float)
        return self.frozen.cdf(x)

    def mean(self) -> float:
        """Mean [the parameter's unit] (the value for ``fixed``); scipy's, kept in the cache folder."""
        return self.central if self.is_fixed else self._summary["mean"]

    def std(self) -> float:
        """Standard deviation [the parameter's unit] (0 for ``fixed``); scipy's, kept in the cache folder."""
        return 0.0 if self.is_fixed else self._summary["std"]

    def median(self) -> float:
        """Median [the parameter's unit] (the value for ``fixed``); scipy's, kept in the cache folder."""
        return self.central if self.is_fixed else self._summary["median"]

    def support(self) -> tuple[float, float]:
        """Lower and upper bound of the support [the parameter's unit] (may be infinite); scipy's, kept in the
        cache folder."""
        if self.is_fixed:
            return (self.central, self.central)
        summary = self._summary
        return (summary["low"], summary["high"])

    def to_spec(self) -> dict[str, Any]:
        """The spec this distribution was built from (a plain dict); a lognormal from a pedigree gives its median,
        basic uncertainty and pedigree again."""
        if self.pedigree is not None:
            return {"family": self.family, "median": self.params["median"], "basic_gsd2": self.pedigree.basic_gsd2,
                    "pedigree": self.pedigree.to_spec()}
        return {"family": self.family, **dict(self.params)}

    def describe(self) -> str:
        """Short human-readable form, e.g. ``pert(low=10, mode=50, high=100)``; a lognormal from a pedigree names
        its scores."""
        args = ", ".join(f"{k}={v:.4g}" for k, v in self.params.items())
        text = f"{self.family}({args})"
        return f"{text} from {self.pedigree.describe()}" if self.pedigree is not None else text


@dataclass(frozen=True)
class Family:
    """A registry entry: required and optional parameter names, a checker, the central value and a builder of
    the scipy distribution (the families and their meaning are described in the module docstring).

    ``build`` imports ``scipy.stats`` and is called only when :attr:`Distribution.frozen` is first needed;
    it is None for a family that is a single value (``fixed``).
    """

    name: str
    required: tuple[str, ...]
    optional: Mapping[str, float]
    build: Callable[[Mapping[str, float]], Any] | None
    check: Callable[[Mapping[str, float]], None]
    central: Callable[[Mapping[str, float]], float]


FAMILIES: dict[str, Family] = {}


def _register(name: str, required: tuple[str, ...], optional: Mapping[str, float] | None = None):
    def decorator(triple):
        check, central, build = triple
        FAMILIES[name] = Family(name, required, dict(optional or {}), build, check, central)
        return triple

    return decorator


def _stats():
    """The ``scipy.stats`` module, imported on first use (a builder's first call)."""
    from scipy import stats

    return stats


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
    lambda p: p["value"],
    None,
))

# --- uniform -------------------------------------------------------------------------------------------------
_register("uniform", ("low", "high"))((
    lambda p: _need(p["low"] < p["high"], f"needs low < high, got low={p['low']:g}, high={p['high']:g}"),
    lambda p: 0.5 * (p["low"] + p["high"]),
    lambda p: _stats().uniform(loc=p["low"], scale=p["high"] - p["low"]),
))

# --- loguniform ----------------------------------------------------------------------------------------------
_register("loguniform", ("low", "high"))((
    lambda p: (_need(p["low"] > 0, f"needs low > 0, got low={p['low']:g}"),
               _need(p["low"] < p["high"], f"needs low < high, got low={p['low']:g}, high={p['high']:g}")),
    lambda p: math.sqrt(p["low"] * p["high"]),
    lambda p: _stats().loguniform(p["low"], p["high"]),
))


# --- triangular ----------------------------------------------------------------------------------------------
def _triangular(p):
    width = p["high"] - p["low"]
    return _stats().triang(c=(p["mode"] - p["low"]) / width, loc=p["low"], scale=width)


_register("triangular", ("low", "mode", "high"))((
    lambda p: (_ordered(p, ("low", "mode", "high")), _need(p["low"] < p["high"], "needs low < high")),
    lambda p: p["mode"],
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
    return _stats().beta(a, b, loc=p["low"], scale=width)


_register("pert", ("low", "mode", "high"), optional={"lambda": 4.0})((
    lambda p: (_ordered(p, ("low", "mode", "high")), _need(p["low"] < p["high"], "needs low < high"),
               _need(p["lambda"] > 0, f"needs lambda > 0, got {p['lambda']:g}")),
    lambda p: p["mode"],
    _pert,
))

# --- normal --------------------------------------------------------------------------------------------------
_register("normal", ("mean", "sd"))((
    lambda p: _need(p["sd"] > 0, f"needs sd > 0, got sd={p['sd']:g}"),
    lambda p: p["mean"],
    lambda p: _stats().norm(loc=p["mean"], scale=p["sd"]),
))


# --- truncated normal ----------------------------------------------------------------------------------------
def _truncnormal(p):
    a = (p["low"] - p["mean"]) / p["sd"]
    b = (p["high"] - p["mean"]) / p["sd"]
    return _stats().truncnorm(a, b, loc=p["mean"], scale=p["sd"])


_register("truncnormal", ("mean", "sd", "low", "high"))((
    lambda p: (_need(p["sd"] > 0, f"needs sd > 0, got sd={p['sd']:g}"),
               _need(p["low"] < p["high"], f"needs low < high, got low={p['low']:g}, high={p['high']:g}")),
    lambda p: min(max(p["mean"], p["low"]), p["high"]),
    _truncnormal,
))

# --- lognormal -----------------------------------------------------------------------------------------------
_register("lognormal", ("median", "gsd"))((
    lambda p: (_need(p["median"] > 0, f"needs median > 0, got median={p['median']:g}"),
               _need(p["gsd"] > 1, f"needs gsd > 1, got gsd={p['gsd']:g}")),
    lambda p: p["median"],
    lambda p: _stats().lognorm(s=math.log(p["gsd"]), scale=p["median"]),
))


# --- scipy's summary of a distribution, kept in the cache folder ---------------------------------------------
#: Version of the layout of a distribution's summary entry (part of the cache key).
SUMMARY_FORMAT = 1
#: The numbers of a summary: scipy's mean, standard deviation, median and the bounds of the support.
SUMMARY_NAMES = ("mean", "std", "median", "low", "high")


def _versions() -> dict[str, str]:
    """The versions a cache entry depends on (the package's and scipy's)."""
    import scipy

    from .. import __version__

    return {"package": __version__, "scipy": scipy.__version__}


def _scipy_summary(family: str, params: Mapping[str, float]) -> dict[str, float]:
    """scipy's mean, standard deviation, median and support of the family's frozen distribution."""
    frozen = FAMILIES[family].build(params)
    lo, hi = frozen.support()
    return {"mean": float(frozen.mean()), "std": float(frozen.std()), "median": float(frozen.median()),
            "low": float(lo), "high": float(hi)}


@lru_cache(maxsize=1024)
def _summary_of(family: str, items: tuple[tuple[str, str], ...]) -> dict[str, float]:
    """The :data:`SUMMARY_NAMES` of a (non-fixed) distribution given by its family and parameters (name and
    ``repr`` of the value, which distinguishes -0.0 from 0.0): scipy's values, read from the cache folder or
    computed (importing ``scipy.stats``) and stored there. Shared by all distributions of the same spec in a
    process; treat as read-only."""
    from .cache import cached_numbers

    params = {k: float(v) for k, v in items}
    key = {"what": "distribution summary", "format": SUMMARY_FORMAT, "family": family, "params": dict(items),
           **_versions()}
    return cached_numbers(key, lambda: _scipy_summary(family, params), lambda n: set(n) == set(SUMMARY_NAMES))


# --- fast inverse CDFs ----------------------------------------------------------------------------------------
# scipy's generic ppf costs about 1 us per value for the beta (PERT) and truncated normal. The families with a
# closed form use it directly; PERT and truncnormal use a cubic Hermite table of the exact inverse of the
# standardized shape (nodes and slopes from scipy) whose accuracy is verified at every cell's midpoint when the
# table is built. The runs of cells at either end that miss the tolerance (the tails, where the inverse is steep)
# go to a *tail table* in logarithmic coordinates, ``log(x - low)`` against ``log(u)`` (and ``log(high - x)``
# against ``log(1 - u)``), in which a beta's tail is nearly a straight line; it is verified the same way. Cells
# that still miss the tolerance, and probabilities beyond the open unit interval's ends, use scipy's exact ppf.
# The table is always used, whatever the size of the call, so results never depend on chunking. Tables are built
# only when a sampled parameter first needs one and kept in the user cache folder between processes
# (:mod:`uncertainty_footprint.inputs.cache`).

#: Cells of an inverse-CDF table and the accepted interpolation error (relative to the support's width).
TABLE_CELLS = 1 << 14
TABLE_TOLERANCE = 1e-12
#: Cells of each tail table (logarithmic coordinates, from ``u = 2**-53`` to where the main table is exact).
TAIL_CELLS = 1 << 11
#: Version of the table layout and construction (part of the cache key).
TABLE_FORMAT = 2
#: ``[UNIT_EDGE, 1 - UNIT_EDGE]`` are the doubles nearest 0 and 1 at which every inverse CDF is finite (2**-53;
#: :func:`~uncertainty_footprint.inputs.parameters.open_unit` clips designs to it).
UNIT_EDGE = np.finfo(float).eps / 2
#: Route codes of a table cell.
_POLY, _EXACT, _LOWER, _UPPER = 0, 1, 2, 3
#: family -> (a, b) -> support of the standardized shape of a table, as scipy states it (a standard beta on
#: [0, 1]; a truncated normal of standardized bounds a, b on [a, b]): the tail tables need it, without scipy.
STANDARD_SUPPORT: dict[str, Callable[[float, float], tuple[float, float]]] = {
    "pert": lambda a, b: (0.0, 1.0),
    "truncnormal": lambda a, b: (a, b),
}
#: family -> (a, b) -> the standardized scipy distribution of a table (the reference).
_STANDARD_BUILD: dict[str, Callable[[float, float], Any]] = {
    "pert": lambda a, b: _stats().beta(a, b),
    "truncnormal": lambda a, b: _stats().truncnorm(a, b),
}


def _hermite(x0, x1, m0, m1):
    """Coefficients (4, cells) of the cubic Hermite polynomial on each cell, local coordinate t in [0, 1)."""
    return np.vstack([x0, m0, 3 * (x1 - x0) - 2 * m0 - m1, 2 * (x0 - x1) + m0 + m1])


def _horner(coef: np.ndarray, i: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``c0 + t (c1 + t (c2 + t c3))`` of cells ``i`` at local coordinates ``t`` (``t`` is overwritten)."""
    out = np.take(coef[3], i)
    out *= t
    out += np.take(coef[2], i)
    out *= t
    out += np.take(coef[1], i)
    out *= t
    out += np.take(coef[0], i)
    return out


def _cell_index(scaled: np.ndarray, cells: int) -> tuple[np.ndarray, np.ndarray]:
    """Cell index and local coordinate of ``scaled`` in [0, cells] (``scaled`` becomes the local coordinate)."""
    i = scaled.astype(np.intp)
    np.clip(i, 0, cells - 1, out=i)
    scaled -= i
    return i, scaled


class _InverseTable:
    """Inverse CDF of a *standardized* beta (PERT) or truncated normal of shape ``(a, b)``: a piecewise cubic
    Hermite interpolant on :data:`TABLE_CELLS` equal cells of probability, with tail tables in logarithmic
    coordinates for the steep ends (see the comment above). Shared by all distributions of the same shape
    (:func:`_table`), built (or read from the cache) on first use, and never pickled (a worker process loads it
    again)."""

    def __init__(self, family: str, a: float, b: float):
        self.family, self.a, self.b = family, float(a), float(b)
        self.support = STANDARD_SUPPORT[family](self.a, self.b)
        self.arrays: dict[str, np.ndarray] | None = None
        self._frozen = None

    def __getstate__(self):
        return {**self.__dict__, "arrays": None, "_frozen": None}

    @property
    def frozen(self):
        """The standardized scipy distribution (the reference), built on first use (importing scipy.stats)."""
        if self._frozen is None:
            self._frozen = _STANDARD_BUILD[self.family](self.a, self.b)
        return self._frozen

    def key(self) -> dict:
        """What the table depends on: the cache key."""
        return {"what": "inverse-cdf table", "format": TABLE_FORMAT, "family": self.family,
                "shape": [repr(self.a), repr(self.b)], "cells": TABLE_CELLS, "tail_cells": TAIL_CELLS,
                "tolerance": repr(TABLE_TOLERANCE), **_versions()}

    def _valid(self, arrays) -> bool:
        return (arrays["coef"].shape == (4, TABLE_CELLS) and arrays["route"].shape == (TABLE_CELLS,)
                and arrays["route"].dtype == np.int8 and arrays["bounds"].shape == (2, 2)
                and all(arrays[f"{end}_coef"].shape == (4, TAIL_CELLS) and arrays[f"{end}_ok"].shape == (TAIL_CELLS,)
                        for end in ("lower", "upper"))
                and np.all((arrays["route"] >= _POLY) & (arrays["route"] <= _UPPER)))

    def load(self) -> dict[str, np.ndarray]:
        """The table's arrays (from the cache folder, or built and stored there)."""
        if self.arrays is None:
            from .cache import cached_arrays

            self.arrays = cached_arrays(self.key(), self.build, self._valid)
        return self.arrays

    def build(self) -> dict[str, np.ndarray]:
        """Build the table: nodes, slopes and midpoint checks from scipy's exact ppf."""
        frozen, cells = self.frozen, TABLE_CELLS
        lo, hi = self.support
        width = (hi - lo) if np.isfinite(hi - lo) else float(frozen.std())
        tol = TABLE_TOLERANCE * width
        grid = np.linspace(0.0, 1.0, cells + 1)
        h = 1.0 / cells
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            x = frozen.ppf(grid)
            m = h / frozen.pdf(x)  # dx/du over one cell
            coef = _hermite(x[:-1], x[1:], m[:-1], m[1:])
            mid = coef[0] + 0.5 * (coef[1] + 0.5 * (coef[2] + 0.5 * coef[3]))
            err = np.abs(mid - frozen.ppf((np.arange(cells) + 0.5) * h))
        exact = ~(err <= tol)  # NaN (infinite slopes in the tails) counts as inexact
        coef[:, exact] = 0.0
        route = exact.astype(np.int8)
        good = np.flatnonzero(~exact)
        first, last = (int(good[0]), int(good[-1]) + 1) if good.size else (cells // 2, cells // 2)
        route[:first] = _LOWER
        route[last:] = _UPPER
        arrays = {"coef": coef, "route": route}
        # tail tables from u = 2**-53 to the first exact cell: s = log(u) (lower), log(1 - u) (upper)
        bounds = np.array([[math.log(UNIT_EDGE), math.log(max(first, 1) * h)],
                           [math.log(UNIT_EDGE), math.log(max(cells - last, 1) * h)]])
        for row, (end, edge, sign) in enumerate((("lower", lo, 1.0), ("upper", hi, -1.0))):
            s0, s1 = bounds[row]
            s = np.linspace(s0, s1, TAIL_CELLS + 1)
            hs = (s1 - s0) / TAIL_CELLS
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                q = np.exp(s)
                inverse = frozen.ppf if sign > 0 else frozen.isf
                dist = sign * (inverse(q) - edge)  # distance from the bound, > 0
                y = np.log(dist)
                slope = hs * q / (frozen.pdf(edge + sign * dist) * dist)  # dy/ds over one cell
                tc = _hermite(y[:-1], y[1:], slope[:-1], slope[1:])
                smid = s0 + (np.arange(TAIL_CELLS) + 0.5) * hs
                ymid = tc[0] + 0.5 * (tc[1] + 0.5 * (tc[2] + 0.5 * tc[3]))
                xmid = edge + sign * np.exp(ymid)
                terr = np.abs(xmid - inverse(np.exp(smid)))
            ok = terr <= tol
            tc[:, ~ok] = 0.0
            arrays[f"{end}_coef"], arrays[f"{end}_ok"] = tc, ok
        arrays["bounds"] = bounds
        return arrays

    def __call__(self, u: np.ndarray) -> np.ndarray:
        arr = self.arrays if self.arrays is not None else self.load()
        i, t = _cell_index(u * TABLE_CELLS, TABLE_CELLS)
        out = _horner(arr["coef"], i, t)
        route = np.take(arr["route"], i)
        special = np.flatnonzero(route)
        if special.size:
            out[special] = self.routed(u[special], route[special])
        return out

    def routed(self, u: np.ndarray, kinds: np.ndarray) -> np.ndarray:
        """Values at ``u`` of cells that are not cubic, by their route codes ``kinds``: the tail tables, or
        scipy's exact ppf."""
        out = np.empty(u.shape)
        for kind in np.unique(kinds):
            at = np.flatnonzero(kinds == kind)
            out[at] = self.frozen.ppf(u[at]) if kind == _EXACT else self._tail(u[at], kind == _LOWER)
        return out

    def _tail(self, u: np.ndarray, lower: bool) -> np.ndarray:
        """Values of the lower (upper) tail table at ``u``; exact ppf for cells off the table."""
        arr = self.arrays
        end = "lower" if lower else "upper"
        s0, s1 = arr["bounds"][0 if lower else 1]
        lo, hi = self.support
        with np.errstate(divide="ignore"):
            s = np.log(u if lower else 1.0 - u)
        scaled = (s - s0) * (TAIL_CELLS / (s1 - s0))
        inside = scaled >= 0.0  # u below 2**-53 (or above 1 - 2**-53): exact
        i, t = _cell_index(np.where(inside, scaled, 0.0), TAIL_CELLS)
        y = _horner(arr[f"{end}_coef"], i, t)
        np.exp(y, out=y)
        out = lo + y if lower else hi - y
        off = np.flatnonzero(~(inside & np.take(arr[f"{end}_ok"], i)))
        if off.size:
            out[off] = self.frozen.ppf(u[off])
        return out


@lru_cache(maxsize=256)
def _table(family: str, a: float, b: float) -> _InverseTable:
    """The shared inverse table of a standardized beta (PERT) or truncated normal of shape (a, b)."""
    return _InverseTable(family, a, b)


def _scaled_table(family: str, a: float, b: float, loc: float, scale: float):
    table = _table(family, a, b)

    def ppf(u):
        out = table(u)
        out *= scale
        out += loc
        return out

    def compiled(u):  # the same values in one pass (kernels.table_kernel); tails and exact cells as in ppf
        from .kernels import table_kernel

        arr = table.arrays if table.arrays is not None else table.load()
        coef = arr["coef"]
        u = np.ascontiguousarray(u)
        out = np.empty_like(u)
        special = np.empty(u.shape, dtype=np.intp)
        kinds = np.empty(u.shape, dtype=np.int8)
        count = table_kernel()(u, coef[0], coef[1], coef[2], coef[3], arr["route"], TABLE_CELLS, scale, loc,
                               out, special, kinds)
        if count:
            at = special[:count]
            values = table.routed(u[at], kinds[:count])
            values *= scale
            values += loc
            out[at] = values
        return out

    ppf.table = table  # the shared table (loaded on first call)
    ppf.compiled = compiled
    return ppf


def _pert_fast(p):
    a, b, width = _pert_shape(p)
    return _scaled_table("pert", a, b, p["low"], width)


def _truncnormal_fast(p):
    return _scaled_table("truncnormal", (p["low"] - p["mean"]) / p["sd"], (p["high"] - p["mean"]) / p["sd"],
                         p["mean"], p["sd"])


def _lognormal_ppf(p):
    mu, sigma = math.log(p["median"]), math.log(p["gsd"])

    def ppf(u):  # exp(mu + sigma ndtri(u)), in place
        out = special.ndtri(u)
        out *= sigma
        out += mu
        return np.exp(out, out=out)

    return ppf


def _triangular_ppf(p):
    lo, mode, hi = p["low"], p["mode"], p["high"]
    c = (mode - lo) / (hi - lo)

    def ppf(u):
        left = lo + np.sqrt(u * (hi - lo) * (mode - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mode))
        return np.where(u < c, left, right)

    return ppf


#: family -> factory(params) of a vectorized ppf faster than scipy's generic one (without scipy.stats).
# --- categorical (a choice among K alternatives, e.g. an input's method) ------------------------------------
def _categorical_check(p):
    weights = list(p.values())
    _need(len(weights) >= 1 and list(p) == [f"w{k}" for k in range(len(weights))],
          "a categorical distribution has weights w0, w1, ... in order")
    _need(all(w >= 0 for w in weights) and sum(weights) > 0, "needs weights >= 0 with a positive sum")


_register("categorical", ())((
    _categorical_check,
    lambda p: float(max(range(len(p)), key=lambda k: p[f"w{k}"])),  # the most likely alternative
    lambda p: _stats().rv_discrete(values=(np.arange(len(p)), np.array(list(p.values())) / sum(p.values()))),
))


def _categorical_ppf(p):
    weights = np.array(list(p.values()), dtype=float)
    edges = np.cumsum(weights / weights.sum())[:-1]

    def ppf(u):  # u in [c_(k-1), c_k) -> k, as a float: the index of the chosen alternative
        return np.searchsorted(edges, u, side="right").astype(float)

    return ppf


@lru_cache(maxsize=256)
def _categorical_summary(weights: tuple[float, ...]) -> dict[str, float]:
    w = np.asarray(weights, dtype=float) / math.fsum(weights)
    k = np.arange(len(w), dtype=float)
    mean = float(np.dot(w, k))
    cum = np.cumsum(w)
    return {"mean": mean, "std": math.sqrt(max(float(np.dot(w, (k - mean) ** 2)), 0.0)),
            "median": float(np.searchsorted(cum, 0.5)), "low": 0.0, "high": float(len(w) - 1)}


FAST_PPF: dict[str, Callable[[Mapping[str, float]], Callable[[np.ndarray], np.ndarray]]] = {
    "uniform": lambda p: (lambda u: p["low"] + u * (p["high"] - p["low"])),
    "loguniform": lambda p: (lambda u: np.exp(math.log(p["low"]) + u * math.log(p["high"] / p["low"]))),
    "normal": lambda p: (lambda u: p["mean"] + p["sd"] * special.ndtri(u)),
    "lognormal": _lognormal_ppf,
    "triangular": _triangular_ppf,
    "pert": _pert_fast,
    "truncnormal": _truncnormal_fast,
    "categorical": _categorical_ppf,
}


def allowed_families() -> str:
    """One line listing the families and their parameters, for error messages."""
    parts = []
    for fam in FAMILIES.values():
        names = list(fam.required) + [f"{k}={v:g}" for k, v in fam.optional.items()]
        if fam.name == "categorical" and not names:
            names = ["w0", "w1", "..."]  # the weights of the alternatives, as many as there are
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
    if name == "lognormal" and ("pedigree" in given or "basic_gsd2" in given):
        return _from_pedigree(given)
    if name == "categorical":
        given = {str(k): v for k, v in given.items()}
        params = {k: as_number(v, f"categorical weight {k!r}") for k, v in given.items()}
        _categorical_check(params)
        return Distribution(name, params, float(fam.central(params)), _categorical_ppf(params))
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
    fast = FAST_PPF[name](params) if name in FAST_PPF else None
    return Distribution(name, params, float(fam.central(params)), fast)


def _from_pedigree(given: Mapping[str, Any]) -> Distribution:
    """``{median, basic_gsd2, pedigree: {scores, table}}`` -> lognormal(median, gsd = exp(sigma_ln))."""
    from .pedigree import parse_pedigree

    unknown = sorted(set(given) - {"median", "basic_gsd2", "pedigree"}, key=str)
    if unknown or "gsd" in given:
        raise SpecError(f"a lognormal from a pedigree has median, basic_gsd2 and pedigree (its gsd follows from "
                        f"them); got {shorten(unknown[0] if unknown else 'gsd')}")
    for key in ("median", "basic_gsd2", "pedigree"):
        if key not in given:
            raise SpecError(f"a lognormal from a pedigree needs {key!r} (median, basic_gsd2 and pedigree: "
                            "{scores: [r, c, t, g, f], table: ciroth_2016})", key)
    pedigree = parse_pedigree(given["pedigree"], as_number(given["basic_gsd2"], "basic_gsd2 (a GSD^2)"))
    base = make_distribution({"family": "lognormal", "median": given["median"], "gsd": pedigree.gsd})
    return Distribution(base.family, base.params, base.central, base._fast_ppf, pedigree)
