"""Data quality as a spread: the pedigree matrix of ecoinvent, Brightway and openLCA.

A record scores its data 1 (best) to 5 on five indicators (reliability, completeness, temporal, geographical and
further technological correlation). Each score has an uncertainty factor ``U_i`` in a table
(``distributions/pedigree.yaml``: ``ciroth_2016``, ``ecoinvent_v2``); with the basic uncertainty ``U_b`` of the
kind of data (a GSD², e.g. 1.05 for energy and materials) the lognormal's spread is

.. math:: \\sigma_{\\ln} = \\tfrac12 \\sqrt{(\\ln U_b)^2 + \\sum_i (\\ln U_i)^2},

the formula of ecoinvent v2 that Brightway's ``pedigree_matrix`` and the Activity Browser apply to both tables.
In an experiment or a data file a parameter is then written
``{family: lognormal, median: M, basic_gsd2: U_b, pedigree: {scores: [r, c, t, g, f], table: ciroth_2016}}``,
and :func:`~uncertainty_footprint.inputs.distributions.make_distribution` turns it into ``lognormal(median=M,
gsd=exp(sigma_ln))`` that remembers its :class:`Pedigree`.

References
----------
.. [1] Ciroth, A., Muller, S., Weidema, B. & Lesage, P. (2016). Empirically based uncertainty factors for the
   pedigree matrix in ecoinvent. Int J Life Cycle Assess 21, 1338-1348.
.. [2] Frischknecht, R. et al. (2007). Overview and Methodology. ecoinvent report No. 1 (v2.0).
"""

from __future__ import annotations

import math
import os
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, Mapping

from ..errors import SpecError, shorten

__all__ = ["Pedigree", "PedigreeTables", "pedigree_tables", "pedigree_sigma", "parse_pedigree", "tables_of",
           "INDICATORS", "PEDIGREE_FILE"]

#: The data file of the tables (in the data catalog's folder).
PEDIGREE_FILE = "pedigree.yaml"
#: The indicators, in the order of a record's ``scores``.
INDICATORS = ("reliability", "completeness", "temporal_correlation", "geographical_correlation",
              "further_technological_correlation")
#: Short names of the indicators, for one-line displays.
SHORT = ("reliability", "completeness", "temporal", "geographical", "technological")


@dataclass(frozen=True)
class PedigreeTables:
    """The pedigree tables of ``distributions/pedigree.yaml``: table name -> indicator -> factors of scores 1-5,
    and the sources of each table."""

    factors: Mapping[str, Mapping[str, tuple[float, ...]]]
    sources: Mapping[str, tuple[str, ...]]
    path: str


#: The data folder whose records are being read (:func:`tables_of`); None: the default data folder.
_DATA_DIR: ContextVar[Path | None] = ContextVar("pedigree_data_dir", default=None)


@contextmanager
def tables_of(data_dir: str | os.PathLike):
    """Read the pedigree tables of ``data_dir`` (its ``pedigree.yaml``, else the package's) while the records of
    that data folder, or of an experiment built with its catalog, are parsed."""
    token = _DATA_DIR.set(Path(data_dir))
    try:
        yield
    finally:
        _DATA_DIR.reset(token)


def _data_file() -> Path:
    root = _DATA_DIR.get()
    if root is None:
        env = os.environ.get("UNCERTAINTY_FOOTPRINT_DATA")
        root = Path(env) if env else None
    if root is not None and (root / PEDIGREE_FILE).is_file():
        return root / PEDIGREE_FILE
    return Path(str(resources.files("uncertainty_footprint") / "data" / "distributions" / PEDIGREE_FILE))


@lru_cache(maxsize=4)
def _load(path: str) -> PedigreeTables:
    from ..errors import ConfigError
    from .safe_yaml import load_file

    data = load_file(Path(path))[0]
    tables = data.get("tables") if isinstance(data, Mapping) else None
    if not isinstance(tables, Mapping) or not tables:
        raise ConfigError(path, "tables", "must map a table name to its factors")
    factors, sources = {}, {}
    for name, table in tables.items():
        rows = table.get("factors") if isinstance(table, Mapping) else None
        if not isinstance(rows, Mapping) or set(rows) != set(INDICATORS):
            raise ConfigError(path, f"tables.{name}.factors", f"needs exactly the indicators {', '.join(INDICATORS)}")
        for indicator, row in rows.items():
            if (not isinstance(row, list) or len(row) != 5
                    or not all(isinstance(x, (int, float)) and x >= 1.0 for x in row)):
                raise ConfigError(path, f"tables.{name}.factors.{indicator}", "needs five factors >= 1 (scores 1-5)")
        factors[str(name)] = {i: tuple(float(x) for x in rows[i]) for i in INDICATORS}
        sources[str(name)] = tuple(table.get("source") or ())
    return PedigreeTables(factors, sources, path)


def pedigree_tables() -> PedigreeTables:
    """The pedigree tables of the data folder being read (:func:`tables_of`; each file read once per process)."""
    return _load(str(_data_file()))


def pedigree_sigma(basic_gsd2: float, scores, table: str) -> float:
    """``sigma_ln`` of a lognormal from its basic uncertainty ``U_b`` (GSD²) and its pedigree scores.

    Examples
    --------
    >>> round(pedigree_sigma(1.05, [2, 3, 1, 2, 3], "ciroth_2016"), 4)
    0.3327
    >>> pedigree_sigma(1.0, [1, 1, 1, 1, 1], "ecoinvent_v2")
    0.0
    """
    factors = pedigree_tables().factors[table]
    logs = [math.log(basic_gsd2)] + [math.log(factors[i][s - 1]) for i, s in zip(INDICATORS, scores)]
    return 0.5 * math.sqrt(math.fsum(x * x for x in logs))


@dataclass(frozen=True)
class Pedigree:
    """A record's data quality: its scores (1-5 per indicator, in :data:`INDICATORS` order), the table they are
    read in, the basic uncertainty ``U_b`` (GSD²) and the resulting ``sigma_ln``."""

    scores: tuple[int, ...]
    table: str
    basic_gsd2: float
    sigma: float

    @property
    def gsd(self) -> float:
        """The geometric standard deviation ``exp(sigma_ln)``."""
        return math.exp(self.sigma)

    def describe(self) -> str:
        """One line: ``pedigree (4,4,3,3,4) ciroth_2016, U_b 1.05``."""
        return f"pedigree ({','.join(map(str, self.scores))}) {self.table}, U_b {self.basic_gsd2:g}"

    def to_spec(self) -> dict[str, Any]:
        return {"scores": list(self.scores), "table": self.table}


def parse_pedigree(raw: Any, basic_gsd2: float) -> Pedigree:
    """A record's ``pedigree`` mapping (``scores``, ``table``) and ``basic_gsd2`` (a number), checked.

    Raises
    ------
    SpecError
        Scores that are not five integers 1-5, an unknown table, a basic uncertainty below 1.
    """
    tables = pedigree_tables()
    if not isinstance(raw, Mapping) or set(raw) - {"scores", "table"} or "scores" not in raw:
        raise SpecError("pedigree must be a mapping {scores: [reliability, completeness, temporal, geographical, "
                        f"technological], table: {' | '.join(tables.factors)}}}", "pedigree")
    scores = raw["scores"]
    if (not isinstance(scores, (list, tuple)) or len(scores) != 5
            or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= 5 for s in scores)):
        raise SpecError(f"pedigree scores must be five integers 1-5 ({', '.join(SHORT)}), got {shorten(scores)}",
                        "pedigree.scores")
    table = raw.get("table", "ciroth_2016")
    if not isinstance(table, str) or table not in tables.factors:
        raise SpecError(f"unknown pedigree table {shorten(table)}; allowed: {', '.join(tables.factors)}",
                        "pedigree.table")
    ub = float(basic_gsd2)
    if not ub >= 1.0 or not math.isfinite(ub):
        raise SpecError(f"basic_gsd2 is a GSD^2 >= 1 (1.05 for energy and materials), got {ub:g}", "basic_gsd2")
    scores = tuple(int(s) for s in scores)
    return Pedigree(scores, str(table), ub, pedigree_sigma(ub, scores, table))
