"""One provenance stamp on results.nc, sobol.nc and comparison.nc; the stamp imports none of the libraries."""

import json
import warnings

import numpy as np

from conftest import KWS, LOW_CARBON_GRID
from uncertainty_footprint.analysis.compare import compare_experiments
from uncertainty_footprint.analysis.provenance import LIBRARIES, provenance, versions
from uncertainty_footprint.analysis.run import run_experiment
from uncertainty_footprint.warnings import ConvergenceWarning

STAMP = {"experiment", "seed", "design", "config_sha256", "model_sha256", "versions", "created_by"}


def test_results_sobol_and_comparison_carry_the_same_stamp(tmp_path):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a tiny Sobol' base sample, only its attrs matter
        run = run_experiment(KWS, samples=128, seed=3, sobol={"samples": 16})
    comp = compare_experiments([KWS, LOW_CARBON_GRID], samples=128, seed=3, design="mc")
    files = {"results.nc": run.results.attrs, **{f"sobol.nc {g}": ds.attrs for g, ds in run.sobol.items()},
             "comparison.nc": comp.totals.attrs}
    for name, attrs in files.items():
        missing = STAMP - set(attrs)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert json.loads(attrs["versions"]) == versions(), name
        assert attrs["created_by"] == files["results.nc"]["created_by"]
    res = run.results.attrs
    assert (res["experiment"], res["seed"], res["design"]) == (run.experiment.name, 3, "lhs")
    assert (res["config_sha256"], res["model_sha256"]) == (run.experiment.sha256, run.model.fingerprint())
    for attrs in (ds.attrs for ds in run.sobol.values()):
        assert (attrs["design"], attrs["seed"], attrs["model_sha256"]) == ("saltelli", 3, res["model_sha256"])
    cmp = comp.totals.attrs
    assert cmp["experiment"].split(";") == [r.experiment.name for r in comp.runs]
    assert cmp["config_sha256"].split(";") == [r.experiment.sha256 for r in comp.runs]
    assert cmp["model_sha256"].split(";") == [r.model.fingerprint() for r in comp.runs]
    assert (cmp["seed"], cmp["design"]) == (3, "mc")
    # netCDF keeps the stamp as it is
    path = tmp_path / "c.nc"
    comp.totals.to_netcdf(path)
    import xarray as xr

    with xr.open_dataset(path) as back:
        assert {k: str(v) for k, v in back.attrs.items() if k in STAMP} == {k: str(cmp[k]) for k in STAMP}


def test_versions_name_every_library_and_match_the_installed_ones():
    import numpy
    import scipy

    v = versions()
    assert set(v) == {"python", "uncertainty_footprint", *LIBRARIES}
    assert v["numpy"] == numpy.__version__ and v["scipy"] == scipy.__version__
    assert provenance(experiment=["a", "b"], seed=np.int64(2), design="mc", config_sha256=["x", "y"],
                      model_sha256="z", note="n") == {
        "Conventions": "CF-1.10", "experiment": "a;b", "seed": 2, "design": "mc", "config_sha256": "x;y", "model_sha256": "z",
        "versions": json.dumps(v, sort_keys=True), "created_by": f"uncertainty_footprint {v['uncertainty_footprint']}",
        "note": "n"}



def test_an_imported_library_states_the_version_its_distribution_records():
    """A version is read off the imported module where there is one (no metadata files read): the same text
    as the installed distribution's metadata, for every library of the stamp."""
    import importlib
    from importlib.metadata import PackageNotFoundError, version

    from uncertainty_footprint.analysis.provenance import MODULES

    v = versions()
    for key, distribution in LIBRARIES.items():
        try:
            expected = version(distribution)
        except PackageNotFoundError:
            assert v[key] == "not installed"
            continue
        importlib.import_module(MODULES.get(key, key))
        assert v[key] == expected, key
