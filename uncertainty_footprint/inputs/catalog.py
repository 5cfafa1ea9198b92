"""The data catalog: every file under ``distributions/``, loaded and validated.

The catalog is data only: functional blocks and their HSL items, parameter records (unit factors, use stage,
training, end of life), application presets, reference devices and the bibliography. Every record is validated
when loaded; an error names the file and the key path.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from .distributions import as_number
from .method_data import load_methods
from ..errors import ConfigError, SpecError, key_path, shorten
from .parameters import STATUSES, Parameter, parse_record
from .pedigree import tables_of
from .safe_yaml import load_file
from .units import KG_CO2EQ, parse_unit, per, same_unit

__all__ = ["CORNERS_NOTE", "Catalog", "HslItem", "load_catalog", "default_data_dir", "read_yaml"]

PARAMETER_FILES = ("unit_factors.yaml", "use_stage.yaml", "training.yaml", "end_of_life.yaml")
BLOCK_MODELS = ("items", "transport")
HSL_COLUMNS = ("block", "hsl", "item", "parameter", "unit", "low", "typical", "high", "factor", "source", "status",
               "notes")


#: What the published lower and upper values are: the one statement of it (results.nc, terminal and reports).
CORNERS_NOTE = ("The published lower and upper values (Prakash et al. 2023) are corners, where every block is at "
                "its bound at once, not percentiles: independent sampling almost never reaches them, so they lie "
                "outside the Monte Carlo intervals by construction; compare them with those intervals only with "
                "that in mind.")


def default_data_dir() -> Path:
    """``$UNCERTAINTY_FOOTPRINT_DATA`` if set, else the package's own data (``uncertainty_footprint/data/distributions``,
    shipped as package data and found with :mod:`importlib.resources`)."""
    env = os.environ.get("UNCERTAINTY_FOOTPRINT_DATA")
    if env:
        return Path(env)
    return Path(str(resources.files("uncertainty_footprint") / "data" / "distributions"))


def read_yaml(path: Path) -> Any:
    """Read a YAML file safely (:func:`~uncertainty_footprint.inputs.safe_yaml.load_file`: size, nesting and
    alias limits, no duplicate keys, no tags); any problem becomes a one-line :class:`ConfigError`."""
    return load_file(path)[0]


@dataclass(frozen=True)
class HslItem:
    """One row of ``hsl_items.csv``: an item of a block at an HSL with its lower/typical/upper quantity."""

    block: str
    hsl: int
    item: str
    parameter: str
    unit: str
    low: float
    typical: float
    high: float
    factor: str
    source: str
    status: str
    notes: str


@dataclass(frozen=True)
class Catalog:
    """Everything under ``distributions/``.

    Attributes
    ----------
    root : Path
    blocks : dict
        Block name -> ``{title, model, stage, hsl: {level: label}}`` in the published order.
    items : tuple of HslItem
    parameters : dict of str to Parameter
        Records of unit factors, use stage, training and end of life.
    default_blocks : dict of str to int
        The published HSL choice.
    applications : dict
        Application presets (``title``, ``blocks``, ``parameters``, ``published_column``).
    reference_devices : dict of str to Parameter
    reference_labels : dict of str to str
    sources : dict of str to str
        Source key -> citation.
    methods : dict of str to MethodData
        The alternative methods of ``methods.yaml`` (:mod:`~uncertainty_footprint.inputs.method_data`).
    """

    root: Path
    blocks: Mapping[str, Mapping[str, Any]]
    items: tuple[HslItem, ...]
    parameters: Mapping[str, Parameter]
    default_blocks: Mapping[str, int]
    applications: Mapping[str, Mapping[str, Any]]
    reference_devices: Mapping[str, Parameter]
    reference_labels: Mapping[str, str]
    sources: Mapping[str, str]
    methods: Mapping[str, Any] = field(default_factory=dict)

    def block_items(self, block: str, hsl: int) -> list[HslItem]:
        return [it for it in self.items if it.block == block and it.hsl == hsl]

    def published_table(self):
        """The published per-component footprints (``published_tinyml_2023.csv``) as a pandas DataFrame
        indexed by component, one column per published case [kg CO2-eq]."""
        import pandas as pd

        return pd.read_csv(self.root / "published_tinyml_2023.csv", comment="#", index_col="component")

    # -- the catalog as tables (pandas DataFrames)
    def blocks_table(self):
        """One row per block, HSL and item: ``block, title, stage, hsl, meaning, item, parameter, unit, low,
        typical, high, factor, source, status``; quantities in ``unit``.

        >>> table = load_catalog().blocks_table()
        >>> "casing" in set(table["block"])
        True
        """
        import pandas as pd

        rows = []
        for block, info in self.blocks.items():
            for level, meaning in info["hsl"].items():
                base = {"block": block, "title": info.get("title", block), "stage": info.get("stage", ""),
                        "hsl": int(level), "meaning": meaning}
                items = self.block_items(block, level)
                if not items:
                    rows.append({**base, "item": "", "parameter": "", "unit": "", "low": 0.0, "typical": 0.0,
                                 "high": 0.0, "factor": "", "source": "", "status": ""})
                for it in items:
                    rows.append({**base, "item": it.item, "parameter": it.parameter, "unit": it.unit,
                                 "low": it.low, "typical": it.typical, "high": it.high, "factor": it.factor,
                                 "source": it.source, "status": it.status})
        return pd.DataFrame(rows)

    def parameters_table(self):
        """Indexed by parameter: ``unit, distribution, family, nominal, mean, sd, status, source, description``
        (nominal, mean and sd in ``unit``)."""
        import pandas as pd

        return pd.DataFrame([{"parameter": n, "unit": p.unit, "distribution": p.distribution.describe(),
                              "family": p.distribution.family, "nominal": p.nominal, "mean": p.distribution.mean(),
                              "sd": p.distribution.std(), "status": p.status, "source": ",".join(p.source),
                              "description": p.description} for n, p in self.parameters.items()]
                            ).set_index("parameter")

    def sources_table(self):
        """Indexed by source key: ``cite``."""
        import pandas as pd

        return pd.DataFrame({"cite": pd.Series(dict(self.sources), dtype=object)}).rename_axis("source")

    def references_table(self):
        """Indexed by name: ``device, footprint, unit, source``.

        >>> float(load_catalog().references_table().loc["apple_watch_series_7", "footprint"])
        34.0
        """
        import pandas as pd

        return pd.DataFrame([{"name": n, "device": self.reference_labels[n], "footprint": p.nominal, "unit": p.unit,
                              "source": ",".join(p.source)} for n, p in self.reference_devices.items()]
                            ).set_index("name")

    def methods_table(self):
        """Indexed by method (``methods.yaml``): ``recipe, covers, parameters, title, source``; ``covers`` lists
        the blocks and HSLs the method computes (``truncation`` for a truncation correction).

        >>> table = load_catalog().methods_table()
        >>> table.loc["act_die_area", "recipe"], table.loc["li_ion_per_kwh", "covers"]
        ('ic_die_area', 'power_supply 2-3')
        """
        import pandas as pd

        from .method_data import coverage

        def levels(hsls: list[int]) -> str:  # 0-3, or 0,2 (the truncation covers no HSL: empty)
            if len(hsls) > 1 and hsls == list(range(hsls[0], hsls[-1] + 1)):
                return f"{hsls[0]}-{hsls[-1]}"
            return ",".join(str(h) for h in hsls)

        rows = []
        for name, m in self.methods.items():
            cov = coverage(m, self.blocks, self.block_items)
            rows.append({"method": name, "recipe": m.recipe,
                         "covers": "; ".join(f"{b} {levels(h)}".strip() for b, h in cov.items()),
                         "parameters": ", ".join(m.parameters), "title": m.title, "source": ",".join(m.source)})
        return pd.DataFrame(rows, columns=["method", "recipe", "covers", "parameters", "title", "source"]
                            ).set_index("method")

    def applications_table(self):
        """Indexed by preset: ``title, blocks, parameters``."""
        import pandas as pd

        return pd.DataFrame([{"application": n, "title": a["title"],
                              "blocks": ", ".join(f"{b}={h}" for b, h in a["blocks"].items()),
                              "parameters": ", ".join(a["parameters"])} for n, a in self.applications.items()]
                            ).set_index("application")

    def effective_blocks(self, application: str | None) -> dict[str, int]:
        """The HSL every block takes when an experiment does not name it: the published choice, with the
        application preset's own choices."""
        app = self.applications.get(application or "", {"blocks": {}})
        return {b: int(app["blocks"].get(b, self.default_blocks[b])) for b in self.blocks}



def _mapping(value: Any, source: str, path: str, what: str) -> Mapping:
    if not isinstance(value, Mapping):
        raise ConfigError(source, path, f"must be a mapping of {what}")
    return value


def _section(root: Path, fname: str, key: str, what: str) -> tuple[Path, Mapping]:
    """The top-level mapping ``key`` of the data file ``fname``."""
    path = root / fname
    data = _mapping(read_yaml(path), str(path), "", f"{key!r}")
    return path, _mapping(data.get(key), str(path), key, what)


def _load_sources(root: Path) -> dict[str, str]:
    path, sources = _section(root, "sources.yaml", "sources", "source key -> {cite: ...}")
    out = {}
    for key, rec in sources.items():
        if not isinstance(rec, Mapping) or not isinstance(rec.get("cite"), str):
            raise ConfigError(str(path), f"sources.{key}", "needs a 'cite' text")
        out[key] = rec["cite"]
    return out


def _load_blocks(root: Path) -> dict[str, dict]:
    path, blocks = _section(root, "blocks.yaml", "blocks", "block name -> record")
    out = {}
    for name, rec in blocks.items():
        where = f"blocks.{name}"
        rec = _mapping(rec, str(path), where, "title, model, stage, hsl")
        if rec.get("model") not in BLOCK_MODELS:
            raise ConfigError(str(path), f"{where}.model", f"must be one of {', '.join(BLOCK_MODELS)}")
        hsl = _mapping(rec.get("hsl"), str(path), f"{where}.hsl", "level -> description")
        if not all(isinstance(k, int) and not isinstance(k, bool) and k >= 0 for k in hsl):
            raise ConfigError(str(path), f"{where}.hsl", "levels must be integers >= 0")
        out[name] = {"title": str(rec.get("title", name)), "model": rec["model"],
                     "stage": str(rec.get("stage", "manufacturing")), "hsl": {int(k): str(v) for k, v in hsl.items()}}
    return out


def _load_items(root: Path, blocks: Mapping[str, Any]) -> tuple[HslItem, ...]:
    path = root / "hsl_items.csv"
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(str(path), "", "file not found") from None
    lines = [ln for ln in text.splitlines() if not ln.startswith("#")]
    reader = csv.DictReader(io.StringIO("\n".join(lines)))
    if tuple(reader.fieldnames or ()) != HSL_COLUMNS:
        raise ConfigError(str(path), "", f"columns must be {','.join(HSL_COLUMNS)}")
    items = []
    for i, row in enumerate(reader, start=2):
        where = f"row {i}"
        try:
            if row["block"] not in blocks:
                raise SpecError(f"unknown block {shorten(row['block'])}")
            hsl = int(row["hsl"])
            if hsl not in blocks[row["block"]]["hsl"]:
                raise SpecError(f"HSL {hsl} is not defined for block {shorten(row['block'])} in blocks.yaml")
            low, typ, high = (as_number(row[k], k) for k in ("low", "typical", "high"))
            if not 0 <= low <= typ <= high:
                raise SpecError(f"needs 0 <= low <= typical <= high, got {low:g}, {typ:g}, {high:g}")
            if blocks[row["block"]]["model"] == "items" and not row["factor"]:
                raise SpecError("an item of an 'items' block needs a factor")
            if row["status"] not in STATUSES:
                raise SpecError(f"status must be one of {', '.join(STATUSES)}, got {shorten(row['status'])}")
            try:
                parse_unit(row["unit"])
            except SpecError as exc:
                raise SpecError(f"unit {exc}") from None
        except (SpecError, ValueError) as exc:
            raise ConfigError(str(path), where, str(exc)) from None
        items.append(HslItem(row["block"], hsl, row["item"], row["parameter"], row["unit"], low, typ, high,
                             row["factor"], row["source"], row["status"], row["notes"]))
    return tuple(items)


def _load_parameters(root: Path, sources: Mapping[str, str]) -> dict[str, Parameter]:
    out: dict[str, Parameter] = {}
    for fname in PARAMETER_FILES:
        path, records = _section(root, fname, "parameters", "name -> record")
        for name, raw in records.items():
            where = f"parameters.{name}"
            if name in out:
                raise ConfigError(str(path), where, f"defined twice (also in {out[name].origin})")
            try:
                out[name] = parse_record(name, raw, origin=f"distributions/{fname}", known_sources=sources)
            except SpecError as exc:
                raise ConfigError(str(path), key_path(where, exc), str(exc)) from None
    return out


def _load_applications(root: Path, blocks, parameters, sources) -> tuple[dict[str, int], dict[str, dict]]:
    path = root / "applications.yaml"
    data = _mapping(read_yaml(path), str(path), "", "'default_blocks' and 'applications'")
    defaults = _mapping(data.get("default_blocks"), str(path), "default_blocks", "block -> HSL")
    if set(defaults) != set(blocks):
        raise ConfigError(str(path), "default_blocks", f"must give an HSL for every block: {', '.join(blocks)}")
    apps = {}
    for name, rec in _mapping(data.get("applications"), str(path), "applications", "name -> preset").items():
        rec = _mapping(rec, str(path), f"applications.{name}", "title, blocks, parameters")
        params = {}
        for pname, raw in (rec.get("parameters") or {}).items():
            where = f"applications.{name}.parameters.{pname}"
            if pname not in parameters:
                raise ConfigError(str(path), where, "not a parameter of distributions/*.yaml")
            try:
                params[pname] = parse_record(pname, raw, origin="distributions/applications.yaml",
                                             base=parameters[pname], known_sources=sources)
            except SpecError as exc:
                raise ConfigError(str(path), key_path(where, exc), str(exc)) from None
        apps[name] = {"title": str(rec.get("title", name)), "blocks": dict(rec.get("blocks") or {}),
                      "parameters": params, "published_column": rec.get("published_column")}
    return dict(defaults), apps


def _load_references(root: Path, sources) -> tuple[dict[str, Parameter], dict[str, str]]:
    path, records = _section(root, "reference_devices.yaml", "reference_devices", "name -> record")
    devices, labels = {}, {}
    for name, raw in records.items():
        raw = dict(_mapping(raw, str(path), f"reference_devices.{name}", "a record"))
        labels[name] = str(raw.pop("label", name))
        try:
            devices[name] = parse_record(name, raw, origin="distributions/reference_devices.yaml",
                                         known_sources=sources)
        except SpecError as exc:
            raise ConfigError(str(path), key_path(f"reference_devices.{name}", exc), str(exc)) from None
        if not same_unit(devices[name].unit, KG_CO2EQ):
            raise ConfigError(str(path), f"reference_devices.{name}.unit", f"a device's footprint is in {KG_CO2EQ}, "
                              f"got {devices[name].unit!r}")
    return devices, labels


def _check_factors(root: Path, items: tuple[HslItem, ...], parameters: Mapping[str, Parameter]) -> None:
    """Every item's factor has a record whose unit is kg CO2-eq per the item's quantity unit."""
    for it in items:
        if not it.factor:
            continue
        where = (str(root / "hsl_items.csv"), f"{it.block}.{it.item}")
        if it.factor not in parameters:
            raise ConfigError(*where, f"factor {it.factor!r} has no record in {', '.join(PARAMETER_FILES)}")
        unit = parameters[it.factor].unit
        if not same_unit(unit, per(KG_CO2EQ, it.unit)):
            raise ConfigError(*where, f"HSL-{it.hsl}: the factor {it.factor} is in {unit}, but the quantity is in "
                              f"{it.unit}; the factor must be in {KG_CO2EQ}/{it.unit}")


@lru_cache(maxsize=8)
def _load(root: Path) -> Catalog:
    if not root.is_dir():
        raise ConfigError(str(root), "", "data directory not found (set UNCERTAINTY_FOOTPRINT_DATA or --data-dir)")
    with tables_of(root):  # the records' pedigree scores are read in this folder's tables
        return _load_records(root)


def _load_records(root: Path) -> Catalog:
    sources = _load_sources(root)
    blocks = _load_blocks(root)
    items = _load_items(root, blocks)
    parameters = _load_parameters(root, sources)
    _check_factors(root, items, parameters)
    defaults, apps = _load_applications(root, blocks, parameters, sources)
    devices, labels = _load_references(root, sources)
    methods = load_methods(root, sources, list(parameters) + [it.parameter for it in items], blocks, items)
    return Catalog(root, blocks, items, parameters, defaults, apps, devices, labels, sources, methods)


def load_catalog(root: str | os.PathLike | None = None) -> Catalog:
    """Load and validate the data catalog (cached per directory)."""
    return _load(Path(root if root is not None else default_data_dir()).resolve())
