"""The disk cache of inverse-CDF tables and of distributions' moments: hits and misses, corrupt and foreign
files, an unwritable folder, concurrent writers; the tables' accuracy in the tails against scipy, and the cached
moments against scipy's."""

import hashlib
import json
import math
import multiprocessing
import os

import numpy as np
import pytest
from scipy import stats

from uncertainty_footprint.inputs import distributions as D
from uncertainty_footprint.inputs.cache import (CACHE_ENV, NUMBERS_SUFFIX, cache_dir, cached_arrays, cached_numbers,
                                                entry_path)

KEY = {"what": "test entry", "n": 3}


def _counting_builder(calls):
    def build():
        calls.append(1)
        return {"x": np.arange(5.0), "flags": np.array([True, False])}
    return build


@pytest.fixture
def cache(tmp_path, monkeypatch):
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


def test_cache_folder_follows_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv(CACHE_ENV, str(tmp_path / "a"))
    assert cache_dir() == tmp_path / "a"
    monkeypatch.delenv(CACHE_ENV)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "uncertainty_footprint"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert cache_dir() == tmp_path / "home" / ".cache" / "uncertainty_footprint"


def test_miss_then_hit(cache):
    calls = []
    first = cached_arrays(KEY, _counting_builder(calls))
    path = entry_path(KEY)
    assert calls == [1] and path.parent == cache and path.is_file()
    assert len(path.stem) == 64 and set(path.stem) <= set("0123456789abcdef")
    second = cached_arrays(KEY, _counting_builder(calls))
    assert calls == [1]  # read, not rebuilt
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])
    cached_arrays({**KEY, "n": 4}, _counting_builder(calls))  # another key is another entry
    assert calls == [1, 1] and len(list(cache.iterdir())) == 2


def _folder_in_the_way(path, good):
    path.unlink()
    path.mkdir()


#: Damage any cache file can take, whatever its format: damage name -> ``f(path, good_bytes)``.
ANY_FILE_DAMAGE = {
    "garbage": lambda path, good: path.write_bytes(b"not a cache entry" * 10),
    "truncated": lambda path, good: path.write_bytes(good[: len(good) // 2]),
    "empty": lambda path, good: path.write_bytes(b""),
    "directory": _folder_in_the_way,
}


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "tampered", "directory"])
def test_corrupt_or_foreign_entry_is_rebuilt_and_replaced(cache, damage):
    calls = []
    cached_arrays(KEY, _counting_builder(calls))
    path = entry_path(KEY)
    good = path.read_bytes()
    if damage in ANY_FILE_DAMAGE:
        ANY_FILE_DAMAGE[damage](path, good)
    elif damage == "foreign":  # a valid entry of another key under this name
        other = {"what": "other"}
        cached_arrays(other, _counting_builder(calls))
        os.replace(entry_path(other), path)
    elif damage == "tampered":  # one byte of the data changed: the checksum catches it
        raw = bytearray(good)
        at = raw.find(np.arange(5.0).tobytes()) + 9
        raw[at] ^= 0xFF
        path.write_bytes(bytes(raw))
    arrays = _rebuilt_once(lambda: cached_arrays(KEY, _counting_builder(calls)), calls, damage, path, good, cache)
    np.testing.assert_array_equal(arrays["x"], np.arange(5.0))


def _rebuilt_once(read, calls, damage, path, good, cache):
    """``read()`` of a damaged entry builds it once and (unless a folder is in the way) stores the good entry
    again, which the next read takes; no temporary file is left. Returns what the first read gave."""
    before = len(calls)
    found = read()
    assert len(calls) == before + 1
    if damage != "directory":  # a folder in the way cannot be replaced: the entry is just not cached
        assert path.read_bytes() == good
        read()
        assert len(calls) == before + 1
    assert not [p for p in cache.iterdir() if p.name.endswith(".tmp")]
    return found




def _concurrent_writer(folder: str, barrier) -> None:
    os.environ[CACHE_ENV] = folder
    barrier.wait()
    table = D._InverseTable("pert", 2.5, 3.5)
    table.load()
    assert table(np.array([0.5]))[0] == pytest.approx(stats.beta(2.5, 3.5).ppf(0.5), abs=1e-12)


def test_two_processes_build_the_same_table_at_once(cache):
    ctx = multiprocessing.get_context("fork")
    barrier = ctx.Barrier(2)
    procs = [ctx.Process(target=_concurrent_writer, args=(str(cache), barrier)) for _ in range(2)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(60)
    assert [p.exitcode for p in procs] == [0, 0]
    files = list(cache.iterdir())
    assert len(files) == 1 and not files[0].name.endswith(".tmp")
    calls = []
    table = D._InverseTable("pert", 2.5, 3.5)
    arrays = cached_arrays(table.key(), lambda: calls.append(1) or table.build(), table._valid)
    assert calls == []  # the file the two processes wrote is a valid entry
    fresh = table.build()
    for name in fresh:
        np.testing.assert_array_equal(arrays[name], fresh[name])


def test_cached_table_gives_the_built_tables_bytes(cache):
    u = np.random.default_rng(0).random(20_000)
    built = D._InverseTable("pert", 1.8, 3.2)
    a = built(u)  # builds and stores
    loaded = D._InverseTable("pert", 1.8, 3.2)
    b = loaded(u)  # reads
    assert a.tobytes() == b.tobytes()
    assert len(list(cache.iterdir())) == 1


def test_tables_only_for_sampled_parameters(cache, kws_model):
    """Mapping the design of kws.yaml loads (here: builds and stores) one table per distinct PERT shape of its
    sampled parameters, nothing for the others."""
    ps = kws_model.parameters
    tables = {ps[n].distribution._fast_ppf.table for n in ps.random_names if ps[n].distribution.family == "pert"}
    for table in tables:
        table.arrays = None  # as in a new process
    ps.ppf(np.full((3, len(ps.random_names)), 0.5))
    assert len(list(cache.iterdir())) == len(tables) > 0
    assert all(t.arrays is not None for t in tables)


# PERT shapes: symmetric, skewed, mode at a bound (a = 1 or b = 1), large lambda
TAIL_SHAPES = [(3.0, 3.0), (1.8, 3.2), (4.2, 1.8), (1.0, 5.0), (5.0, 1.0), (1.1, 4.9), (9.0, 5.0)]


@pytest.mark.parametrize("a,b", TAIL_SHAPES)
def test_table_tails_match_scipy_without_falling_back(a, b):
    """Every probability a design can draw, 2**-53 to 1 - 2**-53, within the tolerance of scipy's exact beta
    inverse; the tail tables leave no cell to the slow exact ppf for these shapes."""
    table = D._InverseTable("pert", a, b)
    tails = 2.0 ** -np.arange(53, 8, -0.125)
    u = np.unique(np.concatenate([tails, 1 - tails, np.linspace(0, 1, 50_001)[1:-1]]))
    x = table(u)
    exact = stats.beta(a, b).ppf(u)
    assert np.max(np.abs(x - exact)) <= D.TABLE_TOLERANCE
    arr = table.arrays
    used = np.unique(arr["route"])
    assert D._EXACT not in used
    for end, code in (("lower", D._LOWER), ("upper", D._UPPER)):
        if code in used:
            assert arr[f"{end}_ok"].all()
    assert np.all(np.diff(x) >= 0)
    np.testing.assert_array_equal(table(np.array([0.0, 1.0])), [0.0, 1.0])


@pytest.mark.parametrize("family,a,b", [("pert", a, b) for a, b in TAIL_SHAPES]
                         + [("truncnormal", -1.5, 2.0), ("truncnormal", -0.5, 8.0), ("truncnormal", 0.25, 3.0)])
def test_table_support_is_scipys_standardized_support(family, a, b):
    table = D._InverseTable(family, a, b)
    assert table.support == tuple(table.frozen.support())
    assert all(type(bound) is float for bound in table.support)


# ------------------------------------------------------------------------------------------- entries of numbers
NUMBERS = {"mean": 0.1, "sd": 1 / 3, "low": -math.inf, "high": math.inf, "tiny": 5e-324}


def _counting_numbers(calls):
    def build():
        calls.append(1)
        return dict(NUMBERS)
    return build


def test_numbers_miss_then_hit_keep_every_bit(cache):
    calls = []
    first = cached_numbers(KEY, _counting_numbers(calls))
    path = entry_path(KEY, NUMBERS_SUFFIX)
    assert calls == [1] and path.parent == cache and path.is_file() and path.suffix == ".json"
    second = cached_numbers(KEY, _counting_numbers(calls))
    assert calls == [1]  # read, not rebuilt
    assert first == second == NUMBERS and all(type(v) is float for v in second.values())
    assert entry_path(KEY, NUMBERS_SUFFIX) != entry_path(KEY)  # arrays and numbers of one key do not collide
    cached_numbers({**KEY, "n": 4}, _counting_numbers(calls))
    assert calls == [1, 1] and len(list(cache.iterdir())) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty", "foreign", "tampered", "not numbers",
                                    "directory"])
def test_corrupt_or_foreign_numbers_are_rebuilt_and_replaced(cache, damage):
    calls = []
    cached_numbers(KEY, _counting_numbers(calls))
    path = entry_path(KEY, NUMBERS_SUFFIX)
    good = path.read_bytes()
    entry = json.loads(good)
    if damage in ANY_FILE_DAMAGE:
        ANY_FILE_DAMAGE[damage](path, good)
    elif damage == "foreign":  # a valid entry of another key under this name
        other = {"what": "other"}
        cached_numbers(other, _counting_numbers(calls))
        os.replace(entry_path(other, NUMBERS_SUFFIX), path)
    elif damage == "tampered":  # one number changed: the checksum catches it
        entry["numbers"]["mean"] = 0.2
        path.write_text(json.dumps(entry))
    elif damage == "not numbers":  # a consistent checksum over something that is not a float
        entry["numbers"]["mean"] = "0.1"
        entry["sha256"] = hashlib.sha256(json.dumps(entry["numbers"], sort_keys=True).encode()).hexdigest()
        path.write_text(json.dumps(entry))
    assert _rebuilt_once(lambda: cached_numbers(KEY, _counting_numbers(calls)), calls, damage, path, good,
                         cache) == NUMBERS


#: Both kinds of entry: (cached function, counting builder, the built value's check, a check that refuses it).
ENTRY_KINDS = {
    "arrays": (cached_arrays, _counting_builder, lambda got: np.array_equal(got["x"], np.arange(5.0)),
               lambda a: a["x"].shape == (6,)),
    "numbers": (cached_numbers, _counting_numbers, lambda got: got == NUMBERS, lambda n: "median" in n),
}


@pytest.mark.parametrize("kind", ENTRY_KINDS)
def test_a_check_of_the_caller_refuses_an_entry(cache, kind):
    cached, builder, _, refuse = ENTRY_KINDS[kind]
    calls = []
    cached(KEY, builder(calls))
    cached(KEY, builder(calls), valid=refuse)
    assert len(calls) == 2


@pytest.mark.parametrize("kind", ENTRY_KINDS)
def test_unwritable_cache_folder_means_no_cache(tmp_path, monkeypatch, kind):
    cached, builder, built, _ = ENTRY_KINDS[kind]
    blocker = tmp_path / "file"
    blocker.write_text("a file, not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    calls = []
    for _ in range(2):
        assert built(cached(KEY, builder(calls)))
    assert calls == [1, 1] and blocker.read_text() == "a file, not a folder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["file"]


# ----------------------------------------------------------------------------------- a distribution's moments
SUMMARY_SPECS = [
    {"family": "uniform", "low": 0.1, "high": 0.3},
    {"family": "loguniform", "low": 1e-3, "high": 7.0},
    {"family": "triangular", "low": 1.0, "mode": 1.5, "high": 5.0},
    {"family": "pert", "low": 0.7, "mode": 1.1, "high": 3.3},
    {"family": "pert", "low": 0.0, "mode": 0.0, "high": 1.0, "lambda": 6.0},
    {"family": "normal", "mean": -2.0, "sd": 0.3},
    {"family": "truncnormal", "mean": 1.0, "sd": 2.0, "low": 0.1, "high": 4.0},
    {"family": "lognormal", "median": 0.421, "gsd": 1.88},
]


def _scipys(dist):
    f = dist.frozen
    lo, hi = f.support()
    return (float(f.mean()), float(f.std()), float(f.median()), (float(lo), float(hi)))


def _ours(dist):
    return (dist.mean(), dist.std(), dist.median(), dist.support())


def summary_cache_files():
    return sorted(cache_dir().iterdir())


@pytest.fixture
def summary_cache(cache, monkeypatch):
    """A private cache folder, the in-process summaries forgotten, and the list of scipy computations."""
    calls = []
    compute = D._scipy_summary
    monkeypatch.setattr(D, "_scipy_summary", lambda family, params: calls.append(family) or compute(family, params))
    D._summary_of.cache_clear()
    yield calls
    D._summary_of.cache_clear()


@pytest.mark.parametrize("spec", SUMMARY_SPECS, ids=lambda s: s["family"])
def test_cached_moments_equal_scipys(summary_cache, spec):
    """Computed (a miss) and read back in a new process (the in-process memory cleared): scipy's mean, std,
    median and support, bit for bit; one entry per distribution, shared by equal specs."""
    computed = _ours(D.make_distribution(spec))
    assert summary_cache == [spec["family"]]
    assert [p.suffix for p in summary_cache_files()] == [".json"]
    D._summary_of.cache_clear()
    read = _ours(D.make_distribution(dict(spec)))
    assert summary_cache == [spec["family"]]  # read, not recomputed
    assert repr(computed) == repr(read) == repr(_scipys(D.make_distribution(spec)))


def test_corrupt_moments_entry_is_ignored_and_rebuilt(summary_cache):
    spec = SUMMARY_SPECS[3]
    expected = _ours(D.make_distribution(spec))
    (path,) = summary_cache_files()
    good = path.read_bytes()
    entry = json.loads(good)
    entry["numbers"]["mean"] = 123.0  # a wrong mean with a stale checksum
    path.write_text(json.dumps(entry))
    D._summary_of.cache_clear()
    assert repr(_ours(D.make_distribution(spec))) == repr(expected) == repr(_scipys(D.make_distribution(spec)))
    assert len(summary_cache) == 2 and path.read_bytes() == good  # recomputed and replaced


def test_moments_entry_depends_on_every_parameter_bit(summary_cache):
    """-0.0 and 0.0 are different parameters (different keys); so are neighbouring doubles."""
    base = {"family": "uniform", "low": 0.0, "high": 1.0}
    for spec in (base, {**base, "low": -0.0}, {**base, "high": math.nextafter(1.0, 2.0)}):
        D.make_distribution(spec).support()
    assert len(summary_cache) == 3 and len(summary_cache_files()) == 3
    negative_zero = D.make_distribution({**base, "low": -0.0})
    assert repr(_ours(negative_zero)) == repr(_scipys(negative_zero))
