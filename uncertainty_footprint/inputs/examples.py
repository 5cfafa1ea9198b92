"""The shipped example experiments, found by name in the installed package.

The experiments ship as package data (``uncertainty_footprint/data/experiments/*.yaml``, found with
:mod:`importlib.resources`), so they are there after ``pip install`` from a wheel as well as in a checkout.
On the command line an experiment argument that is not an existing file but is the stem of a shipped experiment
(``kws``) stands for it: ``python -m uncertainty_footprint run kws``; ``example kws`` prints the file, to copy
and edit (``python -m uncertainty_footprint example kws > my_device.yaml``).
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from ..errors import ConfigError, shorten

__all__ = ["examples_dir", "example_names", "example_path", "example_text", "example_title",
           "resolve_experiment", "is_example"]

_SUFFIX = ".yaml"


def examples_dir() -> Path:
    """The folder of the shipped experiments inside the installed package."""
    return Path(str(resources.files("uncertainty_footprint") / "data" / "experiments"))


def example_names() -> list[str]:
    """Stems of the shipped experiments, sorted (``kws``, ``image_classification``, ...)."""
    folder = resources.files("uncertainty_footprint") / "data" / "experiments"
    return sorted(entry.name[: -len(_SUFFIX)] for entry in folder.iterdir()
                  if entry.name.endswith(_SUFFIX) and entry.is_file())


def example_path(name: str) -> Path:
    """The file of the shipped experiment ``name``.

    Raises
    ------
    ConfigError
        If no shipped experiment has that name (the message lists them).
    """
    names = example_names()
    if name not in names:
        raise ConfigError("command line", "", f"no shipped experiment is called {shorten(name)}; shipped: "
                          f"{', '.join(names)}")
    return examples_dir() / f"{name}{_SUFFIX}"


def example_text(name: str) -> str:
    """The text of the shipped experiment ``name``, as shipped (comments included)."""
    return example_path(name).read_text(encoding="utf-8")


def example_title(name: str) -> str:
    """The ``name:`` field of the shipped experiment ``name`` (for listings)."""
    from .safe_yaml import load_file  # PyYAML: imported when needed, so that the command line starts without it

    data = load_file(example_path(name))[0]
    return str(data.get("name", "")) if isinstance(data, dict) else ""


def resolve_experiment(argument: str | os.PathLike, strict: bool = False) -> Path:
    """The experiment file an argument means: the file itself if it exists, else the shipped experiment of that
    stem (``kws``), else the argument unchanged (reading it then reports the missing file); with ``strict``, a
    bare name that is neither raises the :func:`example_path` error listing the shipped experiments."""
    path = Path(argument)
    if path.exists() or os.sep in str(argument) or path.suffix:
        return path
    return example_path(str(argument)) if strict or str(argument) in example_names() else path


def is_example(path: str | os.PathLike) -> bool:
    """True if ``path`` is one of the shipped experiment files."""
    try:
        return Path(path).resolve().parent == examples_dir().resolve()
    except OSError:
        return False
