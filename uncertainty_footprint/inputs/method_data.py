"""Alternative methods as data: ``distributions/methods.yaml`` read and validated.

A method is another published way to compute a component (the ICs from die area and node, the battery per kWh, the
board per area and layer count, a block value, a truncation correction). Its numbers are parameter records with
unit, source and status (and pedigree); its ``recipe`` names how :mod:`uncertainty_footprint.model.methods` builds
a component with it. Every error names the file and the key path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from ..errors import ConfigError, SpecError, key_path, shorten
from .distributions import as_number
from .parameters import STATUSES, Parameter, check_name, parse_record
from .units import KG_CO2EQ, conversion_factor, parse_unit
from .pedigree import parse_pedigree
from .safe_yaml import load_file

__all__ = ["MethodData", "load_methods", "covers", "coverage", "METHODS_FILE", "RECIPES", "DEFAULT_METHOD",
           "NO_TRUNCATION",
           "TRUNCATION"]

#: The data file of the methods (in the data catalog's folder).
METHODS_FILE = "methods.yaml"
#: How a method builds a component (the recipes of :mod:`uncertainty_footprint.model.methods`).
RECIPES = ("catalog", "ic_die_area", "replace_items", "block_value", "truncation")
#: The method of every component an experiment does not give one.
DEFAULT_METHOD = "pirson_bol"
#: The pseudo-component of the truncation correction, and its method that leaves it out.
TRUNCATION = "truncation"
NO_TRUNCATION = "none"
_FIELDS = ("title", "source", "recipe", "note", "nodes", "parameters", "items", "quantities", "values", "status",
           "pedigree", "pedigree_reasons")


@dataclass(frozen=True)
class MethodData:
    """One method of ``methods.yaml``.

    Attributes
    ----------
    name, title, recipe : str
    source : tuple of str
    parameters : dict of str to Parameter
        Its factor records.
    nodes : dict of str to str
        ``ic_die_area``: a die factor -> the node its energy and gases per area come from.
    items : dict of str to dict
        ``replace_items``: an HSL item -> the ``quantity`` and/or ``factor`` it takes instead.
    quantities : dict of str to dict
        ``replace_items``: new quantities with ``unit``, ``low``, ``typical``, ``high``, ``status``, ``source``.
    values : dict of str to dict of int to float
        ``block_value``: block -> HSL -> value [kg CO2-eq].
    status : str
        ``block_value``: the status of the values.
    pedigree : Pedigree or None
        ``block_value``: the data quality of the values (their spread).
    """

    name: str
    title: str
    recipe: str
    source: tuple[str, ...]
    note: str = ""
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    nodes: Mapping[str, str] = field(default_factory=dict)
    items: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    quantities: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    values: Mapping[str, Mapping[int, float]] = field(default_factory=dict)
    status: str = "quoted"
    pedigree: Any = None
    pedigree_reasons: str = ""


def load_methods(root: Path, sources: Mapping[str, str], known_parameters, blocks: Mapping[str, Any] | None = None,
                 items: Any = ()) -> dict[str, MethodData]:
    """The methods of ``root/methods.yaml`` (none if the file is absent), checked: known recipes and sources,
    valid parameter records whose names are new, the nodes' parameters present; against the catalog's ``blocks``
    (name -> record with ``hsl``) and HSL ``items`` when given: block values of known blocks and HSLs, replaced
    items and die factors that exist.

    Raises
    ------
    ConfigError
        Naming the file and the key path.
    """
    path = root / METHODS_FILE
    if not path.is_file():
        return {}
    data = load_file(path)[0]
    methods = data.get("methods") if isinstance(data, Mapping) else None
    if not isinstance(methods, Mapping) or not methods:
        raise ConfigError(str(path), "methods", "must map a method name to its record")
    out: dict[str, MethodData] = {}
    seen_parameters: set[str] = set(known_parameters)
    for name, raw in methods.items():
        where = f"methods.{name}"
        try:
            check_name(name)
        except SpecError as exc:
            raise ConfigError(str(path), where, str(exc)) from None
        if name == NO_TRUNCATION:
            raise ConfigError(str(path), where, f"{NO_TRUNCATION!r} is the method that leaves the truncation out; "
                              "choose another name")
        if not isinstance(raw, Mapping):
            raise ConfigError(str(path), where, "must be a mapping with title, source, recipe")
        unknown = sorted(set(raw) - set(_FIELDS), key=str)
        if unknown:
            raise ConfigError(str(path), f"{where}.{unknown[0]}", f"unknown field; allowed: {', '.join(_FIELDS)}")
        if raw.get("recipe") not in RECIPES:
            raise ConfigError(str(path), f"{where}.recipe", f"got {shorten(raw.get('recipe'))}; allowed: "
                              f"{', '.join(RECIPES)}")
        for key in ("parameters", "nodes", "items", "quantities", "values"):
            if not isinstance(raw.get(key) or {}, Mapping):
                raise ConfigError(str(path), f"{where}.{key}", "must be a mapping")
        for key in ("title", "note", "status", "pedigree_reasons"):
            if not isinstance(raw.get(key, ""), str):
                raise ConfigError(str(path), f"{where}.{key}", "must be text")
        if raw.get("status", "quoted") not in STATUSES:
            raise ConfigError(str(path), f"{where}.status", f"allowed: {', '.join(STATUSES)}")
        src = _sources(path, f"{where}.source", raw.get("source"), sources)
        for qname, q in (raw.get("quantities") or {}).items():
            _check_quantity(path, f"{where}.quantities.{qname}", q, sources)
        params = {}
        for pname, record in (raw.get("parameters") or {}).items():
            if pname in seen_parameters:
                raise ConfigError(str(path), f"{where}.parameters.{pname}", "a parameter of that name exists "
                                  "already; a method's factors have names of their own")
            try:
                params[pname] = parse_record(pname, record, origin=f"{path}:{where}.parameters.{pname}",
                                             known_sources=sources)
            except SpecError as exc:
                raise ConfigError(str(path), key_path(f"{where}.parameters.{pname}", exc), str(exc)) from None
            seen_parameters.add(pname)
        method = MethodData(name, str(raw.get("title") or name), raw["recipe"], src, str(raw.get("note") or ""),
                            params, dict(raw.get("nodes") or {}), dict(raw.get("items") or {}),
                            dict(raw.get("quantities") or {}), _values(path, where, raw.get("values")),
                            str(raw.get("status") or "quoted"),
                            _pedigree(path, where, raw.get("pedigree")), str(raw.get("pedigree_reasons") or ""))
        _check_recipe(path, where, method)
        _check_catalog(path, where, method, set(known_parameters), blocks, items)
        seen_parameters |= set(method.quantities)
        out[str(name)] = method
    return out


def _sources(path: Path, where: str, raw: Any, sources: Mapping[str, str]) -> tuple[str, ...]:
    """A source key or a list of them, every one in the bibliography."""
    keys = (raw,) if isinstance(raw, str) else raw if isinstance(raw, list) else None
    if not keys or not all(isinstance(k, str) for k in keys):
        raise ConfigError(str(path), where, "must be a source key or a list of them (sources.yaml)")
    for key in keys:
        if key not in sources:
            raise ConfigError(str(path), where, f"unknown source {shorten(key)}; add it to sources.yaml")
    return tuple(keys)


def _check_quantity(path: Path, where: str, q: Any, sources: Mapping[str, str]) -> None:
    """A method's HSL quantity: unit, low <= typical <= high (numbers), status and known sources."""
    fields = ("description", "unit", "low", "typical", "high", "status", "source", "note")
    if not isinstance(q, Mapping) or not {"unit", "low", "typical", "high", "status", "source"} <= set(q) \
            or set(q) - set(fields):
        raise ConfigError(str(path), where, f"a quantity has unit, low, typical, high, status and source "
                          f"(and may have description, note); allowed: {', '.join(fields)}")
    try:
        parse_unit(str(q["unit"]))
        low, typical, high = (as_number(q[k], k) for k in ("low", "typical", "high"))
    except SpecError as exc:
        raise ConfigError(str(path), where, str(exc)) from None
    if not 0 <= low <= typical <= high:
        raise ConfigError(str(path), where, f"needs 0 <= low <= typical <= high, got {low:g}, {typical:g}, {high:g}")
    if q["status"] not in STATUSES:
        raise ConfigError(str(path), f"{where}.status", f"allowed: {', '.join(STATUSES)}")
    _sources(path, f"{where}.source", q["source"], sources)


def _values(path: Path, where: str, raw: Any) -> dict[str, dict[int, float]]:
    if raw is None:
        return {}
    if not isinstance(raw, Mapping):
        raise ConfigError(str(path), f"{where}.values", "must map a block to {HSL: value}")
    out = {}
    for block, levels in raw.items():
        if not isinstance(levels, Mapping):
            raise ConfigError(str(path), f"{where}.values.{block}", "must map an HSL to a value in kg CO2-eq")
        try:
            out[str(block)] = {int(h): as_number(v, "a block value") for h, v in levels.items()}
        except (SpecError, ValueError) as exc:
            raise ConfigError(str(path), f"{where}.values.{block}", str(exc)) from None
        for h, v in out[str(block)].items():
            if not v >= 0.0:
                raise ConfigError(str(path), f"{where}.values.{block}.{h}", f"a footprint is >= 0 kg CO2-eq, got {v:g}")
    return out


def _check_catalog(path: Path, where: str, m: MethodData, parameters: set[str], blocks, items) -> None:
    """The blocks, HSLs, items and die factors a method names exist in the catalog."""
    if blocks is not None:
        for block, levels in m.values.items():
            if block not in blocks:
                raise ConfigError(str(path), f"{where}.values.{block}", f"unknown block; blocks: {', '.join(blocks)}")
            for h in levels:
                if h not in blocks[block]["hsl"]:
                    raise ConfigError(str(path), f"{where}.values.{block}.{h}", f"{block} has no HSL-{h}; allowed: "
                                      f"{', '.join(str(k) for k in blocks[block]['hsl'])}")
    by_item = {it.item: it for it in items}
    if by_item:
        for item, change in m.items.items():
            if item not in by_item:
                raise ConfigError(str(path), f"{where}.items.{item}", "not an item of hsl_items.csv")
            if "factor" in change:  # its unit fits the quantity it multiplies (converted when the model is built)
                unit = m.quantities[change["quantity"]]["unit"] if "quantity" in change else by_item[item].unit
                factor = m.parameters[change["factor"]]
                wanted = f"{KG_CO2EQ}/({unit})"
                try:
                    conversion_factor(factor.unit, wanted)
                except SpecError:
                    raise ConfigError(str(path), f"{where}.items.{item}.factor", f"{change['factor']} is in "
                                      f"{factor.unit}; a factor of a quantity in {unit} is in {wanted} or a unit "
                                      "that converts to it") from None
    for factor in m.nodes:
        if factor not in parameters:
            raise ConfigError(str(path), f"{where}.nodes.{factor}", "not a die factor of the catalog")


def _pedigree(path: Path, where: str, raw: Any):
    if raw is None:
        return None
    if not isinstance(raw, Mapping) or "basic_gsd2" not in raw:
        raise ConfigError(str(path), f"{where}.pedigree", "must give basic_gsd2, scores and table")
    try:
        return parse_pedigree({k: v for k, v in raw.items() if k != "basic_gsd2"},
                              as_number(raw["basic_gsd2"], "basic_gsd2"))
    except SpecError as exc:
        raise ConfigError(str(path), f"{where}.pedigree", str(exc)) from None


#: The unit of each input of ACT's logic model (:func:`uncertainty_footprint.model.lifecycle.ic_footprint_act`), by
#: parameter name or, for the per-node ones, by stem (``act_energy_per_area`` for ``act_energy_per_area_legacy``).
ACT_UNITS = {"act_energy_per_area": "kWh/cm2", "act_gas_per_area": f"{KG_CO2EQ}/cm2",
             "act_fab_carbon_intensity": f"{KG_CO2EQ}/kWh", "act_materials_per_area": f"{KG_CO2EQ}/cm2",
             "act_fab_yield": "1", "act_ic_packaging": KG_CO2EQ}
#: The unit ACT's model takes die areas in.
ACT_DIE_UNIT = "mm2"


def act_unit(name: str) -> str:
    """The unit ACT's model takes the parameter ``name`` in (:data:`ACT_UNITS`)."""
    return ACT_UNITS.get(name) or ACT_UNITS[name.rsplit("_", 1)[0]]


def _check_recipe(path: Path, where: str, m: MethodData) -> None:
    """What each recipe needs is there."""
    def need(cond: bool, key: str, message: str) -> None:
        if not cond:
            raise ConfigError(str(path), f"{where}.{key}", message)

    if m.recipe == "ic_die_area":
        need(bool(m.nodes) and all(isinstance(k, str) and isinstance(v, str) and v.isidentifier()
                                   for k, v in m.nodes.items()), "nodes",
             "an ic_die_area method maps die factors to node names (e.g. cmos_90nm_die_factor: legacy)")
        for node in set(m.nodes.values()):
            for stem in ("act_energy_per_area", "act_gas_per_area"):
                need(f"{stem}_{node}" in m.parameters, "parameters", f"node {node!r} needs {stem}_{node}")
        for common in ("act_fab_carbon_intensity", "act_materials_per_area", "act_fab_yield", "act_ic_packaging"):
            need(common in m.parameters, "parameters", f"an ic_die_area method needs {common}")
        for name, param in m.parameters.items():
            try:
                conversion_factor(param.unit, act_unit(name))
            except (SpecError, KeyError):
                need(False, f"parameters.{name}.unit", f"ACT's model takes {name} in "
                     f"{ACT_UNITS.get(name, 'one of its units')} (or a unit that converts to it), got {param.unit}")
    elif m.recipe == "replace_items":
        need(bool(m.items), "items", "a replace_items method maps HSL items to a new quantity and/or factor")
        for item, change in m.items.items():
            need(isinstance(change, Mapping) and set(change) <= {"quantity", "factor"} and bool(change),
                 f"items.{item}", "gives quantity and/or factor")
            if "factor" in change:
                need(isinstance(change["factor"], str) and change["factor"] in m.parameters, f"items.{item}.factor",
                     f"{shorten(change['factor'])} is not a parameter of the method")
            if "quantity" in change:
                need(isinstance(change["quantity"], str) and change["quantity"] in m.quantities,
                     f"items.{item}.quantity", f"{shorten(change['quantity'])} is not a quantity of the method")
        for qname, q in m.quantities.items():
            need(isinstance(q, Mapping) and {"unit", "low", "typical", "high", "status", "source"} <= set(q),
                 f"quantities.{qname}", "a quantity has unit, low, typical, high, status and source")
    elif m.recipe == "block_value":
        need(bool(m.values), "values", "a block_value method gives block -> HSL -> value")
        need(m.pedigree is not None, "pedigree", "a block_value method gives the pedigree of its values")
    elif m.recipe == "truncation":
        need("truncation_gap_ratio" in m.parameters, "parameters", "a truncation method needs truncation_gap_ratio")


def covers(method: MethodData, block: str, hsl: int, items) -> bool:
    """Whether ``method`` computes block ``block`` at ``hsl`` (its catalog ``items``) otherwise than, or as, the
    catalog: always for ``catalog``; an IC of its nodes (``ic_die_area``), an item it replaces
    (``replace_items``), a value (``block_value``); never a block for ``truncation``."""
    if method.recipe == "catalog":
        return True
    if method.recipe == "ic_die_area":
        return any(it.factor in method.nodes for it in items)
    if method.recipe == "replace_items":
        return any(it.item in method.items for it in items)
    if method.recipe == "block_value":
        return hsl in method.values.get(block, {})
    return False


def coverage(method: MethodData, blocks: Mapping[str, Any], block_items) -> dict[str, list[int]]:
    """Block -> the HSLs ``method`` computes (``block_items(block, hsl)`` gives a block's items); the truncation
    methods cover the pseudo-component ``truncation``."""
    if method.recipe == "truncation":
        return {TRUNCATION: []}
    out = {}
    for block, info in blocks.items():
        if info.get("model") != "items":
            continue
        levels = [h for h in info["hsl"] if covers(method, block, h, block_items(block, h))]
        if levels:
            out[block] = levels
    return out
