"""Unit-hypercube designs: bounds, stratification, index addressing and seeding."""

import numpy as np
import pytest
from scipy import stats

from uncertainty_footprint.analysis.designs import DESIGNS, MC_BLOCK, make_design


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


@pytest.mark.parametrize("n", [1, 2, 7, 1000, 4099, MC_BLOCK + 3001])
def test_lhs_stratified_for_any_n(n):
    """Each of the n strata is hit exactly once per column (n square or not, across MC blocks)."""
    u = make_design("lhs", n, ["a", "b"], 11).points(0, n)
    for j in range(2):
        assert np.array_equal(np.sort(np.floor(u[:, j] * n)), np.arange(n))


def test_lhs_rows_independent_of_chunking_and_seeded():
    n = MC_BLOCK + 5000
    d = make_design("lhs", n, ["x", "y", "z"], 21)
    whole = d.points(0, n)
    parts = np.vstack([p for _, _, p in make_design("lhs", n, ["x", "y", "z"], 21).chunks(7777)])
    assert whole.tobytes() == parts.tobytes()
    assert whole.tobytes() == make_design("lhs", n, ["x", "y", "z"], 21).points(0, n).tobytes()
    other = make_design("lhs", n, ["x", "y", "z"], 22).points(0, n)
    assert not np.array_equal(np.floor(whole * n), np.floor(other * n))
    # keyed by name: a column does not depend on the others
    np.testing.assert_array_equal(make_design("lhs", n, ["q", "y"], 21).points(0, n)[:, 1], whole[:, 1])


def test_lhs_columns_look_independent():
    n = 10_000
    u = make_design("lhs", n, ["a", "b", "c"], 5).points(0, n)
    corr = np.corrcoef(u, rowvar=False)[np.triu_indices(3, 1)]
    assert np.all(np.abs(corr) < 4 / np.sqrt(n))
    for j, k in ((0, 1), (1, 2)):  # joint 10 x 10 cells: chi-square test of independence
        counts = np.histogram2d(u[:, j], u[:, k], bins=10, range=[[0, 1], [0, 1]])[0]
        assert stats.chisquare(counts.ravel()).pvalue > 1e-4
    assert stats.kstest(np.diff(np.sort(u[:, 0])), "expon", args=(0, 1 / n)).statistic < 0.6  # not a lattice


def test_mc_design_is_the_documented_generator_stream():
    """MC column j, block k: ``default_rng(SeedSequence(seed, spawn_key=key(name) + (k,))).random`` (pinned)."""
    import hashlib

    n = MC_BLOCK + 10
    u = make_design("mc", n, ["alpha"], 3).points(MC_BLOCK - 5, n)
    digest = hashlib.sha256(b"alpha").digest()
    key = tuple(int.from_bytes(digest[i:i + 4], "little") for i in (0, 4))
    b0 = np.random.default_rng(np.random.SeedSequence(3, spawn_key=key + (0,))).random(MC_BLOCK)
    b1 = np.random.default_rng(np.random.SeedSequence(3, spawn_key=key + (1,))).random(10)
    np.testing.assert_array_equal(u[:, 0], np.concatenate([b0[-5:], b1]))


@pytest.mark.parametrize("name", sorted(DESIGNS))
def test_fill_writes_the_rows_into_a_reused_buffer(name):
    d = make_design(name, MC_BLOCK + 500, ["p", "q", "r"], 9)
    buf = np.full((MC_BLOCK, 3), np.nan, order="F")
    for start, stop in ((0, MC_BLOCK), (300, MC_BLOCK + 200), (MC_BLOCK, MC_BLOCK + 500)):
        rows = buf[:stop - start]
        assert d.fill(start, stop, rows) is rows
        assert rows.tobytes() == d.points(start, stop).tobytes()
    with pytest.raises(ValueError, match="shape"):
        d.fill(0, 10, np.empty((11, 3)))
    with pytest.raises(ValueError, match="float64"):
        d.fill(0, 10, np.empty((10, 3), dtype=np.float32))
    with pytest.raises(IndexError):
        d.fill(0, d.n + 1, np.empty((d.n + 1, 3)))


def _reference_strata(design, rows: np.ndarray, column: int) -> np.ndarray:
    """The LHS strata as the class docstring defines them, in plain int64 arithmetic with ``%``: the Feistel
    network on Z_A x Z_B with the column's round tables, cycle-walked into [0, n)."""
    a, b, n = design._a, design._b, design.n
    tables = [t.astype(np.int64) for t in design._round_tables()[column]]

    def perm(r):
        hi, lo = r // b, r % b
        for k, t in enumerate(tables):
            hi, lo = lo, (hi + t[lo]) % (a if k % 2 == 0 else b)
        return hi * b + lo

    out = perm(rows.astype(np.int64))
    while np.any(out >= n):
        out = np.where(out >= n, perm(np.where(out >= n, out, 0)), out)
    return out


@pytest.mark.parametrize("n", [7, 1000, 10**7, (1 << 30) - 1, 1 << 30, (1 << 30) + 1, (1 << 31) + 5])
def test_lhs_strata_are_the_defined_permutation_whatever_the_integer_type(n):
    """The rounds run in uint16, int32 or int64 by the size of n (narrower types are faster); the strata are
    those of the definition in int64 on either side of every boundary, and the points lie in them."""
    d = make_design("lhs", n, ["a", "b"], 17)
    rows = np.concatenate([np.arange(min(n, 3000)), np.arange(max(min(n, 3000), n - 3000), n)])
    points = np.vstack([d.points(0, min(n, 3000)), d.points(max(min(n, 3000), n - 3000), n)])
    for j in range(2):
        hi, lo = (x.astype(d._half) for x in np.divmod(rows, d._b))
        strata = d._stratum(hi, lo, d._round_tables()[j])
        np.testing.assert_array_equal(strata, _reference_strata(d, rows, j))
        assert np.all((points[:, j] * n >= strata - 1e-6) & (points[:, j] * n < strata + 1 + 1e-6))
