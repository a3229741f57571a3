"""Helpers shared by the families."""

from .discovery import all_estimators, all_families

__all__ = ["all_estimators", "all_families"]
