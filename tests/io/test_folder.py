"""The package never deletes or replaces a file it did not write (rules of ``uncertainty_footprint.io.folder``).

Every case runs ``cli.main`` in this process and checks the exit status, the one line on stderr (no traceback)
and the file system afterwards: the user's files byte-identical, no temporary folder left.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import KWS
from uncertainty_footprint.cli import main
from uncertainty_footprint.inputs.examples import example_names, examples_dir, resolve_experiment
from uncertainty_footprint.io.folder import MANIFEST, MANIFEST_MARKER, PACKAGE_DIR

FAST = ["--samples", "64", "--no-sobol", "--no-figures", "--quiet"]


def cli(capsys, *args) -> tuple[int, str, str]:
    capsys.readouterr()
    rc = main([str(a) for a in args])
    captured = capsys.readouterr()
    return rc, captured.out, captured.err


def one_line(err: str, *words: str) -> str:
    assert "Traceback" not in err, err
    assert err.startswith("error: ") and err.count("\n") == 1, f"not one 'error:' line: {err!r}"
    missing = [w for w in words if w not in err]
    assert not missing, f"{err!r} does not say {missing}"
    return err.strip()


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file below ``folder`` (hidden ones too) with its bytes."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def temp_folders(*folders: Path) -> list[str]:
    return [e for f in folders if f.is_dir() for e in os.listdir(f) if ".tmp-" in e]


@pytest.fixture
def exp(tmp_path) -> Path:
    """A copy of kws.yaml in its own folder, ``tmp_path/exps/kws.yaml``, beside a user's notes."""
    folder = tmp_path / "exps"
    folder.mkdir()
    (folder / "notes.md").write_text("my notes\n")
    path = folder / "kws.yaml"
    path.write_bytes(KWS.read_bytes())
    return path


def run(capsys, exp: Path, out: Path, *extra) -> tuple[int, str, str]:
    return cli(capsys, "run", exp, "--out", out, *FAST, *extra)


# --------------------------------------------------------------------------------------- refused targets
def test_out_that_is_an_existing_file_is_refused(exp, tmp_path, capsys):
    target = tmp_path / "some_file.txt"
    target.write_bytes(b"precious\x00bytes")
    rc, _, err = run(capsys, exp, target)
    assert rc == 2
    one_line(err, "--out", "some_file.txt", "existing file", "another --out")
    assert target.read_bytes() == b"precious\x00bytes" and target.is_file()
    assert not temp_folders(tmp_path)


def _refused_untouched(capsys, exp, tmp_path, outs, *phrases) -> None:
    """Each ``--out`` of ``outs`` is refused with one line (its phrases) and nothing under ``tmp_path`` changes."""
    before = snapshot(tmp_path)
    for out in outs:
        rc, _, err = run(capsys, exp, out)
        assert rc == 2
        one_line(err, f"--out {out}", *phrases)
    assert snapshot(tmp_path) == before
    assert not temp_folders(tmp_path, tmp_path.parent)


@pytest.mark.parametrize("where", ["own", "parent"])
def test_out_that_is_the_experiments_folder_or_above_is_refused(where, exp, tmp_path, capsys):
    out = exp.parent if where == "own" else tmp_path
    _refused_untouched(capsys, exp, tmp_path, [out], "folder of the experiment file", "another --out")


def test_out_that_is_the_current_folder_is_refused(exp, tmp_path, capsys, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    (work / "draft.tex").write_text("\\section{x}\n")
    monkeypatch.chdir(work)
    _refused_untouched(capsys, exp, tmp_path, [".", ".."], "current folder")


def test_out_that_is_the_home_folder_is_refused(exp, tmp_path, capsys, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    (home / ".bashrc").write_text("export X=1\n")
    monkeypatch.setenv("HOME", str(home))
    rc, _, err = run(capsys, exp, home)
    assert rc == 2
    one_line(err, "home folder")
    assert snapshot(home) == {".bashrc": b"export X=1\n"}


def test_out_that_is_the_root_folder_is_refused(exp, capsys):
    rc, _, err = run(capsys, exp, "/")
    assert rc == 2
    one_line(err, "--out /:", "root folder")
    assert not temp_folders(Path("/"))


@pytest.mark.parametrize("out", ["/proc/uncertainty_results", "/sys/kernel/results", "/dev/null"])
def test_out_under_proc_sys_or_dev_is_refused(out, exp, capsys):
    rc, _, err = run(capsys, exp, out)
    assert rc == 2
    one_line(err, f"--out {out}:", "system folder")
    assert not os.path.exists(out) or out == "/dev/null"


def test_out_inside_the_package_is_refused(capsys):
    before = snapshot(examples_dir())
    for out, says in ((examples_dir(), "folder of the experiment file"),
                      (examples_dir() / "results", "installed package's folder"),
                      (PACKAGE_DIR, "folder of the experiment file")):
        rc, _, err = cli(capsys, "run", "kws", "--out", out, *FAST)
        assert rc == 2
        one_line(err, says)
    assert snapshot(examples_dir()) == before
    assert not temp_folders(examples_dir(), examples_dir().parent, PACKAGE_DIR.parent)


def test_non_empty_folder_without_manifest_is_refused(exp, tmp_path, capsys):
    out = tmp_path / "thesis"
    (out / "figs").mkdir(parents=True)
    (out / "chapter1.tex").write_text("text")
    (out / "figs" / "plot.png").write_bytes(b"\x89PNG...")
    (out / "summary.csv").write_text("mine,not,yours\n")
    before = snapshot(out)
    rc, _, err = run(capsys, exp, out)
    assert rc == 2
    one_line(err, f"--out {out}:", "not empty", MANIFEST, "another --out")
    assert snapshot(out) == before
    assert not temp_folders(tmp_path, out)


def test_a_manifest_that_is_not_ours_is_refused(exp, tmp_path, capsys):
    out = tmp_path / "out"
    out.mkdir()
    (out / MANIFEST).write_text('{"files": ["../exps/kws.yaml"]}')
    before = snapshot(tmp_path)
    rc, _, err = run(capsys, exp, out)
    assert rc == 2
    one_line(err, "not this package's manifest")
    assert snapshot(tmp_path) == before


def test_the_experiment_is_validated_before_the_output_folder(exp, tmp_path, capsys):
    exp.write_text(exp.read_text().replace("casing: 1", "casing: 7"))
    target = tmp_path / "some_file.txt"
    target.write_text("x")
    rc, _, err = run(capsys, exp, target)
    assert rc == 2
    one_line(err, str(exp), "blocks.casing")
    assert sorted(os.listdir(tmp_path)) == ["exps", "some_file.txt"]


# --------------------------------------------------------------------------------------- reruns
def test_new_folder_gets_a_manifest_of_what_was_written(exp, tmp_path, capsys):
    out = tmp_path / "results" / "kws"
    rc, _, err = run(capsys, exp, out)
    assert rc == 0, err
    manifest = json.loads((out / MANIFEST).read_text())
    assert manifest["marker"] == MANIFEST_MARKER and manifest["command"] == "run"
    assert manifest["version"] and manifest["experiments"] == [str(exp)]
    assert sorted(manifest["files"]) == sorted(set(snapshot(out)) - {MANIFEST})
    assert {"results.nc", "summary.csv", "deterministic.csv"} <= set(manifest["files"])
    assert not any(f.startswith(("report", "figures/", "sobol")) for f in manifest["files"])
    assert not temp_folders(out.parent, out)


def test_rerun_replaces_its_files_and_keeps_the_users(exp, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, exp, out, "--seed", "1")[0] == 0
    (out / "notes.txt").write_text("the user's notes\n")
    (out / "extra").mkdir()
    (out / "extra" / "my_plot.py").write_text("print(1)\n")
    old_summary = (out / "summary.csv").read_bytes()
    rc, _, err = run(capsys, exp, out, "--seed", "2")
    assert rc == 0, err
    assert (out / "notes.txt").read_text() == "the user's notes\n"
    assert (out / "extra" / "my_plot.py").read_text() == "print(1)\n"
    assert (out / "summary.csv").read_bytes() != old_summary  # replaced by the new run's
    files = set(json.loads((out / MANIFEST).read_text())["files"])
    assert files == set(snapshot(out)) - {MANIFEST, "notes.txt", "extra/my_plot.py"}
    assert not temp_folders(tmp_path, out)


def test_rerun_removes_its_own_stale_files_only(exp, tmp_path, capsys):
    out = tmp_path / "out"
    rc, _, err = cli(capsys, "run", exp, "--out", out, "--samples", "64", "--sobol-samples", "64",
                     "--groupings", "component", "--no-figures", "--quiet")
    assert rc == 0, err
    assert (out / "sobol.csv").exists()
    (out / "mine.csv").write_text("1,2\n")
    rc, _, err = run(capsys, exp, out)  # --no-sobol: sobol.nc and sobol.csv would be stale
    assert rc == 0, err
    assert not (out / "sobol.csv").exists() and not (out / "sobol.nc").exists()
    assert (out / "mine.csv").read_text() == "1,2\n"


def test_rerun_refuses_to_overwrite_a_users_file_of_an_output_name(exp, tmp_path, capsys):
    out = tmp_path / "out"
    assert run(capsys, exp, out)[0] == 0  # --no-sobol: sobol.csv is not ours
    (out / "sobol.csv").write_text("the user's own sobol table\n")
    before = snapshot(out)
    rc, _, err = cli(capsys, "run", exp, "--out", out, "--samples", "64", "--sobol-samples", "64",
                     "--groupings", "component", "--no-figures", "--quiet")
    assert rc == 2
    one_line(err, "sobol.csv", "did not write", "move it away")
    assert snapshot(out) == before
    assert not temp_folders(tmp_path, out)


def test_an_empty_existing_folder_is_used(exp, tmp_path, capsys):
    out = tmp_path / "empty"
    out.mkdir()
    inode = out.stat().st_ino
    rc, _, err = run(capsys, exp, out)
    assert rc == 0, err
    assert out.stat().st_ino == inode and (out / "results.nc").is_file() and (out / MANIFEST).is_file()


def test_leftover_of_a_dead_run_is_removed_and_a_live_ones_kept(exp, tmp_path, capsys):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    dead_pid = int(dead.stdout)
    leftover = tmp_path / f".out.tmp-{dead_pid}-0123abcd"
    (leftover / "figures").mkdir(parents=True)
    (leftover / "results.nc").write_bytes(b"\x00" * 1000)
    (leftover / ".uncertainty_footprint.lock").write_text(json.dumps({"pid": dead_pid}))
    live = tmp_path / f".out.tmp-{os.getppid()}-89abcdef"  # the parent (pytest's shell or runner) is alive
    live.mkdir()
    other = tmp_path / f".other.tmp-{dead_pid}-0123abcd"  # another target's: not this run's business
    other.mkdir()
    rc, _, err = run(capsys, exp, tmp_path / "out")
    assert rc == 0, err
    assert not leftover.exists() and live.is_dir() and other.is_dir()


# --------------------------------------------------------------------------------------- shipped experiments
def test_run_by_name_writes_to_results_in_the_current_folder(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    before = snapshot(examples_dir())
    rc, _, err = cli(capsys, "run", "kws", *FAST)
    assert rc == 0, err
    assert (tmp_path / "results" / "kws" / "results.nc").is_file()
    assert snapshot(examples_dir()) == before
    assert resolve_experiment("kws") == examples_dir() / "kws.yaml"


def test_a_file_of_that_name_wins_over_the_shipped_experiment(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("kws").write_text("name: mine\n")
    assert resolve_experiment("kws") == Path("kws")
    assert resolve_experiment("no_such_thing") == Path("no_such_thing")


def test_example_prints_the_shipped_file(capsys):
    rc, out, err = cli(capsys, "example", "kws")
    assert rc == 0 and err == ""
    assert out == (examples_dir() / "kws.yaml").read_text(encoding="utf-8")


def test_example_without_name_lists_them(capsys):
    rc, out, _ = cli(capsys, "example")
    assert rc == 0
    assert set(example_names()) >= {"kws", "image_classification", "anomaly_detection"}
    for name in example_names():
        assert name in out
    assert "Keyword spotting" in out


def test_example_of_an_unknown_name(capsys):
    rc, out, err = cli(capsys, "example", "kwz")
    assert rc == 2 and out == ""
    one_line(err, "kwz", "shipped:", "kws")


# --------------------------------------------------------------------------------------- compare
def test_compare_follows_the_same_rules(exp, tmp_path, capsys):
    other = exp.parent / "ic.yaml"
    other.write_bytes((KWS.parent / "image_classification.yaml").read_bytes())
    target = tmp_path / "table.csv"
    target.write_text("x\n")
    rc, _, err = cli(capsys, "compare", exp, other, "--out", target, "--samples", "64", "--quiet")
    assert rc == 2
    one_line(err, "existing file")
    rc, _, err = cli(capsys, "compare", exp, other, "--out", exp.parent, "--samples", "64", "--quiet")
    assert rc == 2
    one_line(err, "folder of the experiment file")
    out = tmp_path / "cmp"
    assert cli(capsys, "compare", exp, other, "--out", out, "--samples", "64", "--quiet")[0] == 0
    (out / "notes.txt").write_text("keep me")
    rc, _, err = cli(capsys, "compare", exp, other, "--out", out, "--samples", "128", "--quiet")
    assert rc == 0, err
    assert (out / "notes.txt").read_text() == "keep me"
    files = set(json.loads((out / MANIFEST).read_text())["files"])
    assert {"comparison.nc", "comparison.csv", "differences.csv", "comparison.png", "comparison.pdf"} <= files
    assert files == set(snapshot(out)) - {MANIFEST, "notes.txt"}
    assert target.read_text() == "x\n" and not temp_folders(tmp_path, out)
