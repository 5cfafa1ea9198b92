"""Paths and helpers shared by the tests (``from tests.helpers import KWS, copy_data``)."""

from __future__ import annotations

from pathlib import Path

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


def copy_data(tmp_path: Path) -> Path:
    """A private copy of the shipped ``distributions/`` under ``tmp_path`` (for tests that break a data file)."""
    import shutil

    from uncertainty_footprint.inputs.catalog import default_data_dir

    data = tmp_path / "data"
    shutil.copytree(default_data_dir(), data)
    return data
