"""results.zarr: the same values, CF attributes and provenance as results.nc, written by the tasks where they run
(threads, processes, the workers of a dask.distributed cluster), and kept or replaced as one output of the results
folder."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pandas as pd
import pytest
import xarray as xr

import uncertainty_footprint as uf
from tests.helpers import KWS
from tests.io.test_folder import FAST, cli, one_line, snapshot, temp_folders
from uncertainty_footprint.analysis.sizes import STATS_BLOCK
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.io.folder import MANIFEST
from uncertainty_footprint.io.zarr_store import ZARR_FORMAT, RegionWrite

#: The columns of the summary that stored results give back (the exact moments come from the model).
SUMMARY = ["level", "stage", "mean", "sd", "median", "p2_5", "p5", "p95", "p97_5", "share"]
N = STATS_BLOCK + 1234  # two tasks of one statistics block each, the second ragged
STREAM = dict(samples=N, seed=5, design="mc", sobol=False, figures=False)


def _same_values(zarr_path, nc_path, names=("footprint", "total")) -> None:
    with xr.open_zarr(zarr_path) as z, xr.open_dataset(nc_path) as nc:
        for name in names:
            assert z[name].values.tobytes() == nc[name].values.tobytes(), name
            assert z[name].attrs == nc[name].attrs, name
        assert list(z["sample"].values[:3]) == [0, 1, 2] and z.sizes["sample"] == nc.sizes["sample"]
        assert z.attrs["Conventions"] == nc.attrs["Conventions"] == "CF-1.10"
        for key in ("experiment", "seed", "design", "config_sha256", "model_sha256", "versions", "created_by",
                    "n_samples", "assumed_parameters"):
            assert z.attrs[key] == nc.attrs[key], key
        for name, var in z.variables.items():
            assert var.attrs.get("long_name"), name
        for name in ("component", "stage", "unit", "units_cf"):
            if name in nc.variables:
                assert list(z[name].values) == list(nc[name].values), name


@pytest.fixture(scope="module")
def netcdf_run(tmp_path_factory):
    """The reference: the same run streamed on threads into results.nc, with the inputs."""
    out = tmp_path_factory.mktemp("nc") / "run"
    res = uf.run(KWS, out=out, engine=uf.EngineOptions(stream=True, store="all"), **STREAM)
    return res, out


def test_a_streamed_zarr_run_on_threads_equals_the_netcdf_run(netcdf_run, tmp_path):
    ref, ref_out = netcdf_run
    out = tmp_path / "run"
    res = uf.run(KWS, out=out, engine=uf.EngineOptions(stream=True, store="all", format="zarr"), **STREAM)
    assert (out / "results.zarr").is_dir() and not (out / "results.nc").exists()
    _same_values(out / "results.zarr", ref_out / "results.nc", ("footprint", "total", "inputs"))
    pd.testing.assert_frame_equal(res.summary, ref.summary, check_exact=True)
    assert (out / "summary.csv").read_bytes() == (ref_out / "summary.csv").read_bytes()
    with xr.open_zarr(out / "results.zarr") as z:
        assert z["footprint"].encoding["chunks"][0] == STATS_BLOCK and z["footprint"].encoding["compressors"] in (
            None, ())
        assert res.results["total"].chunks is not None  # the Result reads the store lazily
    assert json.loads((out / "results.zarr" / ".zgroup").read_text())["zarr_format"] == ZARR_FORMAT
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["folders"] == ["results.zarr"]
    assert not any(f.startswith("results.zarr") for f in manifest["files"])
    # the summary computed back from the store (the folder, or the store itself): the run's, bit for bit
    for where in (out, out / "results.zarr"):
        pd.testing.assert_frame_equal(uf.summarize_results(where, task_rows=1), ref.summary[SUMMARY],
                                      check_exact=True)


@pytest.mark.parametrize("where, words", [("missing", "not found"), ("empty", "holds no results.zarr or results.nc"),
                                          ("text.nc", "not readable as results")])
def test_summarize_results_refuses_what_holds_no_results(tmp_path, where, words):
    (tmp_path / "empty").mkdir()
    (tmp_path / "text.nc").write_text("not netCDF\n")
    with pytest.raises(ConfigError, match=words):
        uf.summarize_results(tmp_path / where)
    with pytest.raises(ConfigError, match="allowed: synchronous"):
        uf.summarize_results(tmp_path / "empty", scheduler="gpu")


def test_an_in_memory_zarr_run_equals_its_netcdf_run(tmp_path):
    common = dict(samples=3000, seed=9, design="lhs", sobol=False, figures=False)
    nc = uf.run(KWS, out=tmp_path / "nc", engine=uf.EngineOptions(store="all"), **common)
    z = uf.run(KWS, out=tmp_path / "z", engine=uf.EngineOptions(store="all", format="zarr"), **common)
    _same_values(tmp_path / "z" / "results.zarr", tmp_path / "nc" / "results.nc", ("footprint", "total", "inputs"))
    pd.testing.assert_frame_equal(z.summary, nc.summary, check_exact=True)
    fp = uf.run(KWS, out=tmp_path / "fp", engine=uf.EngineOptions(format="zarr"), **common)
    with xr.open_zarr(tmp_path / "fp" / "results.zarr") as ds:
        assert "inputs" not in ds and ds["footprint"].values.tobytes() == fp.results["footprint"].values.tobytes()


def test_a_bad_format_is_refused():
    with pytest.raises(ConfigError, match="format.*'hdf'.*netcdf, zarr"):
        uf.EngineOptions(format="hdf")
    res = uf.run(KWS, samples=64, sobol=False)
    with pytest.raises(ConfigError, match="format"):
        uf.write_results(res, "unused", format="hdf")


# --------------------------------------------------------------------------------------- the results folder
def test_results_zarr_is_one_output_of_the_results_folder(tmp_path, capsys):
    out = tmp_path / "out"
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST, "--format", "zarr")
    assert rc == 0, err
    (out / "notes.txt").write_text("mine\n")
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST, "--format", "zarr", "--seed", "2")
    assert rc == 0, err
    with xr.open_zarr(out / "results.zarr") as ds:
        assert ds.attrs["seed"] == 2
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST)  # netCDF now: the store of the earlier run is stale
    assert rc == 0, err
    assert not (out / "results.zarr").exists() and (out / "results.nc").is_file()
    assert (out / "notes.txt").read_text() == "mine\n"
    assert json.loads((out / MANIFEST).read_text())["folders"] == []
    assert not temp_folders(tmp_path, out)


def test_a_users_file_put_into_results_zarr_is_never_removed(tmp_path, capsys):
    """results.zarr is replaced as a whole: a rerun is refused while it holds anything a store does not."""
    out = tmp_path / "out"
    assert cli(capsys, "run", KWS, "--out", out, *FAST, "--format", "zarr")[0] == 0
    for where, fmt in (("my_notes.txt", "zarr"), ("footprint/plot.png", "netcdf"), ("analysis", "zarr")):
        mine = out / "results.zarr" / where  # replaced by a Zarr run, removed by a netCDF run
        if where == "analysis":
            mine.mkdir()
        else:
            mine.write_text("mine\n")
        before = snapshot(out)
        rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST, "--format", fmt)
        assert rc == 2
        one_line(err, f"results.zarr/{where}", "move it out of results.zarr first")
        assert snapshot(out) == before and mine.exists()
        if mine.is_dir():
            mine.rmdir()
        else:
            mine.unlink()


def test_a_users_results_zarr_is_never_touched(tmp_path, capsys):
    out = tmp_path / "out"
    assert cli(capsys, "run", KWS, "--out", out, *FAST)[0] == 0
    (out / "results.zarr").mkdir()
    (out / "results.zarr" / "mine.txt").write_text("my own store\n")
    before = snapshot(out)
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST, "--format", "zarr")
    assert rc == 2
    one_line(err, "results.zarr", "did not write", "move it away")
    assert snapshot(out) == before and not temp_folders(tmp_path, out)


def test_a_failing_task_write_leaves_the_previous_results(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert cli(capsys, "run", KWS, "--out", out, *FAST, "--format", "zarr")[0] == 0
    before = snapshot(out)
    real = RegionWrite.__call__

    def full_disk(self, start, stop, footprint, inputs):
        if start > 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), os.path.join(self.path, "footprint"))
        real(self, start, stop, footprint, inputs)

    monkeypatch.setattr(RegionWrite, "__call__", full_disk)
    rc, _, err = cli(capsys, "run", KWS, "--out", out, "--samples", str(N), "--stream", "--format", "zarr",
                     "--no-sobol", "--no-figures", "--quiet")
    assert rc == 1
    line = one_line(err, "results.zarr", "No space left on device", "nothing was changed")
    assert "tmp-" not in line
    assert snapshot(out) == before and not temp_folders(tmp_path, out)


def test_a_worker_that_does_not_see_the_store_gets_one_line_with_the_reason(tmp_path, capsys, monkeypatch):
    """As on a cluster whose workers do not share --out: their writer finds no store (here: tasks in this process
    given another process's writer for a path that does not exist)."""
    from uncertainty_footprint.io.zarr_store import ResultsStore

    monkeypatch.setattr(ResultsStore, "task_writer", lambda self, in_process: RegionWrite(str(tmp_path / "elsewhere")))
    out = tmp_path / "out"
    rc, _, err = cli(capsys, "run", KWS, "--out", out, "--samples", str(N), "--stream", "--format", "zarr",
                     "--no-sobol", "--no-figures", "--quiet")
    assert rc == 1
    one_line(err, "a task does not see the results store", "need --out on a shared file system", "nothing was changed")
    assert not out.exists() and not temp_folders(tmp_path, out) and not (tmp_path / "elsewhere").exists()


# --------------------------------------------------------------------------------------- other processes
@pytest.mark.slow
def test_zarr_written_by_the_workers_of_a_local_cluster_equals_the_netcdf_run(netcdf_run, tmp_path, monkeypatch):
    """A scheduler and a worker process with two threads on 127.0.0.1: the worker's tasks write results.zarr at
    once (no sample passes through this process: a write here would fail), the values are the netCDF run's, and
    statistics of the store are computed from it on the cluster."""
    distributed = pytest.importorskip("dask.distributed")
    ref, ref_out = netcdf_run

    def not_here(self, *args):
        raise AssertionError("a sample was written by the calling process")

    monkeypatch.setattr(RegionWrite, "__call__", not_here)  # in this process only: the workers have their own
    out = tmp_path / "cluster"
    with distributed.LocalCluster(n_workers=1, threads_per_worker=2, processes=True, host="127.0.0.1",
                                  dashboard_address="127.0.0.1:0") as cluster, distributed.Client(cluster) as client:
        res = uf.run(KWS, out=out, engine=uf.EngineOptions(address=cluster.scheduler_address, store="all",
                                                           format="zarr"), **STREAM)
        with xr.open_zarr(out / "results.zarr") as z:
            mean = client.compute(z["total"].mean()).result()
            assert mean == pytest.approx(float(ref.summary.loc["total", "mean"]), rel=1e-12)
        # the summary computed back from the store by the cluster's workers: the run's, bit for bit
        pd.testing.assert_frame_equal(uf.summarize_results(out, address=cluster.scheduler_address),
                                      ref.summary[SUMMARY], check_exact=True)
    monkeypatch.undo()
    _same_values(out / "results.zarr", ref_out / "results.nc", ("footprint", "total", "inputs"))
    pd.testing.assert_frame_equal(res.summary, ref.summary, check_exact=True)


@pytest.mark.slow
def test_zarr_written_by_the_processes_scheduler_equals_the_netcdf_run(netcdf_run, tmp_path):
    _, ref_out = netcdf_run
    out = tmp_path / "processes"
    uf.run(KWS, out=out, engine=uf.EngineOptions(scheduler="processes", format="zarr"), **STREAM)
    _same_values(out / "results.zarr", ref_out / "results.nc")


def test_a_closed_store_refuses_the_writes_of_this_processs_tasks(tmp_path):
    """After the run (or an interrupt of the calling thread), a task of this process that still finishes cannot
    write into the store the results folder's transaction is removing; other processes get a RegionWrite."""
    from uncertainty_footprint.io.zarr_store import ResultsStore

    store = ResultsStore(tmp_path / "results.zarr")
    writer = store.task_writer(in_process=True)
    assert isinstance(store.task_writer(in_process=False), RegionWrite)
    with store:
        pass
    with pytest.raises(FileNotFoundError, match="closed"):
        writer(0, 1, np.zeros((1, 2)), None)
    assert not (tmp_path / "results.zarr").exists()


def test_summarize_results_refuses_values_it_cannot_summarize(tmp_path):
    res = uf.run(KWS, samples=500, seed=1, sobol=False)
    ds = res.results.copy()
    ds["footprint"] = ds["footprint"].where(ds["sample"] != 3)  # a NaN
    with pytest.raises(ConfigError, match="cannot be summarized: 'running statistics need finite"):
        uf.summarize_results(ds)
    fortran = res.results.copy()
    fortran["footprint"] = (fortran["footprint"].dims, np.asfortranarray(fortran["footprint"].values))
    pd.testing.assert_frame_equal(uf.summarize_results(fortran), uf.summarize_results(res.results),
                                  check_exact=True)
