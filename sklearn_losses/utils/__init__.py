"""Helpers shared by the families."""

from ._convergence import DivergenceError
from .discovery import all_estimators, all_families

__all__ = ["DivergenceError", "all_estimators", "all_families"]
