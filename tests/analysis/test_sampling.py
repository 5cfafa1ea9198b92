"""Unit-hypercube designs: bounds, stratification, index addressing and seeding."""

import numpy as np
import pytest
from scipy import stats

from uncertainty_footprint.analysis.designs import DESIGNS, make_design


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_points_in_unit_cube_and_uniform(name):
    d = make_design(name, 4096, 5, 123)
    u = d.points(0, d.n)
    assert u.shape == (4096, 5)
    assert np.all((u >= 0) & (u < 1))
    for j in range(5):
        assert stats.kstest(u[:, j], "uniform").pvalue > 1e-3


def test_lhs_has_one_point_per_stratum():
    n = 1000
    u = make_design("lhs", n, ["a", "b", "c"], 4).points(0, n)
    for j in range(3):
        assert np.array_equal(np.sort(np.floor(u[:, j] * n)), np.arange(n))


def test_sobol_points_are_balanced_for_powers_of_two():
    u = make_design("sobol", 1024, 3, 4).points(0, 1024)
    for j in range(3):  # each of 32 equal bins holds exactly 32 points
        assert np.all(np.bincount(np.floor(u[:, j] * 32).astype(int), minlength=32) == 32)


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_rows_addressed_by_index(name):
    d = make_design(name, 3000, ["p", "q"], 77)
    whole = d.points(0, 3000)
    np.testing.assert_array_equal(d.points(1234, 2000), whole[1234:2000])
    with pytest.raises(IndexError):
        d.points(0, 3001)


def test_columns_are_keyed_by_name_not_position():
    a = make_design("mc", 100, ["x", "y"], 1).points(0, 100)
    b = make_design("mc", 100, ["y", "z", "x"], 1).points(0, 100)
    np.testing.assert_array_equal(a[:, 0], b[:, 2])
    np.testing.assert_array_equal(a[:, 1], b[:, 0])
    assert not np.array_equal(a[:, 0], a[:, 1])


def test_bad_design_arguments():
    with pytest.raises(ValueError, match="unknown design"):
        make_design("halton", 10, 2, 1)
    with pytest.raises(ValueError, match="distinct"):
        make_design("mc", 10, ["a", "a"], 1)
    with pytest.raises(ValueError, match="n >= 1"):
        make_design("mc", 0, 2, 1)
