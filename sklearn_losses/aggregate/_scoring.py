"""Scoring predictions against bag aggregates (held-out labels are aggregates too)."""

import numpy as np
from sklearn import get_config
from sklearn.metrics import make_scorer, r2_score
from sklearn.utils._param_validation import StrOptions, validate_params
from sklearn.utils.validation import check_array, check_consistent_length

from ..utils.validation import check_sample_weight
from ._bags import BagOperator, check_bags
from ._logistic import _check_proportions
from ._loss import proportion_bag_loss

__all__ = ["BagScoreMixin", "bag_log_loss", "bag_mean_squared_error", "make_bag_scorer"]


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
        The weighted mean squared difference of the bag means.

    See Also
    --------
    make_bag_scorer : This loss as a ``scoring=`` object.

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
    weight = check_sample_weight(sample_weight, y_true, "bag_mean_squared_error")
    op = BagOperator(codes, weight)
    errors = op.mean(y_true) - op.mean(y_pred)
    return float(op.weight @ errors**2 / op.weight.sum())


@validate_params(
    {
        "y_true": ["array-like"],
        "y_proba": ["array-like"],
        "bags": ["array-like", None],
        "labels": ["array-like", None],
        "sample_weight": ["array-like", None],
    },
    prefer_skip_nested_validation=True,
)
def bag_log_loss(y_true, y_proba, *, bags=None, labels=None, sample_weight=None):
    """Cross-entropy of the bags' label proportions against their mean predicted probabilities.

    The bag-level loss of learning from label proportions: each bag ``a`` counts
    with its total weight ``W_a`` and contributes ``-sum_k q_ak log pbar_ak``,
    where ``q_a`` are its label proportions and ``pbar_a`` the weighted mean of its
    rows' predicted probabilities; the sum is divided by the total weight.  With
    ``bags=None`` every row is its own bag and this is
    :func:`~sklearn.metrics.log_loss`.

    Parameters
    ----------
    y_true : array-like of shape (n_samples,) or (n_samples, n_classes)
        Labels (only their bag proportions are used), or each row's bag label
        proportions (e.g. :func:`privatize_label_proportions`), columns in the
        order of ``y_proba``'s.
    y_proba : array-like of shape (n_samples, n_classes)
        Predicted probabilities (``predict_proba``), columns in the order of
        ``labels``.
    bags : array-like of shape (n_samples,), default=None
        Bag ids; None treats each row as its own bag.
    labels : array-like of shape (n_classes,), default=None
        The classes of ``y_proba``'s columns, for label ``y_true``; None takes the
        sorted labels of ``y_true``, which must then number ``n_classes``.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative, finite row weights, not all zero.

    Returns
    -------
    loss : float
        The weighted mean cross-entropy of the bags (lower is better).

    See Also
    --------
    make_bag_scorer : This loss as a ``scoring=`` object.

    Examples
    --------
    >>> from sklearn_losses.aggregate import bag_log_loss
    >>> proba = [[0.8, 0.2], [0.2, 0.8], [0.5, 0.5]]
    >>> round(bag_log_loss([0, 1, 1], proba, bags=[0, 0, 1]), 4)  # bag means (0.5, 0.5): log 2
    0.6931
    """
    y_proba = check_array(y_proba, dtype=np.float64, input_name="y_proba")
    y_true = check_array(y_true, ensure_2d=False, dtype=None, input_name="y_true")
    check_consistent_length(y_true, y_proba)
    # probabilities, as log_loss asks: a bag mean of anything else is no distribution
    _check_proportions(y_proba, "bag_log_loss (y_proba)")
    n_classes = y_proba.shape[1]
    if y_true.ndim == 2:
        if y_true.shape[1] != n_classes:
            raise ValueError(
                f"y_true has {y_true.shape[1]} columns of proportions but y_proba has "
                f"{n_classes} classes."
            )
        proportions = _check_proportions(y_true, "bag_log_loss (y_true)")
    else:
        labels = np.unique(y_true) if labels is None else np.asarray(labels)
        if np.unique(labels).shape[0] != labels.shape[0]:
            raise ValueError(f"labels must be distinct; got {labels.tolist()}.")
        if labels.shape[0] != n_classes:
            raise ValueError(
                f"y_proba has {n_classes} columns but there are {labels.shape[0]} labels "
                f"{labels.tolist()}; pass labels= in the order of y_proba's columns."
            )
        found = np.isin(y_true, labels)
        if not found.all():
            raise ValueError(f"y_true has labels not in labels: {np.unique(y_true[~found])}.")
        proportions = (y_true[:, None] == labels[None, :]).astype(np.float64)
    codes = check_bags(bags, y_proba.shape[0], input_name="y_true")
    weight = check_sample_weight(sample_weight, y_proba, "bag_log_loss")
    return proportion_bag_loss(y_proba, proportions, BagOperator(codes, weight), rho=0.0)


@validate_params(
    {"metric": [StrOptions({"squared_error", "log_loss"})]},
    prefer_skip_nested_validation=True,
)
def make_bag_scorer(metric="squared_error"):
    """A ``scoring=`` object for model selection on bag aggregates (greater is better).

    With metadata routing enabled (``sklearn.set_config(enable_metadata_routing=True)``)
    the scorer requests ``bags``, so ``cross_validate(..., params={"bags": b})`` and
    ``GridSearchCV(...).fit(X, y, bags=b)`` score held-out bags; without routing
    scikit-learn passes no ``bags`` to scorers and every row is its own bag.

    The aggregate regressors' own ``score`` is the bag-level R^2 when it receives
    ``bags`` (with routing: ``set_score_request(bags=True)``); this scorer is the
    same comparison as a squared error, for ``scoring=`` and for estimators whose
    ``score`` knows nothing of bags.  For the classifiers, whose ``score`` is the
    row accuracy that held-out label proportions cannot give, ``metric="log_loss"``
    scores ``predict_proba`` by :func:`bag_log_loss`.

    Parameters
    ----------
    metric : {"squared_error", "log_loss"}, default="squared_error"
        :func:`bag_mean_squared_error` of ``predict`` (regressors) or
        :func:`bag_log_loss` of ``predict_proba`` (classifiers), negated.

    Returns
    -------
    scorer : callable
        ``neg_bag_mean_squared_error`` or ``neg_bag_log_loss``.

    See Also
    --------
    bag_mean_squared_error : The regression loss.
    bag_log_loss : The classification loss.

    Examples
    --------
    >>> from sklearn_losses.aggregate import make_bag_scorer
    >>> scorer = make_bag_scorer()
    >>> classifier_scorer = make_bag_scorer("log_loss")
    """
    if metric == "log_loss":
        scorer = make_scorer(bag_log_loss, greater_is_better=False, response_method="predict_proba")
    else:
        scorer = make_scorer(bag_mean_squared_error, greater_is_better=False)
    if get_config().get("enable_metadata_routing", False):
        scorer = scorer.set_score_request(bags=True)
    return scorer


class BagScoreMixin:
    """``score`` as R^2 of the bag means when ``bags`` is given (left of ``RegressorMixin``).

    A model fitted on bag aggregates is usually evaluated on bag aggregates too:
    the row-level R^2 of ``RegressorMixin.score`` then compares row predictions
    with their bag's mean and counts the within-bag spread the model rightly
    predicts as error.  Given ``bags``, both sides are averaged per bag first.
    """

    def score(self, X, y, sample_weight=None, bags=None):
        """R^2 of the predictions; of their bag means against the responses' when given bags.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Test samples.
        y : array-like of shape (n_samples,)
            True responses, or their bag aggregates broadcast to the rows.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; with ``bags`` each bag counts with its total weight.
        bags : array-like of shape (n_samples,), default=None
            Bag ids of the test rows.  None: the ordinary row-level R^2, as
            ``RegressorMixin.score``.  Given: R^2 between the bag means of the
            predictions and of ``y``, the score that fits responses known only as
            bag aggregates.  With metadata routing on, model selection passes the
            held-out bag ids here once the estimator has
            ``set_score_request(bags=True)``; see also :func:`make_bag_scorer`.

        Returns
        -------
        score : float
            R^2 at the row level (``bags=None``) or at the bag level.
        """
        if bags is None:
            return super().score(X, y, sample_weight=sample_weight)
        y_pred = self.predict(X)
        y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y").ravel()
        check_consistent_length(y, y_pred)
        codes = check_bags(bags, y.shape[0])
        weight = check_sample_weight(sample_weight, y, type(self).__name__)
        op = BagOperator(codes, weight)
        return float(r2_score(op.mean(y), op.mean(y_pred), sample_weight=op.weight))
