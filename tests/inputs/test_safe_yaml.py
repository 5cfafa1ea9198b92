"""Hostile or careless YAML: duplicate keys, alias bombs, huge files, deep nesting, huge values.

Each case writes a file into ``tmp_path`` and runs ``cli.main(["run", FILE, "--out", tmp_path/"out", ...])`` (or
``validate``): exit status 2, exactly one line ``error: FILE: key.path: ...`` that names a line of the file, no
traceback and no output folder. The time and memory of these refusals are measured by
``benchmarks/yaml_safety.py``, not here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT, copy_data
from uncertainty_footprint.cli import main
from uncertainty_footprint.errors import ConfigError, shorten
from uncertainty_footprint.inputs import safe_yaml
from uncertainty_footprint.inputs.catalog import load_catalog

KWS_TEXT = (ROOT / "experiments" / "kws.yaml").read_text(encoding="utf-8")
MIB = 1 << 20


def _bomb(indent: str = "  ") -> str:
    """Anchors that expand to 9**9 (about 4e8) strings: a few hundred bytes."""
    lines = [f'{indent}l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    lines += [f"{indent}l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * 9) + "]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def _run(path: Path, tmp_path: Path, capsys, command: str = "run") -> tuple[int, str]:
    capsys.readouterr()
    args = [command, str(path), "--quiet"]
    if command == "run":
        args += ["--out", str(tmp_path / "out"), "--samples", "64", "--no-sobol", "--no-figures"]
    rc = main(args)
    captured = capsys.readouterr()
    assert captured.out == "", captured.out
    return rc, captured.err


def _assert_refused(rc: int, err: str, path: Path, key: str, *phrases: str, tmp_path: Path) -> str:
    assert rc == 2, f"exit status {rc}, expected 2; stderr {err[:300]!r}"
    assert "Traceback" not in err
    assert err.startswith(f"error: {path}: ") and err.endswith("\n") and err.count("\n") == 1, err[:300]
    line = err.rstrip("\n")
    if key:
        assert line.startswith(f"error: {path}: {key}: "), line
    assert "line " in line, f"the message must name a line of the file: {line!r}"
    missing = [p for p in phrases if p not in line]
    assert not missing, f"{line!r} does not say {missing}"
    assert len(line) < 300, f"the message is {len(line)} characters long"
    assert not (tmp_path / "out").exists(), "a refused file must not create the output folder"
    assert sorted(os.listdir(tmp_path)) == [path.name], "leftover files"
    return line


def _write(tmp_path: Path, text: str, name: str = "hostile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# ------------------------------------------------------------------------------------------- duplicate keys
DUPLICATES = [
    pytest.param(KWS_TEXT + "name: Other name\n", "name", "duplicate key 'name' at line {last} (first at line {first})",
                 id="top-level"),
    pytest.param("name: x\nblocks:\n  casing: 1\n  pcb: 0\n  casing: 2\n", "blocks.casing",
                 "duplicate key 'casing' at line 5 (first at line 3)", id="nested"),
    pytest.param("name: x\nparameters:\n  lifetime: 3\n  average_power: 2\n  lifetime: 5\n", "parameters.lifetime",
                 "duplicate key 'lifetime' at line 5 (first at line 3)", id="parameter"),
    pytest.param("name: x\nparameters:\n  lifetime: {family: uniform, low: 2, high: 5, low: 1}\n",
                 "parameters.lifetime.low", "duplicate key 'low' at line 3, column 48 (first at line 3, column 31)",
                 id="in-a-distribution"),
    pytest.param("name: x\nextra_components:\n  - 1\n  - {a: 1, b: 2, a: 3}\n", "extra_components[1].a",
                 "duplicate key 'a' at line 4", id="in-a-list"),
]


@pytest.mark.parametrize("text, key, phrase", DUPLICATES)
def test_duplicate_keys_are_refused_naming_both_lines(text, key, phrase, tmp_path, capsys):
    path = _write(tmp_path, text)
    lines = text.splitlines()
    phrase = phrase.format(first=1 + next(i for i, ln in enumerate(lines) if ln.startswith("name:")),
                           last=len(lines))
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, key, phrase, "only once", tmp_path=tmp_path)


def test_merge_keys_may_override_and_anchors_are_allowed(tmp_path, capsys):
    """``<<: *anchor`` then an explicit key is YAML's override, not a duplicate; small anchors are fine."""
    text = KWS_TEXT + (
        "parameters:\n"
        "  lifetime: &life {family: uniform, low: 2, high: 5}\n"
        "  charging_efficiency:\n"
        "    <<: *life\n"
        "    low: 0.7\n"
        "    high: 0.9\n")
    path = _write(tmp_path, text, "anchors.yaml")
    rc, err = _run(path, tmp_path, capsys, command="validate")
    assert rc == 0 and err == "", err


# ------------------------------------------------------------------------------------------- alias bombs
@pytest.mark.parametrize("where", ["name", "blocks"])
def test_alias_bomb_is_refused(where, tmp_path, capsys):
    if where == "name":
        text = "anchors:\n" + _bomb() + "name: *l8\n"
    else:
        text = "name: x\nanchors:\n" + _bomb() + "blocks: {casing: *l8}\n"
    path = _write(tmp_path, text)
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, "", f"more than {safe_yaml.MAX_NODES} values", "aliases are expanded",
                    tmp_path=tmp_path)


def test_recursive_alias_is_refused(tmp_path, capsys):
    path = _write(tmp_path, "name: x\nblocks: &b {casing: [1, *b]}\n")
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, "blocks.casing[1]", "recursive alias *b at line 2", tmp_path=tmp_path)


# ------------------------------------------------------------------------------------------- size and depth
def test_ten_megabyte_file_is_refused_before_parsing(tmp_path, capsys):
    path = _write(tmp_path, KWS_TEXT + "notes:\n" + "  - a harmless line of notes\n" * (10 * MIB // 29))
    assert 10 * MIB < path.stat().st_size < 10.05 * MIB
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, "", "10.0 MiB", "refused before parsing", "at most 1 MiB", tmp_path=tmp_path)


def test_ten_megabyte_bad_value_gives_a_short_line(tmp_path, capsys):
    path = _write(tmp_path, "name: x\nsampling: {design: " + "y" * (10 * MIB) + "}\n")
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, "", "refused before parsing", tmp_path=tmp_path)


@pytest.mark.parametrize("text, key, phrase, longest", [
    pytest.param("name: x\nsampling: {design: " + "y" * (MIB - 200) + "}\n", "sampling.design",
                 "'mc', 'lhs' or 'sobol'", 300, id="literal"),
    pytest.param("name: x\nparameters:\n  lifetime: {family: uniform, low: " + "z" * (MIB - 200) + ", high: 3}\n",
                 "parameters.lifetime", "must be a number", 300, id="number"),
    # the key is quoted twice (key path and message) and the message lists the 20 allowed keys
    pytest.param("name: x\n? " + "k" * (MIB - 200) + "\n: 1\n", "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkk...",
                 "unknown key 'kkk", 460, id="key"),
    pytest.param("name: x\nblocks: {casing: " + "1" * 5000 + "}\n", "", "integer of 5000 digits", 300,
                 id="long-integer"),
])
def test_a_huge_value_is_quoted_in_at_most_about_80_characters(text, key, phrase, longest, tmp_path, capsys):
    """A value just under the size limit: the message quotes its start only (issue 8: at most ~80 characters)."""
    path = _write(tmp_path, text)
    capsys.readouterr()
    rc = main(["validate", str(path), "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1 and "Traceback" not in err, err[:300]
    line = err.rstrip("\n")
    assert line.startswith(f"error: {path}: {key}" if key else f"error: {path}: "), line
    assert phrase in line, line
    assert len(line) < longest, f"{len(line)} characters: {line[:600]}"
    longest_run = max(m.end() - m.start() for m in re.finditer(r"([a-z0-9])\1*", line.replace(str(path), "")))
    assert longest_run <= 85, f"the message quotes {longest_run} characters of the value"


def test_deep_nesting_is_refused(tmp_path, capsys):
    path = _write(tmp_path, "name: x\nblocks: " + "[" * 40 + "]" * 40 + "\n")
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, "", f"nesting deeper than {safe_yaml.MAX_DEPTH} levels", "line 2",
                    tmp_path=tmp_path)


def test_deep_nesting_through_an_alias_is_refused(tmp_path, capsys):
    path = _write(tmp_path, "x: &d " + "[" * 15 + "]" * 15 + "\nname: x\nblocks: " + "[" * 10 + "*d" + "]" * 10 + "\n")
    rc, err = _run(path, tmp_path, capsys)
    _assert_refused(rc, err, path, "", "nesting deeper than", "line 3", tmp_path=tmp_path)


def test_a_megabyte_of_brackets_does_not_crash_libyaml(tmp_path):
    """libyaml's composer recurses in C and crashes (segfault) on deep nesting; the event scan refuses first.
    Run in a subprocess so that a regression fails this test instead of killing the test session."""
    path = _write(tmp_path, "name: x\nblocks: " + "[" * (MIB - 100) + "\n")
    script = ("import sys\nfrom uncertainty_footprint.errors import ConfigError\n"
              "from uncertainty_footprint.inputs.safe_yaml import load_file\n"
              "try:\n    load_file(sys.argv[1])\nexcept ConfigError as exc:\n    print(exc)\n    sys.exit(2)\n")
    res = subprocess.run([sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=120)
    assert res.returncode == 2, (res.returncode, res.stderr[-500:])
    # Our event scan refuses at depth 21; a libyaml new enough to have its own depth limit (PyPI's PyYAML >= 6.0.2
    # wheels) may refuse first, while scanning ahead: either way one line, naming line 2.
    assert res.stdout.count("\n") == 1 and "line 2" in res.stdout, res.stdout
    assert "nesting deeper than 20 levels" in res.stdout or "maximum nesting depth" in res.stdout, res.stdout


# ------------------------------------------------------------------------------------------- shorten
def test_shorten_cuts_long_text_and_deep_containers():
    assert shorten("abc") == "'abc'"
    text = shorten("x" * 10_000_000)
    assert len(text) < 110 and text.endswith("(10000000 characters)")
    nested: list = ["a" * 1000] * 1000
    for _ in range(50):
        nested = [nested] * 3
    assert len(shorten(nested)) <= 80
    assert len(shorten(10 ** 4000)) <= 80


def test_config_error_is_one_bounded_line():
    exc = ConfigError("f.yaml", "k" * 5000, "first\nsecond " + "m" * 100_000)
    assert "\n" not in str(exc) and len(str(exc)) < 5000


# ------------------------------------------------------------------------------------------- data files
def test_duplicate_key_in_a_data_file_is_refused(tmp_path):
    data = copy_data(tmp_path)
    path = data / "use_stage.yaml"
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    first = next(i for i, ln in enumerate(lines) if ln.startswith("  lifetime:"))
    path.write_text("".join(lines) + "  lifetime:\n    unit: yr\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_catalog(data)
    assert str(info.value) == (f"{path}: parameters.lifetime: duplicate key 'lifetime' at line {len(lines) + 1} "
                               f"(first at line {first + 1}); a key may appear only once in a mapping")


def test_data_file_alias_bomb_is_refused(tmp_path):
    data = copy_data(tmp_path)
    path = data / "sources.yaml"
    path.write_text("anchors:\n" + _bomb() + path.read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases are expanded"):
        load_catalog(data)
