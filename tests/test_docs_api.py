"""The API page is generated into an ignored folder and lists every public name (issue 17)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from sklearn_losses import datasets, utils
from sklearn_losses.utils import all_families

ROOT = Path(__file__).resolve().parents[1]
CONF = ROOT / "doc" / "conf.py"


def run_conf(doc_dir, monkeypatch):
    """Execute doc/conf.py as Sphinx does (``exec`` with ``__file__``), from ``doc_dir``."""
    monkeypatch.setattr(sys, "path", list(sys.path))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    code = compile(CONF.read_text(), str(doc_dir / "conf.py"), "exec")
    exec(code, {"__file__": str(doc_dir / "conf.py"), "tags": None})
    return doc_dir / "generated" / "api.rst"


def documented(text):
    """``{module: [names]}`` of the autosummary tables of an API page."""
    tables = {}
    for chunk in text.split(".. currentmodule:: ")[1:]:
        module, _, body = chunk.partition("\n")
        tables[module.strip()] = re.findall(r"^ {3}(\w+)$", body, flags=re.MULTILINE)
    return tables


def test_api_page_lists_every_public_name(tmp_path, monkeypatch):
    (tmp_path / "doc").mkdir()
    page = run_conf(tmp_path / "doc", monkeypatch)
    # conf.py writes the page under doc/generated/ and nothing else
    assert [p.relative_to(tmp_path) for p in tmp_path.rglob("*") if p.is_file()] == [
        Path("doc/generated/api.rst")
    ]
    expected = {module.__name__: list(module.__all__) for module in all_families().values()}
    expected["sklearn_losses.datasets"] = list(datasets.__all__)
    expected["sklearn_losses.utils"] = list(utils.__all__)
    tables = documented(page.read_text())
    assert tables == expected
    assert "bag_size_search" in tables["sklearn_losses.aggregate"]
    assert len(tables) == len(all_families()) + 2
    # the six families' tables are all there once every family is built
    assert len(all_families()) == 6


def test_generated_sources_are_ignored_by_git():
    """Whatever conf.py and autosummary write must be ignored, so a docs build leaves git clean."""
    if not (ROOT / ".git").exists():
        pytest.skip("not a git checkout")
    paths = ["doc/generated/api.rst", "doc/generated/sklearn_losses.aggregate.bag_size_search.rst"]
    ignored = subprocess.run(
        ["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True, check=False
    ).stdout.split()
    assert ignored == paths
    tracked = subprocess.run(
        ["git", "ls-files", "doc/generated"], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    assert tracked == ""
