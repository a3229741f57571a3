"""Reproductions of each paper's headline experiment.

A family registers its reproduction by shipping ``reproduce/<family>.py`` with a
function ``run(*, quick, out, random_state) -> Report`` and a function
``plan(quick) -> list of str`` that says what ``run`` is about to do (and
``USES_TORCH = True`` when it trains networks).  A family
without that module is reported as not available; nothing is faked.

A family is named by its short name (``presto``) or by its subpackage
(``ordinal``): :func:`resolve_family` maps either to the short name.
"""

import importlib

from .. import FAMILIES
from ._report import Report, Table, one_thread, progress, progress_to

__all__ = [
    "FAMILY_NAMES",
    "Report",
    "Table",
    "available",
    "plan",
    "progress",
    "progress_to",
    "resolve_family",
    "run",
]

#: Every accepted name -> the family's short name (the key of ``FAMILIES``).
FAMILY_NAMES = {
    **{subpackage: family for family, (subpackage, _) in FAMILIES.items()},
    **{family: family for family in FAMILIES},
}


def resolve_family(name):
    """The short family name for ``name``, a short name or a subpackage name."""
    try:
        return FAMILY_NAMES[name]
    except KeyError:
        choices = ", ".join(
            f"{family} ({subpackage})" if subpackage != family else family
            for family, (subpackage, _) in FAMILIES.items()
        )
        raise ValueError(f"Unknown family {name!r}; choose among {choices}.") from None


def available():
    """Return ``{family: bool}``: whether each family ships a reproduction."""
    status = {}
    for family in FAMILIES:
        status[family] = importlib.util.find_spec(f"sklearn_losses.reproduce.{family}") is not None
    return status


def _module(family):
    family = resolve_family(family)
    if not available()[family]:
        raise LookupError(f"The {family!r} family has no reproduction yet (not built).")
    return importlib.import_module(f"sklearn_losses.reproduce.{family}")


def plan(family, *, quick=False):
    """Lines saying what the reproduction of ``family`` runs, before it runs."""
    return list(_module(family).plan(quick))


def run(family, *, quick=False, out=None, random_state=0):
    """Run the reproduction of ``family`` and return its :class:`Report`.

    It runs on one thread (:func:`~._report.one_thread`; a module that trains torch
    networks says so with ``USES_TORCH = True``).
    """
    module = _module(family)
    with one_thread(torch=getattr(module, "USES_TORCH", False)):
        return module.run(quick=quick, out=out, random_state=random_state)
