"""Large runs of every shipped experiment (issue 11): whole-process wall time, peak memory and the accuracy of the
streamed statistics, at 10^7 samples by default.

Usage::

    python benchmarks/large_runs_benchmark.py [--samples 10000000] [--store footprint|none|all] [--only NAME ...]
                                              [--out DIR]

For every file in ``experiments/`` (or those named with ``--only``) one fresh process runs
``python -m uncertainty_footprint run EXP --samples N --no-figures --quiet --store STORE`` (the experiment's own
design, so the Latin hypercube experiments stream their row-addressed design; above 2^20 samples every run
streams). The table gives the wall and CPU time of the process, its peak resident memory, the size of
``results.nc`` and, from ``summary.csv``, how far the streamed total's mean and standard deviation are from the
exact ones of the expansion (``exact_mean``, ``exact_sd``): the mean's error in standard errors
(``exact_sd / sqrt(N)``) and the standard deviation's relative error. Done when (issue 11): every shipped
experiment runs at 10^7 samples, with peak memory independent of N (compare ``--samples 1000000``).

Writes ``large_runs_benchmark.json`` and ``large_runs_benchmark.md`` into ``--out`` (default
``benchmarks/output/``); the machine (CPU model, cores, load average before and after) is named in the output.
"""

from __future__ import annotations

import argparse
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE)]

from _measure import load_averages, machine_info, markdown_table, save_report  # noqa: E402

EXPERIMENTS = ROOT / "experiments"
STORES = ("footprint", "none", "all")


def run_one(experiment: Path, samples: int, store: str, out: Path) -> dict:
    """Run one experiment in a fresh process; its wall and CPU time, peak memory, file size and accuracy."""
    argv = [sys.executable, "-m", "uncertainty_footprint", "run", str(experiment), "--samples", str(samples),
            "--no-figures", "--quiet", "--store", store, "--out", str(out)]
    env = dict(os.environ, MPLBACKEND="Agg")
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            return {"experiment": experiment.stem, "ok": False, "exit_status": code, "stderr": err.read()[-500:]}
    row = {"experiment": experiment.stem, "ok": True, "wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime,
           "peak_rss_mib": usage.ru_maxrss / 1024.0}
    nc = out / "results.nc"
    row["results_nc_mib"] = nc.stat().st_size / 2**20 if nc.exists() else None
    summary = pd.read_csv(out / "summary.csv", index_col="name")
    total = summary.loc["total"]
    row.update(mean=float(total["mean"]), sd=float(total["sd"]), p2_5=float(total["p2_5"]),
               p97_5=float(total["p97_5"]))
    if "exact_mean" in summary.columns and pd.notna(total.get("exact_mean")):
        exact_mean, exact_sd = float(total["exact_mean"]), float(total["exact_sd"])
        row["mean_error_in_se"] = (row["mean"] - exact_mean) / (exact_sd / math.sqrt(samples))
        row["sd_relative_error"] = row["sd"] / exact_sd - 1.0
    return row


def report(rows: list[dict], samples: int, store: str, info: dict) -> str:
    header = ["experiment", "wall [s]", "CPU [s]", "peak RSS [MiB]", "results.nc [MiB]", "total mean [kg]",
              "95 % interval [kg]", "mean - exact [SE]", "sd / exact - 1"]
    table = []
    for r in rows:
        if not r["ok"]:
            table.append([r["experiment"], f"failed (exit {r['exit_status']})"] + [""] * (len(header) - 2))
            continue
        table.append([r["experiment"], f"{r['wall_s']:.1f}", f"{r['cpu_s']:.1f}", f"{r['peak_rss_mib']:.0f}",
                      "" if r["results_nc_mib"] is None else f"{r['results_nc_mib']:.0f}", f"{r['mean']:.4f}",
                      f"{r['p2_5']:.3f}-{r['p97_5']:.3f}",
                      f"{r['mean_error_in_se']:+.2f}" if "mean_error_in_se" in r else "",
                      f"{r['sd_relative_error']:+.1e}" if "sd_relative_error" in r else ""])
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    ok = sum(r["ok"] for r in rows)
    return "\n".join([
        "# Large runs of every shipped experiment (issue 11)", "",
        f"`run EXP --samples {samples} --no-figures --store {store}`, one fresh process each: {ok} of {len(rows)} "
        "ran.", "",
        f"Machine: {machine}", "",
        markdown_table(header, table), "",
        "The mean's error is in standard errors of the mean (exact sd / sqrt(N)): about N(0, 1) when the run is "
        "right.",
    ]) + "\n"


def run(samples: int = 10**7, store: str = "footprint", only: list[str] | None = None,
        out: Path = HERE / "output") -> list[dict]:
    """Measure, print and write ``large_runs_benchmark.{json,md}``; return the rows."""
    files = sorted(EXPERIMENTS.glob("*.yaml"))
    if only:
        files = [f for f in files if f.stem in only]
    load_before = os.getloadavg()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for f in files:
            folder = Path(tmp) / f.stem
            row = run_one(f, samples, store, folder)
            shutil.rmtree(folder, ignore_errors=True)  # a 10^7-sample results.nc is about 1 GB
            rows.append(row)
            print(f"  {f.stem:28s} " + (f"{row['wall_s']:7.1f} s wall {row['peak_rss_mib']:7.0f} MiB peak"
                                         if row["ok"] else f"failed: {row['stderr']}"), flush=True)
    info = load_averages(machine_info(("numpy", "scipy", "numba", "xarray", "dask", "netCDF4")), load_before)
    save_report(out, "large_runs_benchmark", report(rows, samples, store, info),
                {"samples": samples, "store": store, "machine": info, "rows": rows})
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=10**7, help="samples per run (default 10^7)")
    parser.add_argument("--store", choices=STORES, default="footprint", help="what results.nc keeps (default footprint)")
    parser.add_argument("--only", nargs="+", metavar="NAME", default=None, help="experiment file stems to run")
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    args = parser.parse_args(argv)
    if args.samples < 1:
        parser.error("--samples must be at least 1")
    rows = run(args.samples, args.store, args.only, args.out)
    return 0 if all(r["ok"] for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
