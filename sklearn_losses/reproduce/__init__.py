"""Reproductions of each paper's headline experiment.

A family registers its reproduction by shipping ``reproduce/<family>.py`` with a
function ``run(*, quick, out, random_state) -> Report``.  A family without that
module is reported as not available; nothing is faked.
"""

import importlib

from .. import FAMILIES
from ._report import Report, Table

__all__ = ["Report", "Table", "available", "run"]


def available():
    """Return ``{family: bool}``: whether each family ships a reproduction."""
    status = {}
    for family in FAMILIES:
        status[family] = importlib.util.find_spec(f"sklearn_losses.reproduce.{family}") is not None
    return status


def run(family, *, quick=False, out=None, random_state=0):
    """Run the reproduction of ``family`` and return its :class:`Report`."""
    if family not in FAMILIES:
        raise ValueError(f"Unknown family {family!r}; choose among {sorted(FAMILIES)}.")
    if not available()[family]:
        raise LookupError(f"The {family!r} family has no reproduction yet (not built).")
    module = importlib.import_module(f"sklearn_losses.reproduce.{family}")
    return module.run(quick=quick, out=out, random_state=random_state)
