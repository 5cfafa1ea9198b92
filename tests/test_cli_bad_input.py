"""Every bad experiment gets one clear line on stderr, exit status 2, no traceback and no output folder.

Each case starts from ``experiments/kws.yaml`` (loaded with ``yaml.safe_load``), mutates it, writes it into
``tmp_path`` and runs ``cli.main(["run", file, "--out", tmp_path/"out", "--samples", "64", "--quiet"])``. The
one line must read ``error: <file>: <key.path>: <what is wrong and what is allowed>``.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pytest
import xarray as xr
import yaml

from tests.helpers import EXPERIMENTS, KWS
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.cli import main
from uncertainty_footprint.model.experiment import load_experiment
from uncertainty_footprint.model.builder import build_model

BAD_NAME = "bad_experiment.yaml"


def _base() -> dict:
    return yaml.safe_load(KWS.read_text(encoding="utf-8"))


def _set(path: tuple, value: Any) -> Callable[[dict], dict]:
    """A mutation setting ``data[path[0]][path[1]]... = value`` (creating mappings on the way)."""

    def mutate(data: dict) -> dict:
        cur = data
        for key in path[:-1]:
            cur = cur.setdefault(key, {})
        cur[path[-1]] = value
        return data

    return mutate


def _drop(key: str) -> Callable[[dict], dict]:
    return lambda data: {k: v for k, v in data.items() if k != key}


def _write(tmp_path: Path, mutate: Callable[[dict], Any] | None = None, text: str | bytes | None = None,
           name: str = BAD_NAME) -> Path:
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    elif text is not None:
        path.write_text(text, encoding="utf-8")
    else:
        data = mutate(copy.deepcopy(_base())) if mutate else _base()
        path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


def _run(path: Path, out: Path, capsys, *extra: str) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main(["run", str(path), "--out", str(out), "--samples", "64", "--quiet", *extra])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def _assert_one_clear_line(rc: int, out: str, err: str, path: Path, key: str, allowed: tuple[str, ...]) -> str:
    assert rc == 2, f"exit status {rc}, expected 2; stderr: {err!r}"
    assert "Traceback" not in err, err
    assert err.startswith("error: "), f"stderr must start with 'error: ', got {err!r}"
    assert err.endswith("\n") and err.count("\n") == 1, f"stderr must be exactly one line, got {err!r}"
    line = err.rstrip("\n")
    assert path.name in line, f"the file name {path.name!r} is missing from {line!r}"
    prefix = f"error: {path}: {key}: " if key else f"error: {path}: "
    assert line.startswith(prefix), f"expected the line to start with {prefix!r}, got {line!r}"
    missing = [a for a in allowed if a not in line]
    assert not missing, f"{line!r} does not say {missing}"
    assert out == "", f"--quiet run printed {out!r}"
    return line


def _assert_nothing_written(tmp_path: Path, *keep: str) -> None:
    assert not (tmp_path / "out").exists(), "a failed run must not create the output folder"
    left = sorted(set(os.listdir(tmp_path)) - set(keep))
    assert not left, f"leftover files or temporary folders in {tmp_path}: {left}"


# --------------------------------------------------------------------------------------------- the cases
@dataclass(frozen=True)
class Case:
    id: str
    key: str  # the key path the line must name ("" for whole-file problems)
    allowed: tuple[str, ...]  # phrases saying what is wrong / what is allowed
    mutate: Callable[[dict], Any] | None = None
    text: str | bytes | None = None


NEG_QUANTITY = {"casing_abs_mass": {"family": "uniform", "low": -5, "high": 3}}

CASES = [
    # blocks and HSLs
    Case("unknown-block", "blocks.housing", ("unknown block", "allowed: actuators", "casing", "user_interface"),
         _set(("blocks", "housing"), 1)),
    Case("hsl-7", "blocks.casing", ("HSL 7", "allowed: 0 (no casing)", "3 (large casing"),
         _set(("blocks", "casing"), 7)),
    Case("hsl-7-security", "blocks.security", ("HSL 3", "allowed: 0", "1 ("), _set(("blocks", "security"), 3)),
    Case("hsl-negative", "blocks.casing", ("HSL -1", "allowed: 0"), _set(("blocks", "casing"), -1)),
    Case("hsl-text", "blocks.casing", ("integer", "'one'"), _set(("blocks", "casing"), "one")),
    Case("hsl-float", "blocks.casing", ("integer", "1.5"), _set(("blocks", "casing"), 1.5)),
    Case("hsl-bool", "blocks.casing", ("integer", "True"), _set(("blocks", "casing"), True)),
    Case("hsl-mapping-bad-quantities", "blocks.casing.quantities", ("'pert'", "'triangular'", "'gauss'"),
         _set(("blocks", "casing"), {"hsl": 1, "quantities": "gauss"})),
    Case("hsl-mapping-unknown-key", "blocks.casing", ("unknown key 'level'", "allowed: hsl, quantities"),
         _set(("blocks", "casing"), {"hsl": 1, "level": 2})),
    Case("hsl-mapping-without-hsl", "blocks.casing.hsl", ("required",), _set(("blocks", "casing"), {"level": 1})),
    Case("blocks-not-mapping", "blocks", ("dictionary",), _set(("blocks",), [1, 2])),
    # distributions in parameter overrides
    Case("non-numeric", "parameters.lifetime", ("'low'", "'abc'", "must be a number"),
         _set(("parameters",), {"lifetime": {"family": "uniform", "low": "abc", "high": 3}})),
    Case("bool-in-distribution", "parameters.lifetime", ("'low'", "True", "must be a number"),
         _set(("parameters",), {"lifetime": {"family": "uniform", "low": True, "high": 3}})),
    Case("uniform-low-gt-high", "parameters.lifetime", ("needs low < high", "low=5", "high=3"),
         _set(("parameters",), {"lifetime": {"family": "uniform", "low": 5, "high": 3}})),
    Case("pert-low-gt-high", "parameters.lifetime", ("needs low <= mode <= high", "low=5", "high=3"),
         _set(("parameters",), {"lifetime": {"family": "pert", "low": 5, "mode": 4, "high": 3}})),
    Case("pert-mode-outside", "parameters.lifetime", ("needs low <= mode <= high", "mode=12"),
         _set(("parameters",), {"lifetime": {"family": "pert", "low": 1, "mode": 12, "high": 10}})),
    Case("unknown-family", "parameters.lifetime", ("'gauss'", "allowed: fixed(value)", "pert(low, mode, high"),
         _set(("parameters",), {"lifetime": {"family": "gauss", "mean": 3}})),
    Case("unknown-distribution-parameter", "parameters.lifetime", ("'mode'", "allowed: low, high"),
         _set(("parameters",), {"lifetime": {"family": "uniform", "low": 1, "mode": 2, "high": 3}})),
    Case("missing-distribution-parameter", "parameters.lifetime", ("'high'", "low, high"),
         _set(("parameters",), {"lifetime": {"family": "uniform", "low": 1}})),
    Case("gsd-one", "parameters.average_power", ("gsd > 1", "gsd=1"),
         _set(("parameters",), {"average_power": {"family": "lognormal", "median": 1, "gsd": 1}})),
    Case("sd-zero", "parameters.lifetime", ("sd > 0", "sd=0"),
         _set(("parameters",), {"lifetime": {"family": "truncnormal", "mean": 3, "sd": 0, "low": 1, "high": 9}})),
    Case("unknown-record-field", "parameters.lifetime", ("'colour'", "allowed: description, unit"),
         _set(("parameters",), {"lifetime": {"colour": "red"}})),
    Case("bad-status", "parameters.lifetime", ("'guess'", "quoted, inferred, assumed"),
         _set(("parameters",), {"lifetime": {"status": "guess"}})),
    Case("unknown-source", "parameters.lifetime", ("'nowhere'", "sources.yaml", "known: "),
         _set(("parameters",), {"lifetime": {"source": ["nowhere"]}})),
    Case("nominal-text", "parameters.lifetime", ("nominal", "'abc'", "must be a number"),
         _set(("parameters",), {"lifetime": {"nominal": "abc"}})),
    Case("unknown-parameter-override", "parameters.nonexistent_thing",
         ("not a parameter", "parameters: abs_plastic_factor", "lifetime"),
         _set(("parameters",), {"nonexistent_thing": 3})),
    Case("parameter-not-in-this-model", "parameters.sleep_power", ("not a parameter", "lifetime"),
         _set(("parameters",), {"sleep_power": 0.1})),  # only the 'inference' power model uses it
    # file-level problems
    Case("malformed-yaml", "", ("malformed YAML", "line"), text="name: x\nblocks: {casing: [1, 2\n"),
    Case("python-tag", "", ("not allowed", "python/object/apply:os.system", "use plain mappings"),
         text='name: x\nblocks: !!python/object/apply:os.system ["echo hi"]\n'),
    Case("top-level-list", "", ("must be a mapping", "allowed keys: name"), text="- name\n- blocks\n"),
    Case("top-level-scalar", "", ("must be a mapping", "allowed keys: name"), text="just text\n"),
    Case("empty-file", "", ("must be a mapping", "allowed keys: name"), text=""),
    Case("not-utf8", "", ("cannot be read",), text=b"name: \xff\xfe bad\n"),
    Case("unknown-top-level-key", "colour", ("unknown key 'colour'", "allowed: name, description"),
         _set(("colour",), "red")),
    Case("name-missing", "name", ("required",), _drop("name")),
    Case("name-not-text", "name", ("string", "3"), _set(("name",), 3)),
    # sampling
    Case("unknown-sampling-key", "sampling", ("unknown key 'sample'", "allowed: samples, seed, design"),
         _set(("sampling", "sample"), 5)),
    Case("samples-zero", "sampling.samples", ("greater than or equal to 2", "got 0"),
         _set(("sampling", "samples"), 0)),
    Case("samples-negative", "sampling.samples", ("greater than or equal to 2", "got -5"),
         _set(("sampling", "samples"), -5)),
    Case("samples-text", "sampling.samples", ("integer", "'many'"), _set(("sampling", "samples"), "many")),
    Case("seed-text", "sampling.seed", ("integer", "'abc'"), _set(("sampling", "seed"), "abc")),
    Case("seed-zero", "sampling.seed", ("greater than or equal to 1",), _set(("sampling", "seed"), 0)),
    Case("design-foo", "sampling.design", ("'mc', 'lhs' or 'sobol'", "'foo'"), _set(("sampling", "design"), "foo")),
    # model options
    Case("quantity-distribution", "quantity_distribution", ("'pert', 'triangular' or 'uniform'", "'normal'"),
         _set(("quantity_distribution",), "normal")),
    Case("training-model", "training.model", ("'energy' or 'published'", "'foo'"), _set(("training", "model"), "foo")),
    Case("power-model", "use_stage.power_model", ("'direct' or 'inference'", "'battery'"),
         _set(("use_stage", "power_model"), "battery")),
    # catalog names
    Case("unknown-application", "application", ("'toaster'", "allowed: keyword_spotting", "image_classification"),
         _set(("application",), "toaster")),
    Case("unknown-reference-device", "reference_devices[1]", ("'pixel'", "allowed: apple_watch_series_7"),
         _set(("reference_devices",), ["apple_watch_series_7", "pixel"])),
    Case("reference-devices-not-list", "reference_devices", ("list",), _set(("reference_devices",), "pixel")),
    # custom and extra components
    Case("unknown-component", "components.gizmo", ("unknown component", "allowed: actuators", "end_of_life"),
         _set(("components",), {"gizmo": {"family": "uniform", "low": 0.1, "high": 0.3}})),
    Case("custom-component-negative-support", "components.casing",
         ("must not allow negative values", "allowed: values in [0, inf)"),
         _set(("components",), {"casing": {"family": "normal", "mean": 0, "sd": 1}})),
    Case("custom-component-negative-fixed", "components.use_stage", ("must not allow negative values",),
         _set(("components",), {"use_stage": {"family": "fixed", "value": -0.5}})),
    Case("custom-component-bare-number", "components.use_stage", ("must be a mapping with 'family'", "allowed: "),
         _set(("components",), {"use_stage": 0.5})),
    Case("custom-component-bad-family", "components.casing", ("'gauss'", "allowed: fixed(value)"),
         _set(("components",), {"casing": {"family": "gauss"}})),
    Case("extra-component-negative-support", "extra_components.solar_cell.distribution",
         ("must not allow negative values", "allowed: values in [0, inf)"),
         _set(("extra_components",), {"solar_cell": {"distribution": {"family": "normal", "mean": 0, "sd": 1}}})),
    Case("extra-component-builtin-block", "extra_components.casing",
         ("built-in component", "use 'components'"),
         _set(("extra_components",), {"casing": {"distribution": {"family": "uniform", "low": 0.1, "high": 0.3}}})),
    Case("extra-component-builtin-use-stage", "extra_components.use_stage",
         ("built-in component", "use 'components'"),
         _set(("extra_components",), {"use_stage": {"distribution": {"family": "fixed", "value": 0.1}}})),
    Case("extra-component-builtin-training", "extra_components.ml_training",
         ("built-in component", "use 'components'"),
         _set(("extra_components",), {"ml_training": {"distribution": {"family": "fixed", "value": 0.1}}})),
    Case("extra-component-unknown-key", "extra_components.solar_cell",
         ("unknown key 'colour'", "allowed: distribution, stage"),
         _set(("extra_components",), {"solar_cell": {"distribution": 0.1, "colour": "red"}})),
    Case("extra-component-no-distribution", "extra_components.solar_cell.distribution", ("required",),
         _set(("extra_components",), {"solar_cell": {"stage": "manufacturing"}})),
    # methods
    Case("method-unknown", "methods.processing.nope", ("'nope' is not a method for processing",
                                                        "allowed: pirson_bol, act_die_area, boavizta_tide"),
         _set(("methods",), {"processing": {"pirson_bol": 1, "nope": 2}})),
    Case("method-list", "methods.processing", ("give one method name, or {method: weight, ...}",),
         _set(("methods",), {"processing": ["pirson_bol", "act_die_area"]})),
    Case("method-weight-text", "methods.processing", ("numbers as weights",),
         _set(("methods",), {"processing": {"pirson_bol": "half"}})),
    Case("method-negative-weight", "methods.processing.act_die_area", ("a weight is a number >= 0", "-1"),
         _set(("methods",), {"processing": {"pirson_bol": 1, "act_die_area": -1}})),
    Case("method-huge-weights", "methods.processing", ("must add up to a finite number",),
         _set(("methods",), {"processing": {"pirson_bol": 1e308, "act_die_area": 1e308}})),
    Case("method-not-a-block", "methods.use_stage", ("no methods for 'use_stage'", "truncation"),
         _set(("methods",), {"use_stage": "pirson_bol"})),
    Case("method-and-distribution", "methods.casing", ("methods or a distribution, not both",),
         lambda d: {**d, "methods": {"casing": "boavizta_tide"},
                    "components": {"casing": {"family": "fixed", "value": 0.3}}}),
]


@pytest.mark.parametrize("case", [pytest.param(c, id=c.id) for c in CASES])
def test_bad_experiment_gives_one_clear_line(case, tmp_path, capsys):
    path = _write(tmp_path, case.mutate, case.text)
    rc, out, err = _run(path, tmp_path / "out", capsys)
    _assert_one_clear_line(rc, out, err, path, case.key, case.allowed)
    _assert_nothing_written(tmp_path, path.name)


def test_missing_file(tmp_path, capsys):
    path = tmp_path / "no_such_experiment.yaml"
    rc, out, err = _run(path, tmp_path / "out", capsys)
    _assert_one_clear_line(rc, out, err, path, "", ("file not found",))
    _assert_nothing_written(tmp_path)


def test_directory_instead_of_file(tmp_path, capsys):
    path = tmp_path / "a_folder.yaml"
    path.mkdir()
    rc, out, err = _run(path, tmp_path / "out", capsys)
    _assert_one_clear_line(rc, out, err, path, "", ("cannot be read",))
    _assert_nothing_written(tmp_path, path.name)


NEGATIVE_OVERRIDES = [
    pytest.param("casing_abs_mass", {"family": "uniform", "low": -5, "high": 3}, id="quantity-uniform-below-zero"),
    pytest.param("lifetime", -3, id="lifetime-fixed-negative"),
    pytest.param("abs_plastic_factor", {"family": "normal", "mean": 0, "sd": 1}, id="factor-normal-around-zero"),
]


@pytest.mark.parametrize("name, spec", NEGATIVE_OVERRIDES)
def test_negative_quantity_override_is_refused(name, spec, tmp_path, capsys):
    path = _write(tmp_path, _set(("parameters",), {name: spec}))
    rc, out, err = _run(path, tmp_path / "out", capsys)
    assert rc == 2, (f"a parameter override allowing negative values ({name}: {spec}) must be refused with exit "
                     f"status 2, got exit {rc} and stderr {err!r}")
    _assert_one_clear_line(rc, out, err, path, f"parameters.{name}", ("negative",))
    _assert_nothing_written(tmp_path, path.name)


def test_non_text_block_key_names_a_key_path(tmp_path, capsys):
    path = _write(tmp_path, text="name: x\nblocks: {1: 2}\n")
    rc, out, err = _run(path, tmp_path / "out", capsys)
    assert rc == 2
    assert "[key]" not in err, f"pydantic internals leak into the key path: {err!r}"
    _assert_one_clear_line(rc, out, err, path, "blocks.1", ())


# --------------------------------------------------------------------------------------------- accepted input
def test_unquoted_1e_minus_3_is_accepted(tmp_path, capsys):
    """PyYAML reads ``1e-3`` (no dot) as text; the package must accept it as the number 0.001."""
    base_text = KWS.read_text(encoding="utf-8")
    assert "\nparameters:" not in base_text
    text = base_text + ("parameters:\n"
                        "  grid_carbon_intensity: {family: uniform, low: 1e-3, high: 5e-1}\n"
                        "  lifetime: 3e0\n")
    assert yaml.safe_load(text)["parameters"]["grid_carbon_intensity"]["low"] == "1e-3"  # the YAML 1.1 quirk
    path = _write(tmp_path, text=text, name="small_numbers.yaml")
    rc, out, err = _run(path, tmp_path / "out", capsys, "--store", "all", "--no-figures", "--no-sobol")
    assert rc == 0, f"a valid experiment with 1e-3 must run; stderr {err!r}"
    assert err == "" and out == ""
    assert {"results.nc", "summary.csv", "deterministic.csv"} <= set(os.listdir(tmp_path / "out"))
    model = build_model(load_experiment(path), load_catalog())
    grid = model.parameters["grid_carbon_intensity"].distribution
    assert grid.family == "uniform" and grid.params["low"] == 0.001 and grid.params["high"] == 0.5
    assert model.parameters["lifetime"].distribution.is_fixed
    assert model.parameters["lifetime"].nominal == 3.0
    with xr.open_dataset(tmp_path / "out" / "results.nc") as ds:
        inputs = ds["inputs"].sel(parameter="grid_carbon_intensity").values
        assert inputs.min() >= 0.001 and inputs.max() <= 0.5
        assert (ds["inputs"].sel(parameter="lifetime").values == 3.0).all()
    assert sorted(os.listdir(tmp_path)) == ["out", "small_numbers.yaml"]


# --------------------------------------------------------------------------------------------- existing output
def _snapshot(folder: Path) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.mark.parametrize("case_id", ["hsl-7", "malformed-yaml", "non-numeric"])
def test_existing_output_is_left_untouched_by_a_failed_run(case_id, tmp_path, capsys):
    good = _write(tmp_path, name="good.yaml")
    out = tmp_path / "out"
    rc, _, err = _run(good, out, capsys, "--no-figures", "--sobol-samples", "64")
    assert rc == 0, err
    before = _snapshot(out)
    assert {"results.nc", "summary.csv", "deterministic.csv"} <= set(before)
    out_stat = out.stat().st_ino

    case = next(c for c in CASES if c.id == case_id)
    bad = _write(tmp_path, case.mutate, case.text)
    rc, stdout, err = _run(bad, out, capsys)
    _assert_one_clear_line(rc, stdout, err, bad, case.key, case.allowed)
    assert out.stat().st_ino == out_stat, "the output folder was replaced"
    assert _snapshot(out) == before, "a failed run changed the previous output"
    assert sorted(os.listdir(tmp_path)) == sorted(["good.yaml", bad.name, "out"]), "leftover temporary folders"


# --------------------------------------------------------------------------------------------- validate
@pytest.mark.parametrize("path", EXPERIMENTS, ids=lambda p: p.name)
def test_validate_shipped_experiments(path, capsys):
    assert main(["validate", str(path), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""
    assert main(["validate", str(path)]) == 0
    assert "valid" in capsys.readouterr().out


@pytest.mark.parametrize("case_id", ["hsl-7", "unknown-family", "python-tag", "design-foo"])
def test_validate_bad_experiment(case_id, tmp_path, capsys):
    case = next(c for c in CASES if c.id == case_id)
    path = _write(tmp_path, case.mutate, case.text)
    capsys.readouterr()
    rc = main(["validate", str(path), "--quiet"])
    captured = capsys.readouterr()
    _assert_one_clear_line(rc, captured.out, captured.err, path, case.key, case.allowed)
    assert sorted(os.listdir(tmp_path)) == [path.name]


def test_validate_missing_file(tmp_path, capsys):
    path = tmp_path / "missing.yaml"
    rc = main(["validate", str(path)])
    captured = capsys.readouterr()
    _assert_one_clear_line(rc, captured.out, captured.err, path, "", ("file not found",))


# --------------------------------------------------------------------------------------------- command line
@pytest.mark.parametrize("args", [
    pytest.param(["--samples", "abc"], id="samples-abc"),
    pytest.param(["--samples", "0"], id="samples-0"),
    pytest.param(["--samples", "-3"], id="samples-negative"),
    pytest.param(["--samples", "2.5"], id="samples-fraction"),
    pytest.param(["--seed", "abc"], id="seed-abc"),
    pytest.param(["--design", "foo"], id="design-foo"),
    pytest.param(["--format", "parquet"], id="format-parquet"),
    pytest.param(["--samples", "1\x1b[31m" + "9" * 5000], id="samples-escape-and-long"),
    pytest.param(["--x\x9b\x1b[31m"], id="unknown-argument-with-controls"),  # argparse quotes it raw
])
def test_bad_command_line_is_refused_by_argparse(args, tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["run", str(KWS), "--out", str(tmp_path / "out"), "--quiet", *args])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    # one line, no raw control character, never the whole argument
    assert err.count("\n") == 1 and "error: " in err and "--help" in err, err
    assert "\x1b" not in err and "\x9b" not in err and len(err) < 500
    assert args[0][:3] in err, f"the message should name the option {args[0]}: {err!r}"
    assert not (tmp_path / "out").exists()
    assert os.listdir(tmp_path) == []


def test_command_line_samples_override_below_minimum(tmp_path, capsys):
    """``--samples 1`` passes argparse (a positive integer) but the schema needs >= 2: one clear line."""
    rc = main(["run", str(KWS), "--out", str(tmp_path / "out"), "--samples", "1", "--quiet"])
    captured = capsys.readouterr()
    assert rc == 2, captured.err
    assert captured.err.startswith("error: ") and captured.err.count("\n") == 1
    assert "sampling.samples" in captured.err and "greater than or equal to 2" in captured.err
    assert "Traceback" not in captured.err
    assert os.listdir(tmp_path) == []
