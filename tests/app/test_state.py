"""The calculator's state <-> experiment translation, its option table and its input parsing (no browser)."""

from __future__ import annotations

import csv

import pytest
import yaml

from tests.helpers import EXPERIMENTS_DIR, REFERENCE_DIR

from uncertainty_footprint import api as uf
from uncertainty_footprint.app import engine, state as st
from uncertainty_footprint.errors import ConfigError

CALCULATOR_CSV = REFERENCE_DIR / "calculator_2023.csv"
#: The published calculator's "Mains powered" 0.52 kg is not reproduced by Pirson & Bol's HSL-0 power-supply
#: items at typical quantities (0.586 kg with the shipped factors; the lower quantities give 0.26): the gap is
#: the calculator's, stated in calculator.yaml's option and in the README; every other option agrees within 0.01.
KNOWN_GAPS = {("power_supply", 0): 0.07}


def published_options():
    with CALCULATOR_CSV.open() as fh:
        rows = [r for r in csv.reader(line for line in fh if not line.startswith("#"))]
    return [dict(zip(rows[0], r)) for r in rows[1:]]


@pytest.fixture(scope="module")
def point_values():
    """Published-method point value of every card option (the cached per-option runs, no application)."""
    conf = st.settings()["sampling"]
    return engine.option_stats(st.option_rounds(None), 400, conf["seed"])


@pytest.mark.skipif(not CALCULATOR_CSV.exists(), reason="shared/reference not beside the repository")
def test_every_published_option_can_be_chosen_and_is_reproduced(point_values):
    cards = {c.name: c for c in st.cards()}
    for row in published_options():
        block, index, value = row["block"], int(row["option_index"]), float(row["footprint_kg"])
        matches = [o for o in cards[block].options if o.published is not None
                   and _index(block, o.id) == index]
        assert len(matches) == 1, (block, index)
        option = matches[0]
        assert option.published == pytest.approx(value), (block, index)
        point = point_values[(block, option.id)].point
        assert abs(point - value) <= KNOWN_GAPS.get((block, index), 0.01), (block, row["option"], point)


def _index(card: str, option_id: str):
    conf = st.settings()
    if card in conf["cards"]:
        return conf["cards"][card]["options"][option_id].get("option_index")
    return next((sc["option_index"] for sc in conf["scenarios"].get(card, [])
                 if f"hsl:{sc['hsl']}:{sc['quantities']}" == option_id), None)


def test_cards_cover_every_block_and_hsl():
    cat = engine.catalog()
    cards = {c.name: c for c in st.cards()}
    assert list(cards) == ["ml_training", *cat.blocks, "use_stage", "end_of_life"]
    for block, info in cat.blocks.items():
        ids = {o.id for o in cards[block].options}
        assert {f"hsl:{h}" for h in info["hsl"]} <= ids and st.CUSTOM in ids
    assert {"energy", "densenet", "mobilenet", "custom"} == {o.id for o in cards["ml_training"].options}
    assert {"direct", "inference", "custom"} == {o.id for o in cards["use_stage"].options}


@pytest.mark.parametrize("name", ["kws", "anomaly_detection", "image_classification"])
def test_shipped_presets_are_the_shipped_experiments(name):
    exp, errors = st.experiment_from_state(st.preset_state(name))
    assert not errors
    shipped = uf.load_experiment(EXPERIMENTS_DIR / f"{name}.yaml").to_dict()
    for key in ("application", "blocks", "training", "use_stage", "quantity_distribution", "reference_devices"):
        assert exp.get(key) == shipped.get(key), key


def test_published_presets_select_the_published_indices():
    """The Vision and Anomaly Detection presets pick the options the published calculator's presets pick."""
    vision = st.preset_state("vision")["choice"]
    assert vision["ml_training"] == "mobilenet" and vision["sensing"] == "hsl:3:typical"
    assert vision["power_supply"] == "hsl:0:typical" and vision["casing"] == "hsl:1:lower"
    anomaly = st.preset_state("anomaly")["choice"]
    assert anomaly["ml_training"] == "densenet" and anomaly["sensing"] == "hsl:1:upper"
    assert st.default_state() == st.preset_state("vision")


@pytest.mark.parametrize("preset", ["kws", "vision", "anomaly"])
def test_state_round_trips_through_experiment_and_url(preset):
    state = st.preset_state(preset)
    state["off"] = ["security"]
    state["choice"]["casing"] = st.CUSTOM
    state["custom"] = {"casing": "uniform 0.1 0.3"}
    state["extra"] = "solar_cell: 0.2\n"
    exp, errors = st.experiment_from_state(state)
    assert not errors
    back = st.state_from_experiment(uf.load_experiment(exp).to_dict())
    assert back["choice"] == state["choice"] and back["off"] == state["off"]
    assert back["custom"]["casing"] == "uniform 0.1 0.3"
    assert st.experiment_from_state(back)[0] == exp
    assert st.from_query(st.to_query(state)) == state


def test_loaded_experiment_keeps_what_the_page_does_not_show():
    text = (EXPERIMENTS_DIR / "kws_low_carbon_grid.yaml").read_text()
    data = uf.Experiment.from_yaml(text, source="test").to_dict()
    state = st.state_from_experiment(data)
    assert state["base"]["parameters"] == data["parameters"]
    exp, _ = st.experiment_from_state(state)
    assert exp["parameters"] == data["parameters"]
    assert st.from_query(st.to_query(state))["base"] == state["base"]


@pytest.mark.parametrize("text, expected", [
    ("0.3", {"family": "fixed", "value": 0.3}),
    (" 1e-2 ", {"family": "fixed", "value": 0.01}),
    ("uniform 0.1 0.3", {"family": "uniform", "low": 0.1, "high": 0.3}),
    ("lognormal 0.3, 1.5", {"family": "lognormal", "median": 0.3, "gsd": 1.5}),
    ("pert 0.1 0.2 0.4", {"family": "pert", "low": 0.1, "mode": 0.2, "high": 0.4}),
    ("{family: triangular, low: 0.1, mode: 0.2, high: 0.5}",
     {"family": "triangular", "low": 0.1, "mode": 0.2, "high": 0.5}),
])
def test_custom_field_accepts_numbers_and_distributions(text, expected):
    assert st.parse_custom(text) == expected


@pytest.mark.parametrize("text, words", [
    ("abc", "is not a number"), ("", "empty"), ("uniform 0.1", "takes 2 numbers"), ("1 2", "without a family"),
    ("nan", "finite"), ("x" * 400, "longer than"), ("{a: [1, 2", "malformed YAML"),
])
def test_custom_field_refuses_with_a_message(text, words):
    with pytest.raises((ValueError, ConfigError), match=words):
        st.parse_custom(text)


@pytest.mark.parametrize("text, words", [("-1", "negative"), ("lognormal median 0.5 gsd 2 spread 3", "spread")])
def test_a_custom_value_the_api_refuses_names_its_card(text, words):
    """Parsed by the page, refused by the API (a negative value, an unknown name of a number) at the card's key."""
    state = st.default_state()
    state["choice"]["casing"], state["custom"] = st.CUSTOM, {"casing": text}
    exp, errors = st.experiment_from_state(state)
    assert not errors
    with pytest.raises(ConfigError, match=words) as info:
        engine.load(exp, st.SOURCE)
    assert info.value.path.startswith("components.casing")


def test_extra_components_box():
    assert st.parse_extra("solar_cell: 0.2\nantenna: {family: uniform, low: 0.01, high: 0.05}\n"
                          "box: {stage: end_of_life, distribution: {family: fixed, value: 0.05}}") == {
        "solar_cell": {"distribution": {"family": "fixed", "value": 0.2}},
        "antenna": {"distribution": {"family": "uniform", "low": 0.01, "high": 0.05}},
        "box": {"stage": "end_of_life", "distribution": {"family": "fixed", "value": 0.05}}}
    assert st.parse_extra("") == {} and st.parse_extra("# nothing\n") == {}


@pytest.mark.parametrize("text, words", [
    ("a: [1, 2", "malformed YAML"),
    ("- 1\n- 2\n", "must be a mapping"),
    ("a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh")), "alias"),
    ("x: " + "y" * ((1 << 20) + 10), "larger than 1 MiB"),
])
def test_extra_components_box_refuses_bad_yaml(text, words):
    with pytest.raises(ConfigError, match=words):
        st.parse_extra(text)


def test_unknown_stage_names_the_field():
    state = st.default_state()
    state["extra"] = "solar: {stage: orbit, distribution: {family: fixed, value: 0.1}}"
    exp, errors = st.experiment_from_state(state)
    assert not errors
    with pytest.raises(ConfigError, match="unknown stage") as info:
        engine.load(exp, st.SOURCE)
    assert info.value.path.startswith("extra_components.solar")


@pytest.mark.parametrize("query, words", [
    ("?casing=hsl:x", "unknown option"), ("?samples=many", "whole number"), ("?base=[1]", "not a mapping"),
    ("?casing=" + "a" * 70_000, "longer than"),
])
def test_bad_links_are_refused(query, words):
    with pytest.raises(ValueError, match=words):
        st.from_query(query)


def test_page_numbers_equal_run_of_the_downloaded_file(tmp_path):
    """What the page shows for a state is uf.run of the file it downloads (same seed, same numbers)."""
    state = st.preset_state("anomaly")
    state["samples"] = 500
    exp, _ = st.experiment_from_state(state)
    view = engine.evaluate(engine.load(exp, st.SOURCE), 500, state["seed"])
    path = tmp_path / "device.yaml"
    path.write_text(view.yaml)
    res = uf.run(path, sobol=False)
    assert res.summary.loc["total", "median"] == view.total.median
    assert res.summary.loc["total", "p95"] == view.total.p95
    assert yaml.safe_load(view.yaml)["sampling"] == {"samples": 500, "seed": state["seed"], "design": "lhs"}


def test_a_loaded_experiment_with_a_benefit_shows_its_balance():
    """Issue 14 in the calculator: the benefit survives the page's state, and the view carries the net balance,
    P(offset) and the break-even statement of uf.run on the same experiment."""
    text = (EXPERIMENTS_DIR / "smart_building_lighting.yaml").read_text()
    data = uf.Experiment.from_yaml(text, source="test").to_dict()
    state = st.state_from_experiment(data)
    exp, _ = st.experiment_from_state(state)
    assert exp["benefit"] == data["benefit"] and exp["fleet"] == data["fleet"]
    view = engine.evaluate(engine.load(exp, st.SOURCE), 400, 5)
    res = uf.run(engine.load(exp, st.SOURCE), samples=400, seed=5, sobol=False)
    assert view.balance["median"] == res.balance.table.loc["net_balance", "median"] < 0
    assert view.balance["p_offset"] == res.balance.table.loc["p_offset", "mean"]
    assert view.balance["statement"] == res.balance.statement and "pays back" in res.balance.statement.lower()
    assert engine.evaluate(engine.load(st.experiment_from_state(st.preset_state("kws"))[0], st.SOURCE),
                           400, 5).balance is None


# ------------------------------------------------------------------------------------------------ issue 25
@pytest.mark.parametrize("text, expected", [
    ("lognormal median 0.5 gsd 2", {"family": "lognormal", "median": 0.5, "gsd": 2.0}),
    ("lognormal gsd 2 median 0.5", {"family": "lognormal", "median": 0.5, "gsd": 2.0}),
    ("uniform low 0.1 high 0.3", {"family": "uniform", "low": 0.1, "high": 0.3}),
    ("uniform low=0.1 high=0.3", {"family": "uniform", "low": 0.1, "high": 0.3}),
    ("Pert low: 0.1, mode: 0.2, high: 0.4, lambda: 3",
     {"family": "pert", "low": 0.1, "mode": 0.2, "high": 0.4, "lambda": 3.0}),
    ("lognormal 0.5 2", {"family": "lognormal", "median": 0.5, "gsd": 2.0}),
    ("family: uniform, low: 0.1, high: 0.3", {"family": "uniform", "low": 0.1, "high": 0.3}),
])
def test_custom_field_accepts_the_names_of_the_numbers(text, expected):
    assert st.parse_custom(text) == expected


@pytest.mark.parametrize("text, words", [
    ("lognormal median 0.5", "gsd missing"),
    ("lognormal median x gsd 2", "is not a number"),
    ("lognormal 0.5 gsd 2", "by its name"),
    ("uniform low 1 low 2", "given twice"),
    ("uniform low 1 high", "after its name"),
])
def test_named_custom_values_are_refused_with_a_message(text, words):
    with pytest.raises(ValueError, match=words):
        st.parse_custom(text)




def test_method_switches_make_the_methods_section():
    state = st.preset_state("vision")
    state["methods"] = {"processing": "act_die_area", "pcb": st.MIXTURE, "truncation": "company_reports",
                        "casing": "pirson_bol"}
    exp, errors = st.experiment_from_state(state)
    assert not errors
    assert exp["methods"] == {"processing": "act_die_area", "truncation": "company_reports",
                              "pcb": {m: 1 for m in uf.load_experiment(exp).method_options()["pcb"]}}
    assert st.from_query(st.to_query(state)) == state
    # a Custom card has no method; a mixture of one method is refused beside its switch
    state["choice"]["processing"], state["custom"] = st.CUSTOM, {"processing": "0.2"}
    state["methods"]["security"] = st.MIXTURE
    exp, errors = st.experiment_from_state(state)
    assert "processing" not in exp["methods"] and "nothing to mix" in errors["method:security"]


def test_the_methods_of_a_loaded_experiment_are_its_switches():
    state = st.preset_state("kws_methods")
    assert state["methods"]["power_supply"] == st.MIXTURE and state["methods"]["truncation"] == st.MIXTURE
    exp, _ = st.experiment_from_state(state)
    assert exp["methods"] == uf.load_experiment("kws_methods").to_dict()["methods"]
    data = uf.load_experiment("kws").with_methods(pcb={"pirson_bol": 2, "tide_pcb": 1}).to_dict()
    state = st.state_from_experiment(data)
    assert state["methods"] == {"pcb": {"pirson_bol": 2, "tide_pcb": 1}}
    assert st.experiment_from_state(state)[0]["methods"] == data["methods"]
    assert st.from_query(st.to_query(state)) == state
    with pytest.raises(ValueError, match="unknown method"):
        st.from_query("?method.pcb=astrology")


def test_the_correlations_switch():
    state = st.preset_state("kws_correlated")
    assert state["correlations"] and state["base"]["correlations"]
    exp, _ = st.experiment_from_state(state)
    assert exp["correlations"] == state["base"]["correlations"] and exp["shapley"] == st.settings()["shapley"]
    state["correlations"] = False
    exp, _ = st.experiment_from_state(state)
    assert "correlations" not in exp and "shapley" not in exp
    assert st.from_query(st.to_query(state)) == state and "corr=off" in st.to_query(state)


def test_a_link_holds_two_designs_and_the_data_version():
    b, a = st.preset_state("kws"), st.preset_state("vision")
    b["choice"]["casing"] = "hsl:2"
    version = engine.data_version()
    link = st.from_link(st.to_link(b, a, version))
    assert (link.state, link.a, link.package, link.data) == (b, a, version["package"], version["data"])
    assert st.from_query(st.to_link(b, a, version)) == b  # the state alone reads the same link
    assert st.from_link(st.to_query(b)).a is None and st.from_link("").state is None
    assert len(version["data"]) == 12 and version["package"] == uf.package_version()
