"""Tests of :mod:`uncertainty_footprint.analysis.sobol` (chunked, SALib-exact Sobol' analysis)."""

import warnings

import numpy as np
import pytest
import xarray as xr
from scipy import stats
from SALib.analyze import sobol as salib_analyze
from SALib.sample import sobol as salib_sample

from tests.oracles import salib_sobol_indices
from uncertainty_footprint.analysis import sobol as sens
from uncertainty_footprint.analysis.sobol import SaltelliDesign, saltelli_base, sobol_indices
from uncertainty_footprint.warnings import ConvergenceWarning

KEYS_1 = ("S1", "S1_conf", "ST", "ST_conf")
KEYS_2 = KEYS_1 + ("S2", "S2_conf")


# ------------------------------------------------------------------------------------------------ models
def ishigami(x, a=7.0, b=0.1):
    return np.sin(x[:, 0]) + a * np.sin(x[:, 1]) ** 2 + b * x[:, 2] ** 4 * np.sin(x[:, 0])


def ishigami_ppf(u):
    return -np.pi + 2.0 * np.pi * u


def ishigami_analytic(a=7.0, b=0.1):
    """Analytic S1, ST and S2[x1, x3] of the Ishigami function on uniform(-pi, pi)^3."""
    v1 = 0.5 * (1 + b * np.pi**4 / 5) ** 2
    v2 = a**2 / 8
    v13 = 8 * b**2 * np.pi**8 / 225
    var = v1 + v2 + v13
    return np.array([v1, v2, 0]) / var, np.array([v1 + v13, v2, v13]) / var, v13 / var


MEANS = np.array([1.0, -2.0, 0.5, 3.0])
SDS = np.array([1.0, 0.5, 2.0, 0.3])
COEFS = np.array([2.0, 1.0, 0.5, 4.0])


def normal_ppf(u):
    return stats.norm(MEANS, SDS).ppf(u)


def additive(x):
    return x @ COEFS


def additive_shares():
    var = COEFS**2 * SDS**2
    return var / var.sum()


def three_outputs(x):
    """Ishigami, a linear model and a constant, as columns."""
    return np.column_stack([ishigami(x), x @ [1.0, 2.0, 0.0], np.full(len(x), 4.2)])


def unit_problem(d, labels=None):
    names = [f"x{i}" for i in range(d)]
    problem = {"num_vars": d, "names": names, "bounds": [[0.0, 1.0]] * d}
    if labels is not None:
        problem["groups"] = list(labels)
    return problem


def quiet_indices(*args, **kwargs):
    """``sobol_indices`` with ConvergenceWarning suppressed (small designs used only for comparisons)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return sobol_indices(*args, **kwargs)


def oracle_indices(*args, **kwargs):
    """The test oracle (the package's design and evaluation, SALib's ``analyze``), warnings suppressed."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return salib_sobol_indices(*args, **kwargs)


# ------------------------------------------------------------------------------------------------ design
@pytest.mark.parametrize("second", [False, True])
@pytest.mark.parametrize("labels", [None, ["g1", "g2", "g1", "g3", "g2"]])
def test_design_blocks_equal_salib_sample(second, labels):
    n, d, seed = 64, 5, 11
    expected = salib_sample.sample(unit_problem(d, labels), n, calc_second_order=second, seed=seed)
    design = SaltelliDesign(n, d, seed=seed, calc_second_order=second, chunk_size=50, groups=labels)
    assert design.n_rows == expected.shape[0]
    pieces = list(design.blocks())
    starts = [rows.start for rows, _ in pieces]
    stops = [rows.stop for rows, _ in pieces]
    assert starts[0] == 0 and stops[-1] == design.n_rows and starts[1:] == stops[:-1]
    assert all((rows.stop - rows.start) % design.step == 0 for rows, _ in pieces)
    for rows, u in pieces:
        np.testing.assert_array_equal(u, expected[rows])


def test_saltelli_base_is_salib_base_sequence():
    a, b = saltelli_base(32, 3, seed=4, calc_second_order=False)
    expected = salib_sample.sample(unit_problem(3), 32, calc_second_order=True, seed=4)
    np.testing.assert_array_equal(a, expected[0::8])
    np.testing.assert_array_equal(b, expected[7::8])
    assert a.shape == b.shape == (32, 3)


def test_chunk_smaller_than_one_base_point():
    design = SaltelliDesign(8, 3, seed=1, calc_second_order=True, chunk_size=1)
    assert design.base_per_chunk == 1
    assert len(list(design.blocks())) == 8


@pytest.mark.parametrize("n_base", [0, 1, 3, 1000, 2.0, True])
def test_n_base_must_be_power_of_two(n_base):
    with pytest.raises(ValueError, match="n_base"):
        sobol_indices(additive, normal_ppf, names=list("abcd"), n_base=n_base, seed=1)


@pytest.mark.parametrize("seed", [0, -1, 1.5, None])
def test_seed_zero_and_non_integers_refused(seed):
    with pytest.raises(ValueError, match="seed"):
        sobol_indices(additive, normal_ppf, names=list("abcd"), n_base=64, seed=seed)


def test_ppf_sees_open_unit_interval():
    seen = []

    def ppf(u):
        seen.append((u.min(), u.max()))
        return normal_ppf(u)

    quiet_indices(additive, ppf, names=list("abcd"), n_base=256, seed=3)
    assert min(lo for lo, _ in seen) > 0 and max(hi for _, hi in seen) < 1


# ------------------------------------------------------------------------------------------------ analytic
def test_additive_normal_model():
    ds = sobol_indices(additive, normal_ppf, names=list("abcd"), n_base=2**13, seed=5)
    shares = additive_shares()
    # Tolerance: 0.02 absolute (several standard errors at this N, the intervals are ~0.01 wide).
    np.testing.assert_allclose(ds.S1.values, shares, atol=0.02)
    np.testing.assert_allclose(ds.ST.values, shares, atol=0.02)
    assert np.all(np.abs(ds.ST.values - shares) <= 2 * ds.ST_conf.values + 1e-3)


def test_product_model():
    mu, s = np.array([2.0, 3.0]), np.array([0.5, 1.0])
    var = mu[0] ** 2 * s[1] ** 2 + mu[1] ** 2 * s[0] ** 2 + s[0] ** 2 * s[1] ** 2
    s1 = np.array([mu[1] ** 2 * s[0] ** 2, mu[0] ** 2 * s[1] ** 2]) / var
    st = s1 + s[0] ** 2 * s[1] ** 2 / var
    ds = sobol_indices(
        lambda x: x[:, 0] * x[:, 1],
        lambda u: stats.norm(mu, s).ppf(u),
        names=["x1", "x2"],
        n_base=2**13,
        seed=9,
    )
    np.testing.assert_allclose(ds.S1.values, s1, atol=0.02)
    np.testing.assert_allclose(ds.ST.values, st, atol=0.02)


def test_ishigami_against_analytic():
    s1, st, s13 = ishigami_analytic()
    np.testing.assert_allclose(s1, [0.3139, 0.4424, 0.0], atol=1e-4)
    np.testing.assert_allclose(st, [0.5576, 0.4424, 0.2437], atol=1e-4)
    ds = sobol_indices(ishigami, ishigami_ppf, names=["x1", "x2", "x3"], n_base=2**14, seed=2)
    np.testing.assert_allclose(ds.S1.values, s1, atol=0.02)
    np.testing.assert_allclose(ds.ST.values, st, atol=0.02)
    assert np.all(np.abs(ds.S1.values - s1) <= 2 * ds.S1_conf.values)
    assert np.all(np.abs(ds.ST.values - st) <= 2 * ds.ST_conf.values)


def test_ishigami_second_order():
    _, _, s13 = ishigami_analytic()
    ds = quiet_indices(
        ishigami, ishigami_ppf, names=["x1", "x2", "x3"], n_base=2**13, seed=2, calc_second_order=True
    )
    s2 = ds.S2.values
    assert s2[0, 2] == pytest.approx(s13, abs=0.05)
    assert abs(s2[0, 1]) < 0.05 and abs(s2[1, 2]) < 0.05
    assert np.isnan(s2[np.tril_indices(3)]).all()
    assert ds.S2.dims == ("parameter", "parameter_2")


# ------------------------------------------------------------------------------------------------ invariants
def test_first_order_below_total_and_sum_below_one():
    ds = sobol_indices(ishigami, ishigami_ppf, names=["x1", "x2", "x3"], n_base=2**13, seed=8)
    assert np.all(ds.S1.values <= ds.ST.values + ds.S1_conf.values + ds.ST_conf.values)
    assert float(ds.S1.sum()) <= 1 + 0.02


@pytest.mark.parametrize("second", [False, True])
def test_constant_output_gives_zero_indices(second):
    ds = sobol_indices(
        lambda x: np.full(len(x), 3.0),
        normal_ppf,
        names=list("abcd"),
        n_base=64,
        seed=1,
        calc_second_order=second,
    )
    for key in KEYS_1:
        np.testing.assert_array_equal(ds[key].values, 0.0)
    if second:
        upper = np.triu_indices(4, 1)
        np.testing.assert_array_equal(ds.S2.values[upper], 0.0)
        np.testing.assert_array_equal(ds.S2_conf.values[upper], 0.0)
    assert ds.attrs["max_conf"] == 0.0


def test_ignored_parameter_has_zero_total_index():
    ds = sobol_indices(
        lambda x: x[:, 0] + 2 * x[:, 1], normal_ppf, names=list("abcd"), n_base=2**12, seed=4
    )
    for name in ("c", "d"):
        assert ds.ST.sel(parameter=name).item() == pytest.approx(0.0, abs=1e-12)
        assert ds.S1.sel(parameter=name).item() == pytest.approx(0.0, abs=1e-12)
        assert ds.ST_conf.sel(parameter=name).item() == pytest.approx(0.0, abs=1e-12)


def test_grouped_additive_model_sums_member_shares():
    groups = {"ad": ["a", "d"], "bc": ["b", "c"]}
    ds = sobol_indices(additive, normal_ppf, names=list("abcd"), n_base=2**13, seed=6, groups=groups)
    shares = additive_shares()
    expected = [shares[0] + shares[3], shares[1] + shares[2]]
    assert list(ds.group.values) == ["ad", "bc"]
    assert list(ds.members.values) == ["a,d", "b,c"]
    assert ds.attrs["grouping"] == "groups"
    np.testing.assert_allclose(ds.S1.values, expected, atol=0.02)
    np.testing.assert_allclose(ds.ST.values, expected, atol=0.02)


def test_groups_are_ordered_like_salib():
    groups = {"late": ["d"], "early": ["b", "a", "c"]}
    ds = quiet_indices(additive, normal_ppf, names=list("abcd"), n_base=64, seed=6, groups=groups)
    assert list(ds.group.values) == ["early", "late"]
    assert list(ds.members.values) == ["a,b,c", "d"]


@pytest.mark.parametrize(
    "groups, match",
    [
        ({"g": ["a", "b", "c"]}, "not in any group"),
        ({"g": ["a", "b", "c"], "h": ["d", "a"]}, "groups"),
        ({"g": ["a", "b", "c", "d", "zz"]}, "unknown"),
        ({"g": ["a", "b", "c", "d"], "h": []}, "no members"),
    ],
)
def test_invalid_groups(groups, match):
    with pytest.raises(ValueError, match=match):
        sobol_indices(additive, normal_ppf, names=list("abcd"), n_base=64, seed=1, groups=groups)


def test_bad_model_outputs_raise():
    with pytest.raises(ValueError, match="non-finite"):
        sobol_indices(
            lambda x: np.where(x[:, 0] > 3, np.inf, 0.0), normal_ppf, names=list("abcd"), n_base=64, seed=1
        )
    with pytest.raises(ValueError, match="evaluate must return"):
        sobol_indices(lambda x: x[:5, 0], normal_ppf, names=list("abcd"), n_base=64, seed=1)


# ------------------------------------------------------------------------------------------------ SALib equality
def salib_reference(model, ppf, d, n, seed, second, labels=None, num_resamples=100):
    """The straightforward SALib path: full sample matrix -> evaluate -> analyze."""
    problem = unit_problem(d, labels)
    u = salib_sample.sample(problem, n, calc_second_order=second, seed=seed)
    y = model(ppf(u))
    return salib_analyze.analyze(problem, y, calc_second_order=second, num_resamples=num_resamples, seed=seed)


def assert_matches(ds, ref, keys, rtol):
    for key in keys:
        np.testing.assert_allclose(ds[key].values, ref[key], rtol=rtol, atol=0, err_msg=key)


CASES = [
    pytest.param(False, None, id="first"),
    pytest.param(True, None, id="second"),
    pytest.param(False, {"g1": ["x0", "x2"], "g2": ["x1"], "g3": ["x3"]}, id="groups"),
    pytest.param(True, {"g1": ["x0", "x2"], "g2": ["x1", "x3"]}, id="groups-second"),
]


def labels_of(groups, names):
    return None if groups is None else [next(g for g, m in groups.items() if n in m) for n in names]


def model4(x):
    return ishigami(x[:, :3]) + 0.3 * x[:, 3] * x[:, 0]


@pytest.mark.parametrize("second, groups", CASES)
def test_chunked_path_equals_straightforward_salib(second, groups):
    names = [f"x{i}" for i in range(4)]
    n, seed = 256, 13
    ref = salib_reference(model4, ishigami_ppf, 4, n, seed, second, labels_of(groups, names))
    keys = KEYS_2 if second else KEYS_1
    kwargs = dict(names=names, n_base=n, seed=seed, calc_second_order=second, groups=groups, chunk_size=100)
    exact = oracle_indices(model4, ishigami_ppf, **kwargs)
    assert_matches(exact, ref, keys, rtol=1e-12)
    fast = quiet_indices(model4, ishigami_ppf, **kwargs)
    assert_matches(fast, ref, keys, rtol=1e-10)


@pytest.mark.parametrize("second, groups", CASES)
def test_vectorized_equals_salib_analyze(second, groups):
    names = [f"x{i}" for i in range(4)]
    kwargs = dict(names=names, n_base=1024, seed=21, calc_second_order=second, groups=groups)
    fast = quiet_indices(model4, ishigami_ppf, **kwargs)
    slow = oracle_indices(model4, ishigami_ppf, **kwargs)
    assert fast.attrs["estimator"] == sens.ESTIMATOR and slow.attrs["estimator"] == "SALib.analyze.sobol.analyze"
    for key in KEYS_2 if second else KEYS_1:
        np.testing.assert_allclose(fast[key].values, slow[key].values, rtol=1e-10, atol=0, err_msg=key)


@pytest.mark.parametrize("second", [False, True])
def test_vectorized_count_matrix_in_pieces(monkeypatch, second):
    """Random outputs, odd resample count, count matrix split into pieces of 3 resamples."""
    k, n = 3, 128
    rows = n * (2 * k + 2 if second else k + 2)
    y = np.random.default_rng(0).lognormal(size=rows)
    ref = salib_analyze.analyze(
        {"num_vars": k, "names": ["a", "b", "c"], "bounds": [[0, 1]] * k},
        y,
        calc_second_order=second,
        num_resamples=37,
        conf_level=0.9,
        seed=3,
    )
    monkeypatch.setattr(sens, "_COUNT_PIECE_BYTES", 3 * 8 * n)
    (res,) = sens._analyze_vectorized(
        y, k, calc_second_order=second, num_resamples=37, conf_level=0.9, seed=3
    )
    for key in KEYS_2 if second else KEYS_1:
        np.testing.assert_allclose(res[key], ref[key], rtol=1e-10, atol=0, err_msg=key)


@pytest.mark.parametrize("second", [False, True])
def test_vectorized_when_only_cross_rows_vary(second):
    """A and B outputs constant, AB/BA outputs not: SALib returns zeros (with a UserWarning); so must we."""
    k, n = 3, 64
    step = 2 * k + 2 if second else k + 2
    y = np.random.default_rng(1).normal(size=(n, step))
    y[:, 0] = y[:, -1] = 2.0
    y = y.ravel()
    problem = {"num_vars": k, "names": ["a", "b", "c"], "bounds": [[0, 1]] * k}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        ref = salib_analyze.analyze(problem, y, calc_second_order=second, num_resamples=20, seed=3)
    (res,) = sens._analyze_vectorized(y, k, calc_second_order=second, num_resamples=20, conf_level=0.95, seed=3)
    for key in KEYS_2 if second else KEYS_1:
        np.testing.assert_array_equal(res[key], ref[key], err_msg=key)


# ------------------------------------------------------------------------------------------------ outputs
@pytest.mark.parametrize("second", [False, True])
def test_multi_output_matches_single_output_runs(second):
    names = ["x1", "x2", "x3"]
    kwargs = dict(names=names, n_base=512, seed=17, calc_second_order=second)
    multi = quiet_indices(three_outputs, ishigami_ppf, output_names=["ish", "lin", "const"], **kwargs)
    assert multi.S1.dims == ("output", "parameter")
    assert list(multi.output.values) == ["ish", "lin", "const"]
    for i, out in enumerate(["ish", "lin", "const"]):
        single = quiet_indices(lambda x, i=i: three_outputs(x)[:, i], ishigami_ppf, **kwargs)
        xr.testing.assert_identical(
            multi.sel(output=out, drop=True).drop_attrs(deep=False), single.drop_attrs(deep=False)
        )
        assert "output" not in single.dims
    np.testing.assert_array_equal(multi.S1.sel(output="const").values, 0.0)


def test_multi_output_default_names_and_salib_estimator():
    kwargs = dict(names=["x1", "x2", "x3"], n_base=256, seed=2)
    fast = quiet_indices(three_outputs, ishigami_ppf, **kwargs)
    slow = oracle_indices(three_outputs, ishigami_ppf, **kwargs)
    assert list(fast.output.values) == ["output_0", "output_1", "output_2"]
    for key in KEYS_1:
        np.testing.assert_allclose(fast[key].values, slow[key].values, rtol=1e-10, atol=0, err_msg=key)


def test_netcdf_round_trip(tmp_path):
    ds = quiet_indices(
        three_outputs,
        ishigami_ppf,
        names=["x1", "x2", "x3"],
        n_base=256,
        seed=2,
        calc_second_order=True,
        groups={"g13": ["x1", "x3"], "g2": ["x2"]},
        output_names=["ish", "lin", "const"],
    )
    path = tmp_path / "s.nc"
    ds.to_netcdf(path)
    with xr.open_dataset(path) as loaded:
        back = loaded.load()
    xr.testing.assert_identical(back, ds)
    for key in ("n_base", "num_resamples", "conf_level", "estimator", "seed", "calc_second_order", "grouping"):
        assert key in back.attrs
    assert back.attrs["calc_second_order"] == 1


# ------------------------------------------------------------------------------------------------ reproducibility
def test_same_seed_gives_identical_bytes_and_chunking_is_irrelevant():
    kwargs = dict(names=["x1", "x2", "x3"], n_base=1024, seed=31, calc_second_order=True)
    first = quiet_indices(ishigami, ishigami_ppf, **kwargs)
    again = quiet_indices(ishigami, ishigami_ppf, **kwargs)
    rechunked = quiet_indices(ishigami, ishigami_ppf, chunk_size=77, **kwargs)
    for key in KEYS_2:
        assert first[key].values.tobytes() == again[key].values.tobytes()
    xr.testing.assert_identical(first, rechunked)
    other = quiet_indices(ishigami, ishigami_ppf, **{**kwargs, "seed": 32})
    assert not np.array_equal(first.S1.values, other.S1.values)


# ------------------------------------------------------------------------------------------------ convergence
def test_small_sample_warns_convergence():
    with pytest.warns(ConvergenceWarning, match="larger base sample"):
        ds = sobol_indices(ishigami, ishigami_ppf, names=["x1", "x2", "x3"], n_base=64, seed=2)
    assert ds.attrs["max_conf"] == pytest.approx(max(ds.S1_conf.max(), ds.ST_conf.max()))
    assert ds.attrs["max_conf"] > 0.05


def test_threshold_is_configurable():
    kwargs = dict(names=list("abcd"), n_base=2**12, seed=5)
    ds = sobol_indices(additive, normal_ppf, **kwargs)  # converged: no warning (warnings are errors here)
    assert ds.attrs["max_conf"] < 0.05
    with pytest.warns(ConvergenceWarning, match="half-width"):
        sobol_indices(additive, normal_ppf, conf_warn_threshold=ds.attrs["max_conf"] / 2, **kwargs)


def test_negative_beyond_interval_warns():
    ds = xr.Dataset(
        {
            "S1": ("parameter", [0.5, -0.2]),
            "S1_conf": ("parameter", [0.01, 0.01]),
            "ST": ("parameter", [0.5, 0.01]),
            "ST_conf": ("parameter", [0.01, 0.01]),
        },
        attrs={"max_conf": 0.01, "n_base": 1024},
    )
    message = sens._convergence_message(ds, 0.05)
    assert "negative" in message and "n_base=4096" in message
    ds["S1"] = ("parameter", [0.5, 0.0])
    assert sens._convergence_message(ds, 0.05) is None
