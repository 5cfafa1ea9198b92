"""How a method builds a component: the recipes of ``distributions/methods.yaml``.

A component computed by a method is an *option*: items (quantity x factor, as Pirson & Bol's blocks), ICs by die
area and node (:func:`~uncertainty_footprint.model.lifecycle.ic_footprint_act`) and a block value, summed. A
component with several methods is their mixture (:func:`~uncertainty_footprint.model.lifecycle.method_mixture`),
the method being an uncertain input ``method:<component>`` that picks one option per sample; a sum of products
per option, so the exact variance decomposition still applies
(:class:`~uncertainty_footprint.analysis.exact` treats the choice through its indicators).

Recipes (:data:`~uncertainty_footprint.inputs.method_data.RECIPES`):

``catalog``
    The block's items as the catalog gives them (Pirson & Bol).
``ic_die_area``
    Every item whose factor is a die factor of the method's ``nodes`` becomes an IC by die area and node; the
    other items stay.
``replace_items``
    The named items take the method's quantity and/or factor (converted to the item's unit); the others stay.
``block_value``
    The block's value at its HSL, lognormal with the method's pedigree (a zero value stays zero).
``truncation``
    Not a block: the component ``truncation`` adds the gap ratio (T - 1) x the manufacturing footprint.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..errors import SpecError
from ..inputs.catalog import HslItem
from ..inputs.distributions import make_distribution
from ..inputs.method_data import ACT_DIE_UNIT, MethodData, act_unit, covers
from ..inputs.parameters import Parameter, in_unit
from ..inputs.units import KG_CO2EQ, per, same_unit

__all__ = ["Option", "build_option", "option_inputs", "ACT_COMMON"]

#: The parameters every IC of the ``ic_die_area`` recipe uses besides its node's: keyword -> parameter name.
ACT_COMMON = {"fab_carbon_intensity": "act_fab_carbon_intensity", "materials_per_area": "act_materials_per_area",
              "fab_yield": "act_fab_yield", "packaging_per_ic": "act_ic_packaging"}


@dataclass
class Option:
    """A component computed by one method: items, ICs and a value (parameter names), and the parameters the
    method brings (its factors, new quantities, block values)."""

    quantities: list[str] = field(default_factory=list)
    factors: list[str] = field(default_factory=list)
    ics: list[dict[str, str]] = field(default_factory=list)
    value: str | None = None
    parameters: dict[str, Parameter] = field(default_factory=dict)

    def names(self) -> set[str]:
        """Every parameter the option uses."""
        return {*self.quantities, *self.factors, *(n for ic in self.ics for n in ic.values()),
                *([self.value] if self.value is not None else [])}

    def keep(self, item: HslItem) -> None:
        """Keep a catalog item as it is (quantity x unit factor)."""
        self.quantities.append(item.parameter)
        self.factors.append(item.factor)


def option_inputs(option: Option) -> dict[str, Any]:
    """The option as a component's inputs (plain lists and dicts of parameter names)."""
    return {"quantities": list(option.quantities), "factors": list(option.factors),
            "ics": [dict(ic) for ic in option.ics], "value": option.value}


def _quantity(method: MethodData, name: str, mode: str, quantity_parameter) -> Parameter:
    """A method's new quantity (low, typical, high) as the experiment's quantities are (``mode``)."""
    q = method.quantities[name]
    item = HslItem(block="", hsl=0, item=name, parameter=name, unit=str(q["unit"]), low=float(q["low"]),
                   typical=float(q["typical"]), high=float(q["high"]), factor="", source=",".join(q["source"])
                   if isinstance(q["source"], list) else str(q["source"]), status=str(q["status"]),
                   notes=str(q.get("note", "")))
    param = quantity_parameter(item, mode, f"distributions/methods.yaml:methods.{method.name}.quantities.{name}")
    return Parameter(**{**param.__dict__, "source": tuple(q["source"]) if isinstance(q["source"], list)
                        else (str(q["source"]),), "description": str(q.get("description", param.description))})


def build_option(method: MethodData, block: str, hsl: int, items: list[HslItem], mode: str,
                 quantity_parameter) -> Option | None:
    """The component ``block`` at ``hsl`` (its catalog ``items``) computed by ``method``, or None when the method
    does not cover it (:func:`~uncertainty_footprint.inputs.method_data.covers`).

    ``quantity_parameter(item, mode, origin)`` makes the parameter of an HSL quantity (the builder's).

    Raises
    ------
    SpecError
        A method's factor whose unit does not fit the item's quantity.
    """
    if method.recipe == "catalog":
        return Option([it.parameter for it in items], [it.factor for it in items])
    if not covers(method, block, hsl, items):
        return None
    out = Option()
    if method.recipe == "ic_die_area":
        for it in items:
            node = method.nodes.get(it.factor)
            if node is None:
                out.keep(it)
            else:
                if not same_unit(it.unit, ACT_DIE_UNIT):
                    raise SpecError(f"ACT's model takes die areas in {ACT_DIE_UNIT}; {it.parameter} is in {it.unit}")
                out.ics.append({"die_area": it.parameter, "energy_per_area": f"act_energy_per_area_{node}",
                                "gas_per_area": f"act_gas_per_area_{node}", **ACT_COMMON})
        needed = {n for ic in out.ics for n in ic.values()}
        out.parameters = {n: in_unit(p, act_unit(n)) for n, p in method.parameters.items() if n in needed}
        return out
    if method.recipe == "replace_items":
        for it in items:
            change = method.items.get(it.item)
            if change is None:
                out.keep(it)
                continue
            quantity, unit = it.parameter, it.unit
            if "quantity" in change:
                qparam = _quantity(method, change["quantity"], mode, quantity_parameter)
                out.parameters[qparam.name] = qparam
                quantity, unit = qparam.name, qparam.unit
            factor = it.factor
            if "factor" in change:
                fparam = method.parameters[change["factor"]]
                wanted = per(KG_CO2EQ, unit)
                if not same_unit(fparam.unit, wanted):
                    fparam = in_unit(fparam, f"{KG_CO2EQ}/({unit})" if any(c in unit for c in "*/ ") else
                                     f"{KG_CO2EQ}/{unit}")
                out.parameters[fparam.name] = fparam
                factor = fparam.name
            out.quantities.append(quantity)
            out.factors.append(factor)
        return out
    if method.recipe == "block_value":
        value = method.values[block][hsl]
        name = f"{method.name}_{block}_hsl{hsl}"
        if value == 0.0:
            dist = make_distribution({"family": "fixed", "value": 0.0})
        else:
            ped = method.pedigree
            dist = make_distribution({"family": "lognormal", "median": value, "basic_gsd2": ped.basic_gsd2,
                                      "pedigree": ped.to_spec()})
        out.parameters[name] = Parameter(
            name=name, unit=KG_CO2EQ, distribution=dist, nominal=float(value), status=method.status,
            source=method.source, description=f"{block.replace('_', ' ')} HSL-{hsl}: {method.title}",
            origin=f"distributions/methods.yaml:methods.{method.name}.values.{block}",
            pedigree_reasons=method.pedigree_reasons)
        out.value = name
        return out
    raise SpecError(f"the recipe {method.recipe!r} does not compute a block")
