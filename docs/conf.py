"""Sphinx configuration of the axonforge documentation.

Build (offline, no GPU):  sphinx-build -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import axonforge

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))  # for gallery_hooks (sphinx-gallery imports callables by name)

# The gallery runs the examples in this process: no progress bars in their captured
# output, and Matplotlib without a display.
os.environ.setdefault("TQDM_DISABLE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

project = "axonforge"
author = "the axonforge developers"
copyright = "the axonforge developers"
release = version = axonforge.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]

exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = []
root_doc = "index"
default_role = "code"

# --- autodoc / autosummary / numpydoc --------------------------------------------------
autosummary_generate = False  # tables only; objects are documented on the API pages
autodoc_default_options = {"member-order": "bysource"}
autodoc_typehints = "none"  # types are in the numpydoc sections
autodoc_class_signature = "mixed"
numpydoc_show_class_members = False  # members come from autodoc, not numpydoc tables
numpydoc_class_members_toctree = False
numpydoc_attributes_as_param_list = True

# --- sphinx-gallery --------------------------------------------------------------------
# Executed during the build: the fast examples (a few seconds each on 2 cores). The
# others (brunel, distal_reward, song_stdp: minutes) are shown with their code only.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"[\\/](cuba|izhikevich_network|sweep)\.py$",
    "reset_argv": "gallery_hooks.reset_argv",
    "image_scrapers": ("gallery_hooks.png_scraper",),
    "within_subsection_order": "FileNameSortKey",
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "abort_on_example_error": True,
    "line_numbers": False,
    "capture_repr": (),
}

# --- HTML ------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"axonforge {release}"
html_static_path = []
html_show_sourcelink = False
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "use_edit_page_button": False,
}
