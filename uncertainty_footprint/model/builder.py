"""Assemble the lifecycle model of one experiment from the catalog.

A :class:`LifecycleModel` is an ordered tuple of :class:`Component` objects and the :class:`ParameterSet` they
consume. Each component has a *kind*; the :data:`COMPONENT_KINDS` registry maps a kind to a function of the
parameter values that calls the pure functions of :mod:`uncertainty_footprint.model.lifecycle`. Evaluation is
vectorized over samples: ``model.evaluate(values)`` returns an ``(n, n_components)`` array in kg CO2-eq.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from . import lifecycle
from ..inputs.catalog import Catalog
from ..inputs.experiment import Experiment
from ..inputs.distributions import make_distribution
from ..errors import ConfigError, SpecError
from ..inputs.parameters import Parameter, ParameterSet, check_name, parse_record

__all__ = ["Component", "LifecycleModel", "COMPONENT_KINDS", "build_model", "STAGES", "EMBODIED_STAGES"]

#: Life-cycle stages, in reporting order.
STAGES = ("training", "manufacturing", "transport", "use", "end_of_life")
#: Stages whose sum is the embodied footprint that end of life is a fraction of.
EMBODIED_STAGES = ("manufacturing", "transport")
KG = "kg CO2-eq"


@dataclass(frozen=True)
class Component:
    """One row of the footprint breakdown.

    Attributes
    ----------
    name : str
        e.g. ``casing``, ``ml_training``, ``use_stage``.
    stage : str
        One of :data:`STAGES` (or a user-defined stage of an extra component).
    kind : str
        Key of :data:`COMPONENT_KINDS`.
    inputs : mapping
        Kind-specific: keyword argument -> parameter name, or lists of names for ``items``.
    title : str
    detail : str
        What the component is in this experiment (e.g. ``HSL-1: small casing``).
    """

    name: str
    stage: str
    kind: str
    inputs: Mapping[str, Any]
    title: str = ""
    detail: str = ""

    def parameter_names(self) -> list[str]:
        names: list[str] = []
        for value in self.inputs.values():
            for n in (value if isinstance(value, (list, tuple)) else [value]):
                if n not in names:
                    names.append(n)
        return names


def _kwargs(component: Component, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {kw: values[name] for kw, name in component.inputs.items()}


def _items(c, values, done):
    return lifecycle.items_footprint(quantities=[values[n] for n in c.inputs["quantities"]],
                                     factors=[values[n] for n in c.inputs["factors"]])


def _use_inference(c, values, done):
    kw = _kwargs(c, values)
    power = lifecycle.average_power_from_inference(
        energy_per_inference=kw.pop("energy_per_inference"), inference_rate=kw.pop("inference_rate"),
        sleep_power=kw.pop("sleep_power"))
    return lifecycle.use_stage_footprint(average_power=power, **kw)


def _end_of_life(c, values, done):
    embodied = sum(res for comp, res in done if comp.stage in EMBODIED_STAGES)
    return lifecycle.end_of_life_footprint(embodied=embodied, end_of_life_fraction=values[c.inputs["fraction"]])


#: kind -> function(component, values, done) with ``done`` the (component, result) pairs evaluated before it.
COMPONENT_KINDS: dict[str, Callable[[Component, Mapping[str, np.ndarray], list], np.ndarray]] = {
    "items": _items,
    "transport": lambda c, v, d: lifecycle.transport_footprint(**_kwargs(c, v)),
    "use_direct": lambda c, v, d: lifecycle.use_stage_footprint(**_kwargs(c, v)),
    "use_inference": _use_inference,
    "training_energy": lambda c, v, d: lifecycle.training_footprint(**_kwargs(c, v)),
    "value": lambda c, v, d: v[c.inputs["value"]],
    "end_of_life": _end_of_life,
}

_TRAINING_INPUTS = {"energy": ("training_energy", ["training_energy_per_run", "training_runs", "training_pue",
                                                   "training_grid_intensity"]),
                    "published": ("value", {"value": "ml_training_footprint"})}
_USE_INPUTS = {"direct": ("use_direct", ["average_power", "lifetime", "charging_efficiency",
                                         "grid_carbon_intensity"]),
               "inference": ("use_inference", ["energy_per_inference", "inference_rate", "sleep_power", "lifetime",
                                               "charging_efficiency", "grid_carbon_intensity"])}
_TRANSPORT_FACTORS = ("transport_truck_factor", "transport_plane_factor")


@dataclass(frozen=True)
class LifecycleModel:
    """The components of one experiment and the parameters they consume."""

    components: tuple[Component, ...]
    parameters: ParameterSet
    references: ParameterSet = field(default_factory=lambda: ParameterSet([]))
    reference_labels: Mapping[str, str] = field(default_factory=dict)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def stages(self) -> list[str]:
        return [c.stage for c in self.components]

    def evaluate(self, values: Mapping[str, np.ndarray]) -> np.ndarray:
        """Footprint of every component [kg CO2-eq], shape ``(n, n_components)``."""
        n = len(next(iter(values.values())))
        out = np.empty((n, len(self.components)))
        done: list = []
        for j, comp in enumerate(self.components):
            res = COMPONENT_KINDS[comp.kind](comp, values, done)
            out[:, j] = res
            done.append((comp, out[:, j]))
        return out

    def deterministic(self) -> dict[str, np.ndarray]:
        """Deterministic footprint per scenario ``lower``/``typical``/``upper``: each array has one value per
        component (HSL quantities at the scenario's value, every other parameter at its nominal)."""
        return {s: self.evaluate(self.parameters.deterministic(s))[0] for s in ("lower", "typical", "upper")}

    def fingerprint(self) -> str:
        """SHA-256 of the resolved model: components and every parameter's distribution, nominal and status."""
        doc = {"components": [[c.name, c.stage, c.kind, {k: v for k, v in c.inputs.items()}]
                              for c in self.components],
               "parameters": {n: [p.unit, p.distribution.to_spec(), p.nominal, p.status, list(p.source),
                                  dict(p.scenarios or {})] for n, p in self.parameters.items()},
               "references": {n: p.distribution.to_spec() for n, p in self.references.items()}}
        return hashlib.sha256(json.dumps(doc, sort_keys=True, default=str).encode()).hexdigest()


# ------------------------------------------------------------------------------------------------------------
# Building a model from an experiment
# ------------------------------------------------------------------------------------------------------------

def _hsl_quantity(item, mode: str, origin: str) -> Parameter:
    lo, typ, hi = item.low, item.typical, item.high
    scenarios = {"lower": lo, "typical": typ, "upper": hi}
    if mode in scenarios:
        spec, scen = {"family": "fixed", "value": scenarios[mode]}, None
    elif lo == hi:
        spec, scen = {"family": "fixed", "value": typ}, scenarios
    elif mode == "uniform":
        spec, scen = {"family": "uniform", "low": lo, "high": hi}, scenarios
    else:
        spec, scen = {"family": mode, "low": lo, "mode": typ, "high": hi}, scenarios
    return Parameter(name=item.parameter, unit=item.unit, distribution=make_distribution(spec),
                     nominal=spec.get("value", typ), status=item.status, source=(item.source,),
                     description=f"{item.item.replace('_', ' ')} ({item.block}, HSL-{item.hsl})",
                     note=item.notes, origin=origin, scenarios=scen)


class _Builder:
    """Collects parameters and components while checking the experiment against the catalog."""

    def __init__(self, experiment: Experiment, catalog: Catalog):
        self.exp = experiment
        self.spec = experiment.spec
        self.cat = catalog
        self.params: dict[str, Parameter] = {}
        self.components: list[Component] = []
        self.app_params: Mapping[str, Parameter] = {}

    def error(self, path: str, message: str) -> ConfigError:
        return ConfigError(self.exp.source, path, message)

    def use(self, name: str) -> str:
        """Register a catalog parameter (application preset first) and return its name."""
        if name not in self.params:
            self.params[name] = self.app_params.get(name) or self.cat.parameters[name]
        return name

    def add(self, name, stage, kind, inputs, title, detail=""):
        if name in {c.name for c in self.components}:
            raise self.error(f"extra_components.{name}", "a component of that name exists already")
        self.components.append(Component(name, stage, kind, inputs, title, detail))

    def custom(self, name: str, raw: Any, path: str, stage: str, title: str, extra: Mapping | None = None):
        pname = f"{name}_footprint"
        record = {"distribution": raw, "unit": KG, "status": "assumed", "source": [self.exp.source]}
        if isinstance(raw, Mapping) and "family" not in raw and "distribution" in raw:
            record = {**record, **raw}
        if extra:
            record.update({k: v for k, v in extra.items() if v not in (None, "")})
        try:
            check_name(name)
            param = parse_record(pname, record, origin=self.exp.source,
                                 known_sources=list(self.cat.sources) + [self.exp.source])
        except SpecError as exc:
            raise self.error(path, str(exc)) from None
        if param.unit != KG:
            raise self.error(f"{path}.unit", f"a component's footprint is in {KG}")
        self.params[pname] = param
        self.add(name, stage, "value", {"value": pname}, title, "custom distribution")

    def build(self, published_method: bool) -> LifecycleModel:
        spec, cat = self.spec, self.cat
        known_components = list(cat.blocks) + ["ml_training", "use_stage", "end_of_life"]
        for name in spec.components:
            if name not in known_components:
                raise self.error(f"components.{name}", f"unknown component; allowed: {', '.join(known_components)}")
        if spec.application is not None and spec.application not in cat.applications:
            raise self.error("application", f"unknown application {spec.application!r}; allowed: "
                             f"{', '.join(cat.applications)}")
        app = cat.applications.get(spec.application, {"blocks": {}, "parameters": {}, "title": ""})
        self.app_params = app["parameters"]

        # --- ML training ---
        if "ml_training" in spec.components:
            self.custom("ml_training", spec.components["ml_training"], "components.ml_training", "training",
                        "ML training")
        else:
            model = "published" if published_method else spec.training.model
            kind, names = _TRAINING_INPUTS[model]
            inputs = dict(names) if isinstance(names, dict) else {n: n for n in names}
            for n in inputs.values():
                self.use(n)
            self.add("ml_training", "training", kind, inputs, "ML training", f"training model {model}")

        # --- embodied blocks ---
        for block in spec.blocks:
            if block not in cat.blocks:
                raise self.error(f"blocks.{block}", f"unknown block; allowed: {', '.join(cat.blocks)}")
        for block, info in cat.blocks.items():
            if block in spec.components:
                self.custom(block, spec.components[block], f"components.{block}", info["stage"], info["title"])
                continue
            choice = spec.blocks.get(block, app["blocks"].get(block, cat.default_blocks[block]))
            hsl, mode = (choice, None) if isinstance(choice, int) else (choice.hsl, choice.quantities)
            mode = mode or spec.quantity_distribution
            if hsl not in info["hsl"]:
                raise self.error(f"blocks.{block}", f"HSL {hsl} is not defined for {block}; allowed: "
                                 + ", ".join(f"{k} ({v})" for k, v in info["hsl"].items()))
            items = cat.block_items(block, hsl)
            for it in items:
                if it.parameter in self.params:
                    raise self.error(f"blocks.{block}", f"quantity {it.parameter!r} is used twice")
                self.params[it.parameter] = _hsl_quantity(it, mode, "distributions/hsl_items.csv")
            detail = f"HSL-{hsl}: {info['hsl'][hsl]}"
            if info["model"] == "transport":
                inputs = {it.parameter: it.parameter for it in items}
                if items:
                    inputs.update({f: self.use(f) for f in _TRANSPORT_FACTORS})
                    self.add(block, info["stage"], "transport", inputs, info["title"], detail)
                else:
                    self.add(block, info["stage"], "items", {"quantities": [], "factors": []}, info["title"], detail)
            else:
                self.add(block, info["stage"], "items",
                         {"quantities": [it.parameter for it in items], "factors": [self.use(it.factor)
                                                                                    for it in items]},
                         info["title"], detail)

        # --- use stage ---
        if "use_stage" in spec.components:
            self.custom("use_stage", spec.components["use_stage"], "components.use_stage", "use", "Use stage")
        else:
            power_model = "direct" if published_method else spec.use_stage.power_model
            kind, names = _USE_INPUTS[power_model]
            self.add("use_stage", "use", kind, {n: self.use(n) for n in names}, "Use stage",
                     f"power model {power_model}")

        # --- extra (user) components ---
        for name, extra in spec.extra_components.items():
            if name in known_components:
                raise self.error(f"extra_components.{name}", "this name is a built-in component; use "
                                 "'components' to replace it")
            self.custom(name, extra.distribution, f"extra_components.{name}.distribution", extra.stage,
                        extra.title or name.replace("_", " ").capitalize(),
                        {"description": extra.description, "status": extra.status, "source": extra.source,
                         "note": extra.note})

        # --- end of life ---
        if "end_of_life" in spec.components:
            self.custom("end_of_life", spec.components["end_of_life"], "components.end_of_life", "end_of_life",
                        "End of life")
        else:
            self.add("end_of_life", "end_of_life", "end_of_life", {"fraction": self.use("end_of_life_fraction")},
                     "End of life", "fraction of embodied")

        self._apply_overrides(published_method)
        refs = []
        for i, name in enumerate(spec.reference_devices):
            if name not in cat.reference_devices:
                raise self.error(f"reference_devices[{i}]", f"unknown reference device {name!r}; allowed: "
                                 f"{', '.join(cat.reference_devices)}")
            refs.append(cat.reference_devices[name])
        return LifecycleModel(tuple(self.components), ParameterSet(self.params.values()), ParameterSet(refs),
                              {n: cat.reference_labels[n] for n in spec.reference_devices})

    def _apply_overrides(self, published_method: bool) -> None:
        for name, raw in self.spec.parameters.items():
            path = f"parameters.{name}"
            if name not in self.params:
                if published_method and name in self.cat.parameters:
                    continue  # used by the experiment's own model options, not by the published method
                known = ", ".join(sorted(self.params))
                raise self.error(path, f"not a parameter of this experiment's model; parameters: {known}")
            try:
                self.params[name] = parse_record(name, raw, origin=self.exp.source, base=self.params[name],
                                                 known_sources=self.cat.sources, default_source=self.exp.source)
            except SpecError as exc:
                raise self.error(path, str(exc)) from None


def build_model(experiment: Experiment, catalog: Catalog, *, published_method: bool = False) -> LifecycleModel:
    """Build the lifecycle model of an experiment.

    Parameters
    ----------
    experiment : Experiment
    catalog : Catalog
    published_method : bool
        Use the published point-estimate method for ML training (the fixed ``ml_training_footprint``) and the use
        stage (``direct`` average power) whatever the experiment chooses, as the deterministic reproduction of
        Prakash et al. (2023) does. Custom components and parameter overrides still apply.

    Raises
    ------
    ConfigError
        Unknown block, HSL, component, parameter, application or reference device, or an invalid override.
    """
    return _Builder(experiment, catalog).build(published_method)
