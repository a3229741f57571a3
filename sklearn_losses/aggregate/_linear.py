"""Linear regression from bag-level responses, interpolating bag- and instance-level losses."""

import warnings
from numbers import Real

import numpy as np
from scipy import sparse
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.validation import check_sample_weight, check_sparse_structure
from ._bags import BagOperator, check_bags
from ._scoring import BagScoreMixin

__all__ = ["AggregateLinearRegression"]

_CHUNK = 65536  # rows per block of the weighted Gram matrix: O(chunk * d) extra memory


class AggregateStatistics:
    """Sufficient statistics of the aggregate least-squares problem, O(n d^2) once.

    With bag means ``Xbar_a``, bag weights ``W_a``, total weight ``W`` and centred
    quantities (when fitting an intercept), the objective of
    :class:`AggregateLinearRegression` times ``2 W``,

        sum_a W_a (ybar_a - Xbar_a theta)^2 + rho sum_i w_i ((x_i - Xbar_a) theta)^2
        + alpha W ||theta||^2,

    has the normal equations ``(between + rho * within + alpha W I) theta = rhs``,
    so every (rho, alpha) is one d x d solve.
    """

    def __init__(self, X, y, codes, weight, fit_intercept):
        bags = BagOperator(codes, weight)
        X_sum = bags.sum(X)
        y_bar = bags.mean(y)
        total = bags.weight.sum()
        self.total_weight = float(total)
        self.n_bags = bags.n_bags
        self.between = X_sum.T @ (X_sum / bags.weight[:, None])
        self.rhs = X_sum.T @ y_bar
        gram = _weighted_gram(X, weight)
        if not (np.all(np.isfinite(gram)) and np.all(np.isfinite(self.rhs))):
            raise ValueError(
                "The sufficient statistics of X and y overflow float64 (values of about 1e154 "
                "or more square past its range); scale the features and the response, e.g. "
                "with StandardScaler."
            )
        self.within = gram - self.between
        self.x_mean = np.zeros(X.shape[1])
        self.y_mean = 0.0
        if fit_intercept:
            self.x_mean = X_sum.sum(axis=0) / total
            self.y_mean = float(bags.weight @ y_bar / total)
            self.between -= total * np.outer(self.x_mean, self.x_mean)
            self.rhs -= total * self.x_mean * self.y_mean

    def solve(self, rho, alpha):
        """Coefficients and intercept at (rho, alpha); minimum-norm when singular.

        ``alpha`` is on the mean-loss scale; the normal equations are those of the
        objective times ``2 W``, whose penalty is ``alpha * W``.
        """
        A = self.between + rho * self.within
        A.flat[:: A.shape[0] + 1] += alpha * self.total_weight
        A = (A + A.T) / 2
        try:  # the common, well-posed case: one Cholesky factorisation
            factor = cho_factor(A)
            pivots = np.abs(np.diag(factor[0]))
            if pivots.min() ** 2 > pivots.max() ** 2 * A.shape[0] * np.finfo(float).eps:
                coef = cho_solve(factor, self.rhs)
                return coef, self.y_mean - self.x_mean @ coef, False
        except LinAlgError:
            pass
        eigvals, eigvecs = np.linalg.eigh(A)
        keep = eigvals > eigvals.max(initial=0.0) * A.shape[0] * np.finfo(float).eps
        coef = eigvecs[:, keep] @ ((eigvecs[:, keep].T @ self.rhs) / eigvals[keep])
        return coef, self.y_mean - self.x_mean @ coef, True


def _weighted_gram(X, weight):
    if sparse.issparse(X):
        return np.asarray((X.T @ X.multiply(weight[:, None])).todense())
    gram = np.zeros((X.shape[1], X.shape[1]))
    unit = np.all(weight == 1.0)
    for start in range(0, X.shape[0], _CHUNK):
        block = X[start : start + _CHUNK]
        gram += block.T @ (block if unit else block * weight[start : start + _CHUNK, None])
    return gram


class AggregateLinearRegression(BagScoreMixin, RegressorMixin, BaseEstimator):
    """Least squares from bag-level responses, with the bag/instance interpolation rho.

    Rows come in bags whose individual responses are hidden: only each bag's mean
    response ``ybar_a`` is known.  With predictions ``f_i = x_i @ coef_ + intercept_``
    and their bag means ``fbar_a``, the estimator minimises (Javanmard et al.,
    ICLR 2024)

    .. math::

        \\frac{1}{2W}\\Big[(1 - \\rho) \\sum_a W_a (\\bar y_a - \\bar f_a)^2
        + \\rho \\sum_i w_i (\\bar y_{a(i)} - f_i)^2\\Big]
        + \\frac{\\alpha}{2} \\lVert coef \\rVert^2,

    with row weights ``w_i`` (``sample_weight``, ones by default), bag weights
    ``W_a = sum_{i in a} w_i`` and total weight ``W = sum_i w_i``: the weighted
    mean of the rho-interpolated loss (here half the squared error, as in
    :class:`~sklearn.linear_model.ElasticNet`) plus the L2 penalty on the
    mean-loss scale (the intercept is not penalised).  The instance-level sum is
    the bag-level sum plus the within-bag prediction variance
    ``sum_i w_i (f_i - fbar_a(i))^2``, so the bracket is also the bag-level loss
    plus ``rho`` times that variance.

    ``rho=0`` is the bag-level loss (unbiased, only as many effective samples as
    bags), ``rho=1`` the instance-level loss, equal to least squares on the
    broadcast bag means (lower variance, shrunk towards 0 by about ``1 / k`` for
    bags of size k); the within-bag prediction variance is exactly their
    difference.  Solved in closed form in O(n d^2) time and O(n + d^2) extra
    memory, dense or sparse ``X``.

    Scoring: ``score(X, y, bags=bags)`` is the R^2 of the bag means, the score for
    responses known only as bag aggregates; without ``bags`` it is the row-level
    R^2, meaningful only against row-level responses (against broadcast bag means
    it counts the within-bag spread of the predictions as error).  In model
    selection with metadata routing on, request ``bags`` for both fit and score
    (``set_fit_request(bags=True).set_score_request(bags=True)``) or pass
    ``scoring=make_bag_scorer()``, and split with ``GroupKFold`` on the bag ids so
    that no bag is cut between training and held-out rows.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the instance-level loss (equivalently, of the within-bag
        prediction variance).
    alpha : float, default=0.0
        L2 penalty on the mean-loss scale, ``alpha / 2 * ||coef_||^2`` in the
        objective above (the intercept is not penalised).  With one row per bag
        the fit is :class:`~sklearn.linear_model.Ridge` with
        ``alpha=alpha * sum(sample_weight)``.
    fit_intercept : bool, default=True
        Fit an intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients.
    intercept_ : float
        Intercept.
    n_bags_ : int
        Number of bags seen in fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegressionCV : Chooses rho by grouped cross-validation.
    make_bag_scorer : Bag-level squared error as a ``scoring=`` object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import (
    ...     AggregateLinearRegression, aggregate_responses, make_bags)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=2000)
    >>> bags = make_bags(2000, 10, random_state=0)
    >>> y_bag = aggregate_responses(y, bags)  # what is observed
    >>> reg = AggregateLinearRegression(rho=0.0).fit(X, y_bag, bags=bags)
    >>> reg.coef_.round(1)
    array([ 1. , -2. ,  0.5])
    >>> round(reg.score(X, y_bag, bags=bags), 3)  # R^2 of the bag means
    0.998
    >>> round(reg.score(X, y_bag), 1)  # row-level R^2 against bag means: not a fair score
    -8.2
    """

    _parameter_constraints = {
        "rho": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, rho=0.0, *, alpha=0.0, fit_intercept=True):
        self.rho = rho
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Fit from bag-level responses.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,)
            Each row's response or its bag's aggregate; only bag means are used,
            so both give the same fit.
        bags : array-like of shape (n_samples,), default=None
            Bag id of each row; None puts every row in its own bag (ordinary
            least squares).  Route it through meta-estimators with
            ``set_fit_request(bags=True)``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; an integer weight equals repeating the row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_sparse_structure(X)  # before validate_data: scipy's conversions trust it
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True)
        codes = check_bags(bags, X.shape[0])
        weight = check_sample_weight(sample_weight, X, type(self).__name__)
        stats = AggregateStatistics(X, y, codes, weight, self.fit_intercept)
        self.coef_, self.intercept_, singular = stats.solve(self.rho, self.alpha)
        self.n_bags_ = stats.n_bags
        if singular and self.alpha == 0:
            warnings.warn(
                f"The normal equations are singular ({stats.n_bags} bags for "
                f"{X.shape[1]} features at rho={self.rho}); returning the minimum-norm "
                "solution. Use rho > 0 or alpha > 0, or more bags.",
                UserWarning,
                stacklevel=2,
            )
        return self

    def predict(self, X):
        """Predict each row's response.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted response of each row.
        """
        check_is_fitted(self)
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
