"""Measure how far apart the methods land for the shipped devices, and write the table of docs/guide/methods.md.

Usage (a developer's step, run again when methods.yaml or an experiment changes)::

    python tools/methods_table.py            # rewrite the table between the markers of docs/guide/methods.md
    python tools/methods_table.py --print    # print it only

For every shipped experiment without ``methods:`` of its own, the experiment is run (with the public API, its own
seed, 20 000 samples) with every component that several methods compute given an equal mixture of them and the
truncation correction half in, half out (as ``experiments/kws_methods.yaml`` does for the keyword-spotting
device). The table gives the median total by each method alone (``methods.csv``), the mixture's median and 90 %
interval, and the share of the total's variance the choices of method explain (their exact Shapley effects).
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

import uncertainty_footprint as uf
from uncertainty_footprint.analysis.method_runs import MIXTURE, totals_by_method

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "guide" / "methods.md"
BEGIN, END = "<!-- methods-table: begin -->", "<!-- methods-table: end -->"
SAMPLES = 20_000
METHODS = ("pirson_bol", "act_die_area", "li_ion_per_kwh", "tide_pcb", "boavizta_tide", "company_reports")


def measure(path: Path) -> list[str]:
    exp = uf.load_experiment(path)
    options = {c: m for c, m in exp.method_options().items() if len(m) > 1}
    exp = exp.with_methods(**{c: {m: 1 for m in ms} for c, ms in options.items()})
    res = uf.run(exp, samples=SAMPLES, sobol=False)
    totals = totals_by_method(res.methods)
    shapley = res.exact["parameter"]["shapley"].to_series()
    share = float(shapley[[str(n).startswith("method:") for n in shapley.index]].sum())
    mix = totals.loc[MIXTURE]
    cells = [f"`{path.stem}`"]
    cells += [f"{totals.loc[m, 'median']:.2f}" if m in totals.index else "-" for m in METHODS]
    cells += [f"{mix['median']:.2f} [{mix['p5']:.2f}, {mix['p95']:.2f}]", f"{100 * share:.0f} %"]
    return cells


def table() -> str:
    header = ["experiment", *METHODS, "mixture: median [90 %]", "variance from the choices"]
    rows = [header, ["---"] + ["---:"] * (len(header) - 1)]
    for path in sorted((ROOT / "experiments").glob("*.yaml")):
        if uf.load_experiment(path).spec.methods:
            continue  # an experiment with its own mixture (kws_methods: the kws row)
        rows.append(measure(path))
        print(f"measured {path.stem}", file=sys.stderr)
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--print", action="store_true", help="print the table, do not rewrite the document")
    args = parser.parse_args()
    text = table()
    if args.print:
        print(text)
        return
    doc = DOC.read_text(encoding="utf-8")
    pattern = re.compile(re.escape(BEGIN) + ".*?" + re.escape(END), re.S)
    if not pattern.search(doc):
        sys.exit(f"{DOC}: no {BEGIN} ... {END} markers")
    DOC.write_text(pattern.sub(lambda _: f"{BEGIN}\n{text}\n{END}", doc), encoding="utf-8")
    print(f"wrote the table of {DOC.relative_to(ROOT)}", file=sys.stderr)


if __name__ == "__main__":
    main()
