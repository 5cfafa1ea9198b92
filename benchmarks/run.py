"""All benchmarks in one command: the Sobol' analysis against SALib (and OpenTURNS) and the Monte Carlo throughput.

Usage::

    python benchmarks/run.py [--quick] [--out DIR] [--only sobol|mc|exact|startup|large|shapley|store]

Writes ``sobol_benchmark.*``, ``mc_benchmark.*``, ``exact_benchmark.*``, ``startup_benchmark.*``,
``large_runs_benchmark.*`` and the scaling plots into DIR (default ``benchmarks/output/``) and prints the ratios
against the targets of issues 5, 10 and 11 (``startup``: whole-process times of the default run, ``--no-figures``,
1000 samples and the Monte Carlo rate, ``--quick`` there means 2 repetitions and no 10^7-sample run; ``large``:
every shipped experiment at 10^7 samples, 10^6 with ``--quick``; ``store``: the cost of writing the per-sample
results, the marginal rate and the memory of issue 27). Speed and memory are measured
here, never in the test suite.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only (a few minutes)")
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    parser.add_argument("--only", choices=("sobol", "mc", "exact", "startup", "large", "shapley", "store"), default=None,
                        help="run one benchmark only")
    args = parser.parse_args(argv)
    os.environ.setdefault("MPLBACKEND", "Agg")
    if args.only in (None, "sobol"):
        import sobol_benchmark

        print("== Sobol' analysis: ours vs the SALib path (and OpenTURNS) ==", flush=True)
        sobol_benchmark.run(args.quick, args.out)
    if args.only in (None, "mc"):
        import mc_benchmark

        print("== Monte Carlo throughput and memory ==", flush=True)
        mc_benchmark.run(args.quick, args.out)
    if args.only in (None, "exact"):
        import exact_benchmark

        print("== Exact variance decomposition vs the sampled Sobol' estimator ==", flush=True)
        exact_benchmark.run(args.quick, args.out)
    if args.only in (None, "startup"):
        import startup_benchmark

        print("== Time to first answer: whole-process wall times (issue 11) ==", flush=True)
        startup_benchmark.run(args.quick, args.out, repeat=2 if args.quick else 5)
    if args.only in (None, "large"):
        import large_runs_benchmark

        print("== Large runs of every shipped experiment (issue 11) ==", flush=True)
        large_runs_benchmark.run(10**6 if args.quick else 10**7, out=args.out)
    if args.only in (None, "shapley"):
        import shapley_benchmark

        print("== Shapley effects with dependent inputs (issue 24) ==", flush=True)
        shapley_benchmark.run(args.out, direct_permutations=10 if args.quick else 30)
    if args.only in (None, "store"):
        import store_benchmark

        print("== Large runs: the store, the rate and the memory (issue 27) ==", flush=True)
        store_benchmark.run(args.out, repeat=1 if args.quick else 3, quick=args.quick)
    print(f"Tables and plots in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
