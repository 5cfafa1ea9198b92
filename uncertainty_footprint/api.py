"""The public Python API: load an experiment, change it, run it, read and plot the results, compare, export.

>>> import uncertainty_footprint as uf
>>> exp = uf.load_experiment("kws").with_blocks(casing=2)
>>> res = uf.run(exp, samples=200, seed=1, sobol=False)
>>> float(res.summary.loc["total", "median"]) > 0
True

Everything the command line does is a call of this module (the command ``run`` is :func:`run` with ``out=``, the
command ``compare`` is :func:`compare` with ``out=``), with the same safety rules for results folders
(:mod:`uncertainty_footprint.reports.folder`) and the same errors: invalid input raises
:class:`~uncertainty_footprint.errors.ConfigError` (one line naming the file or the Python call, the key path and
what is allowed); a failing environment while writing raises
:class:`~uncertainty_footprint.reports.folder.WriteError`. Nothing is written unless a folder is asked for.

Footprints are in kg CO2-eq throughout (IPCC GWP100 basis of the data catalog).
"""

from __future__ import annotations

import hashlib
import html
import os
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any, Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import xarray as xr
import yaml

from .errors import ConfigError
from .inputs import experiment as _experiment
from .inputs.catalog import Catalog as _Catalog, load_catalog
from .inputs.examples import example_names, example_text, example_title, resolve_experiment
from .inputs.safe_yaml import MAX_BYTES, load_text
from .model.builder import LifecycleModel, build_model
from .analysis.run import EngineOptions, Prepared, RunResult, prepare, run_prepared
from .analysis.hotspots import indices_table, to_datatree

__all__ = ["Experiment", "Result", "Comparison", "CatalogTables", "load_experiment", "run", "compare", "catalog",
           "parse_yaml", "distribution_families", "example_names", "example_text", "example_title"]

#: ``source`` of experiments given as a Python mapping (it names them in error messages).
DICT_SOURCE = "experiment dict"
#: ``source`` of experiments given as YAML text.
TEXT_SOURCE = "experiment text"


# ------------------------------------------------------------------------------------------------ helpers
def _plain(value: Any) -> Any:
    """``value`` with numpy scalars and arrays, tuples and mappings turned into plain Python (for YAML)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return [_plain(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    return value


def _dump(data: Mapping[str, Any]) -> str:
    return yaml.safe_dump(_plain(data), sort_keys=False, allow_unicode=True, width=110)


def _slug(text: str) -> str:
    return re.sub(r"[^0-9a-zA-Z]+", "_", text).strip("_").lower() or "experiment"


def _parse(data: Any, source: str) -> _experiment.Experiment:
    """Validate ``data`` as an experiment; its SHA-256 is that of the YAML text :meth:`Experiment.to_yaml` gives."""
    inner = _experiment.parse_experiment(data, source)
    text = _dump(inner.spec.model_dump(mode="python", exclude_unset=True))
    return _experiment.Experiment(inner.spec, source, hashlib.sha256(text.encode("utf-8")).hexdigest())


def _is_file(source: str) -> bool:
    return source not in (DICT_SOURCE, TEXT_SOURCE) and Path(source).is_file()


def parse_yaml(text: str, source: str = TEXT_SOURCE) -> Any:
    """YAML text -> plain Python objects, with every limit of experiment files (size :data:`MAX_BYTES`, nesting,
    aliases, duplicate keys, tags; :mod:`uncertainty_footprint.inputs.safe_yaml`).

    Raises
    ------
    ConfigError
        One line naming ``source``, the key path where known and the line.

    Examples
    --------
    >>> parse_yaml("casing: {family: uniform, low: 0.1, high: 0.3}")
    {'casing': {'family': 'uniform', 'low': 0.1, 'high': 0.3}}
    """
    if not isinstance(text, str):
        raise ConfigError(source, "", f"expected YAML text, got {type(text).__name__}")
    if len(text) > MAX_BYTES or len(text.encode("utf-8")) > MAX_BYTES:
        raise ConfigError(source, "", f"larger than {MAX_BYTES // (1 << 20)} MiB; give at most "
                          f"{MAX_BYTES // (1 << 20)} MiB of YAML (an experiment is a few kB)")
    return load_text(text, source)


def distribution_families() -> dict[str, tuple[str, ...]]:
    """Distribution families an experiment may use, with their required parameter names, in registry order.

    >>> distribution_families()["pert"]
    ('low', 'mode', 'high')
    """
    from .inputs.distributions import FAMILIES

    return {name: tuple(f.required) for name, f in FAMILIES.items()}


# ------------------------------------------------------------------------------------------------ display
class _FactsDisplay:
    """``repr`` and the notebook's HTML of an object that lists its facts (``_facts()``: (name, text) pairs),
    under its class name; ``_html_extra()`` may add HTML below the table."""

    def _facts(self) -> list[tuple[str, str]]:
        raise NotImplementedError

    def _html_extra(self) -> str:
        return ""

    def __repr__(self) -> str:
        return f"{type(self).__name__}(\n" + "\n".join(f"  {k}: {v}" for k, v in self._facts()) + "\n)"

    def _repr_html_(self) -> str:
        rows = "".join(f"<tr><th style='text-align:left'>{html.escape(k)}</th><td style='text-align:left'>"
                       f"{html.escape(v)}</td></tr>" for k, v in self._facts())
        return f"<table><caption>{type(self).__name__}</caption>{rows}</table>{self._html_extra()}"


# ------------------------------------------------------------------------------------------------ experiment
class Experiment(_FactsDisplay):
    """A validated experiment: what to model (blocks, parameters, components) and how to sample it.

    Made by :func:`load_experiment` (from a file, a shipped name, a mapping or YAML text); every ``with_*``
    method returns a changed copy, validated again exactly as an experiment file is (the same
    :class:`~uncertainty_footprint.errors.ConfigError` naming the key), and checked against the data catalog
    (block, HSL, parameter and family names).

    Attributes
    ----------
    name : str
        The experiment's ``name:``.
    label : str
        Short label of the experiment in comparisons and default folder names: the file's stem, or the name in
        snake case for an experiment made in Python.
    source : str
        The file it was read from, or ``'experiment dict'`` / ``'experiment text'``.
    sha256 : str
        SHA-256 of the file's bytes; for an experiment made or changed in Python, of :meth:`to_yaml`'s text (so
        that running the written file gives the same ``config_sha256`` stamp).
    spec : pydantic model
        The parsed, frozen schema object (:class:`uncertainty_footprint.inputs.experiment.ExperimentModel`).
    """

    __slots__ = ("_exp", "_label", "_modified", "_data_dir")

    def __init__(self, experiment: _experiment.Experiment, *, label: str | None = None, modified: bool = False,
                 data_dir: str | os.PathLike | None = None):
        self._exp = experiment
        self._label = label or (Path(experiment.source).stem if _is_file(experiment.source)
                                else _slug(experiment.name))
        self._modified = modified
        self._data_dir = data_dir

    # -- construction
    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = DICT_SOURCE, label: str | None = None,
                  data_dir: str | os.PathLike | None = None) -> "Experiment":
        """An experiment from a mapping with the schema of an experiment file (see
        :mod:`uncertainty_footprint.inputs.experiment`).

        Raises
        ------
        ConfigError
            Naming ``source``, the key path and what is allowed.
        """
        data = _plain(data) if isinstance(data, Mapping) else data
        exp = cls(_parse(data, source), label=label, modified=True, data_dir=data_dir)
        exp.check()
        return exp

    @classmethod
    def from_yaml(cls, text: str, *, source: str = TEXT_SOURCE, label: str | None = None,
                  data_dir: str | os.PathLike | None = None) -> "Experiment":
        """An experiment from YAML text (pasted or downloaded), read with the limits of experiment files
        (:mod:`uncertainty_footprint.inputs.safe_yaml`: size, nesting, aliases, duplicate keys).

        >>> exp = Experiment.from_yaml("name: tiny\\nblocks: {casing: 2}\\n")
        >>> exp.spec.blocks["casing"]
        2
        """
        data = parse_yaml(text, source)
        exp = cls(_experiment.parse_experiment(data, source, hashlib.sha256(text.encode("utf-8")).hexdigest()),
                  label=label, modified=True, data_dir=data_dir)
        exp.check()
        return exp

    # -- reading
    @property
    def name(self) -> str:
        return self._exp.name

    @property
    def label(self) -> str:
        return self._label

    @property
    def source(self) -> str:
        return self._exp.source

    @property
    def sha256(self) -> str:
        return self._exp.sha256

    @property
    def spec(self):
        return self._exp.spec

    @property
    def internal(self) -> _experiment.Experiment:
        """The internal experiment object (for the layers below the API)."""
        return self._exp

    def to_dict(self) -> dict[str, Any]:
        """The experiment as a plain mapping with the schema of an experiment file (only the keys that were given,
        plus the ones changed in Python); :func:`load_experiment` of it gives the same experiment.

        >>> d = load_experiment("kws").to_dict()
        >>> d["name"], d["blocks"]["casing"]
        ('Keyword spotting', 1)
        """
        return _plain(self._exp.spec.model_dump(mode="python", exclude_unset=True))

    def to_yaml(self, path: str | os.PathLike | None = None) -> str:
        """The experiment as YAML text (written to ``path`` if given, refusing to replace an existing file);
        running that file reproduces the numbers of :func:`run` with the same options.

        >>> print(load_experiment("kws").to_yaml().splitlines()[0])
        name: Keyword spotting
        """
        text = _dump(self.to_dict())
        if path is not None:
            path = Path(path)
            try:
                with open(path, "x", encoding="utf-8") as f:
                    f.write(text)
            except FileExistsError:
                raise ConfigError(str(path), "", "exists already; the experiment is never written over an "
                                  "existing file: choose another name") from None
        return text

    @property
    def data_dir(self) -> str | os.PathLike | None:
        """The data catalog's folder it was checked against (None: the default catalog)."""
        return self._data_dir

    def check(self) -> LifecycleModel:
        """Check the names that depend on the data catalog (blocks, HSLs, parameters, families) by building the
        Monte Carlo model; return it.

        Raises
        ------
        ConfigError
            Naming the experiment's source and the key path.
        """
        return build_model(self._exp, load_catalog(self._data_dir))

    # -- changing
    def _changed(self, section: str, changes: Mapping[str, Any]) -> "Experiment":
        data = self.to_dict()
        base = data.get(section) or {}
        data[section] = {**(base if isinstance(base, Mapping) else {}), **_plain(changes)}
        where = f"{self.source} (changed by with_{section})"
        inner = _parse(data, where)
        exp = Experiment(_experiment.Experiment(inner.spec, self.source, inner.sha256), label=self._label,
                         modified=True, data_dir=self._data_dir)
        build_model(inner, load_catalog(self._data_dir))  # names checked against the catalog, in `where`
        return exp

    def with_blocks(self, **choices: int | Mapping[str, Any]) -> "Experiment":
        """A copy with HSL choices changed: ``with_blocks(casing=2, power_supply={"hsl": 2, "quantities":
        "triangular"})`` (the ``blocks:`` section of an experiment file).

        >>> load_experiment("kws").with_blocks(casing=2).spec.blocks["casing"]
        2
        """
        return self._changed("blocks", choices)

    def with_parameters(self, **records: Mapping[str, Any]) -> "Experiment":
        """A copy with parameters' distributions (or record fields) overridden:
        ``with_parameters(lifetime={"family": "uniform", "low": 2, "high": 5})`` (the ``parameters:`` section;
        values in the parameter's unit unless the record gives ``unit``).

        >>> exp = load_experiment("kws").with_parameters(grid_carbon_intensity={"family": "fixed", "value": 0.3})
        >>> exp.spec.parameters["grid_carbon_intensity"]["value"]
        0.3
        """
        return self._changed("parameters", records)

    def with_components(self, **distributions: Mapping[str, Any]) -> "Experiment":
        """A copy with components replaced by distributions in kg CO2-eq (the ``components:`` section):
        ``with_components(casing={"family": "pert", "low": 0.1, "mode": 0.2, "high": 0.4})``."""
        return self._changed("components", distributions)

    def with_extra_components(self, **components: Mapping[str, Any]) -> "Experiment":
        """A copy with user-defined components added (the ``extra_components:`` section): ``solar_cell={"stage":
        "manufacturing", "distribution": {"family": "uniform", "low": 0.1, "high": 0.3}}``."""
        return self._changed("extra_components", components)

    def with_sampling(self, *, samples: int | None = None, seed: int | None = None,
                      design: str | None = None) -> "Experiment":
        """A copy with the ``sampling:`` options changed (``None`` keeps a value)."""
        return self._changed("sampling", {k: v for k, v in {"samples": samples, "seed": seed,
                                                            "design": design}.items() if v is not None})

    def with_sobol(self, **options: Any) -> "Experiment":
        """A copy with the ``sobol:`` options changed (``enabled``, ``method``, ``samples``, ``second_order``,
        ``groupings``, ``conf_level``, ``num_resamples``, ``seed``); ``samples``, ``conf_level``,
        ``num_resamples`` or ``seed`` without ``method`` mean ``method="sampled"``.

        >>> load_experiment("kws").with_sobol(samples=1024).spec.sobol.method
        'sampled'
        """
        return self._changed("sobol", options)

    # -- display
    def _facts(self) -> list[tuple[str, str]]:
        s = self.spec
        blocks = ", ".join(f"{b}={v if isinstance(v, int) else v.hsl}" for b, v in s.blocks.items()) or "defaults"
        rows = [("name", s.name), ("source", self.source + (" (changed in Python)" if self._modified and
                                                             _is_file(self.source) else "")),
                ("application", s.application or "-"), ("blocks", blocks),
                ("sampling", f"{s.sampling.samples} samples, seed {s.sampling.seed}, design {s.sampling.design}"),
                ("sobol", (f"{s.sobol.method}" + (f", base {s.sobol.samples}" if s.sobol.method == "sampled" else "")
                           + f", groupings {', '.join(s.sobol.groupings)}"
                           + (", second order" if s.sobol.second_order else "")) if s.sobol.enabled else "off")]
        if s.parameters:
            rows.append(("parameters changed", ", ".join(s.parameters)))
        if s.components:
            rows.append(("components replaced", ", ".join(s.components)))
        if s.extra_components:
            rows.append(("extra components", ", ".join(s.extra_components)))
        return rows


    def __eq__(self, other: object) -> bool:
        return isinstance(other, Experiment) and self.spec == other.spec

    __hash__ = None


def load_experiment(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *,
                    data_dir: str | os.PathLike | None = None, source: str | None = None) -> Experiment:
    """Read and validate an experiment.

    Parameters
    ----------
    experiment : path, str, mapping or Experiment
        An experiment file (``experiments/kws.yaml``), the name of a shipped experiment (``"kws"``; see
        :func:`uncertainty_footprint.inputs.examples.example_names`), a mapping with the schema of an experiment
        file, or an :class:`Experiment` (returned as it is). YAML text: :meth:`Experiment.from_yaml`.
    data_dir : path, optional
        Folder of the data catalog (default: the package's data or ``$UNCERTAINTY_FOOTPRINT_DATA``); the names
        that depend on the data are checked against it.
    source : str, optional
        For a mapping: the name error messages give it (default ``experiment dict``), e.g. ``calculator``.

    Returns
    -------
    Experiment

    Raises
    ------
    ConfigError
        Naming the file (or ``experiment dict``), the key path and what is allowed.

    Examples
    --------
    >>> load_experiment("kws").name
    'Keyword spotting'
    >>> load_experiment({"name": "mine", "blocks": {"casing": 2}}).label
    'mine'
    >>> load_experiment({"name": "mine", "blocks": {"casing": 9}})
    Traceback (most recent call last):
    ...
    uncertainty_footprint.errors.ConfigError: experiment dict: blocks.casing: ...
    """
    if isinstance(experiment, Experiment):
        if data_dir is not None and experiment.data_dir != data_dir:
            experiment = Experiment(experiment.internal, label=experiment.label, modified=experiment._modified,
                                    data_dir=data_dir)
            experiment.check()
        return experiment
    if isinstance(experiment, Mapping):
        return Experiment.from_dict(experiment, data_dir=data_dir, source=source or DICT_SOURCE)
    if not isinstance(experiment, (str, os.PathLike)):
        raise ConfigError("load_experiment", "", "expected a file path, the name of a shipped experiment "
                          f"({', '.join(example_names())}), a mapping or an Experiment, got "
                          f"{type(experiment).__name__}")
    path = resolve_experiment(experiment, strict=True)  # a file, a shipped name, or a ConfigError listing them
    exp = Experiment(_experiment.load_experiment(path), data_dir=data_dir)
    exp.check()
    return exp


# ------------------------------------------------------------------------------------------------ run
def _sobol_options(sobol: bool | Mapping[str, Any] | None, **explicit: Any) -> dict[str, Any]:
    """The ``sobol`` section overrides of a call (``None`` values keep the experiment's)."""
    if isinstance(sobol, Mapping):
        options = dict(sobol)
    elif sobol is None:
        options = {}
    elif isinstance(sobol, bool):
        options = {"enabled": True, "method": "sampled"} if sobol else {"enabled": False}
    else:
        raise ConfigError("run", "sobol", f"expected True, False, None or a mapping of sobol options, got "
                          f"{type(sobol).__name__}")
    options.update({k: v for k, v in explicit.items() if v is not None})
    if isinstance(options.get("groupings"), str):
        options["groupings"] = [g.strip() for g in options["groupings"].split(",")]
    return options


def _prepare(exp: Experiment, *, data_dir=None, **options) -> Prepared:
    """:func:`uncertainty_footprint.analysis.run.prepare` of an experiment in memory (validation, overrides and
    every model: one path for the API and the command line)."""
    return prepare(exp.internal, data_dir=data_dir if data_dir is not None else exp.data_dir, **options)


def run(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *, samples: int | None = None,
        seed: int | None = None, design: str | None = None, sobol: bool | Mapping[str, Any] | None = None,
        sobol_method: str | None = None, sobol_samples: int | None = None, second_order: bool | None = None,
        groupings: Sequence[str] | str | None = None, conf_level: float | None = None,
        num_resamples: int | None = None, chunk_size: int | None = None, convergence: bool = False,
        stream: bool | None = None, scheduler: str | None = None, scheduler_address: str | None = None,
        store: str = "footprint", data_dir: str | os.PathLike | None = None,
        out: str | os.PathLike | None = None, figures: bool = True,
        progress: Callable[[int, int], None] | None = None) -> "Result":
    """Run an experiment: Monte Carlo propagation, summary tables, exact and sampled Sobol' hotspots.

    The keyword arguments are the options of the command ``run`` one to one (``--no-sobol`` is
    ``sobol=False``, ``--no-figures`` is ``figures=False``, ``--scheduler-address`` is ``scheduler_address``).

    Parameters
    ----------
    experiment : path, name, mapping or Experiment
        See :func:`load_experiment`.
    samples, seed, design : optional
        Override ``sampling.samples`` [samples], ``sampling.seed`` and ``sampling.design`` (``mc``, ``lhs``,
        ``sobol``). Same seed, same numbers.
    sobol : bool, mapping or None
        ``None``: as the experiment's ``sobol`` section says (by default ``method: auto``: the exact indices, and
        sampled Saltelli estimates only for an output without an exact decomposition); ``False``: no sampled
        Sobol' analysis (the exact decomposition, milliseconds, is still made); ``True``: the sampled analysis
        beside the exact one (``method: sampled``); a mapping overrides options of the section
        (``{"samples": 1024, "second_order": True}``).
    sobol_method : {'auto', 'exact', 'sampled'}, optional
        ``sobol.method`` (``--sobol-method``).
    sobol_samples, second_order, groupings, conf_level, num_resamples : optional
        Single ``sobol`` options (base sample size, a power of two [samples]; S2; ``parameter``, ``component``,
        ``stage``; bootstrap confidence level [-]; bootstrap resamples). The base size, the confidence level and
        the resamples belong to the sampled analysis: given without a method, they mean ``sobol_method="sampled"``.
    chunk_size : int, optional
        Samples evaluated at once (memory only; never changes the numbers).
    convergence : bool
        Also the component indices at smaller base samples (the convergence figure).
    stream, scheduler, scheduler_address, store :
        Large runs with dask (:class:`uncertainty_footprint.analysis.run.EngineOptions`). A streaming run without
        ``out`` keeps no per-sample data (``results`` is None).
    data_dir : path, optional
        Folder of the data catalog.
    out : path, optional
        Write every output into this folder, as the command line does (checked before anything runs; see
        :mod:`uncertainty_footprint.reports.folder`); ``figures=False`` skips figures and reports.
    progress : callable, optional
        ``progress(done, total)`` [samples].

    Returns
    -------
    Result

    Raises
    ------
    ConfigError
        Invalid experiment or option, a request that does not fit in memory, a refused ``out``.
    WriteError
        A failing environment while writing ``out``.

    Examples
    --------
    >>> res = run("kws", samples=200, seed=1, sobol=False)
    >>> t = res.summary.loc["total"]
    >>> bool(t["p5"] < t["median"] < t["p95"])
    True
    >>> sorted(res.exact.children)
    ['by_component', 'by_stage']
    """
    exp = load_experiment(experiment, data_dir=data_dir)
    options = _sobol_options(sobol, method=sobol_method, samples=sobol_samples, second_order=second_order,
                             groupings=groupings, conf_level=conf_level, num_resamples=num_resamples)
    engine = EngineOptions(stream=stream, scheduler=scheduler, address=scheduler_address, store=store)
    run_options = dict(samples=samples, seed=seed, design=design, sobol=options)
    data_dir = data_dir if data_dir is not None else exp.data_dir
    folder = None
    if out is None:
        raw = run_prepared(_prepare(exp, data_dir=data_dir, **run_options), chunk_size=chunk_size,
                           convergence=convergence, engine=engine, progress=progress)
    else:
        from .reports.folder import run_to_folder

        raw = run_to_folder(exp.internal, out, documents=figures, data_dir=data_dir, chunk_size=chunk_size,
                            convergence=convergence, engine=engine, progress=progress,
                            suggestion=f"results/{exp.label}", **run_options)
        folder = Path(out)
    ran = Experiment(raw.experiment, label=exp.label, modified=exp._modified, data_dir=data_dir)
    return Result(raw, ran, folder=folder)


# ------------------------------------------------------------------------------------------------ result
class _ResultPlots:
    """Figures of a run, each a :class:`matplotlib.figure.Figure` (``res.plot.total()``)."""

    def __init__(self, result: "Result"):
        self._r = result

    def _published(self):
        from .reports.document import resolve_published

        column, _ = resolve_published(self._r.results, None, self._r.raw.catalog)
        total = float(column["total"]) if column is not None and "total" in column.index else None
        return column, total

    def _titles(self):
        from .reports.document import component_titles

        return component_titles(self._r.results) or None

    def total(self, **kwargs):
        """Histogram of the total with its median, 90 % and 95 % intervals and the published value
        [kg CO2-eq] (:func:`uncertainty_footprint.reports.figures.plot_total_distribution`)."""
        from .reports.figures import plot_total_distribution, published_label

        column, total = self._published()
        return plot_total_distribution(self._r._need_results(), total,
                                       **{"published_label": published_label(column), **kwargs})

    def components(self, log: bool = False, **kwargs):
        """Median and intervals of every component [kg CO2-eq]
        (:func:`uncertainty_footprint.reports.figures.plot_component_intervals`)."""
        from .reports.figures import plot_component_intervals, published_label

        column, _ = self._published()
        published = column.drop("total", errors="ignore") if column is not None and len(column) > 1 else None
        return plot_component_intervals(self._r.summary, log, **{"titles": self._titles(), "published": published,
                                                                  "published_label": published_label(column),
                                                                  **kwargs})

    def sobol(self, kind: str | None = None, **kwargs):
        """S1 and ST (:func:`uncertainty_footprint.reports.figures.plot_sobol_indices`): ``kind`` ``sampled``
        (the Saltelli estimates with their intervals; a run with ``sobol=True``) or ``exact`` (the exact
        decomposition); default: the sampled ones when the run has them, else the exact ones."""
        from .reports.figures import plot_sobol_indices

        found = {"sampled": self._r.raw.sobol, "exact": self._r.raw.exact}
        if kind is not None and kind not in found:
            raise ConfigError("Result.plot.sobol", "kind", f"got {kind!r}; allowed: sampled, exact")
        indices = found[kind] if kind is not None else (found["sampled"] or found["exact"])
        if not indices:
            what = {"sampled": "sampled Sobol' indices: run with sobol=True",
                    "exact": "exact indices (the model has no exact variance decomposition)"}
            raise ConfigError("Result.plot.sobol", "sobol", f"this run has no {what[kind or 'sampled']}")
        return plot_sobol_indices(indices, **{"titles": self._titles(), **kwargs})

    def comparison(self, **kwargs):
        """The published calculator's stacked comparison with the reference devices, with the uncertainty of
        the total [kg CO2-eq] (:func:`uncertainty_footprint.reports.figures.plot_comparison_stacked`)."""
        from .reports.figures import plot_comparison_stacked

        from .reports.figures import published_label

        column, total = self._published()
        return plot_comparison_stacked(self._r.summary, self._r._need_results(),
                                       **{"published": total, "published_label": published_label(column), **kwargs})

    def convergence(self, **kwargs):
        """Running mean and quantiles of the total (and the component ST at smaller base samples when the run
        had ``convergence=True``) (:func:`uncertainty_footprint.reports.figures.plot_convergence`)."""
        from .analysis.convergence import running_statistics
        from .reports.figures import plot_convergence

        conv = running_statistics(self._r._need_results()["total"].values)
        if self._r.raw.convergence is not None:
            conv = xr.merge([conv, self._r.raw.convergence])
        return plot_convergence(conv, **kwargs)


class Result(_FactsDisplay):
    """What :func:`run` produced.

    Attributes
    ----------
    experiment : Experiment
        The experiment as run (with the call's overrides); :meth:`Experiment.to_yaml` of it reproduces the run.
    summary : pandas.DataFrame
        The printed table: per component, stage and the total, mean, sd, median, 2.5/5/95/97.5 % quantiles
        [kg CO2-eq], share of the mean [-], exact mean and sd [kg CO2-eq] (``summary.csv``).
    results : xarray.Dataset or None
        Per-sample footprints (``footprint(sample, component)``, ``total(sample)`` [kg CO2-eq]) and inputs
        (``results.nc``); dask-backed after a streaming run with ``out``, None after one without.
    deterministic : pandas.DataFrame
        The published method's lower, typical and upper values per component [kg CO2-eq]
        (``deterministic.csv``).
    sobol : xarray.DataTree or None
        Sampled Sobol' indices (``sobol.nc``'s layout: the ``parameter`` grouping at the root, the others as
        children ``by_component``, ``by_stage``): ``S1``, ``S1_conf``, ``ST``, ``ST_conf`` [-]. None without
        ``sobol``.
    exact : xarray.DataTree or None
        Exact Sobol' indices and Shapley effects (``exact.nc``, same layout): ``S1``, ``ST``, ``shapley`` [-],
        ``remaining_sd`` [kg CO2-eq]. None when the model is not separable.
    balance : pandas.DataFrame or None
        With a ``benefit`` or ``fleet``: ``balance.csv``, rows ``net_balance`` [kg CO2-eq], ``payback_years``
        [yr], ``p_offset`` [-] (and ``fleet_*`` [t CO2-eq]), columns as in ``summary``; None otherwise.
    break_even : str or None
        The break-even statement in words ("pays back within 5.6 months with 90 % probability").
    balance_exact : xarray.DataTree or None
        Exact S1, ST and Shapley effects of the net balance (same layout as ``exact``).
    folder : Path or None
        The results folder, when one was written.
    raw : RunResult
        The internal result (for :mod:`uncertainty_footprint.reports`).
    """

    def __init__(self, raw: RunResult, experiment: Experiment, folder: Path | None = None):
        self.raw = raw
        self.experiment = experiment
        self.folder = folder

    summary = property(lambda self: self.raw.summary)
    results = property(lambda self: self.raw.results)
    deterministic = property(lambda self: self.raw.deterministic)
    model = property(lambda self: self.raw.model, doc="The Monte Carlo model (LifecycleModel).")

    @cached_property
    def sobol(self) -> xr.DataTree | None:
        return to_datatree(self.raw.sobol) if self.raw.sobol else None

    @cached_property
    def exact(self) -> xr.DataTree | None:
        return to_datatree(self.raw.exact) if self.raw.exact else None

    balance = property(lambda self: None if self.raw.balance is None else self.raw.balance.table)
    break_even = property(lambda self: None if self.raw.balance is None else self.raw.balance.statement)

    @cached_property
    def balance_exact(self) -> xr.DataTree | None:
        b = self.raw.balance
        return to_datatree(b.exact) if b is not None and b.exact else None

    @cached_property
    def plot(self) -> _ResultPlots:
        """Figures: ``plot.total()``, ``plot.components(log=False)``, ``plot.sobol()``, ``plot.comparison()``,
        ``plot.convergence()``, each a matplotlib Figure."""
        return _ResultPlots(self)

    def _need_results(self) -> xr.Dataset:
        if self.raw.results is None:
            raise ConfigError("Result", "results", "this streaming run kept no per-sample data: run with out= "
                              "and store='footprint' (or a smaller sample in memory)")
        return self.raw.results

    def indices(self, by: str = "component", kind: str = "exact") -> xr.Dataset | None:
        """The indices of one grouping as a Dataset (``kind`` ``exact``: S1, ST, shapley, remaining_sd;
        ``sampled``: S1, S1_conf, ST, ST_conf), or None when the run has none.

        >>> run("kws", samples=100, sobol=False).indices("stage")["shapley"].dims
        ('group',)
        """
        if kind not in ("exact", "sampled"):
            raise ConfigError("Result.indices", "kind", f"got {kind!r}; allowed: exact, sampled")
        found = self.raw.exact if kind == "exact" else self.raw.sobol
        return (found or {}).get(by)

    def hotspots(self, by: str = "component") -> pd.DataFrame:
        """The hotspot table of one grouping, ranked by total-effect index: exact ``S1``, ``ST``, ``shapley``
        [-] and, when the run had ``sobol``, the sampled ``S1_sampled``, ``ST_sampled`` with their confidence
        half-widths ``*_conf`` [-].

        Parameters
        ----------
        by : {'component', 'parameter', 'stage'}

        Examples
        --------
        >>> res = run("kws", samples=100, sobol=False)
        >>> res.hotspots("component").index[0]
        'power_supply'
        """
        from .inputs.experiment import GROUPINGS

        if by not in GROUPINGS:
            raise ConfigError("Result.hotspots", "by", f"unknown grouping {by!r}; allowed: {', '.join(GROUPINGS)}")
        frames = []
        if self.raw.exact and by in self.raw.exact:
            ds = self.raw.exact[by]
            dim = ds["ST"].dims[0]
            frames.append(pd.DataFrame({k: ds[k].values for k in ("S1", "ST", "shapley")},
                                       index=pd.Index([str(v) for v in ds[dim].values], name="name")))
        if self.raw.sobol and by in self.raw.sobol:
            t = indices_table(self.raw.sobol[by])
            t.index.name = "name"
            frames.append(t.rename(columns=lambda c: c.replace("S1", "S1_sampled").replace("ST", "ST_sampled")))
        if not frames:
            raise ConfigError("Result.hotspots", "by", f"this run has no indices by {by}")
        table = pd.concat(frames, axis=1)
        return table.sort_values("ST" if "ST" in table else "ST_sampled", ascending=False, kind="stable")

    def to_folder(self, out: str | os.PathLike, *, figures: bool = True) -> Path:
        """Write what the command line writes (results.nc, tables, sobol.nc, exact.nc, figures and reports) into
        ``out``, with its safety rules (:mod:`uncertainty_footprint.reports.folder`): a new or empty folder, or
        an earlier results folder whose files are replaced once everything is written; other files are kept.

        Returns
        -------
        Path
            The folder written (absolute).

        Raises
        ------
        ConfigError
            A refused folder (nothing touched).
        WriteError
            A failing environment (nothing changed).
        """
        from .reports.folder import RUN_OUTPUTS, atomic_output_dir, check_output_folder, source_inputs, write_run

        if self.raw.streamed:
            raise ConfigError("Result.to_folder", "", "a streaming run writes its folder while it runs: pass "
                              "out= to run()")
        _, inputs = source_inputs([self.experiment.internal], self.experiment.data_dir)
        target = check_output_folder(out, inputs=inputs, outputs=RUN_OUTPUTS,
                                     suggestion=f"results/{self.experiment.label}")
        self.folder = atomic_output_dir(target, lambda folder, note: write_run(self.raw, folder, note, figures),
                                        record={"command": "run", "experiments": [self.experiment.source]})
        return self.folder

    def to_inferencedata(self):
        """The per-sample results as ArviZ ``InferenceData`` (needs ``arviz``, the ``arviz`` extra).

        The ``posterior`` group holds ``total`` (chain, draw) and ``footprint`` (chain, draw, component)
        [kg CO2-eq] with the Monte Carlo samples as draws of chain 0; the inputs are in the ``prior`` group
        (``inputs`` (chain, draw, parameter), in each parameter's unit, coordinate ``unit``). ``az.summary`` and
        ``az.plot_*`` work on it; the samples are independent draws (a Latin hypercube is not a Markov chain, so
        ``r_hat`` and ``ess`` are not diagnostics here).
        """
        try:
            import arviz as az
        except ImportError:
            raise ConfigError("to_inferencedata", "", "needs the arviz package: pip install "
                              "'uncertainty_footprint[arviz]'") from None
        ds = self._need_results()
        comps = [str(c) for c in ds["component"].values]
        posterior = {"total": np.asarray(ds["total"].values)[None, :],
                     "footprint": np.asarray(ds["footprint"].values)[None, :, :]}
        dims = {"footprint": ["component"]}
        coords = {"component": comps}
        prior = None
        if "inputs" in ds:
            params = [str(p) for p in ds["parameter"].values]
            prior = {"inputs": np.asarray(ds["inputs"].values)[None, :, :]}
            dims["inputs"] = ["parameter"]
            coords["parameter"] = params
        idata = az.from_dict(posterior=posterior, prior=prior, coords=coords, dims=dims,
                             attrs={k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))})
        idata.posterior["total"].attrs.update({"units": "kg CO2-eq", "long_name": "total footprint"})
        idata.posterior["footprint"].attrs.update({"units": "kg CO2-eq", "long_name": "footprint per component"})
        if prior is not None:
            units = [str(u) for u in ds["unit"].values] if "unit" in ds.coords else [""] * len(coords["parameter"])
            idata.prior = idata.prior.assign_coords(unit=("parameter", units))
        return idata

    # -- display
    def _facts(self) -> list[tuple[str, str]]:
        t = self.summary.loc["total"]
        s = self.experiment.spec
        rows = [("experiment", self.experiment.name),
                ("samples", f"{s.sampling.samples} ({s.sampling.design}, seed {s.sampling.seed})"),
                ("total", f"median {t['median']:.3g} kg CO2-eq, 90 % interval {t['p5']:.3g} - {t['p95']:.3g}, "
                          f"mean {t['mean']:.3g}")]
        try:
            top = self.hotspots("component").head(3)
            key = "ST" if "ST" in top else "ST_sampled"
            rows.append(("hotspots (ST)", ", ".join(f"{n} {v:.2f}" for n, v in top[key].items())))
        except ConfigError:
            pass
        if self.folder is not None:
            rows.append(("folder", str(self.folder)))
        return rows

    def _html_extra(self) -> str:
        return self.summary[["median", "p5", "p95", "mean", "share"]].to_html(float_format="{:.3g}".format)


# ------------------------------------------------------------------------------------------------ compare
class Comparison(_FactsDisplay):
    """What :func:`compare` produced.

    Attributes
    ----------
    table : pandas.DataFrame
        Each experiment's total: mean, sd, median, 2.5/5/95/97.5 % quantiles [kg CO2-eq] (``comparison.csv``).
    differences : pandas.DataFrame
        Paired differences B - A for every ordered pair, with intervals [kg CO2-eq] and ``p_a_lt_b`` = P(A < B)
        (``differences.csv``).
    difference_variance : pandas.DataFrame or None
        Exact share of every input in the variance of each difference (``difference_variance.csv``).
    totals : xarray.Dataset
        ``total(experiment, sample)`` [kg CO2-eq] (``comparison.nc``).
    experiments : list of Experiment
    raw : uncertainty_footprint.analysis.compare.Comparison
    """

    def __init__(self, raw, experiments: Sequence[Experiment], folder: Path | None = None):
        self.raw = raw
        self.experiments = list(experiments)
        self.folder = folder

    table = property(lambda self: self.raw.table)
    differences = property(lambda self: self.raw.differences)
    difference_variance = property(lambda self: self.raw.difference_variance)
    totals = property(lambda self: self.raw.totals)

    def plot(self, **kwargs):
        """Totals side by side and the paired differences (:func:`uncertainty_footprint.reports.figures.
        plot_comparison`), a matplotlib Figure."""
        from .reports.figures import plot_comparison

        return plot_comparison(self.raw, **kwargs)

    def to_folder(self, out: str | os.PathLike) -> Path:
        """Write comparison.nc, comparison.csv, differences.csv, difference_variance.csv and the figure into
        ``out`` (the safety rules of :mod:`uncertainty_footprint.reports.folder`)."""
        from .reports.folder import COMPARISON_OUTPUTS, check_output_folder, source_inputs, write_comparison

        _, inputs = source_inputs([e.internal for e in self.experiments], self.experiments[0].data_dir)
        target = check_output_folder(out, inputs=inputs, outputs=COMPARISON_OUTPUTS,
                                     suggestion="results/compare_" + "_".join(e.label for e in self.experiments))
        self.folder = write_comparison(self.raw, target)
        return self.folder

    def _facts(self) -> list[tuple[str, str]]:
        rows = [(str(k), f"median {r['median']:.3g} kg CO2-eq, 90 % interval {r['p5']:.3g} - {r['p95']:.3g}")
                for k, r in self.table.iterrows()]
        rows += [(f"{b} - {a}", f"median {r['median']:.3g} kg CO2-eq, 90 % interval {r['p5']:.3g} - "
                                f"{r['p95']:.3g}, P({a} < {b}) = {r['p_a_lt_b']:.2f}")
                 for (a, b), r in self.differences.iterrows()]
        return rows



def compare(*experiments: str | os.PathLike | Mapping[str, Any] | Experiment, samples: int | None = None,
            seed: int | None = None, design: str | None = None, labels: Sequence[str] | None = None,
            data_dir: str | os.PathLike | None = None, out: str | os.PathLike | None = None) -> Comparison:
    """Compare two or more experiments with common random numbers (the command ``compare``).

    Parameters
    ----------
    *experiments : path, name, mapping or Experiment
        Two or more (see :func:`load_experiment`).
    samples, seed, design : optional
        Sampling for all (default: the first experiment's); ``design`` ``mc`` or ``lhs``.
    labels : sequence of str, optional
        Labels of the experiments in the tables (default: :attr:`Experiment.label`, made distinct by a suffix).
    data_dir : path, optional
    out : path, optional
        Write the comparison there (:meth:`Comparison.to_folder`), checked before anything runs.

    Returns
    -------
    Comparison

    Examples
    --------
    >>> kws = load_experiment("kws")
    >>> comp = compare(kws, kws.with_blocks(casing=2), samples=200, labels=["as_published", "casing_2"])
    >>> comp.differences.index.tolist()
    [('as_published', 'casing_2')]
    """
    exps = [load_experiment(e, data_dir=data_dir) for e in experiments]
    if len(exps) < 2:
        raise ConfigError("compare", "", "compare needs at least two experiments")
    names = _labels(exps, labels)
    data_dir = data_dir if data_dir is not None else exps[0].data_dir
    inner = [e.internal for e in exps]
    options = dict(samples=samples, seed=seed, design=design, data_dir=data_dir, labels=names)
    if out is None:
        from .analysis.compare import compare_experiments

        for e in inner:  # every experiment and option validated before anything runs
            prepare(e, data_dir=data_dir, samples=samples, seed=seed, design=design, sobol={"enabled": False})
        return Comparison(compare_experiments(inner, **options), exps)
    from .reports.folder import compare_to_folder

    comp = Comparison(compare_to_folder(inner, out, **options), exps)
    comp.folder = Path(out)
    return comp


def _labels(exps: Sequence[Experiment], labels: Sequence[str] | None) -> list[str]:
    if labels is not None:
        labels = [str(x) for x in labels]
        if len(labels) != len(exps) or len(set(labels)) != len(labels) or not all(labels):
            raise ConfigError("compare", "labels", f"needs {len(exps)} distinct non-empty labels, got "
                              f"{labels!r}")
        return labels
    if all(not e._modified and _is_file(e.source) for e in exps):  # files: labelled as the command line does
        from .analysis.compare import experiment_labels

        return experiment_labels([e.source for e in exps])
    out: list[str] = []
    for e in exps:
        label, k = e.label, 2
        while label in out:
            label, k = f"{e.label}_{k}", k + 1
        out.append(label)
    return out


# ------------------------------------------------------------------------------------------------ catalog
@dataclass(frozen=True)
class CatalogTables:
    """The data catalog as tables (:func:`catalog`).

    Attributes
    ----------
    blocks : pandas.DataFrame
        One row per block, HSL and item: ``block, hsl, meaning, item, parameter, unit, low, typical, high,
        factor, source, status``; quantities in ``unit``.
    parameters : pandas.DataFrame
        Indexed by parameter: ``unit, distribution, family, nominal, mean, sd, status, source, description``
        (nominal, mean and sd in ``unit``).
    sources : pandas.DataFrame
        Indexed by source key: ``cite``.
    reference_devices : pandas.DataFrame
        Indexed by name: ``device, footprint, unit, source``.
    applications : pandas.DataFrame
        Indexed by preset: ``title, blocks, parameters``.
    options : pandas.DataFrame or None
        The footprint of every HSL option of every block, indexed by ``(block, hsl)``: ``label``, ``median``,
        ``p5``, ``p95``, ``mean`` and the published method's point value ``published`` [kg CO2-eq]
        (:func:`uncertainty_footprint.analysis.blocks.option_intervals`, a seeded Monte Carlo); None when not
        asked for.
    catalog : Catalog
        The internal catalog object.
    """

    blocks: pd.DataFrame
    parameters: pd.DataFrame
    sources: pd.DataFrame
    reference_devices: pd.DataFrame
    applications: pd.DataFrame
    catalog: _Catalog
    options: pd.DataFrame | None = None

    def __repr__(self) -> str:
        return (f"CatalogTables({len(self.blocks)} HSL item rows of {self.blocks['block'].nunique()} blocks, "
                f"{len(self.parameters)} parameters, {len(self.sources)} sources, {len(self.reference_devices)} "
                f"reference devices, {len(self.applications)} application presets)")

    def _repr_html_(self) -> str:
        return f"<p>{html.escape(repr(self))}</p>"


def catalog(data_dir: str | os.PathLike | None = None, *, options: bool = True, option_samples: int | None = None,
            option_seed: int | None = None) -> CatalogTables:
    """The data catalog (blocks with their HSL options, parameters, sources, reference devices, application
    presets) as pandas DataFrames.

    Parameters
    ----------
    data_dir : path, optional
        Folder of the data files (default: the package's data or ``$UNCERTAINTY_FOOTPRINT_DATA``).
    options : bool
        Also the median, 90 % interval and mean of every HSL option's footprint [kg CO2-eq] (``options``; tens of
        milliseconds).
    option_samples, option_seed : int, optional
        Sample size [samples] and seed of that Monte Carlo (default: those of ``list blocks``).

    Examples
    --------
    >>> cat = catalog(options=False)
    >>> float(cat.reference_devices.loc["apple_watch_series_7", "footprint"])
    34.0
    >>> "casing" in set(cat.blocks["block"])
    True
    """
    cat = load_catalog(data_dir)
    rows = []
    for block, info in cat.blocks.items():
        for level, meaning in info["hsl"].items():
            items = cat.block_items(block, level)
            base = {"block": block, "title": info.get("title", block), "stage": info.get("stage", ""),
                    "hsl": int(level), "meaning": meaning}
            if not items:
                rows.append({**base, "item": "", "parameter": "", "unit": "", "low": 0.0, "typical": 0.0,
                             "high": 0.0, "factor": "", "source": "", "status": ""})
            for it in items:
                rows.append({**base, "item": it.item, "parameter": it.parameter, "unit": it.unit, "low": it.low,
                             "typical": it.typical, "high": it.high, "factor": it.factor, "source": it.source,
                             "status": it.status})
    blocks = pd.DataFrame(rows)
    params = pd.DataFrame([{"parameter": n, "unit": p.unit, "distribution": p.distribution.describe(),
                            "family": p.distribution.family, "nominal": p.nominal, "mean": p.distribution.mean(),
                            "sd": p.distribution.std(), "status": p.status, "source": ",".join(p.source),
                            "description": p.description} for n, p in cat.parameters.items()]).set_index("parameter")
    sources = pd.DataFrame({"cite": pd.Series(dict(cat.sources))}).rename_axis("source")
    refs = pd.DataFrame([{"name": n, "device": cat.reference_labels[n], "footprint": p.nominal, "unit": p.unit,
                          "source": ",".join(p.source)} for n, p in cat.reference_devices.items()]).set_index("name")
    apps = pd.DataFrame([{"application": n, "title": a["title"],
                          "blocks": ", ".join(f"{b}={h}" for b, h in a["blocks"].items()),
                          "parameters": ", ".join(a["parameters"])} for n, a in cat.applications.items()]
                        ).set_index("application")
    table = None
    if options:
        from .analysis.blocks import option_intervals

        extra = {k: v for k, v in {"n": option_samples, "seed": option_seed}.items() if v is not None}
        table = option_intervals(cat, **extra)
    return CatalogTables(blocks, params, sources, refs, apps, cat, table)
