"""Large runs written as fast as they are computed (issue 27): the cost of the default store, the marginal rate,
the memory of an in-memory run, the codecs of the per-sample results and the rate against a plain numpy loop.

Usage::

    python benchmarks/store_benchmark.py [--repeat 3] [--quick] [--out DIR]

Three parts, each printed with the machine (CPU, cores, memory, versions) and the load average before and after:

1. **Whole runs** (fresh processes, ``run experiments/kws.yaml --no-sobol --no-figures --design mc --quiet``),
   the cases interleaved and repeated (``--repeat``), medians (ratios: the median of each repetition's pair,
   measured seconds apart under the same load): 10^6 samples (in memory) with ``--store none``
   and the default ``--store footprint``; 3 x 10^6 and 10^7 (streamed) with ``--store none``; 10^7 with the
   default and with ``--format zarr``. Targets (issue 27): the default within 1.5x of ``--store none`` at 10^7;
   the marginal rate ``9 x 10^6 / (t(10^7) - t(10^6))`` with ``--store none`` at least 1 M samples/s; the
   in-memory run of 10^6 at most 500 MiB peak; the peak of ``--store none`` flat from 3 x 10^6 to 10^7.
2. **Rate against a plain numpy loop**: the same model size (52 lognormal inputs through ``exp(mu + sigma *
   ndtri(u))``, 15 components as sums of products, their total) in a numpy loop over chunks of 2^16 rows on one
   core, against the package's streaming engine on one thread (``synchronous``) and on every core
   (``threads``), both in this process after a warm-up, ``--store none``.
3. **Codecs** of the per-sample results: 2^21 rows of kws footprints and totals (the ``sample`` numbers apart)
   written with netCDF4/HDF5 (no codec, zlib 1 and 4 with shuffle, zstd 1, blosc-lz4 with shuffle where the
   library offers them) and with Zarr (no codec, zstd 1, blosc-lz4 with shuffle): write rate on one thread
   (best of two), size ratio, and the time each takes for the 1.28 GB of a 10^7-sample run on one core.

Writes ``store_benchmark.md`` and ``store_benchmark.json`` into ``--out`` (default ``benchmarks/output/``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]

from _measure import load_averages, machine_info, markdown_table, save_report  # noqa: E402

KWS = ROOT / "experiments" / "kws.yaml"
#: (label, samples, store, format) of the whole runs, in the order they are interleaved.
CASES = [("1e6 none", 10**6, "none", "netcdf"), ("1e6 default", 10**6, "footprint", "netcdf"),
         ("3e6 none", 3 * 10**6, "none", "netcdf"), ("1e7 none", 10**7, "none", "netcdf"),
         ("1e7 default", 10**7, "footprint", "netcdf"), ("1e7 zarr", 10**7, "footprint", "zarr")]
QUICK_CASES = [("1e6 none", 10**6, "none", "netcdf"), ("1e6 default", 10**6, "footprint", "netcdf"),
               ("3e6 none", 3 * 10**6, "none", "netcdf"), ("3e6 default", 3 * 10**6, "footprint", "netcdf"),
               ("3e6 zarr", 3 * 10**6, "footprint", "zarr")]
MiB = 2.0**20


def _size(path: Path) -> int:
    if path.is_dir():
        return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return path.stat().st_size if path.exists() else 0


def run_case(samples: int, store: str, fmt: str, folder: Path) -> dict:
    """One whole run in a fresh process: wall time, CPU time, peak resident memory, size of the results."""
    argv = [sys.executable, "-m", "uncertainty_footprint", "run", str(KWS), "--samples", str(samples), "--no-sobol",
            "--no-figures", "--design", "mc", "--quiet", "--store", store, "--format", fmt, "--out", str(folder)]
    with tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=err, cwd=ROOT,
                                env=dict(os.environ, MPLBACKEND="Agg"))
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if os.waitstatus_to_exitcode(status) != 0:
            err.seek(0)
            raise RuntimeError(f"{argv} failed: {err.read()[-500:]}")
    name = "results.zarr" if fmt == "zarr" else "results.nc"
    row = {"wall_s": wall, "cpu_s": usage.ru_utime + usage.ru_stime, "peak_mib": usage.ru_maxrss / 1024.0,
           "results_mb": _size(folder / name) / 1e6}
    shutil.rmtree(folder, ignore_errors=True)
    return row


def whole_runs(cases, repeat: int) -> dict[str, dict]:
    """Every case ``repeat`` times, interleaved; per case the medians and every measurement."""
    runs: dict[str, list[dict]] = {label: [] for label, *_ in cases}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeat):
            for label, samples, store, fmt in cases:
                row = run_case(samples, store, fmt, Path(tmp) / f"out{r}")
                runs[label].append(row)
                print(f"  {label:12s} {row['wall_s']:6.2f} s  {row['peak_mib']:6.0f} MiB  "
                      f"{row['results_mb']:7.0f} MB  (load {os.getloadavg()[0]:.2f})", flush=True)
    out = {}
    for (label, samples, store, fmt) in cases:
        rows = runs[label]
        out[label] = {"samples": samples, "store": store, "format": fmt,
                      **{k: statistics.median(r[k] for r in rows) for k in rows[0]},
                      "walls_s": [r["wall_s"] for r in rows], "peaks_mib": [r["peak_mib"] for r in rows]}
    return out


# ------------------------------------------------------------------------------------------------ numpy loop
def numpy_loop_rate(n: int = 1 << 21, chunk: int = 1 << 16, inputs: int = 52, components: int = 15) -> float:
    """Samples per second of a plain numpy loop of the model's size on one core."""
    from scipy.special import ndtri

    rng = np.random.default_rng(1)
    mu, sigma = rng.normal(0, 1, inputs), rng.uniform(0.1, 0.5, inputs)
    pairs = [(rng.integers(0, inputs, 3), rng.integers(0, inputs, 3)) for _ in range(components)]
    best = np.inf
    for _ in range(2):
        t0 = time.perf_counter()
        acc = 0.0
        for _ in range(0, n, chunk):
            u = rng.random((chunk, inputs))
            x = np.exp(mu + sigma * ndtri(u))
            fp = np.empty((chunk, components))
            for k, (a, b) in enumerate(pairs):
                fp[:, k] = (x[:, a] * x[:, b]).sum(axis=1)
            acc += fp.sum(axis=1).mean()
        best = min(best, time.perf_counter() - t0)
    return n / best


def engine_rates(n: int) -> dict[str, float]:
    """Samples per second of the streaming engine, ``store='none'``, on one thread and on every core."""
    from uncertainty_footprint.analysis.propagate import uses_kernels
    from uncertainty_footprint.analysis.streaming import stream_monte_carlo
    from uncertainty_footprint.model.experiment import load_experiment

    model = load_experiment(KWS).model
    compiled = uses_kernels(n)
    stream_monte_carlo(model, n=1 << 18, design="mc", seed=1, scheduler="threads", store="none", compiled=compiled)
    out = {}
    for scheduler in ("synchronous", "threads"):
        t0 = time.perf_counter()
        stream_monte_carlo(model, n=n, design="mc", seed=2, scheduler=scheduler, store="none", compiled=compiled)
        out[scheduler] = n / (time.perf_counter() - t0)
    return out


# ------------------------------------------------------------------------------------------------ codecs
def codec_table(rows: int = 1 << 21) -> list[dict]:
    """Write rate (one thread, best of two) and size ratio of each codec on kws footprints and totals."""
    import netCDF4
    import numcodecs
    import xarray as xr

    from uncertainty_footprint.analysis.propagate import run_monte_carlo
    from uncertainty_footprint.model.experiment import load_experiment

    ds = run_monte_carlo(load_experiment(KWS).model, n=rows, design="mc", seed=3, inputs="memory")
    fp, total = np.ascontiguousarray(ds["footprint"].values), ds["total"].values
    raw = fp.nbytes + total.nbytes
    nc_cases = [("none", {}), ("zlib 1 + shuffle", {"zlib": True, "complevel": 1, "shuffle": True}),
                ("zlib 4 + shuffle (before)", {"zlib": True, "complevel": 4, "shuffle": True})]
    if getattr(netCDF4, "__has_zstandard_support__", False):
        nc_cases.append(("zstd 1", {"compression": "zstd", "complevel": 1}))
    if getattr(netCDF4, "__has_blosc_support__", False):
        nc_cases.append(("blosc-lz4 + shuffle", {"compression": "blosc_lz4", "complevel": 5, "blosc_shuffle": 1}))
    blosc = numcodecs.Blosc
    zarr_cases = [("none", None), ("zstd 1", numcodecs.Zstd(level=1)),  # format 2, as results.zarr
                  ("blosc-lz4 + shuffle", blosc(cname="lz4", clevel=5, shuffle=blosc.SHUFFLE)),
                  ("blosc-zstd 1 + shuffle", blosc(cname="zstd", clevel=1, shuffle=blosc.SHUFFLE))]
    task = 1 << 18
    out = []
    with tempfile.TemporaryDirectory() as tmp:
        for label, kw in nc_cases:
            path, best = Path(tmp) / "x.nc", np.inf
            for _ in range(2):
                path.unlink(missing_ok=True)
                with netCDF4.Dataset(path, "w") as nc:
                    nc.createDimension("sample", rows)
                    nc.createDimension("component", fp.shape[1])
                    f = nc.createVariable("footprint", "f8", ("sample", "component"), chunksizes=(8192, fp.shape[1]),
                                          **kw)
                    t = nc.createVariable("total", "f8", ("sample",), chunksizes=(131072,), **kw)
                    t0 = time.perf_counter()
                    for lo in range(0, rows, task):
                        f[lo:lo + task] = fp[lo:lo + task]
                        t[lo:lo + task] = total[lo:lo + task]
                nc_time = time.perf_counter() - t0
                best = min(best, nc_time)
            out.append({"format": "netCDF-4", "codec": label, "mb_s": raw / best / 1e6, "ratio": raw / _size(path)})
        for label, codec in zarr_cases:
            path, best = Path(tmp) / "x.zarr", np.inf
            data = xr.Dataset({"footprint": (("sample", "component"), fp), "total": ("sample", total)})
            enc = {"footprint": {"compressors": codec, "chunks": (task, fp.shape[1])},
                   "total": {"compressors": codec, "chunks": (task,)}}
            for _ in range(2):
                shutil.rmtree(path, ignore_errors=True)
                t0 = time.perf_counter()
                data.to_zarr(path, encoding=enc, zarr_format=2, consolidated=False)
                best = min(best, time.perf_counter() - t0)
            out.append({"format": "Zarr", "codec": label, "mb_s": raw / best / 1e6, "ratio": raw / _size(path)})
    at_1e7 = 10**7 * 16 * 8 / 1e6  # MB of footprints and totals at 10^7 samples
    for row in out:
        row["seconds_at_1e7"] = at_1e7 / row["mb_s"]
    return out


# ------------------------------------------------------------------------------------------------ report
def report(runs: dict, rates: dict, codecs: list[dict], info: dict, quick: bool) -> tuple[str, dict]:
    big = "3e6" if quick else "1e7"
    n_big = 3 * 10**6 if quick else 10**7
    none_big, default_big, zarr_big = runs[f"{big} none"], runs[f"{big} default"], runs[f"{big} zarr"]
    none_small, default_small = runs["1e6 none"], runs["1e6 default"]
    # A/B interleaved: the ratio of each repetition's pair (measured seconds apart, under the same load), median
    paired = lambda a, b: statistics.median(x / y for x, y in zip(a["walls_s"], b["walls_s"]))  # noqa: E731
    ratio, zarr_ratio = paired(default_big, none_big), paired(zarr_big, none_big)
    pairs = {"default": [round(x / y, 2) for x, y in zip(default_big["walls_s"], none_big["walls_s"])],
             "zarr": [round(x / y, 2) for x, y in zip(zarr_big["walls_s"], none_big["walls_s"])]}
    marginal = (n_big - 10**6) / (none_big["wall_s"] - none_small["wall_s"])
    marginal_default = (n_big - 10**6) / (default_big["wall_s"] - default_small["wall_s"])
    flat = runs["3e6 none"]["peak_mib"], none_big["peak_mib"]
    verdict = {
        "default_over_none": ratio, "zarr_over_none": zarr_ratio, "marginal_none_per_s": marginal,
        "marginal_default_per_s": marginal_default, "in_memory_1e6_peak_mib": default_small["peak_mib"],
        "ours_2_cores_over_numpy_loop": rates["threads"] / rates["numpy_loop"],
        "ours_1_thread_over_numpy_loop": rates["synchronous"] / rates["numpy_loop"], "pairs": pairs,
    }
    table = [[label, f"{r['samples']:,d}", r["store"], r["format"], f"{r['wall_s']:.2f}",
              " ".join(f"{w:.2f}" for w in r["walls_s"]), f"{r['cpu_s']:.1f}", f"{r['peak_mib']:.0f}",
              f"{r['results_mb']:.0f}" if r["results_mb"] else ""] for label, r in runs.items()]
    targets = [
        [f"default store at {big} / --store none (median of the pairs {pairs['default']})", f"{ratio:.2f}x",
         "<= 1.5x", "met" if ratio <= 1.5 else "NOT met"],
        [f"--format zarr at {big} / --store none (pairs {pairs['zarr']})", f"{zarr_ratio:.2f}x", "(<= 1.5x)",
         "met" if zarr_ratio <= 1.5 else "NOT met"],
        ["marginal rate, --store none (2 cores)", f"{marginal / 1e6:.2f} M samples/s", ">= 1 M/s",
         "met" if marginal >= 1e6 else "NOT met"],
        ["marginal rate, default store", f"{marginal_default / 1e6:.2f} M samples/s", "", ""],
        ["in-memory run of 10^6, default store, peak", f"{default_small['peak_mib']:.0f} MiB", "<= 500 MiB",
         "met" if default_small["peak_mib"] <= 500 else "NOT met"],
        [f"peak of --store none, 3e6 -> {big}", f"{flat[0]:.0f} -> {flat[1]:.0f} MiB", "flat",
         "met" if flat[1] <= 1.1 * flat[0] + 20 else "NOT met"],
    ]
    rate_rows = [["plain numpy loop, one core", f"{rates['numpy_loop'] / 1e6:.2f}", "1.00"],
                 ["streaming engine, one thread (synchronous)", f"{rates['synchronous'] / 1e6:.2f}",
                  f"{verdict['ours_1_thread_over_numpy_loop']:.2f}"],
                 ["streaming engine, every core (threads)", f"{rates['threads'] / 1e6:.2f}",
                  f"{verdict['ours_2_cores_over_numpy_loop']:.2f}"],
                 ["whole runs: marginal rate, --store none", f"{marginal / 1e6:.2f}",
                  f"{marginal / rates['numpy_loop']:.2f}"]]
    codec_rows = [[c["format"], c["codec"], f"{c['mb_s']:.0f}", f"{c['ratio']:.2f}", f"{c['seconds_at_1e7']:.1f}"]
                  for c in codecs]
    machine = ", ".join(f"{k} {v}" for k, v in info.items())
    text = "\n".join([
        "# Large runs: the store, the rate and the memory (issue 27)", "",
        f"Machine: {machine}" + time.strftime("; run %Y-%m-%d %H:%M UTC", time.gmtime()), "",
        "## Whole runs", "",
        "`python -m uncertainty_footprint run experiments/kws.yaml --samples N --no-sobol --no-figures --design mc "
        "--quiet --store S --format F`, fresh processes, cases interleaved, medians (every wall time listed):", "",
        markdown_table(["case", "samples", "store", "format", "wall [s]", "walls [s]", "CPU [s]", "peak [MiB]",
                        "results [MB]"], table), "",
        markdown_table(["target", "measured", "goal", "verdict"], targets), "",
        "## Rate against a plain numpy loop", "",
        markdown_table(["what", "M samples/s", "ratio to the numpy loop"], rate_rows), "",
        "## Codecs of the per-sample results (one thread, 2^21 rows of kws footprints and totals)", "",
        markdown_table(["format", "codec", "write [MB/s]", "size ratio", "write time at 10^7 [s, one core]"],
                       codec_rows), "",
    ]) + "\n"
    return text, verdict


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3, help="repetitions of every whole run (default 3)")
    parser.add_argument("--quick", action="store_true", help="3 x 10^6 instead of 10^7 samples, one repetition")
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    args = parser.parse_args(argv)
    return run(args.out, repeat=1 if args.quick else args.repeat, quick=args.quick)


def run(out: Path = HERE / "output", repeat: int = 3, quick: bool = False) -> int:
    load_before = os.getloadavg()
    print("== whole runs ==", flush=True)
    runs = whole_runs(QUICK_CASES if quick else CASES, repeat)
    print("== rates ==", flush=True)
    rates = {"numpy_loop": numpy_loop_rate(), **engine_rates(3 * 10**6 if quick else 10**7)}
    print("  " + json.dumps({k: round(v / 1e6, 3) for k, v in rates.items()}), flush=True)
    print("== codecs ==", flush=True)
    codecs = codec_table()
    info = load_averages(machine_info(("numpy", "scipy", "numba", "xarray", "dask", "netCDF4", "zarr")), load_before)
    text, verdict = report(runs, rates, codecs, info, quick)
    save_report(out, "store_benchmark", text, {"machine": info, "runs": runs, "rates": rates, "codecs": codecs,
                                               "verdict": verdict})
    return 0


if __name__ == "__main__":
    sys.exit(main())
