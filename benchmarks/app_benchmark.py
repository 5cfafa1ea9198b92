"""The web calculator's latency per interaction, driven in a real browser (headless Chromium via Selenium).

Usage::

    python benchmarks/app_benchmark.py [--rounds R] [--out DIR]

The calculator's server runs in a thread of this process (:func:`uncertainty_footprint.app.testing.start_server`);
Chromium clicks through R rounds of interactions (select an option of a card, type a custom value, add an extra
component, switch preset). For each interaction it records

* ``server``: the server time of the callback that recomputes numbers, chart and hotspots (the calculator's own
  timer, :data:`uncertainty_footprint.app.server.TIMINGS`: experiment built and validated, ``uf.run`` with the
  exact indices and the seeded sample, figures built);
* ``page``: wall time in the browser from the click until the new total is on the page (request, server,
  serialisation and rendering).

Target (issue 13): server time <= 200 ms at the 95th percentile. Writes ``app_benchmark.csv`` and
``app_benchmark.md`` into DIR (default ``benchmarks/output/``).
"""

from __future__ import annotations

import argparse
import csv
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _measure import machine_info, markdown_table  # noqa: E402

TARGET_P95 = 0.200  # [s] server time per interaction


def _total(driver) -> str:
    return driver.execute_script(
        "const m = document.getElementById('total-median'), i = document.getElementById('total-interval');"
        "return m && i ? m.textContent + ' ' + i.textContent : '';")


def _settled(driver) -> bool:
    return driver.execute_script("return document.querySelectorAll('[data-dash-is-loading]').length === 0")


def _wait_change(driver, before, timeout=30.0):
    t_end = time.perf_counter() + timeout
    while time.perf_counter() < t_end:
        now = _total(driver)
        if now and now != before and _settled(driver):
            return now
        time.sleep(0.005)
    raise TimeoutError("the page did not update")


def _interactions(driver):
    """(name, action) pairs of one round; every action changes the total."""
    from selenium.webdriver.common.keys import Keys

    def choose(card, option):
        return lambda: driver.find_element(
            "xpath", f"//div[@id='choice-{card}']//input[@value='{option}']/ancestor::label").click()

    def custom(card, text):
        def act():
            box = driver.find_element("id", f"custom-{card}")
            box.send_keys(Keys.CONTROL, "a")
            box.send_keys(text, Keys.ENTER)
        return act

    def extra(text):
        def act():
            box = driver.find_element("id", "extra")
            driver.execute_script("""
                const el = arguments[0];
                const set = Object.getOwnPropertyDescriptor(window.HTMLTextAreaElement.prototype, 'value').set;
                set.call(el, arguments[1]); el.dispatchEvent(new Event('input', {bubbles: true}));""", box, text)
            driver.find_element("id", "extra-add").click()
        return act

    return [("option casing HSL-2", choose("casing", "hsl:2")),
            ("option sensing CMOS 58 mm2", choose("sensing", "hsl:3:upper")),
            ("option use stage inference", choose("use_stage", "inference")),
            ("custom pcb uniform", custom("pcb", "uniform 0.1 0.4")),
            ("extra component", extra("solar_cell: 0.5\n")),
            ("block left out", lambda: driver.find_element("css selector", "#on-transport input").click()),
            ("preset kws", lambda: driver.find_element("id", "preset-kws").click()),
            ("preset vision", lambda: driver.find_element("id", "preset-vision").click())]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parent / "output")
    args = parser.parse_args(argv)

    from uncertainty_footprint.app import server as srv_mod, testing

    if not testing.browser_available():
        print("chromium/chromedriver or selenium missing: apt-get install chromium chromium-driver")
        return 1
    t0 = time.perf_counter()
    live = testing.start_server()
    t_server = time.perf_counter() - t0
    driver = testing.chromium()
    try:
        t1 = time.perf_counter()
        driver.get(live.url)
        _wait_change(driver, "")
        t_page = time.perf_counter() - t1
        rows = []
        for r in range(args.rounds):
            for name, act in _interactions(driver):
                before = _total(driver)
                srv_mod.TIMINGS.clear()
                t = time.perf_counter()
                act()
                _wait_change(driver, before)
                page = time.perf_counter() - t
                server = sum(s for n, s in list(srv_mod.TIMINGS) if n == "compute")
                rows.append({"round": r, "interaction": name, "server_s": server, "page_s": page})
    finally:
        driver.quit()
        live.stop()

    args.out.mkdir(parents=True, exist_ok=True)
    with (args.out / "app_benchmark.csv").open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    server = np.array([r["server_s"] for r in rows])
    page = np.array([r["page_s"] for r in rows])
    table = [["server (numbers, chart, hotspots)", f"{np.percentile(server, 50) * 1e3:.0f}",
              f"{np.percentile(server, 95) * 1e3:.0f}", f"{server.max() * 1e3:.0f}"],
             ["page (click to new total, browser)", f"{np.percentile(page, 50) * 1e3:.0f}",
              f"{np.percentile(page, 95) * 1e3:.0f}", f"{page.max() * 1e3:.0f}"]]
    verdict = "met" if np.percentile(server, 95) <= TARGET_P95 else "NOT met"
    text = "\n".join([
        "# Web calculator latency", "",
        f"{len(rows)} interactions ({args.rounds} rounds of {len(rows) // args.rounds}); server start "
        f"{t_server:.1f} s (warm-up included), first page {t_page:.1f} s.", "",
        markdown_table(["time per interaction", "p50 [ms]", "p95 [ms]", "max [ms]"], table), "",
        f"Target server p95 <= {TARGET_P95 * 1e3:.0f} ms: {verdict}.", "",
        "Machine: " + str(machine_info()), ""])
    (args.out / "app_benchmark.md").write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
