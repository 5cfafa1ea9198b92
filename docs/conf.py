"""Sphinx configuration of the uncertainty_footprint documentation.

Build (warnings are errors; the tutorials are executed)::

    pip install -e ".[docs]"
    python -m sphinx -W --keep-going -b html docs docs/_build/html

Pages are MyST Markdown (the user guide in ``guide/``), notebooks executed by myst-nb (``tutorials/``), the
API reference generated from the numpydoc docstrings (``api/``), and the reference data
generated from the shipped ``distributions/`` (``reference/``, by :mod:`_ext.reference_data`).
"""

from __future__ import annotations

import os
import sys
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path[:0] = [str(ROOT), str(DOCS / "_ext")]

import uncertainty_footprint  # noqa: E402

project = "uncertainty_footprint"
author = "The uncertainty_footprint developers"
copyright = "2026, " + author
release = version = uncertainty_footprint.__version__

extensions = [
    "myst_nb",                   # MyST Markdown pages and executed notebooks
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",                  # numpydoc-style docstrings (units in square brackets)
    "sphinx.ext.intersphinx",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_design",             # the cards of the front page
    "reference_data",            # docs/_ext: the tables of the shipped distribution records and sources
]

source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"
exclude_patterns = ["_build", "**.ipynb_checkpoints", "api/generated/*.md"]
templates_path = ["_templates"]

# --- MyST and notebooks -----------------------------------------------------------------------------------------
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist"]
myst_heading_anchors = 3
nb_execution_mode = "force"              # every build runs the tutorials: a stale notebook cannot be published
nb_execution_raise_on_error = True       # ... and an error in one fails the build
nb_execution_timeout = 300
nb_execution_in_temp = True              # their output folders go to a temporary folder, not the source tree
nb_merge_streams = True

# --- API reference ----------------------------------------------------------------------------------------------
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_typehints = "none"                # the numpydoc sections say the types and units
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# --- cross-references to other projects -------------------------------------------------------------------------
_INVENTORIES = {
    "python": "https://docs.python.org/3/",
    "numpy": "https://numpy.org/doc/stable/",
    "scipy": "https://docs.scipy.org/doc/scipy/",
    "xarray": "https://docs.xarray.dev/en/stable/",
    "pandas": "https://pandas.pydata.org/docs/",
    "SALib": "https://salib.readthedocs.io/en/latest/",
    "pint": "https://pint.readthedocs.io/en/stable/",
}


def _reachable(url: str) -> bool:
    """Whether an inventory can be fetched now (builds without a network link the other projects' names as plain
    text instead of failing: intersphinx would warn, and warnings are errors)."""
    if os.environ.get("UF_DOCS_OFFLINE"):
        return False
    try:
        with urllib.request.urlopen(url + "objects.inv", timeout=3):
            return True
    except Exception:  # noqa: BLE001 - no network, a proxy, a moved site: build without that inventory
        return False


with ThreadPoolExecutor(len(_INVENTORIES)) as _pool:  # at most one timeout of waiting, not one per project
    _REACHABLE = dict(zip(_INVENTORIES, _pool.map(_reachable, _INVENTORIES.values())))
intersphinx_mapping = {name: (url, None) for name, url in _INVENTORIES.items() if _REACHABLE[name]}
intersphinx_timeout = 10

# --- HTML ---------------------------------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"uncertainty_footprint {version}"
html_static_path: list[str] = []
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
}
html_context = {"default_mode": "light"}
