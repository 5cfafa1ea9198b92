"""The documentation site's sources: every public name has an API page, every guide page is in the site, and the
README's links resolve (the build itself, with warnings as errors and the tutorials executed, runs in CI:
``python -m sphinx -W --keep-going -b html docs docs/_build/html``)."""

from __future__ import annotations

import importlib
import re

import uncertainty_footprint as uf
from tests.helpers import ROOT
from uncertainty_footprint import api, export
from uncertainty_footprint.model import lifecycle

DOCS = ROOT / "docs"


def _autosummary_names() -> set[str]:
    """Every name listed in an autosummary of the API pages, with its current module."""
    names, module = set(), ""
    for line in (DOCS / "api" / "index.md").read_text().splitlines():
        found = re.match(r"\.\. currentmodule:: (\S+)", line.strip())
        if found:
            module = found.group(1)
        elif re.match(r"^   [A-Za-z_][\w.]*$", line):
            names.add(f"{module}.{line.strip()}")
    return names


def _resolve(dotted: str):
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)


def test_every_public_name_has_a_reference_page():
    listed = {id(_resolve(n)) for n in _autosummary_names()}
    modules = {"uncertainty_footprint.api": api, "uncertainty_footprint.export": export,
               "uncertainty_footprint.model.lifecycle": lifecycle}
    missing = [f"{name}.{n}" for name, mod in modules.items() for n in mod.__all__
               if id(getattr(mod, n)) not in listed]
    assert not missing, missing
    # the top-level namespace serves the api's names
    assert {n for n in uf.__all__ if n not in ("__version__", "api", "export")} <= set(api.__all__)


def test_every_guide_page_is_in_the_site():
    index = (DOCS / "guide" / "index.md").read_text()
    pages = {p.stem for p in (DOCS / "guide").glob("*.md")} - {"index"}
    toctree = set(re.search(r"```\{toctree\}(.*?)```", index, re.S).group(1).split())
    assert pages <= toctree, pages - toctree


def test_readme_and_guide_links_resolve():
    for page in [ROOT / "README.md", *DOCS.glob("*.md"), *(DOCS / "guide").glob("*.md")]:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" in target:
                continue
            assert (page.parent / target).exists(), f"{page.relative_to(ROOT)}: {target}"
