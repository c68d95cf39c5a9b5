"""sphinx-gallery hooks for the axonforge examples (named in conf.py by import path).

The examples are plain scripts: they parse ``sys.argv`` with argparse (using the first
line of their module docstring as the description) and write their figure with
``axonforge.plot.summary(..., path=...)`` or ``fig.savefig``, which saves and closes it,
so sphinx-gallery's matplotlib scraper never sees an open figure. sphinx-gallery runs an
example in its own folder with no arguments, so it writes its default file
(``cuba_raster.png``, ...) there, exactly as ``python examples/cuba.py`` would. Here:

* :func:`reset_argv` notes when the example starts and restores its ``__doc__``, which
  sphinx-gallery blanks (the examples' argparse descriptions read it);
* :func:`png_scraper` moves the PNG files the example wrote since then into the gallery.
"""

from __future__ import annotations

import ast
import shutil
import time
from pathlib import Path

from sphinx_gallery.scrapers import figure_rst

_started = {}  # example folder -> time the current example started


def reset_argv(gallery_conf, script_vars):
    """Command-line arguments of an executed example (none: its defaults)."""
    src = Path(script_vars["src_file"])
    doc = ast.get_docstring(ast.parse(src.read_text(encoding="utf-8")))
    script_vars["example_globals"]["__doc__"] = doc or ""
    _started[src.parent] = time.time() - 1.0  # file times may be coarser than the clock
    return []


def png_scraper(block, block_vars, gallery_conf):
    """Move the PNG files written by the example just run into the gallery; their reST."""
    import matplotlib.pyplot as plt

    plt.close("all")  # figures left open are not part of an example's output
    folder = Path(block_vars["src_file"]).parent
    since = _started.get(folder, float("inf"))
    written = sorted(p for p in folder.glob("*.png") if p.stat().st_mtime >= since)
    images = []
    for png, target in zip(written, block_vars["image_path_iterator"]):
        shutil.move(str(png), str(target))
        images.append(target)
    return figure_rst(images, gallery_conf["src_dir"]) if images else ""
