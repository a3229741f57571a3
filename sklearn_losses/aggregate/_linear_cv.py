"""Choosing rho by grouped cross-validation on held-out bag aggregates."""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.model_selection import GroupKFold, check_cv
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data

from ..utils.validation import check_sample_weight, check_sparse_structure
from ._bags import BagOperator, check_bags
from ._linear import AggregateLinearRegression, AggregateStatistics

__all__ = ["AggregateLinearRegressionCV", "default_rhos"]


def default_rhos(n_rhos=25, smallest=1e-3):
    """0 and a log-spaced grid from ``smallest`` to 1 (the optimum often sits near 0.01-0.2)."""
    return np.r_[0.0, np.geomspace(smallest, 1.0, n_rhos)]


def _check_rhos(rhos):
    """The rho grid as a float array: non-empty, 1-D, finite, in [0, 1]."""
    if rhos is None:
        return default_rhos()
    try:
        grid = np.asarray(rhos, dtype=np.float64)
    except (TypeError, ValueError):
        grid = None
    if (
        grid is None
        or grid.ndim != 1
        or grid.size == 0
        or not np.all(np.isfinite(grid))
        or grid.min() < 0
        or grid.max() > 1
    ):
        raise ValueError(
            f"rhos must be a non-empty 1-D grid of finite values in [0, 1], got {rhos!r}."
        )
    return grid


class AggregateLinearRegressionCV(AggregateLinearRegression):
    """:class:`AggregateLinearRegression` with rho chosen by grouped cross-validation.

    Folds never split a bag (:class:`~sklearn.model_selection.GroupKFold` on the
    bag ids) and each held-out fold is scored by the squared error of its bag
    means, the only labels available.  The normal-equation statistics of a fold
    are computed once, so the whole rho grid costs one d x d solve per value.

    With fewer bags than about the number of features the choice is not robust:
    a fold then has too few bags to fit the bag-level end of the grid.

    ``score(X, y, bags=bags)`` is the R^2 of the bag means, as in
    :class:`AggregateLinearRegression`.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rhos : array-like, default=None
        Grid of finite rho in [0, 1]; None uses 0 and 25 log-spaced values from
        1e-3 to 1.
    alpha : float, default=0.0
        L2 penalty on the mean-loss scale, as in :class:`AggregateLinearRegression`:
        ``alpha / 2 * ||coef_||^2`` added to the weighted mean loss of each
        training fold and of the final refit.
    fit_intercept : bool, default=True
        Fit an intercept.
    cv : int or splitter, default=5
        Number of :class:`~sklearn.model_selection.GroupKFold` folds over the bags
        of positive total weight (bags whose weights are all zero carry nothing to
        fit or score, so they join no fold), or a splitter whose
        ``split(X, y, groups)`` receives the bag ids as groups.  A fold whose
        training or held-out rows have zero total weight is an error: it can be
        neither fitted nor scored, and skipping it would silently change the
        cross-validation.

    Attributes
    ----------
    rho_ : float
        The chosen rho.
    rhos_ : ndarray of shape (n_rhos,)
        The grid.
    cv_scores_ : ndarray of shape (n_rhos, n_folds)
        Held-out bag-level mean squared error.
    coef_ : ndarray of shape (n_features,)
        Coefficients refitted on all data at ``rho_``.
    intercept_ : float
        Intercept.
    n_bags_ : int
        Number of bags.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegression : One fit at a given rho.
    make_bag_scorer : Bag-level squared error for other searches.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import (
    ...     AggregateLinearRegressionCV, aggregate_responses, make_bags)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 20))
    >>> y = X @ rng.normal(size=20) / 4 + rng.normal(size=1000)
    >>> bags = make_bags(1000, 5, random_state=0)
    >>> reg = AggregateLinearRegressionCV().fit(X, aggregate_responses(y, bags), bags=bags)
    >>> reg.cv_scores_.shape
    (26, 5)
    """

    _parameter_constraints = {
        **AggregateLinearRegression._parameter_constraints,
        "rhos": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
    }
    _parameter_constraints.pop("rho")

    def __init__(self, rhos=None, *, alpha=0.0, fit_intercept=True, cv=5):
        self.rhos = rhos
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.cv = cv

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Cross-validate rho on bag-level scores, then refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Responses or broadcast bag aggregates.
        bags : array-like of shape (n_samples,), default=None
            Bag ids (None: one bag per row).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_sparse_structure(X)  # before validate_data: scipy's conversions trust it
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True)
        codes = check_bags(bags, X.shape[0])
        weight = check_sample_weight(sample_weight, X, type(self).__name__)
        rhos = _check_rhos(self.rhos)
        if isinstance(self.cv, Integral):
            # zero-weight bags carry nothing to fit or score: fold only the others
            kept = np.flatnonzero(np.bincount(codes, weights=weight)[codes] > 0)
            n_bags = np.unique(codes[kept]).size
            if n_bags < self.cv:
                raise ValueError(
                    f"{n_bags} bags of positive weight (n_samples={X.shape[0]}) cannot be "
                    f"split into {self.cv} grouped folds."
                )
            folds = GroupKFold(n_splits=self.cv).split(np.empty((kept.size, 0)), groups=codes[kept])
            splits = [(kept[train], kept[test]) for train, test in folds]
        else:
            splits = check_cv(self.cv).split(X, y, groups=codes)
        scores = []
        for i, (train, test) in enumerate(splits):
            for part, index in (("training", train), ("held-out", test)):
                if not weight[index].sum() > 0:
                    raise ValueError(
                        f"Fold {i} of the cross-validation has zero total sample_weight in "
                        f"its {part} rows ({len(index)} rows), so it cannot be "
                        f"{'fitted' if part == 'training' else 'scored'}. Use a splitter "
                        "whose folds all hold bags of positive weight, or drop the "
                        "zero-weight rows."
                    )
            stats = AggregateStatistics(
                X[train], y[train], codes[train], weight[train], self.fit_intercept
            )
            held_out = BagOperator(codes[test], weight[test])
            y_bar = held_out.mean(y[test])
            X_bar = held_out.mean(X[test])
            fold = []
            for rho in rhos:
                coef, intercept, _ = stats.solve(rho, self.alpha)
                errors = y_bar - (X_bar @ coef + intercept)
                fold.append(held_out.weight @ errors**2 / held_out.weight.sum())
            scores.append(fold)
        self.rhos_ = rhos
        self.cv_scores_ = np.asarray(scores).T
        self.rho_ = float(rhos[np.argmin(self.cv_scores_.mean(axis=1))])
        stats = AggregateStatistics(X, y, codes, weight, self.fit_intercept)
        self.coef_, self.intercept_, _ = stats.solve(self.rho_, self.alpha)
        self.n_bags_ = stats.n_bags
        return self
