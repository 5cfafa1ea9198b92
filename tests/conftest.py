"""Shared paths and fixtures of the test suite.

Test modules import the paths (``from conftest import ROOT, KWS``: pytest puts this folder on ``sys.path``) and
request the fixtures by name. The session fixtures are built once for the whole run; treat them as read-only.
"""

from __future__ import annotations

from pathlib import Path

import pytest

#: The repository (the folder holding ``pyproject.toml``).
ROOT = Path(__file__).resolve().parent.parent
#: The package's source folder.
PKG = ROOT / "uncertainty_footprint"
#: The shipped experiments (``experiments/`` links to the package data).
EXPERIMENTS_DIR = ROOT / "experiments"
EXPERIMENTS = sorted(EXPERIMENTS_DIR.glob("*.yaml"))
KWS = EXPERIMENTS_DIR / "kws.yaml"
LOW_CARBON_GRID = EXPERIMENTS_DIR / "kws_low_carbon_grid.yaml"
COIN_CELL = EXPERIMENTS_DIR / "kws_coin_cell.yaml"
IMAGE_CLASSIFICATION = EXPERIMENTS_DIR / "image_classification.yaml"
#: Reference data from the published papers (read-only, beside the repository).
REFERENCE_DIR = ROOT.parent / "shared" / "reference"


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


def copy_data(tmp_path: Path) -> Path:
    """A private copy of the shipped ``distributions/`` under ``tmp_path`` (for tests that break a data file)."""
    import shutil

    from uncertainty_footprint.inputs.catalog import default_data_dir

    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    return data


@pytest.fixture(scope="session")
def catalog():
    """The shipped data catalog."""
    from uncertainty_footprint.inputs.catalog import load_catalog

    return load_catalog()


@pytest.fixture(scope="session")
def kws_model(catalog):
    """The Monte Carlo model of ``experiments/kws.yaml`` (no command-line overrides)."""
    from uncertainty_footprint.inputs.experiment import load_experiment
    from uncertainty_footprint.model.builder import build_model

    return build_model(load_experiment(KWS), catalog)


