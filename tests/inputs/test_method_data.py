"""``distributions/methods.yaml``: the shipped methods are complete and cited, and a broken file is refused with
its key path (the catalog is checked before any model is built)."""

from __future__ import annotations

import pytest
import yaml

from tests.helpers import copy_data
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.inputs.method_data import RECIPES


def test_shipped_methods_cover_every_recipe_and_are_cited(catalog):
    methods = catalog.methods
    assert set(methods) == {"pirson_bol", "act_die_area", "li_ion_per_kwh", "tide_pcb", "boavizta_tide",
                            "company_reports"}
    assert {m.recipe for m in methods.values()} == set(RECIPES)
    for m in methods.values():
        assert m.source and all(key in catalog.sources for key in m.source), m.name
        assert m.title and m.note
        for p in m.parameters.values():
            assert p.status in ("quoted", "inferred", "assumed") and p.source, p.name
            if p.pedigree is not None:
                assert p.pedigree_reasons, p.name
    # every block value sits on a block and HSL of the catalog
    for block, levels in methods["boavizta_tide"].values.items():
        assert set(levels) <= set(catalog.blocks[block]["hsl"])


def _broken(tmp_path, change):
    data = copy_data(tmp_path)
    path = data / "methods.yaml"
    doc = yaml.safe_load(path.read_text())
    change(doc["methods"])
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return data, path


@pytest.mark.parametrize("change,key,words", [
    (lambda m: m["act_die_area"].update(recipe="guess"), "methods.act_die_area.recipe", "allowed: catalog"),
    (lambda m: m["act_die_area"].update(source=["nobody_2099"]), "methods.act_die_area.source",
     "unknown source 'nobody_2099'"),
    (lambda m: m["act_die_area"].update(colour="red"), "methods.act_die_area.colour", "unknown field"),
    (lambda m: m.update(none=m.pop("tide_pcb")), "methods.none", "leaves the truncation out"),
    (lambda m: m["act_die_area"]["parameters"].update(lifetime={"unit": "yr", "distribution": {
        "family": "fixed", "value": 1}, "status": "assumed", "source": ["act_2022"]}),
     "methods.act_die_area.parameters.lifetime", "a parameter of that name exists"),
    (lambda m: m["act_die_area"]["parameters"].pop("act_fab_yield"), "methods.act_die_area.parameters",
     "needs act_fab_yield"),
    (lambda m: m["act_die_area"]["nodes"].update(cmos_3nm_die_factor="n3"), "methods.act_die_area.parameters",
     "node 'n3' needs act_energy_per_area_n3"),
    (lambda m: m["boavizta_tide"]["values"]["casing"].update({1: -0.4}), "methods.boavizta_tide.values.casing.1",
     "a footprint is >= 0"),
    (lambda m: m["boavizta_tide"]["values"]["casing"].update({7: 0.4}), "methods.boavizta_tide.values.casing.7",
     "casing has no HSL-7"),
    (lambda m: m["boavizta_tide"]["values"].update(antenna={1: 0.4}), "methods.boavizta_tide.values.antenna",
     "unknown block"),
    (lambda m: m["boavizta_tide"].pop("pedigree"), "methods.boavizta_tide.pedigree", "gives the pedigree"),
    (lambda m: m["li_ion_per_kwh"]["items"].update(flux_capacitor={"factor": "li_ion_cell_factor_per_kwh"}),
     "methods.li_ion_per_kwh.items.flux_capacitor", "not an item of hsl_items.csv"),
    (lambda m: m["li_ion_per_kwh"]["items"]["li_ion_battery"].update(factor="unobtainium"),
     "methods.li_ion_per_kwh.items.li_ion_battery.factor", "not a parameter of the method"),
    (lambda m: m["company_reports"]["parameters"]["truncation_gap_ratio"]["distribution"].update(family="wild"),
     "methods.company_reports.parameters.truncation_gap_ratio", "unknown distribution family"),
    (lambda m: m["act_die_area"].update(parameters=[1, 2]), "methods.act_die_area.parameters", "must be a mapping"),
    (lambda m: m["act_die_area"].update(nodes=["a", "b"]), "methods.act_die_area.nodes", "must be a mapping"),
    (lambda m: m["act_die_area"]["nodes"].update(cmos_90nm_die_factor=[1]), "methods.act_die_area.nodes",
     "maps die factors to node names"),
    (lambda m: m["act_die_area"].update(source=5), "methods.act_die_area.source", "a source key or a list"),
    (lambda m: m["act_die_area"].update(title=["a"]), "methods.act_die_area.title", "must be text"),
    (lambda m: m["boavizta_tide"].update(status="rumoured"), "methods.boavizta_tide.status", "allowed: quoted"),
    (lambda m: m["li_ion_per_kwh"]["quantities"]["li_ion_battery_capacity"].update(low="abc"),
     "methods.li_ion_per_kwh.quantities.li_ion_battery_capacity", "must be a number"),
    (lambda m: m["li_ion_per_kwh"]["quantities"]["li_ion_battery_capacity"].update(low=20),
     "methods.li_ion_per_kwh.quantities.li_ion_battery_capacity", "needs 0 <= low <= typical <= high"),
    (lambda m: m["li_ion_per_kwh"]["quantities"]["li_ion_battery_capacity"].update(status="whatever"),
     "methods.li_ion_per_kwh.quantities.li_ion_battery_capacity.status", "allowed: quoted"),
    (lambda m: m["li_ion_per_kwh"]["quantities"]["li_ion_battery_capacity"].update(source=5),
     "methods.li_ion_per_kwh.quantities.li_ion_battery_capacity.source", "a source key or a list"),
    (lambda m: m["li_ion_per_kwh"]["parameters"]["li_ion_cell_factor_per_kwh"].update(unit="kg CO2-eq/g"),
     "methods.li_ion_per_kwh.items.li_ion_battery.factor", "a factor of a quantity in Wh"),
    (lambda m: m["li_ion_per_kwh"]["items"]["li_ion_battery"].update(factor=["x"]),
     "methods.li_ion_per_kwh.items.li_ion_battery.factor", "is not a parameter of the method"),
    (lambda m: m["li_ion_per_kwh"]["items"]["li_ion_battery"].update(quantity={"a": 1}),
     "methods.li_ion_per_kwh.items.li_ion_battery.quantity", "is not a quantity of the method"),
    (lambda m: m["act_die_area"]["parameters"]["act_fab_yield"].update(unit="kg"),
     "methods.act_die_area.parameters.act_fab_yield.unit", "ACT's model takes act_fab_yield in 1"),
    (lambda m: m["act_die_area"]["parameters"]["act_energy_per_area_legacy"].update(unit="kg CO2-eq"),
     "methods.act_die_area.parameters.act_energy_per_area_legacy.unit", "got kg CO2-eq"),
    (lambda m: m["boavizta_tide"]["pedigree"].update(table=["ciroth_2016"]), "methods.boavizta_tide.pedigree",
     "unknown pedigree table"),
])
def test_a_broken_methods_file_is_refused_with_its_key_path(tmp_path, change, key, words):
    data, path = _broken(tmp_path, change)
    with pytest.raises(ConfigError) as err:
        load_catalog(data)
    assert err.value.source == str(path)
    assert err.value.path.startswith(key), err.value.path
    assert words in err.value.message


def test_no_methods_file_means_no_methods(tmp_path):
    data = copy_data(tmp_path)
    (data / "methods.yaml").unlink()
    assert load_catalog(data).methods == {}


def test_methods_table_lists_what_each_method_covers(catalog):
    table = catalog.methods_table()
    assert list(table.index) == list(catalog.methods)
    assert table.loc["li_ion_per_kwh", "covers"] == "power_supply 2-3"
    assert table.loc["tide_pcb", "covers"] == "pcb 0-3"
    assert table.loc["company_reports", "covers"] == "truncation"
    assert "processing 0-3" in table.loc["act_die_area", "covers"]
    assert "truncation_gap_ratio" in table.loc["company_reports", "parameters"]


def test_list_methods_prints_them(capsys):
    from uncertainty_footprint.cli import main

    assert main(["list", "methods"]) == 0
    out = capsys.readouterr().out
    for name in ("act_die_area", "li_ion_per_kwh", "boavizta_tide", "company_reports", "truncation_gap_ratio",
                 "act_energy_per_area_legacy"):
        assert name in out
