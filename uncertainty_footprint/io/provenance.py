"""Provenance: the attributes that say how a file of numbers was made, stamped alike on ``results.nc``,
``sobol.nc`` and ``comparison.nc``.

Every stamp carries the experiment(s), the seed, the design, the SHA-256 of the experiment file(s) and of the
model(s), the versions of Python, this package and the libraries it uses, and ``created_by``. All values are
text or integers, so they survive ``to_netcdf`` unchanged. A library's version is the ``__version__`` of its
module where the process has imported it already (the code that ran), else its installed distribution's metadata
(:func:`importlib.metadata.version`, which reads the files of the distribution; this package's own version too):
stamping a file imports none of the libraries it names. Every stamp also carries ``Conventions = "CF-1.10"`` (:data:`uncertainty_footprint.io.netcdf.CONVENTIONS`).
"""

from __future__ import annotations

import json
import platform
import sys
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Sequence


__all__ = ["LIBRARIES", "versions", "package_version", "provenance"]

#: Distribution name of this package.
DISTRIBUTION = "uncertainty_footprint"

#: Key in the ``versions`` attribute -> distribution name of each library a result records.
LIBRARIES = {
    "numpy": "numpy", "scipy": "scipy", "xarray": "xarray", "pandas": "pandas", "matplotlib": "matplotlib",
    "pyyaml": "PyYAML", "salib": "SALib", "dask": "dask", "netcdf4": "netCDF4", "pydantic": "pydantic",
    "pint": "pint", "jinja2": "Jinja2", "zarr": "zarr",
}
#: Key in the ``versions`` attribute -> the library's top-level module, where it is not the key itself.
MODULES = {"pyyaml": "yaml", "salib": "SALib", "netcdf4": "netCDF4"}


@lru_cache(maxsize=1)
def package_version() -> str:
    """This package's installed version (:func:`importlib.metadata.version`; ``"unknown"`` when it runs
    uninstalled). Reading it imports nothing of the package (no import of its ``__init__``, no cycle).

    Returns
    -------
    str
    """
    try:
        return version(DISTRIBUTION)
    except PackageNotFoundError:
        return "unknown"


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version()), ("uncertainty_footprint", package_version())]
    for key, distribution in LIBRARIES.items():
        found = getattr(sys.modules.get(MODULES.get(key, key)), "__version__", None)
        if isinstance(found, str) and found:
            out.append((key, found))
            continue
        try:
            out.append((key, version(distribution)))
        except PackageNotFoundError:
            out.append((key, "not installed"))
    return tuple(out)


def versions() -> dict[str, str]:
    """Versions of Python, this package and the libraries in :data:`LIBRARIES` (read once per process).

    Returns
    -------
    dict of str to str
        Key -> version string (``"not installed"`` for a library that is absent).
    """
    return dict(_versions())


def _text(value: str | Sequence[str]) -> str:
    """One text value: several experiments' values are joined with ``;``."""
    return value if isinstance(value, str) else ";".join(str(v) for v in value)


def provenance(*, experiment: str | Sequence[str], seed: int, design: str, config_sha256: str | Sequence[str],
               model_sha256: str | Sequence[str], **extra: Any) -> dict[str, Any]:
    """The netCDF-compatible provenance attributes of a result.

    Parameters
    ----------
    experiment : str or sequence of str
        Experiment name(s) (several for a comparison, joined with ``;``).
    seed : int
        The seed the numbers were drawn with.
    design : str
        The design: ``mc``, ``lhs`` or ``sobol`` for a Monte Carlo, ``saltelli`` for Sobol' indices.
    config_sha256, model_sha256 : str or sequence of str
        SHA-256 of the experiment file(s) and of the model(s) built from them, in the order of ``experiment``.
    **extra
        Further attributes of the particular file (text or numbers), added after the common ones.

    Returns
    -------
    dict
        ``experiment, seed, design, config_sha256, model_sha256, versions`` (JSON text), ``created_by`` and
        ``extra``, after ``Conventions``.
    """
    from .netcdf import CONVENTIONS  # imports xarray: not needed by the command line's --help and --version

    return {
        "Conventions": CONVENTIONS,
        "experiment": _text(experiment),
        "seed": int(seed),
        "design": str(design),
        "config_sha256": _text(config_sha256),
        "model_sha256": _text(model_sha256),
        "versions": json.dumps(versions(), sort_keys=True),
        "created_by": f"uncertainty_footprint {package_version()}",
        **extra,
    }


# ------------------------------------------------------------------------------------------------------------
# The stamps of a run's files
# ------------------------------------------------------------------------------------------------------------
def _experiment_facts(experiment) -> dict[str, Any]:
    return {"experiment": experiment.name, "config_sha256": experiment.sha256,
            "model_sha256": experiment.model.fingerprint()}


def results_provenance(exp, *, streamed: bool = False, balance=None) -> dict[str, Any]:
    """The attributes of ``results.nc``: the common stamp (:func:`provenance`) plus what a Monte Carlo result
    adds (sample count, the assumed parameters it depends on, how its quantiles were made, the balance's
    P(offset) and break-even statement).

    Parameters
    ----------
    exp : Experiment
        The experiment as run (:class:`uncertainty_footprint.model.experiment.Experiment`).
    streamed : bool
        The run streamed (its quantiles come from a histogram).
    balance : BalanceResult, optional
        The run's balance.
    """
    from ..inputs.catalog import CORNERS_NOTE

    s = exp.spec.sampling
    assumed = exp.model.parameters.assumed()
    extra: dict[str, Any] = {}
    if streamed:
        from ..analysis.running_stats import relative_resolution

        extra["summary_quantiles"] = f"streaming histogram, relative error <= {relative_resolution():.2g}"
    if balance is not None and balance.statement:
        extra.update(p_offset=float(balance.p_offset), break_even=balance.statement)
    return provenance(
        **_experiment_facts(exp), seed=s.seed, design=s.design,
        title=f"uncertainty_footprint results: {exp.name}",
        n_samples=int(s.samples),
        chunk_size_note="results do not depend on the chunk size or the number of workers",
        assumed_parameters=",".join(assumed),
        n_assumed_parameters=len(assumed),
        correlation_note="Inputs are sampled independently. " + CORNERS_NOTE,
        experiment_file=str(exp.source), application=exp.spec.application or "", **extra)


def result_provenance(result) -> dict[str, Any]:
    """:func:`results_provenance` of a :class:`~uncertainty_footprint.analysis.engine.Result`."""
    return results_provenance(result.experiment, streamed=result.streamed, balance=result.balance)


def indices_provenance(result, kind: str) -> dict[str, Any]:
    """The attributes of ``exact.nc`` (``kind='exact'``: no sampling, seed 0), ``sobol.nc`` (``kind='sampled'``:
    the Saltelli design and its seed) or ``shapley.nc`` (``kind='shapley'``: the permutations and their seed)."""
    exp = result.experiment
    if kind == "exact":
        return provenance(**_experiment_facts(exp), seed=0, design="exact")
    so, s = exp.spec.sobol, exp.spec.sampling
    return provenance(**_experiment_facts(exp), seed=so.seed or s.seed,
                      design="shapley permutations" if kind == "shapley" else "saltelli")


def comparison_provenance(comparison) -> dict[str, Any]:
    """The attributes of ``comparison.nc``: the common stamp of every experiment (joined with ``;``), the sample
    count and the parameters that took common random numbers."""
    from ..analysis.compare import shared_parameters

    exps = comparison.experiments
    s = exps[0].spec.sampling
    return provenance(experiment=[e.name for e in exps], seed=s.seed, design=s.design,
                      config_sha256=[e.sha256 for e in exps], model_sha256=[e.model.fingerprint() for e in exps],
                      n_samples=int(s.samples), shared_parameters=",".join(shared_parameters(comparison)),
                      note="shared parameters take common random numbers (same uniforms) in every experiment")
