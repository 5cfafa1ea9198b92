"""Command line: argument parsing, printing and exit codes only (the science lives in the other modules).

Exit status (one line on stderr for every failure, never a traceback):

* 0 success;
* 2 invalid input: a bad experiment file or option (naming the file, the key path and what is allowed), a
  request that does not fit in memory (with the estimate and the option that would fit) or a refused output
  folder (see :mod:`uncertainty_footprint.io.folder`);
* 1 a failing environment (``error: <what failed> at <where>: <reason>``: disk full, permission denied,
  read-only file system, ``--out`` below a file, out of memory) or an unexpected failure (set
  ``UNCERTAINTY_FOOTPRINT_DEBUG=1`` to get its traceback);
* 130 interrupted by Ctrl-C (SIGINT), 143 terminated by SIGTERM (129 by SIGHUP): the handler removes the
  unfinished outputs and ends the process at once (``os._exit``; unwinding an exception through netCDF/HDF5 and
  dask code can deadlock on their locks); previous results are kept (a swap into place holds signals back for the
  milliseconds it takes).

An experiment argument that is not an existing file but the name of a shipped experiment (``kws``) stands for it
(:mod:`uncertainty_footprint.inputs.examples`). This module only parses, calls :mod:`uncertainty_footprint.api`
and formats: ``run`` prints the summary and the hotspots as soon as they are computed, then writes the files,
figures and reports (a short progress line says so).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import traceback
import warnings
from pathlib import Path
from typing import Sequence

from . import api
from .api import (CRN_DESIGNS, DESIGN_NAMES, GROUPINGS, IN_MEMORY_MAX, RESULTS_FORMATS, SCHEDULERS, SOBOL_METHODS,
                  STORE_MODES, example_names, is_example, package_version, resolve_experiment)
from .app import DEFAULT_HOST, DEFAULT_PORT
from .errors import FootprintError, WriteError
from .warnings import FootprintWarning

__all__ = ["main", "build_parser", "DEBUG_ENV"]

#: Set to 1 to get the traceback of an unexpected failure instead of its one-line message.
DEBUG_ENV = "UNCERTAINTY_FOOTPRINT_DEBUG"
#: Signals that end a command cleanly (unfinished outputs removed), with their exit status (128 + number) and the
#: message.
TERMINATING_SIGNALS = {signal.SIGINT: (130, "interrupted (Ctrl-C)"),
                       signal.SIGTERM: (128 + signal.SIGTERM, "terminated by SIGTERM"),
                       signal.SIGHUP: (128 + signal.SIGHUP, "terminated by SIGHUP (the terminal closed)")}


def _positive_int(text: str) -> int:
    """An integer >= 1, also written as ``1e5`` or ``65536.0``."""
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if not number.is_integer() or number < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return int(text) if text.strip().lstrip("+").isdigit() else int(number)


class _Parser(argparse.ArgumentParser):
    """argparse's parser whose usage errors are one line (the rule of every bad input), exit status 2."""

    def error(self, message: str):
        # the message quotes an argument: control characters escaped, never unbounded
        self.exit(2, f"{self.prog}: error: {_one_line(message)} (see {self.prog} --help)\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m uncertainty_footprint",
        description="Carbon footprint of TinyML devices with honest uncertainty: Monte Carlo propagation of "
                    "every emission factor, quantity, power and lifetime through the lifecycle model of "
                    "Prakash et al. (2023) and Pirson & Bol (2021).")
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}",
                        help="print the installed version and exit")
    parser.add_argument("--data-dir", metavar="DIR", default=None,
                        help="folder of distribution data files (default: distributions/ of the project, or "
                             "$UNCERTAINTY_FOOTPRINT_DATA)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = sub.add_parser("run", help="run an experiment and write results", description=(
        "Run an experiment: sample every parameter, evaluate the lifecycle model, print the summary table "
        "(mean, median, 90 % and 95 % intervals, share per component, stage and total, kg CO2-eq) and the "
        "hotspots (exact S1, ST and Shapley effects, and with --sobol-method sampled the sampled Sobol' "
        "estimates beside them; with --second-order also the top pairs by S2), and write results.nc, "
        "summary.csv, deterministic.csv, exact.nc, exact.csv (sobol.nc, sobol.csv with sampled estimates; "
        "sobol_s2.csv with --second-order), report.md, report.html, table.tex and figures/ "
        "to the output folder. The netCDF files follow CF-1.10; the per-sample numbers are stored uncompressed "
        "(random doubles barely compress), everything else with zlib (lossless)."))
    run.add_argument("experiment", metavar="EXPERIMENT",
                     help="experiment YAML file, e.g. experiments/kws.yaml, or the name of a shipped experiment "
                          f"({', '.join(example_names())})")
    run.add_argument("--out", metavar="DIR", type=Path, default=None,
                     help="output folder (default: results/<experiment file stem>/ in the current folder). A "
                          "new folder, an empty one or an earlier results folder: the files of the earlier run "
                          "are replaced once the new run succeeds, your other files are kept")
    run.add_argument("--samples", metavar="N", type=_positive_int, default=None,
                     help="Monte Carlo sample size (overrides sampling.samples)")
    run.add_argument("--seed", metavar="N", type=_positive_int, default=None,
                     help="random seed (overrides sampling.seed); same seed, same numbers")
    run.add_argument("--design", choices=DESIGN_NAMES, default=None,
                     help="unit-hypercube design: plain Monte Carlo, Latin hypercube or scrambled Sobol' "
                          "(overrides sampling.design)")
    sob = run.add_argument_group("Sobol' hotspots (override the experiment's sobol section)")
    sob.add_argument("--no-sobol", action="store_true",
                     help="skip the sampled Sobol' analysis (the exact indices, milliseconds, are still computed)")
    sob.add_argument("--sobol-method", choices=SOBOL_METHODS, default=None,
                     help="auto (default): sample the Saltelli estimates only for an output without an exact "
                          "variance decomposition (every shipped model's footprint has one, so none are sampled); "
                          "sampled: sample them beside the exact indices (sobol.nc, sobol.csv); exact: never sample")
    sob.add_argument("--sobol-samples", metavar="N", type=_positive_int, default=None,
                     help="base sample size N of the sampled analysis, a power of two (the model runs N (k + 2) "
                          "times per grouping); like --conf-level and --num-resamples it means --sobol-method "
                          "sampled unless a method is given")
    sob.add_argument("--second-order", action=argparse.BooleanOptionalAction, default=None,
                     help="also compute second-order indices S2: printed (top pairs), written to sobol_s2.csv and "
                          "sobol.nc/exact.nc, drawn as a heat map in the report")
    sob.add_argument("--groupings", metavar="LIST", default=None,
                     help=f"comma-separated: {', '.join(GROUPINGS)} (default: all)")
    sob.add_argument("--conf-level", metavar="P", type=float, default=None,
                     help="confidence level of the bootstrap intervals (default 0.95)")
    sob.add_argument("--num-resamples", metavar="N", type=_positive_int, default=None,
                     help="bootstrap resamples for the intervals (default 100)")
    run.add_argument("--chunk-size", metavar="N", type=_positive_int, default=None,
                     help="samples evaluated at once (memory only; never changes the numbers; default 65536)")
    eng = run.add_argument_group("large runs (streaming with dask; numbers never depend on these)")
    eng.add_argument("--stream", action=argparse.BooleanOptionalAction, default=None,
                     help=f"stream the Monte Carlo with bounded memory (default: when --samples exceeds "
                          f"{IN_MEMORY_MAX} or a scheduler is given)")
    eng.add_argument("--scheduler", choices=SCHEDULERS, default=None,
                     help="dask scheduler for a streaming run (default threads)")
    eng.add_argument("--scheduler-address", metavar="tcp://HOST:PORT", default=None,
                     help="run on a dask.distributed cluster at this scheduler address")
    eng.add_argument("--store", choices=STORE_MODES, default="footprint",
                     help="per-sample data results.nc keeps: footprints and totals (default), all (also the "
                          "sampled inputs; a rerun with the same seed regenerates them exactly), or none (no "
                          "results.nc; a streaming run then writes no figures or reports)")
    eng.add_argument("--format", choices=RESULTS_FORMATS, default="netcdf",
                     help="netcdf (default): the per-sample results in results.nc, written by this process; zarr: "
                          "in results.zarr (a Zarr store, xarray.open_zarr reads it), written by the tasks in "
                          "parallel, on the workers of a --scheduler-address cluster too (they must see --out). "
                          "The same numbers either way")
    run.add_argument("--no-figures", action="store_true",
                     help="skip the figures and reports (figures/, report.md, report.html, table.tex)")
    run.add_argument("--quiet", action="store_true", help="print nothing but errors")

    cmp_ = sub.add_parser("compare", help="compare experiments with common random numbers", description=(
        "Run two or more experiments with the same seed, samples and design; shared parameters take common "
        "random numbers. Prints each total with its intervals, the paired differences B - A with intervals and "
        "P(A < B); writes comparison.nc, comparison.csv, differences.csv, difference_variance.csv (each input's exact share of "
        "the variance of B - A) and comparison.png/.pdf."))
    cmp_.add_argument("experiments", metavar="EXPERIMENT", nargs="+",
                      help="two or more experiment files or names of shipped experiments; files of the same name "
                           "from different folders are labelled with their folder (a/kws, b/kws)")
    cmp_.add_argument("--out", metavar="DIR", type=Path, default=None,
                      help="output folder (default: results/compare_<stem>_<stem>...); same rules as run --out")
    cmp_.add_argument("--samples", metavar="N", type=_positive_int, default=None, help="sample size")
    cmp_.add_argument("--seed", metavar="N", type=_positive_int, default=None, help="random seed")
    cmp_.add_argument("--design", choices=CRN_DESIGNS, default=None,
                      help="design with common random numbers (default: the first experiment's)")
    cmp_.add_argument("--quiet", action="store_true", help="print nothing but errors")

    val = sub.add_parser("validate", help="check an experiment file without running it",
                         description="Validate an experiment file against the schema and the data catalog.")
    val.add_argument("experiment", metavar="EXPERIMENT", help="experiment file or name of a shipped experiment")
    val.add_argument("--quiet", action="store_true", help="print nothing but errors")

    exa = sub.add_parser("example", help="print a shipped experiment (or list them), to copy and edit",
                         description="Print the file of a shipped experiment on standard output, e.g. "
                                     "'python -m uncertainty_footprint example kws > my_device.yaml'; without a "
                                     "name, list the shipped experiments.")
    exa.add_argument("name", metavar="NAME", nargs="?", default=None,
                     help=f"one of: {', '.join(example_names())}")
    exa.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)

    lst = sub.add_parser("list", help="show blocks, HSLs, parameters and reference devices",
                         description="List the functional blocks and their HSLs (each option's footprint: median "
                                     "and 90 % interval in kg CO2-eq), the parameters with unit, distribution, "
                                     "status and source, the alternative methods (distributions/methods.yaml), "
                                     "the application presets and the reference devices; long "
                                     "cells wrap to the terminal width.")
    lst.add_argument("what", nargs="?", default="all",
                     choices=("all", "blocks", "parameters", "methods", "applications", "references", "sources"))
    lst.add_argument("--quiet", action="store_true", help=argparse.SUPPRESS)

    srv = sub.add_parser("serve", help=f"serve the web calculator (http://{DEFAULT_HOST}:{DEFAULT_PORT})",
                         description=(
        "The published TinyML footprint calculator in the browser, with error bars and live hotspots. Listens on "
        "127.0.0.1 (this machine only) unless --host says otherwise; works offline (every script and style is "
        "served from the installed package)."))
    srv.add_argument("--host", default=DEFAULT_HOST,
                     help="address to listen on (default 127.0.0.1; 0.0.0.0 listens on every interface)")
    srv.add_argument("--port", type=_port, metavar="PORT", default=DEFAULT_PORT,
                     help=f"TCP port, 1-65535 (default {DEFAULT_PORT})")
    srv.add_argument("--open", action="store_true", help="open the page in the default web browser")
    return parser


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"{_one_line(text, 40)!r} is not a TCP port; allowed: 1-65535")
    return port


def _cmd_serve(args) -> int:
    from .app import serve

    try:
        serve(host=args.host, port=args.port, open_browser=args.open,
              announce=lambda url: print(f"calculator at {url}  (Ctrl-C to stop)", flush=True))
    except OSError as exc:
        print(f"error: cannot listen at {_one_line(args.host, 100)}:{args.port}: {exc.strerror or _one_line(exc)}",
              file=sys.stderr)
        return 1
    return 0


def _engine_options(args):
    return api.EngineOptions(stream=args.stream, scheduler=args.scheduler, address=args.scheduler_address,
                             store=args.store, chunk_size=args.chunk_size, format=args.format)


def _sobol_options(args) -> dict | bool | None:
    """The ``sobol`` overrides of ``run``'s options (``--no-sobol``: False)."""
    if args.no_sobol:
        return False
    options = {"method": args.sobol_method, "samples": args.sobol_samples, "second_order": args.second_order,
               "groupings": args.groupings, "conf_level": args.conf_level, "num_resamples": args.num_resamples}
    return {k: v for k, v in options.items() if v is not None}


def _cmd_run(args) -> int:
    experiment = resolve_experiment(args.experiment)
    bar = _ProgressBar(args.quiet, "Monte Carlo", "samples")
    out = args.out if args.out is not None else Path("results") / experiment.stem

    stdout_failed: list[OSError] = []

    def show(result) -> None:  # the numbers, as soon as they are computed (the files follow)
        bar.close()
        if args.quiet:
            return
        try:
            print(_safe(api.format_result(result)), flush=True)
        except OSError as exc:  # the reader is gone or stdout is full: the files are still written
            _silence_stdout()
            stdout_failed.append(exc)
        print(f"Writing the files{'' if args.no_figures else ', figures and reports'} to {_safe(out)}/ ...",
              file=sys.stderr, flush=True)

    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always", FootprintWarning)
            result = api.run(experiment, out=out, figures=not args.no_figures, data_dir=args.data_dir,
                             samples=args.samples, seed=args.seed, design=args.design, sobol=_sobol_options(args),
                             engine=_engine_options(args), progress=bar, on_result=show)
    finally:
        bar.close()
    if stdout_failed:
        exc = stdout_failed[0]
        _print_warnings(caught)
        if isinstance(exc, BrokenPipeError):  # e.g. 'run kws | head': nothing to report
            return 128 + signal.SIGPIPE
        reason = os.strerror(exc.errno) if exc.errno else _one_line(exc)
        print(f"error: writing the standard output: {reason} (the results were written to {_safe(out)})",
              file=sys.stderr)
        return 1
    if not args.quiet:
        print(_safe(api.format_files(out, api.written_outputs(result.folder))))
    _print_warnings(caught)
    return 0


class _ProgressBar:
    """A tqdm bar fed with ``(done, total)`` calls; shown only on a terminal, after a second, and not with
    ``--quiet``."""

    def __init__(self, quiet: bool, desc: str, unit: str):
        from tqdm import tqdm

        class Bar(tqdm):
            monitor_interval = 0  # no monitor thread: with a thread alive the figures are not drawn by forked processes

        self._bar = Bar(desc=desc, unit=unit, unit_scale=True, delay=1.0, leave=False, file=sys.stderr,
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
            text = _safe(str(w.message))
            if text not in seen:
                seen.add(text)
                print(f"warning: {text}", file=sys.stderr)
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def _cmd_compare(args) -> int:
    paths = [resolve_experiment(p) for p in args.experiments]
    labels = api.experiment_labels(paths)
    out = args.out or Path("results") / ("compare_" + "_".join(lab.replace("/", "-") for lab in labels))
    comp = api.compare(*paths, out=out, samples=args.samples, seed=args.seed, design=args.design,
                       data_dir=args.data_dir)
    if not args.quiet:
        print(_safe(api.format_comparison(comp)))
        print(_safe(api.format_files(out, api.written_outputs(comp.folder))))
    return 0


def _cmd_validate(args) -> int:
    path = resolve_experiment(args.experiment)
    model = api.load_experiment(path, data_dir=args.data_dir).model
    if not args.quiet:
        ps = model.parameters
        shown = f"{args.experiment} ({path})" if is_example(path) and str(path) != args.experiment else path
        print(_safe(f"{shown}: valid. {len(model.components)} components, {len(ps)} parameters "
                    f"({len(ps.random_names)} uncertain, {len(ps.assumed())} assumed placeholders)."))
    return 0


def _cmd_example(args) -> int:
    if args.name is None:
        for name in api.example_names():
            print(_safe(f"{name:<28s}{api.example_title(name)}"))
        print("\nPrint one with 'python -m uncertainty_footprint example NAME > my_device.yaml'; run one with "
              "'python -m uncertainty_footprint run NAME'.")
        return 0
    sys.stdout.write(api.example_text(args.name))  # the file as shipped: the package's own text
    return 0


def _cmd_list(args) -> int:
    print(_safe(api.format_catalog(args.what, data_dir=args.data_dir)))
    return 0


COMMANDS = {"run": _cmd_run, "compare": _cmd_compare, "validate": _cmd_validate, "list": _cmd_list,
            "example": _cmd_example, "serve": _cmd_serve}


def _terminate(signum, frame) -> None:
    """End the process now: remove the unfinished outputs, say so on one line, exit 128 + signal number."""
    status, what = TERMINATING_SIGNALS[signum]
    try:
        api.discard_unfinished()
        sys.stderr.write(f"error: {what}; unfinished outputs were removed, earlier results are kept\n")
        sys.stderr.flush()
        sys.stdout.flush()
    finally:
        os._exit(status)


def _where(exc: BaseException) -> str:
    """The innermost frame of the package in ``exc``'s traceback, as ``module.py:line (function)``."""
    package = Path(__file__).resolve().parent
    where = "uncertainty_footprint"
    for frame in traceback.extract_tb(exc.__traceback__):
        path = Path(frame.filename)
        if package in path.parents:
            where = f"{path.relative_to(package.parent).as_posix()}:{frame.lineno} ({frame.name})"
    return where


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(_safe(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


#: Control characters (C0, DEL, C1) other than newline and tab; a terminal would act on them (escape sequences).
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x00, 0x09), 0x0B, 0x0C, *range(0x0E, 0x20), *range(0x7F, 0xA0))}
_CONTROL.update({0x0D: "\\r"})


def _safe(text) -> str:
    """``text`` with every control character escaped (``\\x1b``, ``\\r``): text from an input file (a name, a
    description, a key) never reaches the terminal raw. Newlines and tabs of the package's own layout stay."""
    return str(text).translate(_CONTROL)


def _report(exc: BaseException) -> int:
    """Print the one line of a failure and return the exit status."""
    if isinstance(exc, KeyboardInterrupt):  # where the handler could not be installed
        print("error: interrupted (Ctrl-C); unfinished outputs were removed, earlier results are kept",
              file=sys.stderr)
        return 130
    if isinstance(exc, WriteError):
        print(f"error: {_safe(exc)}; nothing was changed", file=sys.stderr)
        return 1
    if isinstance(exc, FootprintError):  # ConfigError and the package's other input errors
        print(f"error: {_safe(exc)}", file=sys.stderr)
        return 2
    if isinstance(exc, ImportError):  # a dependency is missing or broken: the environment, not a bug
        name = getattr(exc, "name", None) or "a required package"
        print(f"error: {_one_line(name, 80)} cannot be imported ({_one_line(exc, 160)}); install the package with "
              "its dependencies: pip install -e . (in a checkout) or pip install uncertainty_footprint",
              file=sys.stderr)
        return 1
    if isinstance(exc, MemoryError):
        print(f"error: out of memory at {_where(exc)}: the request did not fit in memory; use --stream or a "
              "smaller --samples or --sobol-samples", file=sys.stderr)
        return 1
    if isinstance(exc, OSError):
        where = os.fsdecode(exc.filename) if isinstance(exc.filename, (str, bytes, os.PathLike)) else _where(exc)
        reason = os.strerror(exc.errno) if exc.errno else _one_line(exc)
        print(f"error: reading or writing a file at {_one_line(where)}: {reason}", file=sys.stderr)
        return 1
    print(f"error: unexpected {type(exc).__name__} at {_where(exc)}: {_one_line(exc)} (a bug: please report it; "
          f"{DEBUG_ENV}=1 shows the traceback)", file=sys.stderr)
    return 1


def _silence_stdout() -> None:
    """Point standard output at /dev/null, so that flushing it again at exit cannot fail a second time."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def console_main() -> int:
    """The entry point of ``python -m uncertainty_footprint`` and the ``uncertainty-footprint`` script: :func:`main`,
    then the objects alive (the imported libraries' modules, functions and tables) are frozen out of the garbage
    collector, so that the interpreter's last collections at exit do not walk them again (the start-up benchmark,
    ``benchmarks/startup_benchmark.py``, measures what that saves); :func:`main` itself leaves the collector as it is for a caller in the same process."""
    import gc

    status = main()
    gc.freeze()
    return status


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit status (see the module's docstring)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    previous = {}
    try:
        for signum in TERMINATING_SIGNALS:
            previous[signum] = signal.signal(signum, _terminate)
    except ValueError:  # not the main thread: signals stay as they are
        pass
    try:
        status = COMMANDS[args.command](args)
        try:
            sys.stdout.flush()
        except BrokenPipeError:
            raise
        except OSError as exc:
            _silence_stdout()
            reason = os.strerror(exc.errno) if exc.errno else _one_line(exc)
            print(f"error: writing the standard output at {getattr(sys.stdout, 'name', 'stdout')}: {reason}",
                  file=sys.stderr)
            return 1
        return status
    except BrokenPipeError:  # e.g. 'example kws | head': the reader is gone, nothing to report
        _silence_stdout()
        return 128 + signal.SIGPIPE
    except BaseException as exc:
        if isinstance(exc, SystemExit) or os.environ.get(DEBUG_ENV, "") not in ("", "0"):
            raise
        return _report(exc)
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
