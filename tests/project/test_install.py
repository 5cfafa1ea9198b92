"""A built wheel installs into a fresh virtual environment and runs the main job from any folder.

The wheel is built offline from a copy of the sources (``pip wheel --no-deps --no-build-isolation``), so the
working tree gets no ``build/`` folder. The new virtual environment sees the packages of the interpreter that runs
the tests (a ``.pth`` file lists its site-packages folders: the dependencies come from there, whether the tests run
in a virtual environment or not) and gets the wheel with ``--no-deps``; the test checks that it imports the
installed copy, not the checkout, that every data file of the package was installed, and runs
``run kws --samples 300 --no-sobol --no-figures`` from a temporary folder.
"""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

from tests.helpers import PKG, ROOT

pytestmark = pytest.mark.slow  # fresh processes

SOURCES = ("pyproject.toml", "README.md", "LICENSE")


def _data_files(package: Path) -> set[str]:
    """Every file of the package that is not Python source or bytecode (data, templates, markers)."""
    return {p.relative_to(package).as_posix() for p in package.rglob("*")
            if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts}


def _can_build_offline() -> str | None:
    try:
        import setuptools
    except ImportError:
        return "setuptools is not installed"
    major_minor = tuple(int(x) for x in setuptools.__version__.split(".")[:2])
    if major_minor < (70, 1) and importlib.util.find_spec("wheel") is None:
        return f"setuptools {setuptools.__version__} needs the 'wheel' package to build a wheel (pip install wheel)"
    return None


def _run(cmd, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{' '.join(map(str, cmd))} failed ({proc.returncode}):\n{proc.stdout}\n{proc.stderr}"
    return proc


def test_wheel_installs_and_runs_from_any_folder(tmp_path):
    reason = _can_build_offline()
    if reason:
        pytest.skip(reason)
    src = tmp_path / "src"
    src.mkdir()
    for name in SOURCES:
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, src / name)
    shutil.copytree(PKG, src / PKG.name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "UNCERTAINTY_FOOTPRINT_DATA")}
    env.update(MPLBACKEND="Agg", PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_NO_INPUT="1")

    dist = tmp_path / "dist"
    _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index", "-q", "-w", dist,
          src], env=env, cwd=tmp_path)
    wheels = list(dist.glob("uncertainty_footprint-*.whl"))
    assert len(wheels) == 1, os.listdir(dist)

    env_dir = tmp_path / "venv"
    venv.EnvBuilder(system_site_packages=False, with_pip=False, symlinks=True).create(env_dir)
    python = env_dir / "bin" / "python"
    own = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"], env=env).stdout.strip()
    outer = [p for p in dict.fromkeys([*site.getsitepackages(), sysconfig.get_paths()["purelib"],
                                       sysconfig.get_paths()["platlib"]]) if os.path.isdir(p)]
    Path(own, "test_dependencies.pth").write_text("\n".join(outer) + "\n")  # after the venv's own packages
    _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "--no-index", "--ignore-installed",
          "-q", wheels[0]], env=env, cwd=tmp_path)

    work = tmp_path / "work"
    work.mkdir()
    probe = ("import json, pathlib, uncertainty_footprint as u; from uncertainty_footprint.inputs.examples import "
             "example_text; p = pathlib.Path(u.__file__).parent; print(json.dumps({'file': u.__file__, 'data': "
             "sorted(q.relative_to(p).as_posix() for q in p.rglob('*') if q.is_file() and q.suffix not in "
             "('.py', '.pyc') and '__pycache__' not in q.parts), 'kws': example_text('kws')}))")
    info = json.loads(_run([python, "-c", probe], env=env, cwd=work).stdout)
    installed = Path(info["file"]).resolve()
    assert env_dir.resolve() in installed.parents, f"imported {installed}, not the wheel in {env_dir}"
    missing = _data_files(PKG) - set(info["data"])
    assert not missing, f"files of the package missing from the wheel: {sorted(missing)}"
    assert info["kws"] == (PKG / "data" / "experiments" / "kws.yaml").read_text(encoding="utf-8")

    proc = _run([python, "-m", "uncertainty_footprint", "run", "kws", "--samples", "300", "--no-sobol", "--no-figures"],
                env=env, cwd=work)
    assert "TOTAL" in proc.stdout and "Traceback" not in proc.stderr
    out = work / "results" / "kws"
    assert {"results.nc", "summary.csv", "deterministic.csv", ".uncertainty_footprint.json"} <= set(os.listdir(out))
    assert not list((installed.parent / "data").rglob("results*")), "output went into the installed package"
