"""Sphinx configuration.  Builds offline: intersphinx only with SKLEARN_LOSSES_DOCS_ONLINE=1."""

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("MPLBACKEND", "Agg")

import sklearn_losses
from sklearn_losses import FAMILIES
from sklearn_losses.utils.discovery import all_families

project = "sklearn_losses"
author = "sklearn_losses developers"
release = version = sklearn_losses.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "numpydoc",
    "sphinx_gallery.gen_gallery",
]
if os.environ.get("SKLEARN_LOSSES_DOCS_ONLINE") == "1":
    extensions.append("sphinx.ext.intersphinx")
    intersphinx_mapping = {
        "python": ("https://docs.python.org/3", None),
        "numpy": ("https://numpy.org/doc/stable", None),
        "sklearn": ("https://scikit-learn.org/stable", None),
    }

templates_path = ["_templates"]
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py"]
html_theme = "pydata_sphinx_theme"
html_title = "sklearn_losses"
autosummary_generate = True
# the set_*_request methods come from scikit-learn with references to its own docs
autodoc_default_options = {
    "members": True,
    "inherited-members": False,
    "exclude-members": "set_fit_request, set_score_request, set_partial_fit_request, "
    "set_predict_request, set_predict_proba_request, set_transform_request, "
    "set_output, set_params, get_params, get_metadata_routing",
}
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "download_all_examples": False,
    "remove_config_comments": True,
}


def _section(title, module_name, names, intro=(), template="class.rst"):
    """One module's part of the API page: a heading and an autosummary table of its names."""
    title = f"``{module_name}``" if title is None else title
    lines = [title, "-" * len(title), "", *intro]
    lines += [f".. currentmodule:: {module_name}", "", ".. autosummary::", "   :toctree: ."]
    lines += [f"   :template: {template}"] if template else []
    return lines + ["", *(f"   {name}" for name in names), ""]


def _write_api_reference(path):
    """The API page, listing every public name of every built family, read from the package.

    Written under doc/generated/ (git-ignored, like the autosummary stubs beside it), so a docs
    build leaves the work tree clean; rewritten only when its content changes.
    """
    from sklearn_losses import datasets, utils

    lines = ["API reference", "=============", ""]
    for family, module in all_families().items():
        subpackage, paper = FAMILIES[family]
        lines += _section(None, f"sklearn_losses.{subpackage}", module.__all__, (paper, ""))
    if not all_families():
        lines += ["No family is built yet.", ""]
    lines += _section(None, "sklearn_losses.datasets", datasets.__all__, template=None)
    lines += _section(None, "sklearn_losses.utils", utils.__all__)
    text = "\n".join(lines)
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text() != text:
        path.write_text(text)


_write_api_reference(Path(__file__).parent / "generated" / "api.rst")
