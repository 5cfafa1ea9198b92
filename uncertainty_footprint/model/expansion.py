"""Symbolic expansion of a lifecycle model into a sum of monomials of its inputs.

The lifecycle functions of :mod:`uncertainty_footprint.model.lifecycle` are sums of products of their inputs
(quantity x factor, mass x distance x factor, power x lifetime x intensity / efficiency, a fraction of the
embodied sum). Evaluating them on :class:`Polynomial` symbols instead of numbers, through the very same code path
the sampler uses (:meth:`LifecycleModel.component_values
<uncertainty_footprint.model.builder.LifecycleModel.component_values>`), gives each component in expanded form

.. math:: f(x) = \\sum_k c_k \\prod_i x_i^{p_{ki}}, \\qquad p_{ki} \\in \\mathbb{Z},

from which :mod:`uncertainty_footprint.analysis.exact` computes the variance decomposition in closed form. The
numpy operations the lifecycle functions use (``+ - * /``, integer powers, ``np.multiply``, ``np.divide``,
``np.add``, ``np.sum`` ...) dispatch to :class:`Polynomial` through numpy's ``__array_ufunc__`` protocol; any
operation outside that algebra (``np.exp`` of an input, a division by a sum, a comparison or branch on an input)
raises :class:`NotSeparableError`, so a model that is not of this form is refused, never approximated.
"""

from __future__ import annotations

import numbers
from typing import Iterable, Mapping

import numpy as np

from ..errors import FootprintError

__all__ = ["NotSeparableError", "Polynomial", "Monomial", "as_polynomial", "expand_components", "expand_model",
           "INDICATOR", "indicator_parts"]

#: Separator of an indicator symbol: ``np.equal(x, k)`` of an input ``x`` is the symbol ``x==k`` (1 where the input
#: takes the value k, else 0), e.g. the method a component's footprint is computed with.
INDICATOR = "=="


def indicator_parts(symbol: str) -> tuple[str, int] | None:
    """``(input, k)`` of an indicator symbol ``input==k``, or None for a plain symbol."""
    name, sep, k = symbol.rpartition(INDICATOR)
    return (name, int(k)) if sep and name and k.lstrip("-").isdigit() else None

#: A monomial: ``((name, power), ...)`` sorted by name, every power a non-zero int; ``()`` is the constant 1.
Monomial = tuple


class NotSeparableError(FootprintError):
    """The model is not a sum of products of integer powers of its inputs (no exact decomposition)."""


def _merge(a: Monomial, b: Monomial) -> Monomial:
    """Product of two monomials."""
    if not a:
        return b
    if not b:
        return a
    powers = dict(a)
    for name, p in b:
        q = powers.get(name, 0) + p
        if q:
            powers[name] = q
        else:
            del powers[name]
    return tuple(sorted(powers.items()))


def _number(x) -> float | None:
    """``x`` as a float if it is a real number (or a one-element array), else None."""
    if isinstance(x, (bool, np.bool_)):
        return float(x)
    if isinstance(x, numbers.Real):
        return float(x)
    if isinstance(x, np.ndarray) and x.size == 1 and x.dtype.kind in "biuf":
        return float(x.reshape(()))
    return None


class Polynomial:
    """A finite sum of monomials ``c * prod(x_name ** power)`` with real coefficients and integer powers.

    Build symbols with :meth:`symbol` and combine them with numbers through Python operators or numpy ufuncs.
    Instances are immutable.

    Parameters
    ----------
    terms : mapping of Monomial to float
        Coefficient of every monomial (zero coefficients are dropped).
    """

    __slots__ = ("terms",)
    __array_priority__ = 1000.0  # numpy scalars and arrays defer to Polynomial's operators

    def __init__(self, terms: Mapping[Monomial, float] | None = None):
        self.terms: dict[Monomial, float] = {m: float(c) for m, c in (terms or {}).items() if c != 0.0}

    # --- construction ---------------------------------------------------------------------------------------
    @classmethod
    def symbol(cls, name: str) -> "Polynomial":
        """The input ``name`` itself (power 1, coefficient 1)."""
        return cls({((str(name), 1),): 1.0})

    @classmethod
    def constant(cls, value: float) -> "Polynomial":
        return cls({(): float(value)})

    # --- inspection -----------------------------------------------------------------------------------------
    @property
    def variables(self) -> list[str]:
        """Names of the inputs that occur, sorted."""
        return sorted({name for m in self.terms for name, _ in m})

    def is_constant(self) -> bool:
        return all(not m for m in self.terms)

    def __len__(self) -> int:
        return len(self.terms)

    def __repr__(self) -> str:
        if not self.terms:
            return "Polynomial(0)"
        parts = []
        for m, c in self.terms.items():
            factors = "*".join(n if p == 1 else f"{n}^{p}" for n, p in m)
            parts.append(f"{c:.6g}" + (f"*{factors}" if factors else ""))
        text = " + ".join(parts)
        return f"Polynomial({text if len(text) < 200 else text[:197] + '...'})"

    def equals(self, other: "Polynomial", rtol: float = 0.0) -> bool:
        """Same monomials with coefficients equal within ``rtol`` (relative)."""
        other = as_polynomial(other)
        if set(self.terms) != set(other.terms):
            return False
        return all(abs(c - other.terms[m]) <= rtol * max(abs(c), abs(other.terms[m])) for m, c in self.terms.items())

    # --- numbers --------------------------------------------------------------------------------------------
    def __call__(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Numerical value at ``values`` (name -> number or array; arrays broadcast) [the model's unit]; an
        indicator symbol ``x==k`` is 1 where ``values[x]`` equals k, else 0."""
        total = np.float64(0.0)
        for m, c in self.terms.items():
            term = c
            for name, p in m:
                parts = indicator_parts(name) if name not in values else None
                value = np.equal(values[parts[0]], parts[1]) if parts is not None else values[name]
                term = term * np.asarray(value, dtype=float) ** p
            total = total + term
        return np.asarray(total, dtype=float)

    def substitute(self, values: Mapping[str, float]) -> "Polynomial":
        """Replace the inputs of ``values`` (name -> number) by those numbers, folding them into coefficients."""
        out: dict[Monomial, float] = {}
        for m, c in self.terms.items():
            keep = []
            for name, p in m:
                if name in values:
                    x = float(values[name])
                    if x == 0.0 and p < 0:
                        raise ZeroDivisionError(f"{name} is 0 and the model divides by it")
                    c *= x ** p
                else:
                    keep.append((name, p))
            key = tuple(keep)
            out[key] = out.get(key, 0.0) + c
        return Polynomial(out)

    # --- algebra --------------------------------------------------------------------------------------------
    def _add(self, other: "Polynomial", sign: float = 1.0) -> "Polynomial":
        terms = dict(self.terms)
        for m, c in other.terms.items():
            terms[m] = terms.get(m, 0.0) + sign * c
        return Polynomial(terms)

    def _mul(self, other: "Polynomial") -> "Polynomial":
        terms: dict[Monomial, float] = {}
        for ma, ca in self.terms.items():
            for mb, cb in other.terms.items():
                m = _merge(ma, mb)
                terms[m] = terms.get(m, 0.0) + ca * cb
        return Polynomial(terms)

    def _inverse(self, what: str = "division") -> "Polynomial":
        if len(self.terms) != 1:
            raise NotSeparableError(
                f"{what} by a sum ({self!r}) is not a sum of products of integer powers of the inputs"
                if self.terms else f"{what} by zero")
        (m, c), = self.terms.items()
        return Polynomial({tuple((n, -p) for n, p in m): 1.0 / c})

    def _equal(self, other: "Polynomial") -> "Polynomial":
        """``1[x == k]``: the indicator symbol ``x==k`` of a single input ``x`` and an integer ``k`` (a number
        compared with a number gives 0 or 1)."""
        if self.is_constant() and other.is_constant():
            return Polynomial.constant(float(_constant_value(self) == _constant_value(other)))
        symbol, value = (self, other) if other.is_constant() else (other, self)
        k = _constant_value(value)
        single = len(symbol.terms) == 1 and next(iter(symbol.terms.values())) == 1.0
        monomial = next(iter(symbol.terms)) if single else ()
        if not (single and len(monomial) == 1 and monomial[0][1] == 1 and float(k).is_integer()):
            raise NotSeparableError("a comparison of inputs is not a sum of products of integer powers of the "
                                    "inputs (only an input compared with an integer, the choice of an alternative, "
                                    "is)")
        return Polynomial.symbol(f"{monomial[0][0]}{INDICATOR}{int(k)}")

    def _pow(self, exponent) -> "Polynomial":
        e = _number(exponent)
        if e is None or not float(e).is_integer():
            raise NotSeparableError(f"the power {exponent!r} of an input is not an integer power")
        n = int(e)
        if n < 0:
            return self._inverse("a negative power")._pow(-n)
        out = Polynomial.constant(1.0)
        base = self
        while n:  # exponentiation by squaring
            if n & 1:
                out = out._mul(base)
            n >>= 1
            if n:
                base = base._mul(base)
        return out

    def __add__(self, other):
        o = _operand(other)
        return NotImplemented if o is None else self._add(o)

    __radd__ = __add__

    def __sub__(self, other):
        o = _operand(other)
        return NotImplemented if o is None else self._add(o, -1.0)

    def __rsub__(self, other):
        o = _operand(other)
        return NotImplemented if o is None else o._add(self, -1.0)

    def __mul__(self, other):
        o = _operand(other)
        return NotImplemented if o is None else self._mul(o)

    __rmul__ = __mul__

    def __truediv__(self, other):
        o = _operand(other)
        return NotImplemented if o is None else self._mul(o._inverse())

    def __rtruediv__(self, other):
        o = _operand(other)
        return NotImplemented if o is None else o._mul(self._inverse())

    def __pow__(self, exponent):
        return self._pow(exponent)

    def __rpow__(self, base):
        raise NotSeparableError("a power with an input in the exponent is not a polynomial of the inputs")

    def __neg__(self):
        return Polynomial({m: -c for m, c in self.terms.items()})

    def __pos__(self):
        return self

    def sum(self, *args, **kwargs):
        """``np.sum`` of a single polynomial is the polynomial itself."""
        return self

    def _refuse(self, *args, **kwargs):
        raise NotSeparableError("a comparison or branch on an input (e.g. np.where, max, if x > ...) is not a sum "
                                "of products of integer powers of the inputs")

    __lt__ = __le__ = __gt__ = __ge__ = __bool__ = __float__ = __int__ = _refuse

    __hash__ = object.__hash__

    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        if method != "__call__" or kwargs.get("out") is not None:
            raise NotSeparableError(f"numpy.{ufunc.__name__}.{method} is not supported on symbolic inputs")
        op = _UFUNCS.get(ufunc)
        if op is None:
            raise NotSeparableError(f"numpy.{ufunc.__name__} of an input is not a sum of products of integer "
                                    "powers of the inputs")
        operands = []
        for x in inputs:
            o = _operand(x)
            if o is None:
                raise TypeError(f"symbolic evaluation takes numbers and Polynomials, got {type(x).__name__} "
                                f"{getattr(x, 'shape', '')}")
            operands.append(o)
        if ufunc is np.power:
            return operands[0]._pow(_number(inputs[1]) if not isinstance(inputs[1], Polynomial)
                                    else _constant_value(inputs[1]))
        return op(*operands)


def _constant_value(p: Polynomial):
    if not p.is_constant():
        raise NotSeparableError("a power with an input in the exponent is not a polynomial of the inputs")
    return p.terms.get((), 0.0)


def _operand(x) -> Polynomial | None:
    if isinstance(x, Polynomial):
        return x
    v = _number(x)
    return None if v is None else Polynomial.constant(v)


_UFUNCS = {
    np.add: lambda a, b: a._add(b),
    np.subtract: lambda a, b: a._add(b, -1.0),
    np.multiply: lambda a, b: a._mul(b),
    np.true_divide: lambda a, b: a._mul(b._inverse()),
    np.negative: lambda a: -a,
    np.positive: lambda a: a,
    np.square: lambda a: a._mul(a),
    np.reciprocal: lambda a: a._inverse(),
    np.power: None,  # handled in __array_ufunc__ (the exponent must be an integer number)
    np.equal: lambda a, b: a._equal(b),  # an input compared with an integer: its indicator symbol
}


def as_polynomial(x) -> Polynomial:
    """``x`` if it is a :class:`Polynomial`, a constant polynomial if it is a number (or one-element array)."""
    o = _operand(x)
    if o is None:
        raise TypeError(f"not a polynomial or a number: {type(x).__name__}")
    return o


def expand_components(model, names: Iterable[str] | None = None) -> list[Polynomial]:
    """Every component of a lifecycle model in expanded form, in model order.

    Parameters
    ----------
    model : LifecycleModel
    names : iterable of str, optional
        Parameters to keep symbolic (default: all). The others are evaluated at their central value, as the
        sampler fills fixed parameters (:meth:`ParameterSet.values
        <uncertainty_footprint.inputs.parameters.ParameterSet.values>`).

    Returns
    -------
    list of Polynomial
        One per component [kg CO2-eq], in the parameters' units.

    Raises
    ------
    NotSeparableError
        A component kind uses an operation outside sums of products of integer powers.
    """
    ps = model.parameters
    keep = set(ps.names if names is None else names)
    values = {n: Polynomial.symbol(n) if n in keep else ps[n].distribution.central for n in ps.names}
    try:
        results = model.component_values(values)
    except ZeroDivisionError as exc:
        raise NotSeparableError(f"the model divides by a parameter that is 0: {exc}") from None
    return [as_polynomial(r) for r in results]


def expand_model(model) -> list[Polynomial]:
    """:func:`expand_components` with the random parameters symbolic and fixed ones at their value."""
    return expand_components(model, model.parameters.random_names)
