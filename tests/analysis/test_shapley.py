"""Shapley effects (``analysis.shapley``): the exact effects of linear Gaussian models, and the random-permutation
estimator of Song, Nelson & Staum (2016) against them (correlated inputs through the Gaussian copula, groups of
inputs) and against the analytic effects of an independent product model; reproducibility bit for bit.

Tolerance of the sampled estimates: each test asserts that the 95 % bootstrap interval is narrow (half-width h
below a bound) and that the exact value lies within 2 h of the estimate. The estimate is a mean over thousands of
independent permutations, so it is close to normal and h is about 1.96 standard errors: a distance of 2 h is
about 3.9 standard errors, which an unbiased estimator exceeds with probability ~1e-4 per effect (the runs are
seeded, so the outcome is fixed; the bound says how lucky the seed had to be, which is not at all).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from scipy import stats

from uncertainty_footprint.inputs.copula import correlation_matrix, pearson_to_spearman
from uncertainty_footprint.analysis.shapley import ShapleyResult, shapley_effects, shapley_linear_gaussian


def _pairs(names, normal):
    """Declared Spearman pairs whose normal-score correlation is ``normal[(a, b)]``."""
    return [[names[a], names[b], float(pearson_to_spearman(r))] for (a, b), r in normal.items()]


def _correlation(d, normal):
    corr = np.eye(d)
    for (a, b), r in normal.items():
        corr[a, b] = corr[b, a] = r
    return corr


def _assert_close(result, exact, max_half_width, output=0):
    estimate, half = result.shapley[:, output], result.half_width[:, output]
    assert np.all(half < max_half_width), half
    assert np.all(np.abs(estimate - exact) <= 2 * half), (estimate, exact, half)
    assert np.all((result.conf_low[:, output] <= estimate) & (estimate <= result.conf_high[:, output]))
    np.testing.assert_allclose(result.shapley.sum(axis=0), 1.0, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------------------------------------
# exact effects
# --------------------------------------------------------------------------------------------------------
@pytest.mark.parametrize("r", [-0.5, 0.0, 0.3, 0.8])
def test_exact_sum_of_three_with_two_correlated(r):
    # Y = X1 + X2 + X3, unit variances, corr(X2, X3) = r: Var(Y) = 3 + 2r; c({2}) = Var(X2 + r X2) = (1 + r)^2,
    # c({2, 3}) = 2 + 2r, so Sh_2 = ((1 + r)^2 + (2 + 2r - (1 + r)^2)) / 2 = 1 + r, the same for X3, and X1 keeps 1
    effects, variance = shapley_linear_gaussian([1.0, 1.0, 1.0], _correlation(3, {(1, 2): r}))
    np.testing.assert_allclose(effects, np.array([1.0, 1.0 + r, 1.0 + r]) / (3.0 + 2.0 * r), rtol=0, atol=1e-14)
    assert variance == pytest.approx(3.0 + 2.0 * r, rel=1e-14)


def test_exact_independent_inputs_get_their_variance_share():
    rng = np.random.default_rng(0)
    beta, var = rng.normal(size=7), rng.uniform(0.1, 3.0, size=7)
    effects, variance = shapley_linear_gaussian(beta, np.diag(var))
    np.testing.assert_allclose(effects, beta**2 * var / np.sum(beta**2 * var), rtol=1e-13)
    assert variance == pytest.approx(np.sum(beta**2 * var), rel=1e-14)
    grouped, _ = shapley_linear_gaussian(beta, np.diag(var), groups=[[0, 3], [1, 2, 6], [4], [5]])
    np.testing.assert_allclose(grouped, [effects[[0, 3]].sum(), effects[[1, 2, 6]].sum(), effects[4], effects[5]],
                               rtol=1e-13)
    assert shapley_linear_gaussian(beta, np.diag(var), groups=[range(7)])[0].tolist() == [1.0]


def test_exact_refuses_what_it_cannot_enumerate():
    with pytest.raises(ValueError, match="between 1 and 16 players"):
        shapley_linear_gaussian(np.ones(17), np.eye(17))
    with pytest.raises(ValueError, match="positive semi-definite"):
        shapley_linear_gaussian([1.0, 1.0], [[1.0, 2.0], [2.0, 1.0]])
    with pytest.raises(ValueError, match="each in exactly one"):
        shapley_linear_gaussian([1.0, 1.0], np.eye(2), groups=[[0], [0]])
    with pytest.raises(ValueError, match="shape"):
        shapley_linear_gaussian([1.0, 1.0], np.eye(3))


# --------------------------------------------------------------------------------------------------------
# the sampled estimator
# --------------------------------------------------------------------------------------------------------
THREE = ("x1", "x2", "x3")


def _sum_model(values):
    return (values["x1"] + values["x2"] + values["x3"])[:, None]


def _standard_normal(name, u):
    return stats.norm.ppf(u)


@pytest.mark.parametrize("common", [True, False], ids=["common", "fresh"])
@pytest.mark.parametrize("r", [-0.5, 0.0, 0.3, 0.8])
def test_sampled_sum_of_three_with_two_correlated(r, common):
    # normal marginals through the copula with normal-score correlation r: X is exactly N(0, R)
    corr = correlation_matrix(THREE, _pairs(THREE, {(1, 2): r}), source="test") if r else None
    result = shapley_effects(_sum_model, _standard_normal, THREE, corr, n_perm=20_000, seed=11,
                             common_random_numbers=common)
    _assert_close(result, np.array([1.0, 1.0 + r, 1.0 + r]) / (3.0 + 2.0 * r), max_half_width=0.015)
    assert result.variance[0] == pytest.approx(3.0 + 2.0 * r, rel=0.05)  # 12 000 plain draws: ~1.3 % s.e.
    assert result.n_var == 12_000 and result.n_evaluations == 12_000 + 20_000 * 2 * 3


FIVE = ("x1", "x2", "x3", "x4", "x5")
BETA = np.array([1.0, -2.0, 0.5, 1.5, 1.0])
SD = np.array([1.0, 0.5, 2.0, 0.8, 1.2])


def test_sampled_five_lognormal_inputs_with_two_correlated_pairs():
    # X_i lognormal with log-sd SD_i: Y = sum beta_i log X_i is linear in the normal scores, so its effects are
    # those of a linear Gaussian model with covariance SD R SD (the copula acts on the normal scores)
    normal = {(0, 1): 0.6, (3, 4): -0.7}
    corr = correlation_matrix(FIVE, _pairs(FIVE, normal), source="test")
    exact, variance = shapley_linear_gaussian(BETA, np.outer(SD, SD) * _correlation(5, normal))
    position = {name: i for i, name in enumerate(FIVE)}

    def model(values):
        return sum(BETA[i] * np.log(values[name]) for name, i in position.items())[:, None]

    def ppf(name, u):
        return stats.lognorm.ppf(u, SD[position[name]])

    result = shapley_effects(model, ppf, FIVE, corr, n_perm=12_000, seed=5)
    _assert_close(result, exact, max_half_width=0.02)
    assert result.variance[0] == pytest.approx(variance, rel=0.05)
    fresh = shapley_effects(model, ppf, FIVE, corr, n_perm=12_000, seed=5, common_random_numbers=False)
    _assert_close(fresh, exact, max_half_width=0.03)


def test_common_random_numbers_leave_an_input_without_influence_near_zero():
    # Y = X1 + 2 X2 of six independent inputs: x3..x6 have no effect. With common draws their increment is 0
    # except as the last player of a permutation (1 in 6, against the separate estimate of Var(Y)); with fresh
    # draws it is noisy wherever they come after x1 or x2. Their intervals are about half as wide with common
    # draws (ratios 1.6-2.6 over 8 seeds), that of x1 narrower too (1.4-1.7; x2, the main input, gains nothing).
    names = tuple(f"x{k}" for k in range(1, 7))

    def model(values):
        return values["x1"] + 2.0 * values["x2"]

    runs = {common: shapley_effects(model, _standard_normal, names, n_perm=4000, seed=8,
                                    common_random_numbers=common) for common in (True, False)}
    exact = np.array([0.2, 0.8, 0.0, 0.0, 0.0, 0.0])
    for result in runs.values():
        _assert_close(result, exact, max_half_width=0.1)
    common, fresh = runs[True].half_width[:, 0], runs[False].half_width[:, 0]
    assert np.all(common[2:] < fresh[2:] / 1.4) and common[0] < fresh[0] / 1.2
    assert "common random numbers" in runs[True].estimator and "fresh draws" in runs[False].estimator


def test_sampled_groups_that_split_a_correlated_block():
    # a block of four correlated inputs (x1, x2, x3, x4) spread over three players, several outputs at once
    normal = {(0, 1): 0.6, (1, 2): 0.5, (0, 3): -0.3}
    corr = correlation_matrix(FIVE, _pairs(FIVE, normal), source="test")
    cov = np.outer(SD, SD) * _correlation(5, normal)
    groups = {"g1": ["x1", "x3"], "g2": ["x2"], "g3": ["x4", "x5"]}
    exact_groups, _ = shapley_linear_gaussian(BETA, cov, groups=[[0, 2], [1], [3, 4]])
    other = np.array([0.0, 1.0, 1.0, 0.0, 2.0])
    exact_other, _ = shapley_linear_gaussian(other, cov, groups=[[0, 2], [1], [3, 4]])

    def model(values):
        x = np.stack([values[name] for name in FIVE])
        return np.stack([BETA @ x, other @ x], axis=1)

    def ppf(name, u):
        return SD[FIVE.index(name)] * stats.norm.ppf(u)

    result = shapley_effects(model, ppf, FIVE, corr, n_perm=20_000, seed=3, groups=groups)
    assert result.players == ("g1", "g2", "g3") and result.members == (("x1", "x3"), ("x2",), ("x4", "x5"))
    assert result.shapley.shape == result.conf_low.shape == (3, 2) and result.variance.shape == (2,)
    _assert_close(result, exact_groups, max_half_width=0.02, output=0)
    _assert_close(result, exact_other, max_half_width=0.02, output=1)


def test_sampled_independent_product_model():
    # Y = X1 X2 + X3, independent uniforms X_i ~ U(a_i, b_i) with means m_i and variances v_i. Sobol'
    # decomposition: V_1 = Var(E[Y | X1]) = Var(m2 X1) = m2^2 v1, V_2 = m1^2 v2, V_12 = Var(X1 X2) - V_1 - V_2
    # = (v1 + m1^2)(v2 + m2^2) - m1^2 m2^2 - m2^2 v1 - m1^2 v2 = v1 v2, V_3 = v3, Var(Y) = the sum. For independent
    # inputs Sh_i = sum over the sets u containing i of V_u / |u| (Owen 2014): the interaction is split equally,
    # Sh_1 = (V_1 + V_12 / 2) / Var(Y), Sh_2 = (V_2 + V_12 / 2) / Var(Y), Sh_3 = V_3 / Var(Y).
    low, high = np.array([0.0, 1.0, 0.0]), np.array([1.0, 3.0, 1.0])
    m, v = (low + high) / 2, (high - low) ** 2 / 12
    parts = np.array([m[1] ** 2 * v[0], m[0] ** 2 * v[1], v[0] * v[1], v[2]])  # V_1, V_2, V_12, V_3
    exact = np.array([parts[0] + parts[2] / 2, parts[1] + parts[2] / 2, parts[3]]) / parts.sum()

    def ppf(name, u):
        k = THREE.index(name)
        return low[k] + (high[k] - low[k]) * u

    result = shapley_effects(lambda x: x["x1"] * x["x2"] + x["x3"], ppf, THREE, n_perm=20_000, seed=1)
    _assert_close(result, exact, max_half_width=0.015)
    assert result.variance[0] == pytest.approx(parts.sum(), rel=0.05)


def test_groups_of_an_additive_independent_model_add_up():
    names = tuple(f"x{k}" for k in range(6))
    scale = np.array([1.0, 2.0, 0.5, 1.5, 1.0, 3.0])
    exact = scale**2 / np.sum(scale**2)  # additive, independent: Sh_i = V_i / Var(Y)
    groups = {"a": ["x0", "x3"], "b": ["x1", "x2", "x4"], "c": ["x5"]}

    def model(values):
        return sum(s * values[n] for s, n in zip(scale, names))

    def ppf(name, u):
        return stats.norm.ppf(u)

    grouped = shapley_effects(model, ppf, names, n_perm=20_000, seed=4, groups=groups)
    single = shapley_effects(model, ppf, names, n_perm=6_000, seed=4)
    np.testing.assert_allclose(grouped.shapley.sum(axis=0), 1.0, rtol=0, atol=1e-12)
    sums = [[exact[[0, 3]].sum()], [exact[[1, 2, 4]].sum()], [exact[5]]]
    _assert_close(grouped, np.ravel(sums), max_half_width=0.015)
    _assert_close(single, exact, max_half_width=0.03)
    by_input = single.shapley[:, 0]
    per_group = np.array([by_input[[0, 3]].sum(), by_input[[1, 2, 4]].sum(), by_input[5]])
    half = np.hypot(grouped.half_width[:, 0], 0.03)
    assert np.all(np.abs(grouped.shapley[:, 0] - per_group) <= 2 * half)


# --------------------------------------------------------------------------------------------------------
# reproducibility, batching, settings
# --------------------------------------------------------------------------------------------------------
def _small_run(**options):
    normal = {(0, 1): 0.6, (1, 2): -0.4, (3, 4): 0.5}
    corr = correlation_matrix(FIVE, _pairs(FIVE, normal), source="test")
    calls = []

    def model(values):
        x = [values[name] for name in FIVE]
        calls.append(len(x[0]))
        # elementwise operations only: a BLAS product (BETA @ x) may round a row differently for another number of
        # rows, and the same bytes for any batch need a model whose rows do not depend on the batch
        linear = BETA[0] * x[0] + BETA[1] * x[1] + BETA[2] * x[2] + BETA[3] * x[3] + BETA[4] * x[4]
        return np.stack([linear, x[0] * x[2] + x[3]], axis=1)

    def ppf(name, u):
        return np.exp(SD[FIVE.index(name)] * stats.norm.ppf(u))

    options = dict(dict(n_perm=301, n_var=1001, seed=9, n_boot=200), **options)
    return shapley_effects(model, ppf, FIVE, corr, **options), calls


def _bytes(result: ShapleyResult) -> list[bytes]:
    return [getattr(result, name).tobytes() for name in ("shapley", "conf_low", "conf_high", "variance")]


def test_the_same_seed_gives_the_same_bytes_whatever_the_batches():
    reference, calls = _small_run()
    assert calls == [1001, 301 * 4 * 3]  # large batches: the plain draws in one call, the permutations in another
    assert _bytes(_small_run()[0]) == _bytes(reference)
    for batch_rows in (1, 7, 12, 100, 4096):
        result, calls = _small_run(batch_rows=batch_rows)
        per_call = max(min(batch_rows, 1001), 12 * min(max(1, batch_rows // 12), 301))  # one permutation: 12 rows
        assert max(calls) == per_call and sum(calls) == reference.n_evaluations
        assert _bytes(result) == _bytes(reference), batch_rows
    grouped = _small_run(groups={"a": ["x1", "x4"], "b": ["x2", "x3", "x5"]})[0]
    assert _bytes(_small_run(groups={"a": ["x1", "x4"], "b": ["x2", "x3", "x5"]}, batch_rows=5)[0]) == _bytes(grouped)
    other = _small_run(seed=10)[0]
    assert not np.array_equal(other.shapley, reference.shapley)
    fresh = _small_run(common_random_numbers=False)[0]
    assert not np.array_equal(fresh.shapley, reference.shapley)
    for batch_rows in (1, 100):
        assert _bytes(_small_run(common_random_numbers=False, batch_rows=batch_rows)[0]) == _bytes(fresh)


def test_the_settings_are_recorded_and_the_result_is_frozen():
    result, _ = _small_run(n_outer=2, n_inner=4, conf_level=0.9)
    assert (result.n_perm, result.n_outer, result.n_inner, result.n_var, result.n_boot) == (301, 2, 4, 1001, 200)
    assert result.common_random_numbers is True
    assert result.conf_level == 0.9 and result.seed == 9 and "Song, Nelson & Staum" in result.estimator
    assert result.n_evaluations == 1001 + 301 * 2 * 4 * 4
    assert result.players == FIVE and result.members == tuple((n,) for n in FIVE)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.seed = 1
    with pytest.raises(ValueError):
        result.shapley[0, 0] = 1.0
    no_boot, _ = _small_run(n_boot=0)
    assert np.all(np.isnan(no_boot.conf_low)) and np.array_equal(no_boot.shapley, _small_run()[0].shapley)


def test_one_player_has_all_the_variance():
    result = shapley_effects(lambda x: x["x1"] * x["x2"], lambda n, u: u, ("x1", "x2"), n_perm=5, seed=0,
                             groups={"all": ["x1", "x2"]})
    assert result.shapley.tolist() == [[1.0]] and result.n_evaluations == result.n_var == 10_000
    assert result.conf_low.tolist() == result.conf_high.tolist() == [[1.0]]


def test_an_output_without_variance_has_no_effects():
    def model(values):
        return np.stack([values["x1"] + values["x2"], np.ones_like(values["x1"])], axis=1)

    result = shapley_effects(model, _identity, ("x1", "x2"), n_perm=50, seed=0)
    assert result.variance[1] == 0.0 and np.all(np.isnan(result.shapley[:, 1]))
    assert np.all(np.isnan(result.conf_low[:, 1])) and np.all(np.isfinite(result.shapley[:, 0]))


def _identity(name, u):
    return u


@pytest.mark.parametrize("options, message", [
    (dict(groups={"a": ["x1"], "b": ["x2"]}), "inputs in no group: x3"),
    (dict(groups={"a": ["x1", "x2"], "b": ["x2", "x3"]}), "'x2' is in more than one group"),
    (dict(groups={"a": ["x1", "x2", "x3", "y"]}), "unknown input 'y'"),
    (dict(groups={"a": THREE, "b": []}), "group 'b' has no inputs"),
    (dict(n_inner=1), "n_inner must be an integer >= 2"),
    (dict(n_perm=0), "n_perm must be an integer >= 1"),
    (dict(seed=-1), "seed must be an integer >= 0"),
    (dict(conf_level=1.0), "conf_level must be in"),
    (dict(model=lambda x: np.ones((3, 2))), r"shape \(10000, k\)"),
    (dict(model=lambda x: np.where(x["x2"] > 0.5, x["x1"], np.inf)), "non-finite"),
    (dict(ppf=lambda n, u: u[:1]), r"ppf\('x1', u\)"),
])
def test_misuse_is_refused(options, message):
    arguments = dict(model=lambda x: x["x1"] + x["x2"] * x["x3"], ppf=_identity, names=THREE, n_perm=10, seed=0)
    arguments.update(options)
    with pytest.raises(ValueError, match=message):
        shapley_effects(**arguments)


def test_correlated_inputs_must_be_analysed():
    corr = correlation_matrix(("x1", "x4"), [["x1", "x4", 0.5]], source="test")
    with pytest.raises(ValueError, match="correlated inputs missing from names: x4"):
        shapley_effects(_sum_model, _identity, THREE, corr, n_perm=10, seed=0)


def test_large_blocks_give_the_same_bytes_without_the_cache(monkeypatch):
    # a block larger than MAX_CACHED_BLOCK computes its conditional factors at every use: the same numbers
    from uncertainty_footprint.analysis import shapley as sh

    normal = {(0, 1): 0.6, (1, 2): 0.3, (3, 4): -0.7}
    corr = correlation_matrix(FIVE, _pairs(FIVE, normal), source="test")
    position = {name: i for i, name in enumerate(FIVE)}

    def model(values):
        return sum(BETA[i] * values[name] for name, i in position.items())[:, None]

    def ppf(name, u):
        return stats.norm.ppf(u)

    cached = shapley_effects(model, ppf, FIVE, corr, n_perm=300, seed=4, n_boot=0)
    monkeypatch.setattr(sh, "MAX_CACHED_BLOCK", 1)
    uncached = shapley_effects(model, ppf, FIVE, corr, n_perm=300, seed=4, n_boot=0)
    assert cached.shapley.tobytes() == uncached.shapley.tobytes()
