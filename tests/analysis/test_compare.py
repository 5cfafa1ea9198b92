"""compare: common random numbers, paired differences and P(A < B)."""

import numpy as np
import pytest
import xarray as xr

from tests.helpers import IMAGE_CLASSIFICATION as IC, KWS, LOW_CARBON_GRID as LOW
from uncertainty_footprint.cli import main
import uncertainty_footprint as uf
from uncertainty_footprint.analysis.compare import paired_differences, shared_parameters


def test_paired_differences_on_known_arrays():
    totals = xr.DataArray(np.array([[1.0, 2.0, 3.0, 4.0], [1.5, 1.0, 3.5, 4.5]]), dims=("experiment", "sample"),
                          coords={"experiment": ["a", "b"]})
    row = paired_differences(totals).loc[("a", "b")]
    assert row["mean"] == pytest.approx(0.125)
    assert row["p_a_lt_b"] == pytest.approx(0.75)


def test_common_random_numbers_make_the_difference_narrow():
    comp = uf.compare(KWS, LOW, samples=2000, seed=4, design="mc")
    kws, low = (comp.totals["total"].sel(experiment=e).values for e in ("kws", "kws_low_carbon_grid"))
    # Only the grid differs, and with common random numbers both grids take the same quantile in each sample:
    # the low-carbon grid is worse only where the world grid's lower tail dips below France's range
    grid_low = comp.runs[1].results["inputs"].sel(parameter="grid_carbon_intensity").values
    grid_kws = comp.runs[0].results["inputs"].sel(parameter="grid_carbon_intensity").values
    np.testing.assert_array_equal(low <= kws, grid_low <= grid_kws)
    diff = comp.differences.loc[("kws", "kws_low_carbon_grid")]
    assert diff["p_a_lt_b"] == pytest.approx(np.mean(kws < low)) and diff["p_a_lt_b"] < 0.01
    assert diff["p97_5"] - diff["p2_5"] < 0.2 * (comp.table.loc["kws", "p97_5"] - comp.table.loc["kws", "p2_5"])
    assert "li_ion_battery_mass" in shared_parameters(comp)


def test_compare_cli_writes_files(tmp_path, capsys):
    out = tmp_path / "cmp"
    assert main(["compare", str(KWS), str(IC), "--out", str(out), "--samples", "300", "--seed", "2"]) == 0
    text = capsys.readouterr().out
    assert "P(A < B)" in text and "image_classification - kws" in text
    for name in ["comparison.nc", "comparison.csv", "differences.csv", "comparison.png", "comparison.pdf"]:
        assert (out / name).stat().st_size > 0
    with xr.open_dataset(out / "comparison.nc") as ds:
        assert ds["total"].dims == ("experiment", "sample") and ds.sizes["sample"] == 300


def test_compare_refuses_a_single_file(tmp_path, capsys):
    assert main(["compare", str(KWS), "--out", str(tmp_path / "y")]) == 2
    assert "at least two" in capsys.readouterr().err
    assert not (tmp_path / "y").exists()


def test_compare_refuses_a_design_without_common_random_numbers(tmp_path, capsys):
    import yaml

    raw = yaml.safe_load(KWS.read_text())
    raw["sampling"]["design"] = "sobol"
    path = tmp_path / "kws_sobol.yaml"
    path.write_text(yaml.safe_dump(raw))
    assert main(["compare", str(path), str(IC), "--out", str(tmp_path / "z"), "--samples", "64"]) == 2
    err = capsys.readouterr().err
    assert "sampling.design" in err and "common random" in err and "mc, lhs" in err
    assert not (tmp_path / "z").exists()


def test_a_comparison_with_correlated_inputs_has_no_exact_difference_shares():
    from tests.helpers import EXPERIMENTS_DIR
    from uncertainty_footprint.analysis.compare import compare_experiments
    from uncertainty_footprint.model.experiment import load_experiment

    exps = [load_experiment(KWS).with_sampling(samples=2000),
            load_experiment(EXPERIMENTS_DIR / "kws_correlated.yaml").with_sampling(samples=2000)]
    comp = compare_experiments(exps, labels=["kws", "kws_correlated"])
    assert comp.difference_variance is None
    assert "exact_sd" not in comp.differences.columns
    # the correlations widen the total but keep its mean: the paired difference is centred near zero
    assert abs(float(comp.differences.iloc[0]["mean"])) < 0.02
