"""The netCDF files follow CF-1.10: pint-xarray quantifies them, cf_xarray reads them, and they are compressed
losslessly."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest
import xarray as xr

import uncertainty_footprint as uf
from tests.helpers import IMAGE_CLASSIFICATION, KWS
from uncertainty_footprint.analysis.hotspots import from_datatree
from uncertainty_footprint.inputs.units import FOOTPRINT_UNITS, UREG, cf_unit, parse_unit
from uncertainty_footprint.io.netcdf import CONVENTIONS, inputs_by_parameter, netcdf_encoding, write_dataset, \
    write_groups

pint = pytest.importorskip("pint")
pint_xarray = pytest.importorskip("pint_xarray")
cf_xarray = pytest.importorskip("cf_xarray")
from cf_xarray.units import units as CF_UNITS  # noqa: E402  (udunits-style registry of cf_xarray)

SOBOL = {"samples": 256, "second_order": True, "groupings": ["component", "parameter"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf") / "kws"
    with pytest.warns(Warning):  # N = 256 has not converged: one ConvergenceWarning per grouping
        result = uf.run(KWS, out=out, figures=False, samples=400, seed=3, sobol=SOBOL,
                        engine=uf.EngineOptions(store="all"))
    return result, out


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf") / "cmp"
    uf.compare(KWS, IMAGE_CLASSIFICATION, out=out, samples=300, seed=2)
    return out / "comparison.nc"


def _nodes(path):
    with xr.open_datatree(path) as tree:
        return [node.to_dataset(inherit=False).load() for node in tree.subtree if node.variables]


def _files(run, comparison):
    _, out = run
    return {"results.nc": [xr.load_dataset(out / "results.nc")], "sobol.nc": _nodes(out / "sobol.nc"),
            "exact.nc": _nodes(out / "exact.nc"), "comparison.nc": [xr.load_dataset(comparison)]}


def test_every_file_is_cf_with_long_names_and_parseable_units(run, comparison):
    default = pint.UnitRegistry()
    for name, datasets in _files(run, comparison).items():
        assert datasets, name
        for ds in datasets:
            assert ds.attrs["Conventions"] == CONVENTIONS, name
            for var_name, var in ds.variables.items():
                assert var.attrs.get("long_name"), f"{name}: {var_name} has no long_name"
                if "units" in var.attrs:
                    default.Unit(var.attrs["units"])  # pint parses it
                    CF_UNITS.Unit(var.attrs["units"])  # and so does cf_xarray's udunits-style registry


def test_pint_xarray_quantifies_footprints_in_kg_and_round_trips(run):
    result, out = run
    ds = xr.load_dataset(out / "results.nc")
    q = ds.pint.quantify()
    assert q["total"].pint.units == pint_xarray.unit_registry.kg
    assert "CO2-eq" in ds["total"].attrs["quantity"] and ds["total"].attrs["units"] == FOOTPRINT_UNITS
    back = q.pint.dequantify()
    assert back["footprint"].attrs["units"] == "kilogram" or back["footprint"].attrs["units"] == "kg"
    np.testing.assert_array_equal(back["footprint"].values, result.results["footprint"].values)
    grams = q["total"].pint.to("g")
    np.testing.assert_allclose(grams.pint.magnitude, 1000 * ds["total"].values)
    # the mixed-unit inputs: no units on the array, one unit per parameter in units_cf, one variable each
    assert "units" not in ds["inputs"].attrs
    per = inputs_by_parameter(ds).pint.quantify()
    assert per["lifetime"].pint.units == pint_xarray.unit_registry.common_year
    np.testing.assert_array_equal(per["lifetime"].pint.magnitude, ds["inputs"].sel(parameter="lifetime").values)


def test_cf_xarray_links_each_index_to_its_interval(run):
    _, out = run
    with xr.open_dataset(out / "sobol.nc") as root:
        assert root.cf.get_associated_variable_names("ST")["ancillary_variables"] == ["ST_conf"]
        assert root.cf.get_associated_variable_names("S2")["ancillary_variables"] == ["S2_conf"]
        assert root["ST"].attrs["units"] == "1"


def test_cf_units_equal_the_project_units_without_co2_eq(catalog):
    for p in catalog.parameters.values():
        text = cf_unit(p.unit)
        CF_UNITS.Unit(text)
        project = UREG.Quantity(1.0, parse_unit(p.unit))
        cf = UREG.Quantity(1.0, UREG.parse_units(text))
        ratio = (project / cf).to_base_units()
        if "CO2" in p.unit:
            ratio = ratio / UREG.Quantity(1.0, "CO2_eq")
        assert ratio.dimensionless and ratio.magnitude == pytest.approx(1.0), (p.unit, text)


def test_per_sample_doubles_are_stored_plain_and_the_rest_compressed_losslessly(run):
    """Random doubles barely compress (benchmarks/store_benchmark.py): footprints, totals and inputs are stored
    uncompressed, chunked along sample; the sample numbers and coordinates with zlib and shuffle."""
    result, out = run
    with netCDF4.Dataset(out / "results.nc") as nc:
        for name in ("footprint", "total", "inputs"):
            filters = nc[name].filters()
            assert not filters["zlib"] and not filters["shuffle"], name
            assert nc[name].chunking()[0] <= nc.dimensions["sample"].size
        for name in ("sample", "nominal"):
            filters = nc[name].filters()
            assert filters["zlib"] and filters["shuffle"], name
    with xr.open_dataset(out / "results.nc") as ds:
        for name in ("footprint", "total", "inputs"):
            np.testing.assert_array_equal(ds[name].values, result.results[name].values)
    enc = netcdf_encoding(result.results, compress_samples=True)
    assert enc["footprint"]["zlib"] and enc["footprint"]["shuffle"]


def test_encoding_chunks_whole_rows_in_powers_of_two():
    ds = xr.Dataset({"footprint": (("sample", "component"), np.zeros((100_000, 15))),
                     "total": ("sample", np.zeros(100_000)), "label": ("component", ["a"] * 15)})
    enc = netcdf_encoding(ds, chunk_bytes=1 << 20)
    rows, cols = enc["footprint"]["chunksizes"]
    assert cols == 15 and rows == 8192 and rows * 15 * 8 <= 1 << 20
    assert enc["total"]["chunksizes"] == (100_000,)  # 1 MiB holds 131072 rows: one chunk
    assert netcdf_encoding(ds, chunk_bytes=1 << 19)["total"]["chunksizes"] == (65536,)
    assert "label" not in enc  # text is left as it is


def test_sobol_s2_csv_carries_the_second_order_indices_of_sobol_nc(run):
    import pandas as pd

    _, out = run
    pairs = pd.read_csv(out / "sobol_s2.csv")
    with xr.open_dataset(out / "sobol.nc") as root:
        s2 = root["S2"].load()
    names = [str(n) for n in s2["parameter"].values]
    for _, r in pairs[pairs["grouping"] == "parameter"].head(20).iterrows():
        i, j = sorted((names.index(r["a"]), names.index(r["b"])))
        assert r["S2"] == pytest.approx(float(s2.values[i, j]), rel=1e-5, abs=1e-9)


# ----------------------------------------------------- round trips
def test_results_and_indices_round_trip_through_their_files(run, tmp_path):
    """What the writers write reads back as the numbers computed (xarray's own netCDF path, lossless); the
    in-memory Dataset is not changed by writing."""
    result, out = run
    before = result.results.copy(deep=True)
    write_dataset(result.results, tmp_path / "results.nc", {"seed": 3})
    xr.testing.assert_identical(result.results, before)
    with xr.open_dataset(tmp_path / "results.nc") as back:
        for name in ("footprint", "total", "inputs"):
            assert back[name].values.tobytes() == result.results[name].values.tobytes()
        assert back.attrs["seed"] == 3 and back.attrs["Conventions"] == CONVENTIONS
    for indices in (result.sobol, result.exact):
        write_groups(indices, tmp_path / "indices.nc", {"design": "x"})
        with xr.open_datatree(tmp_path / "indices.nc") as tree:
            back = from_datatree(tree.load())
        assert set(back) == set(indices)
        for grouping, ds in indices.items():
            for name, var in ds.data_vars.items():
                np.testing.assert_array_equal(back[grouping][name].values, var.values)
            assert back[grouping].attrs["design"] == "x"


def test_a_failed_write_leaves_an_empty_file(tmp_path):
    bad = xr.Dataset({"x": ("i", np.arange(3.0), {"note": None})})  # an attribute netCDF cannot store
    with pytest.raises(TypeError, match="Invalid value for attr 'note'"):
        write_dataset(bad, tmp_path / "bad.nc")
    assert not (tmp_path / "bad.nc").exists() or (tmp_path / "bad.nc").stat().st_size == 0
