"""Time to first answer: whole-process wall times of the commands a user types, against the time to import the
libraries they need, with the machine named.

Usage::

    python benchmarks/startup_benchmark.py [--repeat 5] [--quick] [--taskset CPUS] [--out DIR]

Every case runs in a fresh ``python -m uncertainty_footprint`` process (stdout and stderr to files), ``--repeat``
times, the cases interleaved repetition by repetition so that a change of the machine's load hits all of them;
the table gives the median and range of the wall time, the median CPU time (user + system of the process, which
other processes on a shared machine disturb less) and the verdict against the target:

* ``imports`` - ``python -c "import numpy, scipy.special, xarray, pandas, pint"``: the floor of a run (no target);
* ``imports + pyplot`` - the same plus ``matplotlib.pyplot``: the floor of a run that draws figures (no target);
* ``run`` - ``run experiments/kws.yaml --out DIR``, the README's command (Monte Carlo, exact indices, tables,
  netCDF, figures and reports): the **summary** (the moment the table's ``TOTAL`` row reaches standard output)
  within 1.6x ``imports``, the **whole run** within 2.5x ``imports + pyplot`` (both ratios of medians measured in
  the same benchmark run);
* ``run --no-figures`` - the same without figures and reports (no target);
* ``MC 10^6`` and ``MC 10^7`` - ``run --samples N --no-sobol --no-figures --stream --store none``; the marginal
  Monte Carlo rate ``(10^7 - 10^6) / (t7 - t6)`` [samples/s] removes the start-up cost: at least 10^6 samples/s.
  ``--quick`` leaves out 10^7 (and so the rate).

``--taskset CPUS`` pins every process to those CPUs (``taskset -c CPUS``), e.g. ``0`` to measure on one core.
The machine (CPU model, cores, load average before and after) is named in the output; on a machine shared with
other work the wall times are upper bounds. Writes ``startup_benchmark.json`` and ``startup_benchmark.md`` into
``--out`` (default ``benchmarks/output/``).
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE)]

from _measure import load_averages, machine_info, markdown_table, save_report  # noqa: E402

EXPERIMENT = Path("experiments") / "kws.yaml"
#: The libraries a run imports, and those of a run that draws.
IMPORTS = "import numpy, scipy.special, xarray, pandas, pint"
IMPORTS_PYPLOT = IMPORTS + ", matplotlib.pyplot"
#: Targets as ratios of medians: (measured, baseline, largest ratio).
RATIO_TARGETS = {"summary of run / imports": ("run (summary)", "imports", 1.6),
                 "run / imports + pyplot": ("run", "imports + pyplot", 2.5)}
TARGET_RATE = 1.0e6
#: The line of the summary table whose arrival on standard output is the time to the first answer.
SUMMARY_MARK = "TOTAL"
MC_SIZES = {"MC 10^6": 10**6, "MC 10^7": 10**7}


def cases(out: Path, quick: bool) -> dict[str, list[str]]:
    """Case name -> command-line arguments after ``python -m uncertainty_footprint``."""
    run = ["run", str(EXPERIMENT)]
    mc = ["--no-sobol", "--no-figures", "--stream", "--store", "none", "--quiet"]
    found = {
        "imports": ["-c", IMPORTS],
        "imports + pyplot": ["-c", IMPORTS_PYPLOT],
        "run": ["-m", "uncertainty_footprint"] + run + ["--out", str(out / "run")],
        "run --no-figures": ["-m", "uncertainty_footprint"] + run + ["--out", str(out / "nofig"), "--no-figures"],
    }
    for name, n in MC_SIZES.items():
        if not (quick and n > 10**6):
            found[name] = ["-m", "uncertainty_footprint"] + run + [
                "--out", str(out / name.replace(" ", "_").replace("^", "")), "--samples", str(n)] + mc
    return found


def run_once(args: list[str], taskset: str | None) -> tuple[float, float, float | None]:
    """Wall and CPU seconds of one fresh ``python ARGS`` process (``MPLBACKEND=Agg``), and the seconds until a
    line starting with :data:`SUMMARY_MARK` reached its standard output (None if none did); raises on a
    non-zero exit."""
    argv = [sys.executable, *args]
    if taskset:
        argv = ["taskset", "-c", taskset, *argv]
    env = dict(os.environ, MPLBACKEND="Agg", PYTHONUNBUFFERED="1")
    summary = None
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=err, cwd=ROOT, env=env, text=True)
        for line in proc.stdout:
            if summary is None and line.lstrip().startswith(SUMMARY_MARK):
                summary = time.perf_counter() - t0
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.read()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime, summary


def measure(repeat: int, quick: bool, taskset: str | None) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeat):
            for name, args in cases(Path(tmp), quick).items():
                for sub in Path(tmp).iterdir():  # every run writes a fresh folder (no replace of old results)
                    shutil.rmtree(sub, ignore_errors=True)
                wall, cpu, summary = run_once(args, taskset)
                entry = results.setdefault(name, {"wall": [], "cpu": []})
                entry["wall"].append(wall)
                entry["cpu"].append(cpu)
                if name == "run" and summary is not None:
                    results.setdefault("run (summary)", {"wall": [], "cpu": []})["wall"].append(summary)
                print(f"  [{k + 1}/{repeat}] {name:44s} {wall:7.2f} s wall {cpu:7.2f} s CPU"
                      + (f"  (summary at {summary:.2f} s)" if name == "run" and summary else ""), flush=True)
    return results


def verdicts(results: dict) -> dict[str, dict]:
    """Per case its median wall and CPU time; per target the ratio of medians and ``met``; the marginal Monte
    Carlo rate."""
    out: dict[str, dict] = {name: {"median_wall_s": statistics.median(r["wall"]),
                                   "median_cpu_s": statistics.median(r["cpu"]) if r["cpu"] else None}
                            for name, r in results.items()}
    for target, (measured, baseline, limit) in RATIO_TARGETS.items():
        if measured in out and baseline in out:
            ratio = out[measured]["median_wall_s"] / out[baseline]["median_wall_s"]
            out[target] = {"ratio": ratio, "target_ratio": limit, "met": ratio <= limit}
    if all(name in results for name in MC_SIZES):
        (n6, n7), (t6, t7) = MC_SIZES.values(), (out[name]["median_wall_s"] for name in MC_SIZES)
        rate = (n7 - n6) / (t7 - t6) if t7 > t6 else float("inf")
        out["MC marginal rate"] = {"samples_per_s": rate, "target_samples_per_s": TARGET_RATE,
                                   "met": rate >= TARGET_RATE}
    return out


def report(results: dict, summary: dict, info: dict, repeat: int) -> str:
    header = ["case", "wall [s] median (min-max)", "CPU [s] median"]
    rows = [[f"`{name}`", f"{summary[name]['median_wall_s']:.2f} ({min(r['wall']):.2f}-{max(r['wall']):.2f})",
             "" if summary[name]["median_cpu_s"] is None else f"{summary[name]['median_cpu_s']:.2f}"]
            for name, r in results.items()]
    targets = [[name, f"{v['ratio']:.2f}", f"<= {v['target_ratio']:g}", "met" if v["met"] else "not met"]
               for name, v in summary.items() if "ratio" in v]
    if "MC marginal rate" in summary:
        v = summary["MC marginal rate"]
        targets.append(["Monte Carlo marginal rate (10^6 to 10^7)", f"{v['samples_per_s'] / 1e6:.2f} M samples/s",
                        f">= {TARGET_RATE / 1e6:g} M/s", "met" if v["met"] else "not met"])
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    return "\n".join([
        "# Start-up benchmark", "",
        f"Whole-process wall times, {repeat} fresh processes per case (interleaved); median (min-max). "
        "`run (summary)` is the time until the summary table's TOTAL row reached standard output.", "",
        f"Machine: {machine}", "",
        markdown_table(header, rows), "",
        markdown_table(["target", "measured", "target", "verdict"], targets), "",
        "A shared machine (load average above) inflates the wall times; the ratios are of one run's medians.",
    ]) + "\n"


def run(quick: bool = False, out: Path = HERE / "output", repeat: int = 5, taskset: str | None = None) -> dict:
    """Measure, print and write ``startup_benchmark.{json,md}``; return the summary."""
    load_before = os.getloadavg()
    results = measure(repeat, quick, taskset)
    info = load_averages(machine_info(("numpy", "scipy", "pandas", "xarray", "matplotlib", "pint", "dask")),
                         load_before)
    if taskset:
        info["taskset"] = taskset
    summary = verdicts(results)
    save_report(out, "startup_benchmark", report(results, summary, info, repeat),
                {"repeat": repeat, "machine": info, "results": results, "summary": summary})
    return summary


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="fresh processes per case (default 5)")
    parser.add_argument("--quick", action="store_true", help="leave out the 10^7-sample run (and the rate)")
    parser.add_argument("--taskset", metavar="CPUS", default=None, help="pin the processes (taskset -c CPUS)")
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    args = parser.parse_args(argv)
    if args.repeat < 1:
        parser.error("--repeat must be at least 1")
    run(args.quick, args.out, args.repeat, args.taskset)
    return 0


if __name__ == "__main__":
    sys.exit(main())
