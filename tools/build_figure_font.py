"""Build the figure font the package ships: matplotlib's DejaVu Sans reduced to the characters figures use.

Usage (a developer's step, run again when the character ranges change; needs fontTools, which matplotlib brings)::

    python tools/build_figure_font.py

Writes ``uncertainty_footprint/reports/fonts/DejaVuSansUF.ttf`` and the font's licence beside it.

Why: a PDF embeds a subset of each font it uses (TrueType, ``pdf.fonttype: 42``), and matplotlib's PDF backend
subsets the whole 6000-glyph DejaVu Sans for every PDF; subsetting this 600-glyph copy takes a fraction of that
(``benchmarks/figures_benchmark.py`` measures it). The glyphs are DejaVu's own, so the pixels of the figures do not
change. The DejaVu licence (Bitstream Vera terms) allows modified copies under another name: the family is
``DejaVu Sans UF``.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

import matplotlib
from fontTools import subset

#: Family name of the reduced font (a modified Bitstream Vera / DejaVu font must not be called "Vera").
FAMILY = "DejaVu Sans UF"
#: Unicode ranges (inclusive) kept: ASCII, Latin-1 and Latin Extended-A, Greek, general punctuation, super- and
#: subscripts, arrows, a few mathematical signs and geometric shapes (the triangles of the figures).
RANGES = ((0x20, 0x7E), (0xA0, 0x17F), (0x370, 0x3FF), (0x2010, 0x205E), (0x2070, 0x209F), (0x2190, 0x2193),
          (0x2212, 0x2212), (0x221E, 0x221E), (0x2248, 0x2248), (0x2260, 0x2265), (0x25A0, 0x25CF))
OUT = Path(__file__).resolve().parent.parent / "uncertainty_footprint" / "reports" / "fonts"


def main() -> None:
    fonts = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    options = subset.Options(glyph_names=True, recommended_glyphs=True, layout_features=["*"], name_IDs=["*"],
                             name_languages=["*"], notdef_outline=True, legacy_kern=True)
    options.drop_tables += ["FFTM"]  # FontForge's time stamp
    font = subset.load_font(str(fonts / "DejaVuSans.ttf"), options)
    font.recalcTimestamp = False  # the same source gives the same bytes
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[c for lo, hi in RANGES for c in range(lo, hi + 1)])
    subsetter.subset(font)
    for record in font["name"].names:
        if record.nameID in (1, 4, 16):  # family, full name, typographic family
            record.string = FAMILY
        elif record.nameID in (3, 6):  # unique id, PostScript name
            record.string = FAMILY.replace(" ", "")
    buffer = io.BytesIO()
    font.save(buffer)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "DejaVuSansUF.ttf").write_bytes(buffer.getvalue())
    shutil.copyfile(fonts / "LICENSE_DEJAVU", OUT / "LICENSE_DEJAVU")
    print(f"wrote {OUT / 'DejaVuSansUF.ttf'} ({len(buffer.getvalue())} bytes)")


if __name__ == "__main__":
    main()
