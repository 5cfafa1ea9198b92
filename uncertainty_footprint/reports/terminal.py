"""Plain-text tables for the terminal: the run summary and the catalog listing (returned as strings)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd

from ..inputs.catalog import CORNERS_NOTE, Catalog
from ..analysis.exact import sampled_coverage
from ..analysis.running_stats import relative_resolution
from ..analysis.hotspots import second_order_table
from ..analysis.summary import absent_components

__all__ = ["format_summary", "result_report", "written_report", "format_methods", "format_dependence", "catalog_listing", "format_table", "format_second_order", "terminal_width"]

#: Width used when the terminal's is unknown [characters].
DEFAULT_WIDTH = 110


def terminal_width() -> int:
    """The terminal's width [characters] (``$COLUMNS`` or the terminal; :data:`DEFAULT_WIDTH` otherwise)."""
    import shutil

    return max(60, shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns)


def _wrapped(rows: list[list[str]], header: list[str], width: int, wrap: tuple[int, ...]) -> list[list[str]]:
    """Rows with the cells of the ``wrap`` columns broken into lines so that the table fits ``width``."""
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]
    fixed = sum(w for i, w in enumerate(widths) if i not in wrap) + 2 * (len(header) - 1)
    room = width - fixed
    wanted = sum(widths[i] for i in wrap)
    if room >= wanted or not wrap:
        return rows
    longest_word = {i: max((len(w) for r in rows for w in str(r[i]).split()), default=1) for i in wrap}
    least = {i: max(longest_word[i], len(header[i])) for i in wrap}  # a word is never broken
    limit = {i: max(least[i], room * widths[i] // max(wanted, 1)) for i in wrap}
    excess = sum(limit.values()) - room
    for i in sorted(wrap, key=lambda i: limit[i] - least[i], reverse=True):  # give back what the minimums took
        if excess <= 0:
            break
        give = min(excess, limit[i] - least[i])
        limit[i] -= give
        excess -= give
    out = []
    for row in rows:
        cells = [textwrap.wrap(str(c), limit[i], break_on_hyphens=False, break_long_words=False) or [""]
                 if i in limit else [str(c)] for i, c in enumerate(row)]
        for k in range(max(len(c) for c in cells)):
            out.append([c[k] if k < len(c) else "" for c in cells])
    return out


def format_table(rows: list[list[str]], header: list[str], align: str | None = None, *, width: int | None = None,
                 wrap: tuple[int, ...] = ()) -> str:
    """Align text columns; ``align`` has one ``l`` or ``r`` per column (default: first left, rest right). With a
    ``width`` [characters], the cells of the ``wrap`` columns are broken into lines so that the table fits."""
    align = align or "l" + "r" * (len(header) - 1)
    if width is not None:
        rows = _wrapped(rows, header, width, wrap)
    widths = [max(len(str(r[i])) for r in [header] + rows) for i in range(len(header))]

    def line(cells):
        return "  ".join(str(c).ljust(w) if a == "l" else str(c).rjust(w)
                         for c, w, a in zip(cells, widths, align)).rstrip()

    return "\n".join([line(header), line(["-" * w for w in widths])] + [line(r) for r in rows])


def format_summary(summary: pd.DataFrame) -> str:
    """The summary table in kg CO2-eq: mean, median, 90 % and 95 % intervals and share of the total, and the
    exact mean and standard deviation beside the Monte Carlo ones when the summary has them."""
    exact = "exact_mean" in summary.columns
    rows = []
    absent = set(absent_components(summary))
    for name, r in summary.iterrows():
        if name in absent:
            continue
        label = name.replace("stage:", "stage ") if r["level"] != "component" else f"  {name}"
        if r["level"] == "total":
            label = "TOTAL"
        moments = ([f"{r['mean']:.3f}", f"{r['exact_mean']:.3f}", f"{r['sd']:.3f}", f"{r['exact_sd']:.3f}"]
                   if exact else [f"{r['mean']:.3f}"])
        rows.append([label, *moments, f"{r['median']:.3f}", f"[{r['p5']:.3f}, {r['p95']:.3f}]",
                     f"[{r['p2_5']:.3f}, {r['p97_5']:.3f}]", f"{100 * r['share']:.1f} %"])
    head = ["mean", "exact mean", "sd", "exact sd"] if exact else ["mean"]
    table = format_table(rows, ["component / stage", *head, "median", "90 % interval", "95 % interval", "share"])
    if absent:
        table += ("\nAbsent (zero in every sample; rows kept in summary.csv): "
                  + ", ".join(absent_components(summary)))
    return table


def result_report(result) -> str:
    """What ``run`` prints as soon as the numbers are there: the summary, the hotspots, the deterministic
    reproduction, the assumptions and the balance."""
    det = result.deterministic
    s = result.experiment.spec.sampling
    how = (f"streamed; percentiles from a histogram, relative error <= {relative_resolution():.1e}"
           if result.streamed else "")
    lines = [f"{result.experiment.name}  ({s.samples} samples, design {s.design}, seed {s.seed}"
             + (f"; {how}" if how else "") + ")", "Footprint per device, kg CO2-eq", "",
             format_summary(result.summary), ""]
    pairs = second_order_table(result.sobol, result.exact)
    if result.sobol or result.exact:
        lines += [format_hotspots(result.sobol, exact=result.exact), ""] + (
            [format_second_order(pairs), ""] if pairs is not None else [])
    if result.dependence is not None:
        lines += [format_dependence(result.dependence, result.summary), ""]
    if result.methods is not None:
        lines += [format_methods(result.methods), ""]
    tot = det.loc["total"]
    lines.append(f"Published-method point values (deterministic.csv): lower {tot['lower']:.2f}, "
                 f"typical {tot['typical']:.2f}, upper {tot['upper']:.2f} kg CO2-eq.")
    lines += textwrap.wrap(CORNERS_NOTE, 115)
    assumed = result.model.parameters.assumed()
    if assumed:
        lines.append(textwrap.fill(f"This result depends on {len(assumed)} assumed placeholder parameters "
                                   f"(no published basis): {', '.join(assumed)}.", width=110))
    if result.balance is not None:
        from .payback_report import balance_lines

        lines += ["", *balance_lines(result.balance)]
    return "\n".join(lines)


def format_dependence(dependence, summary: pd.DataFrame, top: int = 10) -> str:
    """Correlated inputs: the pairs (target and achieved rank correlation), the total with and without the
    correlations, and the Shapley hotspots with their bootstrap intervals."""
    from ..analysis.dependence import DEPENDENCE_NOTE

    table = dependence.correlations
    rows = [[r["a"], r["b"], f"{r['target']:.2f}", f"{r['achieved']:.3f}", r["reason"] or "-"]
            for _, r in table.iterrows()]
    parts = ["Correlated inputs (Spearman rank correlation; Gaussian copula, achieved on the run's design)\n"
             + format_table(rows, ["parameter", "with", "target", "achieved", "reason"], "llrrl", width=110,
                            wrap=(4,))]
    w, t = dependence.without.loc["total"], summary.loc["total"]
    parts.append(textwrap.fill(f"Total with the correlations: median {t['median']:.3f}, 90 % interval "
                               f"[{t['p5']:.3f}, {t['p95']:.3f}] kg CO2-eq; without them (same design and seed): "
                               f"median {w['median']:.3f}, 90 % interval [{w['p5']:.3f}, {w['p95']:.3f}].",
                               width=110))
    for grouping in ("component", "stage", "parameter"):
        ds = dependence.shapley.get(grouping)
        if ds is None:
            continue
        dim = ds["shapley"].dims[0]
        order = np.argsort(-ds["shapley"].values, kind="stable")
        if grouping == "parameter":
            order = order[:top]
        level = f"{100 * ds.attrs['conf_level']:.0f} %"
        rows = [[str(ds[dim].values[i])] + ([str(ds["component"].values[i])] if grouping == "parameter" else [])
                + [f"{ds['shapley'].values[i]:.3f}", f"[{ds['conf_low'].values[i]:.3f}, {ds['conf_high'].values[i]:.3f}]"]
                for i in order]
        header = [grouping] + (["component"] if grouping == "parameter" else []) + ["Shapley", f"{level} interval"]
        title = (f"Top {len(rows)} parameters" if grouping == "parameter" else
                 f"Hotspots by {grouping}: Shapley effects of the total's variance, with the correlations "
                 f"({ds.attrs['n_permutations']} permutations)")
        parts.append(title + "\n" + format_table(rows, header, ("ll" if grouping == "parameter" else "l") + "rr"))
    if dependence.shapley:
        parts.append(textwrap.fill(DEPENDENCE_NOTE + " Estimated by random permutations (Song, Nelson & Staum "
                                   "2016) with bootstrap intervals (shapley.nc, shapley.csv).", width=110))
    return "\n\n".join(parts)


def format_methods(methods: pd.DataFrame) -> str:
    """The total by each method alone and for the experiment's mixture (``methods.csv``'s total rows)."""
    from ..analysis.method_runs import totals_by_method

    totals = totals_by_method(methods)
    rows = [[m, f"{r['mean']:.3f}", f"{r['median']:.3f}", f"[{r['p5']:.3f}, {r['p95']:.3f}]"]
            for m, r in totals.iterrows()]
    return (textwrap.fill("Total by method, kg CO2-eq (a method alone computes the components it covers, Pirson & "
                          "Bol the others, without truncation gap unless the method is one; then the experiment's "
                          "mixture; methods.csv has every component)", width=110) + "\n" + format_table(rows, ["method", "mean", "median", "90 % interval"]))


def written_report(folder: Path, files: list[str]) -> str:
    """The last line of ``run`` and ``compare``: the folder and the files written there."""
    return f"Written to {folder}/: {', '.join(files)}"


def _interval(value: float, conf: float) -> str:
    return f"{value:6.3f} +- {conf:.3f}"


def _exact_hotspots(exact, sobol, top: int) -> str:
    """Exact S1, ST and Shapley effects (ranked by ST) with the sampled intervals beside them, if any."""
    parts = []
    sampled = sampled_coverage(exact, sobol) if sobol else {}
    n_base = next(iter(sobol.values())).attrs["n_base"] if sobol else None
    level = int(round(100 * next(iter(sobol.values())).attrs["conf_level"])) if sobol else None
    for grouping, title in (("component", "component"), ("stage", "stage"), ("parameter", "parameter")):
        if grouping not in exact:
            continue
        ds = exact[grouping]
        dim = "parameter" if grouping == "parameter" else "group"
        order = np.argsort(-ds["ST"].values, kind="stable")
        if grouping == "parameter":
            order = order[:top]
        cov = sampled.get(grouping)
        rows, header = [], [title] + (["component"] if grouping == "parameter" else []) + ["Shapley", "ST", "S1"]
        if cov is not None:
            header += [f"sampled ST ({level} %)", "covers", f"sampled S1 ({level} %)", "covers"]
        for i in order:
            name = str(ds[dim].values[i])
            row = [name] + ([str(ds["component"].values[i])] if grouping == "parameter" else [])
            row += [f"{ds['shapley'].values[i]:.3f}", f"{ds['ST'].values[i]:.3f}", f"{ds['S1'].values[i]:.3f}"]
            if cov is not None:
                r = cov.loc[name]
                row += [_interval(r["ST_sampled"], r["ST_conf"]), "yes" if r["ST_covered"] else "NO",
                        _interval(r["S1_sampled"], r["S1_conf"]), "yes" if r["S1_covered"] else "NO"]
            rows.append(row)
        heading = (f"Top {len(rows)} parameters" if grouping == "parameter" else
                   f"Hotspots by {title}: exact shares of the total's variance (no sampling error)")
        align = ("ll" if grouping == "parameter" else "l") + "rrr" + ("rlrl" if cov is not None else "")
        parts.append(heading + "\n" + format_table(rows, header, align))
    note = ("Exact: Sobol'-Hoeffding decomposition of the expanded model. ST = share of the variance an input (or "
            "group) causes with its interactions, S1 = alone, Shapley = its fair share with every interaction "
            "split equally among its members (Owen 2014; they sum to 1).")
    if sobol:
        missed = sum(int((~t["ST_covered"]).sum() + (~t["S1_covered"]).sum()) for t in sampled.values())
        checked = sum(2 * len(t) for t in sampled.values())
        note += (f" Sampled: Saltelli estimates at N = {n_base} with {level} % bootstrap intervals (sobol.nc); "
                 f"{missed} of {checked} intervals miss the exact value (NO; about 1 in 20 is expected).")
    parts.append(textwrap.fill(note, width=110))
    return "\n\n".join(parts)


def format_hotspots(sobol, top: int = 10, exact=None) -> str:
    """Components (or stages) ranked by total-order index ST, then the top parameters: the exact indices with
    the sampled intervals beside them when ``exact`` is given, else the sampled indices."""
    if exact:
        return _exact_hotspots(exact, sobol, top)
    parts = []
    any_ds = next(iter(sobol.values()))
    level = int(round(100 * any_ds.attrs["conf_level"]))
    for grouping, title in (("component", "component"), ("stage", "stage")):
        if grouping not in sobol:
            continue
        ds = sobol[grouping]
        order = np.argsort(-ds["ST"].values, kind="stable")
        rows = [[str(ds["group"].values[i]), _interval(ds["ST"].values[i], ds["ST_conf"].values[i]),
                 _interval(ds["S1"].values[i], ds["S1_conf"].values[i])] for i in order]
        parts.append(f"Hotspots by {title}: Sobol' indices of the total's variance ({level} % intervals; "
                     f"N = {ds.attrs['n_base']})\n" + format_table(rows, [title, "ST (total)", "S1 (first)"]))
    if "parameter" in sobol:
        ds = sobol["parameter"]
        order = np.argsort(-ds["ST"].values, kind="stable")[:top]
        rows = [[str(ds["parameter"].values[i]), str(ds["component"].values[i]),
                 _interval(ds["ST"].values[i], ds["ST_conf"].values[i]),
                 _interval(ds["S1"].values[i], ds["S1_conf"].values[i])] for i in order]
        parts.append(f"Top {len(rows)} parameters\n" + format_table(rows, ["parameter", "component", "ST (total)",
                                                                             "S1 (first)"], "llrr"))
    widest = max(float(ds.attrs["max_conf"]) for ds in sobol.values())
    parts.append(f"Widest interval half-width: {widest:.3f}. ST = share of variance a group causes with its "
                 "interactions; S1 = alone. Inputs are independent (with correlations, the hotspots are Shapley "
                 "effects).")
    return "\n\n".join(parts)


def format_second_order(pairs: pd.DataFrame, top: int = 8) -> str:
    """The top pairs of each grouping by second-order index (what ``run --second-order`` prints)."""
    parts, negligible = [], []
    for grouping, frame in pairs.groupby("grouping", sort=False):
        if frame["exact_S2"].notna().any():  # exact values known: show the pairs that show at 3 decimals
            frame = frame[frame["exact_S2"].abs() >= 5e-4]
            if frame.empty:
                negligible.append(grouping)
                continue
        frame = frame.head(top)
        sampled, exact = frame["S2"].notna().any(), frame["exact_S2"].notna().any()
        header = [grouping, "with"] + (["exact S2"] if exact else []) + (["sampled S2"] if sampled else [])
        rows = []
        for _, r in frame.iterrows():
            row = [r["a"], r["b"]] + ([f"{r['exact_S2']:.3f}"] if exact else [])
            rows.append(row + ([_interval(r["S2"], r["S2_conf"])] if sampled else []))
        parts.append(f"Top {len(rows)} pairs by {grouping}: second-order Sobol' indices S2 (the share of the "
                     "variance the pair causes together, beyond each alone)\n"
                     + format_table(rows, header, "ll" + "r" * (len(header) - 2)))
    if negligible:
        parts.append(f"No pair by {' or '.join(negligible)} has an exact S2 of 0.0005 or more (those groups add up "
                     "without interacting).")
    return "\n\n".join(parts) + "\nAll pairs: sobol_s2.csv."


def comparison_report(comp, top: int = 8) -> str:
    """What ``compare`` prints: totals side by side and the paired differences."""
    from ..analysis.compare import shared_parameters

    sampling = comp.experiments[0].spec.sampling
    rows = [[name, f"{r['mean']:.3f}", f"{r['median']:.3f}", f"[{r['p5']:.3f}, {r['p95']:.3f}]",
             f"[{r['p2_5']:.3f}, {r['p97_5']:.3f}]"] for name, r in comp.table.iterrows()]
    diffs = [[f"{b} - {a}", f"{r['mean']:+.3f}", f"{r['median']:+.3f}", f"[{r['p5']:+.3f}, {r['p95']:+.3f}]",
              f"[{r['p2_5']:+.3f}, {r['p97_5']:+.3f}]", f"{r['p_a_lt_b']:.3f}"]
             for (a, b), r in comp.differences.iterrows()]
    n_shared = len(shared_parameters(comp))
    exact = "exact_mean" in comp.differences.columns
    if exact:
        for row, (_, r) in zip(diffs, comp.differences.iterrows()):
            row[2:2] = [f"{r['exact_mean']:+.3f}", f"{r['sd']:.3f}", f"{r['exact_sd']:.3f}"]
    head = ["B - A", "mean"] + (["exact mean", "sd", "exact sd"] if exact else []) + [
        "median", "90 % interval", "95 % interval", "P(A < B)"]
    lines = [
        f"Comparison ({sampling.samples} samples, design {sampling.design}, seed {sampling.seed}; "
        f"{n_shared} shared parameters take common random numbers)", "Total footprint per device, kg CO2-eq", "",
        format_table(rows, ["experiment", "mean", "median", "90 % interval", "95 % interval"]), "",
        "Paired differences B - A, kg CO2-eq", format_table(diffs, head), ""]
    if comp.difference_variance is not None:
        lines += [_difference_shares(comp.difference_variance, top), ""]
    return "\n".join(lines).rstrip()


def _difference_shares(shares: pd.DataFrame, top: int) -> str:
    """Per pair, the inputs with the largest exact share (Shapley effect) of the variance of B - A."""
    parts = []
    for (a, b), frame in shares.groupby(["a", "b"], sort=False):
        frame = frame[frame["shapley"] >= 5e-4].head(top)  # shares that show at 3 decimals
        rows = [[r["parameter"], f"{r['shapley']:.3f}", f"{r['ST']:.3f}", f"{r['S1']:.3f}",
                 f"{r['remaining_sd']:.3f}"] for _, r in frame.iterrows()]
        parts.append(f"What decides {b} - {a}: exact shares of the variance of the paired difference\n"
                     + format_table(rows, ["parameter", "Shapley", "ST", "S1", "sd left if known [kg]"]))
    return "\n\n".join(parts)


def _option(intervals: pd.DataFrame | None, block: str, level: int) -> str:
    if intervals is None or (block, level) not in intervals.index:
        return ""
    r = intervals.loc[(block, level)]
    if r["p95"] == 0 and r["p5"] == 0:
        return "0"
    return f"{r['median']:.3g} [{r['p5']:.3g}, {r['p95']:.3g}]"


def _blocks(cat: Catalog, width: int, intervals: pd.DataFrame | None = None) -> str:
    rows = []
    for name, info in cat.blocks.items():
        for level, label in info["hsl"].items():
            items = cat.block_items(name, level) or [None]
            for k, it in enumerate(items):
                head = [name if level == min(info["hsl"]) and k == 0 else "", f"HSL-{level}" if k == 0 else "",
                        label if k == 0 else ""]
                if intervals is not None:
                    head.append(_option(intervals, name, level) if k == 0 else "")
                rows.append(head + (["-", "", "", ""] if it is None else
                                    [it.parameter, it.unit, f"{it.low:g}/{it.typical:g}/{it.high:g}",
                                     it.factor or "(transport factors)"]))
    header = ["block", "HSL", "meaning"] + (["kg CO2-eq: median [90 %]"] if intervals is not None else []) + [
        "quantity", "unit", "low/typ/high", "factor"]
    align = "lll" + ("r" if intervals is not None else "") + "llrl"
    title = "Functional blocks (Pirson & Bol 2021): HSL items, quantity lower/typical/upper, unit factor"
    if intervals is not None:
        n = intervals.attrs.get("n", "")
        title += (f"; each option's footprint, median and 90 % interval in kg CO2-eq (Monte Carlo, {n} samples, "
                  "quantities as in an experiment with quantity_distribution pert)")
    wrap = (2,)
    return textwrap.fill(title, width) + "\n" + format_table(rows, header, align, width=width, wrap=wrap)


def _parameters(cat: Catalog, width: int, intervals=None) -> str:
    rows = [[n, p.unit, p.distribution.describe(), f"{p.nominal:g}", p.status, ", ".join(p.source)]
            for n, p in cat.parameters.items()]
    return "Parameters (distributions/*.yaml; HSL quantities are listed with the blocks)\n" + format_table(
        rows, ["parameter", "unit", "distribution", "nominal", "status", "source"], "llllll", width=width,
        wrap=(2, 5))


def _applications(cat: Catalog, width: int, intervals=None) -> str:
    rows = [[n, a["title"], ", ".join(f"{b}={h}" for b, h in a["blocks"].items()),
             ", ".join(a["parameters"])] for n, a in cat.applications.items()]
    return "Application presets (distributions/applications.yaml)\n" + format_table(
        rows, ["application", "title", "blocks", "parameters"], "llll", width=width, wrap=(1, 2, 3))


def _references(cat: Catalog, width: int, intervals=None) -> str:
    rows = [[n, cat.reference_labels[n], f"{p.nominal:g} {p.unit}", ", ".join(p.source)]
            for n, p in cat.reference_devices.items()]
    return "Reference devices (distributions/reference_devices.yaml)\n" + format_table(
        rows, ["name", "device", "footprint", "source"], "llll", width=width, wrap=(1, 3))


def _methods(cat: Catalog, width: int, intervals=None) -> str:
    table = cat.methods_table()
    if not len(table):
        return "Methods (distributions/methods.yaml): none"
    rows = [[n, r["recipe"], r["covers"], r["title"]] for n, r in table.iterrows()]
    text = textwrap.fill("Methods (distributions/methods.yaml): choose per component in an experiment's methods: "
                         "section, one or a weighted mixture; the blocks and HSLs each computes", width) + "\n"
    text += format_table(rows, ["method", "recipe", "covers", "title"], "llll", width=width, wrap=(2, 3))
    params = [[n, p.unit, p.distribution.describe(), f"{p.nominal:g}", p.status, ", ".join(p.source)]
              for m in cat.methods.values() for n, p in m.parameters.items()]
    if params:
        text += "\n\nParameters of the methods (block values are listed in methods.yaml)\n" + format_table(
            params, ["parameter", "unit", "distribution", "nominal", "status", "source"], "llllll", width=width,
            wrap=(2, 5))
    return text


def _sources(cat: Catalog, width: int, intervals=None) -> str:
    return "Sources (distributions/sources.yaml)\n" + "\n".join(
        textwrap.fill(f"{k}: {v}", width=width, subsequent_indent="    ") for k, v in cat.sources.items())


_LISTINGS = {"blocks": _blocks, "parameters": _parameters, "methods": _methods, "applications": _applications,
             "references": _references, "sources": _sources}


def catalog_listing(cat: Catalog, what: str = "all", *, width: int | None = None,
                    intervals: pd.DataFrame | None = None) -> str:
    """The ``list`` command's text.

    Parameters
    ----------
    cat : Catalog
    what : {'all', 'blocks', 'parameters', 'methods', 'applications', 'references', 'sources'}
    width : int, optional
        Line width to wrap long cells to [characters] (default: :func:`terminal_width`).
    intervals : pandas.DataFrame, optional
        :func:`~uncertainty_footprint.analysis.blocks.option_intervals` of the catalog: the blocks listing then
        shows each option's median and 90 % interval [kg CO2-eq].
    """
    width = width or terminal_width()
    parts = _LISTINGS.values() if what == "all" else [_LISTINGS[what]]
    return "\n\n".join(f(cat, width, intervals) for f in parts)
