"""The files of one run agree with each other: tables and reports carry the numbers of results.nc and sobol.nc."""

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from tests.helpers import ROOT
from uncertainty_footprint.cli import main
from uncertainty_footprint.reports.document import SOBOL_DECIMALS, TEX_DECIMALS


@pytest.fixture(scope="module")
def out(tmp_path_factory):
    folder = tmp_path_factory.mktemp("run") / "kws"
    assert main(["run", str(ROOT / "experiments" / "kws.yaml"), "--out", str(folder), "--samples", "3000",
                 "--seed", "9", "--sobol-samples", "2048", "--quiet"]) == 0
    return folder


def test_summary_csv_equals_statistics_of_results_nc(out):
    summary = pd.read_csv(out / "summary.csv", index_col="name")
    with xr.open_dataset(out / "results.nc") as ds:
        total = ds["total"].values
        casing = ds["footprint"].sel(component="casing").values
    for name, x in (("total", total), ("casing", casing)):
        np.testing.assert_allclose(summary.loc[name, "mean"], x.mean(), rtol=1e-5)
        np.testing.assert_allclose(summary.loc[name, ["p2_5", "p5", "median", "p95", "p97_5"]].to_numpy(float),
                                   np.percentile(x, [2.5, 5, 50, 95, 97.5]), rtol=1e-5)


def test_table_tex_carries_results_nc_percentiles(out):
    tex = (out / "table.tex").read_text()
    with xr.open_dataset(out / "results.nc") as ds:
        total = ds["total"].values
    p5, med, p95 = np.percentile(total, [5, 50, 95])
    line = next(ln for ln in tex.splitlines() if ln.strip().startswith("Total"))
    for value in (med, p5, p95):
        assert f"{value:.{TEX_DECIMALS}f}" in line


def test_report_carries_sobol_nc_indices(out):
    text = (out / "report.md").read_text()
    with xr.open_datatree(out / "sobol.nc") as tree:
        comp = tree["by_component"].to_dataset(inherit=False).load()
    for group in ("power_supply", "transport", "ml_training"):
        st = float(comp["ST"].sel(group=group))
        assert f"{st:.{SOBOL_DECIMALS}f}" in text, group
    csv = pd.read_csv(out / "sobol.csv")
    row = csv[(csv.grouping == "component") & (csv.name == "power_supply")].iloc[0]
    assert row["ST"] == pytest.approx(float(comp["ST"].sel(group="power_supply")), rel=1e-5)


def test_deterministic_csv_is_the_published_method(out):
    det = pd.read_csv(out / "deterministic.csv", index_col="component")
    assert list(det.columns) == ["lower", "typical", "upper"]
    assert det.loc["ml_training", "typical"] == pytest.approx(0.10)
    assert det.loc["total", "typical"] == pytest.approx(2.66, abs=0.02)
