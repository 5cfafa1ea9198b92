"""The data catalog against itself and against the published tables in ``../shared/reference/``.

- every unit factor of ``unit_factors.yaml`` is used (by an HSL item or the transport model) or explicitly
  marked ``offered_for_overrides`` with a reason;
- every HSL item has the quantities of Pirson & Bol (2021) Table 1 (``pirson_bol_2021_hsl.csv``), and its
  footprint at the lower / typical / upper quantity with the catalog's central factor equals the one with the
  back-calculated factor of ``unit_factors.csv`` for that item and process node (which catches an item
  multiplied by the wrong factor, e.g. an 8-layer board by the 4-layer factor); an item the reference gives no
  factor for must use an ``assumed`` placeholder.

The reference checks skip when the shared folder is absent (as ``tests/test_reproduction.py`` does).
"""

from __future__ import annotations

import inspect

import pandas as pd
import pytest
import yaml

from tests.helpers import ROOT
from uncertainty_footprint.inputs.catalog import default_data_dir, load_catalog
from uncertainty_footprint.inputs.units import same_unit
from uncertainty_footprint.model import lifecycle

REFERENCE = ROOT.parent / "shared" / "reference"
HSL_TABLE = REFERENCE / "pirson_bol_2021_hsl.csv"
FACTOR_TABLE = REFERENCE / "unit_factors.csv"
SCENARIOS = {"lower": "low", "typical": "typical", "upper": "high"}

needs_reference = pytest.mark.skipif(not (HSL_TABLE.exists() and FACTOR_TABLE.exists()),
                                     reason="shared reference folder not present")


def _factor_records() -> dict:
    return yaml.safe_load((default_data_dir() / "unit_factors.yaml").read_text(encoding="utf-8"))["parameters"]


def test_every_unit_factor_is_used_or_offered_for_overrides():
    cat = load_catalog()
    by_items = {it.factor for it in cat.items if it.factor}
    by_transport = {n for n in inspect.signature(lifecycle.transport_footprint).parameters if n.endswith("_factor")}
    for name, record in _factor_records().items():
        offered = record.get("offered_for_overrides")
        if name in by_items or name in by_transport:
            assert offered is None, f"{name} is used; drop its offered_for_overrides mark"
        else:
            assert isinstance(offered, str) and offered.strip(), (
                f"{name} is used by no HSL item and no block model; use it or mark it offered_for_overrides: "
                "<the reason it is kept>")


def test_eight_layer_boards_use_the_eight_layer_factor():
    cat = load_catalog()
    boards = [it for it in cat.items if it.block == "pcb" and it.item.startswith("fr4_")]
    assert {it.item for it in boards} == {"fr4_4_layers", "fr4_8_layers"}
    for it in boards:
        layers = it.item.split("_")[1]
        assert it.factor == f"pcb_{layers}_layer_factor", it


# ------------------------------------------------------------------------------------------- reference tables
def _reference_factor_key(row) -> tuple[str, str]:
    """The (item, technology) row of unit_factors.csv that applies to a row of the HSL table."""
    tech = row.technology if isinstance(row.technology, str) else ""
    if row["item"] == "cmos_imager":
        return "cmos_imager", tech
    if tech in ("dram_57nm", "flash_45nm"):
        return "memory_die", "dram_57nm_and_flash_45nm"
    if tech.startswith("cmos_"):
        return "ic_die", tech
    if row.block == "pcb" and row["item"].startswith("fr4_"):
        return "pcb", row["item"]
    # items named after the material or part whose factor they take
    alias = {"steel_shield": "steel", "motor_driver_transistor": "transistor"}
    return alias.get(row["item"], row["item"]), tech


@pytest.fixture(scope="module")
def reference():
    hsl = pd.read_csv(HSL_TABLE, comment="#")
    factors = pd.read_csv(FACTOR_TABLE, comment="#", keep_default_na=False)
    factors = {(r["item"], r.technology): r for _, r in factors.iterrows()}
    return hsl, factors


@needs_reference
def test_every_item_has_the_published_quantities(reference):
    hsl, _ = reference
    cat = load_catalog()
    ours = {(it.block, it.hsl, it.item): it for it in cat.items}
    quantified = hsl[hsl.unit != "-"]
    for _, row in quantified.iterrows():
        key = (row.block, int(row.hsl), row["item"])
        assert key in ours, f"{key} of Pirson & Bol Table 1 is missing from hsl_items.csv"
        it = ours[key]
        assert it.unit == row.unit, (key, it.unit, row.unit)
        assert (it.low, it.typical, it.high) == (row.low, row.typical, row.high), key
    published = {(r.block, int(r.hsl), r["item"]) for _, r in hsl.iterrows()}
    for key, it in ours.items():
        assert key in published, f"{key} of hsl_items.csv is not in Pirson & Bol Table 1"
        if key not in {(r.block, int(r.hsl), r["item"]) for _, r in quantified.iterrows()}:
            assert it.status == "assumed", f"{key}: Table 1 gives no quantity, so the catalog's must be assumed"


@needs_reference
def test_every_item_footprint_matches_the_reference_factors(reference):
    hsl, factors = reference
    cat = load_catalog()
    ours = {(it.block, it.hsl, it.item): it for it in cat.items if it.factor}
    compared = placeholders = 0
    for _, row in hsl.iterrows():
        it = ours.get((row.block, int(row.hsl), row["item"]))
        if it is None:
            continue
        factor = cat.parameters[it.factor]
        ref = factors.get(_reference_factor_key(row))
        if ref is None or ref.central == "":
            assert factor.status == "assumed", (
                f"{it.block} HSL-{it.hsl} {it.item}: the reference has no factor, so {it.factor} must be an assumed "
                "placeholder")
            placeholders += 1
            continue
        assert same_unit(factor.unit, ref.unit.replace("kg", "kg CO2-eq", 1)), (it.factor, factor.unit, ref.unit)
        central = float(ref.central)
        for scenario, column in SCENARIOS.items():
            q = getattr(it, column)
            assert q * factor.nominal == pytest.approx(q * central, rel=1e-9, abs=1e-12), (
                f"{it.block} HSL-{it.hsl} {it.item} ({scenario} {q:g} {it.unit}): {it.factor} gives "
                f"{q * factor.nominal:.4g} kg CO2-eq, the reference factor {ref['item']}/{ref.technology} gives "
                f"{q * central:.4g}")
        if ref.range_low != "" and ref.range_high != "":
            assert float(ref.range_low) <= factor.nominal <= float(ref.range_high), it.factor
        compared += 1
    assert compared >= 80 and placeholders >= 10, (compared, placeholders)


def test_the_pedigree_tables_of_a_data_folder_are_its_own(tmp_path):
    """A data folder (--data-dir) with its own pedigree.yaml: its records, and an experiment's overrides built
    with its catalog, are read in its tables, not in the package's."""
    import yaml

    import uncertainty_footprint as uf
    from tests.helpers import copy_data

    data = copy_data(tmp_path)
    path = data / "pedigree.yaml"
    tables = yaml.safe_load(path.read_text())
    tables["tables"]["ciroth_2016"]["factors"]["reliability"] = [1.0, 1.5, 2.0, 4.0, 8.0]  # score 4: 4 (was less)
    path.write_text(yaml.safe_dump(tables))
    shipped, own = load_catalog(), load_catalog(data)
    name = "cmos_22nm_die_factor"  # reliability score 4 in ciroth_2016
    assert own.parameters[name].distribution.pedigree.sigma > shipped.parameters[name].distribution.pedigree.sigma
    override = {"distribution": {"family": "lognormal", "median": 0.02, "basic_gsd2": 1.05,
                                 "pedigree": {"scores": [4, 1, 1, 1, 1], "table": "ciroth_2016"}}}
    used = "cmos_90nm_die_factor"  # an input of the keyword-spotting device
    exp = {"name": "x", "application": "keyword_spotting", "parameters": {used: override}}
    sigma = [uf.load_experiment(exp, data_dir=d).model.parameters[used].distribution.pedigree.sigma
             for d in (None, data)]
    assert sigma[1] > sigma[0]
