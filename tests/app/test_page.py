"""What the calculator shows, without a browser: the A/B comparison against uf.compare, the view's text (sources,
assumed placeholders, hotspots), the exports and the charts' escaping of input text."""

from __future__ import annotations

import io

import pandas as pd
import pytest

from uncertainty_footprint import api as uf
from uncertainty_footprint.app import charts, engine, page, server, state as st

SAMPLES, SEED = 400, 7


def _experiment(state):
    exp, errors = st.experiment_from_state(state)
    assert not errors
    return engine.load(exp, st.SOURCE)


@pytest.fixture(scope="module")
def designs():
    a = st.preset_state("vision")
    b = st.preset_state("vision")
    b["choice"]["casing"] = "hsl:3"
    return _experiment(a), _experiment(b)


@pytest.fixture(scope="module")
def pair(designs):
    return engine.compare(*designs, SAMPLES, SEED)


def test_the_ab_view_is_uf_compare_with_common_random_numbers(designs, pair):
    exp_a, exp_b = designs
    view, p = pair
    single = engine.evaluate(exp_b, SAMPLES, SEED)
    assert view.total == single.total  # design B's numbers are those of its own run
    comp = uf.compare(exp_a.with_options("sobol", enabled=False), exp_b.with_options("sobol", enabled=False),
                      samples=SAMPLES, seed=SEED, labels=["A", "B"])
    d = comp.differences.loc[("A", "B")]  # B - A, P(A < B)
    assert p.difference.median == pytest.approx(d["median"]) and p.difference.p5 == pytest.approx(d["p5"])
    assert p.difference.p95 == pytest.approx(d["p95"])
    assert p.p_b_lt_a == pytest.approx(1 - d["p_a_lt_b"])  # continuous totals: no ties
    assert p.a_total.median == pytest.approx(comp.table.loc["A", "median"])
    # what decides it: the casing's inputs, ranked by their exact share of the difference's variance
    assert p.decides and p.decides[0].component == "casing" and not p.note
    assert [i.shapley for i in p.decides] == sorted((i.shapley for i in p.decides), reverse=True)
    assert sum(p.histogram[1]) == SAMPLES


def test_the_view_text(pair):
    view, p = pair
    out = page.view_json(view, name="Vision B", query="?x=1", messages={"extra": "bad"}, pair=p, name_a="Vision A",
                         ab=True)
    assert out["ok"] and out["messages"] == {"msg-extra": "bad"}
    ab = out["ab"]
    assert (ab["a"]["name"], ab["b"]["name"]) == ("Vision A", "Vision B")
    assert ab["diff"]["median"] == f"{p.difference.median:+.3g}" and ab["decides"][0][0] == p.decides[0].name
    assert "B emits more than A" in ab["verdict"]
    assert p.decides_components[0][0] == "casing"
    assert sum(v for _, v in p.decides_components) == pytest.approx(1, abs=0.01)
    assert ab["decided"].startswith("Which choice decides it: the inputs of Casing ")
    # sources: every input behind a card with its distribution, unit, status and sources; assumed ones flagged
    use = {r[0]: r for r in out["sources"]["use_stage"]}
    assert use["lifetime"][3] == "yr" and use["lifetime"][4] == "assumed" and use["lifetime"][5]
    assert use["lifetime"][2].startswith("pert(")
    assert out["cards"]["use_stage"]["flag"] == "2 assumed" and "lifetime" in out["cards"]["use_stage"]["flag_title"]
    assert out["cards"]["ml_training"]["flag"] == ""  # the published MobileNet value is quoted
    assert out["hotspots"]["components"] and out["hotspots"]["columns"] == ["ST", "Shapley"]
    assert page.error_json({"custom:casing": "x"}) == {"ok": False, "messages": {"msg-custom-casing": "x"}}


def test_pedigree_and_methods_are_in_the_sources():
    state = st.preset_state("kws_methods")
    view = engine.evaluate(_experiment(state), SAMPLES, SEED)
    processing = {s.name: s for s in view.sources["processing"]}
    assert processing["act_ic_packaging"].pedigree.startswith("pedigree (4,4,2,5,3)")
    assert processing["act_ic_packaging"].pedigree_reasons
    assert view.methods["processing"] == ("pirson_bol", "act_die_area", "boavizta_tide")
    assert page.view_json(view, name="x", query="", messages={})["cards"]["processing"]["method"].startswith(
        "mixture of Pirson & Bol items")


def test_correlated_inputs_give_shapley_hotspots_and_the_interval_without():
    state = st.preset_state("kws_correlated")
    view = engine.evaluate(_experiment(state), SAMPLES, SEED)
    assert view.hotspots == "shapley" and view.correlations == 4 and view.without is not None
    top = view.components_ranked[0]
    assert top.conf_low <= top.shapley <= top.conf_high
    out = page.view_json(view, name="x", query="", messages={}, declared=4)
    assert "Shapley" in out["hotspots"]["heading"] and "without them" in out["total"]["without"]
    assert out["correlations"].startswith("4 pairs declared")


def test_exports(designs):
    exp_a, exp_b = designs
    summary = pd.read_csv(io.StringIO(engine.summary_csv(exp_b, SAMPLES, SEED)), index_col=0)
    run = uf.run(exp_b.with_options("sobol", enabled=False), samples=SAMPLES, seed=SEED)
    assert summary.loc["total", "median"] == pytest.approx(run.summary.loc["total", "median"], rel=1e-5)
    both = pd.read_csv(io.StringIO(engine.comparison_csv(exp_a, exp_b, SAMPLES, SEED)))
    assert set(both["design"]) == {"A", "B", "B - A"}
    diff = both[both["design"] == "B - A"].iloc[0]
    assert diff["p95"] > diff["median"] > diff["p5"] > 0 and 0 <= diff["p_b_lt_a"] <= 1
    text = engine.experiment_yaml(exp_b, SAMPLES, SEED)
    assert uf.run(uf.Experiment.from_yaml(text)).summary.loc["total", "median"] == run.summary.loc["total", "median"]


def test_a_link_of_another_version_is_named():
    now = engine.data_version()
    assert server._version_message(st.Link(None, None, now["package"], now["data"])) == ""
    assert server._version_message(st.Link(None, None, "", "")) == ""
    text = server._version_message(st.Link(None, None, "0.0.1", "abcdef012345"))
    assert "0.0.1" in text and now["data"] in text and "may differ" in text


def test_chart_text_from_inputs_is_escaped_and_labels_wrap():
    view = engine.evaluate(_experiment(st.preset_state("vision")), SAMPLES, SEED)
    name = '<a href="javascript:alert(1)">Anomaly Detection device with a long name</a>'
    fig = charts.stacked_chart(view, name)
    device = fig["data"][0]["x"][0]
    assert "<a" not in device and "&lt;a href" in device
    assert all(len(line) <= charts.LABEL_WIDTH + 6 for line in device.replace("&lt;", "<").split("<br>"))
    assert fig["layout"]["xaxis"]["automargin"] and fig["layout"]["xaxis"]["tickangle"] == 0
    assert all("%{hovertext}" == t["hovertemplate"].split("<extra>")[0] for t in fig["data"])
    assert charts.label("Apple Watch Series 7") == "Apple Watch<br>Series 7"


# ------------------------------------------------------------------------------------ defects found in review
def _messages():
    return server._blank_messages([c.name for c in st.cards()], server._method_cards())


def test_a_link_with_an_unknown_application_or_a_long_name_is_read_safely():
    with pytest.raises(ValueError, match="unknown application 'bogus'"):
        st.from_query("?app=bogus&casing=hsl:1")
    state = st.from_query("?" + "name=" + "x" * 50_000 + "&casing=hsl:1")
    assert len(state["name"]) == st.NAME_MAX


def test_a_renamed_design_b_is_design_a():
    """Renaming B changes no number: the page says B is A instead of comparing identical designs."""
    state = st.preset_state("vision")
    state_a = {**state, "name": "Another name"}
    out = server.compute_view(state, state_a, _messages())
    assert out["ok"] and out["ab"]["same"]
    assert engine.same_design(_experiment(state), _experiment(state_a), SAMPLES, SEED)


def test_ties_are_not_read_as_one_design_emitting_more(pair):
    import dataclasses

    view, p = pair
    tied = dataclasses.replace(p, p_b_lt_a=0.0, p_b_gt_a=0.0)
    out = page.view_json(view, name="B", query="?x=1", messages={}, pair=tied, name_a="A", ab=True)
    assert out["ab"]["verdict"] == "B and A emit the same in every paired sample"
    more = dataclasses.replace(p, p_b_lt_a=0.0, p_b_gt_a=1.0)
    assert page.view_json(view, name="B", query="?x=1", messages={}, pair=more, name_a="A", ab=True)["ab"][
        "verdict"] == "B emits more than A in every paired sample"


def test_a_design_the_api_refuses_cannot_be_kept_as_design_a():
    state = st.preset_state("vision")
    assert server._keepable(state)
    state["choice"]["casing"], state["custom"] = st.CUSTOM, {"casing": "uniform 0.3 0.1"}  # parses; low > high
    assert not server._keepable(state)


@pytest.mark.parametrize("samples, seed", [(float("inf"), 1), (float("nan"), 1), (True, 1), (400, float("inf"))])
def test_sampling_fields_of_a_crafted_request_get_a_message(samples, seed):
    assert server._sampling_message(samples, seed)


def test_a_crafted_request_gets_a_message_not_an_error():
    state = st.preset_state("vision")
    assert server._bad_controls(state) == ""
    assert "unknown application" in server._bad_controls({**state, "application": "bogus"})
    assert "unknown application" in server._bad_controls({**state, "application": ["x"]})
    assert "no option chosen" in server._bad_controls({**state, "choice": {**state["choice"], "casing": None}})


def test_an_error_without_a_field_blocks_the_run():
    """An input the page cannot use (here a Shapley estimator above the page's limits from a loaded file) is
    named, and no numbers are shown that would leave it out."""
    state = st.preset_state("kws_correlated")
    state["base"] = {**state["base"], "shapley": {"permutations": 10**6}}
    exp, errors = st.experiment_from_state(state)
    assert "permutations 1000000 (at most 20000)" in errors["load"]
    out = server.compute_view(state, None, _messages())
    assert not out["ok"] and "at most 20000" in out["messages"]["msg-load"]


def test_a_device_named_like_a_reference_device_keeps_its_own_bar(pair):
    view, _ = pair
    name = next(iter(view.references.values()))[0]
    fig = charts.stacked_chart(view, device=name)
    device_x = {x for t in fig["data"] if t["type"] == "bar" and t.get("showlegend", True) for x in t["x"]}
    reference_x = {x for t in fig["data"] if t["type"] == "bar" and t.get("showlegend", True) is False for x in t["x"]}
    assert device_x and reference_x and not device_x & reference_x
