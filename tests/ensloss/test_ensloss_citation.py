"""The EnsLoss paper is cited with one venue everywhere (issue 17): Dai, ICML 2025."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
GENERATED = {"_build", "auto_examples", "generated", "__pycache__"}
# "Dai", then up to 160 characters of title without a full stop, then the venue and year
CITATION = re.compile(r"\bDai\b[^.]{0,160}?\b((?:[A-Z]{3,}\s+)?(?:19|20)\d\d)\b")


def cited_years():
    files = [ROOT / "README.md"]
    for folder, pattern in (("sklearn_losses", "*.py"), ("examples", "*.py"), ("doc", "*.rst")):
        files += [p for p in (ROOT / folder).rglob(pattern) if not GENERATED & set(p.parts)]
    for path in files:
        for match in CITATION.finditer(path.read_text(encoding="utf-8")):
            yield path.relative_to(ROOT), " ".join(match.group(1).split())


def test_ensloss_is_cited_as_icml_2025_everywhere():
    found = list(cited_years())
    assert len(found) >= 6  # package, subpackage, docstrings, user guide, example, README
    assert {year for _, year in found} == {"ICML 2025"}, found
