"""Parameters: a named distribution with its unit, nominal value, source and status.

A :class:`ParameterSet` is the ordered collection a model consumes. Its single inverse-CDF step,
:meth:`ParameterSet.ppf`, maps a design in the unit hypercube (one column per *random* parameter) to physical
values for every parameter; fixed parameters take their value without a design column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from .distributions import Distribution, as_number, make_distribution
from ..errors import SpecError

__all__ = ["STATUSES", "SCENARIOS", "Parameter", "ParameterSet", "parse_record", "check_name"]

#: Allowed values of a record's ``status``.
STATUSES = ("quoted", "inferred", "assumed")
#: Deterministic scenarios of the published table, for HSL quantities.
SCENARIOS = ("lower", "typical", "upper")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RECORD_FIELDS = ("description", "unit", "distribution", "nominal", "status", "source", "confidence", "note",
                 "domain")
#: Physical values are non-negative unless a record's ``domain`` says otherwise.
DEFAULT_DOMAIN = (0.0, math.inf)


def check_name(name: Any) -> str:
    """Return ``name`` if it is a snake_case identifier, else raise :class:`SpecError`."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SpecError(f"{name!r} is not a valid name: use snake_case (lower-case letters, digits and '_', "
                        "starting with a letter)")
    return name


@dataclass(frozen=True)
class Parameter:
    """One uncertain (or fixed) model input.

    Attributes
    ----------
    name : str
        snake_case name, identical in data files, experiments, model keyword arguments and results.
    unit : str
        Physical unit, e.g. ``kg CO2-eq/kWh``.
    distribution : Distribution
        Frozen distribution sampled by the Monte Carlo and Sobol designs.
    nominal : float
        Value used by the deterministic (published point-estimate) evaluation.
    status : str
        ``quoted``, ``inferred`` or ``assumed``.
    source : tuple of str
        Keys into ``distributions/sources.yaml``.
    description, note : str
        Human-readable meaning and basis.
    origin : str
        File (and key) the record came from.
    scenarios : mapping or None
        For HSL quantities, the published ``lower``/``typical``/``upper`` values.
    """

    name: str
    unit: str
    distribution: Distribution
    nominal: float
    status: str
    source: tuple[str, ...] = ()
    description: str = ""
    note: str = ""
    origin: str = ""
    scenarios: Mapping[str, float] | None = field(default=None, compare=False)
    domain: tuple[float, float] = DEFAULT_DOMAIN

    @property
    def is_random(self) -> bool:
        return not self.distribution.is_fixed

    def value_in(self, scenario: str | None) -> float:
        """Deterministic value in a published scenario (``lower``/``typical``/``upper``) or the nominal."""
        if scenario is not None and self.scenarios is not None:
            return self.scenarios[scenario]
        return self.nominal


def _as_text(value: Any, what: str) -> str:
    if not isinstance(value, str):
        raise SpecError(f"{what} must be text, got {value!r}")
    return value


def _as_sources(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SpecError(f"source must be a key of distributions/sources.yaml or a list of them, got {value!r}")
    return tuple(value)


def _as_domain(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise SpecError(f"domain must be [low, high] (null for unbounded), got {value!r}")
    lo = -math.inf if value[0] is None else as_number(value[0], "domain low")
    hi = math.inf if value[1] is None else as_number(value[1], "domain high")
    if not lo < hi:
        raise SpecError(f"domain needs low < high, got {value!r}")
    return (lo, hi)


def _check_domain(fields: Mapping[str, Any]) -> None:
    lo, hi = fields.get("domain", DEFAULT_DOMAIN)
    s_lo, s_hi = fields["distribution"].support()
    allowed = f"[{lo:g}, {hi:g}" + (")" if math.isinf(hi) else "]")
    if s_lo < lo or s_hi > hi:
        what = "negative values" if lo == 0 and s_lo < 0 else f"values outside {allowed}"
        raise SpecError(f"the distribution must not allow {what} (its support is {s_lo:g} to {s_hi:g}); "
                        f"allowed: values in {allowed}")
    if not lo <= fields["nominal"] <= hi:
        raise SpecError(f"nominal {fields['nominal']:g} is outside the allowed values {allowed}")


def parse_record(name: str, raw: Any, *, origin: str, base: Parameter | None = None,
                 known_sources: Iterable[str] | None = None, default_source: str | None = None) -> Parameter:
    """Build a :class:`Parameter` from a data-file or experiment record.

    Parameters
    ----------
    name : str
        The parameter name.
    raw : mapping or number
        A full record (fields ``description, unit, distribution, nominal, status, source, confidence, note``),
        a bare distribution spec (``{family: ...}``) or a number (a fixed value). With ``base`` given, the record
        overrides the base record's fields; a new distribution without a new ``nominal`` takes the new
        distribution's central value, and without a new ``status``/``source`` becomes ``assumed`` from
        ``default_source``.
    origin : str
        Where the record comes from, kept for provenance.
    known_sources : iterable of str, optional
        Allowed source keys; unknown keys are refused.

    Raises
    ------
    SpecError
        With a message saying which field is wrong and what is allowed.
    """
    check_name(name)
    if isinstance(raw, (int, float, str)) and not isinstance(raw, bool):
        raw = {"distribution": {"family": "fixed", "value": as_number(raw, "a fixed value")}}
    if not isinstance(raw, Mapping):
        raise SpecError("must be a number, a distribution {family: ..., ...} or a record with fields "
                        + ", ".join(RECORD_FIELDS))
    if "family" in raw:
        raw = {"distribution": dict(raw)}
    unknown = sorted(set(raw) - set(RECORD_FIELDS))
    if unknown:
        raise SpecError(f"unknown field {unknown[0]!r}; allowed: {', '.join(RECORD_FIELDS)}")
    if base is None:
        for required in ("unit", "distribution", "status", "source"):
            if required not in raw:
                raise SpecError(f"missing field {required!r} (a record needs unit, distribution, status, source)")
    fields: dict[str, Any] = {} if base is None else {
        "unit": base.unit, "distribution": base.distribution, "nominal": base.nominal, "status": base.status,
        "source": base.source, "description": base.description, "note": base.note, "scenarios": base.scenarios,
        "domain": base.domain}
    new_distribution = "distribution" in raw
    if new_distribution:
        try:
            fields["distribution"] = make_distribution(raw["distribution"])
        except SpecError as exc:
            raise SpecError(f"distribution: {exc}") from None
        fields["nominal"] = fields["distribution"].central
        fields["scenarios"] = None
        if base is not None:
            fields["status"], fields["source"] = "assumed", (default_source or origin,)
    if "nominal" in raw:
        fields["nominal"] = as_number(raw["nominal"], "nominal")
    if "unit" in raw:
        fields["unit"] = _as_text(raw["unit"], "unit")
    if "status" in raw:
        if raw["status"] not in STATUSES:
            raise SpecError(f"status must be one of {', '.join(STATUSES)}, got {raw['status']!r}")
        fields["status"] = raw["status"]
    if "source" in raw:
        fields["source"] = _as_sources(raw["source"])
    for text in ("description", "note"):
        if text in raw:
            fields[text] = _as_text(raw[text], text)
    if "confidence" in raw and raw["confidence"] not in ("H", "M", "L"):
        raise SpecError(f"confidence must be H, M or L, got {raw['confidence']!r}")
    if "domain" in raw:
        fields["domain"] = _as_domain(raw["domain"])
    _check_domain(fields)
    if known_sources is not None:
        known = set(known_sources)
        for key in fields["source"]:
            if key not in known and key != default_source:
                raise SpecError(f"unknown source {key!r}; add it to distributions/sources.yaml "
                                f"(known: {', '.join(sorted(known))})")
    return Parameter(name=name, origin=origin, **fields)


class ParameterSet(Mapping[str, Parameter]):
    """An ordered, immutable collection of parameters with the package's single inverse-CDF step."""

    def __init__(self, parameters: Iterable[Parameter]):
        self._params: dict[str, Parameter] = {}
        for p in parameters:
            if p.name in self._params:
                raise ValueError(f"duplicate parameter {p.name!r}")
            self._params[p.name] = p

    def __getitem__(self, name: str) -> Parameter:
        return self._params[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._params)

    def __len__(self) -> int:
        return len(self._params)

    @property
    def names(self) -> list[str]:
        return list(self._params)

    @property
    def random_names(self) -> list[str]:
        """Names of the parameters that take a design column, in order."""
        return [n for n, p in self._params.items() if p.is_random]

    def ppf(self, u: np.ndarray, *, in_place: bool = False) -> dict[str, np.ndarray]:
        """Map a unit-hypercube design to physical values of every parameter.

        Parameters
        ----------
        u : numpy.ndarray, shape (n, len(random_names))
            Design points in (0, 1); column j belongs to ``random_names[j]``. Values are clipped to
            [eps/2, 1 - eps/2] (an exact 0 or 1 would map to an infinite bound).
        in_place : bool
            Clip ``u`` in place instead of a copy (for callers that own the design array).

        Returns
        -------
        dict of str to numpy.ndarray
            Values of length n for every parameter (fixed ones broadcast to length n).
        """
        u = np.asarray(u, dtype=float)
        names = self.random_names
        if u.ndim != 2 or u.shape[1] != len(names):
            raise ValueError(f"design must have shape (n, {len(names)}), got {u.shape}")
        eps = np.finfo(float).eps / 2
        random = {}
        for column, name in enumerate(names):
            col = u[:, column]
            col = np.clip(col, eps, 1.0 - eps, out=col if in_place else None)
            random[name] = self._params[name].distribution.ppf(col)
        return self.values(random, u.shape[0])

    def values(self, random: Mapping[str, np.ndarray], n: int) -> dict[str, np.ndarray]:
        """Every parameter's values in order: ``random`` holds the random ones, fixed ones are filled in."""
        return {name: random[name] if p.is_random else np.full(n, p.distribution.central)
                for name, p in self._params.items()}

    def deterministic(self, scenario: str | None = None) -> dict[str, np.ndarray]:
        """Values for the deterministic evaluation: the scenario's HSL quantity where defined, else nominal."""
        return {n: np.array([p.value_in(scenario)]) for n, p in self._params.items()}

    def assumed(self) -> list[str]:
        """Names of the parameters whose status is ``assumed``."""
        return [n for n, p in self._params.items() if p.status == "assumed"]
