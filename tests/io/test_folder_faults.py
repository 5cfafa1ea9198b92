"""A failing environment gets one line and exit status 1, and leaves the previous results intact.

Disk full on a small tmpfs, a read-only mount, permission denied (root without CAP_DAC_OVERRIDE), ``--out`` below a
file, out of memory, a request too large for memory (refused up front), an unexpected exception, and real signals
to a real run: ``kill -9`` (the next run removes the leftover), SIGTERM (exit 143) and Ctrl-C (exit 130).
Cases that need ``mount`` or ``setpriv`` skip cleanly where the machine does not allow them.
"""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest

from tests.helpers import KWS
from tests.io.test_folder import FAST, cli, one_line, snapshot, temp_folders
from uncertainty_footprint.analysis import resources
import uncertainty_footprint as uf
from uncertainty_footprint.cli import DEBUG_ENV
from uncertainty_footprint.io import folder as folder_module

pytestmark = pytest.mark.slow  # fresh processes

BIG_STREAM = ["--samples", "4000000", "--design", "mc", "--stream", "--no-sobol", "--no-figures", "--quiet"]


def _mount(*args: str) -> bool:
    return subprocess.run(["mount", *args], capture_output=True).returncode == 0


@pytest.fixture
def tmpfs(tmp_path):
    """A 5 MiB tmpfs at ``tmp_path/mnt`` (skip if it cannot be mounted)."""
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    if shutil.which("mount") is None or not _mount("-t", "tmpfs", "-o", "size=5m", "tmpfs", str(mnt)):
        pytest.skip("cannot mount a tmpfs here (needs root and mount)")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], capture_output=True)


def _env() -> dict:
    env = {k: v for k, v in os.environ.items() if k not in (DEBUG_ENV, resources.MEMORY_ENV)}
    env["MPLBACKEND"] = "Agg"
    return env


# --------------------------------------------------------------------------------------- disk, mounts, rights
@pytest.mark.parametrize("options", [["--samples", "20000", "--store", "all"],
                                     ["--samples", "400000", "--stream", "--design", "mc"]],
                         ids=["in-memory", "streaming"])
def test_disk_full_leaves_the_previous_results(options, tmpfs, capsys):
    out = tmpfs / "out"
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST)
    assert rc == 0, err
    before = snapshot(out)
    rc, _, err = cli(capsys, "run", KWS, "--out", out, "--no-sobol", "--no-figures", "--quiet", *options)
    assert rc == 1
    words = ["writing", f"at {out}", "No space left on device", "nothing was changed"]
    line = one_line(err, *words, *(["results.nc"] if "--stream" in options else []))
    assert "tmp-" not in line
    assert snapshot(out) == before
    assert not temp_folders(tmpfs, out)
    free = shutil.disk_usage(tmpfs).free
    assert free > 4 * 2**20, f"the half-written file was not removed ({free} bytes free)"


def test_read_only_file_system(tmpfs, capsys):
    out = tmpfs / "out"
    assert cli(capsys, "run", KWS, "--out", out, *FAST)[0] == 0
    before = snapshot(out)
    if not _mount("-o", "remount,ro", str(tmpfs)):
        pytest.skip("cannot remount read-only")
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST)
    assert rc == 1
    one_line(err, "creating the temporary folder", str(tmpfs), "Read-only file system")
    assert snapshot(out) == before
    rc, _, err = cli(capsys, "run", KWS, "--out", tmpfs / "new" / "out", *FAST)
    assert rc == 1
    one_line(err, "creating the output folder", "Read-only file system")
    assert sorted(os.listdir(tmpfs)) == ["out"]


def test_permission_denied(tmp_path, capsys):
    """An earlier results folder whose parent and itself are not writable (root without CAP_DAC_OVERRIDE)."""
    setpriv = shutil.which("setpriv")
    if setpriv is None or os.geteuid() != 0:
        pytest.skip("needs root and setpriv to run without CAP_DAC_OVERRIDE")
    locked = tmp_path / "locked"
    out = locked / "out"
    locked.mkdir()
    assert cli(capsys, "run", KWS, "--out", out, *FAST)[0] == 0
    for p in (locked, out):
        os.chown(p, 65534, 65534)  # nobody: root without CAP_DAC_OVERRIDE may not write there
        os.chmod(p, 0o755)
    before = snapshot(out)
    cmd = [setpriv, "--bounding-set=-dac_override,-dac_read_search,-fowner", sys.executable, "-m",
           "uncertainty_footprint", "run", str(KWS), "--out", str(out), *FAST]
    proc = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=_env(), timeout=120)
    if proc.returncode == 0:
        pytest.skip("dropping CAP_DAC_OVERRIDE had no effect here")
    assert proc.returncode == 1, proc.stderr
    one_line(proc.stderr, "creating the temporary folder", str(out), "Permission denied")
    assert snapshot(out) == before
    assert not temp_folders(locked, out)


def test_out_below_a_file(tmp_path, capsys):
    notes = tmp_path / "notes.txt"
    notes.write_text("mine\n")
    rc, _, err = cli(capsys, "run", KWS, "--out", notes / "results", *FAST)
    assert rc == 1
    one_line(err, "creating the output folder", f"at {notes / 'results'}", "is a file, not a folder")
    assert notes.read_text() == "mine\n" and sorted(os.listdir(tmp_path)) == ["notes.txt"]


def test_standard_output_on_a_full_disk(tmpfs, capsys, monkeypatch):
    with open(tmpfs / "filler", "wb") as f:
        try:
            while True:
                f.write(b"\x00" * 2**20)
                f.flush()
        except OSError as exc:
            assert exc.errno == errno.ENOSPC
    target = open(tmpfs / "kws.yaml", "w", encoding="utf-8")
    monkeypatch.setattr(sys, "stdout", target)
    try:
        rc, _, err = cli(capsys, "example", "kws")
    finally:
        monkeypatch.undo()
        target.close()
    assert rc == 1
    one_line(err, "writing the standard output", "No space left on device")


# --------------------------------------------------------------------------------------- memory
def test_a_sobol_request_too_large_for_memory_is_refused_up_front(tmp_path, capsys):
    rc, out, err = cli(capsys, "run", KWS, "--out", tmp_path / "out", "--sobol-samples", "1073741824", "--quiet")
    assert rc == 2 and out == ""
    one_line(err, f"{KWS}: sobol.samples:", "1073741824 base samples", "TiB", "available", "--sobol-samples",
             "--no-sobol")
    assert os.listdir(tmp_path) == []


def test_an_in_memory_monte_carlo_too_large_is_refused_with_the_option_that_fits(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv(resources.MEMORY_ENV, "400M")  # the evaluation buffers of every thread take ~220 MiB
    rc, _, err = cli(capsys, "run", KWS, "--out", tmp_path / "out", "--samples", "1000000", "--no-sobol", "--quiet")
    assert rc == 2
    line = one_line(err, "sampling.samples:", "1000000 samples in memory", f"${resources.MEMORY_ENV}", "--stream",
                    "at most --samples")
    assert "--design" not in line  # every design streams
    largest = int(line.rsplit("--samples ", 1)[1])
    assert 10_000 < largest < 1_000_000
    assert cli(capsys, "run", KWS, "--out", tmp_path / "out", "--samples", str(largest), "--no-sobol",
               "--no-figures", "--quiet")[0] == 0
    monkeypatch.setenv(resources.MEMORY_ENV, "lots")
    rc, _, err = cli(capsys, "run", KWS, "--out", tmp_path / "x", *FAST)
    assert rc == 2
    one_line(err, resources.MEMORY_ENV, "512M")


def test_the_estimates_bound_what_a_run_holds(catalog):
    """The estimates are upper bounds of the traced peak, and not wildly above it."""
    exp = uf.load_experiment(KWS).with_options("sampling", samples=1 << 15, design="lhs").with_options(
        "sobol", samples=1 << 12, groupings=["parameter"])
    est = resources.estimate_memory(exp.model, exp, streams=False, chunk_size=1 << 12)
    engine = uf.EngineOptions(stream=False, chunk_size=1 << 12)
    tracemalloc.start()
    try:
        uf.run(KWS, samples=1 << 15, design="lhs", sobol={"enabled": False}, engine=engine)
        mc_peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.reset_peak()
        uf.run(KWS, samples=1 << 15, design="lhs", engine=engine, sobol={"samples": 1 << 12, "groupings": ["parameter"]})
        sobol_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert 0.5 * est.monte_carlo < mc_peak < est.monte_carlo
    assert 0.5 * est.sobol < sobol_peak < est.sobol


def test_memory_error_gives_one_line(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert cli(capsys, "run", KWS, "--out", out, *FAST)[0] == 0
    before = snapshot(out)

    def no_memory(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr("uncertainty_footprint.analysis.engine.run_monte_carlo", no_memory)
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST)
    assert rc == 1
    one_line(err, "out of memory at uncertainty_footprint/", "--stream")
    assert snapshot(out) == before and not temp_folders(tmp_path, out)


def test_an_unexpected_exception_gives_one_line_or_the_traceback_for_developers(tmp_path, capsys, monkeypatch):
    def broken(*args, **kwargs):
        raise ValueError("a bug\nover two lines")

    monkeypatch.setattr("uncertainty_footprint.analysis.engine.summarize", broken)
    rc, _, err = cli(capsys, "run", KWS, "--out", tmp_path / "out", *FAST)
    assert rc == 1
    one_line(err, "unexpected ValueError at uncertainty_footprint/", "a bug over two lines", DEBUG_ENV)
    assert os.listdir(tmp_path) == []
    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(ValueError, match="a bug"):
        cli(capsys, "run", KWS, "--out", tmp_path / "out", *FAST)
    assert os.listdir(tmp_path) == []


def test_a_failure_while_moving_into_place_restores_the_previous_results(tmp_path, capsys, monkeypatch):
    out = tmp_path / "out"
    assert cli(capsys, "run", KWS, "--out", out, *FAST, "--seed", "1")[0] == 0
    (out / "notes.txt").write_text("keep\n")
    before = snapshot(out)
    real_replace = os.replace
    calls = []

    def failing_replace(src, dst, *args, **kwargs):
        if Path(dst).parent == out and Path(src).parent.name.startswith(".out.tmp-"):
            calls.append(dst)
            if len(calls) == 2:  # the second new file
                raise OSError(errno.EIO, os.strerror(errno.EIO), str(dst))
        return real_replace(src, dst, *args, **kwargs)

    monkeypatch.setattr(folder_module.os, "replace", failing_replace)
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST, "--seed", "2")
    monkeypatch.undo()
    assert rc == 1 and len(calls) == 2
    one_line(err, "moving the results into place", f"at {out}", os.strerror(errno.EIO))
    assert snapshot(out) == before
    assert not temp_folders(tmp_path, out)


# --------------------------------------------------------------------------------------- signals
@pytest.fixture(scope="module")
def signalled(tmp_path_factory):
    """Three real streaming runs, started together (to share their start-up time); each gets its signal once its
    temporary folder holds results.nc: SIGKILL, SIGTERM and SIGINT (the last into an earlier results folder).

    Returns name -> dict(proc, out, tmp, stderr, before) with ``before`` the snapshot of the earlier results.
    """
    jobs = {}
    for name in ("SIGKILL", "SIGTERM", "SIGINT"):
        base = tmp_path_factory.mktemp(name.lower())
        out = base / "res"
        before = None
        if name == "SIGINT":
            assert main_run(["run", str(KWS), "--out", str(out), *FAST]) == 0
            (out / "notes.txt").write_text("mine\n")
            before = snapshot(out)
        proc = subprocess.Popen([sys.executable, "-m", "uncertainty_footprint", "run", "kws", "--out", str(out),
                                 *BIG_STREAM], cwd=base, env=_env(), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        jobs[name] = {"proc": proc, "out": out, "base": base, "before": before, "tmp": None}
    deadline = time.monotonic() + 120
    try:
        while any(job["tmp"] is None for job in jobs.values()):
            for name, job in jobs.items():
                if job["tmp"] is not None:
                    continue
                proc, out = job["proc"], job["out"]
                for tmp in out.parent.glob(f".{out.name}.tmp-{proc.pid}-*"):
                    if (tmp / "results.nc").is_file():
                        job["tmp"] = tmp
                        proc.send_signal(getattr(signal, name))
                if job["tmp"] is None and proc.poll() is not None:
                    pytest.fail(f"the run ended before writing: {proc.returncode} {proc.stderr.read()}")
            if time.monotonic() > deadline:
                pytest.fail("a run wrote nothing within 120 s")
            time.sleep(0.02)
        for job in jobs.values():
            job["stderr"] = job["proc"].communicate(timeout=60)[1]
    finally:
        for job in jobs.values():
            if job["proc"].poll() is None:
                job["proc"].kill()
                job["proc"].wait()
    return jobs


def main_run(args) -> int:
    from uncertainty_footprint.cli import main

    return main(args)


def test_kill_9_leftover_is_removed_by_the_next_run(signalled, capsys):
    job = signalled["SIGKILL"]
    assert job["proc"].returncode == -signal.SIGKILL
    tmp, out = job["tmp"], job["out"]
    assert tmp.is_dir() and (tmp / "results.nc").is_file(), "kill -9 left nothing to clean"
    assert not out.exists()
    rc, _, err = cli(capsys, "run", KWS, "--out", out, *FAST)
    assert rc == 0, err
    assert not tmp.exists() and not temp_folders(job["base"], out)
    assert (out / "results.nc").is_file()


def test_sigterm_removes_the_temporary_folder(signalled):
    job = signalled["SIGTERM"]
    assert job["proc"].returncode == 143
    one_line(job["stderr"], "terminated by SIGTERM", "unfinished outputs were removed")
    assert not job["tmp"].exists() and not job["out"].exists()
    assert os.listdir(job["base"]) == []


def test_ctrl_c_keeps_the_previous_results(signalled):
    job = signalled["SIGINT"]
    assert job["proc"].returncode == 130
    one_line(job["stderr"], "interrupted (Ctrl-C)", "earlier results are kept")
    assert not job["tmp"].exists() and not temp_folders(job["base"], job["out"])
    assert snapshot(job["out"]) == job["before"]
