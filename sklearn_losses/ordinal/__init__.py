"""Ordinal regression for rare events: PRESTO (Faletto & Bien, ICML 2023).

Cumulative-link classifiers ``P(y <= k | x) = F(intercept_k + x @ coef_[:, k])``:
:class:`ProportionalOddsClassifier` (one shared slope),
:class:`PRESTOClassifier` (one slope per threshold, L1-fused towards
proportional odds) and :class:`PRESTOClassifierCV` (its regularisation path
with cross-validated Brier score).
"""

from ._plotting import plot_coefficient_path
from ._presto import PRESTOClassifier
from ._presto_cv import PRESTOClassifierCV
from ._proportional_odds import ProportionalOddsClassifier

__all__ = [
    "PRESTOClassifier",
    "PRESTOClassifierCV",
    "ProportionalOddsClassifier",
    "plot_coefficient_path",
]
