"""Time to the figures and reports of ``kws.yaml``: whole-process wall times of the default run and of its parts.

Usage::

    python benchmarks/figures_benchmark.py [--repeat 5] [--tree DIR [--tree DIR2 ...]] [--label NAME ...] [--out DIR]

Every case runs in a fresh process, ``--repeat`` times; the table gives the median and the range of the wall time
and the median CPU time (user + system) of the process and its children (the processes drawing the figures),
which the other processes on a shared machine disturb less:

* ``run`` - ``python -m uncertainty_footprint run experiments/kws.yaml`` (the README's command: Monte Carlo,
  Sobol' indices, tables, figures and reports), whole process;
* ``run --no-figures`` - the same without figures, reports and the convergence data;
* ``documents`` - a process that runs the experiment (with the convergence data) and then writes every output
  (:func:`uncertainty_footprint.reports.drawing.write_documents` with the tables written meanwhile, timed inside the
  process, wall and CPU of the process and of the children it waited for), the reports alone once more
  (:func:`uncertainty_footprint.reports.document.write_report`), and, where the tree has
  :func:`~uncertainty_footprint.reports.drawing.figure_plan`, each figure drawn and encoded in the process
  (median of three: building the figure, then PNG and PDF bytes).

``--tree DIR`` measures a source tree (put first on ``PYTHONPATH``; default: this one), e.g. an export of an
older commit (``git archive COMMIT | tar -x -C DIR``); with several trees the runs alternate between them
(repetition by repetition), so that a before/after comparison sees the same machine load. Targets (issue 11):
the default run in at most 3 s on a 2-core machine, the figures as good as before.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Sequence

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE)]

from _measure import machine_info, markdown_table  # noqa: E402

TARGET_RUN_SECONDS = 3.0
EXPERIMENT = Path("experiments") / "kws.yaml"
CASES = ("run", "run --no-figures", "documents")


def _worker_documents(tree: Path) -> dict:
    """In a fresh process: run the experiment, then time every output, the reports, and each figure."""
    t_start = time.perf_counter()
    import xarray as xr

    from uncertainty_footprint import api
    from uncertainty_footprint.analysis.convergence import running_statistics
    from uncertainty_footprint.io.writers import write_result_files
    from uncertainty_footprint.reports import figures
    from uncertainty_footprint.reports.document import write_report
    from uncertainty_footprint.reports.drawing import write_documents

    result = api.run(tree / EXPERIMENT)
    with tempfile.TemporaryDirectory() as tmp:
        t0, c0, k0 = time.perf_counter(), time.process_time(), _children_cpu()
        write_documents(result, Path(tmp), meanwhile=lambda: write_result_files(result, Path(tmp)))
        t1, c1, k1 = time.perf_counter(), time.process_time(), _children_cpu()
        paths = sorted((Path(tmp) / "figures").glob("*.p*"))
        write_report(result, Path(tmp), sobol=result.sobol, figures=paths, catalog=result.catalog)
        t2 = time.perf_counter()
    timings = {"outputs_s": t1 - t0, "outputs_cpu_s": (c1 - c0) + (k1 - k0), "report_s": t2 - t1,
               "before_outputs_s": t0 - t_start, "n_figure_files": len(paths), "figures": {}}
    try:  # the plan moved to reports/drawing.py; older trees have it in reports/figures.py
        from uncertainty_footprint.reports import drawing as planner
    except ImportError:
        planner = figures
    if hasattr(planner, "figure_plan"):
        conv = running_statistics(result.results["total"].values)
        if result.convergence is not None:
            conv = xr.merge([conv, result.convergence])
        plan = planner.figure_plan(result, result.sobol, conv, catalog=result.catalog)
        for name, plot in plan.items():
            times = []
            for _ in range(3):
                a = time.perf_counter()
                fig = plot()
                b = time.perf_counter()
                figures._figure_files(fig)
                times.append((b - a, time.perf_counter() - b))
            timings["figures"][name] = [statistics.median(t[0] for t in times),
                                        statistics.median(t[1] for t in times)]
    return timings


def _children_cpu() -> float:
    t = os.times()
    return t.children_user + t.children_system


def _cases(tree: Path, out: Path) -> dict[str, list[str]]:
    python = sys.executable
    run = [python, "-m", "uncertainty_footprint", "run", str(EXPERIMENT), "--quiet"]
    return {
        "run": run + ["--out", str(out / "run")],
        "run --no-figures": run + ["--out", str(out / "nofig"), "--no-figures"],
        "documents": [python, str(Path(__file__).resolve()), "--worker", str(tree)],
    }


def _run(argv: list[str], tree: Path) -> tuple[float, float, str]:
    """Run ``argv`` in a fresh process with ``tree`` first on PYTHONPATH; wall and CPU seconds, stdout."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join([str(tree)] + ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=tree, env=env)
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            if proc.poll() is None:
                proc.kill()
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        if proc.returncode != 0:
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.read()[-2000:]}")
        return wall, usage.ru_utime + usage.ru_stime, out.read()


def _busy_fraction(seconds: float) -> float:
    """Fraction of the machine's CPU time used during the next ``seconds`` (from ``/proc/stat``; 0 elsewhere)."""
    def sample():
        with open("/proc/stat") as f:
            values = [int(v) for v in f.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return 0.0
    return 1.0 - (idle1 - idle0) / max(1, total1 - total0)


def _wait_idle(limit: float, timeout: float = 600.0) -> float:
    """Wait (at most ``timeout`` seconds) until the machine has been busy less than ``limit`` for a second; the
    last busy fraction seen."""
    deadline = time.monotonic() + timeout
    busy = _busy_fraction(1.0)
    while busy > limit and time.monotonic() < deadline:
        busy = _busy_fraction(1.0)
    return busy


def measure(trees: list[Path], repeat: int, idle: float | None = None, cases: Sequence[str] = ()
            ) -> dict[str, dict[str, dict]]:
    """tree -> case -> ``wall``, ``cpu`` (lists of seconds) and ``inner`` (the documents worker's timings); with
    ``idle``, each case waits until the machine is busy less than that fraction (other processes on a shared
    machine take the cores that parallel work needs); ``cases``: only these (default all)."""
    results = {str(t): {} for t in trees}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeat):
            for tree in trees:
                for name, argv in _cases(tree, Path(tmp)).items():
                    if cases and name not in cases:
                        continue
                    if idle is not None:
                        _wait_idle(idle)
                    wall, cpu, stdout = _run(argv, tree)
                    entry = results[str(tree)].setdefault(name, {"wall": [], "cpu": [], "inner": []})
                    entry["wall"].append(wall)
                    entry["cpu"].append(cpu)
                    if name == "documents":
                        entry["inner"].append(json.loads(stdout.strip().splitlines()[-1]))
                    print(f"  [{k + 1}/{repeat}] {tree.name:14s} {name:18s} {wall:6.2f} s wall {cpu:6.2f} s CPU",
                          flush=True)
    return results


def _stat(values: list[float]) -> str:
    return f"{statistics.median(values):.2f} ({min(values):.2f}-{max(values):.2f})"


def report(results: dict[str, dict], labels: dict[str, str], repeat: int, idle: float | None = None) -> str:
    info = machine_info(("numpy", "pandas", "xarray", "matplotlib", "Jinja2", "fonttools"))
    header = ["case"] + [f"{labels[t]}: wall [s]" for t in results] + [f"{labels[t]}: CPU [s]" for t in results]
    rows = []
    for name, title in (("run", "`run experiments/kws.yaml` (whole process)"),
                        ("run --no-figures", "`run ... --no-figures` (whole process)"),
                        ("documents", "documents process (whole process)")):
        if not all(name in r for r in results.values()):
            continue
        rows.append([title] + [_stat(r[name]["wall"]) for r in results.values()]
                    + [f"{statistics.median(r[name]['cpu']):.2f}" for r in results.values()])
    documents = all("documents" in r for r in results.values())
    inner = (("outputs_s", "- tables, figures and reports (`write_run`, in-process)"),
             ("outputs_cpu_s", "- the same, CPU time of the process and the processes drawing"),
             ("report_s", "- reports alone (`write_report`, in-process)"),
             ("before_outputs_s", "- before the outputs (imports, run with convergence data)"))
    for key, title in inner if documents else ():
        rows.append([title] + [_stat([d[key] for d in r["documents"]["inner"]]) for r in results.values()]
                    + [""] * len(results))
    figure_rows = []
    drawn = {t: r for t, r in results.items() if documents and r["documents"]["inner"][0].get("figures")}
    names = list(dict.fromkeys(n for r in drawn.values() for n in r["documents"]["inner"][0]["figures"]))
    for name in names:
        cells = []
        for r in drawn.values():
            values = [d["figures"].get(name) for d in r["documents"]["inner"] if d["figures"].get(name)]
            cells += [f"{statistics.median(v[k] for v in values):.3f}" for k in (0, 1)]
        figure_rows.append([f"`{name}`"] + cells)
    figure_header = ["figure"] + [f"{labels[t]}: {what} [s]" for t in drawn for what in ("build", "PNG + PDF")]
    verdicts = []
    for tree, r in results.items():
        median = statistics.median(r["run"]["wall"])
        verdicts.append(f"{labels[tree]}: " + ("met" if median <= TARGET_RUN_SECONDS else f"not met ({median:.2f} s)"))
    lines = [f"# Figures and reports benchmark ({', '.join(labels.values())})", "",
             "Source trees: " + "; ".join(f"{labels[t]} = `{t}`" for t in results)
             + f". {repeat} fresh processes per case and tree, alternating between the trees; median (min-max)"
             + (f"; each case started once the machine was busy less than {100 * idle:g} % for a second"
                if idle is not None else "") + ".", "",
             "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items()), "",
             markdown_table(header, rows), "",
             *(["Each figure drawn in the documents process (median of three in a process, then of the processes):",
                "", markdown_table(figure_header, figure_rows), ""] if figure_rows else []),
             f"Target, the default run in at most {TARGET_RUN_SECONDS:g} s wall: " + "; ".join(verdicts) + "."]
    return "\n".join(lines) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per case and tree (default 5)")
    parser.add_argument("--tree", type=Path, action="append", help="source tree to measure (repeatable; default: "
                        "this one)")
    parser.add_argument("--label", action="append", default=[], help="name of each tree (default: its folder name)")
    parser.add_argument("--out", type=Path, default=HERE / "output")
    parser.add_argument("--idle", type=float, default=None, metavar="FRACTION",
                        help="before each case wait until the machine is busy less than FRACTION (e.g. 0.1) for a "
                             "second (at most 10 minutes): a shared machine's load hides what parallel work gains")
    parser.add_argument("--case", action="append", default=[], choices=CASES,
                        help="measure only this case (repeatable; default all)")
    parser.add_argument("--worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        print(json.dumps(_worker_documents(args.worker)))
        return 0
    trees = [t.resolve() for t in (args.tree or [ROOT])]
    labels = {str(t): (args.label[i] if i < len(args.label) else t.name) for i, t in enumerate(trees)}
    print("Figures and reports benchmark: " + ", ".join(map(str, trees)), flush=True)
    results = measure(trees, args.repeat, args.idle, args.case)
    text = report(results, labels, args.repeat, args.idle)
    args.out.mkdir(parents=True, exist_ok=True)
    stem = "figures_benchmark"
    (args.out / f"{stem}.md").write_text(text)
    (args.out / f"{stem}.json").write_text(json.dumps({"repeat": args.repeat, "idle": args.idle, "labels": labels,
                                                       "results": results},
                                                      indent=1))
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
