"""Shared fixtures of the tests of :mod:`uncertainty_footprint.reports`: one small kws run with synthetic sampled
Sobol' indices and convergence, its figures and reports written once per test module."""

import pytest
import xarray as xr

import uncertainty_footprint as uf
from tests.helpers import ROOT
from uncertainty_footprint.analysis.convergence import running_statistics
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.reports import document as R
from uncertainty_footprint.reports import drawing as D
from tests.reports.synthetic import st_convergence, synthetic_sobol


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    result = uf.run(ROOT / "experiments" / "kws.yaml", samples=2000, seed=7)
    catalog = load_catalog()
    sobol = synthetic_sobol(result)
    out = tmp_path_factory.mktemp("out")
    conv = xr.merge([running_statistics(result.results["total"].values),
                     st_convergence(sobol["component"]["group"].values.tolist())])
    fig_paths = D.write_figures(result, out, sobol=sobol, convergence=conv, catalog=catalog)
    report_paths = R.write_report(result, out, sobol=sobol, figures=fig_paths, catalog=catalog)
    return {"result": result, "catalog": catalog, "sobol": sobol, "out": out, "figures": fig_paths,
            "report": report_paths, "conv": conv}
