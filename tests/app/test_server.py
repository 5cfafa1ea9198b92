"""The calculator in a real browser: headless Chromium (Debian's chromium + chromium-driver) through Selenium, one
server (a thread of this process) and one browser for the module. Skipped when Chromium is not installed."""

from __future__ import annotations

import os
import time

import pytest

from tests.helpers import EXPERIMENTS_DIR, ROOT

from uncertainty_footprint import api as uf
from uncertainty_footprint.app import testing

#: Outside CI a machine without Chromium skips these tests; CI (.ci/run installs it) must run them.
pytestmark = [pytest.mark.slow,  # a real browser
              pytest.mark.skipif(not testing.browser_available() and not os.environ.get("CI"),
                                 reason="chromium/chromedriver or selenium missing (apt-get install chromium "
                                        "chromium-driver)")]

SCREENSHOT = ROOT / "docs" / "calculator.png"
WAIT = 30  # [s] upper bound of a wait on a loaded 2-core machine; a passing wait returns as soon as the page is ready


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    downloads = tmp_path_factory.mktemp("downloads")
    server = testing.start_server()
    driver = testing.chromium(width=1400, height=1000, downloads=downloads)
    driver.get(server.url)
    # the page is ready: the numbers, the controls the page's script draws and both charts (plotly.js loads after
    # the numbers, so on a loaded machine the charts may come seconds later)
    _wait(driver, lambda d: d.execute_script(
        "const plot = id => document.querySelector('#' + id + ' .js-plotly-plot');"
        "return !!(document.getElementById('total-median') && document.querySelector('#choice-ml_training input')"
        " && plot('chart') && plot('chart').data && plot('histogram') && plot('histogram').data);"))
    driver.downloads = downloads
    driver.server = server
    yield driver
    driver.quit()
    server.stop()


def _wait(driver, condition, timeout=WAIT):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.05).until(condition)


def _total(driver) -> str:
    """Median and 90 % interval of the total as shown, read in one step (never half of an update)."""
    return driver.execute_script(
        "const m = document.getElementById('total-median'), i = document.getElementById('total-interval');"
        "return m && i ? m.textContent + ' ' + i.textContent : '';")


def _selected(driver, card: str, option: str) -> bool:
    return driver.execute_script(
        f"return document.querySelector(\"#choice-{card} input[value='{option}']\").checked")


def _settled(driver) -> bool:
    """No Dash callback is pending (Dash marks the outputs of a running callback as loading) and the URL shows the
    state (the page replaces it once the numbers are painted)."""
    return driver.execute_script("return document.querySelectorAll('[data-dash-is-loading]').length === 0 "
                                 "&& !window.calculatorUrlPending")


def _current(driver) -> str:
    """The total once every callback has finished."""
    return _wait(driver, lambda d: (lambda now: now if now and _settled(d) else None)(_total(d)))


def _changed(driver, before: str) -> str:
    """Wait until the total differs from ``before`` and every callback has finished; return the new total."""
    return _wait(driver, lambda d: (lambda now: now if now and now != before and _settled(d) else None)(_total(d)))


def _choose(driver, card: str, option: str) -> None:
    driver.find_element("xpath", f"//div[@id='choice-{card}']//input[@value='{option}']/ancestor::label").click()


def _type(driver, element_id: str, text: str, enter: bool = True) -> None:
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("id", element_id)
    if box.tag_name == "textarea":  # set it as a paste would (typing a megabyte key by key takes minutes)
        driver.execute_script("""
            const el = arguments[0], text = arguments[1];
            const setter = Object.getOwnPropertyDescriptor(window.HTMLTextAreaElement.prototype, 'value').set;
            setter.call(el, text); el.dispatchEvent(new Event('input', {bubbles: true}));""", box, text)
    else:
        box.clear()
        box.send_keys(text)
    if enter:
        box.send_keys(Keys.ENTER)


def _text(driver, element_id: str) -> str:
    from selenium.common.exceptions import StaleElementReferenceException

    try:
        return driver.find_element("id", element_id).text.strip()
    except StaleElementReferenceException:
        return ""


def test_page_is_served_locally_and_opens_on_the_vision_preset(page):
    assert _selected(page, "ml_training", "mobilenet")
    resources = page.execute_script("return performance.getEntriesByType('resource').map(e => e.name)")
    assert resources and all(r.startswith(page.server.url) for r in resources), resources
    _wait(page, lambda d: "casing=hsl%3A1%3Alower" in d.current_url)  # the state is in the URL
    # the chart: a stacked device bar beside the two reference devices, the whisker and the published total
    names = page.execute_script("return document.getElementById('chart').querySelector('.js-plotly-plot')"
                                ".data.map(t => t.name)")
    assert {"ML training", "Apple Watch Series 7", "total: median, 90 % interval",
            "published method (point)"} <= set(names)


def test_preset_option_custom_and_extra_change_total_chart_and_hotspots(page):
    before = _current(page)
    page.find_element("id", "preset-kws").click()
    kws = _changed(page, before)
    hot_before = page.find_element("id", "hotspots").text
    _choose(page, "casing", "hsl:3")
    casing3 = _changed(page, kws)
    assert float(casing3.split()[0]) > float(kws.split()[0])
    assert page.find_element("id", "hotspots").text != hot_before
    assert "% of the mean" in page.find_element("id", "now-casing").text
    _type(page, "custom-power_supply", "uniform 0.1 0.2")
    custom = _changed(page, casing3)
    assert _selected(page, "power_supply", "custom")
    _type(page, "extra", "solar_cell: 5\n", enter=False)
    page.find_element("id", "extra-add").click()
    extra = _changed(page, custom)
    assert float(extra.split()[0]) == pytest.approx(float(custom.split()[0]) + 5, abs=0.05)
    names = page.execute_script("return document.getElementById('chart').querySelector('.js-plotly-plot')"
                                ".data.map(t => t.name)")
    assert "Solar cell" in names
    # leave a block out
    page.find_element("id", "on-transport").find_element("css selector", "input").click()
    _changed(page, extra)
    _wait(page, lambda d: "transport=" in d.current_url and "off=transport" in d.current_url)


def test_downloaded_experiment_reproduces_the_page(page):
    shown = _current(page)
    sentence = page.find_element("id", "sentence").text
    for old in page.downloads.glob("*.yaml"):
        old.unlink()
    page.find_element("id", "download-button").click()
    path = _wait(page, lambda d: next(iter(page.downloads.glob("*.yaml")), None))
    _wait(page, lambda d: path.stat().st_size > 0 and not list(page.downloads.glob("*.crdownload")))
    res = uf.run(path, sobol=False)
    s = res.summary.loc["total"]
    assert shown == f"{s['median']:.2f} {s['p5']:.2f}-{s['p95']:.2f}"
    top = res.exact["parameter"]["ST"].to_series().idxmax()
    assert top.replace("_", " ") in sentence


@pytest.mark.parametrize("field, text, words", [
    ("custom-casing", "abc", "is not a number"),
    ("custom-casing", "-1", "negative"),
    ("extra", "a: [1, 2", "malformed YAML"),
    ("extra", "a: &a [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n" + "".join(
        f"{c}: &{c} [{', '.join(['*' + p] * 10)}]\n" for p, c in zip("abcdefg", "bcdefgh")), "alias"),
    ("extra", "x: " + "y" * ((1 << 20) + 10), "larger than 1 MiB"),
    ("extra", "solar: {stage: orbit, distribution: {family: fixed, value: 0.1}}", "unknown stage"),
], ids=["non-number", "negative", "malformed-yaml", "alias-bomb", "oversized-yaml", "unknown-stage"])
def test_bad_input_gets_a_message_beside_its_field_and_keeps_the_view(page, field, text, words):
    before, url = _current(page), page.current_url
    message_id = "msg-extra" if field == "extra" else f"msg-{field}"
    _type(page, field, text, enter=field != "extra")
    if field == "extra":
        page.find_element("id", "extra-add").click()
    _wait(page, lambda d: words in _text(d, message_id))
    assert _total(page) == before and page.current_url == url
    # correct it: the message goes, the server still answers
    _type(page, field, "0.1" if field != "extra" else "", enter=field != "extra")
    if field == "extra":
        page.find_element("id", "extra-add").click()
    _wait(page, lambda d: not _text(d, message_id))


def test_load_experiment_and_link_reproduce_a_view(page):
    before = _current(page)
    upload = page.find_element("css selector", "#upload input[type=file]")
    upload.send_keys(str(EXPERIMENTS_DIR / "anomaly_detection.yaml"))
    loaded = _changed(page, before)
    assert "anomaly_detection.yaml" in page.find_element("id", "msg-load").text
    assert _selected(page, "sensing", "hsl:2")
    link = page.current_url
    assert "v=" in link and "data=" in link  # the data version is kept in the link
    page.get("about:blank")
    page.get(link.replace("v=", "v=0.0.1-"))  # made with another version: the page says so
    _wait(page, lambda d: d.find_elements("id", "total-median") and _total(d) == loaded and _settled(d))
    assert "0.0.1-" in _text(page, "msg-version") and "may differ" in _text(page, "msg-version")


def test_screenshot(page):
    before = _current(page)
    page.find_element("id", "preset-kws").click()
    _wait(page, lambda d: _total(d) != before)
    time.sleep(0.3)  # let plotly finish its transition
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000


# ------------------------------------------------------------------------------------------------ issue 25
AB_SCREENSHOT = ROOT / "docs" / "calculator_ab.png"


def _download(driver, pattern: str):
    """The file a download saved (waits until it is complete)."""
    path = _wait(driver, lambda d: next(iter(driver.downloads.glob(pattern)), None))
    _wait(driver, lambda d: path.stat().st_size > 0 and not list(driver.downloads.glob("*.crdownload")))
    return path


def _experiment(state):
    from uncertainty_footprint.app import engine, state as st

    return engine.load(st.experiment_from_state(state)[0], st.SOURCE).with_options("sobol", enabled=False)


def test_named_custom_values_and_a_method_switch(page):
    before = _current(page)
    _type(page, "custom-casing", "lognormal median 0.5 gsd 2")
    custom = _changed(page, before)
    assert _selected(page, "casing", "custom") and not _text(page, "msg-custom-casing")
    page.find_element("xpath", "//div[@id='method-processing']//input[@value='act_die_area']/ancestor::label").click()
    _changed(page, custom)
    assert _text(page, "method-now-processing") == "by ACT die area"
    assert "method.processing=act_die_area" in page.current_url


def test_sources_of_a_card_and_its_assumed_placeholders(page):
    assert _text(page, "flag-use_stage") == "2 assumed"
    page.find_element("css selector", "#src-use_stage summary").click()
    _wait(page, lambda d: "lifetime" in _text(d, "src-use_stage"))
    rows = {r.find_element("css selector", "code").text: r.text
            for r in page.find_elements("css selector", "#src-use_stage tbody tr")}
    assert "yr" in rows["lifetime"] and "assumed" in rows["lifetime"] and "pert(" in rows["lifetime"]
    cite = page.find_element("css selector", "#src-use_stage .cite")
    assert len(cite.get_attribute("title")) > len(cite.text) + 20  # the full reference behind the key


def test_correlations_switch(page):
    before = _current(page)
    page.find_element("id", "preset-kws_correlated").click()
    correlated = _changed(page, before)
    assert "without them" in _text(page, "total-without") and "Shapley" in _text(page, "hotspots-heading")
    page.find_element("css selector", "#correlations input").click()
    _changed(page, correlated)
    assert not page.find_elements("id", "total-without") and "corr=off" in page.current_url
    assert "not used" in _text(page, "corr-note")


def test_two_designs_side_by_side_exports_and_link(page):
    from urllib.parse import urlsplit

    from uncertainty_footprint.app import state as st

    before = _current(page)
    page.find_element("id", "preset-image_classification").click()
    _changed(page, before)
    page.find_element("id", "keep-a").click()
    _wait(page, lambda d: "Design B is design A" in _text(d, "ab") and _settled(d))
    _choose(page, "power_supply", "hsl:1")
    _wait(page, lambda d: _text(d, "ab-diff-median") and _settled(d))
    # the numbers are uf.compare's of the two designs the URL holds (common random numbers)
    link = st.from_link(urlsplit(page.current_url).query)
    assert link.a["choice"]["power_supply"] == "hsl:2" and link.state["choice"]["power_supply"] == "hsl:1"
    comp = uf.compare(_experiment(link.state), _experiment(link.a), samples=link.state["samples"],
                      seed=link.state["seed"], labels=["B", "A"])
    d = comp.differences.loc[("B", "A")]
    assert _text(page, "ab-diff-median") == f"{-d['median']:+.3g}"
    assert float(_text(page, "ab-p-value")) == pytest.approx(d["p_a_lt_b"], abs=5e-4)
    assert _text(page, "ab-a-median") == f"{comp.table.loc['A', 'median']:.2f}"
    assert "Power supply" in page.find_element("id", "ab-decides").text  # what decides the difference
    names = page.execute_script("return document.querySelector('#chart .js-plotly-plot').data[0].x")
    assert [n[:3] for n in names] == ["A: ", "B: "]  # both designs in the chart
    # exports: the comparison as CSV, the chart as PNG and SVG, design A's experiment
    for old in page.downloads.glob("*"):
        old.unlink()
    page.find_element("id", "export-csv").click()
    table = _download(page, "*_vs_A.csv").read_text()
    assert table.startswith("design,name,level") and "\nB - A,total,difference," in table
    page.find_element("id", "export-png").click()
    assert _download(page, "*_chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page.find_element("id", "export-svg").click()
    assert "<svg" in _download(page, "*_chart.svg").read_text()[:500]
    page.find_element("id", "download-a").click()
    assert uf.Experiment.from_yaml(_download(page, "*_A.yaml").read_text()).spec.blocks["power_supply"] == 2
    page.execute_script("window.scrollTo(0, 0); document.querySelector('.left').scrollTop = 0")
    time.sleep(0.3)  # let plotly finish its transition
    page.save_screenshot(str(AB_SCREENSHOT))
    assert AB_SCREENSHOT.stat().st_size > 10_000
    # the page stays in the A/B view for the next tests


def test_text_from_inputs_is_escaped_and_chart_labels_are_not_cut(page):
    """Design B's name (the A/B view is on) is text in the chart, the A/B table and the URL, never HTML."""
    before = _current(page)
    name = '<img src=x onerror="window.__xss=1">Anomaly Detection device'
    _type(page, "name", name)
    compact = "".join(name.split())  # the label is wrapped into lines: compared without spaces
    _wait(page, lambda d: compact in d.execute_script(
        "return Array.from(document.querySelectorAll('#chart .xtick text')).map(t => t.textContent).join('')"
        ".replace(/\\s+/g, '')"))
    assert _current(page) == before
    assert not page.find_elements("css selector", "#chart img, #ab img, #total img")
    assert page.execute_script("return window.__xss === undefined")
    _wait(page, lambda d: name in _text(d, "ab"))
    # every category label lies inside the chart (wrapped, with the margin it needs), none is shortened
    boxes = page.execute_script("""
        const svg = document.querySelector('#chart .main-svg').getBoundingClientRect();
        return Array.from(document.querySelectorAll('#chart .xtick text')).map(t => {
            const b = t.getBoundingClientRect();
            return [t.textContent, b.left >= svg.left - 1 && b.right <= svg.right + 1 && b.bottom <= svg.bottom + 1];
        });""")
    assert boxes and all(inside for _, inside in boxes), boxes
    assert not any("…" in text or "..." in text for text, _ in boxes)


def test_accessibility_no_serious_violation(page):
    """axe-core (from the axe-core-python package, injected into the page: nothing is loaded from other hosts)
    finds no serious or critical violation, with a card's sources open and the A/B view shown."""
    from axe_core_python.selenium import Axe

    assert page.find_elements("id", "ab-diff-median")  # left by the A/B test
    page.find_element("css selector", "#src-casing summary").click()
    page.set_script_timeout(60)
    result = Axe().run(page)
    serious = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3]) for v in result["violations"]
               if v["impact"] in ("serious", "critical")]
    assert not serious, serious
    page.find_element("id", "clear-a").click()
    _wait(page, lambda d: "Keep this device as design A" in _text(d, "ab") and _settled(d))
