"""Generative vs discriminative linear classifiers (Zheng et al., ICML 2023).

:class:`SharedVarianceGaussianNB` is the naive Bayes the paper studies (a linear
classifier); :func:`compare_learning_curves` runs its sample-complexity
comparison against any discriminative estimator.
"""

from ._diagnostics import nb_assumption_diagnostics
from ._learning_curves import LearningCurveComparison, compare_learning_curves
from ._rates import fit_rate_scale, theoretical_rate
from ._shared_variance import SharedVarianceGaussianNB

__all__ = [
    "LearningCurveComparison",
    "SharedVarianceGaussianNB",
    "compare_learning_curves",
    "fit_rate_scale",
    "nb_assumption_diagnostics",
    "theoretical_rate",
]
