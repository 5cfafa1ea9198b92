"""Methods side by side: the footprint by each method alone, beside the experiment's mixture of methods.

A component computed by several methods (:mod:`uncertainty_footprint.model.methods`) takes one per sample; its
choice is an input ``method:<component>``. *Method m alone* is the same model with every choice fixed: to m where
m is one of the component's methods, else to the component's baseline (``pirson_bol``; for ``truncation``,
``none``; else its first method). All runs use the experiment's design and seed; with ``mc`` and ``lhs``, whose
columns are keyed by parameter name, every method sees the same draws of every other input (common random
numbers), so the differences between the methods' intervals are the methods', not sampling noise (a ``sobol``
design's columns are positional: fixing a choice shifts them, and each method alone has draws of its own).
"""

from __future__ import annotations

import dataclasses
import warnings

import pandas as pd

from ..inputs.distributions import make_distribution
from ..inputs.method_data import DEFAULT_METHOD, NO_TRUNCATION
from ..model.builder import LifecycleModel
from ..warnings import SubsetWarning
from .propagate import run_monte_carlo
from .sizes import EVAL_CHUNK
from .summary import summarize

__all__ = ["method_choices", "method_weights", "methods_of", "method_table", "totals_by_method", "MIXTURE", "METHOD_COLUMNS",
           "MAX_METHOD_SAMPLES"]

#: The ``method`` label of the experiment's own mixture.
MIXTURE = "mixture"
#: Columns of ``methods.csv``.
METHOD_COLUMNS = ("name", "method", "mean", "median", "p5", "p95")
#: Rows of the design each method alone is run on (a streamed run's are more) [samples].
MAX_METHOD_SAMPLES = 1 << 17


def method_weights(model: LifecycleModel) -> dict[str, dict[str, float]]:
    """Component -> its methods and their weights (a component computed by one method: weight 1)."""
    out = {}
    for comp, (choice, methods) in method_choices(model).items():
        dist = model.parameters[choice].distribution if choice is not None else None
        weights = [float(dist.params[f"w{k}"]) for k in range(len(methods))] if dist is not None else [1.0]
        out[comp] = dict(zip(methods, weights))
    return out


def method_choices(model: LifecycleModel) -> dict[str, tuple[str | None, list[str]]]:
    """Component -> (its choice parameter or None, its methods in order), for every component computed by a method
    (``methods`` and ``truncation`` kinds)."""
    return {c.name: (c.inputs["choice"], list(c.methods)) for c in model.components if c.methods}


def methods_of(model: LifecycleModel) -> list[str]:
    """Every method the model uses, the baseline first, in order of first use (``none`` left out)."""
    names: list[str] = []
    for _, methods in method_choices(model).values():
        names += [m for m in methods if m not in names and m != NO_TRUNCATION]
    return sorted(names, key=lambda m: m != DEFAULT_METHOD)


def _fixed(model: LifecycleModel, method: str) -> LifecycleModel:
    """``model`` with every method choice fixed for ``method`` alone (see the module docstring)."""
    ps = model.parameters
    fixed = {}
    for comp, (choice, methods) in method_choices(model).items():
        if choice is None:
            continue
        baseline = DEFAULT_METHOD if DEFAULT_METHOD in methods else (
            NO_TRUNCATION if NO_TRUNCATION in methods else methods[0])
        k = methods.index(method if method in methods else baseline)
        fixed[choice] = dataclasses.replace(ps[choice], distribution=make_distribution({"family": "fixed",
                                                                                        "value": float(k)}),
                                            nominal=float(k))
    return dataclasses.replace(model, parameters=ps.replaced([fixed.get(n, ps[n]) for n in ps.names]))


def _rows(summary: pd.DataFrame, method: str) -> pd.DataFrame:
    table = summary[["mean", "median", "p5", "p95"]].copy()
    table.insert(0, "method", method)
    return table.rename_axis("name").reset_index()


def method_table(model: LifecycleModel, summary: pd.DataFrame, *, n: int, design: str, seed: int,
                 chunk_size: int = EVAL_CHUNK) -> pd.DataFrame | None:
    """``methods.csv``: mean, median and 90 % interval [kg CO2-eq] of every component, stage and the total by each
    method alone and for the experiment's ``mixture`` (its own ``summary``); None for a model without methods.

    Parameters
    ----------
    model : LifecycleModel
    summary : pandas.DataFrame
        The run's summary (the mixture's rows).
    n, design, seed : the run's sampling. Each method alone is run on the first ``min(n, MAX_METHOD_SAMPLES)``
        rows of a design of that kind and seed (a :class:`~uncertainty_footprint.warnings.SubsetWarning` says so
        when these are fewer than the run's).
    chunk_size : int
        Rows evaluated at once (memory only).
    """
    methods = methods_of(model)
    if not methods:
        return None
    m = min(int(n), MAX_METHOD_SAMPLES)
    if m < n:
        warnings.warn(f"each method alone (methods.csv) comes from the first {m} rows of this run's {design} design "
                      f"(the run has {n}); the mixture's rows are the run's", SubsetWarning, stacklevel=2)
    frames = []
    for method in methods:
        ds = run_monte_carlo(_fixed(model, method), n=m, design=design, seed=seed, chunk_size=chunk_size)
        frames.append(_rows(summarize(ds), method))
    frames.append(_rows(summary, MIXTURE))
    table = pd.concat(frames, ignore_index=True)
    return table[list(METHOD_COLUMNS)]


def totals_by_method(table: pd.DataFrame) -> pd.DataFrame:
    """The ``total`` rows of :func:`method_table`, indexed by method."""
    return table[table["name"] == "total"].set_index("method")[["mean", "median", "p5", "p95"]]
