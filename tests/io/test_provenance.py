"""One provenance stamp on results.nc, sobol.nc and comparison.nc; the stamp imports none of the libraries."""

import json
import warnings

import numpy as np

from tests.helpers import KWS, LOW_CARBON_GRID
import uncertainty_footprint as uf
from uncertainty_footprint.io.provenance import LIBRARIES, provenance, versions
import xarray as xr
from uncertainty_footprint.warnings import ConvergenceWarning

STAMP = {"experiment", "seed", "design", "config_sha256", "model_sha256", "versions", "created_by"}


def test_results_sobol_and_comparison_carry_the_same_stamp(tmp_path):
    """The files are stamped when written; the stamp is the run's (uf.provenance gives it in memory too)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # a tiny Sobol' base sample, only its attrs matter
        run = uf.run(KWS, samples=128, seed=3, sobol={"samples": 16}, out=tmp_path / "run", figures=False)
    comp = uf.compare(KWS, LOW_CARBON_GRID, samples=128, seed=3, design="mc", out=tmp_path / "cmp")
    files = {"results.nc": xr.open_dataset(tmp_path / "run" / "results.nc").attrs,
             **{f"sobol.nc {node.path}": node.attrs
                for node in xr.open_datatree(tmp_path / "run" / "sobol.nc").subtree},
             **{f"exact.nc {node.path}": node.attrs
                for node in xr.open_datatree(tmp_path / "run" / "exact.nc").subtree},
             "comparison.nc": xr.open_dataset(tmp_path / "cmp" / "comparison.nc").attrs}
    for name, attrs in files.items():
        missing = STAMP - set(attrs)
        assert not missing, f"{name} lacks {sorted(missing)}"
        assert json.loads(attrs["versions"]) == versions(), name
        assert attrs["created_by"] == files["results.nc"]["created_by"]
    res = files["results.nc"]
    assert (res["experiment"], res["seed"], res["design"]) == (run.experiment.name, 3, "lhs")
    assert (res["config_sha256"], res["model_sha256"]) == (run.experiment.sha256, run.model.fingerprint())
    assert {k: str(v) for k, v in uf.provenance(run).items() if k != "versions"} == \
        {k: str(v) for k, v in res.items() if k != "versions"}
    for name, attrs in files.items():
        if name.startswith("sobol.nc"):
            assert (attrs["design"], attrs["seed"], attrs["model_sha256"]) == ("saltelli", 3, res["model_sha256"])
        if name.startswith("exact.nc"):
            assert (attrs["design"], attrs["seed"], attrs["model_sha256"]) == ("exact", 0, res["model_sha256"])
    cmp = files["comparison.nc"]
    assert cmp["experiment"].split(";") == [r.experiment.name for r in comp.runs]
    assert cmp["config_sha256"].split(";") == [r.experiment.sha256 for r in comp.runs]
    assert cmp["model_sha256"].split(";") == [r.model.fingerprint() for r in comp.runs]
    assert (cmp["seed"], cmp["design"]) == (3, "mc")


def test_the_engine_returns_plain_results():
    """Provenance and CF attributes are stamped when a file is written, not by the engine."""
    run = uf.run(KWS, samples=64, seed=3)
    assert not {"seed", "versions", "Conventions"} & set(run.results.attrs)
    assert run.results["total"].attrs["units"] == "kg"  # units belong to the numbers


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

    from uncertainty_footprint.io.provenance import MODULES

    v = versions()
    for key, distribution in LIBRARIES.items():
        try:
            expected = version(distribution)
        except PackageNotFoundError:
            assert v[key] == "not installed"
            continue
        importlib.import_module(MODULES.get(key, key))
        assert v[key] == expected, key
