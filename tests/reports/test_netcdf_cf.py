"""The netCDF files follow CF-1.10: pint-xarray quantifies them, cf_xarray reads them, and they are compressed
losslessly."""

from __future__ import annotations

import netCDF4
import numpy as np
import pytest
import xarray as xr

from conftest import IMAGE_CLASSIFICATION, KWS
from uncertainty_footprint.analysis.run import EngineOptions
from uncertainty_footprint.analysis.cf import (CONVENTIONS, FOOTPRINT_UNITS, annotate, annotate_tree, cf_unit,
                                               inputs_by_parameter, netcdf_encoding, tree_encoding)
from uncertainty_footprint.analysis.hotspots import to_datatree
from uncertainty_footprint.analysis.xarray_compat import write_datatree, write_netcdf
from uncertainty_footprint.inputs.units import UREG, parse_unit
from uncertainty_footprint.reports.folder import compare_to_folder, run_to_folder

pint = pytest.importorskip("pint")
pint_xarray = pytest.importorskip("pint_xarray")
cf_xarray = pytest.importorskip("cf_xarray")
from cf_xarray.units import units as CF_UNITS  # noqa: E402  (udunits-style registry of cf_xarray)

SOBOL = {"samples": 256, "second_order": True, "groupings": ["component", "parameter"]}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf") / "kws"
    with pytest.warns(Warning):  # N = 256 has not converged: one ConvergenceWarning per grouping
        result = run_to_folder(KWS, out, documents=False, samples=400, seed=3, sobol=SOBOL,
                               engine=EngineOptions(store="all"))
    return result, out


@pytest.fixture(scope="module")
def comparison(tmp_path_factory):
    out = tmp_path_factory.mktemp("cf") / "cmp"
    compare_to_folder([KWS, IMAGE_CLASSIFICATION], out, samples=300, seed=2)
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


def test_files_are_compressed_losslessly(run):
    result, out = run
    with netCDF4.Dataset(out / "results.nc") as nc:
        for name in ("footprint", "total", "inputs"):
            filters = nc[name].filters()
            assert filters["zlib"] and filters["shuffle"], name
            assert nc[name].chunking()[0] <= nc.dimensions["sample"].size
    with xr.open_dataset(out / "results.nc") as ds:
        for name in ("footprint", "total", "inputs"):
            np.testing.assert_array_equal(ds[name].values, result.results[name].values)


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


# ----------------------------------------------------- the write route without dask equals to_netcdf's files
def _dump(path) -> list:
    """Everything of a netCDF file, group by group: format, attributes, dimensions, and per variable its type,
    dimensions, filters (zlib, shuffle, level), chunk sizes, byte order, attributes and values."""
    def group(g, prefix, out):
        out += [("group", prefix, g.data_model, [(k, repr(g.getncattr(k))) for k in g.ncattrs()],
                 [(d, len(v), v.isunlimited()) for d, v in g.dimensions.items()])]
        for name, v in g.variables.items():
            v.set_auto_maskandscale(False)
            values = np.asarray(v[...])
            out.append(("variable", prefix + name, str(v.dtype), v.dimensions, v.filters(), v.chunking(),
                        v.endian(), [(k, repr(v.getncattr(k))) for k in v.ncattrs()],
                        values.tobytes() if values.dtype.kind != "O" else repr(values.tolist())))
        for name, sub in g.groups.items():
            group(sub, prefix + name + "/", out)
        return out

    with netCDF4.Dataset(path) as nc:
        return group(nc, "/", [])


def test_files_written_without_dask_equal_those_of_to_netcdf(run, tmp_path):
    result, out = run
    ds = annotate(result.results.copy())
    ds.to_netcdf(tmp_path / "reference.nc", encoding=netcdf_encoding(ds))
    write_netcdf(ds, tmp_path / "results.nc", encoding=netcdf_encoding(ds))
    reference = _dump(tmp_path / "reference.nc")
    assert any(e[0] == "variable" and e[4]["zlib"] and e[4]["shuffle"] and e[5] != "contiguous" for e in reference)
    for written in (tmp_path / "results.nc", out / "results.nc"):
        assert _dump(written) == reference
        assert written.read_bytes() == (tmp_path / "reference.nc").read_bytes()
    for name, indices in (("sobol.nc", result.sobol), ("exact.nc", result.exact)):
        tree = annotate_tree(to_datatree(indices))
        tree.to_netcdf(tmp_path / f"reference_{name}", encoding=tree_encoding(tree))
        write_datatree(tree, tmp_path / name, encoding=tree_encoding(tree))
        reference = _dump(tmp_path / f"reference_{name}")
        assert len([e for e in reference if e[0] == "group"]) > 1, name
        assert _dump(tmp_path / name) == reference == _dump(out / name), name
        assert (out / name).read_bytes() == (tmp_path / f"reference_{name}").read_bytes(), name


def test_writing_without_dask_validates_and_falls_back_as_to_netcdf(tmp_path):
    bad = xr.Dataset({"x": ("i", np.arange(3.0), {"note": None})})
    with pytest.raises(TypeError, match="Invalid value for attr 'note'") as ours:
        write_netcdf(bad, tmp_path / "bad.nc")
    with pytest.raises(TypeError) as theirs:
        bad.to_netcdf(tmp_path / "bad.nc")
    assert str(ours.value) == str(theirs.value) and not (tmp_path / "bad.nc").exists()
    with pytest.raises(ValueError, match="unexpected encoding group"):
        write_datatree(xr.DataTree(bad.drop_attrs(deep=True)), tmp_path / "tree.nc", encoding={"/nope": {}})
    assert not (tmp_path / "tree.nc").exists()
    da = pytest.importorskip("dask.array")
    lazy = xr.Dataset({"x": ("i", da.arange(8.0, chunks=4))}, attrs={"Conventions": CONVENTIONS})
    write_netcdf(lazy, tmp_path / "lazy.nc", encoding=netcdf_encoding(lazy))  # dask arrays: to_netcdf writes it
    lazy.to_netcdf(tmp_path / "reference.nc", encoding=netcdf_encoding(lazy))
    assert _dump(tmp_path / "lazy.nc") == _dump(tmp_path / "reference.nc")
