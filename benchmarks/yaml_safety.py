"""Time and memory of refusing hostile experiment files (issue 8: within 0.5 s and 100 MB).

Usage::

    python benchmarks/yaml_safety.py [--out DIR]

Each case writes a hostile file, then a fresh Python process imports the package, loads the catalog and times
``build_model(load_experiment(FILE), catalog)`` (and, separately, the whole ``python -m uncertainty_footprint
validate FILE`` command, interpreter start and imports included). Memory is the growth of the process's peak
resident set during the check (``ru_maxrss`` after minus before, above the peak of the imports) and the peak of
Python allocations during a second check under ``tracemalloc``. Writes
``yaml_safety.csv`` and ``yaml_safety.md`` to DIR (default ``benchmarks/output/``).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIB = 1 << 20


def _bomb(levels: int = 9, width: int = 9) -> str:
    lines = ['l0: &l0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        lines.append(f"l{i}: &l{i} [" + ", ".join([f"*l{i - 1}"] * width) + "]")
    return "\n".join(lines) + "\n"


def cases() -> dict[str, str | bytes]:
    """Case name -> file content."""
    bomb = _bomb()
    return {
        "alias bomb in name (10^9 nodes)": "x_anchors:\n" + "".join("  " + ln + "\n" for ln in bomb.splitlines())
                                            + "name: *l8\n",
        "alias bomb in blocks": "name: x\nanchors:\n" + "".join("  " + ln + "\n" for ln in bomb.splitlines())
                                + "blocks: {casing: *l8}\n",
        "10 MB file (valid YAML list)": "name: x\nlist:\n" + "  - 1\n" * (10 * MIB // 6),
        "10 MB bad value (name)": "name: " + "x" * (10 * MIB) + "\n",
        "1 MiB - 1 kB bad value (sampling.design)": "name: x\nsampling: {design: " + "y" * (MIB - 1024) + "}\n",
        "1 MiB - 1 kB bad value (parameters.lifetime.low)": "name: x\nparameters:\n  lifetime: {family: uniform, low: "
                                                            + "z" * (MIB - 1024) + ", high: 3}\n",
        "1 MiB of nesting [[[[...": "name: x\nblocks: " + "[" * (MIB - 100) + "\n",
        "1 MiB list (250k nodes)": "name: x\nlist:\n" + "- 1\n" * (MIB // 4 - 10),
        "duplicate key": "name: x\nblocks:\n  casing: 1\n  casing: 2\n",
    }


CHILD = r"""
import json, resource, sys, time, tracemalloc
from uncertainty_footprint.errors import ConfigError
from uncertainty_footprint.inputs.catalog import load_catalog
from uncertainty_footprint.inputs.schema import load_experiment
from uncertainty_footprint.model.builder import build_model
catalog = load_catalog()
path = sys.argv[1]


def check():
    try:
        build_model(load_experiment(path), catalog)
        return "(accepted)"
    except ConfigError as exc:
        return str(exc)


rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t0 = time.perf_counter()
message = check()
seconds = time.perf_counter() - t0
rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
check()
peak = tracemalloc.get_traced_memory()[1]
print(json.dumps({"seconds": seconds, "rss_before_mib": rss0 / 1024, "rss_growth_mib": (rss1 - rss0) / 1024,
                  "python_peak_mib": peak / 2**20, "message_chars": len(message) + len("error: "),
                  "message": message[:160]}))
"""


def run(out: Path) -> list[dict]:
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for name, content in cases().items():
            path = Path(tmp) / "hostile.yaml"
            if isinstance(content, bytes):
                path.write_bytes(content)
            else:
                path.write_text(content, encoding="utf-8")
            res = subprocess.run([sys.executable, "-c", CHILD, str(path)], capture_output=True, text=True,
                                 timeout=600)
            row = {"case": name, "file_mib": path.stat().st_size / MIB, **json.loads(res.stdout)}
            t0 = time.perf_counter()
            cli = subprocess.run([sys.executable, "-m", "uncertainty_footprint", "validate", str(path), "--quiet"],
                                 capture_output=True, text=True, timeout=600)
            row["cli_seconds"] = time.perf_counter() - t0
            row["cli_exit"] = cli.returncode
            row["cli_stderr_lines"] = cli.stderr.count("\n")
            rows.append(row)
            print(f"{name:48s} {row['file_mib']:7.2f} MiB  load {row['seconds'] * 1e3:8.1f} ms  "
                  f"rss +{row['rss_growth_mib']:6.1f} MiB  py peak {row['python_peak_mib']:6.1f} MiB  "
                  f"cli {row['cli_seconds']:5.2f} s exit {row['cli_exit']}  msg {row['message_chars']} chars",
                  flush=True)
    import csv

    keys = ["case", "file_mib", "seconds", "rss_before_mib", "rss_growth_mib", "python_peak_mib", "cli_seconds", "cli_exit",
            "cli_stderr_lines", "message_chars", "message"]
    with open(out / "yaml_safety.csv", "w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, keys)
        writer.writeheader()
        writer.writerows({k: r[k] for k in keys} for r in rows)
    lines = ["| case | file | load_experiment | peak RSS growth | Python peak | whole `validate` | exit | message |",
             "|---|---|---|---|---|---|---|---|"]
    lines += [f"| {r['case']} | {r['file_mib']:.2f} MiB | {r['seconds'] * 1e3:.1f} ms | {r['rss_growth_mib']:.1f} MiB "
              f"| {r['python_peak_mib']:.1f} MiB | {r['cli_seconds']:.2f} s | {r['cli_exit']} "
              f"| {r['message_chars']} chars |"
              for r in rows]
    (out / "yaml_safety.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return rows


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "output", help="output folder")
    args = parser.parse_args(argv)
    run(args.out)
    print(f"Tables in {args.out}/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
