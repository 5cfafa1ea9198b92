"""The compiled kernels of large runs (inputs.kernels) give the numpy code's doubles, bit for bit.

Every inverse-CDF table of every shipped record and experiment, over probabilities that reach every route of a
table (cubic cells, tail tables, exact cells and the open interval's ends); the Latin hypercube over sample
counts with and without cycle walking and over any rows; and whole runs, in memory and streamed, with and
without the kernels. Without numba the numpy code runs, and asking for the kernels is refused.
"""

import numpy as np
import pytest
import xarray as xr

from tests.helpers import EXPERIMENTS
from uncertainty_footprint.analysis.designs import MC_BLOCK, make_design
from uncertainty_footprint.analysis.propagate import run_monte_carlo, uses_kernels
from uncertainty_footprint.model.experiment import load_experiment as prepare
from uncertainty_footprint.analysis.sizes import COMPILED_MIN
from uncertainty_footprint.analysis.streaming import STATS_BLOCK, stream_monte_carlo
from uncertainty_footprint.io.netcdf import ResultsFile
from uncertainty_footprint.inputs import kernels
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.inputs.distributions import UNIT_EDGE, make_distribution
from uncertainty_footprint.inputs.parameters import open_unit
from uncertainty_footprint.model import builder

pytestmark = pytest.mark.skipif(not kernels.available(), reason="numba cannot be imported here")

TABLE_FAMILIES = ("pert", "truncnormal")


def _table_distributions():
    """Every distribution with an inverse-CDF table: the catalog's records, the HSL quantities as PERT, every
    shipped experiment's parameters, and a few shapes chosen for steep tails."""
    found = {}
    cat = load_catalog()
    dists = [p.distribution for p in cat.parameters.values()]
    dists += [builder._hsl_quantity(item, "pert", "hsl_items.csv").distribution for item in cat.items]
    for path in EXPERIMENTS:
        ps = prepare(path).model.parameters
        dists += [ps[n].distribution for n in ps.random_names]
    dists += [make_distribution(spec) for spec in (
        {"family": "pert", "low": 0.0, "mode": 0.0, "high": 1.0},  # mode at the bound: a singular end
        {"family": "pert", "low": 1.0, "mode": 9.99, "high": 10.0, "lambda": 12.0},
        {"family": "truncnormal", "mean": 0.0, "sd": 1.0, "low": -8.0, "high": 0.5},
        {"family": "truncnormal", "mean": 5.0, "sd": 0.1, "low": 0.0, "high": 100.0})]
    for d in dists:
        if d.family in TABLE_FAMILIES:
            found[d.describe()] = d
    return list(found.values())


TABLES = _table_distributions()


def _probabilities() -> np.ndarray:
    rng = np.random.default_rng(11)
    tails = rng.random(4000) ** 40  # down to far below the first cubic cell
    return open_unit(np.concatenate([
        [0.0, UNIT_EDGE, 2 * UNIT_EDGE, 1e-300, 0.5, 1.0 - UNIT_EDGE, 1.0],
        np.logspace(-16, -1, 400), 1.0 - np.logspace(-16, -1, 400), tails, 1.0 - tails, rng.random(20000)]))


U = _probabilities()


def test_the_collection_has_tables_of_both_families():
    assert {d.family for d in TABLES} == set(TABLE_FAMILIES)
    assert len(TABLES) > 20


@pytest.mark.parametrize("dist", TABLES, ids=lambda d: d.describe())
def test_table_kernel_gives_the_numpy_values(dist):
    expected = dist.ppf(U.copy())
    got = dist.ppf(U.copy(), compiled=True)
    assert got.tobytes() == expected.tobytes(), dist.describe()


def test_table_kernel_on_a_strided_column_and_an_empty_one():
    dist = TABLES[0]
    block = np.asfortranarray(np.column_stack([U, U[::-1]]))
    np.testing.assert_array_equal(dist.ppf(block[:, 1], compiled=True), dist.ppf(U[::-1].copy()))
    c_order = np.ascontiguousarray(block)
    np.testing.assert_array_equal(dist.ppf(c_order[:, 0], compiled=True), dist.ppf(U.copy()))
    assert dist.ppf(np.empty(0), compiled=True).shape == (0,)


def test_other_families_ignore_the_switch():
    for spec in ({"family": "lognormal", "median": 0.4, "gsd": 1.9}, {"family": "uniform", "low": 1, "high": 2},
                 {"family": "triangular", "low": 1, "mode": 2, "high": 5}, {"family": "fixed", "value": 3}):
        d = make_distribution(spec)
        assert d.ppf(U.copy(), compiled=True).tobytes() == d.ppf(U.copy()).tobytes()


# the Feistel permutation: n a square (no cycle walking), n just above a square (much walking), ragged blocks
@pytest.mark.parametrize("n", [1, 2, 3, 7, 1000, 1024 * 1024, 1000 * 1001 + 1, MC_BLOCK + 3001, 10**7])
def test_latin_hypercube_kernel_gives_the_numpy_rows(n):
    columns = ["grid_carbon_intensity", "li_ion_battery_mass", "x"]
    plain = make_design("lhs", n, columns, 20230101)
    compiled = make_design("lhs", n, columns, 20230101, compiled=True)
    m = min(n, 40_000)
    for start in sorted({0, n - m, n // 3}):
        stop = min(n, start + m)
        assert compiled.points(start, stop).tobytes() == plain.points(start, stop).tobytes(), (n, start)


def test_the_compiled_latin_hypercube_is_still_one_point_per_stratum():
    n = 4099
    u = make_design("lhs", n, ["a", "b"], 3, compiled=True).points(0, n)
    for j in range(2):
        assert np.array_equal(np.sort(np.floor(u[:, j] * n)), np.arange(n))


@pytest.fixture(scope="module")
def kws_prepared():
    return prepare(EXPERIMENTS[[p.name for p in EXPERIMENTS].index("kws.yaml")])


@pytest.mark.parametrize("design", ["lhs", "mc"])
def test_a_run_gives_the_same_numbers_with_and_without_the_kernels(kws_prepared, design):
    model = kws_prepared.model
    a = run_monte_carlo(model, n=5000, design=design, seed=3, compiled=False, chunk_size=1500)
    b = run_monte_carlo(model, n=5000, design=design, seed=3, compiled=True, chunk_size=1500)
    for var in ("footprint", "total", "inputs"):
        assert a[var].values.tobytes() == b[var].values.tobytes(), var


def test_a_streamed_run_gives_the_same_numbers_with_and_without_the_kernels(kws_prepared, tmp_path):
    model = kws_prepared.model
    n = STATS_BLOCK + 777
    runs = [stream_monte_carlo(model, n=n, design="lhs", seed=9, scheduler="threads", store="footprint",
                               sink=ResultsFile(tmp_path / f"{flag}.nc"), compiled=flag) for flag in (False, True)]
    assert runs[0].summary.equals(runs[1].summary)
    with xr.open_dataset(tmp_path / "False.nc") as a, xr.open_dataset(tmp_path / "True.nc") as b:
        assert a["footprint"].values.tobytes() == b["footprint"].values.tobytes()


def test_large_runs_use_the_kernels_small_runs_do_not():
    assert uses_kernels(COMPILED_MIN) and not uses_kernels(COMPILED_MIN - 1)
    assert uses_kernels(10, True) and not uses_kernels(10**9, False)


def test_without_numba_the_numpy_code_runs_and_the_kernels_are_refused(monkeypatch):
    monkeypatch.setattr(kernels, "available", lambda: False)
    assert not uses_kernels(10**9)
    with pytest.raises(ValueError, match="numba"):
        uses_kernels(10, True)


def test_a_failing_numba_import_means_no_kernels(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def refuse(name, *args, **kwargs):
        if name == "numba" or name.startswith("numba."):
            raise ImportError("numba is broken here")
        return real_import(name, *args, **kwargs)

    kernels._numba.cache_clear()
    monkeypatch.setattr(builtins, "__import__", refuse)
    try:
        assert not kernels.available()
    finally:
        monkeypatch.undo()
        kernels._numba.cache_clear()
    assert kernels.available()
