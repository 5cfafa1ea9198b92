"""Benchmark: the package's Sobol' analysis against the straightforward SALib path (and OpenTURNS' Saltelli).

Usage::

    python benchmarks/sobol_benchmark.py [--quick] [--out DIR] [--repeats R] [--seed S] [--profile]
                                         [--no-openturns | --install-openturns] [--check]

Model: the keyword-spotting experiment (``experiments/kws.yaml``), its 51 random parameters, the total
footprint as the output, exactly as :func:`uncertainty_footprint.analysis.hotspots.hotspot_analysis` sets it up::

    model = load_experiment("experiments/kws.yaml").model
    names, ppf, evaluate = sobol_problem(model)      # ppf(U (n, d)) -> X (n, d); evaluate(X) -> total (n,)

Sides (all with the same ``ppf`` and ``evaluate``, N base points, 100 bootstrap resamples, 95 % intervals):

* ``ours``: :func:`uncertainty_footprint.analysis.sobol.sobol_indices` (chunked design, ``ppf`` on A and B only,
  vectorized bootstrap): design + evaluation + S1/ST (/S2) with intervals.
* ``salib``: ``SALib.sample.sobol.sample`` -> clipped to the open unit interval as the package does
  (``uncertainty_footprint.inputs.parameters.open_unit``) -> ``Y = evaluate(ppf(U))`` in one go ->
  ``SALib.analyze.sobol.analyze``.
* ``ot_pyfunc`` / ``ot_numpy`` (first and total order only): ``ot.SobolIndicesExperiment`` of independent
  U(0, 1) marginals with the QMC (Sobol' sequence) sampling method, the model evaluated on the
  whole design -- through ``ot.PythonFunction(d, 1, func_sample=...)`` (``ot_pyfunc``, OpenTURNS' documented
  way) or directly with numpy on ``np.asarray(X)`` (``ot_numpy``, the fastest way to feed OpenTURNS; it
  avoids the Python-tuple conversion this OpenTURNS build does for ``PythonFunction``) -- then
  ``ot.SaltelliSensitivityAlgorithm`` with bootstrap size 100, first/total order indices and intervals.
  The OpenTURNS speed target is judged against the faster OpenTURNS variant.

Every measurement runs in a fresh Python process (``_measure.run_fresh``): imports, model building and a tiny
warm-up run of the same path (N = 8) happen first, the peak-RSS mark is then reset (``/proc/self/clear_refs``)
and the baseline RSS taken; the measured section is the whole analysis.  Reported per measurement: wall time
(``time.perf_counter``), absolute peak RSS (``ru_maxrss``), baseline RSS and the increment ``peak - baseline``.
The memory ratio of a comparison is ``our increment / their increment`` (increments above each process'
baseline; the baselines are the same imports and model, so this is the memory the analyses themselves need);
the 4 GiB target at N = 2**20 is checked on the absolute peak.  Speedup is ``their time / our time``.

Outputs in ``--out`` (default ``benchmarks/output/``): ``sobol_benchmark.csv`` (comparison table),
``sobol_benchmark_raw.csv`` (every measurement), ``sobol_benchmark.md`` (machine, targets, tables) and
``sobol_benchmark_scaling.png`` (time and peak-memory increment against N); with ``--profile`` also
``sobol_profile_*.prof`` / ``.txt`` (cProfile of our analysis).

``main`` returns 0 when every measurement ran and our indices equal SALib's, 2 otherwise; with ``--check``
it returns 1 when a target that was run FAILs.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import math
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent
EXPERIMENT = REPO / "experiments" / "kws.yaml"
DEFAULT_OUT = HERE / "output"


def _load_measure():
    """Import ``benchmarks/_measure.py`` whether this file runs as a script or is imported as a module."""
    name = "_benchmarks_measure"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, HERE / "_measure.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


_m = _load_measure()

SEED = 20230101
NUM_RESAMPLES = 100
CONF_LEVEL = 0.95
TINY_N = 8  # warm-up size (lazy imports, first-call caches), not measured
EQUAL_TOL = 1e-10  # "identical within floating-point precision" (observed differences are ~1e-15)
KEYS = ("S1", "S1_conf", "ST", "ST_conf", "S2", "S2_conf")
SIDE_LABEL = {
    "ours": "ours",
    "salib": "SALib",
    "ot_numpy": "OpenTURNS (numpy eval)",
    "ot_pyfunc": "OpenTURNS (PythonFunction)",
}


# --------------------------------------------------------------------------------------------------------
# the measured analyses (run inside the worker process)
# --------------------------------------------------------------------------------------------------------
def _analysis_ours(names, ppf, evaluate, *, n_base, second_order, seed):
    import numpy as np

    from uncertainty_footprint.analysis.sobol import sobol_indices

    ds = sobol_indices(evaluate, ppf, names=names, n_base=n_base, seed=seed, calc_second_order=second_order,
                       num_resamples=NUM_RESAMPLES, conf_level=CONF_LEVEL)
    return {key: np.asarray(ds[key].values, dtype=float) for key in KEYS if key in ds}


def _analysis_salib(names, ppf, evaluate, *, n_base, second_order, seed):
    import numpy as np
    from SALib.analyze import sobol as salib_analyze
    from SALib.sample import sobol as salib_sample

    from uncertainty_footprint.inputs.parameters import open_unit

    d = len(names)
    problem = {"num_vars": d, "names": list(names), "bounds": [[0.0, 1.0]] * d}
    u = salib_sample.sample(problem, n_base, calc_second_order=second_order, seed=seed)
    open_unit(u, out=u)  # as the package does before ppf (scrambled Sobol' points can be 0)
    y = evaluate(ppf(u))
    si = salib_analyze.analyze(problem, y, calc_second_order=second_order, num_resamples=NUM_RESAMPLES,
                               conf_level=CONF_LEVEL, seed=seed)
    keys = KEYS if second_order else KEYS[:4]
    return {key: np.asarray(si[key], dtype=float) for key in keys}


def _analysis_ot(names, ppf, evaluate, *, n_base, second_order, seed, pyfunc):
    import numpy as np
    import openturns as ot

    from uncertainty_footprint.inputs.parameters import open_unit

    if second_order:
        raise ValueError("the OpenTURNS comparison is first and total order only")
    d = len(names)
    ot.ResourceMap.SetAsUnsignedInteger("SobolIndicesAlgorithm-DefaultBootstrapSize", NUM_RESAMPLES)
    ot.RandomGenerator.SetSeed(seed % 2**32)
    # Sobol' (QMC) design like ours; OpenTURNS duplicates the marginals into a 2 d-dimensional sequence
    ot.ResourceMap.SetAsString("SobolIndicesExperiment-SamplingMethod", "QMC")
    uniform = ot.JointDistribution([ot.Uniform(0.0, 1.0)] * d)
    x = ot.SobolIndicesExperiment(uniform, n_base, False).generate()  # N (d + 2) rows: A, B, d mixed blocks

    def model(sample):
        u = open_unit(np.asarray(sample, dtype=float))
        return evaluate(ppf(u))[:, None]

    if pyfunc:
        y = ot.PythonFunction(d, 1, func_sample=model)(x)
    else:
        y = ot.Sample(model(x))
    algo = ot.SaltelliSensitivityAlgorithm(x, y, n_base)
    algo.setBootstrapSize(NUM_RESAMPLES)
    algo.setConfidenceLevel(CONF_LEVEL)
    s1 = np.asarray(algo.getFirstOrderIndices(), dtype=float)
    st = np.asarray(algo.getTotalOrderIndices(), dtype=float)
    out = {"S1": s1, "ST": st}
    for key, interval in (("S1_conf", algo.getFirstOrderIndicesInterval()),
                          ("ST_conf", algo.getTotalOrderIndicesInterval())):
        lower = np.asarray(interval.getLowerBound(), dtype=float)
        upper = np.asarray(interval.getUpperBound(), dtype=float)
        out[key] = 0.5 * (upper - lower)
    return out


def _analysis(side: str):
    if side == "ours":
        return _analysis_ours
    if side == "salib":
        return _analysis_salib
    if side in ("ot_numpy", "ot_pyfunc"):
        return lambda *a, **k: _analysis_ot(*a, pyfunc=side == "ot_pyfunc", **k)
    raise ValueError(f"unknown side {side!r}")


def _reset_peak() -> bool:
    """Reset this process' peak-RSS mark to the current RSS (Linux >= 4.0); False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _worker(spec: dict) -> None:
    """Run one measurement (``spec``: side, n_base, second_order, seed, json, npz[, profile])."""
    import gc
    import warnings

    t_start = time.perf_counter()
    if str(REPO) not in sys.path:
        sys.path.insert(0, str(REPO))
    import numpy as np
    import SALib.analyze.sobol  # noqa: F401  - every worker imports the same libraries: a common baseline
    import SALib.sample.sobol  # noqa: F401

    from uncertainty_footprint.analysis.hotspots import sobol_problem
    from uncertainty_footprint.model.experiment import load_experiment as prepare

    side = spec["side"]
    if side.startswith("ot"):
        import openturns  # noqa: F401

    model = prepare(EXPERIMENT).model
    names, ppf, evaluate = sobol_problem(model)
    analysis = _analysis(side)
    opts = dict(second_order=bool(spec["second_order"]), seed=int(spec["seed"]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        analysis(names, ppf, evaluate, n_base=TINY_N, **opts)  # warm-up
    gc.collect()
    setup_peak = _m.maxrss_mib()
    reset = _reset_peak()
    baseline = _m.rss_mib()
    setup_s = time.perf_counter() - t_start

    profiler = None
    if spec.get("profile"):
        import cProfile

        profiler = cProfile.Profile()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # e.g. ConvergenceWarning at small N: not what is measured
        if profiler is not None:
            profiler.enable()
        t0 = time.perf_counter()
        result = analysis(names, ppf, evaluate, n_base=int(spec["n_base"]), **opts)
        elapsed = time.perf_counter() - t0
        if profiler is not None:
            profiler.disable()
    peak = _m.maxrss_mib()
    hwm = _m.hwm_mib()
    source = "ru_maxrss"
    if hwm is not None and hwm < 0.95 * peak:
        # on Linux an exec'ed child's ru_maxrss includes the high-water mark of the parent's address space at
        # the time of the exec (e.g. a big process calling main()): this process' own VmHWM is then the peak
        peak, source = hwm, "VmHWM (ru_maxrss inherited the parent's mark)"
    if profiler is not None:
        profiler.dump_stats(spec["profile"])
    np.savez(spec["npz"], **result)
    _m.dump_json({
        "side": side,
        "n_base": int(spec["n_base"]),
        "second_order": bool(spec["second_order"]),
        "d": len(names),
        "time_s": elapsed,
        "setup_s": setup_s,
        "baseline_mib": baseline,
        "peak_mib": peak,
        "vmhwm_mib": hwm,
        "setup_peak_mib": setup_peak,
        "peak_reset": reset,
        "peak_source": source,
    }, spec["json"])


# --------------------------------------------------------------------------------------------------------
# orchestration (parent process)
# --------------------------------------------------------------------------------------------------------
def _plan(quick: bool, ot_available: bool) -> list[tuple[str, bool, int]]:
    """Measurements ``(side, second_order, n_base)`` in run order."""
    def p(k: int) -> int:
        return 2**k

    if quick:
        plan = [(s, False, p(k)) for k in (12, 14) for s in ("ours", "salib")]
        plan += [(s, True, p(12)) for s in ("ours", "salib")]
        ot_plan = [("ot_pyfunc", False, p(12)), ("ot_numpy", False, p(12)), ("ot_numpy", False, p(14))]
    else:
        plan = [(s, False, p(k)) for k in (12, 14, 16) for s in ("ours", "salib")]
        plan += [(s, True, p(k)) for k in (12, 14) for s in ("ours", "salib")]
        # ours alone: the 2**20 memory target, scaling points.  SALib is not run at 2**16 with second order
        # (not asked by the issue; 6.8e6 evaluations, ~4x its ~3 min at 2**14, ~8 GB) nor at 2**18+ (its
        # design and inputs alone would take > 11 GiB).
        plan += [("ours", True, p(16)), ("ours", False, p(18)), ("ours", False, p(20))]
        # OpenTURNS' PythonFunction hands func_sample a tuple of tuples here (~190 B per input value): about
        # +3 GB at 2**14 and ~12 GB at 2**16, beyond this machine's budget, so only the numpy variant at 2**16.
        ot_plan = [("ot_pyfunc", False, p(14)), ("ot_numpy", False, p(14)), ("ot_numpy", False, p(16))]
    return plan + (ot_plan if ot_available else [])


def _ensure_openturns(enabled: bool, install: bool, log) -> str:
    """'available x.y' / 'disabled' / 'not installable here' (one ``pip install`` attempt if missing)."""
    if not enabled:
        return "disabled (--no-openturns)"
    if importlib.util.find_spec("openturns") is None:
        if not install:
            return "not installed (pip install -e '.[bench]', or --install-openturns)"
        log("openturns is missing: trying once `python -m pip install openturns` ...")
        try:
            proc = subprocess.run([sys.executable, "-m", "pip", "install", "openturns"], capture_output=True,
                                  text=True, timeout=900)
            ok = proc.returncode == 0
        except (OSError, subprocess.TimeoutExpired):
            ok = False
        importlib.invalidate_caches()
        if not ok or importlib.util.find_spec("openturns") is None:
            return "not installable here"
    check = subprocess.run([sys.executable, "-c", "import openturns; print(openturns.__version__)"],
                           capture_output=True, text=True, timeout=300)
    if check.returncode != 0:
        return "not installable here (installed but fails to import)"
    return f"available {check.stdout.strip()}"


def _measure_once(side, second_order, n_base, *, seed, tmp: Path, timeout, mem_limit_mib, profile=None):
    tag = f"{side}_{'s2' if second_order else 's1'}_{n_base}_{time.monotonic_ns()}"
    spec = {"side": side, "second_order": second_order, "n_base": n_base, "seed": seed,
            "json": str(tmp / f"{tag}.json"), "npz": str(tmp / f"{tag}.npz"), "profile": profile}
    argv = [sys.executable, str(Path(__file__).resolve()), "--worker", json.dumps(spec)]
    code, _, err, wall, killed_mem = _m.run_fresh(argv, timeout=timeout, mem_limit_mib=mem_limit_mib, cwd=REPO)
    if code != 0 or not Path(spec["json"]).exists():
        if killed_mem:
            reason = f"killed: RSS above the {mem_limit_mib / 1024:g} GiB safety limit"
        elif wall >= timeout:
            reason = f"killed: over the {timeout:.0f} s time limit"
        else:
            reason = f"failed (exit {code}): {err.strip().splitlines()[-1] if err.strip() else 'no message'}"
        return {"error": reason, "stderr": err}, None
    rec = json.loads(Path(spec["json"]).read_text())
    rec["process_wall_s"] = wall
    return rec, spec["npz"]


def _fmt(value, spec: str, missing: str = "—") -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return missing
    return format(value, spec)


def _max_abs_diff(a: dict, b: dict, key: str) -> float:
    """max |a - b| over entries finite in both; inf if the NaN patterns or shapes differ; NaN if absent."""
    import numpy as np

    if key not in a or key not in b:
        return float("nan")
    x, y = np.asarray(a[key], float), np.asarray(b[key], float)
    if x.shape != y.shape or not np.array_equal(np.isnan(x), np.isnan(y)):
        return float("inf")
    ok = ~np.isnan(x)
    return float(np.max(np.abs(x[ok] - y[ok]))) if ok.any() else 0.0


TARGETS = [
    # id, comparison side, second order, N, quantity, threshold, description
    ("T1", "salib", False, 2**14, "speedup", 10.0, "S1+ST, N=2^14: ours >= 10x faster than SALib"),
    ("T2", "salib", False, 2**14, "mem_ratio", 0.25, "S1+ST, N=2^14: ours <= 1/4 of SALib's peak memory"),
    ("T3", "salib", False, 2**16, "speedup", 10.0, "S1+ST, N=2^16: ours >= 10x faster than SALib"),
    ("T4", "salib", False, 2**16, "mem_ratio", 0.25, "S1+ST, N=2^16: ours <= 1/4 of SALib's peak memory"),
    ("T5", "salib", True, 2**14, "speedup", 20.0, "S1+ST+S2, N=2^14: ours >= 20x faster than SALib"),
    ("T6", None, False, 2**20, "ours_peak_gib", 4.0, "S1+ST, N=2^20: ours completes within 4 GiB peak RSS"),
    ("T7", "ot", False, 2**16, "speedup", 2.0, "S1+ST, N=2^16: ours >= 2x faster than OpenTURNS' Saltelli"),
]


def _status(value: float, threshold: float, quantity: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "NOT RUN"
    ok = value >= threshold if quantity == "speedup" else value <= threshold
    return "PASS" if ok else "FAIL"


def _build_tables(records: list[dict], arrays: dict):
    """(comparison DataFrame, raw DataFrame) from the measurement records and saved index arrays."""
    import pandas as pd

    raw = pd.DataFrame(records)
    raw["increment_mib"] = raw["peak_mib"] - raw["baseline_mib"]
    raw["evaluations"] = [
        n * (2 * d + 2 if so else d + 2) for n, d, so in zip(raw["n_base"], raw["d"], raw["second_order"])
    ]
    ok = raw[raw["error"].isna()] if "error" in raw else raw
    rows = []
    ours_runs = ok[ok["side"] == "ours"]
    for (so, n), group in ours_runs.groupby(["second_order", "n_base"], sort=True):
        mine = group.iloc[0]
        others = ok[(ok["side"] != "ours") & (ok["second_order"] == so) & (ok["n_base"] == n)]
        failed = raw[(raw["side"] != "ours") & (raw["second_order"] == so) & (raw["n_base"] == n)
                     & raw.get("error", pd.Series(index=raw.index, dtype=object)).notna()]
        base = {
            "indices": "S1, ST, S2" if so else "S1, ST",
            "second_order": bool(so),
            "N": int(n),
            "log2_N": int(round(math.log2(n))),
            "evaluations_ours": int(mine["evaluations"]),
            "ours_time_s": mine["time_s"],
            "ours_peak_mib": mine["peak_mib"],
            "ours_baseline_mib": mine["baseline_mib"],
            "ours_increment_mib": mine["increment_mib"],
        }
        if others.empty and failed.empty:
            rows.append({**base, "comparison": "ours alone", "other": ""})
        for _, other in others.iterrows():
            row = {**base, "comparison": f"ours vs {SIDE_LABEL[other['side']]}", "other": other["side"],
                   "evaluations_other": int(other["evaluations"]),
                   "other_time_s": other["time_s"], "other_peak_mib": other["peak_mib"],
                   "other_baseline_mib": other["baseline_mib"], "other_increment_mib": other["increment_mib"],
                   "speedup": other["time_s"] / mine["time_s"],
                   "mem_ratio": mine["increment_mib"] / other["increment_mib"]}
            a, b = arrays.get(("ours", so, n)), arrays.get((other["side"], so, n))
            if a is not None and b is not None:
                for key in KEYS:
                    row[f"maxdiff_{key}"] = _max_abs_diff(a, b, key)
            rows.append(row)
        for _, other in failed.iterrows():
            rows.append({**base, "comparison": f"ours vs {SIDE_LABEL[other['side']]}", "other": other["side"],
                         "note": other["error"]})
    table = pd.DataFrame(rows)
    for col in ("evaluations_other", "other_time_s", "other_peak_mib", "other_baseline_mib", "other_increment_mib",
                "speedup", "mem_ratio", "note", *[f"maxdiff_{k}" for k in KEYS]):
        if col not in table:
            table[col] = float("nan") if col != "note" else ""
    table["note"] = table["note"].fillna("")
    diff_cols = [f"maxdiff_{k}" for k in KEYS]
    table["max_abs_diff"] = table[diff_cols].max(axis=1, skipna=True)
    table["identical"] = [
        ("PASS" if d <= EQUAL_TOL else "FAIL") if o == "salib" and not math.isnan(d)
        else ("n/a (different design)" if str(o).startswith("ot") else "—")
        for o, d in zip(table["other"], table["max_abs_diff"])
    ]
    table["targets"] = ""
    table["status"] = ""
    for tid, vs, so, n, quantity, threshold, _ in TARGETS:
        for i, row in table.iterrows():
            if row["second_order"] != so or row["N"] != n:
                continue
            if vs is None and row["comparison"] == "ours alone":
                value = row["ours_peak_mib"] / 1024.0
            elif vs is not None and str(row["other"]).startswith(vs):
                value = row[quantity]
            else:
                continue
            sign = ">=" if quantity == "speedup" else "<="
            label = {"speedup": "speedup", "mem_ratio": "mem ratio", "ours_peak_gib": "peak GiB"}[quantity]
            txt = f"{tid}: {label} {sign} {threshold:g}"
            table.at[i, "targets"] = "; ".join(filter(None, [table.at[i, "targets"], txt]))
            table.at[i, "status"] = "; ".join(filter(None, [table.at[i, "status"],
                                                             f"{tid} {_status(value, threshold, quantity)}"]))
    order = ["comparison", "indices", "N", "log2_N", "evaluations_ours", "evaluations_other",
             "ours_time_s", "other_time_s", "speedup",
             "ours_peak_mib", "ours_baseline_mib", "ours_increment_mib",
             "other_peak_mib", "other_baseline_mib", "other_increment_mib", "mem_ratio",
             *diff_cols, "max_abs_diff", "identical", "targets", "status", "other", "second_order", "note"]
    table = table[order].sort_values(["second_order", "N", "comparison"], kind="stable").reset_index(drop=True)
    return table, raw


def _target_summary(table) -> list[tuple[str, str, str, str]]:
    """(id, description, measured value, status) for every target, NOT RUN when its case was not measured."""
    out = []
    for tid, vs, so, n, quantity, threshold, text in TARGETS:
        sel = table[(table["second_order"] == so) & (table["N"] == n)]
        if vs is None:
            sel = sel[sel["comparison"] == "ours alone"]
            values = [(r["ours_peak_mib"] / 1024.0, f"{r['ours_peak_mib'] / 1024:.2f} GiB absolute peak "
                       f"({r['ours_increment_mib'] / 1024:.2f} GiB increment), {r['ours_time_s']:.1f} s")
                      for _, r in sel.iterrows()]
        else:
            sel = sel[sel["other"].astype(str).str.startswith(vs)]
            values = []
            for _, r in sel.iterrows():
                v = r[quantity]
                if isinstance(v, float) and math.isnan(v):
                    continue
                unit = "x" if quantity == "speedup" else ""
                values.append((v, f"{v:.2f}{unit} vs {SIDE_LABEL[r['other']]}"))
            if vs == "ot" and values:  # judged against the faster OpenTURNS variant
                values = [min(values, key=lambda t: t[0])]
        if not values:
            out.append((tid, text, "", "NOT RUN"))
            continue
        value, shown = values[0]
        out.append((tid, text, "; ".join(s for _, s in values), _status(value, threshold, quantity)))
    salib = table[table["other"] == "salib"]
    if len(salib):
        compared = salib[salib["identical"].isin(["PASS", "FAIL"])]
        worst = compared["max_abs_diff"].max() if len(compared) else float("nan")
        status = ("PASS" if (compared["identical"] == "PASS").all() else "FAIL") if len(compared) else "NOT RUN"
        out.append(("T0", f"indices (S1, ST, S1_conf, ST_conf, S2, S2_conf) equal SALib's within {EQUAL_TOL:g} "
                           "at every compared N", f"max abs diff {worst:.2e}", status))
    return out


def _markdown(table, raw, machine: dict, ot_status: str, targets, quick: bool, seed: int) -> str:
    m = _m
    lines = ["# Sobol' benchmark: uncertainty_footprint vs SALib (and OpenTURNS)", ""]
    lines += [f"Mode: {'quick' if quick else 'full'}; model: `experiments/kws.yaml` total footprint, "
              f"d = {int(raw['d'].dropna().iloc[0]) if raw['d'].notna().any() else '?'} random parameters; "
              f"seed {seed}; {NUM_RESAMPLES} bootstrap resamples; conf_level {CONF_LEVEL}.", ""]
    lines += ["## Machine", ""]
    lines += [m.markdown_table(["item", "value"], [[k, v] for k, v in machine.items()] + [["OpenTURNS status",
                                                                                         ot_status]]), ""]
    lines += ["## Targets", ""]
    lines += [m.markdown_table(["id", "target", "measured", "status"], [list(t) for t in targets]), ""]
    lines += ["## Comparisons", "",
              "speedup = their time / our time; mem ratio = our peak-RSS increment / their increment (each above "
              "its own process' baseline RSS after imports, model building and warm-up; the baselines hold the "
              "same imports and model). Peak = absolute peak RSS (ru_maxrss) during the analysis.", ""]
    header = ["comparison", "indices", "N", "evals (ours/other)", "ours s", "other s", "speedup",
              "ours peak / incr MiB", "other peak / incr MiB", "mem ratio", "max abs diff", "identical", "status"]
    rows = []
    for _, r in table.iterrows():
        evals = f"{r['evaluations_ours']:,}" + (
            f" / {int(r['evaluations_other']):,}" if not math.isnan(r["evaluations_other"]) else "")
        rows.append([
            r["comparison"], r["indices"], f"2^{r['log2_N']}", evals,
            _fmt(r["ours_time_s"], ".3g"), _fmt(r["other_time_s"], ".3g"), _fmt(r["speedup"], ".1f"),
            f"{r['ours_peak_mib']:.0f} / {r['ours_increment_mib']:.0f}",
            "—" if math.isnan(r["other_peak_mib"]) else f"{r['other_peak_mib']:.0f} / {r['other_increment_mib']:.0f}",
            _fmt(r["mem_ratio"], ".3f"), _fmt(r["max_abs_diff"], ".1e"), r["identical"],
            "; ".join(filter(None, [r["status"], r["note"]])) or "—",
        ])
    lines += [m.markdown_table(header, rows), ""]
    lines += ["Maximum absolute differences per index (ours vs the other side; for OpenTURNS these are "
              "statistical, different design and S1 estimator):", ""]
    dh = ["comparison", "indices", "N"] + list(KEYS)
    drows = [[r["comparison"], r["indices"], f"2^{r['log2_N']}"] + [_fmt(r[f"maxdiff_{k}"], ".1e") for k in KEYS]
             for _, r in table.iterrows() if r["other"]]
    lines += [m.markdown_table(dh, drows), ""]
    lines += ["## Every measurement (fresh process each)", ""]
    rh = ["side", "indices", "N", "evaluations", "time s", "peak MiB", "baseline MiB", "increment MiB",
          "VmHWM MiB", "setup s", "error"]
    rrows = []
    for _, r in raw.iterrows():
        err = r.get("error") if isinstance(r.get("error"), str) else ""
        rrows.append([SIDE_LABEL[r["side"]], "S1, ST, S2" if r["second_order"] else "S1, ST",
                      f"2^{int(round(math.log2(r['n_base'])))}",
                      "" if math.isnan(r["evaluations"]) else f"{int(r['evaluations']):,}",
                      _fmt(r.get("time_s"), ".3g"), _fmt(r.get("peak_mib"), ".0f"), _fmt(r.get("baseline_mib"), ".0f"),
                      _fmt(r.get("increment_mib"), ".0f"), _fmt(r.get("vmhwm_mib"), ".0f"), _fmt(r.get("setup_s"), ".1f"),
                      err])
    lines += [m.markdown_table(rh, rrows), ""]
    return "\n".join(lines)


def _plot(raw, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = raw[raw["error"].isna()] if "error" in raw else raw
    fig, (ax_t, ax_m) = plt.subplots(1, 2, figsize=(12, 4.6))
    colors = {"ours": "C0", "salib": "C1", "ot_numpy": "C2", "ot_pyfunc": "C3"}
    for (side, so), g in ok.groupby(["side", "second_order"], sort=False):
        g = g.groupby("n_base", as_index=False).agg(time_s=("time_s", "min"), increment_mib=("increment_mib", "max"),
                                                     peak_mib=("peak_mib", "max"))
        style = dict(color=colors.get(side, "k"), ls="--" if so else "-", marker="s" if so else "o",
                     label=f"{SIDE_LABEL[side]}, {'S1+ST+S2' if so else 'S1+ST'}")
        if side.startswith("ot"):  # hollow: OpenTURNS' memory curve can coincide with SALib's
            style.update(markerfacecolor="none", markersize=9, lw=1.2)
        ax_t.plot(g["n_base"], g["time_s"], **style)
        ax_m.plot(g["n_base"], g["increment_mib"], **style)
    ax_m.axhline(4096, color="grey", ls=":", lw=1, label="4 GiB")
    ns = sorted(set(int(n) for n in ok["n_base"]))
    for ax, label in ((ax_t, "wall time of the whole analysis [s]"),
                      (ax_m, "peak RSS increment above baseline [MiB]")):
        ax.set_xscale("log", base=2)
        ax.set_xticks(ns, [f"$2^{{{int(round(math.log2(n)))}}}$" for n in ns])
        ax.set_yscale("log")
        ax.set_xlabel("base sample size N")
        ax.set_ylabel(label)
        ax.grid(True, which="both", alpha=0.3)
    ax_t.set_title("Time against N (fresh process per point)")
    ax_m.set_title("Peak memory against N (ru_maxrss - baseline RSS)")
    ax_t.legend(fontsize=8, loc="best")
    ax_m.legend(handles=ax_m.get_lines()[-1:], fontsize=8, loc="lower right")
    fig.suptitle("Sobol' analysis of the keyword-spotting model: uncertainty_footprint vs SALib / OpenTURNS",
                 fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _profile_report(prof_path: Path, txt_path: Path, top: int = 25) -> tuple[str, str]:
    """Write the cumulative and internal-time listings to ``txt_path``; return both (short versions)."""
    import io
    import pstats

    texts = []
    for key in ("cumulative", "tottime"):
        for n in (top, 15):
            buf = io.StringIO()
            pstats.Stats(str(prof_path), stream=buf).strip_dirs().sort_stats(key).print_stats(n)
            texts.append(buf.getvalue())
    txt_path.write_text(texts[0] + "\n" + texts[2])
    return texts[1], texts[3]


def run(quick: bool, out: Path, *, seed: int = SEED, repeats: int = 1, profile: bool = False,
        openturns: bool = True, install_openturns: bool = False, mem_limit_gib: float = 11.0,
        timeout_s: float = 1800.0, log=print):
    """Run the benchmark, write the CSV/Markdown tables and the scaling plot into ``out``, return the table.

    Parameters
    ----------
    quick : bool
        N = 2**12 and 2**14 only (second order at 2**12 only, no 2**20, OpenTURNS at 2**12 and 2**14).
    out : Path
        Output folder (created).
    seed : int
        Seed of the designs and bootstraps (SALib semantics; same on both sides).
    repeats : int
        Fresh processes per measurement; the minimum time and maximum peak are kept.
    profile : bool
        Also run our analysis under cProfile (S1+ST at the largest N compared with SALib, and S1+ST+S2 at
        2**14, or 2**12 with ``quick``) and write ``sobol_profile_*.prof/.txt``.
    openturns, install_openturns : bool
        Include OpenTURNS; try once to ``pip install`` it if missing.
    mem_limit_gib : float
        A measurement whose RSS exceeds this is killed (machine safety) and reported as such.
    timeout_s : float
        Per-measurement time limit.

    Returns
    -------
    pandas.DataFrame
        The comparison table (one row per ours-vs-other comparison or ours-alone case); ``attrs`` hold
        ``raw`` (every measurement), ``targets``, ``machine`` and ``openturns``.
    """
    import numpy as np

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    t_all = time.perf_counter()
    machine = _m.machine_info()
    ot_status = _ensure_openturns(openturns, install_openturns, log)
    machine = _m.machine_info()  # versions after a possible install
    log(f"machine: {machine['cpu']}, {machine['logical_cores']} cores, {machine['ram_gib']} GiB RAM; Python "
        f"{machine['python']}, numpy {machine['numpy']}, scipy {machine['scipy']}, SALib {machine['SALib']}; "
        f"OpenTURNS: {ot_status}")
    plan = _plan(quick, ot_status.startswith("available"))
    records, arrays = [], {}
    with tempfile.TemporaryDirectory(prefix="sobol-bench-") as tmpdir:
        tmp = Path(tmpdir)
        for i, (side, so, n) in enumerate(plan, 1):
            best = None
            for _ in range(max(1, repeats)):
                rec, npz = _measure_once(side, so, n, seed=seed, tmp=tmp, timeout=timeout_s,
                                         mem_limit_mib=mem_limit_gib * 1024)
                if "error" in rec:
                    best = rec
                    break
                if best is None:
                    best = rec
                    with np.load(npz) as z:
                        arrays[(side, so, n)] = {k: z[k] for k in z.files}
                else:
                    best["time_s"] = min(best["time_s"], rec["time_s"])
                    best["peak_mib"] = max(best["peak_mib"], rec["peak_mib"])
                    best["baseline_mib"] = min(best["baseline_mib"], rec["baseline_mib"])
            if "error" in best:
                log(f"[{i}/{len(plan)}] {SIDE_LABEL[side]:<27} {'S1+ST+S2' if so else 'S1+ST':<8} N=2^{int(math.log2(n))}: "
                    f"{best['error']}")
                best = {"side": side, "second_order": so, "n_base": n, "error": best["error"]}
            else:
                log(f"[{i}/{len(plan)}] {SIDE_LABEL[side]:<27} {'S1+ST+S2' if so else 'S1+ST':<8} N=2^{int(math.log2(n))}: "
                    f"{best['time_s']:8.2f} s, peak {best['peak_mib']:7.0f} MiB "
                    f"(baseline {best['baseline_mib']:.0f}, +{best['peak_mib'] - best['baseline_mib']:.0f})")
                if not best.get("peak_reset", True):
                    log("    note: could not reset the peak-RSS mark; the peak includes the setup peak")
                if best.get("peak_source", "ru_maxrss") != "ru_maxrss":
                    log(f"    note: peak taken from {best['peak_source']}")
            best.setdefault("error", None)
            records.append(best)
        profile_texts = []
        if profile:
            s1_n = max((n for side, so, n in plan if side == "salib" and not so), default=2**14)
            cases = [(False, s1_n), (True, 2**12 if quick else 2**14)]
            for so, n in cases:
                stem = f"sobol_profile_ours_{'s2' if so else 's1'}_N{n}"
                prof = out / f"{stem}.prof"
                rec, _ = _measure_once("ours", so, n, seed=seed, tmp=tmp, timeout=timeout_s,
                                       mem_limit_mib=mem_limit_gib * 1024, profile=str(prof))
                if "error" in rec:
                    log(f"profile {stem}: {rec['error']}")
                    continue
                text = _profile_report(prof, out / f"{stem}.txt")
                profile_texts.append((stem, rec["time_s"], text))

    for rec in records:
        rec.setdefault("d", float("nan"))
    table, raw = _build_tables(records, arrays)
    targets = _target_summary(table)
    md = _markdown(table, raw, machine, ot_status, targets, quick, seed)
    table.to_csv(out / "sobol_benchmark.csv", index=False, float_format="%.6g")
    raw.to_csv(out / "sobol_benchmark_raw.csv", index=False, float_format="%.6g")
    (out / "sobol_benchmark.md").write_text(md + "\n")
    _plot(raw, out / "sobol_benchmark_scaling.png")
    log("")
    log(md)
    for stem, secs, (cumulative, internal) in profile_texts:
        log(f"\n## cProfile of ours ({stem}, {secs:.2f} s under the profiler)\n")
        for text in (cumulative, internal):
            lines = text.splitlines()
            start = next((i for i, line in enumerate(lines) if "Ordered by" in line), 0)
            log("\n".join(lines[start:]).rstrip())
    log(f"\nwritten: {out / 'sobol_benchmark.csv'}, {out / 'sobol_benchmark_raw.csv'}, "
        f"{out / 'sobol_benchmark.md'}, {out / 'sobol_benchmark_scaling.png'}")
    log(f"benchmark wall time: {time.perf_counter() - t_all:.0f} s")
    table.attrs.update({"raw": raw, "targets": targets, "machine": machine, "openturns": ot_status})
    return table


def main(argv=None) -> int:
    """Command-line entry point; see the module docstring for the exit codes."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true",
                        help="N = 2^12 and 2^14 only; second order at 2^12 only; no 2^20 (about 1-3 minutes)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    parser.add_argument("--seed", type=int, default=SEED, help=f"design and bootstrap seed (default {SEED})")
    parser.add_argument("--repeats", type=int, default=1,
                        help="fresh processes per measurement; the minimum time is kept (default 1)")
    parser.add_argument("--profile", action="store_true", help="also cProfile our analysis on two cases")
    parser.add_argument("--no-openturns", action="store_true", help="skip the OpenTURNS comparison")
    parser.add_argument("--install-openturns", action="store_true",
                        help="if OpenTURNS is missing, try once to pip install it (normally: pip install -e '.[bench]')")
    parser.add_argument("--mem-limit-gib", type=float, default=11.0,
                        help="kill a measurement whose RSS exceeds this (default 11)")
    parser.add_argument("--check", action="store_true", help="exit with 1 when a target that was run FAILs")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(json.loads(args.worker))
        return 0
    table = run(args.quick, args.out, seed=args.seed, repeats=args.repeats, profile=args.profile,
                openturns=not args.no_openturns, install_openturns=args.install_openturns,
                mem_limit_gib=args.mem_limit_gib)
    raw = table.attrs["raw"]
    targets = table.attrs["targets"]
    broken = raw["error"].notna().any() or any(t[0] == "T0" and t[3] != "PASS" for t in targets)
    if broken:
        return 2
    if args.check and any(t[3] == "FAIL" for t in targets):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
