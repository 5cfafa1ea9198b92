"""Command line: argument parsing, printing and exit codes only (the science lives in the other modules).

Exit status: 0 success, 2 invalid input (one line on stderr naming the file, key path and what is allowed),
1 an unexpected failure.
"""

from __future__ import annotations

import argparse
import sys
import warnings
from pathlib import Path
from typing import Sequence

from .errors import ConfigError, FootprintError
from .warnings import FootprintWarning

__all__ = ["main", "build_parser"]


def _positive_int(text: str) -> int:
    """An integer >= 1, also written as ``1e5`` or ``65536.0``."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not number.is_integer() or number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text) if text.strip().lstrip("+").isdigit() else int(number)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m uncertainty_footprint",
        description="Carbon footprint of TinyML devices with honest uncertainty: Monte Carlo propagation of "
                    "every emission factor, quantity, power and lifetime through the lifecycle model of "
                    "Prakash et al. (2023) and Pirson & Bol (2021).")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="folder of distribution data files (default: distributions/ of the project, or "
                             "$UNCERTAINTY_FOOTPRINT_DATA)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run an experiment and write results", description=(
        "Run an experiment: sample every parameter, evaluate the lifecycle model, print the summary table "
        "(mean, median, 90 % and 95 % intervals, share per component, stage and total, kg CO2-eq) and the "
        "Sobol' hotspots, and write results.nc, summary.csv, deterministic.csv, sobol.nc, sobol.csv, "
        "report.md, report.html, table.tex and figures/ to the output folder."))
    run.add_argument("experiment", metavar="EXPERIMENT", help="experiment YAML file, e.g. experiments/kws.yaml")
    run.add_argument("--out", metavar="DIR", type=Path, default=None,
                     help="output folder (default: results/<experiment file stem>/); replaced atomically")
    run.add_argument("--samples", metavar="N", type=_positive_int, default=None,
                     help="Monte Carlo sample size (overrides sampling.samples)")
    run.add_argument("--seed", metavar="N", type=_positive_int, default=None,
                     help="random seed (overrides sampling.seed); same seed, same numbers")
    run.add_argument("--design", choices=("mc", "lhs", "sobol"), default=None,
                     help="unit-hypercube design: plain Monte Carlo, Latin hypercube or scrambled Sobol' "
                          "(overrides sampling.design)")
    sob = run.add_argument_group("Sobol' hotspots (override the experiment's sobol section)")
    sob.add_argument("--no-sobol", action="store_true", help="skip the Sobol' sensitivity analysis")
    sob.add_argument("--sobol-samples", metavar="N", type=_positive_int, default=None,
                     help="base sample size N, a power of two (the model runs N (k + 2) times per grouping)")
    sob.add_argument("--second-order", action=argparse.BooleanOptionalAction, default=None,
                     help="also compute second-order indices S2")
    sob.add_argument("--groupings", metavar="LIST", default=None,
                     help="comma-separated: parameter, component, stage (default: all three)")
    sob.add_argument("--conf-level", metavar="P", type=float, default=None,
                     help="confidence level of the bootstrap intervals (default 0.95)")
    sob.add_argument("--num-resamples", metavar="N", type=_positive_int, default=None,
                     help="bootstrap resamples for the intervals (default 100)")
    run.add_argument("--chunk-size", metavar="N", type=_positive_int, default=None,
                     help="samples evaluated at once (memory only; never changes the numbers; default 65536, "
                          "262144 when streaming)")
    eng = run.add_argument_group("large runs (streaming with dask; numbers never depend on these)")
    eng.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                     help=f"stream the Monte Carlo with bounded memory (default: when --samples exceeds "
                          f"{1 << 20} or a scheduler is given); needs design mc or sobol")
    eng.add_argument("--scheduler", choices=("synchronous", "threads", "processes"), default=None,
                     help="dask scheduler for a streaming run (default threads)")
    eng.add_argument("--scheduler-address", metavar="tcp://HOST:PORT", default=None,
                     help="run on a dask.distributed cluster at this scheduler address")
    eng.add_argument("--store", choices=("footprint", "all", "none"), default="footprint",
                     help="per-sample data a streaming run writes to results.nc: footprints and totals "
                          "(default), also the inputs, or none (then no figures or reports)")
    run.add_argument("--no-figures", action="store_true",
                     help="skip the figures and reports (figures/, report.md, report.html, table.tex)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    cmp_ = sub.add_parser("compare", help="compare experiments with common random numbers", description=(
        "Run two or more experiments with the same seed, samples and design; shared parameters take common "
        "random numbers. Prints each total with its intervals, the paired differences B - A with intervals and "
        "P(A < B); writes comparison.nc, comparison.csv, differences.csv and comparison.png/.pdf."))
    cmp_.add_argument("experiments", metavar="EXPERIMENT", nargs="+", help="two or more experiment files")
    cmp_.add_argument("--out", metavar="DIR", type=Path, default=None,
                      help="output folder (default: results/compare_<stem>_<stem>...)")
    cmp_.add_argument("--samples", metavar="N", type=_positive_int, default=None, help="sample size")
    cmp_.add_argument("--seed", metavar="N", type=_positive_int, default=None, help="random seed")
    cmp_.add_argument("--design", choices=("mc", "lhs"), default=None,
                      help="design with common random numbers (default: the first experiment's)")
    cmp_.add_argument("--quiet", action="store_true", help="print nothing but errors")

    val = sub.add_parser("validate", help="check an experiment file without running it",
                         description="Validate an experiment file against the schema and the data catalog.")
    val.add_argument("experiment", metavar="EXPERIMENT")
    val.add_argument("--quiet", action="store_true", help="print nothing but errors")

    lst = sub.add_parser("list", help="show blocks, HSLs, parameters and reference devices",
                         description="List the functional blocks and their HSLs, the parameters with unit, "
                                     "distribution, status and source, the application presets and the "
                                     "reference devices.")
    lst.add_argument("what", nargs="?", default="all",
                     choices=("all", "blocks", "parameters", "applications", "references", "sources"))
    lst.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)
    return parser


def _cmd_run(args) -> int:
    from .reports import terminal
    from .analysis.run import EngineOptions
    from .reports.folder import run_to_folder

    sobol = {"enabled": False if args.no_sobol else None, "samples": args.sobol_samples,
             "second_order": args.second_order, "conf_level": args.conf_level, "num_resamples": args.num_resamples,
             "groupings": None if args.groupings is None else [g.strip() for g in args.groupings.split(",")]}
    engine = EngineOptions(stream=args.stream, scheduler=args.scheduler, address=args.scheduler_address,
                           store=args.store)
    bar = _ProgressBar(args.quiet, "Monte Carlo", "samples")
    out = args.out if args.out is not None else Path("results") / Path(args.experiment).stem
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", FootprintWarning)
        result = run_to_folder(args.experiment, out, documents=not args.no_figures, data_dir=args.data_dir,
                               samples=args.samples, seed=args.seed, design=args.design, sobol=sobol,
                               chunk_size=args.chunk_size, convergence=not args.no_figures, engine=engine,
                               progress=bar)
    bar.close()
    if not args.quiet:
        print(terminal.run_report(result, out))
    _print_warnings(caught)
    return 0


class _ProgressBar:
    """A tqdm bar fed with ``(done, total)`` calls; shown only on a terminal, after a second, and not with
    ``--quiet``."""

    def __init__(self, quiet: bool, desc: str, unit: str):
        from tqdm import tqdm

        self._bar = tqdm(desc=desc, unit=unit, unit_scale=True, delay=1.0, leave=False, file=sys.stderr,
                         disable=True if quiet else None)  # None: disabled when stderr is not a terminal

    def __call__(self, done: int, total: int) -> None:
        if self._bar.total != total:
            self._bar.reset(total=total)
        self._bar.update(done - self._bar.n)

    def close(self) -> None:
        self._bar.close()


def _print_warnings(caught) -> None:
    """Package warnings as one ``warning:`` line each on stderr (others are re-emitted unchanged)."""
    seen = set()
    for w in caught:
        if issubclass(w.category, FootprintWarning):
            text = str(w.message)
            if text not in seen:
                seen.add(text)
                print(f"warning: {text}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _cmd_compare(args) -> int:
    from .reports import terminal
    from .analysis.compare import compare_experiments
    from .reports.folder import write_comparison

    comp = compare_experiments(args.experiments, samples=args.samples, seed=args.seed, design=args.design,
                               data_dir=args.data_dir)
    out = args.out or Path("results") / ("compare_" + "_".join(Path(p).stem for p in args.experiments))
    write_comparison(comp, out)
    if not args.quiet:
        print(terminal.comparison_report(comp, out))
    return 0


def _cmd_validate(args) -> int:
    from .analysis.run import prepare

    experiment, _, model, _ = prepare(args.experiment, data_dir=args.data_dir)
    if not args.quiet:
        ps = model.parameters
        print(f"{args.experiment}: valid. {len(model.components)} components, {len(ps)} parameters "
              f"({len(ps.random_names)} uncertain, {len(ps.assumed())} assumed placeholders).")
    return 0


def _cmd_list(args) -> int:
    from .reports import terminal
    from .inputs.catalog import load_catalog

    print(terminal.catalog_listing(load_catalog(args.data_dir), args.what))
    return 0


COMMANDS = {"run": _cmd_run, "compare": _cmd_compare, "validate": _cmd_validate, "list": _cmd_list}


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return COMMANDS[args.command](args)
    except ConfigError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except FootprintError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
