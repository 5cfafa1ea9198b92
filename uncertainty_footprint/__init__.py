"""uncertainty_footprint: honest error bars on the carbon footprint of TinyML devices.

Data flows one way: experiment YAML -> parameter set (frozen distributions with unit, source and status) ->
a design in the unit hypercube -> one inverse-CDF step -> the lifecycle model -> an ``xarray.Dataset``.

From Python (:mod:`uncertainty_footprint.api`; the names below are imported on first use, so that
``import uncertainty_footprint`` stays fast)::

    import uncertainty_footprint as uf
    exp = uf.load_experiment("kws").with_blocks(casing=2)
    res = uf.run(exp, samples=20_000, seed=1)
    res.summary, res.hotspots("component"), uf.plot_total(res)
    uf.compare(exp, "image_classification", samples=20_000)
    uf.catalog().blocks_table()
    uf.export.salib_problem(exp)
"""

__version__ = "0.3.0"

#: Public names served by :mod:`uncertainty_footprint.api` (loaded lazily by :func:`__getattr__`).
_API = ("load_experiment", "run", "write_results", "summarize_results", "compare", "write_comparison", "catalog", "block_options",
        "Experiment", "Result", "Comparison", "Catalog", "EngineOptions", "Sampling", "SobolOptions", "parse_yaml",
        "distribution_families", "example_names", "example_text", "example_title", "provenance", "plot_total",
        "plot_components", "plot_indices", "plot_stacked", "plot_convergence", "plot_balance", "plot_comparison",
        "ConfigError", "WriteError")
#: Public submodules loaded on first use.
_SUBMODULES = ("api", "export")

__all__ = ["__version__", *_API, *_SUBMODULES]


def __getattr__(name: str):
    """``uf.run``, ``uf.export`` ...: import :mod:`uncertainty_footprint.api` (or the submodule) on first use."""
    if name in _API:
        from . import api

        return getattr(api, name)
    if name in _SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
