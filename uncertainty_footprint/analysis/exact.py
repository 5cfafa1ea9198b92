"""Exact variance decomposition of a lifecycle model: Sobol' indices and Shapley effects in closed form.

Every lifecycle model of the package is a sum of products of integer powers of independent inputs,
:math:`f = \\sum_k c_k \\prod_{i \\in I_k} g_{ki}(x_i)` with :math:`g_{ki} = x_i^{p_{ki}}`; the expanded form
comes from evaluating the model's own component kinds on symbols (:mod:`uncertainty_footprint.model.expansion`),
never from a second copy of the model. Writing :math:`g_{ki} = \\mu_{ki} + z_{ki}` with :math:`E[z_{ki}] = 0`,
the ANOVA (Sobol'-Hoeffding) component of a set :math:`u` of inputs is exactly
:math:`f_u = \\sum_{k: u \\subseteq I_k} c_k \\prod_{i \\in u} z_{ki} \\prod_{i \\in I_k \\setminus u} \\mu_{ki}`, so

.. math:: V_u = \\sum_{k, l:\\, u \\subseteq I_k \\cap I_l} c_k c_l \\prod_{i \\in u} \\mathrm{Cov}(g_{ki}, g_{li})
          \\prod_{i \\in I_k \\setminus u} \\mu_{ki} \\prod_{i \\in I_l \\setminus u} \\mu_{li}.

Only subsets of the intersection of two monomials' variables occur, so the enumeration is small. Everything
follows from one-dimensional moments :math:`E[x^p]` of each input's frozen distribution (closed forms for the
package's families, accurate quadrature otherwise):

* first-order (closed) index of a set G: :math:`S_G = \\sum_{\\emptyset \\ne u \\subseteq G} V_u / V`;
* total index: :math:`T_G = \\sum_{u \\cap G \\ne \\emptyset} V_u / V`;
* second-order index of two inputs (groups): :math:`V_u / V` summed over the u that meet exactly both;
* Shapley effect of a player (an input, or a group of a partition): :math:`Sh_G = \\sum_{u \\cap G \\ne
  \\emptyset} V_u / m(u) / V` with :math:`m(u)` the number of players u meets (Owen 2014; Song, Nelson & Staum
  2016): each interaction's variance is shared equally by the players taking part in it, and the effects sum
  to 1;
* the variance left if G were known exactly: :math:`E[\\mathrm{Var}(Y \\mid X_G)] = V - \\sum_{u \\subseteq G} V_u`.

An input with a negative power whose distribution's support reaches 0 has an infinite (or undefined) moment
:math:`E[x^{-p}]`: the analysis is refused with :class:`InfiniteMomentError`, never returned as a number.

References
----------
Hoeffding, W. (1948). A class of statistics with asymptotically normal distribution. Annals of Mathematical
Statistics 19(3), 293-325.

Sobol', I. M. (1993). Sensitivity estimates for nonlinear mathematical models. Mathematical Modelling and
Computational Experiments 1(4), 407-414.

Owen, A. B. (2014). Sobol' indices and Shapley value. SIAM/ASA Journal on Uncertainty Quantification 2(1),
245-251. https://doi.org/10.1137/130936233

Song, E., Nelson, B. L. & Staum, J. (2016). Shapley effects for global sensitivity analysis: theory and
computation. SIAM/ASA Journal on Uncertainty Quantification 4(1), 1060-1083. https://doi.org/10.1137/15M1048070
"""

from __future__ import annotations

import json
import math
import warnings
from dataclasses import dataclass, field
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
from scipy import special  # scipy.integrate (slow to import) only where quadrature is needed

from ..errors import DependentInputsError, FootprintError
from ..inputs.distributions import Distribution
from ..inputs.schema import GROUPINGS
from ..model.builder import LifecycleModel
from ..model.expansion import NotSeparableError, Polynomial, expand_components, indicator_parts
from ..warnings import FootprintWarning
from ..inputs.units import footprint_attrs
from .hotspots import parameter_groups
from .summary import SummaryLayout

__all__ = ["InfiniteMomentError", "DependentInputsError", "ExactDecompositionWarning", "NotSeparableError",
           "DistributionMoments",
           "Decomposition", "ExactAnalysis", "exact_analysis", "exact_indices", "exact_table", "exact_summary",
           "try_exact", "difference_decomposition", "difference_shares", "sampled_coverage", "METHOD"]

#: The method, as recorded in the ``method`` attribute of the results.
METHOD = ("exact ANOVA (Sobol'-Hoeffding) decomposition of the expanded model; Shapley effects after Owen (2014)")
#: Relative tolerance of the quadratures (moments without a closed form).
QUAD_RTOL = 1e-12
#: A covariance smaller than this share of the raw moment it comes from lost too many digits to cancellation:
#: it is then integrated directly (centred integrand).
CANCELLATION = 1e-7


class InfiniteMomentError(FootprintError):
    """A moment the decomposition needs is infinite or undefined (a negative power of an input whose support
    reaches 0)."""


class ExactDecompositionWarning(FootprintWarning):
    """The exact decomposition was not possible; the sampled analysis stands alone."""


# ------------------------------------------------------------------------------------------------------------
# moments of one distribution
# ------------------------------------------------------------------------------------------------------------
def _binomial_moment(p: int, loc: float, scale: float, standard: Callable[[int], float]) -> float:
    """E[(loc + scale Y)^p] for p >= 0 from the standardized moments E[Y^k]."""
    return math.fsum(math.comb(p, k) * loc ** (p - k) * scale ** k * standard(k) for k in range(p + 1))


def _uniform(par, p):
    lo, hi = par["low"], par["high"]
    if p >= 0:
        return _binomial_moment(p, lo, hi - lo, lambda k: 1.0 / (k + 1))
    if hi < 0:  # mirror: x = -y, y ~ U(-hi, -lo)
        return (-1) ** p * _uniform({"low": -hi, "high": -lo}, p)
    r = (hi - lo) / lo  # lo > 0 here (a support reaching 0 was refused before)
    if p == -1:
        return math.log1p(r) / r / lo
    return lo ** p * math.expm1((p + 1) * math.log1p(r)) / ((p + 1) * r)


def _loguniform(par, p):
    lo, hi = par["low"], par["high"]
    if p == 0:
        return 1.0
    span = math.log(hi / lo)
    return lo ** p * math.expm1(p * span) / (p * span)


def _lognormal_moment(par, p):
    s = math.log(par["gsd"])
    return par["median"] ** p * math.exp(0.5 * p * p * s * s)


def _lognormal_cov(par, p, q):
    s2 = math.log(par["gsd"]) ** 2
    return par["median"] ** (p + q) * math.exp(0.5 * (p * p + q * q) * s2) * math.expm1(p * q * s2)


def _triangular(par, p):
    if p < 0:
        return None  # quadrature (the divided-difference closed form loses digits)
    lo, mode, hi = par["low"], par["mode"], par["high"]
    g = (mode - lo) / (hi - lo)
    # standard triangular on [0, 1] with mode g: E[Y^k] = 2 / ((k + 1)(k + 2)) * sum_{j <= k} g^j
    return _binomial_moment(p, lo, hi - lo, lambda k: 2.0 * math.fsum(g ** j for j in range(k + 1))
                            / ((k + 1) * (k + 2)))


def _pert_shape(par):
    width = par["high"] - par["low"]
    lam = par["lambda"]
    return 1.0 + lam * (par["mode"] - par["low"]) / width, 1.0 + lam * (par["high"] - par["mode"]) / width, width


def _pert(par, p):
    a, b, width = _pert_shape(par)
    lo = par["low"]
    if p >= 0:
        return _binomial_moment(p, lo, width, lambda k: math.prod((a + r) / (a + b + r) for r in range(k)))
    if lo > 0 and width < lo:  # Euler: E[(1 + z Y)^p] = 2F1(-p, a; a + b; -z) for Y ~ Beta(a, b), |z| < 1
        return lo ** p * float(special.hyp2f1(-p, a, a + b, -width / lo))
    return None


def _normal(par, p):
    if p < 0:
        return None  # refused before: the support is the real line
    mean, sd = par["mean"], par["sd"]
    return _binomial_moment(p, mean, sd, lambda k: 0.0 if k % 2 else float(math.prod(range(k - 1, 0, -2))))


#: family -> closed form ``E[x^p]`` (params, p) -> float, or None when the power has none (quadrature then).
RAW_MOMENTS: dict[str, Callable[[Mapping[str, float], int], float | None]] = {
    "fixed": lambda par, p: par["value"] ** p,
    "uniform": _uniform,
    "loguniform": _loguniform,
    "lognormal": _lognormal_moment,
    "triangular": _triangular,
    "pert": _pert,
    "normal": _normal,
}

#: family -> closed form ``Cov(x^p, x^q)`` where the generic ``E[x^(p+q)] - E[x^p] E[x^q]`` loses digits.
COVARIANCES: dict[str, Callable[[Mapping[str, float], int, int], float]] = {
    "lognormal": _lognormal_cov,
}


def _triangular_order(par, at):
    """Order a of the density ~ |x - at|^(a - 1) at a bound ``at`` of the support."""
    return 1.0 if par["mode"] == at else 2.0


def _pert_order(par, at):
    a, b, _ = _pert_shape(par)
    return a if at == par["low"] else b


#: family -> (params, bound) -> order a of the density ~ |x - bound|^(a - 1) at a bound of the support that is
#: 0: ``E[|x|^-p]`` is finite iff p < a. A family not listed has a density that does not vanish there (a = 1);
#: ``inf`` means every negative moment is finite (the density vanishes faster than any power).
ZERO_BOUND_ORDER: dict[str, Callable[[Mapping[str, float], float], float]] = {
    "lognormal": lambda par, at: math.inf,
    "triangular": _triangular_order,
    "pert": _pert_order,
}


class DistributionMoments:
    """Moments ``E[x^p]`` and covariances ``Cov(x^p, x^q)`` of one frozen distribution, cached.

    Parameters
    ----------
    name : str
        Parameter name, for messages.
    distribution : Distribution
    """

    def __init__(self, name: str, distribution: Distribution):
        self.name = name
        self.dist = distribution
        self._raw: dict[int, float] = {0: 1.0}
        self._cov: dict[tuple[int, int], float] = {}

    # --- refusal of infinite moments --------------------------------------------------------------------
    def check_power(self, p: int, needed_for: str = "the mean") -> None:
        """Raise :class:`InfiniteMomentError` if ``E[x^p]`` is infinite or undefined."""
        if p >= 0:
            return
        lo, hi = self.dist.support()
        if lo > 0 or hi < 0:
            return
        d = self.dist
        where = (f"its distribution {d.describe()} has support [{lo:g}, {hi:g}], which reaches 0"
                 if not d.is_fixed else f"it is fixed at {d.central:g}")
        interior = lo < 0 < hi or d.is_fixed
        order = 0.0 if interior else ZERO_BOUND_ORDER.get(d.family, lambda par, at: 1.0)(d.params, 0.0)
        if -p < order:
            return
        what = "undefined" if interior and not d.is_fixed else "infinite"
        raise InfiniteMomentError(
            f"the model divides by {self.name} (power {p}) and {where}, so E[{self.name}^{p}] (needed for "
            f"{needed_for}) is {what}; give {self.name} a distribution whose support excludes 0")

    # --- moments ----------------------------------------------------------------------------------------
    def raw(self, p: int) -> float:
        """``E[x^p]`` [unit^p]."""
        if p not in self._raw:
            self.check_power(p)
            closed = RAW_MOMENTS.get(self.dist.family)
            value = closed(self.dist.params, p) if closed is not None else None
            if value is None:
                value = self._quad(lambda x: x ** float(p))
            self._raw[p] = float(value)
        return self._raw[p]

    def cov(self, p: int, q: int) -> float:
        """``Cov(x^p, x^q)`` [unit^(p+q)]."""
        key = (p, q) if p <= q else (q, p)
        if key not in self._cov:
            if self.dist.is_fixed or p == 0 or q == 0:
                value = 0.0
            else:
                self.check_power(p + q, "the variance")
                closed = COVARIANCES.get(self.dist.family)
                if closed is not None:
                    value = closed(self.dist.params, p, q)
                else:
                    second = self.raw(p + q)
                    value = second - self.raw(p) * self.raw(q)
                    if abs(value) < CANCELLATION * abs(second):
                        mp, mq = self.raw(p), self.raw(q)
                        value = self._quad(lambda x: (x ** float(p) - mp) * (x ** float(q) - mq))
            self._cov[key] = float(value)
        return self._cov[key]

    def _quad(self, g: Callable[[float], float]) -> float:
        """``E[g(x)]`` by adaptive quadrature on the density (breakpoint at the central value)."""
        from scipy import integrate

        frozen = self.dist.frozen
        lo, hi = self.dist.support()
        opts = dict(epsabs=0.0, epsrel=QUAD_RTOL, limit=400)
        if math.isfinite(lo) and math.isfinite(hi):
            points = [self.dist.central] if lo < self.dist.central < hi else None
            value, err = integrate.quad(lambda x: g(x) * frozen.pdf(x), lo, hi, points=points, **opts)
        else:
            c = self.dist.central
            left = integrate.quad(lambda x: g(x) * frozen.pdf(x), lo, c, **opts) if lo < c else (0.0, 0.0)
            right = integrate.quad(lambda x: g(x) * frozen.pdf(x), c, hi, **opts) if c < hi else (0.0, 0.0)
            value, err = left[0] + right[0], left[1] + right[1]
        if not math.isfinite(value) or err > 1e-8 * max(abs(value), 1e-300):
            raise InfiniteMomentError(f"a moment of {self.name} ({self.dist.describe()}) does not converge "
                                      f"(quadrature error {err:.2g})")
        return value


# ------------------------------------------------------------------------------------------------------------
# inputs: one independent uniform each, seen through one or more distributions (common random numbers)
# ------------------------------------------------------------------------------------------------------------
def _spec_key(dist: Distribution) -> str:
    return json.dumps(dist.to_spec(), sort_keys=True)


class _Input:
    """One independent input (a design column) and the symbols that are functions of it: the parameter of one
    model, or the same-named parameters of two models sharing their random numbers (``F_A^-1(U)``,
    ``F_B^-1(U)``). A *factor* is ``((symbol, power), ...)``: the product of the symbols' powers."""

    def __init__(self, name: str, dists: Mapping[str, Distribution], cache: dict):
        self.name = name
        self.dists = dict(dists)
        self.moments = {}
        for sym, dist in self.dists.items():
            key = _spec_key(dist)
            if key not in cache:
                cache[key] = DistributionMoments(name, dist)
            self.moments[sym] = cache[key]
        self._mean: dict = {}
        self._cov: dict = {}

    def _one(self, *factors):
        """(moments, powers of each factor) when every symbol of the factors has the same distribution."""
        syms = {s for f in factors for s, _ in f}
        ms = {id(self.moments[s]) for s in syms}
        if len(ms) > 1:
            return None
        dm = self.moments[next(iter(syms))]
        return dm, [sum(p for _, p in f) for f in factors]

    def mean(self, factor) -> float:
        if factor not in self._mean:
            one = self._one(factor)
            self._mean[factor] = one[0].raw(one[1][0]) if one else self._quad_u(factor)
        return self._mean[factor]

    def cov(self, f1, f2) -> float:
        key = (f1, f2) if f1 <= f2 else (f2, f1)
        if key not in self._cov:
            one = self._one(f1, f2)
            if one:
                value = one[0].cov(*one[1])
            else:
                m1, m2 = self.mean(f1), self.mean(f2)
                value = self._quad_u(f1, f2, centre=(m1, m2))
            self._cov[key] = value
        return self._cov[key]

    def _quad_u(self, *factors, centre=None) -> float:
        """``E[prod factors]`` (centred with ``centre``) over the common uniform u in (0, 1), by quadrature."""
        for f in factors:
            for s, p in f:
                self.moments[s].check_power(p, "the difference")

        def g(u, f):
            out = 1.0
            for s, p in f:
                d = self.dists[s]
                x = d.central if d.is_fixed else float(d.frozen.ppf(u))
                out *= x ** float(p)
            return out

        def integrand(u):
            vals = [g(u, f) for f in factors]
            if centre is not None:
                vals = [v - c for v, c in zip(vals, centre)]
            return math.prod(vals)

        from scipy import integrate

        value, err = integrate.quad(integrand, 0.0, 1.0, epsabs=0.0, epsrel=1e-10, limit=400)
        if not math.isfinite(value):
            raise InfiniteMomentError(f"a moment of {self.name} does not converge (quadrature)")
        return value


class _Choice:
    """An input that chooses one of K alternatives (a ``categorical`` design column, e.g. the method of a
    component), seen by the model only through its indicators ``1[M = k]`` (symbols ``name==k``,
    :data:`~uncertainty_footprint.model.expansion.INDICATOR`). A product of indicators is 1 only where all name the
    same alternative, so every moment is a weight: ``E[1_k] = w_k``, ``E[1_k 1_l] = w_k [k = l]``. This is what
    keeps a finite mixture of sums of products exact."""

    def __init__(self, name: str, dist: Distribution):
        self.name = name
        weights = np.array(list(dist.params.values()), dtype=float)
        self.weights = weights / weights.sum()

    def _expectation(self, factor) -> float:
        chosen = set()
        for sym, p in factor:
            parts = indicator_parts(sym)
            if parts is None or parts[0] != self.name:
                raise NotSeparableError(f"{self.name} chooses an alternative: the model may use it only as "
                                        f"np.equal({self.name}, k), not as a number")
            if p < 0:
                raise InfiniteMomentError(f"the model divides by the indicator {sym}, which is 0 for the other "
                                          "alternatives")
            chosen.add(parts[1])
        if len(chosen) != 1:
            return 0.0
        k = chosen.pop()
        return float(self.weights[k]) if 0 <= k < len(self.weights) else 0.0

    def mean(self, factor) -> float:
        return self._expectation(factor)

    def cov(self, f1, f2) -> float:
        return self._expectation(tuple(f1) + tuple(f2)) - self._expectation(f1) * self._expectation(f2)


def _inputs(names: Sequence[str], dists: Mapping[str, Distribution], polys: Sequence[Polynomial], cache: dict
            ) -> tuple[dict, dict[str, str]]:
    """The inputs of a model's random parameters (a choice among alternatives, or a value) and the input of
    every symbol of ``polys`` (an indicator ``name==k`` belongs to ``name``)."""
    inputs = {n: _Choice(n, dists[n]) if dists[n].family == "categorical" else _Input(n, {n: dists[n]}, cache)
              for n in names}
    input_of = {n: n for n in names}
    for poly in polys:
        for sym in poly.variables:
            parts = indicator_parts(sym)
            if parts is not None and parts[0] in inputs:
                input_of[sym] = parts[0]
    return inputs, input_of


# ------------------------------------------------------------------------------------------------------------
# the decomposition of one polynomial
# ------------------------------------------------------------------------------------------------------------
@dataclass
class _Term:
    coef: float
    factors: dict  # input name -> factor ((symbol, power), ...)


def _terms(poly: Polynomial, input_of: Mapping[str, str]) -> list[_Term]:
    out = []
    for monomial, coef in poly.terms.items():
        factors: dict[str, list] = {}
        for sym, p in monomial:
            factors.setdefault(input_of[sym], []).append((sym, p))
        out.append(_Term(coef, {i: tuple(f) for i, f in factors.items()}))
    return out


def _pairs(terms: list[_Term], inputs: Mapping[str, _Input]):
    """Yield ``(weight, shared, cov, prod_mean)`` for every pair k <= l of monomials that share an input:
    ``weight = (2 if k < l) c_k c_l prod_{I_k \\ J} mu_ki prod_{I_l \\ J} mu_li``, the shared inputs J, and per
    shared input ``Cov(g_ki, g_li)`` and ``mu_ki mu_li``."""
    means = [{i: inputs[i].mean(f) for i, f in t.factors.items()} for t in terms]
    by_input: dict[str, list[int]] = {}
    for k, t in enumerate(terms):
        for i in t.factors:
            by_input.setdefault(i, []).append(k)
    for k, tk in enumerate(terms):
        partners = sorted({l for i in tk.factors for l in by_input[i] if l >= k})
        for l in partners:
            tl = terms[l]
            shared = [i for i in tk.factors if i in tl.factors]
            w = tk.coef * tl.coef * (1.0 if k == l else 2.0)
            for i, m in means[k].items():
                if i not in tl.factors:
                    w *= m
            for i, m in means[l].items():
                if i not in tk.factors:
                    w *= m
            covs = [inputs[i].cov(tk.factors[i], tl.factors[i]) for i in shared]
            prods = [means[k][i] * means[l][i] for i in shared]
            yield w, shared, covs, prods


def _mean(terms: list[_Term], inputs: Mapping[str, _Input]) -> float:
    return math.fsum(t.coef * math.prod(inputs[i].mean(f) for i, f in t.factors.items()) for t in terms)


def _variance(terms, inputs) -> float:
    total = 0.0
    for w, shared, covs, prods in _pairs(terms, inputs):
        total += w * (math.prod(c + m for c, m in zip(covs, prods)) - math.prod(prods))
    return total


def _anova(terms, inputs) -> dict[frozenset, float]:
    """``V_u`` for every non-empty set u of inputs with a non-zero contribution."""
    out: dict[frozenset, float] = {}
    for w, shared, covs, prods in _pairs(terms, inputs):
        if w == 0.0:
            continue
        n = len(shared)
        for mask in range(1, 1 << n):
            value = w
            members = []
            for j in range(n):
                if mask >> j & 1:
                    value *= covs[j]
                    members.append(shared[j])
                else:
                    value *= prods[j]
            if value != 0.0:
                u = frozenset(members)
                out[u] = out.get(u, 0.0) + value
    return out


@dataclass
class Decomposition:
    """The exact ANOVA of one output.

    Attributes
    ----------
    mean : float
        ``E[Y]`` [output unit].
    variance : float
        ``Var(Y)`` = sum of every ``V_u`` [output unit squared].
    parts : dict of frozenset to float
        ``V_u`` of every non-empty set u of inputs that contributes.
    inputs : list of str
        The inputs (players) in order.
    """

    mean: float
    variance: float
    parts: dict[frozenset, float]
    inputs: list[str]

    def grouped(self, groups: Mapping[str, Sequence[str]] | None = None,
                second_order: bool = False) -> dict[str, np.ndarray]:
        """S1 (closed), ST, Shapley, remaining variance (and S2) of every group of a partition of the inputs.

        Parameters
        ----------
        groups : mapping of str to list of str, optional
            Group -> members, a partition of :attr:`inputs` (default: one group per input).
        second_order : bool

        Returns
        -------
        dict
            ``labels`` and arrays ``S1, ST, shapley`` [-], ``remaining_variance`` [output unit squared] (and
            ``S2`` (k, k), upper triangle, NaN elsewhere), in group order.
        """
        if groups is None:
            groups = {i: [i] for i in self.inputs}
        labels = list(groups)
        index = {g: j for j, g in enumerate(labels)}
        owner = {m: index[g] for g, members in groups.items() for m in members}
        k = len(labels)
        closed, total, shapley = np.zeros(k), np.zeros(k), np.zeros(k)
        s2 = np.zeros((k, k)) if second_order else None
        for u, v in self.parts.items():
            met = sorted({owner[i] for i in u if i in owner})
            if not met:
                continue
            for g in met:
                total[g] += v
                shapley[g] += v / len(met)
            if len(met) == 1:
                closed[met[0]] += v
            elif len(met) == 2 and s2 is not None:
                s2[met[0], met[1]] += v
        var = self.variance
        scale = 1.0 / var if var > 0 else 0.0
        out = {"labels": labels, "S1": closed * scale, "ST": total * scale, "shapley": shapley * scale,
               "remaining_variance": np.maximum(var - closed, 0.0)}
        if s2 is not None:
            s2 = s2 * scale
            s2[np.tril_indices(k)] = np.nan
            out["S2"] = s2
        return out


def decompose(poly: Polynomial, inputs: Mapping[str, _Input], input_of: Mapping[str, str],
              order: Sequence[str]) -> Decomposition:
    """The exact ANOVA of ``poly`` (symbols mapped to inputs by ``input_of``)."""
    terms = _terms(poly, input_of)
    parts = _anova(terms, inputs)
    return Decomposition(_mean(terms, inputs), math.fsum(parts.values()), parts, list(order))


# ------------------------------------------------------------------------------------------------------------
# a lifecycle model
# ------------------------------------------------------------------------------------------------------------
@dataclass
class ExactAnalysis:
    """The expanded model and its exact decomposition.

    Attributes
    ----------
    model : LifecycleModel
    components : list of Polynomial
        Every component in expanded form [kg CO2-eq] (random parameters symbolic, fixed ones folded in).
    total : Decomposition
        The ANOVA of the total footprint.
    """

    model: LifecycleModel
    components: list[Polynomial]
    total: Decomposition
    inputs: dict[str, _Input] = field(repr=False)
    #: The input of every symbol (a parameter's own name; an indicator ``name==k`` its choice's name).
    input_of: dict[str, str] = field(default_factory=dict, repr=False)

    def moments(self, poly: Polynomial) -> tuple[float, float]:
        """Exact mean [kg CO2-eq] and variance [(kg CO2-eq)^2] of a polynomial of the model's inputs."""
        terms = _terms(poly, self.input_of or {n: n for n in self.inputs})
        return _mean(terms, self.inputs), max(_variance(terms, self.inputs), 0.0)

    def indices(self, groupings: Sequence[str] = GROUPINGS, second_order: bool = False) -> dict[str, xr.Dataset]:
        """Exact S1, ST, Shapley effects and remaining variance per grouping (layout of ``sobol.nc``)."""
        unknown = [g for g in groupings if g not in GROUPINGS]
        if unknown:
            raise ValueError(f"unknown grouping {unknown[0]!r}; allowed: {', '.join(GROUPINGS)}")
        model = self.model
        names = model.parameters.random_names
        out = {}
        for grouping in groupings:
            groups = None if grouping == "parameter" else parameter_groups(model, grouping)
            res = self.total.grouped(groups, second_order)
            dim = "parameter" if groups is None else "group"
            coords: dict = {dim: res["labels"]}
            if groups is None:
                ps = model.parameters
                coords.update(unit=("parameter", [ps[n].unit for n in names]),
                              status=("parameter", [ps[n].status for n in names]),
                              component=("parameter", [_owner(model, n) for n in names]))
            else:
                coords["members"] = (dim, [",".join(groups[g]) for g in res["labels"]])
            data = {
                "S1": ((dim,), res["S1"], {"long_name": "exact first-order (closed) Sobol' index", "units": "1"}),
                "ST": ((dim,), res["ST"], {"long_name": "exact total-order Sobol' index", "units": "1"}),
                "shapley": ((dim,), res["shapley"], {"long_name": "exact Shapley effect (Owen 2014)",
                                                     "units": "1"}),
                "remaining_variance": ((dim,), res["remaining_variance"],
                                       footprint_attrs("variance of the total left if this were known "
                                                       "exactly, E[Var(total | it)]", squared=True)),
                "remaining_sd": ((dim,), np.sqrt(res["remaining_variance"]),
                                 footprint_attrs("square root of remaining_variance")),
            }
            if second_order:
                data["S2"] = ((dim, f"{dim}_2"), res["S2"],
                              {"long_name": "exact second-order Sobol' index; upper triangle only", "units": "1"})
                coords[f"{dim}_2"] = res["labels"]
            ds = xr.Dataset({k: xr.Variable(*v) for k, v in data.items()}, coords=coords)
            ds.attrs.update({
                "grouped_by": grouping,
                "output": "total footprint [kg CO2-eq]",
                "method": METHOD,
                "mean": self.total.mean,
                "variance": self.total.variance,
                "sd": math.sqrt(max(self.total.variance, 0.0)),
                "calc_second_order": int(bool(second_order)),
                "n_monomials": sum(len(p) for p in self.components),
                "independence_note": "inputs are independent (as the sampler draws them); no sampling error",
            })
            out[grouping] = ds
        return out

    def summary(self) -> pd.DataFrame:
        """Exact mean and standard deviation of every component, stage and the total [kg CO2-eq], indexed like
        the Monte Carlo summary (:func:`~uncertainty_footprint.analysis.summary.summarize`)."""
        layout = SummaryLayout(self.model.component_names, self.model.stages)
        polys = list(self.components)
        polys += [sum((p for p, s in zip(self.components, layout.stages) if s == stage), Polynomial())
                  for stage in layout.stage_order]
        polys.append(sum(self.components, Polynomial()))
        stats = [self.moments(p) for p in polys]
        return pd.DataFrame({"exact_mean": [m for m, _ in stats], "exact_sd": [math.sqrt(v) for _, v in stats]},
                            index=pd.Index(layout.names, name="name"))


def _owner(model: LifecycleModel, name: str) -> str:
    return "+".join(c.name for c in model.components if name in c.parameter_names())


def _model_inputs(model: LifecycleModel, rename: Mapping[str, str] | None = None
                  ) -> tuple[list[Polynomial], dict[str, Distribution]]:
    """The model's components in expanded form (random parameters symbolic, renamed by ``rename``) and the
    distribution of every symbol."""
    ps = model.parameters
    rename = dict(rename or {})
    polys = expand_components(model, ps.random_names)
    if rename:
        polys = [_rename(p, rename) for p in polys]
    return polys, {rename.get(n, n): ps[n].distribution for n in ps.random_names}


def _rename(poly: Polynomial, names: Mapping[str, str]) -> Polynomial:
    return Polynomial({tuple(sorted((names.get(s, s), p) for s, p in m)): c for m, c in poly.terms.items()})


def exact_analysis(model: LifecycleModel) -> ExactAnalysis:
    """Expand a model and decompose the variance of its total exactly.

    Raises
    ------
    NotSeparableError
        The model is not a sum of products of integer powers of its inputs.
    InfiniteMomentError
        A needed moment is infinite (a negative power of an input whose support reaches 0).
    ValueError
        The model has no uncertain parameter.
    DependentInputsError
        Some inputs are correlated.
    """
    names = model.parameters.random_names
    if not names:
        raise ValueError("the model has no uncertain parameter: nothing to analyse")
    if model.parameters.dependent:
        raise DependentInputsError(f"the inputs {', '.join(model.parameters.correlations.names)} are correlated; "
                                   "the exact decomposition needs independent inputs")
    polys, dists = _model_inputs(model)
    inputs, input_of = _inputs(names, dists, polys, {})
    total = decompose(sum(polys, Polynomial()), inputs, input_of, names)
    return ExactAnalysis(model, polys, total, inputs, input_of)


def exact_indices(model: LifecycleModel, groupings: Sequence[str] = GROUPINGS,
                  second_order: bool = False) -> dict[str, xr.Dataset]:
    """Exact Sobol' indices and Shapley effects of the total footprint, per grouping.

    Parameters
    ----------
    model : LifecycleModel
    groupings : sequence of {'parameter', 'component', 'stage'}
        The groups are those of the sampled analysis
        (:func:`~uncertainty_footprint.analysis.hotspots.parameter_groups`), so both can be compared.
    second_order : bool
        Also ``S2`` of every pair.

    Returns
    -------
    dict of str to xarray.Dataset
        Grouping -> Dataset over ``parameter`` (coordinates ``unit``, ``status``, ``component``) or ``group``
        (coordinate ``members``) with ``S1``, ``ST``, ``shapley`` [-], ``remaining_variance`` [(kg CO2-eq)^2],
        ``remaining_sd`` [kg CO2-eq] (and ``S2`` over (dim, dim_2), upper triangle); attrs ``mean``,
        ``variance``, ``sd`` of the total [kg CO2-eq] and ``grouped_by``.
    """
    return exact_analysis(model).indices(groupings, second_order)


def exact_summary(model: LifecycleModel) -> pd.DataFrame:
    """Exact ``exact_mean`` and ``exact_sd`` [kg CO2-eq] of every component, stage and the total."""
    return exact_analysis(model).summary()


def exact_table(exact: Mapping[str, xr.Dataset]) -> pd.DataFrame:
    """All exact indices in one long table: ``grouping, name, S1, ST, shapley``, ranked by ST per grouping."""
    frames = []
    for grouping, ds in exact.items():
        dim = "parameter" if "parameter" in ds["ST"].dims else "group"
        frame = pd.DataFrame({"grouping": grouping, "name": [str(v) for v in ds[dim].values],
                              **{v: ds[v].values for v in ("S1", "ST", "shapley")}})
        frames.append(frame.sort_values("ST", ascending=False, kind="stable"))
    return pd.concat(frames, ignore_index=True)


def exact_or_none(model: LifecycleModel, of: str = "", fallback: str = "the hotspots are the sampled Sobol' "
                  "estimates") -> ExactAnalysis | None:
    """:func:`exact_analysis`, or None: without an uncertain parameter (nothing to decompose), with correlated
    inputs (their hotspots are Shapley effects), or with one
    :class:`ExactDecompositionWarning` line (``no exact variance decomposition{of}: <why>; {fallback}``) when the
    model is not separable or a moment is infinite."""
    if not model.parameters.random_names or model.parameters.dependent:
        return None  # nothing to decompose; correlated inputs: Shapley effects instead (no warning: by design)
    try:
        return exact_analysis(model)
    except (NotSeparableError, InfiniteMomentError) as exc:
        warnings.warn(f"no exact variance decomposition{of}: {exc}" + (f"; {fallback}" if fallback else ""),
                      ExactDecompositionWarning, stacklevel=3)
        return None


def try_exact(model: LifecycleModel, groupings: Sequence[str] = GROUPINGS, second_order: bool = False
              ) -> tuple[dict[str, xr.Dataset], pd.DataFrame] | None:
    """:meth:`ExactAnalysis.indices` and :meth:`ExactAnalysis.summary`, or None (:func:`exact_or_none`: the
    sampled analysis then stands alone)."""
    analysis = exact_or_none(model)
    return None if analysis is None else (analysis.indices(groupings, second_order), analysis.summary())


def difference_decomposition(model_a: LifecycleModel, model_b: LifecycleModel) -> Decomposition:
    """Exact ANOVA of the paired difference ``total(B) - total(A)`` under common random numbers.

    A parameter random in both models is one input (the same uniform drives both, as the comparison's designs
    do), even when its distribution differs between them (``F_A^-1(U)`` and ``F_B^-1(U)``); fixed parameters
    are constants.

    Returns
    -------
    Decomposition
        Mean and variance of ``B - A`` [kg CO2-eq, (kg CO2-eq)^2] and its ``V_u`` over the union of the random
        parameters (A's order, then B's new ones).

    Raises
    ------
    NotSeparableError, InfiniteMomentError, DependentInputsError
    """
    cache: dict = {}
    pa, pb = model_a.parameters, model_b.parameters
    if pa.dependent or pb.dependent:
        raise DependentInputsError("a model of the pair has correlated inputs; the exact decomposition of the "
                                   "difference needs independent inputs")
    names_a, names_b = pa.random_names, pb.random_names
    if any(ps[n].distribution.family == "categorical" for ps, names in ((pa, names_a), (pb, names_b)) for n in names):
        raise NotSeparableError("an experiment chooses among methods; the paired difference of two experiments "
                                "with methods is decomposed by sampling only")
    # one symbol where both models draw the parameter from the same distribution (identical terms then cancel
    # exactly), two symbols of the same input where the distributions differ
    differ = {n for n in names_b if n in names_a and _spec_key(pa[n].distribution) != _spec_key(pb[n].distribution)}
    polys_a, dists_a = _model_inputs(model_a)
    polys_b, dists_b = _model_inputs(model_b, {n: f"{n}@b" for n in differ})
    order = names_a + [n for n in names_b if n not in names_a]
    symbols: dict[str, dict[str, Distribution]] = {n: {} for n in order}
    input_of = {}
    for dists in (dists_a, dists_b):
        for sym, dist in dists.items():
            name = sym.removesuffix("@b")
            symbols[name][sym] = dist
            input_of[sym] = name
    inputs = {n: _Input(n, symbols[n], cache) for n in order}
    diff = sum(polys_b, Polynomial()) - sum(polys_a, Polynomial())
    return decompose(diff, inputs, input_of, order)


def sampled_coverage(exact: Mapping[str, xr.Dataset], sobol: Mapping[str, xr.Dataset]) -> dict[str, pd.DataFrame]:
    """Whether each sampled interval covers the exact index, for the groupings both have.

    Returns
    -------
    dict of str to pandas.DataFrame
        Grouping -> table indexed by parameter or group with the exact ``S1, ST, shapley``, the sampled
        ``S1_sampled, S1_conf, ST_sampled, ST_conf`` and booleans ``S1_covered``, ``ST_covered``
        (``|sampled - exact| <= conf``).
    """
    out = {}
    for grouping in exact:
        if grouping not in sobol:
            continue
        e, s = exact[grouping], sobol[grouping]
        dim = "parameter" if "parameter" in e["ST"].dims else "group"
        names = [str(v) for v in e[dim].values]
        sampled = {str(v): j for j, v in enumerate(s[dim].values)}
        take = [sampled[n] for n in names]
        table = pd.DataFrame({key: e[key].values for key in ("S1", "ST", "shapley")},
                             index=pd.Index(names, name=dim))
        for key in ("S1", "ST"):
            table[f"{key}_sampled"] = np.asarray(s[key].values, dtype=float)[take]
            table[f"{key}_conf"] = np.asarray(s[f"{key}_conf"].values, dtype=float)[take]
            table[f"{key}_covered"] = np.abs(table[f"{key}_sampled"] - table[key]) <= table[f"{key}_conf"]
        out[grouping] = table
    return out


def difference_shares(models: Mapping[str, LifecycleModel]) -> tuple[pd.DataFrame, pd.DataFrame] | None:
    """Which inputs decide A vs B: the exact decomposition of every paired difference ``B - A``.

    Parameters
    ----------
    models : mapping of str to LifecycleModel
        Label -> model, in comparison order (pairs are A before B), sampled with common random numbers.

    Returns
    -------
    shares : pandas.DataFrame
        One row per pair and input with ``a, b, parameter, shapley, S1, ST`` [-] of ``Var(B - A)`` and
        ``remaining_sd`` [kg CO2-eq] (the sd of B - A left if that input were known exactly), ranked by Shapley
        effect within each pair.
    moments : pandas.DataFrame
        Indexed by ``(a, b)``: ``exact_mean`` and ``exact_sd`` of ``B - A`` [kg CO2-eq].

    None, with one :class:`ExactDecompositionWarning`, when a model is not separable or a moment is infinite;
    None (no warning) when a model has correlated inputs.
    """
    if any(m.parameters.dependent for m in models.values()):
        return None
    labels = list(models)
    rows, stats = [], []
    try:
        for i, a in enumerate(labels):
            for b in labels[i + 1:]:
                d = difference_decomposition(models[a], models[b])
                g = d.grouped()
                frame = pd.DataFrame({"a": a, "b": b, "parameter": g["labels"], "shapley": g["shapley"],
                                      "S1": g["S1"], "ST": g["ST"], "remaining_sd": np.sqrt(g["remaining_variance"])})
                rows.append(frame.sort_values("shapley", ascending=False, kind="stable"))
                stats.append({"a": a, "b": b, "exact_mean": d.mean, "exact_sd": math.sqrt(max(d.variance, 0.0))})
    except (NotSeparableError, InfiniteMomentError) as exc:
        warnings.warn(f"no exact decomposition of the paired differences: {exc}", ExactDecompositionWarning,
                      stacklevel=2)
        return None
    return pd.concat(rows, ignore_index=True), pd.DataFrame(stats).set_index(["a", "b"])
