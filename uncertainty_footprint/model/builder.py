"""Assemble the lifecycle model of one experiment from the catalog.

A :class:`LifecycleModel` is an ordered tuple of :class:`Component` objects and the :class:`ParameterSet` they
consume. Each component has a *kind*; the :data:`COMPONENT_KINDS` registry maps a kind to a function of the
parameter values that calls the pure functions of :mod:`uncertainty_footprint.model.lifecycle` (the input names
of a kind are those functions' keyword arguments). Evaluation is vectorized over samples:
``model.evaluate(values)`` returns an ``(n, n_components)`` array in kg CO2-eq; the evaluation order (end of
life after the embodied components it is a share of) is fixed in one place, :meth:`LifecycleModel.component_values`.
"""

from __future__ import annotations

import hashlib
import inspect
import math
import json
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import numpy as np

from . import lifecycle
from ..inputs.catalog import Catalog
from ..errors import ConfigError, SpecError, key_path, shorten
from ..inputs.distributions import make_distribution
from ..inputs.method_data import NO_TRUNCATION, TRUNCATION, covers
from ..inputs.copula import correlation_matrix
from ..inputs.parameters import SCENARIOS, Parameter, ParameterSet, check_name, in_unit, parse_record
from ..inputs.pedigree import tables_of
from .methods import build_option, option_inputs

__all__ = ["Component", "ComponentKind", "LifecycleModel", "COMPONENT_KINDS", "build_model", "STAGES",
           "EMBODIED_STAGES", "BENEFIT_SHARED", "block_choice", "method_options", "check_sobol_method"]

#: Footprint inputs a benefit uses too (the service life, and the grid that values saved energy): an experiment may
#: set them under ``parameters`` even when no component of its footprint uses them.
BENEFIT_SHARED = ("lifetime", "grid_carbon_intensity")
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
    methods : tuple of str
        ``methods`` and ``truncation`` kinds: the methods that compute it, in the order of the alternatives of its
        choice ``inputs['choice']`` (``distributions/methods.yaml``; ``none`` leaves the truncation gap out).
    """

    name: str
    stage: str
    kind: str
    inputs: Mapping[str, Any]
    title: str = ""
    detail: str = ""
    methods: tuple[str, ...] = ()

    def parameter_names(self) -> list[str]:
        """Every parameter the component uses, in order of first use (inputs may nest lists and mappings, e.g.
        the options of a component computed by several methods)."""
        names: list[str] = []

        def walk(value) -> None:
            if isinstance(value, str):
                if value not in names:
                    names.append(value)
            elif isinstance(value, Mapping):
                for v in value.values():
                    walk(v)
            elif isinstance(value, (list, tuple)):
                for v in value:
                    walk(v)

        walk(dict(self.inputs))
        return names


def _kwargs(component: Component, values: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    return {kw: values[name] for kw, name in component.inputs.items()}


def _keywords(function: Callable) -> list[str]:
    """The keyword arguments of a lifecycle function, in signature order (the names its inputs take)."""
    return list(inspect.signature(function).parameters)


#: Inputs of the average power of the ``inference`` power model, and the use-stage inputs besides the power.
_POWER_INPUTS = _keywords(lifecycle.average_power_from_inference)
_USE_INPUTS_BESIDES_POWER = [n for n in _keywords(lifecycle.use_stage_footprint) if n != "average_power"]


def _items(c, values):
    return lifecycle.items_footprint(quantities=[values[n] for n in c.inputs["quantities"]],
                                     factors=[values[n] for n in c.inputs["factors"]])


def _use_inference(c, values):
    kw = _kwargs(c, values)
    power = lifecycle.average_power_from_inference(**{n: kw.pop(n) for n in _POWER_INPUTS})
    return lifecycle.use_stage_footprint(average_power=power, **kw)


def _end_of_life(c, values, embodied):
    return lifecycle.end_of_life_footprint(embodied=embodied, end_of_life_fraction=values[c.inputs["fraction"]])


def _option(option: Mapping[str, Any], values):
    """A component by one method: its items, ICs by die area and node, and value (:mod:`.methods`)."""
    total = lifecycle.items_footprint(quantities=[values[n] for n in option["quantities"]],
                                      factors=[values[n] for n in option["factors"]])
    for ic in option["ics"]:
        total = total + lifecycle.ic_footprint_act(**{kw: values[n] for kw, n in ic.items()})
    if option["value"] is not None:
        total = total + values[option["value"]]
    return total


def _methods(c, values):
    options = [_option(o, values) for o in c.inputs["options"]]
    if c.inputs["choice"] is None:
        return options[0]
    return lifecycle.method_mixture(choice=values[c.inputs["choice"]], options=options)


def _truncation(c, values, manufacturing):
    gap = lifecycle.truncation_gap(manufacturing=manufacturing, truncation_gap_ratio=values[c.inputs["factor"]])
    applied = [method != NO_TRUNCATION for method in c.methods]
    if c.inputs["choice"] is None:
        return gap if applied[0] else 0.0 * gap
    return lifecycle.method_mixture(choice=values[c.inputs["choice"]],
                                    options=[gap if on else 0.0 * gap for on in applied])


@dataclass(frozen=True)
class ComponentKind:
    """How a kind of component computes its footprint [kg CO2-eq] from the parameter values.

    Attributes
    ----------
    function : callable
        ``function(component, values)``, or ``function(component, values, basis)`` for a kind that depends on
        other components: ``basis`` is the sum of the components of the stages ``depends_on`` of lower ``level``.
        ``values`` maps parameter names to numbers or arrays (or to symbols, see
        :mod:`uncertainty_footprint.model.expansion`).
    depends_on : tuple of str
        Stages whose sum the footprint is a share of (end of life: :data:`EMBODIED_STAGES`; the truncation gap:
        manufacturing); empty for a kind that depends on its parameters only.
    level : int
        Evaluation order of the dependent kinds: a kind's basis holds the components of lower levels (the
        truncation gap, level 1, counts in the embodied footprint end of life, level 2, is a share of).
    """

    function: Callable[..., Any]
    depends_on: tuple[str, ...] = ()
    level: int = 0


#: kind -> how a component of that kind is evaluated.
COMPONENT_KINDS: dict[str, ComponentKind] = {
    "items": ComponentKind(_items),
    "transport": ComponentKind(lambda c, v: lifecycle.transport_footprint(**_kwargs(c, v))),
    "use_direct": ComponentKind(lambda c, v: lifecycle.use_stage_footprint(**_kwargs(c, v))),
    "use_inference": ComponentKind(_use_inference),
    "training_energy": ComponentKind(lambda c, v: lifecycle.training_footprint(**_kwargs(c, v))),
    "value": ComponentKind(lambda c, v: v[c.inputs["value"]]),
    "methods": ComponentKind(_methods),
    "truncation": ComponentKind(_truncation, depends_on=("manufacturing",), level=1),
    "end_of_life": ComponentKind(_end_of_life, depends_on=EMBODIED_STAGES, level=2),
}

_TRAINING_INPUTS = {"energy": ("training_energy", _keywords(lifecycle.training_footprint)),
                    "published": ("value", {"value": "ml_training_footprint"})}
_USE_INPUTS = {"direct": ("use_direct", _keywords(lifecycle.use_stage_footprint)),
               "inference": ("use_inference", _POWER_INPUTS + _USE_INPUTS_BESIDES_POWER)}


@dataclass(frozen=True)
class LifecycleModel:
    """The components of one experiment and the parameters they consume."""

    components: tuple[Component, ...]
    parameters: ParameterSet
    references: ParameterSet = field(default_factory=lambda: ParameterSet([]))
    reference_labels: Mapping[str, str] = field(default_factory=dict)
    #: Citations of the sources the experiment declares itself (its ``sources`` section), key -> citation.
    sources: Mapping[str, str] = field(default_factory=dict)

    @property
    def component_names(self) -> list[str]:
        return [c.name for c in self.components]

    @property
    def stages(self) -> list[str]:
        return [c.stage for c in self.components]

    def component_values(self, values: Mapping[str, Any]) -> list:
        """Footprint of every component [kg CO2-eq], in model order, as its kind computes it.

        The one place that fixes the evaluation order: every component whose kind does not depend on other
        components first, then the embodied footprint (sum of those of :data:`EMBODIED_STAGES`, in model order),
        then the kinds that are a share of it (those with ``depends_on``: the truncation gap, end of life).
        ``values`` maps every parameter to numbers or arrays (results then broadcast against them) or to symbols
        (:mod:`uncertainty_footprint.model.expansion`).
        """
        kinds = [COMPONENT_KINDS[c.kind] for c in self.components]
        results: list = [None] * len(self.components)
        for level in sorted({kind.level for kind in kinds}):
            for j, (comp, kind) in enumerate(zip(self.components, kinds)):
                if kind.level != level:
                    continue
                if not kind.depends_on:
                    results[j] = kind.function(comp, values)
                    continue
                basis = sum(results[i] for i, (other, k) in enumerate(zip(self.components, kinds))
                            if other.stage in kind.depends_on and k.level < level)
                results[j] = kind.function(comp, values, basis)
        return results

    def evaluate(self, values: Mapping[str, np.ndarray], out: np.ndarray | None = None) -> np.ndarray:
        """Footprint of every component [kg CO2-eq], shape ``(n, n_components)`` (see :meth:`component_values`);
        written into ``out`` if given (e.g. a buffer reused from chunk to chunk)."""
        n = len(next(iter(values.values())))
        if out is None:
            out = np.empty((n, len(self.components)))
        for j, res in enumerate(self.component_values(values)):
            out[:, j] = res
        return out

    def component_inputs(self) -> list[list[str]]:
        """The parameters each component's footprint depends on, in model order: its own inputs and, for a kind
        that is a share of the embodied footprint, the inputs of the embodied components too."""
        kinds = [COMPONENT_KINDS[c.kind] for c in self.components]
        own = [c.parameter_names() for c in self.components]
        found: list[list[str]] = [list(names) for names in own]
        for level in sorted({kind.level for kind in kinds if kind.depends_on}):  # lower levels are complete first
            for j, kind in enumerate(kinds):
                if kind.level != level or not kind.depends_on:
                    continue
                for i, (other, k) in enumerate(zip(self.components, kinds)):
                    if other.stage in kind.depends_on and k.level < level:
                        found[j] += [n for n in found[i] if n not in found[j]]
        return found

    def deterministic(self) -> dict[str, np.ndarray]:
        """Deterministic footprint per scenario ``lower``/``typical``/``upper``: each array has one value per
        component (HSL quantities at the scenario's value, every other parameter at its nominal)."""
        return {s: self.evaluate(self.parameters.deterministic(s))[0] for s in SCENARIOS}

    def fingerprint(self) -> str:
        """SHA-256 of the resolved model: components and every parameter's distribution, nominal and status."""
        doc = {"components": [[c.name, c.stage, c.kind, {k: v for k, v in c.inputs.items()}]
                              + ([list(c.methods)] if c.methods else []) for c in self.components],
               "parameters": {n: [p.unit, p.distribution.to_spec(), p.nominal, p.status, list(p.source),
                                  dict(p.scenarios or {})] for n, p in self.parameters.items()},
               "references": {n: p.distribution.to_spec() for n, p in self.references.items()}}
        if self.parameters.correlations is not None:
            doc["correlations"] = [list(pair) for pair in self.parameters.correlations.pairs]
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

    def __init__(self, experiment, catalog: Catalog):
        self.exp = experiment
        self.spec = experiment.spec
        self.cat = catalog
        self.params: dict[str, Parameter] = {}
        self.components: list[Component] = []
        self.app_params: Mapping[str, Parameter] = {}
        self.sources = self._own_sources()
        self.known_sources = list(catalog.sources) + list(self.sources)
        self.stages = self._stages()

    def error(self, path: str, message: str) -> ConfigError:
        return ConfigError(self.exp.source, path, message)

    def use(self, name: str) -> str:
        """Register a catalog parameter (application preset first) and return its name."""
        if name not in self.params:
            self.params[name] = self.app_params.get(name) or self.cat.parameters[name]
        return name

    def add(self, name, stage, kind, inputs, title, detail="", methods=()):
        if name in {c.name for c in self.components}:
            raise self.error(f"extra_components.{name}", "a component of that name exists already")
        self.components.append(Component(name, stage, kind, inputs, title, detail, tuple(methods)))

    def _own_sources(self) -> dict[str, str]:
        """The experiment's ``sources`` section, checked against the catalog's bibliography."""
        out = {}
        for key, rec in self.spec.sources.items():
            try:
                check_name(key)
            except SpecError as exc:
                raise self.error(f"sources.{key}", str(exc)) from None
            if key in self.cat.sources and self.cat.sources[key] != rec.cite:
                raise self.error(f"sources.{key}", "this key is already in distributions/sources.yaml with another "
                                 "citation; use another key, or use it without declaring it")
            out[key] = rec.cite
        return out

    def _stages(self) -> tuple[str, ...]:
        """The built-in stages and those the experiment declares (``stages``), in that order."""
        declared = []
        for i, stage in enumerate(self.spec.stages):
            try:
                check_name(stage)
            except SpecError as exc:
                raise self.error(f"stages[{i}]", str(exc)) from None
            if stage in STAGES:
                raise self.error(f"stages[{i}]", f"{stage!r} is a built-in stage ({', '.join(STAGES)}); declare only "
                                 "new stages")
            if stage in declared:
                raise self.error(f"stages[{i}]", f"{stage!r} is declared twice")
            declared.append(stage)
        return STAGES + tuple(declared)

    def custom(self, name: str, raw: Any, path: str, stage: str, title: str, extra: Mapping | None = None,
               record_path: str | None = None):
        """Add a component given as a distribution in kg CO2-eq (or a record in a compatible ``unit``)."""
        pname = f"{name}_footprint"
        record = {"distribution": raw, "unit": KG, "status": "assumed", "source": [self.exp.source]}
        if isinstance(raw, Mapping) and "family" not in raw and "distribution" in raw:
            record = {**record, **raw}
        if extra:
            record.update({k: v for k, v in extra.items() if v not in (None, "")})
        try:
            check_name(name)
            param = parse_record(pname, record, origin=self.exp.source,
                                 known_sources=self.known_sources + [self.exp.source])
            param = in_unit(param, KG)
        except SpecError as exc:
            unit_path = f"{record_path or path}.unit" if exc.key == "unit" else path
            raise self.error(unit_path, str(exc)) from None
        self.params[pname] = param
        self.add(name, stage, "value", {"value": pname}, title, "custom distribution")

    def build(self, published_method: bool) -> LifecycleModel:
        spec, cat = self.spec, self.cat
        known_components = list(cat.blocks) + ["ml_training", "use_stage", "end_of_life"]
        for name in spec.components:
            if name not in known_components:
                raise self.error(f"components.{name}", f"unknown component; allowed: {', '.join(known_components)}")
        if spec.application is not None and spec.application not in cat.applications:
            raise self.error("application", f"unknown application {shorten(spec.application)}; allowed: "
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
            hsl, mode = block_choice(spec, cat, block)
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
                    inputs.update({f: self.use(f) for f in _keywords(lifecycle.transport_footprint)
                                   if f not in inputs})  # the freight factors: inputs no HSL item gives
                    self.add(block, info["stage"], "transport", inputs, info["title"], detail)
                else:
                    self.add(block, info["stage"], "items", {"quantities": [], "factors": []}, info["title"], detail)
            elif block in spec.methods and not published_method:
                self._methods(block, hsl, items, mode, info, detail)
            else:
                self.add(block, info["stage"], "items",
                         {"quantities": [it.parameter for it in items], "factors": [self.use(it.factor)
                                                                                    for it in items]},
                         info["title"], detail)
        for name in spec.methods:
            if name != TRUNCATION and (name not in cat.blocks or cat.blocks[name]["model"] != "items"):
                allowed = [b for b, i in cat.blocks.items() if i["model"] == "items"] + [TRUNCATION]
                raise self.error(f"methods.{name}", f"no methods for {shorten(name)}; allowed: {', '.join(allowed)}")
            if name in spec.components:
                raise self.error(f"methods.{name}", "the component is replaced by a distribution (components); "
                                 "give it methods or a distribution, not both")
        if TRUNCATION in spec.methods and not published_method:
            self._truncation()

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
            if extra.stage not in self.stages:
                raise self.error(f"extra_components.{name}.stage", f"unknown stage {shorten(extra.stage)}; allowed: "
                                 f"{', '.join(self.stages)} (declare a new one in the experiment's 'stages' list)")
            self.custom(name, extra.distribution, f"extra_components.{name}.distribution", extra.stage,
                        extra.title or name.replace("_", " ").capitalize(),
                        {"description": extra.description, "status": extra.status, "source": extra.source,
                         "note": extra.note, "unit": extra.unit}, record_path=f"extra_components.{name}")

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
                raise self.error(f"reference_devices[{i}]", f"unknown reference device {shorten(name)}; allowed: "
                                 f"{', '.join(cat.reference_devices)}")
            refs.append(cat.reference_devices[name])
        params = ParameterSet(self.params.values(), None if published_method else self._correlations())
        return LifecycleModel(tuple(self.components), params, ParameterSet(refs),
                              {n: cat.reference_labels[n] for n in spec.reference_devices}, dict(self.sources))

    def _correlations(self):
        """The experiment's ``correlations`` checked against its random parameters (a component given as a
        distribution may be named as the component), or None."""
        if not self.spec.correlations:
            return None
        check_sobol_method(self.spec, True, self.exp.source)
        ps = ParameterSet(self.params.values())
        names = [n for n in ps.random_names if ps[n].distribution.family != "categorical"]
        aliases = {c.name: c.inputs["value"] for c in self.components
                   if c.kind == "value" and c.inputs["value"] in names}
        return correlation_matrix(names, self.spec.correlations, source=self.exp.source, aliases=aliases,
                                  known_sources=self.known_sources + [self.exp.source])

    # --- methods ---------------------------------------------------------------------------------------------
    def _weights(self, name: str, allowed: list[str]) -> dict[str, float]:
        """The methods of ``methods.<name>`` and their weights (one method: weight 1)."""
        raw = self.spec.methods[name]
        weights = {raw: 1.0} if isinstance(raw, str) else {str(k): float(v) for k, v in raw.items()}
        path = f"methods.{name}"
        for method, w in weights.items():
            if method not in allowed:
                raise self.error(f"{path}.{method}" if not isinstance(raw, str) else path,
                                 f"{shorten(method)} is not a method for {name}; allowed: {', '.join(allowed)}")
            if not (w >= 0.0 and w != float("inf")):
                raise self.error(f"{path}.{method}", f"a weight is a number >= 0, got {w:g}")
        if sum(weights.values()) <= 0.0:
            raise self.error(path, "the weights must not all be 0")
        if not math.isfinite(sum(weights.values())):
            raise self.error(path, "the weights must add up to a finite number (they are relative: 1 and 3 will do)")
        return {m: w for m, w in weights.items() if w > 0.0}

    def _choice(self, name: str, weights: Mapping[str, float]) -> str | None:
        """The parameter ``method:<name>`` choosing among several methods (None for one)."""
        if len(weights) == 1:
            return None
        total = sum(weights.values())
        pname = f"method:{name}"
        dist = make_distribution({"family": "categorical", **{f"w{k}": w / total for k, w in
                                                               enumerate(weights.values())}})
        self.params[pname] = Parameter(
            name=pname, unit="1", distribution=dist, nominal=float(dist.central), status="assumed",
            source=(self.exp.source,), origin=f"{self.exp.source}:methods.{name}",
            description=f"method of {name}: " + ", ".join(f"{k} {m} (weight {w / total:.3g})"
                                                         for k, (m, w) in enumerate(weights.items())),
            note="The experiment's mixture of methods: which method computes the component is sampled with these "
                 "weights (a judgement of how far each method is to be trusted).")
        return pname

    def _methods(self, block: str, hsl: int, items, mode: str, info, detail: str) -> None:
        """Block ``block`` computed by the methods of ``methods.<block>`` (one, or a mixture)."""
        methods = self.cat.methods
        options, found = {}, []
        for name, method in methods.items():
            if method.recipe == "truncation":
                continue
            try:
                option = build_option(method, block, hsl, items, mode, _hsl_quantity)
            except SpecError as exc:
                raise self.error(f"methods.{block}", f"{name}: {exc}") from None
            if option is not None:
                options[name] = option
                found.append(name)
        weights = self._weights(block, found)
        chosen = [options[m] for m in weights]
        used = set().union(*(o.names() for o in chosen))
        for it in items:  # a quantity that every chosen method replaces (the battery per kWh, a block value)
            if it.parameter not in used:
                del self.params[it.parameter]
        for option in chosen:
            for f in option.factors:
                if f not in option.parameters:
                    self.use(f)
            for pname, param in option.parameters.items():
                if pname in self.params and self.params[pname] != param:
                    raise self.error(f"methods.{block}", f"the parameter {pname!r} exists already")
                self.params[pname] = param
        choice = self._choice(block, weights)
        names = list(weights)
        self.add(block, info["stage"], "methods", {"choice": choice, "options": [option_inputs(o) for o in chosen]},
                 info["title"], f"{detail}; method{'s' if len(names) > 1 else ''} {', '.join(names)}", names)

    def _truncation(self) -> None:
        """The component ``truncation``: what a bottom-up inventory misses, by the methods of
        ``methods.truncation`` (``none`` leaves it out)."""
        corrections = [n for n, m in self.cat.methods.items() if m.recipe == "truncation"]
        weights = self._weights(TRUNCATION, [NO_TRUNCATION] + corrections)
        if list(weights) == [NO_TRUNCATION]:
            return  # left out
        for name in weights:
            if name != NO_TRUNCATION:
                for pname, param in self.cat.methods[name].parameters.items():
                    self.params[pname] = param
        choice = self._choice(TRUNCATION, weights)
        self.add(TRUNCATION, "manufacturing", "truncation",
                 {"choice": choice, "factor": "truncation_gap_ratio"},
                 "Truncation gap", f"methods {', '.join(weights)}: gap ratio x manufacturing", list(weights))

    def _apply_overrides(self, published_method: bool) -> None:
        for name, raw in self.spec.parameters.items():
            path = f"parameters.{name}"
            if name not in self.params:
                if published_method and name in self.cat.parameters:
                    continue  # used by the experiment's own model options, not by the published method
                if name in BENEFIT_SHARED and self.spec.benefit is not None and name in self.cat.parameters:
                    continue  # the benefit uses it (model/benefit.py reads the override) though no component does
                known = ", ".join(sorted(self.params))
                raise self.error(path, f"not a parameter of this experiment's model; parameters: {known}")
            try:
                self.params[name] = parse_record(name, raw, origin=self.exp.source, base=self.params[name],
                                                 known_sources=self.known_sources, default_source=self.exp.source)
            except SpecError as exc:
                raise self.error(key_path(path, exc), str(exc)) from None


def check_sobol_method(spec, dependent: bool, source: str) -> None:
    """Refuse ``sobol.method: sampled`` and ``sobol.second_order`` for a model with correlated inputs (a
    :class:`~uncertainty_footprint.errors.ConfigError` naming ``source``): Sobol' indices need independent
    inputs, and the hotspots of such a model are Shapley effects."""
    if dependent and spec.sobol.method == "sampled":
        raise ConfigError(source, "sobol.method", "sampled Sobol' indices need independent inputs, and this "
                          "experiment declares correlations (its hotspots are Shapley effects); use auto or exact")
    if dependent and spec.sobol.second_order:
        raise ConfigError(source, "sobol.second_order", "second-order Sobol' indices need independent inputs, and "
                          "this experiment declares correlations (its hotspots are Shapley effects)")


def block_choice(spec, catalog: Catalog, block: str) -> tuple[int, str]:
    """The HSL of ``block`` in an experiment (its ``blocks:`` entry, else its application's, else the catalog's
    default) and how its quantities are sampled (``pert``, ``triangular``, ``uniform``)."""
    app = catalog.applications.get(spec.application or "", {"blocks": {}})
    choice = spec.blocks.get(block, app["blocks"].get(block, catalog.default_blocks[block]))
    hsl, mode = (choice, None) if isinstance(choice, int) else (choice.hsl, choice.quantities)
    return hsl, mode or spec.quantity_distribution


def method_options(experiment, catalog: Catalog) -> dict[str, list[str]]:
    """The methods an experiment may choose in its ``methods:`` section: component -> the methods that compute
    it at the experiment's HSL (``distributions/methods.yaml`` order), and ``truncation`` -> ``none`` and the
    truncation corrections. Components the experiment replaces by a distribution have none."""
    spec = experiment.spec
    out: dict[str, list[str]] = {}
    for block, info in catalog.blocks.items():
        if info["model"] != "items" or block in spec.components:
            continue
        hsl, _ = block_choice(spec, catalog, block)
        items = catalog.block_items(block, hsl)
        names = [n for n, m in catalog.methods.items() if m.recipe != "truncation" and covers(m, block, hsl, items)]
        if names:
            out[block] = names
    corrections = [n for n, m in catalog.methods.items() if m.recipe == "truncation"]
    if corrections:
        out[TRUNCATION] = [NO_TRUNCATION] + corrections
    return out


def build_model(experiment, catalog: Catalog, *, published_method: bool = False) -> LifecycleModel:
    """Build the lifecycle model of an experiment.

    Parameters
    ----------
    experiment : Experiment
        An :class:`~uncertainty_footprint.model.experiment.Experiment` (anything with its ``spec`` and ``source``).
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
    with tables_of(catalog.root):  # an override's pedigree is read in the catalog's tables
        return _Builder(experiment, catalog).build(published_method)
