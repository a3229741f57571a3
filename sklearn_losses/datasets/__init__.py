"""The papers' data-generating processes, all offline."""

from ._gaussian_mixture import bayes_error, make_gaussian_mixture

__all__ = ["bayes_error", "make_gaussian_mixture"]
