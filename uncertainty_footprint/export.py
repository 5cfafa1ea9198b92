"""The model and its inputs in the formats of other tools: SALib, Brightway (stats_arrays), OpenTURNS, ArviZ.

>>> import uncertainty_footprint as uf
>>> sp = uf.export.salib_problem("kws")
>>> sp["num_vars"], sp["outputs"]
(51, ['total'])

Only the uncertain parameters are exported (fixed ones keep their value inside the attached model). Every
export keeps each parameter in its own unit (see :func:`uncertainty_footprint.api.catalog`); footprints are in
kg CO2-eq.
"""

from __future__ import annotations

import math
import os
from typing import Any, Mapping, Sequence

import numpy as np

from .errors import ConfigError
from .api import Experiment, Result, load_experiment
from .inputs.distributions import Distribution
from .inputs.parameters import open_unit

__all__ = ["FootprintProblem", "salib_problem", "stats_arrays", "openturns", "to_inferencedata",
           "SALIB_DISTS", "STATS_ARRAYS_TYPES"]


# ------------------------------------------------------------------------------------------------ SALib
def _salib_uniform(p):
    return "unif", [p["low"], p["high"]]


def _salib_loguniform(p):
    return "logunif", [p["low"], p["high"]]


def _salib_triangular(p):
    c = (p["mode"] - p["low"]) / (p["high"] - p["low"])
    return ("triang", [p["low"], p["high"], c]) if c < 1 else None  # SALib refuses a peak at the upper bound


def _salib_normal(p):
    return "norm", [p["mean"], p["sd"]]


def _salib_truncnormal(p):
    return "truncnorm", [p["low"], p["high"], p["mean"], p["sd"]]


def _salib_lognormal(p):
    return "lognorm", [math.log(p["median"]), math.log(p["gsd"])]


#: Our family -> SALib's ``dists`` name and ``bounds`` (None: not expressible; the family then goes through our
#: inverse CDF: SALib samples ``unif [0, 1]`` and the attached model maps it).
SALIB_DISTS = {"uniform": _salib_uniform, "loguniform": _salib_loguniform, "triangular": _salib_triangular,
               "normal": _salib_normal, "truncnormal": _salib_truncnormal, "lognormal": _salib_lognormal}


def _salib_form(dist: Distribution) -> tuple[str, list[float]] | None:
    make = SALIB_DISTS.get(dist.family)
    return make(dist.params) if make is not None else None


try:
    from SALib import ProblemSpec as _ProblemSpec
except ImportError:  # pragma: no cover - SALib is a main dependency
    _ProblemSpec = dict


class FootprintProblem(_ProblemSpec):
    """A SALib ``ProblemSpec`` with the footprint model attached: ``evaluate()`` needs no function.

    Columns of SALib's samples are parameters in their own units where SALib has the family (``dists`` of
    ``unif``, ``logunif``, ``triang``, ``norm``, ``truncnorm``, ``lognorm``), and probabilities in [0, 1]
    (``unif [0, 1]``) for the others (PERT), which the model maps through the package's inverse CDF; the
    ``transformed`` entry lists the latter. Indices are invariant to that change of variable for the
    variance-based and moment-independent methods (Sobol', FAST, delta, PAWN); Morris elementary effects of a
    transformed parameter are per unit of probability.
    """

    def __init__(self, spec: Mapping[str, Any], model):
        super().__init__(dict(spec))
        self.model = model

    def evaluate(self, func=None, *args, **kwargs):
        """Evaluate the attached model (or ``func``, as SALib's ``ProblemSpec.evaluate``) on the samples."""
        return super().evaluate(func if func is not None else self.model, *args, **kwargs)


class _Model:
    """SALib samples -> footprints [kg CO2-eq] of the chosen outputs (picklable, for ``evaluate(nprocs=...)``)."""

    def __init__(self, model, names: Sequence[str], transformed: Sequence[str], outputs: Sequence[str],
                 trim: float = 0.0):
        self.model, self.names = model, list(names)
        self.transformed = set(transformed)
        self.trim = trim
        comps = model.component_names
        self.columns = [None if o == "total" else comps.index(o) for o in outputs]

    def __call__(self, x: np.ndarray) -> np.ndarray:
        x = np.atleast_2d(np.asarray(x, dtype=float))
        ps = self.model.parameters
        random = {}
        for j, name in enumerate(self.names):
            col = x[:, j]
            if name in self.transformed:
                col = open_unit(self.trim + (1.0 - 2.0 * self.trim) * col)
                col = ps[name].distribution.ppf(col)
            random[name] = col
        footprints = self.model.evaluate(ps.values(random, x.shape[0]))
        out = np.column_stack([footprints.sum(axis=1) if c is None else footprints[:, c] for c in self.columns])
        return out[:, 0] if out.shape[1] == 1 else out


def salib_problem(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *,
                  outputs: Sequence[str] = ("total",), groups: str | None = None, space: str = "native",
                  trim: float = 0.0, data_dir: str | os.PathLike | None = None) -> FootprintProblem:
    """The experiment as a SALib ``ProblemSpec`` with its model attached.

    Parameters
    ----------
    experiment : path, name, mapping or Experiment
        See :func:`uncertainty_footprint.api.load_experiment`.
    outputs : sequence of str
        ``total`` and/or component names: the model's output columns [kg CO2-eq].
    groups : {'component', 'stage'}, optional
        Group the parameters as the package's grouped analyses do (SALib's ``groups``; Sobol' and Morris).
    space : {'native', 'probability'}
        ``native``: SALib samples each family it has in the parameter's unit (the others as probabilities);
        ``probability``: every parameter is ``unif [0, 1]``, mapped by the package's inverse CDFs (the same
        numbers as the package's own analysis). Morris needs bounded inputs: its grid reaches 0 and 1, where an
        unbounded distribution is infinite; use ``probability`` with a ``trim``.
    trim : float
        In probability space, the probability cut from each tail [-]: SALib's [0, 1] maps to [trim, 1 - trim]
        (0 keeps the distributions exact; a Morris screening may use 0.005).
    data_dir : path, optional

    Returns
    -------
    FootprintProblem
        ``names``, ``bounds``, ``dists``, ``outputs`` (and ``groups``); ``transformed`` lists the parameters
        given as probabilities (see :class:`FootprintProblem`).

    Examples
    --------
    Morris screening in three lines:

    >>> sp = salib_problem("kws", space="probability", trim=0.005)
    >>> _ = sp.sample_morris(8, seed=1).evaluate().analyze_morris(seed=1)
    >>> sp.analysis.to_df().sort_values("mu_star").index[-1]
    'li_ion_battery_mass'

    SALib's Sobol' indices (compare them with :meth:`uncertainty_footprint.api.Result.hotspots`):

    >>> sp = salib_problem("kws").sample_sobol(256, calc_second_order=False, seed=2)
    >>> sp.evaluate().analyze_sobol(calc_second_order=False, seed=2).analysis["ST"].shape
    (51,)
    """
    exp = load_experiment(experiment, data_dir=data_dir)
    model = exp.check()
    ps = model.parameters
    if ps.dependent:
        raise ConfigError("salib_problem", "correlations", "SALib's samplers draw independent inputs, and this "
                          "experiment declares correlations; its Shapley effects come with the run "
                          "(Result.hotspots)")
    names = ps.random_names
    comps = model.component_names
    bad = [o for o in outputs if o != "total" and o not in comps]
    if bad or not outputs:
        raise ConfigError("salib_problem", "outputs", f"unknown output {bad[0] if bad else '(none)'!r}; allowed: "
                          f"total, {', '.join(comps)}")
    if space not in ("native", "probability"):
        raise ConfigError("salib_problem", "space", f"got {space!r}; allowed: native, probability")
    if not (0.0 <= trim < 0.5) or (trim and space != "probability"):
        raise ConfigError("salib_problem", "trim", f"needs 0 <= trim < 0.5 and space='probability', got {trim!r}")
    bounds, dists, transformed = [], [], []
    for name in names:
        form = _salib_form(ps[name].distribution) if space == "native" else None
        if form is None:
            form = ("unif", [0.0, 1.0])
            transformed.append(name)
        dists.append(form[0])
        bounds.append([float(v) for v in form[1]])
    spec = {"names": list(names), "bounds": bounds, "dists": dists, "outputs": list(outputs),
            "transformed": transformed, "units": [ps[n].unit for n in names]}
    if groups is not None:
        from .analysis.hotspots import parameter_groups

        if groups not in ("component", "stage"):
            raise ConfigError("salib_problem", "groups", f"unknown grouping {groups!r}; allowed: component, stage")
        owner = {p: g for g, members in parameter_groups(model, groups).items() for p in members}
        spec["groups"] = [owner[n] for n in names]
    return FootprintProblem(spec, _Model(model, names, transformed, outputs, trim))


# ------------------------------------------------------------------------------------------------ stats_arrays
def _sa_fixed(p):
    return {"uncertainty type": 1, "loc": p["value"]}


def _sa_uniform(p):
    return {"uncertainty type": 4, "minimum": p["low"], "maximum": p["high"]}


def _sa_triangular(p):
    return {"uncertainty type": 5, "loc": p["mode"], "minimum": p["low"], "maximum": p["high"]}


def _sa_normal(p):
    return {"uncertainty type": 3, "loc": p["mean"], "scale": p["sd"]}


def _sa_truncnormal(p):
    return {"uncertainty type": 3, "loc": p["mean"], "scale": p["sd"], "minimum": p["low"], "maximum": p["high"]}


def _sa_lognormal(p):
    return {"uncertainty type": 2, "loc": math.log(p["median"]), "scale": math.log(p["gsd"])}


def _sa_pert(p):
    return {"uncertainty type": 13, "minimum": p["low"], "loc": p["mode"], "maximum": p["high"],
            "scale": p["lambda"]}


#: Our family -> stats_arrays uncertainty dict (ids: 1 none, 2 lognormal with ``loc`` = ln median and ``scale``
#: = ln gsd, 3 normal (bounded by ``minimum``/``maximum`` for our truncnormal), 4 uniform, 5 triangular with
#: ``loc`` = mode, 13 Beta-PERT, which reads the mode from ``loc`` and lambda from ``scale``). stats_arrays has
#: no log-uniform.
STATS_ARRAYS_TYPES = {"fixed": _sa_fixed, "uniform": _sa_uniform, "triangular": _sa_triangular,
                      "normal": _sa_normal, "truncnormal": _sa_truncnormal, "lognormal": _sa_lognormal,
                      "pert": _sa_pert}
_UNSUPPORTED = ("error", "skip", "lognormal")


def stats_arrays(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *, unsupported: str = "error",
                 fixed: bool = False, data_dir: str | os.PathLike | None = None) -> dict[str, dict[str, Any]]:
    """Brightway uncertainty dicts (stats_arrays conventions), one per parameter.

    Parameters
    ----------
    experiment : path, name, mapping or Experiment
    unsupported : {'error', 'skip', 'lognormal'}
        What to do with a family stats_arrays lacks (log-uniform): raise, leave the parameter out, or give the
        lognormal with the same 5 % and 95 % quantiles (an approximation, said in the dict's ``note``).
    fixed : bool
        Also the fixed parameters (``uncertainty type`` 1).
    data_dir : path, optional

    Returns
    -------
    dict of str to dict
        ``{"uncertainty type", "amount", "loc", "scale", "shape", "minimum", "maximum", "negative", "unit"}``
        (absent fields NaN, as stats_arrays expects); ``amount`` is the nominal value of the deterministic
        method, in ``unit``.

    Raises
    ------
    ConfigError
        A family stats_arrays cannot represent, with ``unsupported='error'``.

    Examples
    --------
    >>> d = stats_arrays("kws", unsupported="skip")
    >>> d["training_pue"]["uncertainty type"], d["training_pue"]["minimum"], d["training_pue"]["maximum"]
    (4, 1.1, 1.6)
    """
    if unsupported not in _UNSUPPORTED:
        raise ConfigError("stats_arrays", "unsupported", f"got {unsupported!r}; allowed: {', '.join(_UNSUPPORTED)}")
    exp = load_experiment(experiment, data_dir=data_dir)
    ps = exp.check().parameters
    out: dict[str, dict[str, Any]] = {}
    for name, par in ps.items():
        dist = par.distribution
        if dist.is_fixed and not fixed:
            continue
        make = STATS_ARRAYS_TYPES.get(dist.family)
        note = ""
        if make is None:
            if unsupported == "skip":
                continue
            if unsupported == "error":
                raise ConfigError("stats_arrays", f"parameters.{name}", f"stats_arrays has no {dist.family} "
                                  f"distribution ({dist.describe()}); pass unsupported='skip' or 'lognormal'")
            lo, hi = (float(v) for v in dist.ppf(np.array([0.05, 0.95])))
            if lo <= 0:
                raise ConfigError("stats_arrays", f"parameters.{name}", f"cannot approximate {dist.describe()} by "
                                  "a lognormal (its 5 % quantile is not positive)")
            z = 1.6448536269514722  # standard normal 95 % quantile
            fields = {"uncertainty type": 2, "loc": 0.5 * (math.log(lo) + math.log(hi)),
                      "scale": (math.log(hi) - math.log(lo)) / (2 * z)}
            note = f"lognormal with the 5 % and 95 % quantiles of {dist.describe()} (stats_arrays has no {dist.family})"
        else:
            fields = make(dist.params)
        record = {"uncertainty type": fields["uncertainty type"], "amount": float(par.nominal)}
        for key in ("loc", "scale", "shape", "minimum", "maximum"):
            record[key] = float(fields.get(key, math.nan))
        record["negative"] = False
        record["unit"] = par.unit
        partners = [f"{b if a == name else a} (Spearman {rho:g})" for a, b, rho in
                    (ps.correlations.pairs if ps.dependent else ()) if name in (a, b)]
        if partners:  # stats_arrays has no joint distributions: say what the dict leaves out
            note = "; ".join(filter(None, [note, "the experiment correlates it with " + ", ".join(partners)
                                           + "; these dicts carry the marginal only"]))
        if note:
            record["note"] = note
        out[name] = record
    return out


# ------------------------------------------------------------------------------------------------ OpenTURNS
def _ot_marginal(ot, dist: Distribution):
    p = dist.params
    makers = {
        "uniform": lambda: ot.Uniform(p["low"], p["high"]),
        "loguniform": lambda: ot.LogUniform(math.log(p["low"]), math.log(p["high"])),
        "triangular": lambda: ot.Triangular(p["low"], p["mode"], p["high"]),
        "normal": lambda: ot.Normal(p["mean"], p["sd"]),
        "truncnormal": lambda: ot.TruncatedNormal(p["mean"], p["sd"], p["low"], p["high"]),
        "lognormal": lambda: ot.LogNormal(math.log(p["median"]), math.log(p["gsd"]), 0.0),
        "pert": lambda: ot.Beta(1 + p["lambda"] * (p["mode"] - p["low"]) / (p["high"] - p["low"]),
                                1 + p["lambda"] * (p["high"] - p["mode"]) / (p["high"] - p["low"]),
                                p["low"], p["high"]),
        "fixed": lambda: ot.Dirac(p["value"]),
    }
    if dist.family not in makers:
        raise ConfigError("openturns", "", f"no OpenTURNS form for the {dist.family} family")
    return makers[dist.family]()


def openturns(experiment: str | os.PathLike | Mapping[str, Any] | Experiment, *,
              data_dir: str | os.PathLike | None = None):
    """The uncertain parameters as an OpenTURNS ``JointDistribution`` (needs ``openturns``, the ``openturns``
    extra): independent marginals, joined by a ``NormalCopula`` when the experiment declares correlations (the
    package's Gaussian copula, with the normal-score correlation of each declared pair).

    Marginals: ``Uniform``, ``LogUniform`` (of ln bounds), ``Triangular``, ``Normal``, ``TruncatedNormal``,
    ``LogNormal`` (mu = ln median, sigma = ln gsd) and ``Beta`` (PERT: alpha = 1 + lambda (mode - low) /
    (high - low), beta = 1 + lambda (high - mode) / (high - low) on [low, high]), each in the parameter's unit;
    the description holds the parameter names.

    Examples
    --------
    >>> joint = openturns("kws")
    >>> joint.getDimension(), joint.getDescription()[0]
    (51, 'training_energy_per_run')
    """
    try:
        import openturns as ot
    except ImportError:
        raise ConfigError("openturns", "", "needs the openturns package: pip install "
                          "'uncertainty_footprint[openturns]'") from None
    exp = load_experiment(experiment, data_dir=data_dir)
    ps = exp.check().parameters
    names = ps.random_names
    marginals = [_ot_marginal(ot, ps[n].distribution) for n in names]
    if ps.dependent:  # the package's Gaussian copula: the normal-score correlation of the declared pairs
        corr = ps.correlations
        matrix = ot.CorrelationMatrix(len(names))
        for a, b, _ in corr.pairs:
            i, j = names.index(a), names.index(b)
            matrix[i, j] = float(corr.normal[corr.names.index(a), corr.names.index(b)])
        joint = ot.JointDistribution(marginals, ot.NormalCopula(matrix))
    else:
        joint = ot.JointDistribution(marginals)
    joint.setDescription(list(names))
    return joint


# ------------------------------------------------------------------------------------------------ ArviZ
def to_inferencedata(result: Result):
    """A run's samples as ArviZ ``InferenceData``: :meth:`uncertainty_footprint.api.Result.to_inferencedata`."""
    return result.to_inferencedata()
