"""The calculator page (Dash): layout and callbacks. Each interaction sends the controls' values; the server
turns them into an experiment (:mod:`.state`), runs it through the public API (:mod:`.engine`) and returns numbers,
charts and hotspots. The server keeps no per-session state (the page holds it, and its URL), so it does not grow
with the number of visitors; bad input gets a message beside its field and leaves the last valid view in place.
"""

from __future__ import annotations

import base64
import binascii
import threading
import time
from collections import deque
from pathlib import Path

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update
from flask import Response

from . import charts, engine, state as st
from .engine import ConfigError

__all__ = ["create_app", "TIMINGS", "MAX_REQUEST"]

#: Largest request the server reads [bytes]: a 1 MiB YAML paste (refused by the YAML limits with a message) and
#: the controls; anything larger is refused by the web server before it is read.
MAX_REQUEST = 3 * (1 << 20)
#: Longest text the extra components box and a loaded file may hold [characters] (one more than the YAML limit,
#: so that an oversized paste reaches the server and is refused with a message).
TEXT_MAX = (1 << 20) + 1
#: Server time of the last interactions [s] (callback name, seconds), newest last; bounded.
TIMINGS: deque = deque(maxlen=2000)
_LOCK = threading.Lock()

CARD_IDS = None  # filled by create_app (the card names in page order)


def _timed(name):
    def wrap(function):
        def inner(*args, **kwargs):
            t0 = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                with _LOCK:
                    TIMINGS.append((name, time.perf_counter() - t0))
        inner.__name__ = function.__name__
        inner.__doc__ = function.__doc__
        return inner
    return wrap


def _kg(x: float) -> str:
    if x == 0:
        return "0"
    return f"{x:.2f}" if x >= 0.095 else f"{x:.3f}" if x >= 0.0095 else f"{x:.2g}"


def _option_label(option: st.Option, stats: engine.OptionStats | None):
    parts = [html.Span(option.label, className="opt-label")]
    if option.id == st.CUSTOM:
        parts.append(html.Span("a number or a distribution", className="opt-stats"))
    elif stats is not None:
        parts.append(html.Span(f"{_kg(stats.median)} kg [{_kg(stats.p5)}-{_kg(stats.p95)}]", className="opt-stats",
                               title="median [90 % interval], kg CO2-eq"))
        if option.published is not None:
            parts.append(html.Span(f"published {option.published:.2f}", className="opt-published",
                                   title="the published calculator's point value, kg CO2-eq"))
        else:
            parts.append(html.Span(f"point {_kg(stats.point)}", className="opt-point",
                                   title="the published method's point value (typical quantities, central "
                                         "factors), kg CO2-eq"))
    return html.Span(parts, className="opt")


def _options(card: st.Card, stats: dict, selected: str | None) -> list[dict]:
    opts = [{"label": _option_label(o, stats.get((card.name, o.id))), "value": o.id} for o in card.options]
    if selected and selected not in {o.id for o in card.options}:
        opts.insert(-1, {"label": html.Span([html.Span(selected, className="opt-label"),
                                             html.Span("from the loaded experiment", className="opt-stats")],
                                            className="opt"), "value": selected})
    return opts


def _stats(application: str | None) -> dict:
    conf = st.settings()["sampling"]
    return engine.option_stats(st.option_rounds(application or None), conf["samples"], conf["seed"])


def _card(card: st.Card, stats: dict, value: str):
    return html.Div(className="card", id=f"card-{card.name}", children=[
        html.Div(className="card-head", children=[
            dcc.Checklist(id=f"on-{card.name}", options=[{"label": card.title, "value": "on"}], value=["on"],
                          className="card-toggle", inputClassName="card-check"),
            html.Span(id=f"now-{card.name}", className="now"),
        ]),
        dcc.RadioItems(id=f"choice-{card.name}", options=_options(card, stats, value), value=value,
                       className="options", labelClassName="option", inputClassName="option-input"),
        html.Div(className="custom-row", children=[
            dcc.Input(id=f"custom-{card.name}", type="text", debounce=True, value="", maxLength=st.CUSTOM_MAX,
                      className="custom-input",
                      placeholder=f"Custom {card.title} kg CO2-eq: 0.3 | uniform 0.1 0.3 | lognormal 0.3 1.5"),
            html.Div(id=f"msg-custom-{card.name}", className="msg"),
        ]),
    ])


def _layout():
    conf = st.settings()
    default = st.default_state()
    stats = _stats(default["application"])
    presets = [html.Button([html.Div(p["label"], className="preset-label"),
                            html.Div(p["subtitle"], className="preset-sub")],
                           id=f"preset-{name}", className="preset", n_clicks=0)
               for name, p in conf["presets"].items()]
    apps = [{"label": title, "value": name} for name, title in engine.applications().items()] + \
        [{"label": "none", "value": ""}]
    lo, hi = conf["limits"]["samples"]
    left = html.Div(className="left", children=[
        html.Div(id="total", className="total"),
        dcc.Graph(id="chart", config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage"]},
                  figure={"layout": {"height": 430}}),
        dcc.Graph(id="histogram", config={"displayModeBar": False}, figure={"layout": {"height": 210}}),
        html.Div(className="panel", children=[
            html.H3("Hotspots (exact variance decomposition)"),
            html.P(id="sentence", className="sentence"),
            html.Div(id="hotspots"),
        ]),
    ])
    right = html.Div(className="right", children=[
        html.Div(className="panel", id="presets-panel", children=[
            html.H3("Application presets"),
            html.Div(presets, className="presets"),
            html.Div(className="row", children=[
                html.Label("Application (sensing and MLPerf Tiny numbers of the inference model)", htmlFor="application"),
                dcc.RadioItems(id="application", options=apps, value=default["application"], inline=True,
                               className="apps"),
            ]),
            html.Div(className="row", children=[
                html.Label("Device name", htmlFor="name"),
                dcc.Input(id="name", type="text", debounce=True, value=default["name"], maxLength=200,
                          className="name-input"),
                html.Label("Samples", htmlFor="samples"),
                dcc.Input(id="samples", type="number", debounce=True, value=default["samples"], min=lo, max=hi,
                          step=1, className="num-input"),
                html.Label("Seed", htmlFor="seed"),
                dcc.Input(id="seed", type="number", debounce=True, value=default["seed"], min=1, step=1,
                          className="num-input"),
            ]),
            html.Div(id="msg-sampling", className="msg"),
            html.Div(className="row", children=[
                html.Button("Download experiment", id="download-button", className="action"),
                dcc.Download(id="download"),
                dcc.Upload(html.Button("Load experiment", className="action"), id="upload", multiple=False,
                           max_size=TEXT_MAX),
                html.Span(id="msg-load", className="msg"),
            ]),
        ]),
        html.Div([_card(c, stats, default["choice"][c.name]) for c in st.cards()], className="cards"),
        html.Div(className="panel", id="extra-panel", children=[
            html.H3("Extra components"),
            html.P(["Add components as YAML: the experiment file's ", html.Code("extra_components"),
                    " records, a bare distribution, or the published calculator's ", html.Code("name: kg"),
                    " pairs (manufacturing stage)."]),
            dcc.Textarea(id="extra", value="", maxLength=TEXT_MAX, className="extra",
                         placeholder="solar_cell: 0.2\nantenna: {family: uniform, low: 0.01, high: 0.05}\n"
                                     "packaging: {stage: end_of_life, distribution: {family: fixed, value: 0.05}}"),
            html.Button("Add to calculator", id="extra-add", className="action", n_clicks=0),
            html.Div(id="msg-extra", className="msg"),
        ]),
    ])
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="base", data={}), dcc.Store(id="design", data=default["design"]),
        dcc.Store(id="query"), dcc.Store(id="experiment-yaml"),
        dcc.Store(id="options-for", data=[default["application"] or "", []]), html.Div(id="url-sink", hidden=True),
        html.Header(html.H1(["TinyML CO", html.Sub("2"), " Footprint Calculator, with error bars"])),
        html.Main([left, right], className="main"),
        html.Footer(["Every number: median [90 % interval] in kg CO2-eq from a seeded sample; indices are exact. ",
                     "Re-implements Prakash et al. (2023), Is TinyML Sustainable?; embodied blocks after Pirson & "
                     "Bol (2021)."]),
    ])


def _field(exc: ConfigError) -> str:
    """The field a message belongs beside, from the key path of an API error."""
    path = exc.path or ""
    head, _, rest = path.partition(".")
    if head == "components" and rest:
        return f"custom:{rest.split('.')[0]}"
    if head in ("extra_components", "stages", "sources") or "extra components" in exc.source:
        return "extra"
    if head == "sampling":
        return "sampling"
    return "load"


def _message(exc: ConfigError) -> str:
    return f"{exc.path}: {exc.message}" if exc.path else exc.message


def _sentence(view: engine.View) -> str:
    if view.total.p95 - view.total.p5 <= 0 or not view.parameters_ranked:
        return "Every input is fixed: the total has no spread, so there is nothing to pin down."
    top = view.parameters_ranked[0]
    comp = view.components_ranked[0] if view.components_ranked else None
    titles = {r.name: r.title for r in view.components}
    verb = "Pin down" if top.status in ("assumed", "inferred") else "Narrow down"
    text = (f"{verb} {top.name.replace('_', ' ')} ({titles.get(top.component, top.component)}, {top.status}) "
            f"first: knowing it exactly would remove {top.S1:.0%} of the variance of the total "
            f"(total-order index {top.ST:.0%}).")
    if comp is not None:
        text += (f" {titles.get(comp.name, comp.name)} carries {comp.ST:.0%} of the variance: redesign it or "
                 "specify it better before anything else.")
    return text


def _bar(value: float) -> html.Div:
    return html.Div(html.Div(style={"width": f"{max(0.0, min(1.0, value)) * 100:.1f}%"}, className="bar-fill"),
                    className="bar")


def _hotspots(view: engine.View):
    titles = {r.name: r.title for r in view.components}
    comps = [i for i in view.components_ranked if i.ST > 1e-4][:8]
    head = html.Tr([html.Th(""), html.Th("ST"), html.Th("Shapley"), html.Th("")])
    comp_rows = [html.Tr([html.Td(titles.get(i.name, i.name)), html.Td(f"{i.ST:.3f}"), html.Td(f"{i.shapley:.3f}"),
                          html.Td(_bar(i.ST))], className="hot-component") for i in comps]
    par_rows = [html.Tr([html.Td([i.name, html.Span(f" {titles.get(i.component, i.component)}, {i.status}",
                                                   className="hot-detail")]),
                         html.Td(f"{i.ST:.3f}"), html.Td(f"{i.shapley:.3f}"), html.Td(_bar(i.ST))],
                        className="hot-parameter") for i in view.parameters_ranked if i.ST > 1e-4]
    return html.Div([
        html.H4("Components"), html.Table([html.Thead(head), html.Tbody(comp_rows)], id="hot-components"),
        html.H4("Parameters"), html.Table([html.Thead(head), html.Tbody(par_rows)], id="hot-parameters"),
    ])


def _total(view: engine.View):
    t = view.total
    return [html.Span("Total ", className="total-label"),
            html.Span(f"{t.median:.2f}", id="total-median", className="total-median"),
            html.Span(" kg CO2-eq, 90 % interval "),
            html.Span(f"{t.p5:.2f}-{t.p95:.2f}", id="total-interval"),
            html.Span(f" (mean {t.mean:.2f}; published method {t.point:.2f})", className="total-point")
            ] + _balance(view)


def _balance(view: engine.View) -> list:
    """The net balance line of an experiment with a benefit (none otherwise)."""
    b = view.balance
    if b is None:
        return []
    return [html.Div([html.Span("Net balance "), html.Span(f"{b['median']:.3g}", id="balance-median"),
                      html.Span(f" kg CO2-eq per device, 90 % interval {b['p5']:.3g} to {b['p95']:.3g}; "
                                f"P(offset) {b['p_offset']:.1%}. "),
                      html.Span(b["statement"] or "", id="balance-statement")], id="balance", className="balance")]


def _now(row: engine.Row | None) -> str:
    if row is None:
        return ""
    return f"{_kg(row.median)} kg [{_kg(row.p5)}-{_kg(row.p95)}], {row.share:.0%} of the mean"


def create_app() -> dash.Dash:
    """The Dash app of the calculator (every script, style and font served from the installed packages)."""
    cards = st.cards()
    names = [c.name for c in cards]
    app = dash.Dash(__name__, title="TinyML CO2 footprint calculator", serve_locally=True,
                    assets_folder=str(Path(__file__).with_name("assets")),
                    update_title=None, suppress_callback_exceptions=False)
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST
    # No dev tools and no version check: the page talks to this server only.
    app.enable_dev_tools(debug=False, dev_tools_ui=False, dev_tools_disable_version_check=True)
    app.layout = _layout
    # Warm up once, so that the first visitor's page and first click take the usual milliseconds: the default
    # preset's option intervals (cached) and one evaluation.
    # The other applications' option intervals are computed in the background.
    default = st.default_state()
    _stats(default["application"])
    engine.evaluate(engine.load(st.experiment_from_state(default)[0], st.SOURCE), default["samples"], default["seed"])
    others = [a for a in [*engine.applications(), ""] if a != default["application"]]
    threading.Thread(target=lambda: [_stats(a) for a in others], name="calculator-warmup", daemon=True).start()

    @app.server.errorhandler(413)
    def _too_large(_exc):  # pragma: no cover - exercised through the browser only
        return Response("request too large", status=413)

    preset_names = list(st.settings()["presets"])

    # ---- controls from the URL (on load), a preset or a loaded experiment
    @app.callback(
        [Output("application", "value"), Output("name", "value"), Output("samples", "value"),
         Output("seed", "value"), Output("base", "data"), Output("design", "data"), Output("extra", "value"),
         Output("msg-load", "children")]
        + [Output(f"choice-{n}", "value") for n in names] + [Output(f"on-{n}", "value") for n in names]
        + [Output(f"custom-{n}", "value") for n in names],
        [Input("url", "search")] + [Input(f"preset-{p}", "n_clicks") for p in preset_names]
        + [Input("upload", "contents")],
        [State("upload", "filename")],
    )
    @_timed("load")
    def load_controls(search, *args):
        trigger = dash.ctx.triggered_id
        contents, filename = args[-2], args[-1]
        message = ""
        try:
            if isinstance(trigger, str) and trigger.startswith("preset-"):
                state = st.preset_state(trigger[len("preset-"):])
            elif trigger == "upload":
                state = _uploaded(contents, filename)
                message = f"loaded {engine.shorten(filename or 'experiment', 60)}"
            else:
                state = st.from_query(search) or st.default_state()
        except (ConfigError, ValueError) as exc:
            if trigger in (None, "url"):
                state = st.default_state()
            else:
                return [no_update] * 7 + [str(exc)] + [no_update] * (3 * len(names))
            message = f"the link could not be read ({exc}); showing the default preset"
        return ([state["application"] or "", state["name"], state["samples"], state["seed"], state["base"],
                 state["design"], state["extra"], message]
                + [state["choice"][n] for n in names] + [[] if n in state["off"] else ["on"] for n in names]
                + [state["custom"].get(n, "") for n in names])

    # ---- option labels (per application: the inference model's numbers differ)
    @app.callback([Output(f"choice-{n}", "options") for n in names] + [Output("options-for", "data")],
                  [Input("application", "value")],
                  [State(f"choice-{n}", "value") for n in names] + [State("options-for", "data")])
    @_timed("options")
    def option_labels(application, *rest):
        choices, built_for = rest[:-1], rest[-1]
        extra = sorted(v for c, v in zip(cards, choices) if v and c.option(v) is None)
        key = [application or "", extra]
        if built_for == key:  # same labels as on the page: nothing to re-render
            return [no_update] * (len(names) + 1)
        stats = _stats(application)
        return [_options(c, stats, v) for c, v in zip(cards, choices)] + [key]

    # ---- the numbers
    @app.callback(
        [Output("total", "children"), Output("chart", "figure"), Output("histogram", "figure"),
         Output("hotspots", "children"), Output("sentence", "children"), Output("query", "data"),
         Output("experiment-yaml", "data"), Output("msg-extra", "children"), Output("msg-sampling", "children")]
        + [Output(f"now-{n}", "children") for n in names] + [Output(f"msg-custom-{n}", "children") for n in names]
        + [Output(f"choice-{n}", "value", allow_duplicate=True) for n in names],
        [Input("application", "value"), Input("name", "value"), Input("samples", "value"), Input("seed", "value"),
         Input("base", "data"), Input("extra-add", "n_clicks")]
        + [Input(f"choice-{n}", "value") for n in names] + [Input(f"on-{n}", "value") for n in names]
        + [Input(f"custom-{n}", "value") for n in names],
        [State("extra", "value"), State("design", "data")],
        prevent_initial_call=True,
    )
    @_timed("compute")
    def compute(application, name, samples, seed, base, _add, *rest):
        k = len(names)
        choices, ons, customs = list(rest[:k]), rest[k:2 * k], rest[2 * k:3 * k]
        extra, design = rest[3 * k], rest[3 * k + 1]
        # Typing in a card's Custom field selects its Custom option (this callback sets the radio too, so that
        # one request carries both).
        selected = [no_update] * k
        trigger = dash.ctx.triggered_id
        if isinstance(trigger, str) and trigger.startswith("custom-") and trigger[7:] in names:
            i = names.index(trigger[7:])
            if customs[i] and choices[i] != st.CUSTOM:
                choices[i] = selected[i] = st.CUSTOM
        messages = {f"custom:{n}": "" for n in names}
        messages.update(extra="", sampling="")
        lo, hi = st.settings()["limits"]["samples"]
        if not isinstance(samples, (int, float)) or samples != int(samples) or not lo <= samples <= hi:
            messages["sampling"] = f"samples must be a whole number from {lo} to {hi}"
        elif not isinstance(seed, (int, float)) or seed != int(seed) or not 1 <= seed < 2 ** 63:
            messages["sampling"] = "seed must be a whole number of at least 1"
        state = {"name": name, "application": application or "", "choice": dict(zip(names, choices)),
                 "off": [n for n, on in zip(names, ons) if not on],
                 "custom": {n: t for n, t in zip(names, customs) if t}, "extra": extra or "",
                 "samples": int(samples) if not messages["sampling"] else None,
                 "seed": int(seed) if not messages["sampling"] else None, "design": design, "base": base or {}}
        exp, errors = st.experiment_from_state(state)
        for key, text in errors.items():
            messages[key if key in messages else "sampling"] = text
        view = None
        if not any(messages.values()):
            try:
                experiment = engine.load(exp, st.SOURCE)
                view = engine.evaluate(experiment, state["samples"], state["seed"])
            except ConfigError as exc:
                field = _field(exc)
                messages[field if field in messages else "sampling"] = _message(exc)
        msgs = ([messages["extra"], messages["sampling"]], [messages[f"custom:{n}"] for n in names])
        if view is None:  # keep the last valid view
            return [no_update] * 7 + msgs[0] + [no_update] * k + msgs[1] + selected
        rows = {r.name: r for r in view.components}
        return ([_total(view), charts.stacked_chart(view, name or "This device"), charts.total_histogram(view),
                 _hotspots(view), _sentence(view), st.to_query(state), view.yaml] + msgs[0]
                + [_now(rows.get(n)) for n in names] + msgs[1] + selected)

    # ---- the URL follows the state (no reload, no new history entry per click)
    app.clientside_callback(ClientsideFunction(namespace="calculator", function_name="replaceUrl"),
                            Output("url-sink", "children"), Input("query", "data"))

    # ---- download
    @app.callback(Output("download", "data"), Input("download-button", "n_clicks"), State("experiment-yaml", "data"),
                  State("name", "value"), prevent_initial_call=True)
    def download(_n, text, name):
        if not text:
            return no_update
        stem = "".join(ch if ch.isalnum() else "_" for ch in (name or "calculator")).strip("_").lower()[:60]
        return {"content": text, "filename": f"{stem or 'calculator'}.yaml", "type": "application/x-yaml"}

    return app


def _uploaded(contents: str | None, filename: str | None) -> dict:
    """The state of an uploaded experiment file (checked with the limits of experiment files)."""
    source = f"{st.SOURCE}: {engine.shorten(filename or 'upload', 60)}"
    if not contents or "," not in contents:
        raise ConfigError(source, "", "empty upload")
    try:
        raw = base64.b64decode(contents.split(",", 1)[1], validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError(source, "", "the upload is not readable") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(source, "", "not UTF-8 text; an experiment is a YAML file") from None
    exp = engine.load(text, source)
    return st.state_from_experiment(exp.to_dict())
