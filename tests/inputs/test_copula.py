"""Rank correlations by Gaussian copula (``inputs.copula``): the Spearman to normal-score conversion, the
checks of a ``correlations`` list with their messages, and the transform of a design block: uniform marginals,
the target rank correlation, the same bytes whatever the chunking, untouched independent columns.
"""

from __future__ import annotations

import math
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from scipy import stats

from uncertainty_footprint.inputs.copula import (UNIT_HIGH, UNIT_LOW, CorrelationSpec, achieved_spearman,
                                                   apply_copula, correlation_matrix, pearson_to_spearman,
                                                   spearman_to_pearson)
from uncertainty_footprint.errors import ConfigError

NAMES = ("a", "b", "c", "d", "e")
# four correlated inputs (one negative pair, one input in two pairs) and one independent input
PAIRS = [["a", "b", 0.7], ["c", "a", -0.4], ["d", "b", 0.3]]


def _uniforms(n, d, seed=0):
    return np.asfortranarray(np.random.default_rng(seed).random((n, d)))


def test_spearman_to_pearson_is_2_sin_pi_rho_over_6_elementwise():
    rho = np.array([[-1.0, -0.5, 0.0], [0.3, 0.5, 1.0]])
    r = spearman_to_pearson(rho)
    assert r.shape == rho.shape
    np.testing.assert_allclose(r, 2 * np.sin(np.pi * rho / 6), rtol=0, atol=1e-15)
    assert r[0, 2] == 0.0 and abs(r[0, 0] + 1.0) < 1e-15 and abs(r[1, 2] - 1.0) < 1e-15  # the ends are kept
    assert math.isclose(float(spearman_to_pearson(0.5)), 2 * math.sin(math.pi / 12), rel_tol=1e-15)
    # |r| >= |rho| inside (-1, 1): the normal scores need a slightly stronger correlation than the ranks
    assert np.all(np.abs(r[:, 1:2]) > np.abs(rho[:, 1:2]))
    np.testing.assert_allclose(pearson_to_spearman(r), rho, rtol=0, atol=1e-14)


def test_the_matrices_cover_the_named_inputs_in_design_order():
    spec = correlation_matrix(NAMES, PAIRS, source="exp.yaml")
    assert spec.names == ("a", "b", "c", "d")  # "e" is in no pair; the order is that of NAMES, not of the pairs
    assert spec.pairs == (("a", "b", 0.7), ("c", "a", -0.4), ("d", "b", 0.3))
    expected = np.array([[1.0, 0.7, -0.4, 0.0],
                         [0.7, 1.0, 0.0, 0.3],
                         [-0.4, 0.0, 1.0, 0.0],
                         [0.0, 0.3, 0.0, 1.0]])
    np.testing.assert_array_equal(spec.spearman, expected)
    np.testing.assert_allclose(spec.normal, 2 * np.sin(np.pi * expected / 6), rtol=0, atol=1e-15)
    assert np.all(np.diag(spec.normal) == 1.0)
    np.testing.assert_allclose(spec.cholesky @ spec.cholesky.T, spec.normal, rtol=0, atol=1e-15)
    assert np.all(np.triu(spec.cholesky, 1) == 0)
    for array in (spec.spearman, spec.normal, spec.cholesky):  # immutable
        with pytest.raises(ValueError):
            array[0, 0] = 2.0
    with pytest.raises(AttributeError):
        spec.names = ("x",)
    assert repr(spec).startswith("CorrelationSpec(4 inputs; (a, b, 0.7)")


@pytest.mark.parametrize("pairs", [None, []])
def test_no_pairs_give_an_empty_spec_that_changes_nothing(pairs):
    spec = correlation_matrix(NAMES, pairs, source="exp.yaml")
    assert spec.names == () and spec.normal.shape == (0, 0)
    u = _uniforms(10, 5)
    np.testing.assert_array_equal(apply_copula(u, NAMES, spec), u)


MANY = [f"p{k}" for k in range(12)]


@pytest.mark.parametrize("names, pairs, message", [
    (NAMES, {"a": "b"}, "exp.yaml: correlations: must be a list of [name_a, name_b, rho] items, got {'a': 'b'}"),
    (NAMES, [["a", "b", 0.1], ["a", "b"]],
     "exp.yaml: correlations[1]: must be a list [name_a, name_b, rho] (or a mapping with between, rho, reason, source), got ['a', 'b']"),
    (NAMES, ["a b 0.1"], "exp.yaml: correlations[0]: must be a list [name_a, name_b, rho] (or a mapping with between, rho, reason, source), got 'a b 0.1'"),
    (NAMES, [["a", "z", 0.1]], "exp.yaml: correlations[0]: unknown parameter 'z'; allowed: a, b, c, d, e"),
    (NAMES, [["a", 3, 0.1]], "exp.yaml: correlations[0]: unknown parameter 3; allowed: a, b, c, d, e"),
    (MANY, [["p1", "q", 0.1]],
     "exp.yaml: correlations[0]: unknown parameter 'q'; allowed: p0, p1, p2, p3, p4, p5, p6, p7, p8, p9, ... "
     "(12 in all)"),
    (NAMES, [["b", "b", 0.1]], "exp.yaml: correlations[0]: 'b' cannot be correlated with itself"),
    (NAMES, [["a", "b", 1.0]], "exp.yaml: correlations[0]: rho must be a finite number with -1 < rho < 1, got 1.0"),
    (NAMES, [["a", "b", -1]], "exp.yaml: correlations[0]: rho must be a finite number with -1 < rho < 1, got -1"),
    (NAMES, [["a", "b", float("nan")]],
     "exp.yaml: correlations[0]: rho must be a finite number with -1 < rho < 1, got nan"),
    (NAMES, [["a", "b", "half"]],
     "exp.yaml: correlations[0]: rho must be a finite number with -1 < rho < 1, got 'half'"),
    (NAMES, [["a", "b", 10 ** 400]], "exp.yaml: correlations[0]: rho must be a finite number with -1 < rho < 1, "
                                     "got 100000000000000000...0000000000000000000"),
    (NAMES, [["a", "b", True]],
     "exp.yaml: correlations[0]: rho must be a finite number with -1 < rho < 1, got True"),
    (NAMES, [["a", "b", 0.1], ["c", "d", 0.2], ["b", "a", 0.1]],
     "exp.yaml: correlations[2]: the pair (b, a) is already given in correlations[0]"),
    (NAMES, [["a", "b", 0.1], ["a", "b", 0.2]],
     "exp.yaml: correlations[1]: the pair (a, b) is already given in correlations[0]"),
])
def test_bad_items_are_refused_with_their_index(names, pairs, message):
    with pytest.raises(ConfigError) as info:
        correlation_matrix(names, pairs, source="exp.yaml")
    assert str(info.value) == message


def test_a_matrix_that_is_not_positive_definite_names_the_pairs_that_conflict():
    # a ~ b and b ~ c strongly, a and c opposite: impossible; the independent pair (d, e) is not blamed
    pairs = [["d", "e", 0.5], ["a", "b", 0.9], ["b", "c", 0.9], ["c", "a", -0.9]]
    with pytest.raises(ConfigError) as info:
        correlation_matrix(NAMES, pairs, source="exp.yaml")
    assert str(info.value) == ("exp.yaml: correlations: not positive definite after conversion; the pairs (a, b), "
                               "(b, c), (c, a) conflict")


def test_a_conflict_with_an_undeclared_pair_says_that_it_is_uncorrelated():
    # a ~ b and a ~ c strongly with opposite signs force b and c apart, but b, c is undeclared (rho = 0)
    with pytest.raises(ConfigError) as info:
        correlation_matrix(NAMES, [["a", "b", 0.8], ["a", "c", -0.8], ["d", "e", 0.2]], source="exp.yaml")
    assert str(info.value) == ("exp.yaml: correlations: not positive definite after conversion; the pairs (a, b), "
                               "(a, c) conflict (undeclared pairs are uncorrelated: (b, c))")


def test_a_spearman_matrix_that_is_only_positive_definite_before_conversion_is_refused():
    # four inputs, every pair at rho = -1/3 + 0.003: the Spearman matrix is positive definite (smallest
    # eigenvalue 1 + 3 rho = 0.009), but 2 sin(pi rho / 6) = -0.3379 < -1/3 makes the normal-score one indefinite
    rho = -1 / 3 + 0.003
    names = ("a", "b", "c", "d")
    pairs = [[x, y, rho] for k, x in enumerate(names) for y in names[k + 1:]]
    spearman = np.full((4, 4), rho) + (1 - rho) * np.eye(4)
    assert np.linalg.eigvalsh(spearman)[0] > 0
    with pytest.raises(ConfigError) as info:
        correlation_matrix(names, pairs, source="exp.yaml")
    assert str(info.value) == ("exp.yaml: correlations: not positive definite after conversion; the pairs (a, b), "
                               "(a, c), (a, d), (b, c), (b, d), (c, d) conflict")


def test_the_marginals_stay_uniform_and_the_target_rank_correlation_is_reached():
    spec = correlation_matrix(NAMES, PAIRS, source="exp.yaml")
    u = _uniforms(100_000, 5, seed=1)
    x = apply_copula(u, NAMES, spec)
    assert x.flags.f_contiguous and x is not u
    for j in range(5):  # Kolmogorov-Smirnov against U(0, 1)
        assert stats.kstest(x[:, j], "uniform").pvalue > 0.01
    assert UNIT_LOW <= x.min() and x.max() <= UNIT_HIGH
    achieved = achieved_spearman(x[:, :4])
    # the sampling error of a rank correlation at 1e5 rows is about (1 - rho^2) / sqrt(n) < 0.004
    np.testing.assert_allclose(achieved, spec.spearman, rtol=0, atol=0.02)
    assert abs(achieved_spearman(x[:, [0, 4]])[0, 1]) < 0.02  # e stays independent of a
    assert achieved[0, 2] < -0.35  # the negative pair


def test_rows_do_not_depend_on_the_chunking_and_independent_columns_are_untouched():
    spec = correlation_matrix(NAMES, PAIRS, source="exp.yaml")
    u = _uniforms(20_003, 5, seed=2)
    u[0, 0], u[1, 1], u[2, 2] = 0.0, 1.0, 0.0  # the edges are clipped, not infinite
    whole = apply_copula(u, NAMES, spec)
    assert np.all(np.isfinite(whole)) and UNIT_LOW <= whole.min() and whole.max() <= UNIT_HIGH
    for cut in (1, 8191, 8192, 8193, 12_345):
        parts = np.concatenate([apply_copula(u[:cut], NAMES, spec), apply_copula(u[cut:], NAMES, spec)])
        assert parts.tobytes() == whole.tobytes()
    single = np.concatenate([apply_copula(u[r:r + 1], NAMES, spec) for r in range(0, 200)])
    assert single.tobytes() == whole[:200].tobytes()
    assert whole[:, 4].tobytes() == u[:, 4].tobytes()
    # the columns may come in any order: a column is found by its name
    order = [4, 2, 0, 3, 1]
    shuffled = apply_copula(u[:, order], tuple(NAMES[j] for j in order), spec)
    assert shuffled.tobytes() == np.asfortranarray(whole[:, order]).tobytes()


def test_in_place_and_into_another_array():
    spec = correlation_matrix(NAMES, PAIRS, source="exp.yaml")
    u = _uniforms(1000, 5, seed=3)
    expected = apply_copula(u, NAMES, spec)
    target = np.empty_like(u)
    assert apply_copula(u, NAMES, spec, out=target) is target and target.tobytes() == expected.tobytes()
    copy = u.copy(order="F")
    assert apply_copula(copy, NAMES, spec, out=copy) is copy and copy.tobytes() == expected.tobytes()
    c_order = np.ascontiguousarray(u)
    assert np.array_equal(apply_copula(c_order, NAMES, spec, out=c_order), expected)


def test_misuse_is_refused():
    spec = correlation_matrix(NAMES, PAIRS, source="exp.yaml")
    with pytest.raises(ValueError, match="without a design column: d"):
        apply_copula(_uniforms(4, 4), ("a", "b", "c", "e"), spec)
    with pytest.raises(ValueError, match=r"shape \(n, 4\)"):
        apply_copula(_uniforms(4, 5), ("a", "b", "c", "d"), spec)
    with pytest.raises(ValueError, match="n >= 2"):
        achieved_spearman(np.zeros((1, 3)))
    with pytest.raises(ValueError, match="shape"):
        CorrelationSpec(("a",), (), np.eye(2), np.eye(2), np.eye(2))


def test_achieved_spearman_is_the_correlation_of_the_ranks():
    x = np.array([[1.0, 10.0, 3.0], [2.0, 30.0, 2.0], [3.0, 20.0, 1.0], [4.0, 40.0, 0.0]])
    np.testing.assert_allclose(achieved_spearman(x), stats.spearmanr(x).statistic, rtol=0, atol=1e-15)
    assert achieved_spearman(x[:, :1]).shape == (1, 1)


def test_importing_the_modules_does_not_import_scipy_stats():
    # scipy.stats takes about 0.6 s to import: a run without correlations should not pay for it
    code = ("import sys, uncertainty_footprint.inputs.copula, uncertainty_footprint.analysis.shapley; "
            "print('scipy.stats' in sys.modules)")
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=root)
    assert done.stdout.strip() == "False"
