"""Shared paths and fixtures of the test suite.

Test modules import the paths and helpers from :mod:`tests.helpers` (``from tests.helpers import ROOT, KWS``) and
request the fixtures by name; each folder's ``conftest.py`` holds the fixtures its modules share. The session
fixtures are built once for the whole run; treat them as read-only. Slow tests (a real browser, subprocesses,
large runs) carry ``@pytest.mark.slow``: ``python -m pytest -m "not slow"`` leaves them out.
"""

from __future__ import annotations

import pytest

from tests.helpers import KWS


def _private_cache_dir() -> None:
    """Point the package's disk cache (inverse-CDF tables, pint's definitions) at a folder of this session, before
    any test module or doctest imports the package (the unit registry is built at import): tests never touch the
    user's home, and every session starts with an empty cache; the folder is removed at exit."""
    import atexit
    import os
    import shutil
    import tempfile

    from uncertainty_footprint.inputs.cache import CACHE_ENV

    folder = tempfile.mkdtemp(prefix="uncertainty_footprint-test-cache-")
    os.environ[CACHE_ENV] = folder
    atexit.register(shutil.rmtree, folder, ignore_errors=True)


_private_cache_dir()


@pytest.fixture(scope="session")
def catalog():
    """The shipped data catalog."""
    from uncertainty_footprint.inputs.catalog import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def kws_model(catalog):
    """The Monte Carlo model of ``experiments/kws.yaml`` (no command-line overrides)."""
    from uncertainty_footprint.model.experiment import load_experiment
    from uncertainty_footprint.model.builder import build_model

    return build_model(load_experiment(KWS), catalog)


