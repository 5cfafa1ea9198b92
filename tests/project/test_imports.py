"""A run does not import ``scipy.stats`` (0.6 s) unless it needs it.

Each check runs in a fresh process (a module imported by an earlier test would hide an import), from the
repository's folder (so it imports this checkout's package) with a private cache folder
(:data:`~uncertainty_footprint.inputs.cache.CACHE_ENV`, as ``conftest.py`` does for the test session).
"""

from __future__ import annotations

import pytest

import json
import os
import subprocess
import sys

from tests.helpers import KWS, ROOT

from uncertainty_footprint.inputs.cache import CACHE_ENV

pytestmark = pytest.mark.slow  # fresh processes

#: Writes to argv[1] whether scipy.stats was imported by running the command line with argv[2:].
RUN_AND_REPORT = """
import json, sys
from uncertainty_footprint import cli
status = cli.main(sys.argv[2:])
with open(sys.argv[1], "w") as f:
    json.dump({"status": status, "scipy.stats": "scipy.stats" in sys.modules}, f)
"""

#: What a run writes without the Sobol' analysis and the figures.
RUN_FILES = ("results.nc", "summary.csv", "deterministic.csv", "exact.nc", "exact.csv")


def _python(code: str, *args, cache) -> subprocess.CompletedProcess:
    env = {**os.environ, CACHE_ENV: str(cache)}
    return subprocess.run([sys.executable, "-c", code, *map(str, args)], cwd=ROOT, env=env, capture_output=True,
                          text=True, timeout=600, check=False)


def _run(tmp_path, out: str, cache) -> dict:
    report = tmp_path / f"{out}.json"
    proc = _python(RUN_AND_REPORT, report, "run", KWS, "--no-sobol", "--no-figures", "--samples", "1000",
                   "--quiet", "--out", tmp_path / out, cache=cache)
    assert proc.returncode == 0, proc.stderr
    return json.loads(report.read_text())


def test_a_run_with_a_warm_cache_does_not_import_scipy_stats(tmp_path):
    """The second run of ``run kws --no-sobol --no-figures`` (Monte Carlo and the exact decomposition) finds its
    inverse-CDF tables and its distributions' moments and supports in the cache folder: it never imports
    scipy.stats, and writes the same bytes as the first run, which built them."""
    cache = tmp_path / "cache"
    first = _run(tmp_path, "first", cache)
    assert first["status"] == 0
    assert {p.suffix for p in cache.iterdir()} >= {".npz", ".json"}  # tables; moments and supports
    second = _run(tmp_path, "second", cache)
    assert second == {"status": 0, "scipy.stats": False}
    for name in RUN_FILES:  # the exact decomposition ran too (exact.nc, exact.csv)
        assert (tmp_path / "second" / name).read_bytes() == (tmp_path / "first" / name).read_bytes(), name


def test_importing_the_analysis_modules_does_not_import_scipy_stats(tmp_path):
    code = ("import sys\n"
            "import uncertainty_footprint.analysis.sobol, uncertainty_footprint.analysis.designs\n"
            "import uncertainty_footprint.analysis.exact, uncertainty_footprint.inputs.catalog\n"
            "from uncertainty_footprint.inputs.distributions import make_distribution\n"
            "d = make_distribution({'family': 'uniform', 'low': 1, 'high': 2})\n"
            "print(d.is_fixed, d.central, 'scipy.stats' in sys.modules)")
    proc = _python(code, cache=tmp_path / "cache")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "1.5", "False"]


def test_commands_import_only_what_they_need(tmp_path):
    """A --no-figures run (with the sampled Sobol' analysis) imports neither matplotlib nor SALib, and list and
    validate none of the figures' libraries (one fresh process)."""
    import subprocess
    import sys

    code = f"""
import contextlib, io, sys
from uncertainty_footprint.cli import main

with contextlib.redirect_stdout(io.StringIO()):
    assert main(["list", "blocks"]) == 0
    assert main(["validate", "kws", "--quiet"]) == 0
assert "distributed" not in sys.modules and "matplotlib" not in sys.modules, "list/validate imported too much"
assert main(["run", "kws", "--samples", "200", "--sobol-samples", "16", "--no-figures", "--quiet",
             "--out", {str(tmp_path / "out")!r}]) == 0
heavy = sorted(m for m in ("matplotlib", "PIL", "fontTools", "SALib") if m in sys.modules)
assert not heavy, heavy  # the version stamp reads metadata only; figures and the SALib oracle are not needed
"""
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]


# ------------------------------------------------------------------------------------------------ templates
