"""What the page shows, as plain JSON: the numbers of a :class:`~uncertainty_footprint.app.engine.View` (and of a
:class:`~uncertainty_footprint.app.engine.Pair`) formatted into the strings of the total, the cards, the hotspots,
the sources and the A/B comparison, plus the two chart specifications.

The page's script (``assets/calculator.js``) puts these strings into the page as text (never as HTML), so that
one response updates the page without re-rendering its controls; the formatting stays here, in Python, where it
is tested without a browser.
"""

from __future__ import annotations

from typing import Any, Mapping

from . import charts, engine, state as st
from .engine import Index, Pair, Row, View

__all__ = ["kg", "option_label", "options", "method_options", "view_json", "messages_json", "sentence",
           "FIELDS"]


def kg(x: float) -> str:
    """A footprint [kg CO2-eq] with the digits that matter."""
    if x == 0:
        return "0"
    if x != x:
        return "-"
    a = abs(x)
    return f"{x:.2f}" if a >= 0.095 else f"{x:.3f}" if a >= 0.0095 else f"{x:.2g}"


def _interval(r: Row) -> str:
    return f"{kg(r.p5)}-{kg(r.p95)}" if r.p5 >= 0 else f"{kg(r.p5)} to {kg(r.p95)}"


# ------------------------------------------------------------------------------------------------ options
def option_label(option: st.Option, stats: engine.OptionStats | None) -> str:
    """A card option's text: its label, then its median [90 % interval] in kg CO2-eq and the published (or
    published-method point) value, one per line."""
    if option.id == st.CUSTOM:
        return f"{option.label}\na number or a distribution"
    if stats is None:
        return option.label
    lines = [option.label, f"{kg(stats.median)} kg [{kg(stats.p5)}-{kg(stats.p95)}]"]
    lines.append(f"published {option.published:.2f}" if option.published is not None else f"point {kg(stats.point)}")
    return "\n".join(lines)


def options(card: st.Card, stats: Mapping, selected: str | None) -> list[dict]:
    """The radio options of a card (an option of a loaded experiment that the card does not list is added)."""
    opts = [{"label": option_label(o, stats.get((card.name, o.id))), "value": o.id} for o in card.options]
    if selected and selected not in {o.id for o in card.options}:
        opts.insert(-1, {"label": f"{selected}\nfrom the loaded experiment", "value": selected})
    return opts


def _hsls(levels: tuple[int, ...]) -> str:
    if not levels:
        return ""
    if len(levels) > 1 and list(levels) == list(range(levels[0], levels[-1] + 1)):
        return f" (HSL {levels[0]}-{levels[-1]})"
    return " (HSL " + ", ".join(map(str, levels)) + ")"


def method_value(choice: Any) -> str:
    """A method switch's value for a state's choice (a method, ``mixture`` or weights as JSON text)."""
    import json

    if isinstance(choice, Mapping):
        return json.dumps(dict(choice), separators=(",", ":"), sort_keys=True)
    return str(choice)


def method_options(comp: str, choice: Any = None) -> list[dict]:
    """The options of a component's method switch: every method that computes it at some HSL (the HSLs named
    where it is not all of them), the equal mixture, and weights of a loaded experiment when it has other ones."""
    methods = engine.card_methods().get(comp, {})
    every = set().union(*methods.values()) if methods else set()
    out = [{"label": st.method_label(m) + (_hsls(h) if set(h) != every else ""), "value": m}
           for m, h in methods.items()]
    out.append({"label": st.method_label(st.MIXTURE), "value": st.MIXTURE})
    if isinstance(choice, Mapping):
        text = ", ".join(f"{st.method_label(k)} {v:g}" for k, v in choice.items())
        out.append({"label": f"weights as loaded: {text}", "value": method_value(choice)})
    return out


# ------------------------------------------------------------------------------------------------ the view
#: The fields a message can be shown beside (besides ``custom:<card>`` and ``method:<component>``).
FIELDS = ("extra", "sampling", "load", "version", "ab")


def messages_json(messages: Mapping[str, str]) -> dict[str, str]:
    """Messages keyed by the id of the element they go into (``msg-custom-casing``, ``msg-extra`` ...)."""
    return {"msg-" + key.replace(":", "-"): str(text or "") for key, text in messages.items()}


def sentence(view: View) -> str:
    """What to pin down first, in one sentence, from the hotspots."""
    if view.total.p95 - view.total.p5 <= 0 or not view.parameters_ranked:
        if view.hotspots == "":
            return "No hotspots for this run."
        return "Every input is fixed: the total has no spread, so there is nothing to pin down."
    top = view.parameters_ranked[0]
    comp = view.components_ranked[0] if view.components_ranked else None
    titles = {r.name: r.title for r in view.components}
    verb = "Pin down" if top.status in ("assumed", "inferred") else "Narrow down"
    where = f"{titles.get(top.component, top.component)}, {top.status}" if top.status else \
        titles.get(top.component, top.component)
    if view.hotspots == "shapley":
        text = (f"{verb} {top.name.replace('_', ' ')} ({where}) first: its Shapley effect is {top.shapley:.0%} "
                f"of the variance of the total [{top.conf_low:.0%}-{top.conf_high:.0%}], its share with the "
                "declared correlations.")
        if comp is not None:
            text += f" {titles.get(comp.name, comp.name)} carries {comp.shapley:.0%} of the variance."
        return text
    text = (f"{verb} {top.name.replace('_', ' ')} ({where}) first: knowing it exactly would remove {top.S1:.0%} of "
            f"the variance of the total (total-order index {top.ST:.0%}).")
    if comp is not None:
        text += (f" {titles.get(comp.name, comp.name)} carries {comp.ST:.0%} of the variance: redesign it or "
                 "specify it better before anything else.")
    return text


def _hot_rows(indices: list[Index], titles: Mapping[str, str], kind: str, parameters: bool) -> list[list]:
    rows = []
    for i in indices:
        share = i.shapley if kind == "shapley" else i.ST
        if not share > 1e-4:
            continue
        name = i.name if parameters else titles.get(i.name, i.name)
        detail = (f"{titles.get(i.component, i.component)}, {i.status}".strip(", ") if parameters else "")
        if kind == "shapley":
            cells = [f"{i.shapley:.3f}", f"{i.conf_low:.2f}-{i.conf_high:.2f}"]
        else:
            cells = [f"{i.ST:.3f}", f"{i.shapley:.3f}"]
        rows.append([name, detail, *cells, max(0.0, min(1.0, share))])
    return rows


def _hotspots(view: View) -> dict:
    titles = {r.name: r.title for r in view.components}
    kind = view.hotspots
    if kind == "shapley":
        heading = ("Hotspots: Shapley effects with the declared correlations (estimated by permutations, 95 % "
                   "bootstrap interval)")
        columns = ["Shapley", "95 % interval"]
    else:
        heading = "Hotspots (exact variance decomposition)"
        columns = ["ST", "Shapley"]
    return {"heading": heading, "columns": columns,
            "components": _hot_rows(view.components_ranked[:8], titles, kind, False),
            "parameters": _hot_rows(view.parameters_ranked, titles, kind, True),
            "note": "" if kind else "This run has no hotspots (correlated inputs compared: see the A/B panel)."}


def _total(view: View) -> dict:
    t = view.total
    rest = f" (mean {kg(t.mean)}" + (f"; published method {kg(t.point)})" if t.point == t.point else ")")
    out = {"median": kg(t.median), "interval": _interval(t), "rest": rest, "without": ""}
    if view.without is not None:
        w = view.without
        out["without"] = (f"With the {view.correlations} declared correlation{'s' if view.correlations != 1 else ''}; "
                          f"without them: median {kg(w.median)}, 90 % interval {_interval(w)}.")
    return out


def _balance(view: View) -> dict | None:
    b = view.balance
    if b is None:
        return None
    return {"median": f"{b['median']:.3g}",
            "text": f" kg CO2-eq per device, 90 % interval {b['p5']:.3g} to {b['p95']:.3g}; "
                    f"P(offset) {b['p_offset']:.1%}. ",
            "statement": str(b["statement"] or "")}


def _cards(view: View) -> dict:
    rows = {r.name: r for r in view.components}
    out = {}
    for c in [*st.cards(), st.Card("truncation", "Truncation", (), False)]:
        r = rows.get(c.name)
        sources = view.sources.get(c.name, [])
        assumed = [s.name for s in sources if s.status == "assumed"]
        methods = view.methods.get(c.name, ())
        out[c.name] = {
            "now": "" if r is None else f"{kg(r.median)} kg [{_interval(r)}], {r.share:.0%} of the mean",
            "assumed": len(assumed),
            "flag": f"{len(assumed)} assumed" if assumed else "",
            "flag_title": ("assumed placeholders (no published value): " + ", ".join(assumed)) if assumed else "",
            "method": ("by " + st.method_label(methods[0]) if len(methods) == 1 else
                       "mixture of " + ", ".join(st.method_label(m) for m in methods) if methods else ""),
        }
    return out


def _sources(view: View) -> dict:
    return {comp: [[s.name, s.description, s.distribution, s.unit, s.status, list(s.sources), s.pedigree,
                    s.pedigree_reasons, s.note] for s in rows]
            for comp, rows in view.sources.items()}


def _pair(view: View, pair: Pair | None, name_a: str, name_b: str, same: bool) -> dict:
    if pair is None:
        t = view.total
        b = {"name": name_b, "median": kg(t.median), "interval": _interval(t)}
        if same:
            return {"same": True, "a": dict(b, name=name_a), "b": b,
                    "note": "Design B is design A: change a card, the application or an input to make design B."}
        return {"same": False, "a": {"name": name_a, "median": "-", "interval": "-"}, "b": b,
                "note": "No comparison: the message below says why."}
    titles = {**{r.name: r.title for r in pair.a_components}, **{r.name: r.title for r in view.components}}
    d = pair.difference
    decides = [[i.name, f"{titles.get(i.component, i.component)}, {i.status}".strip(", "), f"{i.shapley:.3f}",
                f"{i.ST:.3f}", max(0.0, min(1.0, i.shapley))] for i in pair.decides]
    p_more = pair.p_b_gt_a if pair.p_b_gt_a == pair.p_b_gt_a else 1.0 - pair.p_b_lt_a  # NaN: no ties known
    if pair.p_b_lt_a == 0.0 and p_more == 0.0:
        verdict = "B and A emit the same in every paired sample"
    elif pair.p_b_lt_a >= 0.95 or p_more >= 0.95:
        verdict = "B emits less than A" if pair.p_b_lt_a >= 0.95 else "B emits more than A"
        if max(pair.p_b_lt_a, p_more) == 1.0:  # an estimate from a finite sample: say what it rests on
            verdict += " in every paired sample"
    else:
        verdict = "the designs are not told apart at 90 %"
    parts = [(titles.get(c, c), f"{v:.0%}") for c, v in pair.decides_components[:3] if v >= 0.005]
    decided = ""
    if parts:
        decided = f"Which choice decides it: the inputs of {parts[0][0]} carry {parts[0][1]} of the variance of B - A"
        if parts[1:]:
            decided += " (then " + ", ".join(f"{t} {v}" for t, v in parts[1:]) + ")"
        decided += "."
    return {"same": False,
            "a": {"name": name_a, "median": kg(pair.a_total.median), "interval": _interval(pair.a_total)},
            "b": {"name": name_b, "median": kg(view.total.median), "interval": _interval(view.total)},
            "diff": {"median": f"{d.median:+.3g}", "interval": f"{d.p5:+.3g} to {d.p95:+.3g}",
                     "mean": f"{d.mean:+.3g}"},
            "p": f"{pair.p_b_lt_a:.3f}" if 0 < pair.p_b_lt_a < 1 else f"{pair.p_b_lt_a:.0f}",
            "verdict": verdict, "decided": decided, "decides": decides, "note": pair.note}


def _correlations(declared: int, used: bool) -> str:
    if not declared:
        return ("none declared in this experiment (an experiment's correlations: section; e.g. the preset "
                "Correlated inputs)")
    pairs = f"{declared} pair{'s' if declared != 1 else ''} declared"
    return (f"{pairs}: sampled by Gaussian copula; the hotspots are Shapley effects" if used else
            f"{pairs}, not used: every input is sampled independently")


def view_json(view: View, *, name: str, query: str, messages: Mapping[str, str], pair: Pair | None = None,
              name_a: str = "", ab: bool = False, same: bool = False, declared: int = 0,
              correlated: bool = True) -> dict:
    """The page's update for a valid state: every text of the results, the charts and the URL query.

    Parameters
    ----------
    view : View
        Design B's (the page's) numbers.
    name : str
        The device's name (design B's).
    query : str
        The URL query of the state (:func:`uncertainty_footprint.app.state.to_link`).
    messages : mapping
        Field -> message (empty: none).
    pair : Pair, optional
        The comparison with design A (A/B view).
    name_a : str
        Design A's name.
    ab : bool
        The page is in the A/B view (with ``same``: design B is still design A, so there is no comparison yet).
    declared, correlated : int, bool
        The correlations the experiment declares (pairs) and whether the page uses them.
    """
    chart = charts.stacked_chart(view, name or "This device", pair, name_a)
    histogram = charts.difference_histogram(view, pair) if pair is not None else charts.total_histogram(view)
    return {"ok": True, "messages": messages_json(messages), "query": query, "total": _total(view),
            "balance": _balance(view), "cards": _cards(view), "sources": _sources(view),
            "hotspots": _hotspots(view), "sentence": sentence(view),
            "ab": _pair(view, pair, name_a, name, same) if ab else None,
            "correlations": _correlations(declared, correlated), "chart": chart, "histogram": histogram}


def error_json(messages: Mapping[str, str]) -> dict:
    """The page's update for a state that cannot be run: the messages only (the last valid view stays)."""
    return {"ok": False, "messages": messages_json(messages)}

