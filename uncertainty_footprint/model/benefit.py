"""Net balance of a device: its footprint minus what its application avoids, as one more term of the same model.

The benefit of a TinyML application (what it saves per device and year of service) enters the model as one extra
component, ``benefit``, of its own life-cycle stage ``benefit`` and with a *negative* value:

.. math:: B = F - b \\, T, \\qquad b = E_{saved} \\, c_{grid} \\quad \\text{or} \\quad b = A_{avoided},

with :math:`F` the footprint of the lifecycle model (unchanged), :math:`T` its ``lifetime`` and :math:`c_{grid}`
the use stage's ``grid_carbon_intensity`` (or the benefit's own). :class:`BalanceModel` is a
:class:`~uncertainty_footprint.model.builder.LifecycleModel` whose components are the footprint's and the benefit
term, evaluated through the footprint model's own :meth:`component_values`: the sampler, the symbolic expansion
(:mod:`uncertainty_footprint.model.expansion`) and the exact decomposition
(:mod:`uncertainty_footprint.analysis.exact`) see one model, so the net balance is still a sum of products and its
Sobol' indices and Shapley effects are exact. Shared inputs (``lifetime``, ``grid_carbon_intensity``) are one
parameter in both terms, as they are in the device.

The payback time is :math:`F / b` [yr]; P(offset) is :math:`P(B < 0) = P(F / b < T)`. A fleet multiplies
per-device values by a number of devices (:func:`fleet_total`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

import numpy as np

from .builder import BENEFIT_SHARED, KG, Component, LifecycleModel
from ..errors import ConfigError, SpecError, key_path, shorten
from ..inputs.catalog import Catalog
from ..inputs.schema import BENEFIT_KINDS
from ..inputs.parameters import Parameter, in_unit, parse_record
from ..inputs.pedigree import tables_of
from ..inputs.safe_yaml import load_file
from ..inputs.units import conversion_factor

__all__ = ["yearly_avoided_emissions", "benefit_term", "payback_time", "fleet_total", "BalanceModel",
           "BenefitLibrary", "load_benefit_library", "build_balance", "BENEFIT_STAGE", "BENEFIT_COMPONENT",
           "BENEFIT_UNITS", "FLEET_UNITS", "BENEFITS_FILE"]

#: Name and stage of the benefit component.
BENEFIT_COMPONENT = "benefit"
BENEFIT_STAGE = "benefit"
#: The data file of sourced benefit records and fleet anchors (in the catalog's directory).
BENEFITS_FILE = "benefits.yaml"
#: Unit every benefit record is converted to, by key of the experiment's ``benefit`` section.
BENEFIT_UNITS = {"saved_energy_per_year": "kWh/yr", "avoided_emissions_per_year": f"{KG}/yr",
                 "grid_carbon_intensity": f"{KG}/kWh"}
#: Units a fleet's ``devices`` may have: a number of devices, or devices produced per year.
FLEET_UNITS = {"1": False, "1/yr": True}
#: Kilograms per tonne (a unit conversion, not data) [kg/t].
KG_PER_TONNE = conversion_factor("t", "kg")
#: Name of the benefit's own grid intensity parameter (when ``benefit.grid_carbon_intensity`` is given).
BENEFIT_GRID = "benefit_grid_carbon_intensity"


# ------------------------------------------------------------------------------------------------------------
# pure functions
# ------------------------------------------------------------------------------------------------------------
def yearly_avoided_emissions(*, saved_energy_per_year, grid_carbon_intensity):
    r"""Emissions avoided per year by saved electricity.

    .. math:: b = E_{saved} \, c_{grid}

    Parameters
    ----------
    saved_energy_per_year : array_like
        Electricity the application saves per device and year [kWh/yr].
    grid_carbon_intensity : array_like
        Carbon intensity of the saved electricity [kg CO2-eq/kWh].

    Returns
    -------
    numpy.ndarray
        Avoided emissions [kg CO2-eq/yr].

    Examples
    --------
    >>> float(yearly_avoided_emissions(saved_energy_per_year=10.0, grid_carbon_intensity=0.4))
    4.0
    """
    return np.multiply(saved_energy_per_year, grid_carbon_intensity)


def benefit_term(*, avoided_emissions_per_year, lifetime):
    r"""The benefit as a term of the net balance: minus the emissions avoided over the service life.

    .. math:: -b \, T

    Parameters
    ----------
    avoided_emissions_per_year : array_like
        Avoided emissions per device and year [kg CO2-eq/yr].
    lifetime : array_like
        Service life [yr].

    Returns
    -------
    numpy.ndarray
        The (negative) benefit term [kg CO2-eq].

    Examples
    --------
    >>> float(benefit_term(avoided_emissions_per_year=4.0, lifetime=3.0))
    -12.0
    """
    return -np.multiply(avoided_emissions_per_year, lifetime)


def payback_time(*, footprint, avoided_emissions_per_year):
    r"""Time for the avoided emissions to equal the device's footprint.

    .. math:: t_{payback} = F / b

    Parameters
    ----------
    footprint : array_like
        Life-cycle footprint per device [kg CO2-eq].
    avoided_emissions_per_year : array_like
        Avoided emissions per device and year [kg CO2-eq/yr]; 0 gives an infinite payback time.

    Returns
    -------
    numpy.ndarray
        Payback time [yr].

    Examples
    --------
    >>> float(payback_time(footprint=2.0, avoided_emissions_per_year=4.0))
    0.5
    """
    footprint = np.asarray(footprint, dtype=float)
    b = np.asarray(avoided_emissions_per_year, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(b > 0, footprint / np.where(b > 0, b, 1.0), np.inf)


def fleet_total(*, per_device, devices):
    r"""A per-device value summed over a fleet, in tonnes.

    .. math:: X_{fleet} = N \, x / 1000

    Parameters
    ----------
    per_device : array_like
        Value per device [kg CO2-eq].
    devices : array_like
        Number of devices [1] (or devices produced per year [1/yr], giving t CO2-eq/yr).

    Returns
    -------
    numpy.ndarray
        Fleet total [t CO2-eq] (or [t CO2-eq/yr]).

    Examples
    --------
    >>> float(fleet_total(per_device=2.0, devices=1.0e9))
    2000000.0
    """
    return np.multiply(per_device, devices) / KG_PER_TONNE


def _saved(component: Component, values: Mapping[str, Any]):
    kw = component.inputs
    return yearly_avoided_emissions(saved_energy_per_year=values[kw["saved_energy_per_year"]],
                                    grid_carbon_intensity=values[kw["grid_carbon_intensity"]])


def _avoided(component: Component, values: Mapping[str, Any]):
    return values[component.inputs["avoided_emissions_per_year"]]


#: benefit kind (the key of the experiment's ``benefit`` section) -> avoided emissions per year
#: [kg CO2-eq/yr] of the benefit component from the parameter values (numbers, arrays or symbols).
YEARLY_BENEFIT: dict[str, Callable[[Component, Mapping[str, Any]], Any]] = {
    "saved_energy_per_year": _saved,
    "avoided_emissions_per_year": _avoided,
}


# ------------------------------------------------------------------------------------------------------------
# the model
# ------------------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class BalanceModel(LifecycleModel):
    """The footprint model plus the (negative) benefit term: its total is the net balance [kg CO2-eq].

    Attributes
    ----------
    footprint : LifecycleModel
        The experiment's footprint model (its components are the first ones of this model).
    kind : str or None
        One of :data:`~uncertainty_footprint.inputs.schema.BENEFIT_KINDS`; None for a fleet without benefit
        (the model is then the footprint model's components only).
    devices : Parameter or None
        The fleet's number of devices [1] or devices produced per year [1/yr].
    per_year : bool
        ``devices`` is a yearly number (fleet totals per year of production).
    anchors : tuple of dict
        Published fleet-scale anchors (``distributions/benefits.yaml``).
    citations : mapping of str to str
        Source key -> citation of every source the benefit, the fleet and the anchors cite.
    """

    footprint: LifecycleModel | None = None
    kind: str | None = None
    devices: Parameter | None = None
    per_year: bool = False
    anchors: tuple = field(default=(), compare=False)
    citations: Mapping[str, str] = field(default_factory=dict, compare=False)

    @property
    def has_benefit(self) -> bool:
        return self.kind is not None

    @property
    def benefit(self) -> Component | None:
        """The benefit component (the last one), None for a fleet without a benefit."""
        return self.components[-1] if self.has_benefit else None

    def benefit_parameters(self) -> list[str]:
        """The parameters the footprint model does not have (the benefit's own ones), in order."""
        return [n for n in self.parameters.names if n not in self.footprint.parameters]

    def yearly_benefit(self, values: Mapping[str, Any]):
        """Avoided emissions per device and year [kg CO2-eq/yr] (numbers, arrays or symbols)."""
        return YEARLY_BENEFIT[self.kind](self.benefit, values)

    def component_values(self, values: Mapping[str, Any]) -> list:
        """The footprint model's components [kg CO2-eq] (its own evaluation order) and, last, the benefit term
        :func:`benefit_term` [kg CO2-eq]."""
        out = self.footprint.component_values(values)
        if self.has_benefit:
            out.append(benefit_term(avoided_emissions_per_year=self.yearly_benefit(values),
                                    lifetime=values[self.benefit.inputs["lifetime"]]))
        return out

    def component_inputs(self) -> list[list[str]]:
        inputs = self.footprint.component_inputs()
        return inputs + [self.benefit.parameter_names()] if self.has_benefit else inputs


@dataclass(frozen=True)
class BenefitLibrary:
    """``distributions/benefits.yaml``: named benefit records, their sources and the fleet anchors."""

    records: Mapping[str, Mapping[str, Any]]
    sources: Mapping[str, str]
    anchors: tuple
    path: str


def load_benefit_library(root: str | Path) -> BenefitLibrary:
    """Read ``benefits.yaml`` in the catalog directory ``root`` (an empty library if the file is absent).

    Raises
    ------
    ConfigError
        The file is not a mapping of ``records``, ``sources`` and ``fleet_anchors``.
    """
    path = Path(root) / BENEFITS_FILE
    if not path.is_file():
        return BenefitLibrary({}, {}, (), str(path))
    data = load_file(path)[0] or {}
    allowed = ("records", "sources", "fleet_anchors")
    if not isinstance(data, Mapping) or set(data) - set(allowed):
        raise ConfigError(str(path), "", f"must be a mapping with keys {', '.join(allowed)}")
    records, sources, anchors = data.get("records") or {}, data.get("sources") or {}, data.get("fleet_anchors") or []
    if not isinstance(records, Mapping) or not all(isinstance(r, Mapping) for r in records.values()):
        raise ConfigError(str(path), "records", "must map a name to a parameter record")
    if not isinstance(sources, Mapping) or not all(isinstance(s, Mapping) and isinstance(s.get("cite"), str)
                                                   for s in sources.values()):
        raise ConfigError(str(path), "sources", "must map a key to {cite: text}")
    keys = ("name", "low", "high", "unit", "what", "source", "status")
    for i, a in enumerate(anchors if isinstance(anchors, list) else [None]):
        if not isinstance(a, Mapping) or set(a) != set(keys):
            raise ConfigError(str(path), f"fleet_anchors[{i}]", f"an anchor has exactly the keys {', '.join(keys)}")
    return BenefitLibrary(dict(records), {k: v["cite"] for k, v in sources.items()}, tuple(anchors), str(path))


class _BalanceBuilder:
    def __init__(self, experiment, catalog: Catalog, model: LifecycleModel, library: BenefitLibrary):
        self.exp, self.cat, self.model, self.lib = experiment, catalog, model, library
        self.known = list(catalog.sources) + list(model.sources) + list(library.sources) + [experiment.source]
        self.used_sources: dict[str, str] = {}

    def error(self, path: str, message: str) -> ConfigError:
        return ConfigError(self.exp.source, path, message)

    def record(self, name: str, raw: Any, path: str, unit: str) -> Parameter:
        """A benefit or fleet record (inline, or the name of a record of benefits.yaml) in ``unit``."""
        if isinstance(raw, str) and not _is_number(raw):
            if raw not in self.lib.records:
                raise self.error(path, f"unknown benefit record {shorten(raw)}; records of {BENEFITS_FILE}: "
                                 f"{', '.join(self.lib.records) or 'none'} (or give a record with a unit)")
            raw, origin = self.lib.records[raw], f"{self.lib.path}:records.{raw}"
        else:
            origin = self.exp.source
        if not isinstance(raw, Mapping) or "unit" not in raw:
            raise self.error(path, f"a benefit or fleet record needs a unit (e.g. {unit}): "
                             "{distribution: {...}, unit: ..., source: ..., status: ...}")
        record = {"status": "assumed", "source": [self.exp.source], **raw}
        try:
            param = parse_record(name, record, origin=origin, known_sources=self.known)
            param = in_unit(param, unit)
        except SpecError as exc:
            if exc.key == "unit":
                raise self.error(f"{path}.unit", f"{exc} (a benefit is per device and year of service: {unit})"
                                 if path.startswith("benefit") else str(exc)) from None
            raise self.error(path, str(exc)) from None
        self.cite(param.source)
        return param

    def cite(self, keys) -> None:
        """Record the citations of ``keys`` (benefits.yaml, the experiment's own sources, then the catalog's)."""
        for key in keys:
            cite = self.lib.sources.get(key) or self.model.sources.get(key) or self.cat.sources.get(key)
            if cite is not None:
                self.used_sources[key] = cite

    def shared(self, name: str) -> Parameter:
        """A footprint parameter the benefit shares (:data:`~uncertainty_footprint.model.builder.BENEFIT_SHARED`):
        the model's own, else the catalog's record (when no component uses it, e.g. the use stage is a custom
        distribution) with the experiment's override under ``parameters`` applied."""
        if name in self.model.parameters:
            return self.model.parameters[name]
        base = self.cat.parameters[name]
        raw = self.exp.spec.parameters.get(name)
        if raw is None:
            return base
        try:
            return parse_record(name, raw, origin=self.exp.source, base=base, known_sources=self.known,
                                default_source=self.exp.source)
        except SpecError as exc:
            raise self.error(key_path(f"parameters.{name}", exc), str(exc)) from None

    def check_shared(self, used) -> None:
        """An override under ``parameters`` of a shared input that neither the footprint nor the benefit uses is
        refused, as the footprint's builder refuses an unknown parameter."""
        for name in BENEFIT_SHARED:
            if name in self.exp.spec.parameters and name not in self.model.parameters and name not in used:
                raise self.error(f"parameters.{name}", "not a parameter of this experiment's model or benefit "
                                 f"(the benefit uses: {', '.join(sorted(used)) or 'none'})")

    def build(self) -> BalanceModel | None:
        spec = self.exp.spec
        if spec.benefit is None and spec.fleet is None:
            return None
        params = dict(self.model.parameters.items())
        components = list(self.model.components)
        kind = None
        if spec.benefit is not None:
            kind = next(k for k in BENEFIT_KINDS if getattr(spec.benefit, k) is not None)
            own = self.record(kind, getattr(spec.benefit, kind), f"benefit.{kind}", BENEFIT_UNITS[kind])
            params[kind] = own
            inputs = {kind: kind, "lifetime": "lifetime"}
            if kind == "saved_energy_per_year":
                grid = "grid_carbon_intensity"
                if spec.benefit.grid_carbon_intensity is not None:
                    grid = BENEFIT_GRID
                    params[grid] = self.record(grid, spec.benefit.grid_carbon_intensity,
                                               "benefit.grid_carbon_intensity", BENEFIT_UNITS["grid_carbon_intensity"])
                inputs["grid_carbon_intensity"] = grid
            for name in set(inputs.values()) - set(params):
                params[name] = self.shared(name)
            self.check_shared(set(inputs.values()))
            components.append(Component(BENEFIT_COMPONENT, BENEFIT_STAGE, f"benefit:{kind}", inputs, "Benefit",
                                        spec.benefit.description or kind.replace("_", " ")))
        devices, per_year = None, False
        if spec.fleet is not None:
            devices, per_year = self.devices(spec.fleet.devices)
        if devices is not None:
            self.cite(a["source"] for a in self.lib.anchors)
        own = {k: v for k, v in self.used_sources.items() if k in self.lib.sources}
        return BalanceModel(tuple(components), self.model.parameters.replaced(params.values()), self.model.references,
                            self.model.reference_labels, {**self.model.sources, **own}, footprint=self.model,
                            kind=kind, devices=devices, per_year=per_year, anchors=self.lib.anchors,
                            citations=dict(self.used_sources))

    def devices(self, raw: Any) -> tuple[Parameter, bool]:
        unit = raw.get("unit") if isinstance(raw, Mapping) else None
        target = next((u for u in FLEET_UNITS if _converts(unit, u)), None) if isinstance(unit, str) else "1"
        if target is None:
            raise self.error("fleet.devices.unit", f"{shorten(unit)} is not a number of devices; expected 1 (devices) "
                             "or 1/yr (devices produced per year)")
        return self.record("devices", raw, "fleet.devices", target), FLEET_UNITS[target]


def _converts(unit: str, to: str) -> bool:
    try:
        conversion_factor(unit, to)
        return True
    except SpecError:
        return False


def _is_number(text: str) -> bool:
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


def build_balance(experiment, catalog: Catalog, model: LifecycleModel) -> BalanceModel | None:
    """The balance model of an experiment with a ``benefit`` or ``fleet`` section (None without either).

    Parameters
    ----------
    experiment : Experiment
        An :class:`~uncertainty_footprint.model.experiment.Experiment` (anything with its ``spec`` and ``source``).
    catalog : Catalog
        Its directory holds ``benefits.yaml`` (named benefit records, fleet anchors).
    model : LifecycleModel
        The experiment's footprint model (:func:`~uncertainty_footprint.model.builder.build_model`).

    Raises
    ------
    ConfigError
        A record without a unit, in a unit of another dimension (saved energy in kWh/yr, avoided emissions in
        kg CO2-eq/yr, grid intensity in kg CO2-eq/kWh, devices in 1 or 1/yr), with negative values, an unknown
        source or an unknown record name.
    """
    with tables_of(catalog.root):  # an override's pedigree is read in the catalog's tables
        return _BalanceBuilder(experiment, catalog, model, load_benefit_library(catalog.root)).build()

