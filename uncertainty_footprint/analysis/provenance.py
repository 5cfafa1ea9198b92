"""Provenance: the attributes that say how a file of numbers was made, stamped alike on ``results.nc``,
``sobol.nc`` and ``comparison.nc``.

Every stamp carries the experiment(s), the seed, the design, the SHA-256 of the experiment file(s) and of the
model(s), the versions of Python, this package and the libraries it uses, and ``created_by``. All values are
text or integers, so they survive ``to_netcdf`` unchanged. Versions come from the installed distributions'
metadata (:func:`importlib.metadata.version`): stamping a file imports none of the libraries it names.
"""

from __future__ import annotations

import json
import platform
from functools import lru_cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any, Sequence

from .. import __version__

__all__ = ["LIBRARIES", "versions", "provenance"]

#: Key in the ``versions`` attribute -> distribution name of each library a result records.
LIBRARIES = {
    "numpy": "numpy", "scipy": "scipy", "xarray": "xarray", "pandas": "pandas", "matplotlib": "matplotlib",
    "pyyaml": "PyYAML", "salib": "SALib", "dask": "dask", "netcdf4": "netCDF4", "pydantic": "pydantic",
}


@lru_cache(maxsize=1)
def _versions() -> tuple[tuple[str, str], ...]:
    out = [("python", platform.python_version()), ("uncertainty_footprint", __version__)]
    for key, distribution in LIBRARIES.items():
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
        ``extra``.
    """
    return {
        "experiment": _text(experiment),
        "seed": int(seed),
        "design": str(design),
        "config_sha256": _text(config_sha256),
        "model_sha256": _text(model_sha256),
        "versions": json.dumps(versions(), sort_keys=True),
        "created_by": f"uncertainty_footprint {__version__}",
        **extra,
    }
