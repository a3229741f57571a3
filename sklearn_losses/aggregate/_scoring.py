"""Scoring predictions against bag aggregates (held-out labels are aggregates too)."""

import numpy as np
from sklearn import get_config
from sklearn.metrics import make_scorer
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import _check_sample_weight, check_array

from ._bags import BagOperator, check_bags

__all__ = ["bag_mean_squared_error", "make_bag_scorer"]


@validate_params(
    {
        "y_true": ["array-like"],
        "y_pred": ["array-like"],
        "bags": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def bag_mean_squared_error(y_true, y_pred, *, bags=None, sample_weight=None):
    """Squared error between the bag means of the predictions and of the responses.

    Each bag counts with its total weight (its size for unit weights), so a fully
    disaggregated problem (``bags=None``) gives the ordinary mean squared error.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,)
        Responses, or their bag aggregates broadcast to the rows.
    y_pred : array-like of shape (n_samples,)
        Row-level predictions.
    bags : array-like of shape (n_samples,), default=None
        Bag ids; None treats each row as its own bag.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative, finite row weights, not all zero; a bag whose weights are
        all zero counts for nothing.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> from sklearn_losses.aggregate import bag_mean_squared_error
    >>> bag_mean_squared_error([2, 2, 5], [1, 3, 4], bags=[0, 0, 1])
    0.333...
    """
    y_true = check_array(y_true, ensure_2d=False, dtype=np.float64, input_name="y_true").ravel()
    y_pred = check_array(y_pred, ensure_2d=False, dtype=np.float64, input_name="y_pred").ravel()
    if y_true.shape != y_pred.shape:
        raise ValueError(f"y_true and y_pred differ in length: {y_true.shape} vs {y_pred.shape}.")
    codes = check_bags(bags, y_true.shape[0], input_name="y_true")
    # non-negative, finite, not all zero: the loss divides by the total weight
    weight = _check_sample_weight(sample_weight, y_true, dtype=np.float64, ensure_non_negative=True)
    op = BagOperator(codes, weight)
    errors = op.mean(y_true) - op.mean(y_pred)
    return float(op.weight @ errors**2 / op.weight.sum())


@validate_params({}, prefer_skip_nested_validation=True)
def make_bag_scorer():
    """A ``scoring=`` object for model selection on bag aggregates (greater is better).

    With metadata routing enabled (``sklearn.set_config(enable_metadata_routing=True)``)
    the scorer requests ``bags``, so ``cross_validate(..., params={"bags": b})`` and
    ``GridSearchCV(...).fit(X, y, bags=b)`` score held-out bags; without routing
    scikit-learn passes no ``bags`` to scorers and every row is its own bag.

    Returns
    -------
    scorer : callable
        ``neg_bag_mean_squared_error``.

    Examples
    --------
    >>> from sklearn_losses.aggregate import make_bag_scorer
    >>> scorer = make_bag_scorer()
    """
    scorer = make_scorer(bag_mean_squared_error, greater_is_better=False)
    if get_config().get("enable_metadata_routing", False):
        scorer = scorer.set_score_request(bags=True)
    return scorer
