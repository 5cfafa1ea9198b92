"""Driving the calculator in a real browser (the tests in ``tests/app/`` and ``benchmarks/app_benchmark.py``):
the server in a background thread of this process, and headless Chromium from the operating system's packages
(``apt-get install chromium chromium-driver``) through Selenium (the ``test`` extra).
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["LiveServer", "start_server", "chromium", "CHROMIUM", "CHROMEDRIVER", "browser_available"]

CHROMIUM = os.environ.get("UNCERTAINTY_FOOTPRINT_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("UNCERTAINTY_FOOTPRINT_CHROMEDRIVER", "/usr/bin/chromedriver")
#: Chromium flags for a closed network and a machine without a display (without them it stalls on start).
CHROMIUM_FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                  "--disable-features=Translate,OptimizationHints,MediaRouter", "--metrics-recording-only",
                  "--mute-audio", "--hide-scrollbars")


def browser_available() -> bool:
    """Chromium and its driver are installed (and Selenium importable)."""
    try:
        import selenium  # noqa: F401
    except ImportError:
        return False
    return Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()


@dataclass
class LiveServer:
    """A calculator server running in a thread of this process (:func:`start_server`)."""

    url: str
    app: object
    server: object
    thread: threading.Thread

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(timeout=10)


def start_server(host: str = "127.0.0.1", port: int = 0) -> LiveServer:
    """Start the calculator on ``host`` (``port=0``: a free port) in a daemon thread; :meth:`LiveServer.stop`
    ends it."""
    import logging

    from werkzeug.serving import make_server

    from . import create_app

    app = create_app()
    server = make_server(host, port, app.server, threaded=True)
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    thread = threading.Thread(target=server.serve_forever, name="calculator-server", daemon=True)
    thread.start()
    return LiveServer(f"http://{host}:{server.server_port}", app, server, thread)


def chromium(width: int = 1400, height: int = 1000, downloads: str | os.PathLike | None = None):
    """A headless Chromium WebDriver with a fresh profile (removed when the driver quits) and, if given, a
    download folder.

    Returns
    -------
    selenium.webdriver.Chrome
    """
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    profile = tempfile.mkdtemp(prefix="uf-chromium-")
    opts = webdriver.ChromeOptions()
    opts.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.add_argument(f"--window-size={width},{height}")
    if downloads is not None:
        opts.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                               "download.prompt_for_download": False})
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=opts)
    quit_ = driver.quit

    def quit_and_clean():
        try:
            quit_()
        finally:
            shutil.rmtree(profile, ignore_errors=True)

    driver.quit = quit_and_clean
    return driver
