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
    _wait(driver, lambda d: d.find_elements("id", "total-median"))
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
    """No Dash callback is pending (Dash marks the outputs of a running callback as loading)."""
    return driver.execute_script("return document.querySelectorAll('[data-dash-is-loading]').length === 0")


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
    assert "casing=hsl%3A1%3Alower" in page.current_url  # the state is in the URL
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
    assert "transport=" in page.current_url and "off=transport" in page.current_url


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
    page.get("about:blank")
    page.get(link)
    _wait(page, lambda d: d.find_elements("id", "total-median") and _total(d) == loaded)


def test_screenshot(page):
    before = _current(page)
    page.find_element("id", "preset-kws").click()
    _wait(page, lambda d: _total(d) != before)
    time.sleep(0.3)  # let plotly finish its transition
    SCREENSHOT.parent.mkdir(exist_ok=True)
    page.save_screenshot(str(SCREENSHOT))
    assert SCREENSHOT.stat().st_size > 10_000
