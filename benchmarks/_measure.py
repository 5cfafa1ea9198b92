"""Shared helpers of the benchmarks: memory probes, fresh-subprocess runner with a memory watchdog, machine
description and a dependency-free Markdown table writer.

Memory vocabulary used by the benchmarks
-----------------------------------------
* ``peak``: ``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the worker process at the end of the measured
  section (Linux reports KiB; converted to MiB).  The worker is a fresh ``python`` process, so its peak is the
  peak of the one case it runs.  ``VmHWM`` of ``/proc/self/status`` (the high-water mark of the process' own
  address space) is recorded as a cross-check: on Linux ``ru_maxrss`` of an exec'ed child can inherit the
  parent's high-water mark, ``VmHWM`` cannot.
* ``baseline``: the current RSS (``VmRSS``) after imports, model building and warm-up, just before the
  measured section.
* ``increment``: ``peak - baseline``, the memory the measured section itself needed.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from importlib import metadata
from pathlib import Path

__all__ = [
    "MiB",
    "proc_status_mib",
    "rss_mib",
    "hwm_mib",
    "maxrss_mib",
    "run_fresh",
    "machine_info",
    "markdown_table",
]

MiB = 2.0**20


def proc_status_mib(key: str, pid: int | str = "self") -> float | None:
    """Value of ``key`` (e.g. ``VmRSS``, ``VmHWM``) in ``/proc/<pid>/status``, in MiB; None if unavailable."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith(key + ":"):
                    return float(line.split()[1]) / 1024.0  # kB
    except OSError:
        return None
    return None


def rss_mib() -> float | None:
    """Current resident set size of this process, MiB."""
    return proc_status_mib("VmRSS")


def hwm_mib() -> float | None:
    """Peak resident set size of this process' address space (``VmHWM``), MiB."""
    return proc_status_mib("VmHWM")


def maxrss_mib() -> float:
    """``ru_maxrss`` of this process, MiB (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def run_fresh(argv: list[str], *, timeout: float, mem_limit_mib: float, cwd: str | os.PathLike | None = None,
              poll: float = 0.05) -> tuple[int, str, str, float, bool]:
    """Run ``argv`` in a fresh process; kill it if its RSS exceeds ``mem_limit_mib`` or it outlives ``timeout``.

    Returns
    -------
    returncode, stdout, stderr, wall seconds, killed_for_memory
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(argv, stdout=out, stderr=err, cwd=cwd)
        killed_mem = False
        try:
            while proc.poll() is None:
                rss = proc_status_mib("VmRSS", proc.pid)
                if rss is not None and rss > mem_limit_mib:
                    killed_mem = True
                    proc.kill()
                    break
                if time.perf_counter() - t0 > timeout:
                    proc.kill()
                    break
                time.sleep(poll)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
        wall = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        return proc.returncode, out.read(), err.read(), wall, killed_mem


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info(packages: tuple[str, ...] = ("numpy", "scipy", "SALib", "openturns", "xarray", "pandas")) -> dict:
    """CPU model, core count, RAM, Python and package versions (and thread-count environment variables)."""
    cpu = None
    physical = set()
    try:
        with open("/proc/cpuinfo") as fh:
            phys = core = None
            for line in fh:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "model name" and cpu is None:
                    cpu = value
                elif key == "physical id":
                    phys = value
                elif key == "core id":
                    core = value
                    physical.add((phys, core))
    except OSError:
        pass
    ram = proc_meminfo_gib()
    info = {
        "cpu": cpu or platform.processor() or "unknown",
        "logical_cores": os.cpu_count(),
        "physical_cores": len(physical) or None,
        "ram_gib": None if ram is None else round(ram, 1),
        "python": platform.python_version(),
        "platform": platform.platform(),
    }
    for name in packages:
        info[name] = _version(name)
    threads = {k: os.environ[k] for k in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
               if k in os.environ}
    info["thread_env"] = ", ".join(f"{k}={v}" for k, v in threads.items()) or "unset (library defaults)"
    return info


def proc_meminfo_gib() -> float | None:
    """Total RAM in GiB from ``/proc/meminfo``."""
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemTotal:"):
                    return float(line.split()[1]) / 2**20
    except OSError:
        return None
    return None


def markdown_table(header: list[str], rows: list[list]) -> str:
    """A GitHub-flavoured Markdown table of already formatted cells."""
    cells = [[str(c) for c in header]] + [["" if c is None else str(c) for c in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    line = lambda row: "| " + " | ".join(c.ljust(w) for c, w in zip(row, widths)) + " |"  # noqa: E731
    sep = "|" + "|".join("-" * (w + 2) for w in widths) + "|"
    return "\n".join([line(cells[0]), sep] + [line(r) for r in cells[1:]])


def dump_json(obj, path: str | os.PathLike) -> None:
    """Write ``obj`` as JSON (atomic rename)."""
    path = Path(path)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(json.dumps(obj, indent=1, default=float))
    os.replace(tmp, path)


def load_averages(info: dict, before: tuple[float, float, float]) -> dict:
    """``info`` with the load averages before a benchmark (``before``, from :func:`os.getloadavg`) and now."""
    info["load_average_before"] = " ".join(f"{x:.2f}" for x in before)
    info["load_average_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    return info


def save_report(out: str | os.PathLike, stem: str, text: str, data: dict) -> None:
    """Write ``stem.md`` (``text``) and ``stem.json`` (``data``) into ``out`` (created if missing); print ``text``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"{stem}.md").write_text(text)
    dump_json(data, out / f"{stem}.json")
    print(text)


if __name__ == "__main__":  # pragma: no cover - manual check
    json.dump(machine_info(), sys.stdout, indent=1)
