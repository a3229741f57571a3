"""The papers' data-generating processes, all offline."""

from ._gaussian_mixture import bayes_error, make_gaussian_mixture
from ._multiview import make_multiview
from ._presto import make_presto_data

__all__ = ["bayes_error", "make_gaussian_mixture", "make_multiview", "make_presto_data"]
