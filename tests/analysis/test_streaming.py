"""Streaming Monte Carlo with dask: identical numbers whatever the scheduler, chunking or cluster."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.helpers import KWS
from uncertainty_footprint.cli import main
from uncertainty_footprint.analysis.streaming import STATS_BLOCK, stream_monte_carlo, summarize_stored
from uncertainty_footprint.io.netcdf import ResultsFile
from uncertainty_footprint.analysis.propagate import run_monte_carlo
from uncertainty_footprint.analysis.running_stats import Moments, RunningStats, histogram, relative_resolution
from uncertainty_footprint.analysis.summary import summarize

N = STATS_BLOCK + 1234  # two statistics blocks, the second ragged: block moments are folded


@pytest.fixture(scope="module")
def model(kws_model):
    return kws_model


@pytest.fixture(scope="module")
def reference(model, tmp_path_factory):
    path = tmp_path_factory.mktemp("ref") / "results.nc"
    res = stream_monte_carlo(model, n=N, design="mc", seed=5, scheduler="synchronous", store="all",
                             sink=ResultsFile(path),
                             task_rows=STATS_BLOCK)
    return res, path


def test_streaming_equals_in_memory_run(model, reference):
    res, path = reference
    ds = run_monte_carlo(model, n=N, design="mc", seed=5)
    with xr.open_dataset(path) as streamed:
        for var in ("footprint", "total", "inputs"):
            np.testing.assert_array_equal(streamed[var].values, ds[var].values)
        assert list(streamed["sample"].values[:3]) == [0, 1, 2]
    exact = summarize(ds)
    np.testing.assert_allclose(res.summary["mean"], exact["mean"], rtol=1e-12)
    np.testing.assert_allclose(res.summary["sd"], exact["sd"], rtol=1e-9)
    for col in ("median", "p2_5", "p5", "p95", "p97_5"):
        np.testing.assert_allclose(res.summary[col], exact[col], rtol=relative_resolution(), atol=1e-12)


@pytest.mark.parametrize("scheduler,task_rows,chunk", [("threads", 2 * STATS_BLOCK, 5000),
                                                        ("processes", STATS_BLOCK, 1 << 16)])
def test_same_numbers_whatever_the_scheduler_and_chunking(model, reference, tmp_path, scheduler, task_rows,
                                                          chunk):
    res, path = reference
    other = stream_monte_carlo(model, n=N, design="mc", seed=5, scheduler=scheduler, store="footprint",
                               sink=ResultsFile(tmp_path / "r.nc"), task_rows=task_rows, chunk_size=chunk)
    pd.testing.assert_frame_equal(other.summary, res.summary, check_exact=True)
    with xr.open_dataset(path) as a, xr.open_dataset(tmp_path / "r.nc") as b:
        assert a["footprint"].values.tobytes() == b["footprint"].values.tobytes()


def test_local_cluster_gives_the_single_process_numbers(model, reference):
    distributed = pytest.importorskip("dask.distributed")
    res, _ = reference
    # in-process workers: the address path; other processes (pickled model and design) are the "processes" case
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address="127.0.0.1:0") as cluster:  # no fixed port
        other = stream_monte_carlo(model, n=N, design="mc", seed=5, address=cluster.scheduler_address,
                                   store="none", task_rows=STATS_BLOCK)
    pd.testing.assert_frame_equal(other.summary, res.summary, check_exact=True)


def test_running_stats_quantiles_and_merging():
    rng = np.random.default_rng(3)
    x = np.column_stack([rng.lognormal(0, 1, 100_000), rng.uniform(0, 5, 100_000), np.zeros(100_000)])
    blocks = [x[:30_000], x[30_000:70_000], x[70_000:]]
    hist = sum(histogram(b) for b in blocks)
    np.testing.assert_array_equal(hist, histogram(x))  # histograms add exactly
    stats = RunningStats.from_blocks([Moments.of(b) for b in blocks], hist)
    np.testing.assert_allclose(stats.mean, x.mean(axis=0), rtol=1e-13)
    np.testing.assert_allclose(stats.std, x.std(axis=0, ddof=1), rtol=1e-12)
    for q in (0.025, 0.5, 0.975):
        np.testing.assert_allclose(stats.quantile(q), np.quantile(x, q, axis=0), rtol=relative_resolution())
    # aliased and constant columns give the counts a full computation gives
    np.testing.assert_array_equal(histogram(x, alias=[0, 1, 2], constant=[False, False, True]), histogram(x))
    with pytest.raises(ValueError, match="non-negative"):
        histogram(-x)


def test_latin_hypercube_streams_with_the_in_memory_numbers(model, tmp_path):
    n = 3000
    res = stream_monte_carlo(model, n=n, design="lhs", seed=5, store="footprint",
                             sink=ResultsFile(tmp_path / "l.nc"),
                             chunk_size=1000)
    ds = run_monte_carlo(model, n=n, design="lhs", seed=5, chunk_size=777)
    with xr.open_dataset(tmp_path / "l.nc") as streamed:
        assert streamed["footprint"].values.tobytes() == ds["footprint"].values.tobytes()
    np.testing.assert_allclose(res.summary["mean"], summarize(ds)["mean"], rtol=1e-12)


def test_cli_streaming_run(tmp_path, capsys):
    out = tmp_path / "big"
    assert main(["run", str(KWS), "--out", str(out), "--samples", "70000", "--design", "mc", "--stream",
                 "--scheduler", "threads", "--no-sobol"]) == 0
    text = capsys.readouterr().out
    assert "streamed" in text and "TOTAL" in text
    with xr.open_dataset(out / "results.nc") as ds:
        assert ds.sizes["sample"] == 70000 and "inputs" not in ds
        assert "histogram" in ds.attrs["summary_quantiles"]
    assert (out / "report.html").exists()
    assert main(["run", str(KWS), "--out", str(tmp_path / "lhs"), "--samples", "1000", "--stream", "--design", "lhs",
                 "--no-sobol", "--no-figures", "--quiet"]) == 0
    with xr.open_dataset(tmp_path / "lhs" / "results.nc") as ds:
        assert ds.attrs["design"] == "lhs" and ds.sizes["sample"] == 1000


class _FailingSink:
    """A sink whose tasks write their rows themselves; the second task's write fails."""

    def __init__(self):
        self.calls = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def create(self, skeleton):
        assert skeleton["sample"].chunks is not None  # the sample numbers stay lazy: no index of n integers

    def task_writer(self, in_process):
        assert in_process  # threads: the tasks run in this process
        return self._write

    def _write(self, start, stop, footprint, inputs):
        self.calls.append(start)
        if start > 0:
            raise OSError(28, "No space left on device", "r.zarr")


def test_a_failed_task_is_raised_once_every_task_of_its_batch_has_ended(model):
    sink = _FailingSink()
    with pytest.raises(OSError, match="No space left"):
        stream_monte_carlo(model, n=N, design="mc", seed=5, scheduler="threads", store="footprint", sink=sink,
                           task_rows=STATS_BLOCK)
    assert sorted(sink.calls) == [0, STATS_BLOCK]


@pytest.mark.parametrize("scheduler,task_rows", [("synchronous", STATS_BLOCK), ("threads", 3 * STATS_BLOCK),
                                                 ("threads", 1)])
def test_the_summary_of_stored_results_is_the_streamed_runs_bit_for_bit(model, reference, scheduler, task_rows):
    """The summary computed back from results.nc, in tasks of any size on any scheduler: the streamed run's."""
    from uncertainty_footprint.io.netcdf import open_results

    res, path = reference
    with open_results(path, task_rows) as ds:
        table = summarize_stored(ds, task_rows=task_rows, scheduler=scheduler)
    pd.testing.assert_frame_equal(table, res.summary, check_exact=True)


def test_the_summary_of_in_memory_results_has_their_moments(model):
    """An in-memory run's summary (exact percentiles) from its own Dataset: the same moments; the histogram's
    percentiles within its resolution plus the gap between neighbouring order statistics."""
    ds = run_monte_carlo(model, n=N, design="lhs", seed=9)
    exact, table = summarize(ds), summarize_stored(ds, task_rows=STATS_BLOCK)
    np.testing.assert_allclose(table[["mean", "sd"]], exact[["mean", "sd"]], rtol=1e-12)
    total = np.sort(ds["total"].values)
    for column, q in (("p5", 0.05), ("median", 0.5), ("p95", 0.95)):
        k = int(q * (N - 1))
        gap = total[k + 1] - total[k]
        assert abs(table.loc["total", column] - exact.loc["total", column]) <= (
            gap + 2 * relative_resolution() * exact.loc["total", column])


def test_a_results_dataset_without_footprints_is_refused(model):
    ds = run_monte_carlo(model, n=100, design="mc", seed=1).drop_vars(["footprint"])
    with pytest.raises(ValueError, match="no per-sample footprints"):
        summarize_stored(ds)
