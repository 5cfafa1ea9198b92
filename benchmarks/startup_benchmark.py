"""Time to first answer (issue 11): whole-process wall times of the commands a user types, with the machine named.

Usage::

    python benchmarks/startup_benchmark.py [--repeat 5] [--quick] [--taskset CPUS] [--out DIR]

Every case runs in a fresh ``python -m uncertainty_footprint`` process (stdout and stderr to files), ``--repeat``
times, the cases interleaved repetition by repetition so that a change of the machine's load hits all of them;
the table gives the median and range of the wall time, the median CPU time (user + system of the process, which
other processes on a shared machine disturb less) and the verdict against the target:

* ``--help`` - imports and argument parsing only (no target; the floor of every command);
* ``run`` - ``run experiments/kws.yaml --out DIR``, the README's command (Monte Carlo, exact and sampled Sobol'
  indices, tables, netCDF, figures and reports): at most 3 s;
* ``run --no-figures`` - the same without figures and reports: at most 1.5 s;
* ``run --samples 1000 --no-sobol --no-figures``: at most 1.5 s (never slower than ``--no-figures``);
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
#: Targets of issue 11 [s], and the Monte Carlo rate [samples/s].
TARGETS = {"run": 3.0, "run --no-figures": 1.5, "run --samples 1000 --no-sobol --no-figures": 1.5}
TARGET_RATE = 1.0e6
MC_SIZES = {"MC 10^6": 10**6, "MC 10^7": 10**7}


def cases(out: Path, quick: bool) -> dict[str, list[str]]:
    """Case name -> command-line arguments after ``python -m uncertainty_footprint``."""
    run = ["run", str(EXPERIMENT)]
    mc = ["--no-sobol", "--no-figures", "--stream", "--store", "none", "--quiet"]
    found = {
        "--help": ["--help"],
        "run": run + ["--out", str(out / "run")],
        "run --no-figures": run + ["--out", str(out / "nofig"), "--no-figures"],
        "run --samples 1000 --no-sobol --no-figures": run + ["--out", str(out / "small"), "--samples", "1000",
                                                            "--no-sobol", "--no-figures"],
    }
    for name, n in MC_SIZES.items():
        if not (quick and n > 10**6):
            found[name] = run + ["--out", str(out / name.replace(" ", "_").replace("^", "")), "--samples", str(n)] + mc
    return found


def run_once(args: list[str], taskset: str | None) -> tuple[float, float]:
    """Wall and CPU seconds of one fresh process (``MPLBACKEND=Agg``); raises on a non-zero exit."""
    argv = [sys.executable, "-m", "uncertainty_footprint", *args]
    if taskset:
        argv = ["taskset", "-c", taskset, *argv]
    env = dict(os.environ, MPLBACKEND="Agg")
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(argv)} failed ({proc.returncode}): {err.read()[-2000:]}")
    return wall, usage.ru_utime + usage.ru_stime


def measure(repeat: int, quick: bool, taskset: str | None) -> dict[str, dict[str, list[float]]]:
    results: dict[str, dict[str, list[float]]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for k in range(repeat):
            for name, args in cases(Path(tmp), quick).items():
                for sub in Path(tmp).iterdir():  # every run writes a fresh folder (no replace of old results)
                    shutil.rmtree(sub, ignore_errors=True)
                wall, cpu = run_once(args, taskset)
                entry = results.setdefault(name, {"wall": [], "cpu": []})
                entry["wall"].append(wall)
                entry["cpu"].append(cpu)
                print(f"  [{k + 1}/{repeat}] {name:44s} {wall:7.2f} s wall {cpu:7.2f} s CPU", flush=True)
    return results


def verdicts(results: dict) -> dict[str, dict]:
    """Per case: median wall, target and ``met`` / shortfall; the marginal Monte Carlo rate."""
    out = {}
    for name, r in results.items():
        median = statistics.median(r["wall"])
        target = TARGETS.get(name)
        out[name] = {"median_wall_s": median, "median_cpu_s": statistics.median(r["cpu"]), "target_s": target,
                     "met": None if target is None else median <= target,
                     "shortfall_s": None if target is None else max(0.0, median - target)}
    if all(name in results for name in MC_SIZES):
        (n6, n7), (t6, t7) = MC_SIZES.values(), (out[name]["median_wall_s"] for name in MC_SIZES)
        rate = (n7 - n6) / (t7 - t6) if t7 > t6 else float("inf")
        out["MC marginal rate"] = {"samples_per_s": rate, "target_samples_per_s": TARGET_RATE,
                                   "met": rate >= TARGET_RATE}
    return out


def report(results: dict, summary: dict, info: dict, repeat: int) -> str:
    header = ["case", "wall [s] median (min-max)", "CPU [s] median", "target", "verdict"]
    rows = []
    for name, r in results.items():
        v = summary[name]
        target = "" if v["target_s"] is None else f"<= {v['target_s']:g} s"
        verdict = "" if v["met"] is None else ("met" if v["met"] else f"short by {v['shortfall_s']:.2f} s")
        rows.append([f"`{name}`", f"{v['median_wall_s']:.2f} ({min(r['wall']):.2f}-{max(r['wall']):.2f})",
                     f"{v['median_cpu_s']:.2f}", target, verdict])
    if "MC marginal rate" in summary:
        v = summary["MC marginal rate"]
        rows.append(["Monte Carlo marginal rate (10^6 to 10^7)", f"{v['samples_per_s'] / 1e6:.2f} M samples/s", "",
                     f">= {TARGET_RATE / 1e6:g} M/s", "met" if v["met"] else "not met"])
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    return "\n".join([
        "# Start-up benchmark (issue 11)", "",
        f"Whole-process wall times, {repeat} fresh processes per case (interleaved); median (min-max).", "",
        f"Machine: {machine}", "",
        markdown_table(header, rows), "",
        "A shared machine (load average above) inflates the wall times; the CPU times are less disturbed.",
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
