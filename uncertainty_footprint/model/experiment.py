"""The experiment: a validated description of a device and how to sample it, bound to its data catalog and models.

:class:`Experiment` is the package's one experiment class. Making one (:func:`load_experiment`, from a file, the
name of a shipped experiment, a mapping or YAML text) validates it completely: the file's shape against the
schema (:mod:`uncertainty_footprint.inputs.schema`) and every name that depends on the data (blocks, HSLs,
parameters, applications, reference devices, distribution families) against the catalog, by building its models
(:mod:`uncertainty_footprint.model.builder`: the Monte Carlo model, the published-method model of the
deterministic table and, with a ``benefit`` or ``fleet``, the balance model of :mod:`~uncertainty_footprint.model.benefit`).
The models are built once and kept: a run reuses them, and so does every copy whose changes cannot change them
(the ``sampling`` and ``sobol`` options).

Every ``with_*`` method returns a changed copy, validated again exactly as an experiment file is (the same
:class:`~uncertainty_footprint.errors.ConfigError` naming the key).
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

import numpy as np
import yaml

from ..display import FactsDisplay
from ..errors import ConfigError
from ..inputs.catalog import load_catalog
from ..inputs.examples import example_names, resolve_experiment
from ..inputs.safe_yaml import MAX_BYTES, load_text
from ..inputs.schema import ExperimentModel, parse_spec, read_spec, spec_with
from .benefit import BalanceModel, build_balance
from .builder import LifecycleModel, build_model, check_sobol_method

__all__ = ["Experiment", "Models", "load_experiment", "parse_experiment", "parse_yaml", "DICT_SOURCE", "TEXT_SOURCE"]

#: ``source`` of experiments given as a Python mapping (it names them in error messages).
DICT_SOURCE = "experiment dict"
#: ``source`` of experiments given as YAML text.
TEXT_SOURCE = "experiment text"


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


def _is_file(source: str) -> bool:
    return source not in (DICT_SOURCE, TEXT_SOURCE) and Path(source).is_file()


def _spec_sha256(spec: ExperimentModel) -> str:
    """SHA-256 of the YAML text :meth:`Experiment.to_yaml` gives for ``spec`` (so that running that file gives
    the same ``config_sha256``)."""
    text = _dump(spec.model_dump(mode="python", exclude_unset=True))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


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


@dataclass(frozen=True)
class Models:
    """The models of an experiment.

    Attributes
    ----------
    footprint : LifecycleModel
        The Monte Carlo model.
    published : LifecycleModel
        The published point-estimate method's model (the deterministic table).
    balance : BalanceModel or None
        Footprint and benefit term, with a ``benefit`` or ``fleet`` section.
    """

    footprint: LifecycleModel
    published: LifecycleModel
    balance: BalanceModel | None


class Experiment(FactsDisplay):
    """A validated experiment: what to model (blocks, parameters, components) and how to sample it.

    Made by :func:`load_experiment` (a file, a shipped name, a mapping or an :class:`Experiment`),
    :meth:`from_dict` or :meth:`from_yaml`; immutable (every ``with_*`` method returns a validated copy).

    Attributes
    ----------
    name : str
        The experiment's ``name:``.
    label : str
        Short label in comparisons and default folder names: the file's stem, or the name in snake case for an
        experiment made in Python.
    source : str
        The file it was read from, or ``'experiment dict'`` / ``'experiment text'`` (error messages name it).
    sha256 : str
        SHA-256 of the file's bytes; for an experiment made or changed in Python, of :meth:`to_yaml`'s text (so
        that running the written file gives the same ``config_sha256`` stamp).
    spec : ExperimentModel
        The parsed, frozen schema object (:class:`uncertainty_footprint.inputs.schema.ExperimentModel`).
    data_dir : path or None
        The data catalog's folder it was checked against (None: the default catalog).
    catalog : Catalog
    model, published_model, balance_model :
        Its models (:class:`Models`), built once when the experiment was made.
    """

    __slots__ = ("_spec", "_source", "_sha256", "_label", "_modified", "_data_dir", "_catalog", "_models")

    def __init__(self, spec: ExperimentModel, source: str, sha256: str, *, label: str | None = None,
                 modified: bool = False, data_dir: str | os.PathLike | None = None, models: Models | None = None):
        self._spec, self._source, self._sha256 = spec, str(source), sha256
        self._label = label or (Path(self._source).stem if _is_file(self._source) else _slug(spec.name))
        self._modified = modified
        self._data_dir = data_dir
        self._catalog = load_catalog(data_dir)
        if models is None:  # every name checked against the catalog, errors naming `source`
            footprint = build_model(self, self._catalog)
            models = Models(footprint, build_model(self, self._catalog, published_method=True),
                            build_balance(self, self._catalog, footprint))
        self._models = models

    # -- construction
    @classmethod
    def from_file(cls, path: str | os.PathLike, *, data_dir: str | os.PathLike | None = None) -> "Experiment":
        """Read and validate an experiment file."""
        spec, sha = read_spec(path)
        return cls(spec, str(path), sha, data_dir=data_dir)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, source: str = DICT_SOURCE, label: str | None = None,
                  data_dir: str | os.PathLike | None = None) -> "Experiment":
        """An experiment from a mapping with the schema of an experiment file (see
        :mod:`uncertainty_footprint.inputs.schema`).

        Raises
        ------
        ConfigError
            Naming ``source``, the key path and what is allowed.
        """
        data = _plain(data) if isinstance(data, Mapping) else data
        spec = parse_spec(data, source)
        return cls(spec, source, _spec_sha256(spec), label=label, modified=True, data_dir=data_dir)

    @classmethod
    def from_yaml(cls, text: str, *, source: str = TEXT_SOURCE, label: str | None = None,
                  data_dir: str | os.PathLike | None = None) -> "Experiment":
        """An experiment from YAML text (pasted or downloaded), read with the limits of experiment files
        (:mod:`uncertainty_footprint.inputs.safe_yaml`: size, nesting, aliases, duplicate keys).

        >>> exp = Experiment.from_yaml("name: tiny\\nblocks: {casing: 2}\\n")
        >>> exp.spec.blocks["casing"]
        2
        """
        spec = parse_spec(parse_yaml(text, source), source)
        return cls(spec, source, hashlib.sha256(text.encode("utf-8")).hexdigest(), label=label, modified=True,
                   data_dir=data_dir)

    # -- reading
    name = property(lambda self: self._spec.name)
    spec = property(lambda self: self._spec)
    source = property(lambda self: self._source)
    sha256 = property(lambda self: self._sha256)
    label = property(lambda self: self._label)
    data_dir = property(lambda self: self._data_dir)
    catalog = property(lambda self: self._catalog)
    models = property(lambda self: self._models)
    model = property(lambda self: self._models.footprint, doc="The Monte Carlo model (LifecycleModel).")
    published_model = property(lambda self: self._models.published)
    balance_model = property(lambda self: self._models.balance)

    @property
    def modified(self) -> bool:
        """Made or changed in Python (not the file as read)."""
        return self._modified

    @property
    def is_file(self) -> bool:
        """Read from a file that exists (and unchanged since)."""
        return not self._modified and _is_file(self._source)

    def check(self) -> LifecycleModel:
        """The Monte Carlo model (the experiment was checked against the catalog when it was made)."""
        return self.model

    def to_dict(self) -> dict[str, Any]:
        """The experiment as a plain mapping with the schema of an experiment file (only the keys that were given,
        plus the ones changed in Python); :func:`load_experiment` of it gives the same experiment.

        >>> d = load_experiment("kws").to_dict()
        >>> d["name"], d["blocks"]["casing"]
        ('Keyword spotting', 1)
        """
        return _plain(self._spec.model_dump(mode="python", exclude_unset=True))

    def to_yaml(self, path: str | os.PathLike | None = None) -> str:
        """The experiment as YAML text (written to ``path`` if given, refusing to replace an existing file);
        running that file reproduces the numbers of :func:`~uncertainty_footprint.api.run` with the same options.

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

    # -- changing
    def _copy(self, spec: ExperimentModel, *, sha256: str | None = None, models: Models | None = None,
              data_dir: Any = ..., source: str | None = None) -> "Experiment":
        return Experiment(spec, source or self._source, sha256 if sha256 is not None else _spec_sha256(spec),
                          label=self._label, modified=True,
                          data_dir=self._data_dir if data_dir is ... else data_dir, models=models)

    def _changed(self, section: str, changes: Mapping[str, Any]) -> "Experiment":
        data = self.to_dict()
        base = data.get(section) or {}
        data[section] = {**(base if isinstance(base, Mapping) else {}), **_plain(changes)}
        where = f"{self._source} (changed by with_{section})"
        return self._copy(parse_spec(data, where), source=where)

    def with_blocks(self, **choices: int | Mapping[str, Any]) -> "Experiment":
        """A copy with HSL choices changed: ``with_blocks(casing=2, power_supply={"hsl": 2, "quantities":
        "triangular"})`` (the ``blocks:`` section of an experiment file).

        >>> load_experiment("kws").with_blocks(casing=2).spec.blocks["casing"]
        2
        """
        return self._restored(self._changed("blocks", choices))

    def with_parameters(self, **records: Mapping[str, Any]) -> "Experiment":
        """A copy with parameters' distributions (or record fields) overridden:
        ``with_parameters(lifetime={"family": "uniform", "low": 2, "high": 5})`` (the ``parameters:`` section;
        values in the parameter's unit unless the record gives ``unit``).

        >>> exp = load_experiment("kws").with_parameters(grid_carbon_intensity={"family": "fixed", "value": 0.3})
        >>> exp.spec.parameters["grid_carbon_intensity"]["value"]
        0.3
        """
        return self._restored(self._changed("parameters", records))

    def with_components(self, **distributions: Mapping[str, Any]) -> "Experiment":
        """A copy with components replaced by distributions in kg CO2-eq (the ``components:`` section):
        ``with_components(casing={"family": "pert", "low": 0.1, "mode": 0.2, "high": 0.4})``."""
        return self._restored(self._changed("components", distributions))

    def with_extra_components(self, **components: Mapping[str, Any]) -> "Experiment":
        """A copy with user-defined components added (the ``extra_components:`` section): ``solar_cell={"stage":
        "manufacturing", "distribution": {"family": "uniform", "low": 0.1, "high": 0.3}}``."""
        return self._restored(self._changed("extra_components", components))

    def method_options(self) -> dict[str, list[str]]:
        """The methods this experiment may choose per component (:meth:`with_methods`, the ``methods:``
        section): component -> the methods of ``distributions/methods.yaml`` that compute it at its HSL.

        >>> load_experiment("kws").method_options()["processing"]
        ['pirson_bol', 'act_die_area', 'boavizta_tide']
        """
        from .builder import method_options

        return method_options(self, self.catalog)

    def with_methods(self, **choices: str | Mapping[str, float]) -> "Experiment":
        """A copy with the methods of components changed (the ``methods:`` section): one method, or a weighted
        mixture, per component, e.g. ``with_methods(processing={"pirson_bol": 1, "act_die_area": 1},
        truncation="company_reports")`` (the methods of ``distributions/methods.yaml``).

        >>> load_experiment("kws").with_methods(power_supply="li_ion_per_kwh").spec.methods
        {'power_supply': 'li_ion_per_kwh'}
        """
        return self._restored(self._changed("methods", choices))

    def _restored(self, exp: "Experiment") -> "Experiment":
        """``exp`` (validated under the name ``... (changed by with_x)``) with this experiment's source again."""
        return Experiment(exp.spec, self._source, exp.sha256, label=self._label, modified=True,
                          data_dir=self._data_dir, models=exp.models)

    def with_options(self, section: str, **changes: Any) -> "Experiment":
        """The experiment as run with options of ``section`` (``sampling`` or ``sobol``) overridden for one run
        (``None`` keeps a value), as the command line's ``--samples`` ... do: validated again (errors name
        ``command line`` and ``section.key``), the same ``sha256`` (the experiment file's; the run records the
        options beside it) and the same models (these options do not change them). Options of the sampled
        Sobol' analysis without a ``method`` mean ``sampled``."""
        if section not in ("sampling", "sobol"):
            raise ValueError(f"section must be 'sampling' or 'sobol', got {section!r}")
        changes = {k: v for k, v in changes.items() if v is not None}
        if not changes:
            return self
        spec = spec_with(self._spec, section, changes, "command line")
        check_sobol_method(spec, self.model.parameters.dependent, "command line")
        return Experiment(spec, self._source, self._sha256, label=self._label, modified=self._modified,
                          data_dir=self._data_dir, models=self._models)

    def _changed_options(self, section: str, changes: Mapping[str, Any]) -> "Experiment":
        where = f"{self._source} (changed by with_{section})"
        spec = spec_with(self._spec, section, changes, where)
        check_sobol_method(spec, self.model.parameters.dependent, where)
        return Experiment(spec, self._source, _spec_sha256(spec), label=self._label, modified=True,
                          data_dir=self._data_dir, models=self._models)

    def with_sampling(self, *, samples: int | None = None, seed: int | None = None,
                      design: str | None = None) -> "Experiment":
        """A copy with the ``sampling:`` options changed (``None`` keeps a value); its ``sha256`` is that of
        :meth:`to_yaml`'s text."""
        return self._changed_options("sampling", {"samples": samples, "seed": seed, "design": design})

    def with_sobol(self, **options: Any) -> "Experiment":
        """A copy with the ``sobol:`` options changed (``enabled``, ``method``, ``samples``, ``second_order``,
        ``groupings``, ``conf_level``, ``num_resamples``, ``seed``); ``samples``, ``conf_level``,
        ``num_resamples`` or ``seed`` without ``method`` mean ``method="sampled"``.

        >>> load_experiment("kws").with_sobol(samples=1024).spec.sobol.method
        'sampled'
        """
        return self._changed_options("sobol", options)

    def with_data_dir(self, data_dir: str | os.PathLike | None) -> "Experiment":
        """The same experiment checked against the catalog in ``data_dir`` (its models built from it)."""
        if data_dir == self._data_dir:
            return self
        return Experiment(self._spec, self._source, self._sha256, label=self._label, modified=self._modified,
                          data_dir=data_dir)

    # -- display
    def _facts(self) -> list[tuple[str, str]]:
        s = self._spec
        blocks = ", ".join(f"{b}={v if isinstance(v, int) else v.hsl}" for b, v in s.blocks.items()) or "defaults"
        rows = [("name", s.name), ("source", self._source + (" (changed in Python)" if self._modified and
                                                               _is_file(self._source) else "")),
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
        return isinstance(other, Experiment) and self._spec == other._spec

    __hash__ = None


def load_experiment(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *,
                    data_dir: str | os.PathLike | None = None, source: str | None = None) -> Experiment:
    """Read and validate an experiment.

    Parameters
    ----------
    experiment : path, str, mapping or Experiment
        An experiment file (``experiments/kws.yaml``), the name of a shipped experiment (``"kws"``; see
        :func:`uncertainty_footprint.inputs.examples.example_names`), a mapping with the schema of an experiment
        file, or an :class:`Experiment` (returned as it is, or checked against ``data_dir`` when that differs).
        YAML text: :meth:`Experiment.from_yaml`.
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
        return experiment.with_data_dir(data_dir) if data_dir is not None else experiment
    if isinstance(experiment, Mapping):
        return Experiment.from_dict(experiment, data_dir=data_dir, source=source or DICT_SOURCE)
    if not isinstance(experiment, (str, os.PathLike)):
        raise ConfigError("load_experiment", "", "expected a file path, the name of a shipped experiment "
                          f"({', '.join(example_names())}), a mapping or an Experiment, got "
                          f"{type(experiment).__name__}")
    path = resolve_experiment(experiment, strict=True)  # a file, a shipped name, or a ConfigError listing them
    return Experiment.from_file(path, data_dir=data_dir)


def parse_experiment(data: Any, source: str = DICT_SOURCE, *,
                     data_dir: str | os.PathLike | None = None) -> Experiment:
    """An experiment from already-parsed YAML data (a mapping), validated and checked against the catalog in
    ``data_dir``; errors name ``source`` (:meth:`Experiment.from_dict`)."""
    return Experiment.from_dict(data, source=source, data_dir=data_dir)
