"""CCA, ridge CCA and PLS (Chapman, Wells & Lawry Aguila, ICLR 2024).

:class:`CCA` is the exact solver; :class:`StochasticCCA` minimises the
unconstrained Eckart-Young loss by minibatch SGD with two independent batches
(an unbiased gradient) for data streamed from disk.
"""

from ._base import paired_correlations
from ._cca import CCA
from ._deep import DeepCCA
from ._loss import eckart_young_gradient, eckart_young_loss
from ._multiview import MultiviewCCA
from ._multiview_stochastic import StochasticMultiviewCCA
from ._permutation import permutation_test
from ._stochastic import StochasticCCA

__all__ = [
    "CCA",
    "DeepCCA",
    "MultiviewCCA",
    "StochasticCCA",
    "StochasticMultiviewCCA",
    "eckart_young_gradient",
    "eckart_young_loss",
    "paired_correlations",
    "permutation_test",
]
