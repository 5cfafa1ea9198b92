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


def assert_shapley_near_exact(exact, sampled, *, floor: float, max_half_width: float) -> None:
    """Every estimated Shapley effect of ``sampled`` (a Dataset of the estimator: ``shapley``, ``conf_low``,
    ``conf_high`` over ``group``) within twice its bootstrap half-width (at least ``floor``) of the exact effect in
    ``exact`` (a Dataset of the exact decomposition), no half-width above ``max_half_width`` (an estimator whose
    intervals are wide would pass the first check), and the estimates summing to 1."""
    import numpy as np
    import pandas as pd
    import pytest

    e = exact["shapley"].to_series()
    s = sampled["shapley"].to_series().reindex(e.index)
    half = ((sampled["conf_high"] - sampled["conf_low"]) / 2).to_series().reindex(e.index)
    assert ((s - e).abs() <= np.maximum(2 * half, floor)).all(), pd.DataFrame({"exact": e, "sampled": s, "half": half})
    assert half.max() <= max_half_width, half
    assert s.sum() == pytest.approx(1.0, abs=1e-12)
