"""Learning from aggregate responses (Javanmard et al., ICLR 2024).

Rows come in bags and only each bag's mean response is observed.  The
estimators interpolate the bag-level loss (rho=0) and the instance-level loss
(rho=1); :func:`privatize_responses` releases label-differentially-private
bag means, :func:`privatize_label_proportions` private bag label proportions.
Pass bag ids as the ``bags`` fit parameter.
"""

from ._bags import aggregate_responses, make_bags
from ._linear import AggregateLinearRegression
from ._linear_cv import AggregateLinearRegressionCV
from ._logistic import AggregateLogisticRegression
from ._mlp import AggregateMLPRegressor
from ._mlp_classifier import AggregateMLPClassifier
from ._privacy import (
    bag_size_risk,
    bag_size_search,
    optimal_bag_size,
    privatize_label_proportions,
    privatize_responses,
)
from ._scoring import bag_log_loss, bag_mean_squared_error, make_bag_scorer

__all__ = [
    "AggregateLinearRegression",
    "AggregateLinearRegressionCV",
    "AggregateLogisticRegression",
    "AggregateMLPClassifier",
    "AggregateMLPRegressor",
    "aggregate_responses",
    "bag_log_loss",
    "bag_mean_squared_error",
    "bag_size_risk",
    "bag_size_search",
    "make_bag_scorer",
    "make_bags",
    "optimal_bag_size",
    "privatize_label_proportions",
    "privatize_responses",
]
