"""The figures of a run are drawn by forked processes while the tables are written: the same files, the same
failures.

Every run here happens in a fresh child process (``python -c``, calling ``cli.main`` there): a test process may
hold threads left by other tests, which make the figures be drawn inline, and a child lets the tests patch the
plotting functions (the forked drawing processes inherit the patches). Each child records which process drew
each figure, so that a test knows that the parallel path (or the inline one) was really taken. Checked: parallel
and inline runs give byte-identical figures and reports; an error raised in a drawing process (``ENOSPC``,
``EACCES``, a bug) gives the same line and exit status as inline, and leaves nothing; a drawing process killed
(SIGKILL, ``os._exit``) gives one line, exit status 1 and nothing
half-written; Ctrl-C, to the whole process group or to the main process alone, leaves no drawing process behind.
"""

from __future__ import annotations

import contextlib
import errno
import io
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from uncertainty_footprint.reports import drawing as D
from uncertainty_footprint.reports import figures as F

pytestmark = pytest.mark.slow  # fresh processes

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
KWS = ROOT / "experiments" / "kws.yaml"
#: A small run with every figure of the default run (the exact Sobol' indices and the convergence included).
SMALL = ["--samples", "2000", "--quiet"]
FIGURES = ("total_distribution", "component_intervals", "component_intervals_log", "comparison_stacked",
           "sobol_indices", "convergence")
PIDS = "pids.txt"


# ------------------------------------------------------------------------------------------------ in the child
def _record_drawing(pids: Path) -> None:
    """Append the id of the process that draws each figure to ``pids`` (one line per figure)."""
    real = F.figure_files

    def recording(fig):
        with open(pids, "a") as f:
            f.write(f"{os.getpid()}\n")
        return real(fig)

    F.figure_files = recording


@contextlib.contextmanager
def _thread_alive():
    """Another thread runs meanwhile: the figures are drawn in this process."""
    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()


def _cli(*args) -> tuple[int, str]:
    from uncertainty_footprint.cli import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        rc = main([str(a) for a in args])
    return rc, err.getvalue()


def _drawn_by(pids: Path) -> list[int]:
    drawn = [int(line) for line in pids.read_text().split()] if pids.exists() else []
    pids.unlink(missing_ok=True)
    return drawn


def _fault(kind: str, parent: int):
    """A replacement of ``plot_convergence`` that fails as ``kind`` says (a kill only in a drawing process)."""
    real = F.plot_convergence

    def failing(*args, **kwargs):
        if kind in ("ENOSPC", "EACCES"):
            code = getattr(errno, kind)
            raise OSError(code, os.strerror(code))
        if kind == "ValueError":
            raise ValueError("a bug in a figure")
        if os.getpid() != parent:
            if kind == "SIGKILL":
                os.kill(os.getpid(), signal.SIGKILL)
            os._exit(3)
        return real(*args, **kwargs)

    return failing


def _child(argv: list[str]) -> int:
    """Run one scenario in this fresh process; print a JSON line with what happened."""
    scenario, work = argv[0], Path(argv[1])
    pids = work / PIDS
    _record_drawing(pids)
    parent = os.getpid()
    report: dict = {"parent": parent}
    if scenario == "identical":
        report["parallel"] = _cli("run", KWS, "--out", work / "parallel", *SMALL)
        report["parallel_pids"] = _drawn_by(pids)
        with _thread_alive():
            report["inline"] = _cli("run", KWS, "--out", work / "inline", *SMALL)
        report["inline_pids"] = _drawn_by(pids)
    elif scenario in ("ENOSPC", "EACCES", "ValueError", "SIGKILL", "exit"):
        F.plot_convergence = _fault(scenario, parent)
        out = work / "res"
        report["parallel"] = _cli("run", KWS, "--out", out, *SMALL)
        report["parallel_pids"] = _drawn_by(pids)
        report["parallel_left"] = sorted(os.listdir(work))
        if scenario not in ("SIGKILL", "exit"):
            with _thread_alive():
                report["inline"] = _cli("run", KWS, "--out", out, *SMALL)
            report["inline_pids"] = _drawn_by(pids)
            report["inline_left"] = sorted(os.listdir(work))
    elif scenario == "interrupt-self":
        from uncertainty_footprint.io import writers

        real_tables = writers.write_result_files

        def interrupted(*args, **kwargs):  # while the figures are being drawn: Ctrl-C to this process alone
            deadline = time.monotonic() + 120
            while not (pids.exists() and pids.read_text().strip()) and time.monotonic() < deadline:
                time.sleep(0.01)
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(60)
            return real_tables(*args, **kwargs)

        writers.write_result_files = interrupted
    if scenario.startswith("interrupt"):  # interrupt-group: the test sends SIGINT to the process group
        from uncertainty_footprint.cli import main

        return main(["run", str(KWS), "--out", str(work / "res"), *SMALL])  # the handler ends the process
    print(json.dumps(report))
    return 0


def _run_child(scenario: str, work: Path, **popen) -> subprocess.Popen:
    """Start the child; its output goes to temporary files (``proc.output()`` reads them once it has ended), not
    to pipes, which a drawing process left behind would hold open."""
    import tempfile

    work.mkdir(parents=True, exist_ok=True)
    code = (f"import sys; sys.path[:0] = [{str(ROOT)!r}]; import tests.reports.test_drawing as t; "
            "sys.exit(t._child(sys.argv[1:]))")
    env = dict(os.environ, MPLBACKEND="Agg")
    env.pop("UNCERTAINTY_FOOTPRINT_DEBUG", None)
    out, err = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    proc = subprocess.Popen([sys.executable, "-c", code, scenario, str(work)], cwd=work, env=env, stdout=out,
                            stderr=err, text=True, **popen)

    def output(timeout: float = 300) -> tuple[str, str]:
        try:
            proc.wait(timeout=timeout)
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        texts = []
        for f in (out, err):
            f.seek(0)
            texts.append(f.read())
            f.close()
        return texts[0], texts[1]

    proc.output = output
    return proc


def _child_report(scenario: str, work: Path) -> dict:
    proc = _run_child(scenario, work)
    out, err = proc.output()
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.strip().splitlines()[-1])


def _gone(pids, timeout: float = 30.0) -> list[int]:
    """The processes of ``pids`` still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = set(pids)
    while alive and time.monotonic() < deadline:
        for pid in list(alive):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                alive.discard(pid)
        time.sleep(0.05)
    return sorted(alive)


def _one_line(err: str) -> str:
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, repr(err)
    return err.strip()


# ------------------------------------------------------------------------------------------------ tests
def test_parallel_and_inline_give_the_same_files(tmp_path):
    report = _child_report("identical", tmp_path)
    assert report["parallel"][0] == report["inline"][0] == 0
    assert report["parallel"][1] == report["inline"][1] and "error" not in report["parallel"][1]  # the warnings
    parallel, inline = report["parallel_pids"], report["inline_pids"]
    assert len(parallel) == len(inline) == len(FIGURES)
    assert report["parent"] not in parallel and len(set(parallel)) >= 2  # drawn by two processes or more
    assert set(inline) == {report["parent"]}  # a thread was alive: drawn in the process itself
    a, b = tmp_path / "parallel", tmp_path / "inline"
    names = sorted(p.name for p in (a / "figures").iterdir())
    assert names == sorted(f"{n}.{ext}" for n in FIGURES for ext in ("png", "pdf"))
    assert names == sorted(p.name for p in (b / "figures").iterdir())
    for name in names:
        assert (a / "figures" / name).read_bytes() == (b / "figures" / name).read_bytes(), name
    for name in ("report.md", "report.html", "table.tex", "summary.csv", "exact.csv", "results.nc", "exact.nc"):
        assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _gone(parallel) == []


@pytest.mark.parametrize("kind", ["ENOSPC", "ValueError"])  # other OSErrors: tests/io/test_folder_faults.py
def test_an_error_in_a_drawing_process_is_reported_as_inline(kind, tmp_path):
    report = _child_report(kind, tmp_path)
    assert report["parent"] not in report["parallel_pids"]  # the figures were drawn by other processes
    assert set(report["inline_pids"]) == {report["parent"]}
    assert report["parallel"] == report["inline"]  # the same exit status and line
    rc, err = report["parallel"]
    line = _one_line(err)
    assert rc == 1
    if kind == "ValueError":
        assert "unexpected ValueError at uncertainty_footprint/reports/drawing.py:" in line  # the call of the plot
        assert "a bug in a figure" in line
    else:
        assert line.startswith(f"error: writing the figures and reports at {tmp_path / 'res'}: ")
        assert os.strerror(getattr(errno, kind)) in line
        assert line.endswith("; nothing was changed")
    assert report["parallel_left"] == report["inline_left"] == []  # no output folder, no temporary folder
    assert _gone(report["parallel_pids"]) == []


@pytest.mark.parametrize("kind", ["SIGKILL", "exit"])
def test_a_killed_drawing_process_gives_one_line_and_leaves_nothing(kind, tmp_path):
    report = _child_report(kind, tmp_path)
    rc, err = report["parallel"]
    line = _one_line(err)
    assert rc == 1
    assert line.startswith(f"error: writing the figures and reports at {tmp_path / 'res' / 'figures'}: a process "
                           "drawing the figures ended unexpectedly")
    assert "for want of memory" in line and line.endswith("; nothing was changed")
    assert report["parallel_left"] == []  # no output folder, no temporary folder: nothing half-written
    assert _gone(report["parallel_pids"]) == []


def _wait_for_drawing(proc: subprocess.Popen, work: Path) -> list[int]:
    """The drawing processes' ids, once one has started drawing."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        text = (work / PIDS).read_text() if (work / PIDS).exists() else ""
        if text.strip():
            return [int(p) for p in text.split()]
        assert proc.poll() is None, proc.output()[1][-3000:]
        time.sleep(0.01)
    proc.output(timeout=0)
    pytest.fail("no figure was drawn within 300 s")


def test_ctrl_c_to_the_process_group_ends_the_drawing_processes(tmp_path):
    proc = _run_child("interrupt-group", tmp_path, start_new_session=True)
    drawing = _wait_for_drawing(proc, tmp_path)
    os.killpg(proc.pid, signal.SIGINT)
    _, err = proc.output()
    assert proc.returncode == 130
    line = _one_line(err)  # one line: the drawing processes say nothing
    assert "interrupted (Ctrl-C)" in line
    assert proc.pid not in drawing
    assert _gone(drawing) == []
    assert sorted(os.listdir(tmp_path)) == [PIDS]


def test_ctrl_c_to_the_main_process_alone_leaves_no_drawing_process(tmp_path):
    proc = _run_child("interrupt-self", tmp_path)
    _, err = proc.output()
    assert proc.returncode == 130, err[-3000:]
    assert "interrupted (Ctrl-C)" in _one_line(err)
    drawing = [int(p) for p in (tmp_path / PIDS).read_text().split()]
    assert drawing and proc.pid not in drawing
    assert _gone(drawing) == []  # they end with their parent
    assert sorted(os.listdir(tmp_path)) == [PIDS]


# ------------------------------------------------------------------------------------------------ the choice
def test_the_figures_are_drawn_inline_when_forking_is_not_safe_or_not_wanted(monkeypatch):
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(D, "usable_cpus", lambda: 2)
    assert D.figure_jobs(None, 6) == 2 and D.figure_jobs(3, 6) == 3 and D.figure_jobs(4, 2) == 2
    monkeypatch.setattr(D, "usable_cpus", lambda: 8)
    assert D.figure_jobs(None, 6) == D.MAX_FIGURE_JOBS
    assert D.figure_jobs(1, 6) == 1  # asked for
    assert D.figure_jobs(2, 1) == 1  # one figure
    monkeypatch.setattr(D, "usable_cpus", lambda: 1)
    assert D.figure_jobs(None, 6) == 1 and D.figure_jobs(2, 6) == 2  # one CPU: inline unless asked for
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert D.figure_jobs(None, 6) == 1 and D.figure_jobs(2, 6) == 1  # another thread is alive
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(D.multiprocessing, "get_all_start_methods", lambda: ["spawn"])
    assert D.figure_jobs(2, 6) == 1  # no fork
    monkeypatch.undo()
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setattr(D.sys, "platform", "darwin")
    assert D.figure_jobs(2, 6) == 1  # fork is not safe there
    monkeypatch.setattr(D.sys, "platform", "linux")
    assert D.figure_jobs(2, 6) == 2
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(ValueError, match="jobs"):
            D.figure_jobs(bad, 6)


def test_inline_drawing_forks_nothing(tmp_path, monkeypatch):
    """With one job (or another thread alive) nothing is forked and the figures come from this process."""
    from matplotlib.figure import Figure

    def line_figure():
        fig = Figure(figsize=(2, 2))
        fig.add_subplot().plot([0, 1], [0, 1])
        return fig

    monkeypatch.setattr(D.multiprocessing, "get_context", lambda *a: pytest.fail("forked with one job"))
    plan = {"a": line_figure, "b": line_figure}
    with D.start_figures(plan, tmp_path / "figures", jobs=1) as pending:
        assert pending.jobs == 1
        paths = pending.wait()
    assert [p.name for p in paths] == ["a.png", "a.pdf", "b.png", "b.pdf"]
    with _thread_alive():
        with D.start_figures(plan, tmp_path / "again", jobs=2) as pending:
            assert pending.jobs == 1
            again = pending.wait()
    assert [p.read_bytes() for p in paths] == [p.read_bytes() for p in again]


def test_the_caller_of_parallel_drawing_never_imports_matplotlib(tmp_path):
    """The plan and the drawing processes live in a module without plotting imports: when other processes draw
    the figures, the run's own process imports neither matplotlib nor the font and image libraries (they are
    imported by the drawing processes, while the tables are written), and every figure is still written."""
    code = ("import sys; from uncertainty_footprint.cli import main; from uncertainty_footprint.reports import drawing; "
            "jobs = drawing.figure_jobs(None, 6); "
            f"rc = main(['run', {str(KWS)!r}, '--out', {str(tmp_path / 'res')!r}, '--samples', '2000', '--quiet']); "
            "print(rc, jobs, *(m in sys.modules for m in ('matplotlib', 'PIL', 'fontTools')))")
    env = dict(os.environ, MPLBACKEND="Agg")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr
    rc, jobs, *imported = proc.stdout.split()
    assert rc == "0"
    if int(jobs) < 2:
        pytest.skip("one usable CPU: the figures are drawn in the run's own process")
    assert imported == ["False", "False", "False"]
    names = sorted(p.name for p in (tmp_path / "res" / "figures").iterdir())
    assert names == sorted(f"{n}.{ext}" for n in FIGURES for ext in ("png", "pdf"))
