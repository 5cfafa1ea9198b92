"""Sphinx extension: the reference-data pages from the shipped data catalog.

At the start of every build it writes, into ``docs/reference/generated/`` (ignored by git):

* ``parameters.md``: every distribution record of ``distributions/*.yaml`` (name, distribution, unit, nominal,
  status, pedigree, source), grouped by file;
* ``hsl_items.md``: every HSL quantity of ``hsl_items.csv`` (block, HSL, item, low/typical/high, unit, factor);
* ``methods.md``: the alternative methods and what they cover, with their parameters;
* ``sources.md``: the bibliography (``sources.yaml``).

The tables come from :func:`uncertainty_footprint.catalog` (the package's own validated view of the data), so the
pages cannot disagree with what a run uses. Markdown tables are made with pandas (``DataFrame.to_markdown``).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

OUT = Path(__file__).resolve().parent.parent / "reference" / "generated"


def _cell(value) -> str:
    """Text of a table cell: one line, pipes escaped."""
    return str(value).replace("\n", " ").replace("|", "\\|")


def _table(frame: pd.DataFrame) -> str:
    frame = frame.map(_cell)
    frame.columns = [_cell(c) for c in frame.columns]
    return frame.to_markdown(index=False)


def _parameters(cat) -> str:
    rows = []
    for name, p in cat.parameters.items():
        origin = str(p.origin).split(":")[0].rsplit("/", 1)[-1]
        pedigree = "" if p.pedigree is None else f"({', '.join(str(s) for s in p.pedigree.scores)}) {p.pedigree.table}"
        rows.append({"file": origin, "parameter": f"`{name}`", "distribution": p.distribution.describe(),
                     "unit": p.unit, "nominal": f"{p.nominal:g}", "status": p.status, "pedigree": pedigree,
                     "source": ", ".join(p.source)})
    frame = pd.DataFrame(rows)
    parts = ["# Distribution records\n",
             "Every parameter of the shipped catalog (`distributions/*.yaml`), as `list parameters` shows it. Status: "
             "quoted (a value the source states), inferred (derived from published numbers), assumed (a "
             "placeholder with no published basis; its spread comes from its pedigree scores: reliability, "
             "completeness, temporal, geographical, technological). HSL quantities are in "
             "[the HSL items](hsl_items.md); the methods' parameters in [the methods](methods.md).\n"]
    for origin, group in frame.groupby("file", sort=False):
        parts += [f"## `{origin}`\n", _table(group.drop(columns="file")), ""]
    return "\n".join(parts)


def _hsl_items(cat) -> str:
    table = cat.blocks_table()
    table = table[table["item"] != ""]
    frame = pd.DataFrame({"block": table["block"], "HSL": table["hsl"], "item": table["item"],
                          "quantity": "`" + table["parameter"] + "`", "unit": table["unit"],
                          "low / typical / high": [f"{lo:g} / {ty:g} / {hi:g}" for lo, ty, hi in
                                                   zip(table["low"], table["typical"], table["high"])],
                          "factor": table["factor"], "status": table["status"], "source": table["source"]})
    return ("# HSL items\n\nThe quantities of every functional block at every hardware specification level "
            "(Pirson & Bol 2021; `distributions/hsl_items.csv`). An experiment samples them between low and high "
            "(PERT with the typical value as mode by default).\n\n" + _table(frame) + "\n")


def _methods(cat) -> str:
    table = cat.methods_table().reset_index()
    parts = ["# Methods\n", "The alternative methods of `distributions/methods.yaml` and the blocks and HSLs each "
             "computes (see the user guide's page on methods).\n", _table(table), ""]
    rows = [{"method": m.name, "parameter": f"`{n}`", "distribution": p.distribution.describe(), "unit": p.unit,
             "status": p.status, "source": ", ".join(p.source)}
            for m in cat.methods.values() for n, p in m.parameters.items()]
    if rows:
        parts += ["## Their parameters\n", _table(pd.DataFrame(rows)), ""]
    return "\n".join(parts)


def _sources(cat) -> str:
    lines = ["# Sources\n", "The bibliography of the shipped data (`distributions/sources.yaml`); every record "
             "cites keys of it.\n"]
    lines += [f"- **`{key}`**: {_cell(cite)}" for key, cite in cat.sources.items()]
    return "\n".join(lines) + "\n"


def write_pages(app=None) -> list[Path]:
    """Write the generated pages (a file is rewritten only when its text changed, so Sphinx rebuilds what changed)."""
    import uncertainty_footprint as uf

    cat = uf.catalog()
    OUT.mkdir(parents=True, exist_ok=True)
    written = []
    for name, make in (("parameters", _parameters), ("hsl_items", _hsl_items), ("methods", _methods),
                       ("sources", _sources)):
        path = OUT / f"{name}.md"
        text = make(cat)
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def setup(app):
    app.connect("builder-inited", write_pages)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}
