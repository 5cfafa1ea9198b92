"""The README's commands and the experiment example of the guide run as printed; an experiment may declare its own
sources and stages."""

from __future__ import annotations

import os
import re

import pytest
import xarray as xr
import yaml

from tests.helpers import ROOT
from uncertainty_footprint.cli import main
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.model.experiment import parse_experiment
from uncertainty_footprint.model.builder import STAGES, build_model

KWS = ROOT / "experiments" / "kws.yaml"


def readme_example() -> str:
    """The first ```yaml block of the guide's page on experiments (docs/guide/experiments.md), verbatim."""
    text = (ROOT / "docs" / "guide" / "experiments.md").read_text(encoding="utf-8")
    match = re.search(r"^```yaml\n(.*?)^```$", text, re.S | re.M)
    assert match, "no ```yaml block in docs/guide/experiments.md"
    return match.group(1)


def test_readme_example_validates_and_runs(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    example = readme_example()
    assert "source: my_lca" in example
    path = tmp_path / "readme_example.yaml"
    path.write_text(example, encoding="utf-8")
    assert main(["validate", str(path)]) == 0, capsys.readouterr().err
    assert "valid" in capsys.readouterr().out
    rc = main(["run", str(path), "--samples", "200", "--no-sobol", "--no-figures", "--out", "tmp", "--quiet"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    assert {"results.nc", "summary.csv", "deterministic.csv"} <= set(os.listdir(tmp_path / "tmp"))
    with xr.open_dataset(tmp_path / "tmp" / "results.nc") as ds:
        assert "solar_cell" in ds["component"].values
        assert str(ds["source"].sel(parameter="solar_cell_footprint").values) == "my_lca"
        assert ds.sizes["sample"] == 200


def _build(**changes):
    raw = yaml.safe_load(KWS.read_text(encoding="utf-8"))
    raw.update(changes)
    return build_model(parse_experiment(raw, "exp.yaml"), load_catalog())


SOLAR = {"distribution": {"family": "uniform", "low": 0.1, "high": 0.3}, "source": "my_lca"}


def test_an_experiment_source_is_accepted_for_its_records():
    model = _build(sources={"my_lca": {"cite": "Our LCA (2024)."}}, extra_components={"solar_cell": SOLAR},
                   parameters={"lifetime": {"distribution": {"family": "fixed", "value": 4}, "source": "my_lca"}})
    assert model.parameters["solar_cell_footprint"].source == ("my_lca",)
    assert model.parameters["lifetime"].source == ("my_lca",)
    assert model.sources == {"my_lca": "Our LCA (2024)."}


def test_an_undeclared_source_is_refused():
    with pytest.raises(ConfigError, match=r"parameters\.lifetime: unknown source 'my_lca'; .*'sources' section"):
        _build(parameters={"lifetime": {"distribution": {"family": "fixed", "value": 4}, "source": "my_lca"}})
    with pytest.raises(ConfigError, match=r"extra_components\.solar_cell\.distribution: unknown source 'my_lca'"):
        _build(extra_components={"solar_cell": SOLAR})


@pytest.mark.parametrize("sources, key, phrase", [
    ({"my_lca": {"cite": "x", "title": "y"}}, "sources.my_lca", "unknown key 'title'; allowed: cite"),
    ({"my_lca": {}}, "sources.my_lca.cite", "required"),
    ({"my_lca": {"cite": ""}}, "sources.my_lca.cite", "at least 1 character"),
    ({"My LCA": {"cite": "x"}}, "sources.My LCA", "not a valid name"),
    ({"dodge_2022": {"cite": "Someone else (1999)."}}, "sources.dodge_2022", "already in distributions/sources.yaml"),
])
def test_bad_experiment_sources_are_refused(sources, key, phrase):
    with pytest.raises(ConfigError) as info:
        _build(sources=sources)
    assert str(info.value).startswith(f"exp.yaml: {key}: ") and phrase in str(info.value), str(info.value)


def test_a_catalog_source_may_be_repeated_with_the_same_citation():
    cite = load_catalog().sources["dodge_2022"]
    assert _build(sources={"dodge_2022": {"cite": cite}}).sources == {"dodge_2022": cite}


def test_a_misspelt_stage_is_refused_with_the_allowed_list(tmp_path, capsys):
    path = tmp_path / "typo.yaml"
    path.write_text(KWS.read_text(encoding="utf-8") + "extra_components:\n  solar_cell: {stage: manufacturng, "
                    "distribution: {family: fixed, value: 0.2}}\n", encoding="utf-8")
    rc = main(["run", str(path), "--out", str(tmp_path / "out"), "--samples", "64", "--quiet"])
    err = capsys.readouterr().err
    assert rc == 2 and err.count("\n") == 1, err
    assert err.startswith(f"error: {path}: extra_components.solar_cell.stage: unknown stage 'manufacturng'; "
                          f"allowed: {', '.join(STAGES)}"), err
    assert "'stages' list" in err
    assert sorted(os.listdir(tmp_path)) == ["typo.yaml"]


def test_a_declared_stage_is_accepted():
    model = _build(stages=["installation"],
                   extra_components={"mounting": {"stage": "installation",
                                                  "distribution": {"family": "fixed", "value": 0.2}}})
    assert dict(zip(model.component_names, model.stages))["mounting"] == "installation"


@pytest.mark.parametrize("stages, phrase", [
    (["use"], "built-in stage"), (["install", "install"], "declared twice"), (["Install"], "not a valid name")])
def test_bad_declared_stages_are_refused(stages, phrase):
    with pytest.raises(ConfigError, match=re.escape(phrase)):
        _build(stages=stages)


def test_the_report_cites_the_experiments_own_sources():
    """A source declared in the experiment's ``sources`` section is cited in the report, not marked unknown."""
    import xarray as xr

    from uncertainty_footprint.inputs.catalog import load_catalog
    from uncertainty_footprint.reports.document import _sources

    records = [{"source": ["my_lca", "dodge_2022"]}]
    lines = _sources(records, xr.Dataset(), load_catalog(), {"my_lca": "Our LCA (2024)."})
    text = {line[0][1]: line[1][1] for line in lines}
    assert text["my_lca"] == ": Our LCA (2024)." and "Dodge" in text["dodge_2022"]
    unknown = _sources([{"source": ["my_lca"]}], xr.Dataset(), load_catalog())
    assert "not in the catalog's bibliography" in unknown[0][1][1]


def _blocks(text: str, language: str = "") -> list[str]:
    return re.findall(rf"^```{language}\n(.*?)^```$", text, re.S | re.M)


@pytest.mark.slow
def test_every_command_of_the_readme_runs_as_printed(tmp_path):
    """The README's shell commands (the parts after ``pip install``) and its Python example run as printed, in a
    fresh folder that has the repository's ``experiments/``."""
    import subprocess
    import sys

    text = (ROOT / "README.md").read_text(encoding="utf-8")
    (tmp_path / "experiments").symlink_to(ROOT / "experiments")
    env = {**os.environ, "MPLBACKEND": "Agg"}
    commands = [part.strip() for block in _blocks(text) for line in block.splitlines()
                for part in line.split("&&") if part.strip().startswith("python -m uncertainty_footprint")]
    assert commands == ["python -m uncertainty_footprint run experiments/kws.yaml"]
    for command in commands:
        proc = subprocess.run([sys.executable, *command.split()[1:]], cwd=tmp_path, env=env, capture_output=True,
                              text=True, timeout=300)
        assert proc.returncode == 0, proc.stderr
        assert "TOTAL" in proc.stdout and (tmp_path / "results" / "kws" / "report.html").is_file()
    python, = _blocks(text, "python")
    code = "import matplotlib\nmatplotlib.use('Agg')\n" + python
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    from uncertainty_footprint.cli import COMMANDS

    section = text[text.index("\n## Commands\n"):]
    table = [line for line in section[: section.index("\n## ", 1)].splitlines() if line.startswith("| `")]
    assert [row.split("`")[1].split()[0] for row in table] == list(COMMANDS), "the README's table of commands"
