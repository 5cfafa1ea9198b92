"""The schema of experiment files: YAML -> a validated, frozen :class:`ExperimentModel` (the ``spec``).

The file's shape is checked with pydantic; names that depend on the data (blocks, HSLs, parameters, applications,
reference devices, distribution families) are checked against the catalog by :mod:`uncertainty_footprint.model.builder`
when the model is built (:class:`uncertainty_footprint.model.experiment.Experiment` does both). Every error is a
:class:`~uncertainty_footprint.errors.ConfigError` whose message names the file, the key path and what is allowed.

An experiment file::

    name: Keyword spotting
    application: keyword_spotting          # preset: sensing HSL + MLPerf Tiny numbers
    blocks: {casing: 1, power_supply: {hsl: 2, quantities: triangular}}
    quantity_distribution: pert            # pert | triangular | uniform for HSL lower/typical/upper
    training: {model: energy}              # energy | published
    use_stage: {power_model: direct}       # direct | inference
    parameters:                            # override any parameter's distribution (or record fields)
      grid_carbon_intensity: {family: fixed, value: 0.369}
    components:                            # replace a component by a distribution in kg CO2-eq
      casing: {family: pert, low: 0.1, mode: 0.2, high: 0.4}
    extra_components:                      # add user-defined components (unit default kg CO2-eq)
      solar_cell: {stage: manufacturing, distribution: {family: uniform, low: 0.1, high: 0.3}, source: my_lca}
    stages: [packaging]                    # life-cycle stages beyond the built-in ones, for extra components
    methods:                               # other published methods per component: one, or a weighted mixture
      processing: {pirson_bol: 1, act_die_area: 1}
      truncation: {none: 1, company_reports: 1}
    correlations:                          # Spearman rank correlations of random inputs (Gaussian copula)
      - [li_ion_battery_mass, shipped_mass, 0.5]
      - {between: [passive_component_factor, transistor_factor], rho: 0.4, reason: ..., source: my_lca}
    shapley: {permutations: 10000, inner: 3, bootstrap: 1000}  # Shapley effects, with correlations
    sources:                               # the experiment's own sources (fields of distributions/sources.yaml)
      my_lca: {cite: "Our LCA of the solar cell (2024)."}
    reference_devices: [apple_watch_series_7, macbook_pro_16_m1_pro]
    sampling: {samples: 10000, seed: 20230101, design: lhs}
    sobol: {method: auto, samples: 8192, second_order: false, groupings: [component, parameter, stage],
            conf_level: 0.95, num_resamples: 100}  # Sobol' hotspots; enabled: false to skip the sampled ones
      # method: auto (default) samples the Saltelli estimates only for an output without an exact variance
      # decomposition (the footprint of every shipped model has one); sampled: also beside the exact indices;
      # exact: never sample. Giving samples, conf_level, num_resamples or seed without a method means sampled.
    benefit:                               # what the application saves per device and year of service
      saved_energy_per_year: {distribution: {family: lognormal, median: 5.0, gsd: 2.0}, unit: kWh/yr,
                              source: my_study, status: assumed}
      # valued at the use stage's grid_carbon_intensity unless benefit.grid_carbon_intensity is given;
      # or directly: avoided_emissions_per_year: {..., unit: kg CO2-eq/yr}; a record may also be the name of
      # one in distributions/benefits.yaml
    fleet:                                 # how many devices (a count: unit '1'; or produced per year: unit 1/yr)
      devices: {distribution: {family: lognormal, median: 1.0e9, gsd: 2.5}, unit: '1', source: ..., status: ...}

The records of ``benefit`` and ``fleet`` are checked (unit, distribution, source) when the balance model is built
(:mod:`uncertainty_footprint.model.benefit`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping, Optional, Union

from pydantic import (BaseModel, BeforeValidator, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr,
                      ValidationError, field_validator, model_validator)

from .choices import (DESIGN_NAMES, GROUPINGS, QUANTITY_FAMILIES, QUANTITY_MODES, SAMPLED_SOBOL_OPTIONS,
                      SOBOL_METHODS)
from .safe_yaml import load_file
from ..errors import ConfigError, shorten

__all__ = ["ExperimentModel", "Sampling", "SobolOptions", "parse_spec", "read_spec", "spec_with", "DESIGN_NAMES",
           "QUANTITY_MODES", "GROUPINGS", "BENEFIT_KINDS", "SOBOL_METHODS", "SAMPLED_SOBOL_OPTIONS"]

class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _one_line(value):
    """A name or title is one line of printable text: control characters (a newline, a terminal's escape
    sequences) are refused."""
    if isinstance(value, str) and any(ord(c) < 0x20 or 0x7F <= ord(c) < 0xA0 for c in value):
        raise ValueError("must be one line of printable text (no control characters such as newlines or "
                         "escape sequences)")
    return value


class BlockChoice(_Strict):
    hsl: StrictInt = Field(ge=0)
    quantities: Optional[Literal[QUANTITY_MODES]] = None


class TrainingChoice(_Strict):
    model: Literal["energy", "published"] = "energy"


class UseStageChoice(_Strict):
    power_model: Literal["direct", "inference"] = "direct"


class Sampling(_Strict):
    samples: StrictInt = Field(default=10_000, ge=2, le=10**10)
    seed: StrictInt = Field(default=20230101, ge=1, lt=2**63)
    design: Literal[DESIGN_NAMES] = "lhs"


class SobolOptions(_Strict):
    enabled: StrictBool = True
    method: Literal[SOBOL_METHODS] = "auto"
    samples: StrictInt = Field(default=8192, ge=2, le=2**30)
    second_order: StrictBool = False
    groupings: list[Literal[GROUPINGS]] = Field(default_factory=lambda: ["component", "parameter", "stage"],
                                                min_length=1)
    conf_level: Union[StrictFloat, StrictInt] = Field(default=0.95, gt=0, lt=1)
    num_resamples: StrictInt = Field(default=100, ge=2, le=100_000)
    seed: Optional[StrictInt] = Field(default=None, ge=1, lt=2**63)

    @model_validator(mode="before")
    @classmethod
    def _sampled_when_asked(cls, data):
        """Options of the sampled analysis given without a ``method`` ask for it: ``method: sampled``."""
        if isinstance(data, Mapping) and "method" not in data and any(k in data for k in SAMPLED_SOBOL_OPTIONS):
            return {**data, "method": "sampled"}
        return data

    @field_validator("samples")
    @classmethod
    def _power_of_two(cls, value):
        if value & (value - 1):
            raise ValueError(f"the Sobol base sample size must be a power of two (e.g. 4096, 8192), got {value}")
        return value

    @field_validator("groupings")
    @classmethod
    def _distinct(cls, value):
        if len(set(value)) != len(value):
            raise ValueError("groupings must not repeat")
        return value


class ExtraComponent(_Strict):
    distribution: Any
    stage: StrictStr = "manufacturing"
    title: Optional[StrictStr] = None
    description: StrictStr = ""
    status: Literal["quoted", "inferred", "assumed"] = "assumed"
    source: Union[StrictStr, list[StrictStr], None] = None
    note: StrictStr = ""
    unit: Optional[StrictStr] = None  # of the distribution; converted to kg CO2-eq

    _title_one_line = field_validator("title")(classmethod(lambda cls, v: _one_line(v)))


class SourceRecord(_Strict):
    """An entry of an experiment's ``sources`` section: the fields of ``distributions/sources.yaml``."""

    cite: StrictStr = Field(min_length=1)


#: The ways a benefit may be given (exactly one per experiment).
BENEFIT_KINDS = ("saved_energy_per_year", "avoided_emissions_per_year")


def _record(value):
    """A benefit or fleet record: a mapping, or the name of a record of ``distributions/benefits.yaml``; its fields
    are checked when the balance model is built. A bare number is refused: it would have no unit."""
    if not isinstance(value, (Mapping, str)):
        raise ValueError("must be a record {distribution: ..., unit: ..., source: ..., status: ...} (a number needs "
                         "its unit: {distribution: {family: fixed, value: ...}, unit: ...}) or the name of a record "
                         "in distributions/benefits.yaml")
    return value


class BenefitSection(_Strict):
    """What the application saves per device and year of service (give exactly one of :data:`BENEFIT_KINDS`)."""

    saved_energy_per_year: Optional[Any] = None
    avoided_emissions_per_year: Optional[Any] = None
    grid_carbon_intensity: Optional[Any] = None
    description: StrictStr = ""

    @field_validator("saved_energy_per_year", "avoided_emissions_per_year", "grid_carbon_intensity")
    @classmethod
    def _is_record(cls, value):
        return None if value is None else _record(value)

    @model_validator(mode="after")
    def _one_kind(self):
        given = [k for k in BENEFIT_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(f"give exactly one of {', '.join(BENEFIT_KINDS)}"
                             + (f" (got {', '.join(given)})" if given else ""))
        if self.grid_carbon_intensity is not None and self.saved_energy_per_year is None:
            raise ValueError("grid_carbon_intensity values saved energy: give it with saved_energy_per_year only")
        return self


class FleetSection(_Strict):
    """How many devices: a number [1], or a number produced per year [1/yr]."""

    devices: Any

    @field_validator("devices")
    @classmethod
    def _is_record(cls, value):
        return _record(value)


def _method_choice(value: Any) -> Any:
    """One method name, or a mapping method -> weight (a number); anything else is refused in one sentence."""
    if isinstance(value, str):
        return value
    if isinstance(value, Mapping) and value and all(
            isinstance(k, str) and isinstance(w, (int, float)) and not isinstance(w, bool) for k, w in value.items()):
        return value
    raise ValueError("give one method name, or {method: weight, ...} with numbers as weights (e.g. {pirson_bol: 1, "
                     "act_die_area: 1})")


#: A component's ``methods:`` entry: one method, or a weighted mixture.
MethodChoice = Annotated[Union[StrictStr, dict[StrictStr, Union[StrictInt, StrictFloat]]],
                         BeforeValidator(_method_choice)]


class ShapleyOptions(_Strict):
    """The Shapley effects of an experiment with ``correlations`` (Song, Nelson & Staum 2016; see
    :mod:`uncertainty_footprint.analysis.shapley`): random permutations of the players, inner runs per prefix and
    bootstrap resamples of the intervals. The confidence level, seed and groupings are those of ``sobol``."""

    permutations: StrictInt = Field(default=10_000, ge=1, le=10**6)
    inner: StrictInt = Field(default=3, ge=2, le=100)
    bootstrap: StrictInt = Field(default=1000, ge=0, le=10_000)


class ExperimentModel(_Strict):
    name: StrictStr
    description: StrictStr = ""
    application: Optional[StrictStr] = None
    blocks: dict[StrictStr, Union[StrictInt, BlockChoice]] = Field(default_factory=dict)
    quantity_distribution: Literal[QUANTITY_FAMILIES] = "pert"
    training: TrainingChoice = TrainingChoice()
    use_stage: UseStageChoice = UseStageChoice()
    parameters: dict[StrictStr, Any] = Field(default_factory=dict)
    components: dict[StrictStr, Any] = Field(default_factory=dict)
    extra_components: dict[StrictStr, ExtraComponent] = Field(default_factory=dict)
    reference_devices: list[StrictStr] = Field(default_factory=list)
    sampling: Sampling = Sampling()
    sobol: SobolOptions = SobolOptions()
    stages: list[StrictStr] = Field(default_factory=list)
    sources: dict[StrictStr, SourceRecord] = Field(default_factory=dict)
    benefit: Optional[BenefitSection] = None
    fleet: Optional[FleetSection] = None
    #: Per component (or ``truncation``): one method, or a weighted mixture ``{method: weight}``
    #: (:mod:`uncertainty_footprint.inputs.method_data`; checked against the catalog when the model is built).
    methods: dict[StrictStr, MethodChoice] = Field(default_factory=dict)
    #: Spearman rank correlations between random inputs: ``[a, b, rho]`` or ``{between: [a, b], rho: r, reason:
    #: ..., source: ...}`` items (checked against the model when it is built:
    #: :mod:`uncertainty_footprint.inputs.copula`).
    correlations: list[Any] = Field(default_factory=list)
    shapley: ShapleyOptions = ShapleyOptions()

    _name_one_line = field_validator("name")(classmethod(lambda cls, v: _one_line(v)))

    @model_validator(mode="before")
    @classmethod
    def _sobol_options_of_shapley(cls, data):
        """With ``correlations``, ``sobol`` options without a ``method`` (the confidence level, the seed) are
        those of the Shapley estimator: they do not ask for the sampled Sobol' analysis, which needs independent
        inputs."""
        if isinstance(data, Mapping) and data.get("correlations") and isinstance(data.get("sobol"), Mapping) \
                and "method" not in data["sobol"]:
            return {**data, "sobol": {"method": "auto", **data["sobol"]}}
        return data

    @model_validator(mode="after")
    def _shapley_needs_correlations(self):
        """A ``shapley`` section configures the Shapley effects of correlated inputs: without ``correlations``
        nothing would use it (the hotspots are the exact decomposition)."""
        if "shapley" in self.model_fields_set and not self.correlations:
            raise ValueError("shapley: its options set the Shapley effects of an experiment with correlations, "
                             "and this one declares none (its hotspots are exact)")
        return self

    @field_validator("blocks", mode="before")
    @classmethod
    def _blocks_are_mapping(cls, value):
        if value is None:
            return {}
        return value


def spec_with(spec: ExperimentModel, section: str, changes: Mapping[str, Any], source: str) -> ExperimentModel:
    """``spec`` with options of ``section`` (``sampling`` or ``sobol``) overridden (``None`` values are ignored),
    validated again; an error names ``source`` and ``section.key``. Options of the sampled Sobol' analysis given
    without a ``method`` ask for it (``method: sampled``), as in a file."""
    model = _NESTED[section]
    data = getattr(spec, section).model_dump()
    changes = {k: v for k, v in changes.items() if v is not None}
    if section == "sobol" and "method" not in changes and any(k in changes for k in SAMPLED_SOBOL_OPTIONS) \
            and not spec.correlations:  # with correlations the level and seed are the Shapley estimator's
        changes["method"] = "sampled"
    data.update(changes)
    try:
        options = model(**data)
    except ValidationError as exc:
        raise _config_error(exc, source, prefix=section) from None
    return spec.model_copy(update={section: options})


def _loc(loc: tuple) -> str:
    parts = []
    for i, item in enumerate(loc):
        if item == "[key]":
            continue  # pydantic marks a bad mapping key; the key itself is the previous item
        if isinstance(item, int) and not (i + 1 < len(loc) and loc[i + 1] == "[key]"):
            parts.append(f"[{item}]")
        elif item in ("int", "BlockChoice"):
            continue  # names of union branches, not keys
        else:
            parts.append(("." if parts else "") + str(item))
    return "".join(parts)


def _config_error(exc: ValidationError, source: str, prefix: str = "") -> ConfigError:
    errors = exc.errors(include_url=False)
    # For a union (e.g. an HSL given as int or mapping) show the most specific branch: the deepest location.
    err = max(errors, key=lambda e: len(e["loc"]))
    path = _loc(err["loc"])
    if prefix:
        path = f"{prefix}.{path}" if path else prefix
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        parent = err["loc"][:-1]
        msg = f"unknown key {shorten(err['loc'][-1], 40)}"
        allowed = _allowed_keys(parent)
        if allowed:
            msg += f"; allowed: {', '.join(allowed)}"
        path = _loc(parent) or path
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err["type"] == "value_error":
        msg = msg.removeprefix("Value error, ")
    else:
        msg += f" (got {shorten(err.get('input'))})"
    return ConfigError(source, path, msg)


_NESTED = {"training": TrainingChoice, "use_stage": UseStageChoice, "sampling": Sampling, "sobol": SobolOptions,
           "benefit": BenefitSection, "fleet": FleetSection}
_KEYED = {"blocks": BlockChoice, "extra_components": ExtraComponent, "sources": SourceRecord}


def _allowed_keys(loc: tuple) -> list[str]:
    """Keys allowed at ``loc`` (the mapping that held an unknown key)."""
    if not loc:
        return list(ExperimentModel.model_fields)
    if loc[0] in _NESTED and len(loc) == 1:
        return list(_NESTED[loc[0]].model_fields)
    if loc[0] in _KEYED and len(loc) >= 2:
        return list(_KEYED[loc[0]].model_fields)
    return []


def parse_spec(data: Any, source: str) -> ExperimentModel:
    """Validate already-parsed YAML data as an experiment's spec (errors name ``source``)."""
    if not isinstance(data, Mapping):
        raise ConfigError(source, "", "an experiment file must be a mapping with at least 'name'; "
                          f"allowed keys: {', '.join(ExperimentModel.model_fields)}")
    try:
        return ExperimentModel(**{str(k): v for k, v in data.items()})
    except ValidationError as exc:
        raise _config_error(exc, source) from None
    except TypeError as exc:  # non-string keys
        raise ConfigError(source, "", f"keys must be text ({shorten(str(exc), 120)})") from None


def read_spec(path: str | Path) -> tuple[ExperimentModel, str]:
    """Read and validate an experiment file: its spec and the SHA-256 of its bytes."""
    data, raw = load_file(Path(path))
    return parse_spec(data, str(path)), hashlib.sha256(raw).hexdigest()
