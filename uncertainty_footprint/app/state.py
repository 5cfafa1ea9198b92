"""The page's state and its translation to and from an experiment file (no model logic: the experiment is run by
:mod:`uncertainty_footprint.app.engine`).

A state is a plain, JSON-able mapping::

    {"name": "Vision", "application": "image_classification",
     "choice": {"casing": "hsl:1:lower", "ml_training": "mobilenet", ...},   # one option id per card
     "off": ["security"],                                                   # cards left out (0 kg)
     "custom": {"casing": "uniform 0.1 0.3"},                               # text of the Custom fields
     "extra": "solar_cell: 0.2",                                            # the extra components box (YAML)
     "samples": 4000, "seed": 20230101, "design": "lhs",
     "methods": {"processing": "act_die_area", "pcb": "mixture"},           # a method, "mixture" or {method: w}
     "correlations": True,                   # use the experiment's declared correlations (if it has any)
     "base": {...}}                          # the rest of a loaded experiment (parameters, sources, ...), kept as is

Option ids: ``hsl:N`` (the block at HSL N, quantities from its lower/typical/upper triple), ``hsl:N:MODE`` (MODE
``lower``/``typical``/``upper`` fixes the quantities: the published calculator's scenarios; ``pert``/
``triangular``/``uniform`` picks the family), ``custom``, and the options of the non-block cards named in
``calculator.yaml``. The state lives in the page's URL (:func:`to_query`, :func:`from_query`); with a second
design and the data version (:func:`to_link`, :func:`from_link`).
"""

from __future__ import annotations

import copy
import json
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Any, Mapping
from urllib.parse import parse_qsl, urlencode

import yaml

from . import engine
from .engine import ConfigError

__all__ = ["Option", "Card", "Link", "settings", "cards", "preset_state", "default_state", "state_from_experiment",
           "experiment_from_state", "parse_custom", "format_custom", "parse_extra", "to_query", "from_query",
           "to_link", "from_link", "option_rounds", "method_label", "MIXTURE", "DEFAULT_METHOD", "CUSTOM", "ZERO"]

CUSTOM = "custom"
#: A card left out: its component is replaced by this distribution [kg CO2-eq].
ZERO = {"family": "fixed", "value": 0.0}
#: Keys of an experiment that the page's controls set; every other key is kept in ``base``.
UI_KEYS = ("name", "application", "blocks", "training", "use_stage", "components", "extra_components", "sampling",
           "methods")
#: A card's method switch: an equal mixture of every method that computes the component at its HSL.
MIXTURE = "mixture"
#: The method a component takes when the experiment names none (``truncation``: no truncation correction).
DEFAULT_METHOD = {"truncation": "none"}
BLOCK_METHOD = "pirson_bol"
#: Longest text a Custom field accepts [characters] (a distribution is a few dozen).
CUSTOM_MAX = 300
#: The source of the experiments the page builds, as messages name it.
SOURCE = "calculator"


@lru_cache(maxsize=1)
def settings() -> dict:
    """``calculator.yaml``: cards, published scenarios, presets, sampling (package data, read once)."""
    text = (resources.files("uncertainty_footprint") / "app" / "calculator.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


@dataclass(frozen=True)
class Option:
    """One option of a card: its id, label, published point value [kg CO2-eq] (None where the published calculator
    had no such option) and the experiment fragment it stands for."""

    id: str
    label: str
    published: float | None
    fragment: Mapping[str, Any]


@dataclass(frozen=True)
class Card:
    """A block (or ML training, use stage, end of life) with its options (Custom last)."""

    name: str
    title: str
    options: tuple[Option, ...]
    block: bool

    def option(self, option_id: str) -> Option | None:
        return next((o for o in self.options if o.id == option_id), None)


def _hsl_fragment(block: str, option_id: str) -> dict:
    _, hsl, *mode = option_id.split(":")
    return {"blocks": {block: int(hsl) if not mode else {"hsl": int(hsl), "quantities": mode[0]}}}


@lru_cache(maxsize=1)
def cards() -> tuple[Card, ...]:
    """The cards in page order: ML training, the twelve functional blocks (published order), use stage, end of life."""
    conf, cat = settings(), engine.catalog()
    out = []
    extra = conf["cards"]

    def plain(name):
        opts = [Option(oid, o["label"], o.get("published"), o["experiment"]) for oid, o in extra[name]["options"].items()]
        return Card(name, extra[name]["title"], tuple(opts + [Option(CUSTOM, "Custom", None, {})]), False)

    out.append(plain("ml_training"))
    for block, info in cat.blocks.items():
        title, levels = info.get("title", block), info["hsl"]
        opts = [Option(f"hsl:{h}", f"HSL-{h}: {meaning}", None, _hsl_fragment(block, f"hsl:{h}"))
                for h, meaning in levels.items()]
        for sc in conf["scenarios"].get(block, []):
            oid = f"hsl:{sc['hsl']}:{sc['quantities']}"
            opts.append(Option(oid, sc["label"], sc["published"], _hsl_fragment(block, oid)))
        out.append(Card(block, title, tuple(opts + [Option(CUSTOM, "Custom", None, {})]), True))
    out.append(plain("use_stage"))
    out.append(plain("end_of_life"))
    return tuple(out)


def _merge(into: dict, fragment: Mapping[str, Any]) -> None:
    for key, value in fragment.items():
        if isinstance(value, Mapping) and isinstance(into.get(key), dict):
            _merge(into[key], value)
        else:
            into[key] = copy.deepcopy(value) if isinstance(value, Mapping) else value
            if isinstance(value, Mapping):
                into[key] = dict(into[key])


def _sampling_defaults() -> dict:
    return dict(settings()["sampling"])


def _blank(name: str, application: str | None) -> dict:
    s = _sampling_defaults()
    return {"name": name, "application": application or "", "choice": {c.name: c.options[0].id for c in cards()},
            "off": [], "custom": {}, "extra": "", "samples": s["samples"], "seed": s["seed"],
            "design": s["design"], "methods": {}, "correlations": True, "base": {}}


def preset_state(name: str) -> dict:
    """The state of a preset of ``calculator.yaml`` (a shipped experiment or a published calculator preset)."""
    preset = settings()["presets"][name]
    if "experiment" in preset:
        state = state_from_experiment(engine.shipped(preset["experiment"]))
        state["samples"], state["seed"], state["design"] = (_sampling_defaults()[k] for k in ("samples", "seed",
                                                                                                "design"))
        return state
    state = _blank(preset["name"], preset.get("application"))
    state["choice"].update(preset["choices"])
    return state


def default_state() -> dict:
    return preset_state(settings()["default_preset"])


def format_custom(dist: Any) -> str:
    """The Custom field's text for a distribution of an experiment (a number for a fixed value)."""
    if isinstance(dist, Mapping) and dist.get("family") == "fixed" and set(dist) == {"family", "value"}:
        return f"{dist['value']:g}" if isinstance(dist["value"], (int, float)) else str(dist["value"])
    if isinstance(dist, (int, float)) and not isinstance(dist, bool):
        return f"{dist:g}"
    names = engine.families().get(dist.get("family")) if isinstance(dist, Mapping) else None
    if names and set(dist) == {"family", *names} and all(isinstance(dist[n], (int, float)) for n in names):
        return " ".join([dist["family"]] + [f"{dist[n]:g}" for n in names])
    return yaml.safe_dump(dist, default_flow_style=True, sort_keys=False, width=10_000).strip()


def parse_custom(text: str) -> Any:
    """A Custom field's distribution [kg CO2-eq]: a number (``0.3``); a family and its numbers in the registry's
    order (``uniform 0.1 0.3``, ``lognormal 0.3 1.5`` = median and geometric SD, ``pert 0.1 0.2 0.4``) or named
    (``lognormal median 0.5 gsd 2``, ``uniform low=0.1 high=0.3``, ``pert low: 0.1, mode: 0.2, high: 0.4``, in any
    order; a family's optional numbers such as pert's ``lambda`` only by name); or a YAML mapping
    (``{family: uniform, low: 0.1, high: 0.3}``). Whether the distribution is valid (e.g. not negative) is the
    API's to say.

    Raises
    ------
    ValueError
        The text is none of these; the message says what is allowed.
    """
    text = (text or "").strip()
    fams = {f: p for f, p in engine.families().items() if p}
    hint = ("type a number in kg CO2-eq (0.3), a family and its numbers, in order or by name (" +
            "; ".join(f"{f} {' '.join(p)}" for f, p in fams.items() if f != "fixed") +
            "; e.g. lognormal 0.5 2 or lognormal median 0.5 gsd 2), or a YAML mapping")
    if not text:
        raise ValueError(f"empty; {hint}")
    if len(text) > CUSTOM_MAX:
        raise ValueError(f"longer than {CUSTOM_MAX} characters; {hint}")
    if text.startswith("{"):
        data = engine.parse_yaml(text, SOURCE)
        if not isinstance(data, Mapping):
            raise ValueError(f"not a mapping; {hint}")
        return data
    words = [w for w in re.split(r"[\s,;=:]+", text) if w]
    if len(words) > 1 and words[0].lower() == "family":  # family: uniform, low: 0.1, high: 0.3 (no braces)
        words = words[1:]
    family = words[0].lower() if words[0].lower() in fams else None
    rest = words[1:] if family else words
    if family and rest and not _is_float(rest[0]):
        return _named(family, fams[family], rest, hint)
    if family and any(w.lower() in fams[family] for w in rest):
        raise ValueError(f"{family}: give every number by its name ({' '.join(f'{n} X' for n in fams[family])}) "
                         f"or all of them in order ({family} {' '.join(fams[family])})")
    try:
        values = [float(w) for w in rest]
    except ValueError:
        bad = next(w for w in rest if not _is_float(w))
        raise ValueError(f"{engine.shorten(bad, 40)} is not a number; {hint}") from None
    if not all(math.isfinite(v) for v in values):
        raise ValueError(f"not a finite number; {hint}")
    if family is None:
        if len(values) != 1:
            raise ValueError(f"{len(values)} numbers without a family; {hint}")
        return {"family": "fixed", "value": values[0]}
    names = fams[family]
    if len(values) != len(names):
        raise ValueError(f"{family} takes {len(names)} numbers ({', '.join(names)}), got {len(values)}")
    return {"family": family, **dict(zip(names, values))}


def _named(family: str, names: tuple[str, ...], words: list[str], hint: str) -> dict:
    """``name value`` pairs of a family (``median 0.5 gsd 2``); every required name once; other names are left to
    the API (a family's optional numbers, or a refusal naming the allowed ones)."""
    if len(words) % 2:
        raise ValueError(f"{family}: give each number after its name ({' '.join(f'{n} X' for n in names)}); {hint}")
    out: dict[str, Any] = {"family": family}
    for key, word in zip(words[::2], words[1::2]):
        key = key.lower()
        if _is_float(key) or not key.replace("_", "").isalnum():
            raise ValueError(f"{family}: {engine.shorten(key, 40)} is not the name of a number "
                             f"({', '.join(names)}); {hint}")
        if key in out:
            raise ValueError(f"{family}: {key} is given twice")
        if not _is_float(word):
            raise ValueError(f"{family}: {key} {engine.shorten(word, 40)} is not a number; {hint}")
        value = float(word)
        if not math.isfinite(value):
            raise ValueError(f"{family}: {key} is not a finite number")
        out[key] = value
    missing = [n for n in names if n not in out]
    if missing:
        raise ValueError(f"{family} needs {', '.join(names)}; {', '.join(missing)} missing")
    return out


def _is_float(word: str) -> bool:
    try:
        float(word)
    except ValueError:
        return False
    return True


def parse_extra(text: str) -> dict:
    """The extra components box: the experiment file's ``extra_components`` mapping, where a component may also
    be a bare number in kg CO2-eq (the published calculator's ``name: kg`` pairs) or a bare distribution.

    Raises
    ------
    ConfigError
        Malformed, oversized or too deeply nested YAML, an alias bomb, or not a mapping.
    """
    if not (text or "").strip():
        return {}
    data = engine.parse_yaml(text, f"{SOURCE}: extra components")
    if data is None:
        return {}
    if not isinstance(data, Mapping):
        raise ConfigError(f"{SOURCE}: extra components", "", "must be a mapping of component name to kg CO2-eq, "
                          "a distribution or a record with 'distribution' and 'stage'")
    out = {}
    for name, value in data.items():
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = {"distribution": {"family": "fixed", "value": value}}
        elif isinstance(value, Mapping) and "family" in value:
            value = {"distribution": dict(value)}
        out[str(name)] = value
    return out


def experiment_from_state(state: Mapping[str, Any]) -> tuple[dict, dict[str, str]]:
    """The experiment (a mapping with the schema of an experiment file) a state stands for, and the messages of
    fields that could not be read (``custom:<card>``, ``extra``); a field with a message is left out."""
    errors: dict[str, str] = {}
    exp: dict[str, Any] = copy.deepcopy(dict(state.get("base") or {}))
    exp["name"] = state.get("name") or "Calculator device"
    if state.get("application"):
        exp["application"] = state["application"]
    exp.setdefault("reference_devices", list(settings()["references"]))
    off = set(state.get("off") or [])
    for c in cards():
        option_id = (state.get("choice") or {}).get(c.name, c.options[0].id)
        option = c.option(option_id)
        if option is None and c.block and option_id.startswith("hsl:"):
            option = Option(option_id, option_id, None, _hsl_fragment(c.name, option_id))
        if c.name in off:
            if option is not None and c.block:
                _merge(exp, option.fragment)
            exp.setdefault("components", {})[c.name] = dict(ZERO)
        elif option_id == CUSTOM:
            try:
                exp.setdefault("components", {})[c.name] = parse_custom((state.get("custom") or {}).get(c.name, ""))
            except (ValueError, ConfigError) as exc:
                errors[f"custom:{c.name}"] = str(exc)
        elif option is not None:
            _merge(exp, option.fragment)
        else:
            errors["general"] = f"{c.title}: unknown option {engine.shorten(option_id, 40)}"
    try:
        extra = parse_extra(state.get("extra") or "")
        if extra:
            exp["extra_components"] = extra
    except ConfigError as exc:
        errors["extra"] = str(exc)
    methods = _methods(exp, state.get("methods") or {}, errors)
    exp.pop("methods", None)
    if methods:
        exp["methods"] = methods
    if not state.get("correlations", True):
        exp.pop("correlations", None)
        exp.pop("shapley", None)
    elif exp.get("correlations") and "shapley" not in exp:
        exp["shapley"] = dict(settings()["shapley"])
    limits = settings()["limits"]["shapley"]
    over = [f"{key} {value} (at most {limits[key]})" for key, value in (exp.get("shapley") or {}).items()
            if key in limits and isinstance(value, (int, float)) and value > limits[key]]
    if over and exp.get("correlations"):
        errors["load"] = ("shapley: " + ", ".join(over) + " is more than the page computes per click; run the "
                          "experiment with python -m uncertainty_footprint run")
    exp["sampling"] = {"samples": int(state.get("samples") or _sampling_defaults()["samples"]),
                       "seed": int(state.get("seed") or _sampling_defaults()["seed"]),
                       "design": state.get("design") or _sampling_defaults()["design"]}
    return exp, errors


def _methods(exp: Mapping[str, Any], chosen: Mapping[str, Any], errors: dict[str, str]) -> dict[str, Any]:
    """The ``methods:`` section of the method switches: a method by name, a weighted mixture as loaded, or
    :data:`MIXTURE`, an equal mixture of every method that computes the component at its HSL (a component left out
    or replaced by a Custom distribution has no method)."""
    out: dict[str, Any] = {}
    replaced = set(exp.get("components") or {})
    for comp, choice in chosen.items():
        if comp in replaced or choice in (None, "", DEFAULT_METHOD.get(comp, BLOCK_METHOD)):
            continue
        if choice == MIXTURE:
            try:
                options = engine.method_options(exp).get(comp, [])
            except ConfigError:  # the experiment itself is refused: its own message says why
                continue
            if len(options) < 2:
                errors[f"method:{comp}"] = (f"only {', '.join(options) or 'no method'} computes {comp} at this "
                                            "HSL: nothing to mix")
                continue
            out[comp] = {m: 1 for m in options}
        else:
            out[comp] = copy.deepcopy(choice)
    return out


def _option_of(c: Card, data: Mapping[str, Any]) -> str:
    """The option of a non-block card that an experiment's training / use_stage / components sections select."""
    comp = (data.get("components") or {}).get(c.name)
    for o in c.options:
        if o.id == CUSTOM:
            continue
        frag_comp = (o.fragment.get("components") or {}).get(c.name)
        if comp is not None:
            if frag_comp is not None and frag_comp == comp:
                return o.id
            continue
        if frag_comp is None and all(data.get(k, {}) == v or _contains(data.get(k), v)
                                     for k, v in o.fragment.items()):
            return o.id
    return CUSTOM if comp is not None else c.options[0].id


def _contains(have: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        return isinstance(have, Mapping) and all(_contains(have.get(k), v) for k, v in want.items())
    return have == want


def _is_zero(dist: Any) -> bool:
    return isinstance(dist, Mapping) and dist.get("family") == "fixed" and dist.get("value") == 0 and len(dist) == 2


def state_from_experiment(data: Mapping[str, Any]) -> dict:
    """The page state of an experiment (a validated experiment's ``to_dict()``); keys the controls do not set are
    kept in ``base`` so that the downloaded file carries them."""
    state = _blank(str(data.get("name", "Calculator device"))[:NAME_MAX], data.get("application"))
    state["base"] = {k: copy.deepcopy(v) for k, v in data.items() if k not in UI_KEYS}
    sampling = data.get("sampling") or {}
    state.update({k: sampling[k] for k in ("samples", "seed", "design") if k in sampling})
    hsl = engine.effective_blocks(data.get("application"))
    blocks, comps = data.get("blocks") or {}, data.get("components") or {}
    for c in cards():
        if c.block:
            choice = blocks.get(c.name, hsl.get(c.name, 0))
            if isinstance(choice, Mapping):
                q = choice.get("quantities")
                option_id = f"hsl:{choice['hsl']}" + (f":{q}" if q else "")
            else:
                option_id = f"hsl:{choice}"
        else:
            option_id = _option_of(c, data)
        if c.name in comps:
            if _is_zero(comps[c.name]):
                state["off"].append(c.name)
            elif c.block or option_id == CUSTOM:
                option_id = CUSTOM
                state["custom"][c.name] = format_custom(comps[c.name])
        state["choice"][c.name] = option_id
    extra = data.get("extra_components") or {}
    if extra:
        state["extra"] = yaml.safe_dump(dict(extra), sort_keys=False, default_flow_style=False, width=100)
    state["methods"] = _method_state(data)
    return state


def _method_state(data: Mapping[str, Any]) -> dict[str, Any]:
    """The method switches of an experiment's ``methods:`` section: a method by name, :data:`MIXTURE` for equal
    weights over every method that applies, other weights as they are."""
    chosen = data.get("methods") or {}
    if not chosen:
        return {}
    try:
        options = engine.method_options(data)
    except ConfigError:
        options = {}
    out: dict[str, Any] = {}
    for comp, choice in chosen.items():
        if isinstance(choice, Mapping):
            weights = {str(k): v for k, v in choice.items()}
            if set(weights) == set(options.get(comp, ())) and len(set(weights.values())) == 1:
                out[comp] = MIXTURE
            elif len(weights) == 1:
                out[comp] = next(iter(weights))
            else:
                out[comp] = weights
        else:
            out[comp] = str(choice)
    return out


# ------------------------------------------------------------------------------------------------ the URL
#: Longest URL query the page reads [characters] (a state is about 1 kB; the extra box may add more).
QUERY_MAX = 64 * 1024
#: Longest device name [characters] (the page's name field holds as many).
NAME_MAX = 200
#: Prefix of design A's keys in a link of two designs (``a.casing=hsl:2``).
A_PREFIX = "a."


def _pairs(state: Mapping[str, Any]) -> list[tuple[str, str]]:
    pairs = [("name", state.get("name") or ""), ("app", state.get("application") or "")]
    pairs += [(c, o) for c, o in (state.get("choice") or {}).items()]
    if state.get("off"):
        pairs.append(("off", ",".join(state["off"])))
    pairs += [(f"custom.{c}", t) for c, t in (state.get("custom") or {}).items() if t]
    pairs += [(f"method.{c}", m if isinstance(m, str) else json.dumps(m, separators=(",", ":"), sort_keys=True))
              for c, m in (state.get("methods") or {}).items()]
    if not state.get("correlations", True):
        pairs.append(("corr", "off"))
    if state.get("extra"):
        pairs.append(("extra", state["extra"]))
    pairs += [("samples", str(state.get("samples"))), ("seed", str(state.get("seed")))]
    if state.get("design") and state["design"] != _sampling_defaults()["design"]:
        pairs.append(("design", state["design"]))
    if state.get("base"):
        pairs.append(("base", json.dumps(state["base"], separators=(",", ":"), sort_keys=True)))
    return pairs


def to_query(state: Mapping[str, Any]) -> str:
    """The URL query string of a state (readable: one key per card)."""
    return "?" + urlencode(_pairs(state))


def from_query(search: str) -> dict | None:
    """The state in a URL query string, or None when it holds none (then the page opens on the default preset).
    Keys of a second design (``a.``) and of the data version are not the state's and are ignored here.

    Raises
    ------
    ValueError
        The query is too long or names an unknown card, option or number.
    """
    search = (search or "").lstrip("?")
    if len(search) > QUERY_MAX:
        raise ValueError(f"the link is longer than {QUERY_MAX} characters")
    if not search:
        return None
    pairs = parse_qsl(search, keep_blank_values=True, max_num_fields=400)
    return _state_of({k: v for k, v in pairs if not k.startswith(A_PREFIX) and k not in ("v", "data")})


def _state_of(q: Mapping[str, str]) -> dict | None:
    if not q:
        return None
    application = q.get("app") or None
    if application is not None and application not in engine.applications():
        raise ValueError(f"unknown application {engine.shorten(application, 40)}; allowed: "
                         f"{', '.join(engine.applications())}")
    state = _blank(q.get("name", "Calculator device")[:NAME_MAX], application)
    names = {c.name: c for c in cards()}
    methods = card_methods_all()
    for key, value in q.items():
        if key in names:
            c = names[key]
            if c.option(value) is None and not (c.block and _valid_hsl_id(value)):
                raise ValueError(f"{c.title}: unknown option {engine.shorten(value, 40)}")
            state["choice"][key] = value
        elif key.startswith("custom.") and key[7:] in names:
            state["custom"][key[7:]] = value[:CUSTOM_MAX]
        elif key.startswith("method.") and key[7:] in methods:
            state["methods"][key[7:]] = _method_value(key[7:], value, methods[key[7:]])
    state["off"] = [c for c in q.get("off", "").split(",") if c in names]
    state["correlations"] = q.get("corr", "on") != "off"
    state["extra"] = q.get("extra", "")
    for key in ("samples", "seed"):
        if key in q:
            try:
                state[key] = int(q[key])
            except ValueError:
                raise ValueError(f"{key} must be a whole number, got {engine.shorten(q[key], 40)}") from None
    if "design" in q:
        state["design"] = q["design"]
    if q.get("base"):
        try:
            base = json.loads(q["base"])
        except ValueError:
            raise ValueError("the link's experiment settings ('base') are not readable") from None
        if not isinstance(base, dict):
            raise ValueError("the link's experiment settings ('base') are not a mapping")
        state["base"] = {k: v for k, v in base.items() if k not in UI_KEYS}
    return state


def card_methods_all() -> dict[str, tuple[str, ...]]:
    """Component -> every method that computes it at some HSL (the method switches' choices, without
    :data:`MIXTURE`)."""
    return {c: tuple(m) for c, m in engine.card_methods().items()}


def _method_value(comp: str, value: str, allowed: tuple[str, ...]) -> Any:
    if value == MIXTURE or value in allowed:
        return value
    if value.startswith("{"):
        try:
            weights = json.loads(value)
        except ValueError:
            weights = None
        if (isinstance(weights, dict) and weights and all(k in allowed for k in weights)
                and all(isinstance(w, (int, float)) and not isinstance(w, bool) for w in weights.values())):
            return weights
    raise ValueError(f"{comp}: unknown method {engine.shorten(value, 40)}; allowed: "
                     f"{', '.join((*allowed, MIXTURE))}")


@dataclass(frozen=True)
class Link:
    """What a link holds: design B (the page's state), design A (None outside the A/B view) and the data version
    it was made with (empty strings for a link without one)."""

    state: dict | None
    a: dict | None
    package: str
    data: str


def to_link(state: Mapping[str, Any], a: Mapping[str, Any] | None = None,
            version: Mapping[str, str] | None = None) -> str:
    """The page's URL query: design B's state, design A's with the prefix ``a.`` and the data version
    (``v`` the package version, ``data`` the data checksum)."""
    pairs = _pairs(state)
    if a is not None:
        pairs += [(A_PREFIX + k, v) for k, v in _pairs(a)]
    if version:
        pairs += [("v", version["package"]), ("data", version["data"])]
    return "?" + urlencode(pairs)


def from_link(search: str) -> Link:
    """The designs and data version of a link (:func:`to_link`); a link without state gives ``Link(None, ...)``.

    Raises
    ------
    ValueError
        As :func:`from_query`, for either design.
    """
    search = (search or "").lstrip("?")
    if len(search) > QUERY_MAX:
        raise ValueError(f"the link is longer than {QUERY_MAX} characters")
    pairs = parse_qsl(search, keep_blank_values=True, max_num_fields=400) if search else []
    q = dict(pairs)
    own = {k: v for k, v in pairs if not k.startswith(A_PREFIX) and k not in ("v", "data")}
    a = {k[len(A_PREFIX):]: v for k, v in pairs if k.startswith(A_PREFIX)}
    return Link(_state_of(own), _state_of(a), q.get("v", ""), q.get("data", ""))


def method_label(method: str) -> str:
    """A method's short label on the page (``calculator.yaml``; the name itself for one not listed)."""
    return str(settings().get("methods", {}).get(method, method))


def _valid_hsl_id(value: str) -> bool:
    parts = value.split(":")
    return len(parts) in (2, 3) and parts[0] == "hsl" and parts[1].isdigit() and len(parts[1]) < 3


# ------------------------------------------------------------------------------------------------ per option
def option_rounds(application: str | None) -> tuple[tuple[str, str], ...]:
    """Experiments (YAML text, JSON list of ``[card, option]``) that between them select every option of every
    card once: round k sets every card to its k-th option. Cards are separate components, so one run gives the
    k-th option of all of them (for :func:`uncertainty_footprint.app.engine.option_stats`)."""
    rounds = []
    width = max(len(c.options) for c in cards())
    for k in range(width):
        state = _blank(f"options round {k}", application)
        pairs = []
        for c in cards():
            real = [o for o in c.options if o.id != CUSTOM]
            if k < len(real):
                state["choice"][c.name] = real[k].id
                pairs.append([c.name, real[k].id])
        if not pairs:
            break
        exp, _ = experiment_from_state(state)
        exp.pop("reference_devices", None)
        rounds.append((yaml.safe_dump(exp, sort_keys=False), json.dumps(pairs)))
    return tuple(rounds)
