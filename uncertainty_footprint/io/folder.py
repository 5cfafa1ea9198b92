"""Writing a run's outputs into a results folder without ever losing a file the package did not write.

Rules (:func:`uncertainty_footprint.api.run` and :func:`~uncertainty_footprint.api.compare` with ``out``, and so
the command line, follow them in this order; every refusal happens before anything on disk is touched):

1. **Validate first.** The experiment is loaded, checked and its model built (and its memory need checked,
   :func:`~uncertainty_footprint.analysis.engine.check_resources`) before the file system is touched.
2. **Refuse dangerous targets** (:func:`check_output_folder`, a
   :class:`~uncertainty_footprint.errors.ConfigError`, exit status 2): an existing file; the experiment
   file's own folder or any folder above it (likewise the data folder given with ``--data-dir``); the
   current folder or any folder above it; the home folder or above it (``/`` included); the installed
   package's folder (where the shipped experiments live), inside or above it; anything under ``/proc``,
   ``/sys`` or ``/dev``; an existing non-empty folder without the package's manifest; a results folder
   holding a file by the name of one of the outputs that the package did not write (see 3).
3. **A manifest says what is ours.** Every results folder carries ``.uncertainty_footprint.json`` (the marker,
   the package version, the command, the experiment files and the list of files the run wrote). A rerun
   into that folder replaces exactly the files listed there, removes listed files the new run does not write
   again (a stale report would contradict the new results) and **keeps every other file** (your notes, your
   own plots). A folder written before manifests existed, or by anything else, is refused: move it away or
   choose another ``--out``. A store of many files (``results.zarr``, :data:`WHOLE_FOLDERS`) is one output: the
   manifest lists it once (``folders``) and it is replaced, moved aside or removed as a whole.
4. **Write beside, then swap.** The outputs are written into a temporary folder beside the target,
   ``.<name>.tmp-<pid>-<random>`` (inside the target when the target is a mount point or its parent is not
   writable), holding a lock file with the process id and start time. A new target is then the temporary
   folder renamed (atomic). An existing one gets the new files one by one (each an atomic rename, a whole
   folder output too; the previous versions are moved aside and restored if any step fails), then the final
   manifest. Ctrl-C and SIGTERM are held back during this swap, which takes milliseconds.
5. **Clean up always.** On any error, Ctrl-C or SIGTERM the temporary folder (and any parent folder the run
   created) is removed and the previous results stay as they were. A temporary folder left by a process
   killed with ``kill -9`` (its recorded process is gone) is removed by the next run into the same place.

A failing environment (disk full, permission denied, read-only file system, ``--out`` below a file) is a
:class:`~uncertainty_footprint.errors.WriteError` (``<what failed> at <where>: <reason>``; exit status 1).
"""

from __future__ import annotations

import errno
import json
import os
import re
import secrets
import shutil
import signal
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from typing import Callable, Iterable, Sequence

from ..atomic import atomic_file
from ..errors import ConfigError, WriteError
from .provenance import package_version

__all__ = ["MANIFEST", "MANIFEST_MARKER", "RUN_OUTPUTS", "WHOLE_FOLDERS", "COMPARISON_OUTPUTS", "WriteError",
           "ResultsFolder",
           "check_output_folder", "atomic_output_dir", "read_manifest", "discard_unfinished", "source_inputs"]

#: The manifest of a results folder: which files the package wrote there.
MANIFEST = ".uncertainty_footprint.json"
#: Its ``marker`` field (a manifest without it is not ours).
MANIFEST_MARKER = "uncertainty_footprint results folder"
#: Names a run may write at the top of its folder (a trailing ``/``: a folder of outputs).
RUN_OUTPUTS = ("results.nc", "results.zarr/", "summary.csv", "deterministic.csv", "sobol.nc", "sobol.csv",
               "report.md", "report.html", "table.tex", "figures/", "exact.nc", "exact.csv", "sobol_s2.csv",
               "balance.csv", "methods.csv", "shapley.nc", "shapley.csv", "correlations.csv")
#: Folder outputs that are one output each (a Zarr store: thousands of chunk files): listed once in the manifest
#: (``folders``), moved into place, aside or away by one rename; a folder of that name the package did not write
#: is refused like a file.
WHOLE_FOLDERS = ("results.zarr",)
#: Names a comparison writes.
COMPARISON_OUTPUTS = ("comparison.nc", "comparison.csv", "differences.csv", "comparison.png", "comparison.pdf",
                      "difference_variance.csv")
#: Folders that never receive results.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev")
#: The installed package's folder (shipped experiments and data live inside).
PACKAGE_DIR = Path(__file__).resolve().parent.parent

_LOCK = ".uncertainty_footprint.lock"
_BACKUP = ".uncertainty_footprint.previous"
_INTERNAL = (MANIFEST, _LOCK, _BACKUP)
_TMP = re.compile(r"\.(?P<name>.+)\.tmp-(?P<pid>[0-9]+)-(?P<token>[0-9a-f]{8})")
_NAME_KEEP = 100  # characters of the target's name in its temporary folder's name
_MAX_MANIFEST = 1 << 20  # bytes


@dataclass(frozen=True)
class ResultsFolder:
    """A checked output folder (:func:`check_output_folder`).

    Attributes
    ----------
    shown : str
        The folder as the user gave it (for messages).
    path : Path
        Absolute, with the symbolic links of its existing part resolved.
    exists : bool
    files, dirs, folders : frozenset of str
        What the existing manifest lists (relative POSIX paths: files, the folders holding them, whole folder
        outputs); empty for a new or empty folder.
    """

    shown: str
    path: Path
    exists: bool
    files: frozenset = field(default_factory=frozenset)
    dirs: frozenset = field(default_factory=frozenset)
    folders: frozenset = field(default_factory=frozenset)


# ------------------------------------------------------------------------------------------------ checks
def _within(path: Path, root: Path) -> bool:
    return path == root or root in path.parents


def _refuse(shown: str, message: str, suggestion: str | None = None, advice: str = "choose another --out"
            ) -> ConfigError:
    hint = f", e.g. --out {suggestion}" if suggestion else ""
    return ConfigError(f"--out {shown}", "", f"{message}; nothing was changed; {advice}{hint}")


def _first_existing(path: Path) -> Path:
    while not os.path.lexists(path) and path != path.parent:
        path = path.parent
    return path


def _safe_rel(entry) -> str | None:
    """A manifest entry as a clean relative POSIX path inside the folder, or None if it is not one."""
    if not isinstance(entry, str) or not entry or "\\" in entry or "\x00" in entry:
        return None
    p = PurePosixPath(entry)
    if p.is_absolute() or any(part in ("", ".", "..") for part in entry.split("/")) or p.parts[0] in _INTERNAL:
        return None
    return p.as_posix()


def read_manifest(folder: str | os.PathLike) -> dict | None:
    """The manifest of a results folder (``None`` if there is none).

    Raises
    ------
    ValueError
        If the file exists but is not a manifest of this package (unreadable, not JSON, no marker).
    OSError
        If it cannot be read.
    """
    path = Path(folder) / MANIFEST
    if not os.path.lexists(path):
        return None
    if path.is_symlink() or not path.is_file():
        raise ValueError(f"{MANIFEST} is not a regular file")
    with open(path, "rb") as f:
        raw = f.read(_MAX_MANIFEST + 1)
    if len(raw) > _MAX_MANIFEST:
        raise ValueError(f"{MANIFEST} is larger than {_MAX_MANIFEST} bytes")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{MANIFEST} is not valid JSON ({str(exc)[:60]})") from None
    if not isinstance(data, dict) or data.get("marker") != MANIFEST_MARKER or not isinstance(data.get("files"), list):
        raise ValueError(f"{MANIFEST} has no {MANIFEST_MARKER!r} marker and file list")
    data["files"] = sorted({r for r in map(_safe_rel, data["files"]) if r})
    data["dirs"] = sorted({r for r in map(_safe_rel, data.get("dirs") or []) if r})
    data["folders"] = sorted({r for r in map(_safe_rel, data.get("folders") or []) if r in WHOLE_FOLDERS})
    return data


def check_output_folder(out: str | os.PathLike, *, inputs: Iterable[str | os.PathLike] = (),
                        outputs: Sequence[str] = RUN_OUTPUTS, suggestion: str | None = None) -> ResultsFolder:
    """Check that ``out`` may receive results, touching nothing (see the module's rules).

    Parameters
    ----------
    out : path
        The output folder.
    inputs : paths
        Experiment files (their folders and every folder above them are refused) and data folders (likewise).
    outputs : sequence of str
        Names the run may write (``name/`` for a folder of outputs): an existing entry by one of these names
        that the manifest does not list is refused.
    suggestion : str, optional
        An output folder to suggest in refusals.

    Returns
    -------
    ResultsFolder

    Raises
    ------
    ConfigError
        When the folder is refused (exit status 2).
    WriteError
        When ``out`` lies below a file, or the folder cannot be read (exit status 1).
    """
    shown = str(out)
    absolute = Path(os.path.abspath(out))
    real = absolute.resolve()

    def refuse(message: str, advice: str = "choose another --out") -> ConfigError:
        return _refuse(shown, message, suggestion, advice)

    for root in SYSTEM_FOLDERS:
        if _within(absolute, Path(root)) or _within(real, Path(root)):
            raise refuse(f"is under {root}, a system folder")
    if os.path.lexists(absolute) and not absolute.exists():
        raise refuse("is a broken symbolic link")
    if absolute.exists() and not absolute.is_dir():
        raise refuse("is an existing file, not a folder")
    if real == Path(real.anchor):
        raise refuse(f"is the root folder {real.anchor}")
    home = Path(os.path.expanduser("~")).resolve()
    if _within(home, real):
        raise refuse("is the home folder or a folder above it")
    cwd = Path.cwd().resolve()
    if _within(cwd, real):
        raise refuse("is the current folder or a folder above it")
    for item in inputs:
        if item is None:
            continue
        item = Path(item)
        folder = item if item.is_dir() else item.parent
        for candidate in {Path(os.path.abspath(folder)), Path(os.path.abspath(folder)).resolve()}:
            if _within(candidate, absolute) or _within(candidate, real):
                what = "data folder" if item.is_dir() else f"folder of the experiment file {item}"
                raise refuse(f"is the {what} or a folder above it; results never go there")
    if _within(real, PACKAGE_DIR) or _within(PACKAGE_DIR, real):
        raise refuse(f"is the installed package's folder {PACKAGE_DIR} (where the shipped experiments live), "
                     "inside it or above it")
    existing = _first_existing(absolute.parent)
    if not existing.is_dir():
        raise WriteError("creating the output folder", shown, f"{existing} is a file, not a folder")
    if not absolute.exists():
        return ResultsFolder(shown, real, False)
    try:
        manifest = read_manifest(real)
        entries = [e for e in os.listdir(real) if not _TMP.fullmatch(e)]
    except ValueError as exc:
        raise refuse(f"holds a {MANIFEST} that is not this package's manifest ({exc})") from None
    except OSError as exc:
        raise WriteError("reading the output folder", shown, _reason(exc, real)) from None
    if manifest is None:
        if entries:
            raise refuse(f"is a folder that is not empty and has no {MANIFEST} (it was not written by "
                         "uncertainty_footprint, or by a version before manifests)")
        return ResultsFolder(shown, real, True)
    files, folders = frozenset(manifest["files"]), frozenset(manifest["folders"])
    for name in sorted(folders):  # replaced or removed as a whole: it must hold nothing but what a store holds
        foreign = _foreign_entry(real / name)
        if foreign is not None:
            raise refuse(f"holds {name}/{foreign}, which is not part of a Zarr store uncertainty_footprint writes "
                         f"(the whole of {name} is replaced by a rerun)", f"move it out of {name} first")
    for name in outputs:
        is_folder = name.endswith("/")
        name = name.rstrip("/")
        p = real / name
        if not os.path.lexists(p) or name in files or name in folders:
            continue
        if is_folder and name not in WHOLE_FOLDERS and p.is_dir() and not p.is_symlink():
            continue  # a folder of files (figures/): its files are checked one by one
        raise refuse(f"holds {name}, which uncertainty_footprint did not write there (it is not in {MANIFEST})",
                     "move it away or choose another --out")
    return ResultsFolder(shown, real, True, files, frozenset(manifest["dirs"]), folders)


#: The entries of a Zarr (format 2) store the package writes: metadata at the top and in every array, chunk keys
#: (``0``, ``12.0``) in the arrays.
_STORE_META = frozenset({".zgroup", ".zattrs", ".zmetadata", ".zarray"})
_CHUNK_KEY = re.compile(r"[0-9]+(\.[0-9]+)*")


def _foreign_entry(store: Path) -> str | None:
    """The first entry of a whole-folder output ``store`` that a Zarr store the package writes does not hold (a
    user's file put into it), as a path relative to it; None when there is none or the store is gone."""
    try:
        top = list(os.scandir(store))
    except OSError:
        return None
    for entry in top:
        if entry.name in _STORE_META and entry.is_file(follow_symlinks=False):
            continue
        if not entry.is_dir(follow_symlinks=False):
            return entry.name
        try:
            inner = list(os.scandir(entry.path))
        except OSError:
            return entry.name
        for item in inner:
            if not item.is_file(follow_symlinks=False) or not (item.name in _STORE_META
                                                               or _CHUNK_KEY.fullmatch(item.name)):
                return f"{entry.name}/{item.name}"
        if ".zarray" not in {item.name for item in inner}:  # a folder, not an array of the store
            return entry.name
    return None


# ------------------------------------------------------------------------------------------------ errors
def _reason(exc: BaseException, folder: Path | None = None) -> str:
    """Why an I/O operation failed, in words: the system's message, or (for the netCDF library, which gives no
    error number) what the file system says about ``folder``."""
    if isinstance(exc, OSError) and exc.errno is not None:
        return os.strerror(exc.errno)
    if folder is not None:
        try:
            st = os.statvfs(_first_existing(folder))
            if st.f_flag & os.ST_RDONLY:
                return os.strerror(errno.EROFS)
            if st.f_bavail * st.f_frsize < (1 << 20):
                return os.strerror(errno.ENOSPC)
            if not os.access(_first_existing(folder), os.W_OK):
                return os.strerror(errno.EACCES)
        except OSError:
            pass
    return " ".join(str(exc).split())[:120] or type(exc).__name__


def _is_io_error(exc: BaseException) -> bool:
    return isinstance(exc, OSError) or (isinstance(exc, RuntimeError) and any(
        word in str(exc) for word in ("NetCDF", "HDF")))


class _Step:
    """What is being done, for the message of a failure (``note('writing the figures')``)."""

    def __init__(self, what: str):
        self.what = what

    def __call__(self, what: str) -> None:
        self.what = what


@contextmanager
def _io(what: str, where: str, folder: Path | None = None):
    try:
        yield
    except Exception as exc:
        if _is_io_error(exc):
            raise WriteError(what, where, _reason(exc, folder)) from exc
        raise


@contextmanager
def _signals_held():
    """Hold back SIGINT and SIGTERM (deliver them after the block): the swap and the clean-up are not cut."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[int] = []
    held = [s for s in (signal.SIGINT, signal.SIGTERM)]
    previous = {s: signal.signal(s, lambda signum, frame: pending.append(signum)) for s in held}
    try:
        yield
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        if pending:
            handler = previous[pending[0]]
            if callable(handler):
                handler(pending[0], None)
            elif handler == signal.SIG_DFL:
                os.kill(os.getpid(), pending[0])


# ------------------------------------------------------------------------------------------------ leftovers
def _start_time(pid: int) -> str | None:
    """The start time of process ``pid`` (clock ticks since boot, from ``/proc``), or None."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
        return stat.rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _is_alive(tmp: Path, pid: int) -> bool:
    """Whether the process that made the temporary folder ``tmp`` may still be using it."""
    lock = {}
    try:
        with open(tmp / _LOCK, "rb") as f:
            lock = json.loads(f.read(4096).decode("utf-8"))
    except (OSError, ValueError):
        pass
    if not isinstance(lock, dict):
        lock = {}
    if lock.get("host") not in (None, socket.gethostname()):
        return True  # another machine's process: cannot tell
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    started = lock.get("start")
    return started is None or _start_time(pid) in (None, started)


def _clean_leftovers(places: Iterable[Path], stem: str) -> list[Path]:
    """Remove the temporary folders for target ``stem`` whose process is gone; return them."""
    removed = []
    for place in places:
        try:
            entries = list(os.scandir(place))
        except OSError:
            continue
        for entry in entries:
            m = _TMP.fullmatch(entry.name)
            if not m or m["name"] != stem or not entry.is_dir(follow_symlinks=False):
                continue
            if not _is_alive(Path(entry.path), int(m["pid"])):
                shutil.rmtree(entry.path, ignore_errors=True)
                removed.append(Path(entry.path))
    return removed


# ------------------------------------------------------------------------------------------------ staging
def _tmp_home(target: ResultsFolder) -> Path:
    """Where the temporary folder goes: beside the target, or inside an existing target that is a mount point
    or whose parent is not writable (a rename must stay on one file system)."""
    parent = target.path.parent
    if target.exists:
        try:
            if os.stat(target.path).st_dev != os.stat(parent).st_dev or not os.access(parent, os.W_OK):
                return target.path
        except OSError:
            return target.path
    return parent


def _make_parents(folder: Path) -> list[Path]:
    """Create ``folder`` and missing parents; return those created, deepest last."""
    missing = []
    p = folder
    while not os.path.lexists(p):
        missing.append(p)
        p = p.parent
    created = []
    for p in reversed(missing):
        os.mkdir(p)
        created.append(p)
    return created


def _remove_empty(folders: Iterable[Path]) -> None:
    for p in sorted(folders, key=lambda q: len(q.parts), reverse=True):
        try:
            p.rmdir()
        except OSError:
            pass


def _written_files(tmp: Path) -> tuple[list[str], list[str]]:
    """The files written into ``tmp`` and its whole folder outputs (:data:`WHOLE_FOLDERS`, not looked into)."""
    folders = sorted(name for name in WHOLE_FOLDERS if (tmp / name).is_dir() and not (tmp / name).is_symlink())
    out = []
    for root, dirs, files in os.walk(tmp):
        rel_root = Path(root).relative_to(tmp)
        if rel_root == Path("."):
            dirs[:] = [d for d in dirs if d not in _INTERNAL and d not in folders]
        out.extend((rel_root / f).as_posix() for f in files
                   if not (rel_root == Path(".") and f in _INTERNAL))
    return sorted(out), folders


def _manifest(files: Iterable[str], dirs: Iterable[str], record: dict, folders: Iterable[str] = ()) -> dict:
    return {"marker": MANIFEST_MARKER,
            "note": "uncertainty_footprint wrote the files and folders listed here; a rerun into this folder "
                    "replaces them and keeps every other file",
            "package": "uncertainty_footprint", "version": package_version(), **record,
            "written": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "files": sorted(files), "dirs": sorted(dirs), "folders": sorted(folders)}


def _write_json(path: Path, data: dict) -> None:
    """Write ``path`` atomically (:func:`~uncertainty_footprint.atomic.atomic_file`)."""
    with atomic_file(path, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")


def _parent_dirs(rel: str) -> list[str]:
    parts = rel.split("/")[:-1]
    return ["/".join(parts[: i + 1]) for i in range(len(parts))]


def _swap_in(tmp: Path, target: ResultsFolder, files: list[str], record: dict, folders: Sequence[str] = ()
             ) -> None:
    """Move the new files (and whole folder outputs) from ``tmp`` into the existing folder, one by one, keeping
    every file not ours.

    The previous versions go to ``tmp/.uncertainty_footprint.previous`` and come back if any step fails. First
    a manifest listing old and new files is put in place (so that an interrupted swap leaves nothing
    unaccounted for), then the files, then the final manifest.
    """
    out, backup = target.path, tmp / _BACKUP
    new, old = set(files), set(target.files)
    new_folders, old_folders = set(folders), set(target.folders)
    dirs_needed = {d for rel in files for d in _parent_dirs(rel)}
    for rel in sorted(new_folders):
        dest = out / rel
        if os.path.lexists(dest) and (rel not in old_folders or dest.is_symlink() or not dest.is_dir()):
            raise _refuse(target.shown, f"holds {rel}, which uncertainty_footprint did not write there (it is not "
                          f"in {MANIFEST})", advice="move it away or choose another --out")
    for rel in sorted(new):  # the precise check, now that the names are known
        dest = out / rel
        for d in _parent_dirs(rel):
            p = out / d
            if os.path.lexists(p) and (p.is_symlink() or not p.is_dir()):
                raise _refuse(target.shown, f"holds {d}, which is not a folder (uncertainty_footprint writes "
                              f"{rel} there)", advice="move it away or choose another --out")
        if os.path.lexists(dest) and (rel not in old or dest.is_symlink() or not dest.is_file()):
            raise _refuse(target.shown, f"holds {rel}, which uncertainty_footprint did not write there (it is "
                          f"not in {MANIFEST})", advice="move it away or choose another --out")
    done: list[tuple[str, str]] = []  # ("backup" | "new" | "dir", rel), for the rollback
    try:
        os.mkdir(backup)
        if os.path.lexists(out / MANIFEST):
            os.replace(out / MANIFEST, backup / MANIFEST)
            done.append(("backup", MANIFEST))
        _write_json(out / MANIFEST, _manifest(old | new, set(target.dirs) | dirs_needed, record,
                                              old_folders | new_folders))
        done.append(("new", MANIFEST))
        for rel in sorted(old | new):
            dest = out / rel
            if rel in old and os.path.lexists(dest) and dest.is_file() and not dest.is_symlink():
                (backup / rel).parent.mkdir(parents=True, exist_ok=True)
                os.replace(dest, backup / rel)
                done.append(("backup", rel))
        for rel in sorted(old_folders):  # whole folders: moved aside by one rename each
            dest = out / rel
            if os.path.lexists(dest) and dest.is_dir() and not dest.is_symlink():
                os.replace(dest, backup / rel)
                done.append(("backup", rel))
        for rel in sorted(new):
            for d in _parent_dirs(rel):
                if not os.path.lexists(out / d):
                    os.mkdir(out / d)
                    done.append(("dir", d))
            os.replace(tmp / rel, out / rel)
            done.append(("new", rel))
        for rel in sorted(new_folders):
            os.replace(tmp / rel, out / rel)
            done.append(("new", rel))
        created = {d for kind, d in done if kind == "dir"}
        ours = {d for d in target.dirs if (out / d).is_dir() and not (out / d).is_symlink()} | created
        _write_json(out / MANIFEST, _manifest(new, ours, record, new_folders))  # a folder stays ours while it exists
    except BaseException:
        for kind, rel in reversed(done):
            try:
                if kind == "new":
                    os.replace(out / rel, tmp / rel) if rel != MANIFEST else os.unlink(out / rel)
                elif kind == "backup":
                    os.replace(backup / rel, out / rel)
                else:
                    os.rmdir(out / rel)
            except OSError:
                pass
        raise
    _remove_empty(out / d for d in set(target.dirs) - dirs_needed)


def atomic_output_dir(target: ResultsFolder | str | os.PathLike, write: Callable[[Path, Callable[[str], None]], None],
                      *, record: dict | None = None) -> Path:
    """Write outputs into a fresh temporary folder beside ``target`` and move them into place if ``write``
    succeeds (see the module's rules).

    Parameters
    ----------
    target : ResultsFolder or path
        A checked folder (:func:`check_output_folder`); a path is checked here.
    write : callable
        ``write(folder, note)`` writes the outputs into ``folder``; ``note(text)`` says what it is doing, for the
        message of a failure (e.g. ``note('writing the figures')``).
    record : dict, optional
        Extra fields of the manifest (command, experiment files).

    Returns
    -------
    Path
        The folder written (absolute).

    Raises
    ------
    WriteError
        On a failing environment (nothing changed).
    """
    if not isinstance(target, ResultsFolder):
        target = check_output_folder(target)
    record = dict(record or {})
    home = _tmp_home(target)
    stem = target.path.name[:_NAME_KEEP]
    step = _Step("writing the results")
    job = _Unfinished()
    _UNFINISHED.append(job)
    try:
        with _io("creating the output folder", target.shown, home):
            with _signals_held():
                job.created = _make_parents(home)
        _clean_leftovers({home, target.path} if target.exists else {home}, stem)
        with _io("creating the temporary folder", str(home), home):
            with _signals_held():
                tmp = home / f".{stem}.tmp-{os.getpid()}-{secrets.token_hex(4)}"
                os.mkdir(tmp)
                job.tmp = tmp
                _write_json(tmp / _LOCK, {"pid": os.getpid(), "start": _start_time(os.getpid()),
                                          "host": socket.gethostname(), "target": str(target.path)})
        try:
            write(tmp, step)
        except Exception as exc:
            if _is_io_error(exc):
                name = getattr(exc, "filename", None)
                where = target.shown
                if isinstance(name, (str, bytes, os.PathLike)):
                    name = os.fsdecode(name)
                    if name.startswith(str(tmp)):
                        where = os.path.join(target.shown, os.path.relpath(name, tmp))
                raise WriteError(step.what, where, _reason(exc, tmp)) from exc
            raise
        files, folders = _written_files(tmp)
        with _io("moving the results into place", target.shown, target.path):
            with _signals_held():
                if not target.exists and not os.path.lexists(target.path):
                    _write_json(tmp / MANIFEST, _manifest(files, {d for r in files for d in _parent_dirs(r)},
                                                          record, folders))
                    os.unlink(tmp / _LOCK)
                    os.rename(tmp, target.path)
                else:
                    if not target.exists:  # appeared meanwhile: check it as an existing folder
                        target = check_output_folder(target.path)
                    _swap_in(tmp, target, files, record, folders)
                job.committed = True
    finally:
        with _signals_held():
            job.discard()
            _UNFINISHED.remove(job)
    return target.path


@dataclass
class _Unfinished:
    """A write in progress: its temporary folder and the parent folders it created."""

    tmp: Path | None = None
    created: list = field(default_factory=list)
    committed: bool = False

    def discard(self) -> None:
        if self.tmp is not None and os.path.lexists(self.tmp):
            shutil.rmtree(self.tmp, ignore_errors=True)
        if not self.committed:
            _remove_empty(self.created)


_UNFINISHED: list[_Unfinished] = []


def discard_unfinished() -> int:
    """Remove the temporary folders of this process's unfinished writes (and the parent folders they created, if
    empty); return how many. For a signal handler that ends the process at once (``os._exit``) instead of
    unwinding through library code; the previous results are untouched (a swap in progress holds signals back
    until it is complete)."""
    jobs = list(_UNFINISHED)
    for job in jobs:
        job.discard()
    return len(jobs)


def source_inputs(experiments) -> list:
    """The files and folders an output folder must not be or be above: the experiments' files and their data
    folders."""
    inputs = [e.source for e in experiments if Path(e.source).is_file()]
    return inputs + [e.data_dir for e in experiments if e.data_dir is not None]
