"""EnsLoss: classifiers trained on random calibrated loss ensembles (Dai, ICML 2025).

:func:`calibrated_loss_derivatives` draws the derivative of a random convex,
classification-calibrated loss at a batch of margins; :class:`EnsLossClassifier`
(linear, numba) and :class:`EnsLossMLPClassifier` (PyTorch through skorch) train
on a fresh draw at every step, or on a fixed surrogate for comparison.
"""

from ._linear import EnsLossClassifier
from ._loss import calibrated_loss_derivatives
from ._mlp import EnsLossMLPClassifier

__all__ = ["EnsLossClassifier", "EnsLossMLPClassifier", "calibrated_loss_derivatives"]
