"""Writing a file all at once or not at all: the package's one atomic-write helper.

:func:`atomic_file` opens a temporary file beside the target (same folder, so the same file system) and, when the
block ends without an error, moves it over the target with :func:`os.replace`, which is atomic on POSIX and
Windows: a reader sees the previous file or the new one, never a part. On any error (or Ctrl-C) the temporary
file is removed and the target is left as it was. Used by the disk cache
(:mod:`uncertainty_footprint.inputs.cache`) and by the results-folder manifest (:mod:`uncertainty_footprint.io.folder`).
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Iterator

__all__ = ["atomic_file"]


@contextmanager
def atomic_file(path: str | os.PathLike, mode: str = "wb", *, encoding: str | None = None) -> Iterator[IO]:
    """A file object whose content replaces ``path`` when the block ends without an error.

    Parameters
    ----------
    path : path
        The target (created or replaced); its folder must exist.
    mode : {'wb', 'w'}
        Binary or text.
    encoding : str, optional
        Of a text file (default UTF-8).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> target = pathlib.Path(tempfile.mkdtemp()) / "a.txt"
    >>> with atomic_file(target, "w") as f:
    ...     _ = f.write("hello")
    >>> target.read_text()
    'hello'
    """
    if mode not in ("wb", "w"):
        raise ValueError(f"mode must be 'wb' or 'w', got {mode!r}")
    path = Path(path)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name[:60]}.", suffix=".tmp")
    try:
        os.fchmod(fd, 0o666 & ~_umask())  # mkstemp's 0600 -> what open() would have given (a shared folder)
        with os.fdopen(fd, mode, **({"encoding": encoding or "utf-8"} if mode == "w" else {})) as f:
            yield f
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def _umask() -> int:
    """The process's umask: from ``/proc/self/status`` (Linux), else by setting it and restoring it at once."""
    try:
        with open("/proc/self/status", encoding="ascii", errors="replace") as f:
            for line in f:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
