"""Command-line polish: --version, list blocks with option intervals, list wrapped to the terminal, compare of two
files with the same name, absent components listed once, second-order outputs (in-process, small samples)."""

from __future__ import annotations

import shutil
import sys

import pandas as pd
import pytest

from tests.helpers import KWS
from uncertainty_footprint.analysis.blocks import option_intervals
from uncertainty_footprint.io.provenance import package_version
from uncertainty_footprint.cli import main
from uncertainty_footprint.io.folder import RUN_OUTPUTS


def test_version(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["--version"])
    assert stop.value.code == 0
    assert capsys.readouterr().out.strip().endswith(package_version())


def test_option_intervals_are_seeded_ordered_and_match_the_published_point(catalog):
    a = option_intervals(catalog, n=512, seed=4)
    b = option_intervals(catalog, n=512, seed=4)
    pd.testing.assert_frame_equal(a, b)
    assert set(a.index.get_level_values("block")) == set(catalog.blocks)
    assert ((a["p5"] <= a["median"]) & (a["median"] <= a["p95"])).all()
    none = a.loc[("casing", 0)]
    assert none["p95"] == 0 and none["published"] == 0
    # the published point value lies inside the 90 % interval for most options (it is the typical case)
    nonzero = a[a["published"] > 0]
    inside = ((nonzero["p5"] <= nonzero["published"]) & (nonzero["published"] <= nonzero["p95"])).mean()
    assert inside > 0.8


def test_list_blocks_shows_each_option_interval(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["list", "blocks"]) == 0
    out = capsys.readouterr().out
    assert "median [90 %]" in out
    line = next(ln for ln in out.splitlines() if "small casing" in ln)
    assert "[" in line and "]" in line


def _widest(capsys, monkeypatch, width: int) -> tuple[int, list[str]]:
    monkeypatch.setenv("COLUMNS", str(width))
    assert main(["list", "parameters"]) == 0
    lines = capsys.readouterr().out.splitlines()
    return max(len(ln) for ln in lines[1:]), lines


def test_list_parameters_wraps_to_the_terminal_width(capsys, monkeypatch):
    natural, _ = _widest(capsys, monkeypatch, 400)
    fits, lines = _widest(capsys, monkeypatch, 120)
    assert natural > 120 >= fits  # wrapped to fit
    assert any(ln.startswith(" ") for ln in lines[3:])  # continuation lines of the wrapped cells
    narrow, _ = _widest(capsys, monkeypatch, 60)
    assert narrow < fits  # as narrow as unbroken words allow
    names = {ln.split()[0] for ln in lines[3:] if ln and not ln.startswith(" ")}
    assert "cmos_90nm_die_factor" in names  # identifiers are never broken


def test_compare_two_files_with_the_same_name(tmp_path, capsys):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        shutil.copy(KWS, tmp_path / folder / "kws.yaml")
    out = tmp_path / "cmp"
    assert main(["compare", str(tmp_path / "a" / "kws.yaml"), str(tmp_path / "b" / "kws.yaml"), "--samples", "200",
                 "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "a/kws" in text and "b/kws" in text
    table = pd.read_csv(out / "comparison.csv", index_col="experiment")
    assert list(table.index) == ["a/kws", "b/kws"]


def test_compare_refuses_the_same_file_twice(capsys):
    assert main(["compare", str(KWS), str(KWS), "--samples", "100", "--out", "unused"]) == 2
    assert "different experiment files" in capsys.readouterr().err


def test_run_lists_absent_components_once_and_writes_second_order(tmp_path, capsys):
    out = tmp_path / "kws"
    rc = main(["run", str(KWS), "--out", str(out), "--samples", "300", "--sobol-samples", "128", "--second-order",
               "--groupings", "parameter", "--no-figures", "--num-resamples", "20"])
    captured = capsys.readouterr()
    assert rc == 0, captured.err
    text = captured.out
    assert "Absent (zero in every sample" in text
    assert "  actuators " not in text  # no row of zeros
    assert text.count("actuators") == 1
    assert "pairs by parameter" in text and "sobol_s2.csv" in text
    assert "sobol_s2.csv" in RUN_OUTPUTS
    pairs = pd.read_csv(out / "sobol_s2.csv")
    assert list(pairs.columns) == ["grouping", "a", "b", "S2", "S2_conf", "exact_S2"]
    params = pairs[pairs["grouping"] == "parameter"]
    k = len(set(params["a"]) | set(params["b"]))
    assert len(params) == k * (k - 1) // 2 and params["S2"].notna().all()
    assert pairs.loc[pairs["grouping"] == "component", "S2"].isna().all()  # exact only (sampled: parameters)
    top = pairs[pairs["grouping"] == "parameter"].iloc[0]
    assert top["exact_S2"] == pairs.loc[pairs["grouping"] == "parameter", "exact_S2"].abs().max()
    summary = pd.read_csv(out / "summary.csv", index_col="name")
    assert summary.loc["actuators", "absent"] and not summary.loc["casing", "absent"]
    assert summary.loc["actuators", "mean"] == 0  # the rows stay, for scripts


def test_console_entry_point_returns_the_status_and_freezes_the_collector(monkeypatch, capsys):
    import gc

    from uncertainty_footprint.cli import console_main

    monkeypatch.setattr(sys, "argv", ["uncertainty-footprint", "example"])
    before = gc.get_freeze_count()
    try:
        assert console_main() == 0
        assert gc.get_freeze_count() > before  # the exit's collections skip what was alive
        assert "kws" in capsys.readouterr().out
        monkeypatch.setattr(sys, "argv", ["uncertainty-footprint", "run", "no-such-file.yaml"])
        assert console_main() == 2
        assert "no-such-file.yaml" in capsys.readouterr().err
    finally:
        gc.unfreeze()


def _child(code: str, cwd) -> "subprocess.CompletedProcess":
    import os
    import subprocess

    env = {k: v for k, v in os.environ.items() if k != "UNCERTAINTY_FOOTPRINT_DEBUG"}
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=cwd, timeout=120,
                          env={**env, "MPLBACKEND": "Agg"})


@pytest.mark.parametrize("missing", ["xarray", "yaml"])
def test_a_missing_dependency_gives_one_line_and_exit_status_1(missing, tmp_path):
    """A dependency that cannot be imported (here hidden by an import hook) is a failing environment: one line
    naming it, exit status 1, no traceback, nothing written; the command line itself starts without any."""
    code = f"""
import sys
class Hide:
    def find_spec(self, name, path=None, target=None):
        if name == {missing!r} or name.startswith({missing!r} + "."):
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Hide())
from uncertainty_footprint.cli import main
sys.exit(main(["run", "kws", "--samples", "100", "--out", "out"]))
"""
    proc = _child(code, tmp_path)
    assert proc.returncode == 1, proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr
    assert proc.stderr.startswith(f"error: {missing} cannot be imported") and "pip install" in proc.stderr
    assert not (tmp_path / "out").exists()


def test_text_from_input_files_never_reaches_the_terminal_raw(tmp_path, capsys):
    """Control characters of a file's name, keys and texts are escaped: no escape sequence reaches the terminal."""
    esc = "\x1b[2J\x1b[31m"
    bad = tmp_path / f"dev{esc}ice.yaml"
    bad.write_text(f"name: x\nblocks: {{'cas{esc}ing': 1}}\n")
    assert main(["run", str(bad), "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b" in err and err.count("\n") == 1
    named = tmp_path / "named.yaml"
    named.write_text('name: "a\\e[31mb"\n')  # YAML's escape \e: the name holds ESC
    assert main(["validate", str(named)]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "name: must be one line of printable text" in err
    data = tmp_path / "data"
    shutil.copytree(KWS.parent.parent / "distributions", data)
    with open(data / "sources.yaml", "a", encoding="utf-8") as f:
        f.write('  evil_source:\n    cite: "\\e[2J\\e[31m a citation"\n')
    assert main(["--data-dir", str(data), "list", "sources"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\\x1b[2J" in out


def test_run_prints_the_summary_before_it_writes(tmp_path):
    """The summary is on standard output before the figures are drawn: a child whose drawing stops the process
    has printed the table already."""
    code = """
import os, sys
from uncertainty_footprint.reports import drawing
def stop(*args, **kwargs):
    sys.stdout.flush()
    os._exit(7)
drawing.write_documents = stop
from uncertainty_footprint.cli import main
main(["run", "kws", "--samples", "300", "--out", "out"])
"""
    proc = _child(code, tmp_path)
    assert proc.returncode == 7 and "TOTAL" in proc.stdout and "Hotspots by component" in proc.stdout
    assert "Writing the files, figures and reports to out/ ..." in proc.stderr and "Written to" not in proc.stdout
