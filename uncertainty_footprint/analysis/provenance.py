"""Provenance: the attributes that say how a file of numbers was made, stamped alike on ``results.nc``,
``sobol.nc`` and ``comparison.nc``.

Every stamp carries the experiment(s), the seed, the design, the SHA-256 of the experiment file(s) and of the
model(s), the versions of Python, this package and the libraries it uses, and ``created_by``. All values are
text or integers, so they survive ``to_netcdf`` unchanged. A library's version is the ``__version__`` of its
module where the process has imported it already (the code that ran), else its installed distribution's metadata
(:func:`importlib.metadata.version`, which reads the files of the distribution; this package's own version too):
stamping a file imports none of the libraries it names. Every stamp also carries ``Conventions = "CF-1.10"`` (:mod:`uncertainty_footprint.analysis.cf`).
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
    "pint": "pint", "jinja2": "Jinja2",
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
    from .cf import CONVENTIONS  # cf imports xarray: not needed by the command line's --help and --version

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
