"""The calculator page (Dash): layout and callbacks.

One interaction is one request: the controls' values go to :func:`create_app`'s ``update`` callback, which turns
them into an experiment (:mod:`.state`), runs it through the public API (:mod:`.engine`: ``run``, or ``compare``
for two designs) and answers with one JSON document of formatted text and chart specifications (:mod:`.page`);
the page's script (``assets/calculator.js``, client-side callbacks) writes that text into the page and hands the
charts to Plotly, so that the controls are not re-rendered. A preset, an uploaded file or a link sets the controls
in the same request (the callback outputs its own inputs, which Dash does not run again).

The first page is complete without any request: the default preset's view is computed when the app starts and
sent with the layout. The server keeps no per-session state (the page holds it, and its URL), so it does not grow
with the number of visitors; bad input gets a message beside its field and leaves the last valid view in place.
"""

from __future__ import annotations

import base64
import binascii
import math
import threading
import time
from collections import deque
from functools import lru_cache
from pathlib import Path

import dash
from dash import ClientsideFunction, Input, Output, State, dcc, html, no_update
from flask import Response

from . import engine, page, state as st
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
#: The component that stands for the truncation correction (a method switch without a card).
TRUNCATION = "truncation"

_INDEX = """<!DOCTYPE html>
<html lang="en">
    <head>
        {%metas%}
        <title>{%title%}</title>
        {%favicon%}
        {%css%}
    </head>
    <body>
        {%app_entry%}
        {%config%}
        {%scripts%}
        {%renderer%}
    </body>
</html>"""


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


def _stats(application: str | None) -> dict:
    conf = st.settings()["sampling"]
    return engine.option_stats(st.option_rounds(application or None), conf["samples"], conf["seed"])


def _method_cards() -> list[str]:
    """Cards with a method switch: the components that more than one method computes at some HSL."""
    methods = engine.card_methods()
    return [c.name for c in st.cards() if len(methods.get(c.name, {})) > 1]


# ------------------------------------------------------------------------------------------------ numbers
def _field(exc: ConfigError) -> str:
    """The field a message belongs beside, from the key path of an API error."""
    path = exc.path or ""
    head, _, rest = path.partition(".")
    if head == "components" and rest:
        return f"custom:{rest.split('.')[0]}"
    if head == "methods" and rest:
        return f"method:{rest.split('.')[0]}"
    if head in ("extra_components", "stages", "sources") or "extra components" in exc.source:
        return "extra"
    if head == "sampling":
        return "sampling"
    return "load"


def _message(exc: ConfigError) -> str:
    return f"{exc.path}: {exc.message}" if exc.path else exc.message


def _blank_messages(names, method_cards) -> dict[str, str]:
    out = {f"custom:{n}": "" for n in names}
    out.update({f"method:{n}": "" for n in [*method_cards, TRUNCATION]})
    out.update({k: "" for k in page.FIELDS})
    return out


def _whole(value) -> bool:
    """A finite whole number (a request may hold anything JSON carries, NaN and infinities included)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
            and value == int(value))


def _sampling_message(samples, seed) -> str:
    lo, hi = st.settings()["limits"]["samples"]
    if not _whole(samples) or not lo <= samples <= hi:
        return f"samples must be a whole number from {lo} to {hi}"
    if not _whole(seed) or not 1 <= seed < 2 ** 63:
        return "seed must be a whole number of at least 1"
    return ""


def _version_message(link: st.Link) -> str:
    now = engine.data_version()
    if not (link.package or link.data) or (link.package, link.data) == (now["package"], now["data"]):
        return ""
    return (f"This link was made with uncertainty_footprint {engine.shorten(link.package or '?', 20)} (data "
            f"{engine.shorten(link.data or '?', 20)}); this page runs {now['package']} (data {now['data']}): its "
            "numbers may differ from the ones that were shared.")


def _name(state) -> str:
    return state.get("name") or "Calculator device"


def compute_view(state: dict, state_a: dict | None, messages: dict[str, str]) -> dict:
    """The page's update for a state (and design A in the A/B view): run or compare through the API and format;
    with bad input, the messages only."""
    exp, errors = st.experiment_from_state(state)
    for key, text in errors.items():
        messages[key if key in messages else "load"] = text
    if errors:  # every input the page shows is used, or none: no run with an input left out
        return page.error_json(messages)
    exp_a = None
    if state_a is not None:
        exp_a, errors_a = st.experiment_from_state(state_a)
        if errors_a:
            messages["ab"] = "design A: " + "; ".join(errors_a.values())
            exp_a = None
    if any(messages[k] for k in messages if k not in ("version", "load", "ab")):
        return page.error_json(messages)
    samples, seed = state["samples"], state["seed"]
    try:
        experiment = engine.load(exp, st.SOURCE)
    except ConfigError as exc:
        field = _field(exc)
        messages[field if field in messages else "load"] = _message(exc)
        return page.error_json(messages)
    pair, same, name_a = None, False, ""
    view = None
    if state_a is not None:
        name_a = _name(state_a)
        try:
            if exp_a is None:
                raise ConfigError("design A", "", messages["ab"] or "design A cannot be read")
            experiment_a = engine.load(exp_a, f"{st.SOURCE}: design A")
            same = engine.same_design(experiment_a, experiment, samples, seed)
            if not same:
                view, pair = engine.compare(experiment_a, experiment, samples, seed)
        except ConfigError as exc:
            messages["ab"] = "A/B comparison: " + _message(exc)
    try:
        if view is None:
            view = engine.evaluate(experiment, samples, seed)
    except ConfigError as exc:
        field = _field(exc)
        messages[field if field in messages else "load"] = _message(exc)
        return page.error_json(messages)
    query = st.to_link(state, state_a, engine.data_version())
    declared = len((state.get("base") or {}).get("correlations") or [])
    return page.view_json(view, name=_name(state), query=query, messages=messages, pair=pair, name_a=name_a,
                          ab=state_a is not None, same=same, declared=declared,
                          correlated=bool(state.get("correlations", True)))


@lru_cache(maxsize=1)
def _default_view() -> dict:
    """The default preset's view (computed once: the first page needs no request)."""
    names = [c.name for c in st.cards()]
    return compute_view(st.default_state(), None, _blank_messages(names, _method_cards()))


# ------------------------------------------------------------------------------------------------ layout
def _card(card: st.Card, state: dict, method_cards: list[str]):
    name = card.name
    parts = [
        html.Div(className="card-head", children=[
            html.Div(id=f"on-{name}", className="card-toggle"),
            html.Div(id=f"info-{name}", className="card-info"),
        ]),
        html.Div(id=f"choice-{name}", className="options"),
        html.Div(className="custom-row", children=[
            html.Label("Custom", htmlFor=f"custom-{name}", className="custom-label"),
            dcc.Input(id=f"custom-{name}", type="text", debounce=True, value=state["custom"].get(name, ""),
                      maxLength=st.CUSTOM_MAX, className="custom-input",
                      placeholder="kg CO2-eq: 0.3 | uniform 0.1 0.3 | lognormal median 0.3 gsd 1.5"),
            html.Div(id=f"msg-custom-{name}", className="msg", role="status"),
        ]),
    ]
    if name in method_cards:
        parts.append(_method_row(name))
    parts.append(html.Div(id=f"src-{name}", className="src"))
    return html.Section(id=f"card-{name}", className="card", children=parts, **{"aria-label": card.title})


def _method_row(comp: str):
    return html.Div(className="method-row", children=[
        html.Div(id=f"method-{comp}", className="methods"),
        html.Div(id=f"msg-method-{comp}", className="msg", role="status"),
    ])


#: The titles of the choices the page's script draws as native radio buttons and checkboxes (legends).
def _titles() -> dict:
    out = {"application": "Application (sensing and MLPerf Tiny numbers of the inference model)",
           "correlations": "Use the declared correlations", "method:truncation": "Truncation correction"}
    for c in st.cards():
        out[f"choice:{c.name}"] = f"{c.title}: option"
        out[f"on:{c.name}"] = c.title
        out[f"method:{c.name}"] = "Method"
    return out


def _controls(state: dict, switches) -> dict:
    """The selection controls of a state (the ``controls`` store the page's script draws)."""
    names = [c.name for c in st.cards()]
    method = {}
    for n in switches:
        choice = state["methods"].get(n)
        method[n] = page.method_value(choice if choice is not None else st.DEFAULT_METHOD.get(n, st.BLOCK_METHOD))
    return {"application": state["application"] or "", "correlations": bool(state.get("correlations", True)),
            "choice": {n: state["choice"][n] for n in names}, "on": {n: n not in state["off"] for n in names},
            "method": method}


def _options(state: dict, switches) -> dict:
    """The options of the controls: the application presets, each card's options with their intervals (per
    application), each method switch's methods."""
    stats = _stats(state["application"])
    apps = [{"label": title, "value": name} for name, title in engine.applications().items()] + \
        [{"label": "none", "value": ""}]
    return {"application": apps,
            "choice": {c.name: page.options(c, stats, state["choice"][c.name]) for c in st.cards()},
            "method": {n: page.method_options(n, state["methods"].get(n)) for n in switches}}


def _layout():
    conf = st.settings()
    default = st.default_state()
    method_cards = _method_cards()
    switches = [*method_cards, TRUNCATION]
    view = _default_view()
    version = engine.data_version()
    presets = [html.Button([html.Span(p["label"], className="preset-label"),
                            html.Span(p["subtitle"], className="preset-sub")],
                           id=f"preset-{name}", className="preset", n_clicks=0)
               for name, p in conf["presets"].items()]
    lo, hi = conf["limits"]["samples"]
    left = html.Div(className="left", children=[
        html.Div(className="panel ab-panel", children=[
            html.Div(className="row", children=[
                html.Button("Keep as design A", id="keep-a", className="action", n_clicks=0,
                            title="Keep this device as design A; then change it into design B"),
                html.Button("Back to one design", id="clear-a", className="action secondary ab-only", n_clicks=0),
            ]),
            html.Div(id="ab", className="ab"),
            html.Div(id="msg-ab", className="msg", role="status"),
        ]),
        html.Div(id="total", className="total", role="status"),
        dcc.Graph(id="chart", config={"displaylogo": False, "modeBarButtonsToRemove": ["toImage", "lasso2d",
                                                                                      "select2d"]},
                  figure=view["chart"]),
        dcc.Graph(id="histogram", config={"displayModeBar": False}, figure=view["histogram"]),
        html.Div(className="row exports", children=[
            html.Span("Export", className="export-title"),
            html.Button("Summary CSV", id="export-csv", className="action", n_clicks=0),
            html.Button("Chart PNG", id="export-png", className="action", n_clicks=0),
            html.Button("Chart SVG", id="export-svg", className="action", n_clicks=0),
            html.Button("Experiment YAML", id="download-button", className="action", n_clicks=0),
            html.Button("Experiment A YAML", id="download-a", className="action ab-only", n_clicks=0),
            dcc.Download(id="download"),
        ]),
        html.Div(className="panel", children=[
            html.H2("Hotspots", id="hotspots-heading"),
            html.P(id="sentence", className="sentence"),
            html.Div(id="hotspots"),
        ]),
    ])
    right = html.Div(className="right", children=[
        html.Div(className="panel", id="presets-panel", children=[
            html.H2("Application presets"),
            html.Div(presets, className="presets"),
            html.Div(id="application", className="row apps"),
            html.Div(className="row", children=[
                html.Label("Device name", htmlFor="name"),
                dcc.Input(id="name", type="text", debounce=True, value=default["name"], maxLength=st.NAME_MAX,
                          className="name-input"),
                html.Label("Samples", htmlFor="samples"),
                dcc.Input(id="samples", type="number", debounce=True, value=default["samples"], min=lo, max=hi,
                          step=1, className="num-input"),
                html.Label("Seed", htmlFor="seed"),
                dcc.Input(id="seed", type="number", debounce=True, value=default["seed"], min=1, step=1,
                          className="num-input"),
            ]),
            html.Div(id="msg-sampling", className="msg", role="status"),
            _method_row(TRUNCATION),
            html.Div(className="row", children=[
                html.Div(id="correlations", className="corr-toggle"),
                html.Span(id="corr-note", className="note"),
            ]),
            html.Div(id="src-truncation", className="src"),
            html.Div(className="row", children=[
                html.Div(id="upload", className="upload", **{"data-max": str(TEXT_MAX)}),
                html.Span(id="msg-load", className="msg", role="status"),
            ]),
        ]),
        html.Div([_card(c, default, method_cards) for c in st.cards()], className="cards"),
        html.Div(className="panel", id="extra-panel", children=[
            html.H2("Extra components"),
            html.P(["Add components as YAML: the experiment file's ", html.Code("extra_components"),
                    " records, a bare distribution, or the published calculator's ", html.Code("name: kg"),
                    " pairs (manufacturing stage)."]),
            html.Label("Extra components (YAML)", htmlFor="extra", className="sr-only"),
            dcc.Textarea(id="extra", value="", maxLength=TEXT_MAX, className="extra",
                         placeholder="solar_cell: 0.2\nantenna: {family: uniform, low: 0.01, high: 0.05}\n"
                                     "packaging: {stage: end_of_life, distribution: {family: fixed, value: 0.05}}"),
            html.Button("Add to calculator", id="extra-add", className="action", n_clicks=0),
            html.Div(id="msg-extra", className="msg", role="status"),
        ]),
    ])
    return html.Div([
        dcc.Location(id="url", refresh=False),
        dcc.Store(id="link"), dcc.Store(id="upload-data"),
        dcc.Store(id="base", data=default["base"]), dcc.Store(id="design", data=default["design"]),
        dcc.Store(id="design-a", data=None), dcc.Store(id="query", data=view["query"]),
        dcc.Store(id="view", data=view), dcc.Store(id="bibliography", data=dict(engine.catalog().sources)),
        dcc.Store(id="options-for", data=[default["application"] or "", [], []]),
        dcc.Store(id="controls", data=_controls(default, switches)),
        dcc.Store(id="options", data=_options(default, switches)), dcc.Store(id="titles", data=_titles()),
        html.Header(html.H1(["TinyML CO", html.Sub("2"), " Footprint Calculator, with error bars"])),
        html.Main([left, right], className="main"),
        html.Footer([
            html.P(["Every number: median [90 % interval] in kg CO2-eq from a seeded sample; indices are exact "
                    "(Shapley effects with declared correlations are estimated). Re-implements Prakash et al. "
                    "(2023), Is TinyML Sustainable?; embodied blocks after Pirson & Bol (2021)."]),
            html.P([html.Span("Data version: "),
                    html.Span(f"uncertainty_footprint {version['package']}, data {version['data']}",
                              id="data-version"),
                    html.Span(" (the package version and a checksum of its data catalog; links carry both).")]),
            html.Div(id="msg-version", className="msg", role="status"),
        ]),
    ])


# ------------------------------------------------------------------------------------------------ the app
def create_app() -> dash.Dash:
    """The Dash app of the calculator (every script, style and font served from the installed packages)."""
    cards = st.cards()
    names = [c.name for c in cards]
    method_cards = _method_cards()
    switches = [*method_cards, TRUNCATION]
    app = dash.Dash(__name__, title="TinyML CO2 footprint calculator", serve_locally=True,
                    assets_folder=str(Path(__file__).with_name("assets")),
                    update_title=None, suppress_callback_exceptions=False)
    app.server.config["MAX_CONTENT_LENGTH"] = MAX_REQUEST
    # No dev tools and no version check: the page talks to this server only.
    app.enable_dev_tools(debug=False, dev_tools_ui=False, dev_tools_disable_version_check=True)
    # The page's language is stated (screen readers); plotly.js is left to load when the chart first renders,
    # after the numbers are on the page (it is by far the largest script, and the slowest to evaluate).
    app.index_string = _INDEX
    app.layout = _layout
    # Warm up once, so that the first visitor's page and first click take the usual milliseconds: the default
    # preset's option intervals and view (cached), the methods of the cards; the other applications' option
    # intervals in the background.
    default = st.default_state()
    _stats(default["application"])
    _default_view()
    others = [a for a in [*engine.applications(), ""] if a != default["application"]]
    threading.Thread(target=lambda: [_stats(a) for a in others], name="calculator-warmup", daemon=True).start()

    @app.server.errorhandler(413)
    def _too_large(_exc):  # pragma: no cover - exercised through the browser only
        return Response("request too large", status=413)

    preset_names = list(st.settings()["presets"])

    # The controls and the numbers: one callback, one request per interaction. The selections (radio buttons and
    # checkboxes, drawn by the page's script) are one store, ``controls``; the text fields are Dash inputs.
    control_keys = ["controls", "options", "name", "samples", "seed", "base", "design", "extra", "design-a",
                    "options-for", "query", "view"] + [f"custom-{n}" for n in names]
    props = {"controls": ("controls", "data"), "options": ("options", "data"), "name": ("name", "value"),
             "samples": ("samples", "value"), "seed": ("seed", "value"), "base": ("base", "data"),
             "design": ("design", "data"), "extra": ("extra", "value"), "design-a": ("design-a", "data"),
             "options-for": ("options-for", "data"), "query": ("query", "data"), "view": ("view", "data"),
             **{f"custom-{n}": (f"custom-{n}", "value") for n in names}}
    outputs = [Output(*props[k]) for k in control_keys]
    input_keys = (["link", "upload-data"] + [f"preset-{p}" for p in preset_names]
                  + ["keep-a", "clear-a", "controls", "name", "samples", "seed", "extra-add"]
                  + [f"custom-{n}" for n in names])
    input_props = {"link": ("link", "data"), "upload-data": ("upload-data", "data"), "keep-a": ("keep-a", "n_clicks"),
                   "clear-a": ("clear-a", "n_clicks"), "extra-add": ("extra-add", "n_clicks"),
                   **{f"preset-{p}": (f"preset-{p}", "n_clicks") for p in preset_names}}
    inputs = [Input(*(input_props.get(k) or props[k])) for k in input_keys]
    state_keys = ["extra", "base", "design", "design-a", "options-for"]
    states = [State(*props[k]) for k in state_keys]

    @app.callback(outputs, inputs, states, prevent_initial_call=True)
    @_timed("update")
    def update(*args):
        given = dict(zip(input_keys, args[:len(input_keys)]))
        held = dict(zip(state_keys, args[len(input_keys):]))
        out = {k: no_update for k in control_keys}
        messages = _blank_messages(names, method_cards)
        trigger = dash.ctx.triggered_id
        state_a = _state_a(held["design-a"])
        loaded = None
        try:
            if trigger == "link":
                link = st.from_link(given["link"])
                loaded, state_a = link.state or st.default_state(), link.a
                messages["version"] = _version_message(link)
            elif trigger == "upload-data":
                data = given["upload-data"] or {}
                loaded = _uploaded(data.get("contents"), data.get("filename"))
                messages["load"] = f"loaded {engine.shorten(data.get('filename') or 'experiment', 60)}"
            elif isinstance(trigger, str) and trigger.startswith("preset-"):
                loaded = st.preset_state(trigger[len("preset-"):])
        except (ConfigError, ValueError) as exc:
            if trigger != "link":
                messages["load"] = str(exc)
                out["view"] = page.error_json(messages)
                return _values(out, control_keys)
            loaded, state_a = st.default_state(), None
            messages["load"] = f"the link could not be read ({exc}); showing the default preset"
        if loaded is not None:
            state = loaded
            _set_controls(out, state, names, switches, given, held)
            if trigger == "link":
                out["design-a"] = st.to_query(state_a) if state_a is not None else None
        else:
            state = _state_of_controls(given, held, names, switches, out)
            bad = _bad_controls(state)
            if bad:  # only a request the page did not make gets here
                messages["load"] = bad
                out["view"] = page.error_json(messages)
                return _values(out, control_keys)
        if trigger == "keep-a":
            query_a = st.to_query(state)
            if not _keepable(state):
                messages["ab"] = "correct the fields marked in red before keeping this device as design A"
            elif len(query_a) > st.QUERY_MAX:
                messages["ab"] = (f"this device does not fit in a link ({len(query_a)} characters, at most "
                                  f"{st.QUERY_MAX}: shorten the extra components) and cannot be design A")
            else:
                state_a = state
                out["design-a"] = query_a
        elif trigger == "clear-a":
            state_a = None
            out["design-a"] = None
        messages["sampling"] = _sampling_message(state["samples"], state["seed"])
        if messages["sampling"]:
            state["samples"] = state["seed"] = None
        else:
            state["samples"], state["seed"] = int(state["samples"]), int(state["seed"])
        if state_a is not None and not messages["sampling"]:
            state_a = {**state_a, "samples": state["samples"], "seed": state["seed"]}
        # the options of the controls: the option intervals depend on the application
        extra = sorted(v for c, v in zip(cards, state["choice"].values()) if v and c.option(v) is None)
        weights = sorted(f"{n}={page.method_value(m)}" for n, m in state["methods"].items() if isinstance(m, dict))
        key = [state["application"] or "", extra, weights]
        if key != held["options-for"]:
            out["options"] = _options(state, switches)
            out["options-for"] = key
        view = compute_view(state, state_a, messages) if not messages["sampling"] else page.error_json(messages)
        out["view"] = view
        if view["ok"]:
            out["query"] = view["query"]
        return _values(out, control_keys)

    # ---- the selections: native radio buttons and checkboxes (fieldsets with legends) drawn from the store
    app.clientside_callback(ClientsideFunction(namespace="calculator", function_name="controls"),
                            Output("application", "title"), Input("controls", "data"), Input("options", "data"),
                            State("titles", "data"))
    # ---- the URL's query at load (only then: the page replaces it as the state changes, without a request)
    app.clientside_callback(ClientsideFunction(namespace="calculator", function_name="link"),
                            Output("link", "data"), Input("url", "search"))
    # ---- the page's text from the view (and the URL); the charts
    app.clientside_callback(ClientsideFunction(namespace="calculator", function_name="render"),
                            Output("corr-note", "title"), Input("view", "data"), State("bibliography", "data"))
    app.clientside_callback(ClientsideFunction(namespace="calculator", function_name="figures"),
                            Output("chart", "figure"), Output("histogram", "figure"), Input("view", "data"),
                            prevent_initial_call=True)
    # ---- exports: the chart as drawn (plotly.js), the summary and the experiment files (server)
    app.clientside_callback(ClientsideFunction(namespace="calculator", function_name="exportChart"),
                            Output("export-png", "title"), Input("export-png", "n_clicks"),
                            Input("export-svg", "n_clicks"), State("name", "value"), prevent_initial_call=True)

    @app.callback(Output("download", "data"), Input("download-button", "n_clicks"), Input("download-a", "n_clicks"),
                  Input("export-csv", "n_clicks"), State("query", "data"), prevent_initial_call=True)
    @_timed("export")
    def download(_n, _na, _nc, query):
        trigger = dash.ctx.triggered_id
        try:
            link = st.from_link(query or "")
            state = link.state or st.default_state()
            samples, seed = int(state["samples"]), int(state["seed"])
            exp = engine.load(st.experiment_from_state(state)[0], st.SOURCE)
            stem = _stem(_name(state))
            if trigger == "download-button":
                return _file(engine.experiment_yaml(exp, samples, seed), f"{stem}.yaml", "application/x-yaml")
            if link.a is None:
                if trigger == "download-a":
                    return no_update
                return _file(engine.summary_csv(exp, samples, seed), f"{stem}_summary.csv", "text/csv")
            exp_a = engine.load(st.experiment_from_state(link.a)[0], f"{st.SOURCE}: design A")
            if trigger == "download-a":
                return _file(engine.experiment_yaml(exp_a, samples, seed), f"{_stem(_name(link.a))}_A.yaml",
                             "application/x-yaml")
            if engine.same_design(exp_a, exp, samples, seed):
                return _file(engine.summary_csv(exp, samples, seed), f"{stem}_summary.csv", "text/csv")
            return _file(engine.comparison_csv(exp_a, exp, samples, seed), f"{stem}_vs_A.csv", "text/csv")
        except (ConfigError, ValueError, TypeError):  # the query is that of a valid view; nothing to export else
            return no_update

    return app


def _bad_controls(state: dict) -> str:
    """What is wrong with the selections of a request (an application or option the page does not offer), or
    an empty string."""
    application = state["application"]
    if application and (not isinstance(application, str) or application not in engine.applications()):
        return f"unknown application {engine.shorten(application, 40)}"
    for card, choice in state["choice"].items():
        if not isinstance(choice, str):
            return f"{card}: no option chosen"
    if not isinstance(state["name"], str) or not all(isinstance(v, str) for v in state["custom"].values()):
        return "the request's text fields are not text"
    return ""


def _keepable(state: dict) -> bool:
    """Whether a state can be design A: the page reads it and the API accepts its experiment."""
    exp, errors = st.experiment_from_state(state)
    if errors or _sampling_message(state["samples"], state["seed"]):
        return False
    try:
        engine.load(exp, st.SOURCE)
    except ConfigError:
        return False
    return True


def _values(out: dict, keys: list[str]) -> list:
    return [out[k] for k in keys]


def _stem(name: str) -> str:
    stem = "".join(ch if ch.isalnum() else "_" for ch in (name or "calculator")).strip("_").lower()[:60]
    return stem or "calculator"


def _file(text: str, filename: str, kind: str) -> dict:
    return {"content": text, "filename": filename, "type": kind}


def _state_a(query: str | None) -> dict | None:
    if not query:
        return None
    try:
        return st.from_query(query)
    except ValueError:
        return None


def _set_controls(out: dict, state: dict, names, switches, given: dict, held: dict) -> None:
    """Set the controls to a loaded state; a control that already shows its value is left alone (each one sent
    is re-rendered by the page)."""
    controls = _controls(state, switches)
    if controls != given["controls"]:
        out["controls"] = controls
    values = {"name": state["name"], "samples": state["samples"], "seed": state["seed"],
              **{f"custom-{n}": state["custom"].get(n, "") for n in names}}
    for key, value in values.items():
        if given.get(key) != value:
            out[key] = value
    held_values = {"base": state["base"], "design": state["design"], "extra": state["extra"]}
    for key, value in held_values.items():
        if held.get(key) != value:
            out[key] = value


def _state_of_controls(given: dict, held: dict, names, switches, out: dict) -> dict:
    """The state the controls stand for. Typing in a card's Custom field selects its Custom option (the callback
    sets the radio too, in the same request)."""
    trigger = dash.ctx.triggered_id

    def mapping(value) -> dict:  # a request the page did not make may hold anything
        return value if isinstance(value, dict) else {}

    controls = dict(mapping(given["controls"]))
    controls.update({k: mapping(controls.get(k)) for k in ("choice", "method", "on")})
    choices = {n: controls["choice"].get(n) for n in names}
    customs = {n: given[f"custom-{n}"] for n in names}
    if isinstance(trigger, str) and trigger.startswith("custom-") and trigger[7:] in names:
        n = trigger[7:]
        if customs[n] and choices[n] != st.CUSTOM:
            choices[n] = st.CUSTOM
            out["controls"] = {**controls, "choice": {**controls.get("choice", {}), n: st.CUSTOM}}
    methods = {}
    for n in switches:
        value = controls["method"].get(n)
        if value and value != st.DEFAULT_METHOD.get(n, st.BLOCK_METHOD):
            methods[n] = _json_or_text(value)
    on = controls["on"]
    return {"name": given["name"][:st.NAME_MAX] if isinstance(given["name"], str) else given["name"],
            "application": controls.get("application") or "",
            "choice": choices,
            "off": [n for n in names if not on.get(n, True)], "custom": {n: t for n, t in customs.items() if t},
            "extra": held["extra"] or "", "samples": given["samples"], "seed": given["seed"],
            "design": held["design"], "methods": methods, "correlations": bool(controls.get("correlations", True)),
            "base": held["base"] or {}}


def _json_or_text(value: str):
    import json

    if isinstance(value, str) and value.startswith("{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


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
