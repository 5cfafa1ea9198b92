"""Shapley effects of ``kws_correlated.yaml`` with dependent inputs: time to +-0.02, and the speed-up over a direct
implementation of the same estimator.

Usage::

    python benchmarks/shapley_benchmark.py [--out DIR] [--direct-permutations P]

Target (issue 24): the Shapley effects of kws with a few correlated pairs (52 inputs) to +-0.02 (the largest 95 %
bootstrap half-width over the players) in under a minute on 2 cores, per parameter, component and stage.

Cases, in this process (after the model is built and one warm-up call):

* ``package``: :func:`uncertainty_footprint.analysis.dependence.shapley_hotspots` with the experiment's settings
  (``shapley.permutations``, 3 inner runs, 1000 bootstrap resamples) for each grouping; the time, the model runs
  and the largest half-width. If a half-width is above 0.02 the permutations that reach it are estimated
  (half-width ~ 1/sqrt(permutations)) and that run is timed too.
* ``ratio``: the same estimator (Song, Nelson & Staum 2016, Algorithm 1 with fresh draws for every prefix, as
  published) written directly: a loop over permutations and prefixes, one model call of ``n_inner`` rows per
  prefix, numpy but no vectorisation over permutations. Its time per permutation is divided by that of the
  package's vectorised estimator in the same mode (``common_random_numbers=False``), on the parameter grouping.

Writes ``shapley_benchmark.json`` and ``shapley_benchmark.md`` into DIR (default ``benchmarks/output/``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import numpy as np
from scipy.special import ndtr

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:0] = [str(HERE), str(ROOT)]  # the benchmark runs from a clone with or without an install

from _measure import machine_info, markdown_table  # noqa: E402

EXPERIMENT = ROOT / "experiments" / "kws_correlated.yaml"
TARGET_HALF_WIDTH = 0.02
TARGET_SECONDS = 60.0
GROUPINGS = ("parameter", "component", "stage")


def _half_width(ds) -> float:
    return float(((ds["conf_high"] - ds["conf_low"]) / 2).max())


def direct_shapley(model, n_perm: int, seed: int, n_inner: int = 3) -> np.ndarray:
    """Song, Nelson & Staum (2016) Algorithm 1, one permutation and one prefix at a time: unnormalised effects."""
    ps = model.parameters
    names = ps.random_names
    d = len(names)
    corr = ps.correlations
    cidx = [names.index(n) for n in corr.names]
    cpos = {i: k for k, i in enumerate(cidx)}
    normal, chol = corr.normal, corr.cholesky
    rng = np.random.default_rng(seed)
    cache: dict = {}
    effects = np.zeros(d)
    for _ in range(n_perm):
        perm = rng.permutation(d)
        previous = 0.0
        for j in range(d - 1):
            inside = set(perm[: j + 1].tolist())
            u_out = rng.random(d)
            z_out = chol @ rng.standard_normal(len(cidx))
            u_out[cidx] = ndtr(z_out)
            u = np.tile(u_out, (n_inner, 1))
            for i in inside:
                if i not in cpos:
                    u[:, i] = rng.random(n_inner)
            inner = [k for k, i in enumerate(cidx) if i in inside]
            if inner:
                outer = [k for k, i in enumerate(cidx) if i not in inside]
                key = frozenset(inner)
                if key not in cache:
                    if outer:
                        a = np.linalg.solve(normal[np.ix_(outer, outer)], normal[np.ix_(outer, inner)]).T
                        s = normal[np.ix_(inner, inner)] - a @ normal[np.ix_(outer, inner)]
                    else:
                        a, s = np.zeros((len(inner), 0)), normal[np.ix_(inner, inner)]
                    cache[key] = (a, np.linalg.cholesky((s + s.T) / 2))
                a, f = cache[key]
                z = (a @ z_out[outer])[None, :] + rng.standard_normal((n_inner, len(inner))) @ f.T
                u[:, [cidx[k] for k in inner]] = ndtr(z)
            values = ps.ppf(np.clip(u, 2**-53, 1 - 2**-53))
            cost = float(np.var(model.evaluate(values).sum(axis=1), ddof=1))
            effects[perm[j]] += cost - previous
            previous = cost
        effects[perm[d - 1]] -= previous
    return effects


def run(out: Path, direct_permutations: int = 30) -> dict:
    """Measure (see the module docstring), write the JSON and Markdown files into ``out`` and return the report."""
    from uncertainty_footprint.analysis.dependence import shapley_hotspots
    from uncertainty_footprint.analysis.shapley import shapley_effects
    from uncertainty_footprint.model.experiment import load_experiment

    exp = load_experiment(EXPERIMENT)
    model, sh = exp.model, exp.spec.shapley
    seed = exp.spec.sampling.seed
    shapley_hotspots(model, seed=1, permutations=10, groupings=("stage",))  # warm-up (lazy imports, caches)
    rows, report = [], {"machine": machine_info(), "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
                        "load": os.getloadavg()[0], "experiment": str(EXPERIMENT.relative_to(ROOT)),
                        "inputs": len(model.parameters.random_names),
                        "correlated_pairs": [list(p) for p in model.parameters.correlations.pairs]}
    total = 0.0
    for grouping in GROUPINGS:
        t = time.perf_counter()
        ds = shapley_hotspots(model, seed=seed, permutations=sh.permutations, inner=sh.inner,
                              bootstrap=sh.bootstrap, groupings=(grouping,))[grouping]
        seconds = time.perf_counter() - t
        hw = _half_width(ds)
        case = {"grouping": grouping, "players": int(ds["shapley"].size), "permutations": sh.permutations,
                "model_runs": int(ds.attrs["n_evaluations"]), "seconds": round(seconds, 2),
                "max_half_width": round(hw, 4)}
        if hw > TARGET_HALF_WIDTH:  # the permutations that reach the target, measured
            needed = int(np.ceil(sh.permutations * (hw / TARGET_HALF_WIDTH) ** 2 * 1.1))
            t = time.perf_counter()
            ds = shapley_hotspots(model, seed=seed, permutations=needed, inner=sh.inner, bootstrap=sh.bootstrap,
                                  groupings=(grouping,))[grouping]
            seconds = time.perf_counter() - t
            case.update(permutations=needed, model_runs=int(ds.attrs["n_evaluations"]), seconds=round(seconds, 2),
                        max_half_width=round(_half_width(ds), 4))
        total += case["seconds"]
        rows.append(case)
    report["package"] = rows
    report["seconds_all_groupings"] = round(total, 2)
    report["target_met"] = bool(total < TARGET_SECONDS and all(r["max_half_width"] <= TARGET_HALF_WIDTH
                                                               for r in rows))

    # the speed-up over a direct implementation of the same estimator (fresh draws for every prefix)
    ps = model.parameters
    n_vec = 2000
    t = time.perf_counter()
    shapley_effects(lambda v: model.evaluate(ps.values(v, len(next(iter(v.values()))))).sum(axis=1),
                    lambda name, u: ps[name].distribution.ppf(u), ps.random_names, ps.correlations, n_perm=n_vec,
                    seed=seed, n_boot=0, common_random_numbers=False)
    vectorised = (time.perf_counter() - t) / n_vec
    t = time.perf_counter()
    direct_shapley(model, direct_permutations, seed)
    direct = (time.perf_counter() - t) / direct_permutations
    report["ratio"] = {"direct_ms_per_permutation": round(1e3 * direct, 3),
                       "vectorised_ms_per_permutation": round(1e3 * vectorised, 4),
                       "speed_up": round(direct / vectorised, 1), "direct_permutations": direct_permutations,
                       "vectorised_permutations": n_vec}

    out.mkdir(parents=True, exist_ok=True)
    (out / "shapley_benchmark.json").write_text(json.dumps(report, indent=1) + "\n")
    m = report["machine"]
    text = [f"# Shapley effects with dependent inputs ({report['experiment']})", "",
            f"Machine: {m['cpu']}, {m['logical_cores']} logical cores, {m['ram_gib']} GiB; Python {m['python']}; "
            f"{report['when']}, load average {report['load']:.2f}.",
            f"{report['inputs']} inputs; correlated pairs: "
            + ", ".join(f"({a}, {b}, {rho:g})" for a, b, rho in report["correlated_pairs"]) + ".", "",
            markdown_table(["grouping", "players", "permutations", "model runs", "seconds", "max half-width"],
                           [[r["grouping"], r["players"], r["permutations"], r["model_runs"], r["seconds"],
                             r["max_half_width"]] for r in rows]), "",
            f"All three groupings: {report['seconds_all_groupings']} s (target < {TARGET_SECONDS:g} s with every "
            f"half-width <= {TARGET_HALF_WIDTH}): {'met' if report['target_met'] else 'NOT met'}.",
            f"Direct implementation of the same estimator (fresh draws per prefix, a loop over permutations): "
            f"{report['ratio']['direct_ms_per_permutation']} ms per permutation; vectorised: "
            f"{report['ratio']['vectorised_ms_per_permutation']} ms; speed-up {report['ratio']['speed_up']}x."]
    (out / "shapley_benchmark.md").write_text("\n".join(text) + "\n")
    print("\n".join(text))
    return report


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "output")
    parser.add_argument("--direct-permutations", type=int, default=30)
    args = parser.parse_args()
    run(args.out, args.direct_permutations)


if __name__ == "__main__":
    main()
