"""Monte Carlo throughput and memory of ``kws.yaml``: sampling + model + summary, streamed with dask.

Usage::

    python benchmarks/mc_benchmark.py [--quick] [--out DIR]

Each case runs in a fresh process (so its peak memory is its own): the model is built and warmed up (inverse-CDF
tables), the resident set size is read (baseline), then the measured section runs
:func:`uncertainty_footprint.analysis.streaming.stream_monte_carlo` end to end (design, inverse CDF, model, running
statistics and the summary table; ``store=footprint`` also writes every sample to ``results.nc``); runs of
``COMPILED_MIN`` samples or more evaluate with the compiled kernels (``inputs/kernels.py``), loaded in the warm-up.
Targets
(issue 5): >= 1 million samples per second at 10**7 samples, peak memory independent of the sample count.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import pandas as pd

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # the benchmark runs from a clone with or without an install

from _measure import hwm_mib, machine_info, markdown_table, rss_mib, run_fresh  # noqa: E402

TARGET_RATE = 1.0e6


def _worker(n: int, scheduler: str, store: str, design: str = "mc") -> dict:
    from uncertainty_footprint.analysis.propagate import uses_kernels
    from uncertainty_footprint.analysis.streaming import stream_monte_carlo
    from uncertainty_footprint.model.experiment import load_experiment as prepare

    model = prepare(ROOT / "experiments" / "kws.yaml").model
    # warm-up: the inverse-CDF tables and, as the measured run will, the compiled kernels (numba and their cache)
    stream_monte_carlo(model, n=1 << 16, design=design, seed=1, scheduler="synchronous", store="none",
                       compiled=uses_kernels(n))
    baseline = rss_mib()
    from uncertainty_footprint.io.netcdf import ResultsFile

    with tempfile.TemporaryDirectory() as tmp:
        sink = None if store == "none" else ResultsFile(Path(tmp) / "results.nc")
        t0 = time.perf_counter()
        res = stream_monte_carlo(model, n=n, design=design, seed=2, scheduler=scheduler, store=store, sink=sink)
        seconds = time.perf_counter() - t0
    peak = hwm_mib()
    return {"n": n, "scheduler": scheduler, "store": store, "design": design, "seconds": seconds, "rate": n / seconds,
            "baseline_mib": baseline, "peak_mib": peak, "increment_mib": peak - baseline,
            "total_mean": float(res.summary.loc["total", "mean"])}


def run(quick: bool, out: Path) -> pd.DataFrame:
    sizes = [10**6, 2 * 10**6] if quick else [10**6, 3 * 10**6, 10**7, 3 * 10**7]
    cases = [(n, "threads", "none", "mc") for n in sizes] + [(sizes[-1], "synchronous", "none", "mc"),
                                                             (sizes[-1], "threads", "footprint", "mc"),
                                                             (sizes[-1], "threads", "none", "lhs")]
    rows = []
    for n, scheduler, store, design in cases:
        argv = [sys.executable, __file__, "--worker", str(n), scheduler, store, design]
        code, stdout, stderr, wall, killed = run_fresh(argv, timeout=1800, mem_limit_mib=12_000, cwd=str(ROOT))
        if code != 0:
            raise RuntimeError(f"case {n} {scheduler} {store} failed ({'memory' if killed else code}): {stderr}")
        rows.append(json.loads(stdout.strip().splitlines()[-1]))
        r = rows[-1]
        print(f"  n={n:>9,d} {design:4s} {scheduler:11s} store={store:9s} {r['seconds']:7.2f} s  {r['rate'] / 1e6:5.2f} M/s  "
              f"peak {r['peak_mib']:7.0f} MiB (+{r['increment_mib']:.0f})", flush=True)
    table = pd.DataFrame(rows)
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / "mc_benchmark.csv", index=False)
    _plot(table, out / "mc_scaling.png")
    at = 10**7 if 10**7 in sizes else sizes[-1]  # the target is stated at 10**7 samples
    mc = table[table.design == "mc"]
    largest = mc[(mc.n == at) & (mc.scheduler == "threads") & (mc.store == "none")].iloc[0]
    # memory is bounded once every worker has a full task: compare the sizes beyond that
    incs = mc[(mc.scheduler == "threads") & (mc.store == "none") & (mc.n >= 3 * 10**6)]["increment_mib"]
    if incs.empty:
        incs = mc[(mc.scheduler == "threads") & (mc.store == "none")]["increment_mib"]
    verdict = [
        ["throughput at n = %s (threads)" % f"{at:,d}", f"{largest['rate'] / 1e6:.2f} M samples/s",
         ">= 1.00 M/s", "PASS" if largest["rate"] >= TARGET_RATE else "FAIL"],
        ["peak memory increment over n", f"{incs.min():.0f}-{incs.max():.0f} MiB", "independent of n",
         "PASS" if incs.max() < 1.5 * incs.min() + 50 else "FAIL"],
    ]
    md = ["# Monte Carlo benchmark (kws.yaml)", "", machine_info_markdown(), "",
          markdown_table(["n", "design", "scheduler", "store", "seconds", "M samples/s", "peak MiB", "increment MiB"],
                         [[f"{r.n:,d}", r.design, r.scheduler, r.store, f"{r.seconds:.2f}", f"{r.rate / 1e6:.2f}",
                           f"{r.peak_mib:.0f}", f"{r.increment_mib:.0f}"] for r in table.itertuples()]),
          "", markdown_table(["target", "measured", "goal", "verdict"], verdict)]
    (out / "mc_benchmark.md").write_text("\n".join(md) + "\n")
    print("\n".join(md[4:]))
    return table


def machine_info_markdown() -> str:
    info = machine_info()
    return "Machine: " + ", ".join(f"{k} {v}" for k, v in info.items())


def _plot(table: pd.DataFrame, path: Path) -> None:
    from matplotlib.figure import Figure

    fig = Figure(figsize=(7, 2.8), layout="constrained")
    ax1, ax2 = fig.subplots(1, 2)
    for (design, scheduler, store), grp in table.groupby(["design", "scheduler", "store"]):
        label = f"{design}, {scheduler}, store={store}"
        ax1.plot(grp.n, grp.rate / 1e6, marker="o", label=label)
        ax2.plot(grp.n, grp.peak_mib, marker="o", label=label)
    ax1.axhline(TARGET_RATE / 1e6, color="0.5", linestyle="--", label="target 1 M/s")
    for ax, ylabel in ((ax1, "throughput [M samples/s]"), (ax2, "peak memory [MiB]")):
        ax.set_xscale("log")
        ax.set_xlabel("samples n")
        ax.set_ylabel(ylabel)
        ax.legend(fontsize=6)
    fig.savefig(path, dpi=150)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller sizes (about a minute)")
    parser.add_argument("--out", type=Path, default=HERE / "output")
    parser.add_argument("--worker", nargs=4, metavar=("N", "SCHEDULER", "STORE", "DESIGN"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        n, scheduler, store, design = args.worker
        print(json.dumps(_worker(int(n), scheduler, store, design)))
        return 0
    print(f"Monte Carlo benchmark ({'quick' if args.quick else 'full'})", flush=True)
    run(args.quick, args.out)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.exit(main())
