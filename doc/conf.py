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


def _write_api_reference():
    """api.rst lists each built family's public names, read from the package itself."""
    lines = ["API reference", "=============", ""]
    for family, module in all_families().items():
        subpackage, paper = FAMILIES[family]
        title = f"``sklearn_losses.{subpackage}``"
        lines += [title, "-" * len(title), "", paper, ""]
        lines += [f".. currentmodule:: sklearn_losses.{subpackage}", ""]
        lines += [".. autosummary::", "   :toctree: generated/", "   :template: class.rst", ""]
        lines += [f"   {name}" for name in module.__all__]
        lines.append("")
    if not all_families():
        lines.append("No family is built yet.")
    from sklearn_losses import datasets

    lines += ["``sklearn_losses.datasets``", "-" * 28, ""]
    lines += [".. currentmodule:: sklearn_losses.datasets", "", ".. autosummary::"]
    lines += ["   :toctree: generated/", ""]
    lines += [f"   {name}" for name in datasets.__all__] or ["   "]
    (Path(__file__).parent / "api.rst").write_text("\n".join(lines) + "\n")


_write_api_reference()
