"""Parameters: a named distribution with its unit, nominal value, source and status.

A :class:`ParameterSet` is the ordered collection a model consumes. Its single inverse-CDF step,
:meth:`ParameterSet.ppf`, maps a design in the unit hypercube (one column per *random* parameter) to physical
values for every parameter; fixed parameters take their value without a design column.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Iterator, Mapping

import numpy as np

from .distributions import UNIT_EDGE, Distribution, as_number, make_distribution
from .copula import CorrelationSpec, apply_copula
from .units import conversion_factor, parse_unit
from ..errors import SpecError, shorten

__all__ = ["STATUSES", "SCENARIOS", "CONFIDENCES", "Parameter", "ParameterSet", "parse_record", "check_name",
           "open_unit", "UNIT_EDGE"]

#: Allowed values of a record's ``status``.
STATUSES = ("quoted", "inferred", "assumed")
#: Deterministic scenarios of the published table, for HSL quantities.
SCENARIOS = ("lower", "typical", "upper")
#: Allowed values of a record's optional ``confidence`` (high, medium, low; distributions/README.md).
CONFIDENCES = ("H", "M", "L")

_NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
RECORD_FIELDS = ("description", "unit", "distribution", "nominal", "status", "source", "confidence", "note",
                 "domain", "offered_for_overrides", "pedigree_reasons")
#: Parameters of each distribution family that carry the record's unit (scaled when an override's unit is
#: converted); the others (``gsd``, ``lambda``) are dimensionless shapes. Every family must be listed.
UNIT_PARAMETERS = {"fixed": ("value",), "uniform": ("low", "high"), "loguniform": ("low", "high"),
                   "triangular": ("low", "mode", "high"), "pert": ("low", "mode", "high"),
                   "normal": ("mean", "sd"), "truncnormal": ("mean", "sd", "low", "high"), "lognormal": ("median",),
                   "categorical": ()}
#: Physical values are non-negative unless a record's ``domain`` says otherwise.
DEFAULT_DOMAIN = (0.0, math.inf)
#: Distance of the open unit interval's ends from 0 and 1 [probability]: eps / 2 = 2**-53, so that


def open_unit(u: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
    """Clip design points to the open unit interval ``[2**-53, 1 - 2**-53]``: the package's one edge policy.

    Every design (Monte Carlo, Latin hypercube, scrambled Sobol', the Saltelli design of the Sobol' analysis)
    passes through this before an inverse CDF: an exact 0 or 1 (a scrambled Sobol' point is a multiple of
    2**-30 and can be 0) would map an unbounded distribution to an infinite value. Points inside the interval
    are unchanged, so the policy never moves a value a design actually draws away from its ends.

    Parameters
    ----------
    u : numpy.ndarray
        Probabilities in [0, 1] [1].
    out : numpy.ndarray, optional
        Where to write the result (``u`` itself for a design the caller owns); a new array by default.

    Returns
    -------
    numpy.ndarray
        ``u`` clipped to ``[UNIT_EDGE, 1 - UNIT_EDGE]`` [1].
    """
    return np.clip(u, UNIT_EDGE, 1.0 - UNIT_EDGE, out=out)


def check_name(name: Any) -> str:
    """Return ``name`` if it is a snake_case identifier, else raise :class:`SpecError`."""
    if not isinstance(name, str) or not _NAME_RE.match(name):
        raise SpecError(f"{shorten(name)} is not a valid name: use snake_case (lower-case letters, digits and '_', "
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
        Physical unit, e.g. ``kg CO2-eq/kWh`` (parsed by :func:`~uncertainty_footprint.inputs.units.parse_unit`).
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
    confidence : {'H', 'M', 'L'} or None
        Confidence in a back-calculated value, which sets its spread (distributions/README.md); recorded in the
        results' ``confidence`` coordinate. None when the record does not state it.
    converted_from : str
        When an experiment gave the record in another unit: that unit and the factor applied, e.g.
        ``W (x 1000 -> mW)``; empty otherwise.
    pedigree_reasons : str
        Why a distribution from a pedigree (:mod:`~uncertainty_footprint.inputs.pedigree`) has its scores.
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
    confidence: str | None = None
    converted_from: str = ""
    pedigree_reasons: str = ""

    @property
    def pedigree(self):
        """The data quality the distribution's spread comes from (a
        :class:`~uncertainty_footprint.inputs.pedigree.Pedigree`), or None."""
        return self.distribution.pedigree

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
        raise SpecError(f"{what} must be text, got {shorten(value)}", key="unit" if what == "unit" else "")
    return value


def _as_sources(value: Any) -> tuple[str, ...]:
    if isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
        raise SpecError("source must be a key of distributions/sources.yaml (or of the experiment's sources) or a "
                        f"list of them, got {shorten(value)}")
    return tuple(value)


def _as_domain(value: Any) -> tuple[float, float]:
    if not isinstance(value, list) or len(value) != 2:
        raise SpecError(f"domain must be [low, high] (null for unbounded), got {shorten(value)}")
    lo = -math.inf if value[0] is None else as_number(value[0], "domain low")
    hi = math.inf if value[1] is None else as_number(value[1], "domain high")
    if not lo < hi:
        raise SpecError(f"domain needs low < high, got {shorten(value)}")
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


def _scaled(dist: Distribution, factor: float) -> Distribution:
    """``dist`` of a value multiplied by ``factor`` (a unit conversion): its unit-carrying parameters scaled."""
    if factor == 1.0:
        return dist
    if dist.family not in UNIT_PARAMETERS:
        raise SpecError(f"a {dist.family} distribution cannot be converted between units; give it in the "
                        "catalog's unit", key="unit")
    spec = dist.to_spec()
    for key in UNIT_PARAMETERS[dist.family]:
        spec[key] = spec[key] * factor
    return make_distribution(spec)


def _unit_factor(text: Any, to: str) -> tuple[str, float]:
    """The unit an override gives and the factor to the record's unit ``to``; SpecError naming the expected unit."""
    text = _as_text(text, "unit")
    try:
        return text, conversion_factor(text, to)
    except SpecError as exc:
        raise SpecError(f"unit {exc}", key="unit") from None


def in_unit(param: Parameter, unit: str) -> Parameter:
    """``param`` expressed in ``unit`` (a compatible unit): distribution, nominal, domain and scenarios scaled,
    the conversion recorded in ``converted_from`` and the note.

    Raises
    ------
    SpecError
        ``unit`` does not parse or is not compatible with ``param.unit`` (key ``unit``).
    """
    src, factor = _unit_factor(param.unit, unit)
    if factor == 1.0:
        return replace(param, unit=unit)
    lo, hi = param.domain
    done = f"{src} (x {factor:g} -> {unit})"
    return replace(param, unit=unit, distribution=_scaled(param.distribution, factor), nominal=param.nominal * factor,
                   domain=(lo * factor, hi * factor), converted_from=done,
                   scenarios=None if param.scenarios is None else {k: v * factor for k, v in param.scenarios.items()},
                   note=(param.note + " " if param.note else "") + f"Converted from {src} to {unit} (x {factor:g}).")


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
        A ``unit`` in an override is converted to the base record's unit: the new distribution, nominal and
        domain (given in that unit) are scaled, and the conversion is recorded in ``converted_from`` and the note;
        an unknown or incompatible unit is refused naming the expected unit.
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
    unknown = sorted(set(raw) - set(RECORD_FIELDS), key=str)
    if unknown:
        raise SpecError(f"unknown field {shorten(unknown[0])}; allowed: {', '.join(RECORD_FIELDS)}")
    if base is None:
        for required in ("unit", "distribution", "status", "source"):
            if required not in raw:
                raise SpecError(f"missing field {required!r} (a record needs unit, distribution, status, source)")
    fields: dict[str, Any] = {} if base is None else {
        "unit": base.unit, "distribution": base.distribution, "nominal": base.nominal, "status": base.status,
        "source": base.source, "description": base.description, "note": base.note, "scenarios": base.scenarios,
        "domain": base.domain, "confidence": base.confidence, "pedigree_reasons": base.pedigree_reasons}
    factor, given_unit = 1.0, None
    if "unit" in raw and base is not None:
        given_unit, factor = _unit_factor(raw["unit"], base.unit)
        if factor != 1.0 and not {"distribution", "nominal"} & set(raw):
            raise SpecError(f"unit {shorten(given_unit)} is given without a distribution or nominal to convert; the "
                            f"record is in {base.unit}", key="unit")
    elif "unit" in raw:
        try:
            parse_unit(_as_text(raw["unit"], "unit"))
        except SpecError as exc:
            raise SpecError(f"unit {exc}", key="unit") from None
        fields["unit"] = raw["unit"]
    new_distribution = "distribution" in raw
    if (new_distribution and isinstance(raw["distribution"], Mapping)
            and raw["distribution"].get("family") == "categorical"):  # its values are indices, not quantities
        raise SpecError("family 'categorical' is the choice among methods (the methods: section), not the "
                        "distribution of a quantity", key="distribution.family")
    if new_distribution:
        try:
            fields["distribution"] = _scaled(make_distribution(raw["distribution"]), factor)
        except SpecError as exc:
            if exc.key:
                raise
            raise SpecError(f"distribution: {exc}") from None
        fields["nominal"] = fields["distribution"].central
        fields["scenarios"] = None
        fields["confidence"] = None  # a confidence describes the spread it replaced
        if base is not None:
            fields["status"], fields["source"] = "assumed", (default_source or origin,)
    if "nominal" in raw:
        fields["nominal"] = as_number(raw["nominal"], "nominal") * factor
    if "status" in raw:
        if raw["status"] not in STATUSES:
            raise SpecError(f"status must be one of {', '.join(STATUSES)}, got {shorten(raw['status'])}")
        fields["status"] = raw["status"]
    if "source" in raw:
        fields["source"] = _as_sources(raw["source"])
    for text in ("description", "note", "pedigree_reasons"):
        if text in raw:
            fields[text] = _as_text(raw[text], text)
    if "confidence" in raw:
        if raw["confidence"] not in CONFIDENCES:
            raise SpecError(f"confidence must be {', '.join(CONFIDENCES)}, got {shorten(raw['confidence'])}")
        fields["confidence"] = raw["confidence"]
    if "domain" in raw:
        lo, hi = _as_domain(raw["domain"])
        fields["domain"] = (lo * factor, hi * factor)
    if "offered_for_overrides" in raw:
        _as_text(raw["offered_for_overrides"], "offered_for_overrides (the reason a record no item uses is kept)")
    if factor != 1.0:
        fields["converted_from"] = f"{given_unit} (x {factor:g} -> {base.unit})"
        fields["note"] = (fields["note"] + " " if fields["note"] else "") + (
            f"Converted from {given_unit} to {base.unit} (x {factor:g}).")
    _check_domain(fields)
    if known_sources is not None:
        known = set(known_sources)
        for key in fields["source"]:
            if key not in known and key != default_source:
                raise SpecError(f"unknown source {shorten(key)}; add it to distributions/sources.yaml (or, in an "
                                f"experiment, to its 'sources' section) (known: {', '.join(sorted(known))})")
    return Parameter(name=name, origin=origin, **fields)


class ParameterSet(Mapping[str, Parameter]):
    """An ordered, immutable collection of parameters with the package's single inverse-CDF step.

    ``correlations`` (:class:`~uncertainty_footprint.inputs.copula.CorrelationSpec`, over random parameters of the
    set) makes the inverse-CDF step sample them with a Gaussian copula: the design's columns of the correlated
    parameters are correlated row by row first (:func:`~uncertainty_footprint.inputs.copula.apply_copula`).
    """

    def __init__(self, parameters: Iterable[Parameter], correlations: CorrelationSpec | None = None):
        self._params: dict[str, Parameter] = {}
        for p in parameters:
            if p.name in self._params:
                raise ValueError(f"duplicate parameter {p.name!r}")
            self._params[p.name] = p
        if correlations is not None and not correlations.names:
            correlations = None
        if correlations is not None:
            random = set(self.random_names)
            outside = [n for n in correlations.names if n not in random]
            if outside:
                raise ValueError(f"correlated inputs that are not random parameters of the set: {', '.join(outside)}")
        #: The rank correlations of the set's random parameters, or None (independent).
        self.correlations = correlations

    @property
    def dependent(self) -> bool:
        """Whether some random parameters are correlated (sampled with a copula)."""
        return self.correlations is not None

    def replaced(self, parameters: Iterable[Parameter]) -> "ParameterSet":
        """Another set with this one's correlations (every correlated parameter must stay random in it)."""
        return ParameterSet(parameters, self.correlations)

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

    def ppf(self, u: np.ndarray, *, in_place: bool = False, compiled: bool = False) -> dict[str, np.ndarray]:
        """Map a unit-hypercube design to physical values of every parameter.

        Parameters
        ----------
        u : numpy.ndarray, shape (n, len(random_names))
            Design points in [0, 1] (independent uniforms); column j belongs to ``random_names[j]``. The columns
            of correlated parameters are correlated by the set's copula, then every value is clipped to the open
            unit interval by :func:`open_unit` (an exact 0 or 1 would map to an infinite bound).
        in_place : bool
            Correlate and clip ``u`` in place instead of a copy (for callers that own the design array).
        compiled : bool
            Evaluate the inverse-CDF tables with their compiled kernels (the same values; see
            :meth:`~uncertainty_footprint.inputs.distributions.Distribution.ppf`).

        Returns
        -------
        dict of str to numpy.ndarray
            Values of length n for every parameter (fixed ones broadcast to length n).
        """
        u = np.asarray(u, dtype=float)
        names = self.random_names
        if u.ndim != 2 or u.shape[1] != len(names):
            raise ValueError(f"design must have shape (n, {len(names)}), got {u.shape}")
        if self.correlations is not None:  # the copula correlates the rows (in u, or in a copy)
            u = apply_copula(u, names, self.correlations, out=u if in_place else None)
            in_place = True
        random = {}
        for column, name in enumerate(names):
            col = u[:, column]
            col = open_unit(col, out=col if in_place else None)
            random[name] = self._params[name].distribution.ppf(col, compiled=compiled)
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
