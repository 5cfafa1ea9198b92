"""A run that does not stream imports neither dask nor dask.distributed, and dask still works after it.

The import checks run in fresh processes (the test session itself imports dask for the streaming tests); each
inherits the session's private disk cache (``conftest``) and runs from the repository, so that it uses this
package.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types

import numpy as np
import pytest

from conftest import ROOT
from uncertainty_footprint.analysis import xarray_compat
from uncertainty_footprint.inputs.cache import CACHE_ENV

#: Prints which of dask's modules the process has imported (after the code before it ran).
REPORT = ("import json, sys; json.dump(sorted({m.split('.')[0] for m in sys.modules} & {'dask', 'distributed'}), "
          "open(sys.argv[1], 'w'))")


def _python(code: str, tmp_path, *args: str) -> list[str]:
    """Run ``code`` then :data:`REPORT` in a fresh interpreter; the dask packages it imported."""
    assert os.environ.get(CACHE_ENV), "conftest points the disk cache at a private folder"
    report = tmp_path / "modules.json"
    proc = subprocess.run([sys.executable, "-c", code + "\n" + REPORT, str(report), *args], cwd=ROOT,
                          env={**os.environ, "MPLBACKEND": "Agg"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(report.read_text())


CLI = "import sys; from uncertainty_footprint.cli import main; assert main({}) == 0"


@pytest.mark.parametrize("options", [[], ["--no-sobol", "--samples", "1000"],
                                     ["--sobol-method", "sampled", "--sobol-samples", "256", "--num-resamples", "10"]],
                         ids=["kws", "no-sobol-1000", "sampled-sobol"])
def test_a_run_from_the_command_line_imports_no_dask(options, tmp_path):
    out = tmp_path / "out"
    argv = ["run", "experiments/kws.yaml", "--no-figures", "--quiet", "--out", str(out), *options]
    assert _python(CLI.format(argv), tmp_path) == []
    assert (out / "results.nc").is_file() and (out / "exact.nc").is_file()
    assert (out / "sobol.nc").is_file() == ("sampled" in options)


def test_a_run_from_the_api_imports_no_dask(tmp_path):
    code = "import uncertainty_footprint as uf; r = uf.run('kws'); assert r.summary is not None"
    assert _python(code, tmp_path) == []


def test_a_streamed_run_imports_dask(tmp_path):
    """The check above sees dask when it is imported: a streamed run does import it."""
    argv = ["run", "experiments/kws.yaml", "--no-figures", "--quiet", "--no-sobol", "--samples", "1000",
            "--stream", "--out", str(tmp_path / "out")]
    assert "dask" in _python(CLI.format(argv), tmp_path)


AFTER = """
import json, sys
import numpy as np, xarray as xr
import uncertainty_footprint as uf
from uncertainty_footprint.analysis import xarray_compat
out = {"installed": xarray_compat.installed()}
memory = uf.run("kws", samples=2000, sobol=False, out=sys.argv[2], figures=False)
out["dask_before"] = "dask" in sys.modules
import dask.array as da
from xarray.namedarray.pycompat import array_type
from xarray.namedarray.utils import is_duck_dask_array
ds = xr.Dataset({"a": ("x", da.arange(10, chunks=5)), "m": ("x", da.ma.masked_less(da.arange(10, chunks=5), 3))})
out["chunks"] = [list(c) for c in ds["a"].chunks]
out["dask_data"] = isinstance(ds["a"].data, da.Array) and is_duck_dask_array(ds["a"].data)
out["array_type"] = array_type("dask") == (da.Array,)
out["lazy_sum"] = isinstance((ds["a"] * 2).sum().data, da.Array)
out["masked_filled"] = bool(np.isnan(ds["m"].values[:3]).all()) and ds["m"].values[3:].tolist() == list(range(3, 10))
streamed = uf.run("kws", samples=2000, sobol=False, stream=True, out=sys.argv[3], figures=False)
with xr.open_dataset(sys.argv[2] + "/results.nc") as a, xr.open_dataset(sys.argv[3] + "/results.nc") as b:
    out["same_footprint"] = a["footprint"].values.tobytes() == b["footprint"].values.tobytes()
    out["same_total"] = a["total"].values.tobytes() == b["total"].values.tobytes()
out["streamed"] = bool(streamed.results is not None and streamed.results["total"].chunks)
json.dump(out, open(sys.argv[4], "w"))
"""


def test_dask_works_after_a_run_without_it(tmp_path):
    """After a non-streamed run, xarray treats dask arrays as dask (lazy, chunked, masked arrays filled), and a
    streamed run writes the numbers of the in-memory run."""
    result = tmp_path / "after.json"
    code = AFTER.replace("sys.argv[4]", repr(str(result)))
    _python(code, tmp_path, str(tmp_path / "memory"), str(tmp_path / "streamed"))
    out = json.loads(result.read_text())
    assert out.pop("installed") == {"array_type": True, "is_dask_collection": True}
    assert out.pop("dask_before") is False
    assert out.pop("chunks") == [[5, 5]]
    assert out == dict.fromkeys(["dask_data", "array_type", "lazy_sum", "masked_filled", "same_footprint",
                                 "same_total", "streamed"], True)


# ------------------------------------------------------------------------------------------ the probes alone
def test_the_probe_is_empty_until_dask_array_is_imported(monkeypatch):
    made = []
    real = types.SimpleNamespace(type=(np.matrix,), version="9.9", available=True)
    probe = xarray_compat.LazyDaskProbe(lambda: made.append(1) or real)
    monkeypatch.delitem(sys.modules, "dask.array", raising=False)
    assert probe.type == () and made == []
    assert probe.version == "9.9" and probe.available and made == [1]  # other questions: xarray's probe
    monkeypatch.setitem(sys.modules, "dask.array", types.ModuleType("dask.array"))
    assert probe.type == (np.matrix,) and made == [1]  # built once
    with pytest.raises(AttributeError):
        getattr(probe, "_private")


def _module(name: str, source: str, **names) -> types.ModuleType:
    """A module ``name`` made of ``source`` (its functions look up its globals, as xarray's do)."""
    module = types.ModuleType(name)
    module.__dict__.update(names)
    exec(source, module.__dict__)
    return module


FAKE_UTILS = """
def is_dask_collection(x):
    asked.append(x)
    return True

def is_duck_dask_array(x):
    return is_dask_collection(x)
"""


def test_the_collection_test_asks_dask_only_for_a_dask_graph(monkeypatch):
    asked = []
    fake = _module("fake_utils", FAKE_UTILS, asked=asked)
    real = fake.is_dask_collection
    monkeypatch.delitem(sys.modules, "dask", raising=False)
    assert xarray_compat.install_collection_test(fake) and fake.is_dask_collection is not real
    assert xarray_compat.install_collection_test(fake) and fake.is_dask_collection.__wrapped__ is real  # once
    plain, graph = np.zeros(2), types.SimpleNamespace(__dask_graph__=lambda: {})
    assert fake.is_duck_dask_array(plain) is False and asked == []
    assert fake.is_duck_dask_array(graph) is True and asked == [graph]
    monkeypatch.setitem(sys.modules, "dask", types.ModuleType("dask"))
    assert fake.is_duck_dask_array(plain) is True and asked == [graph, plain]  # dask imported: dask decides


FAKE_PYCOMPAT = """
class DuckArrayModule:
    def __init__(self, mod):
        self.type = ("the real type",)

def _get_cached_duck_array_module(mod):
    if mod not in _cached_duck_array_modules:
        _cached_duck_array_modules[mod] = DuckArrayModule(mod)
    return _cached_duck_array_modules[mod]
"""


def test_the_probes_leave_other_xarray_internals_alone(monkeypatch):
    monkeypatch.delitem(sys.modules, "dask.array", raising=False)
    monkeypatch.delitem(sys.modules, "dask", raising=False)
    assert not xarray_compat.install_probe(types.ModuleType("no_cache"))
    other = _module("other", FAKE_PYCOMPAT.replace("_cached_duck_array_modules", "_elsewhere"),
                    _cached_duck_array_modules={}, _elsewhere={})
    assert not xarray_compat.install_probe(other) and other._cached_duck_array_modules == {}
    asked = _module("asked", FAKE_PYCOMPAT, _cached_duck_array_modules={})
    asked._get_cached_duck_array_module("dask")  # xarray has probed dask already: left as it is
    before = dict(asked._cached_duck_array_modules)
    assert not xarray_compat.install_probe(asked) and asked._cached_duck_array_modules == before
    fresh = _module("fresh", FAKE_PYCOMPAT, _cached_duck_array_modules={})
    assert xarray_compat.install_probe(fresh)
    assert fresh._get_cached_duck_array_module("dask").type == ()
    monkeypatch.setitem(sys.modules, "dask.array", types.ModuleType("dask.array"))
    assert fresh._get_cached_duck_array_module("dask").type == ("the real type",)
    foreign = _module("foreign", "from builtins import len as is_dask_collection\nis_duck_dask_array = len")
    assert not xarray_compat.install_collection_test(foreign) and foreign.is_dask_collection is len
