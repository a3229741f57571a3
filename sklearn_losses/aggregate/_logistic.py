"""Learning from label proportions: logistic regression from bag-level proportions."""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils._convergence import lbfgs
from ..utils.validation import check_n_classes, check_sample_weight
from ._bags import BagOperator, check_bags
from ._loss import LogisticBagObjective

__all__ = ["AggregateLogisticRegression"]


class AggregateLogisticRegression(ClassifierMixin, BaseEstimator):
    """Binary logistic regression from bag-level label proportions.

    Each bag reports the proportion ``ybar_a`` of positive labels.  With
    ``p_i = sigmoid(x_i @ coef_ + intercept_)`` and their bag means ``pbar_a``,
    the estimator minimises

    .. math::

        \\frac{1}{W}\\Big[(1 - \\rho) \\sum_a W_a\\, CE(\\bar y_a, \\bar p_a)
        + \\rho \\sum_i w_i\\, CE(\\bar y_{a(i)}, p_i)\\Big]
        + \\frac{\\alpha}{2} \\lVert coef \\rVert^2,

    with row weights ``w_i`` (``sample_weight``, ones by default), bag weights
    ``W_a = sum_{i in a} w_i`` and total weight ``W = sum_i w_i``: the weighted
    mean of the rho-interpolated loss (here the cross-entropy
    ``CE(q, p) = -q log p - (1 - q) log(1 - p)``, as in
    :class:`~sklearn.linear_model.LogisticRegression`) plus the L2 penalty on the
    mean-loss scale (the intercept is not penalised).  ``rho=0`` is the
    bag-level loss of learning from label proportions (DLLP), ``rho=1`` the
    instance-level loss (each row trained on its bag's proportion).  Fitted
    with L-BFGS on exact gradients.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the instance-level loss.
    alpha : float, default=1e-4
        L2 penalty on the mean-loss scale, ``alpha / 2 * ||coef_||^2`` in the
        objective above (the intercept is not penalised).  With one row per bag
        the fit is :class:`~sklearn.linear_model.LogisticRegression` with
        ``C=1 / (alpha * sum(sample_weight))``.
    fit_intercept : bool, default=True
        Fit an intercept.
    tol : float, default=1e-8
        Gradient tolerance of L-BFGS.
    max_iter : int, default=1000
        Maximum L-BFGS iterations; a :class:`~sklearn.exceptions.ConvergenceWarning`
        says when they ran out.
    verbose : int, default=0
        When positive, print each L-BFGS iteration and its objective to stdout.

    Attributes
    ----------
    classes_ : ndarray of shape (2,)
        The two classes (``[0, 1]`` when ``y`` holds proportions).
    coef_ : ndarray of shape (1, n_features)
        Coefficients.
    intercept_ : ndarray of shape (1,)
        Intercept.
    n_iter_ : int
        L-BFGS iterations.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegression : The regression counterpart, on the same scale of ``alpha``.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import AggregateLogisticRegression, make_bags
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(30000, 2))
    >>> y = (rng.uniform(size=30000) < 1 / (1 + np.exp(-X @ [2.0, -1.0]))).astype(int)
    >>> bags = make_bags(30000, 10, random_state=0)
    >>> clf = AggregateLogisticRegression(alpha=0).fit(X, y, bags=bags)  # bag proportions only
    >>> clf.coef_.round(1)
    array([[ 2., -1.]])
    """

    _parameter_constraints = {
        "rho": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self, rho=0.0, *, alpha=1e-4, fit_intercept=True, tol=1e-8, max_iter=1000, verbose=0
    ):
        self.rho = rho
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Fit from bag proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,)
            Binary labels (only their bag proportions are used), or the bag
            proportions in [0, 1] broadcast to the rows.
        bags : array-like of shape (n_samples,), default=None
            Bag ids (None: every row its own bag, i.e. ordinary logistic regression).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=False)
        target = _encode_target(self, y)
        codes = check_bags(bags, X.shape[0])
        weight = check_sample_weight(sample_weight, X, type(self).__name__)
        op = BagOperator(codes, weight)
        problem = LogisticBagObjective(
            X, op.mean(target)[op.codes], op, weight, self.rho, self.alpha, self.fit_intercept
        )
        result = lbfgs(
            type(self).__name__,
            problem,
            np.zeros(X.shape[1] + 1),
            max_iter=self.max_iter,
            tol=self.tol,
            n_entries=X.size,
            verbose=self.verbose,
        )
        self.coef_ = result.x[None, :-1]
        self.intercept_ = result.x[-1:] if self.fit_intercept else np.zeros(1)
        self.n_iter_ = int(result.nit)
        return self

    def decision_function(self, X):
        """Compute the log-odds of the positive class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,)
            The log-odds of ``classes_[1]``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_[0] + self.intercept_[0]

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, 2)
            The probabilities of ``classes_[0]`` and ``classes_[1]``.
        """
        p = expit(self.decision_function(X))
        return np.column_stack([1 - p, p])

    def predict(self, X):
        """The more probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The more probable class of each sample.
        """
        check_is_fitted(self)
        return self.classes_[(self.decision_function(X) > 0).astype(int)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = False
        return tags


def _encode_target(est, y):
    """Binary labels -> 0/1 with ``classes_``; proportions in [0, 1] are kept as they are."""
    kind = type_of_target(y)
    if kind == "unknown":
        raise ValueError(f"Unknown label type: y of dtype {np.asarray(y).dtype}.")
    if kind == "binary":
        est.classes_, target = np.unique(y, return_inverse=True)
        check_n_classes(est.classes_, type(est).__name__)
        return target.astype(np.float64)
    if kind == "continuous" and np.all((y >= 0) & (y <= 1)):
        est.classes_ = np.array([0, 1])
        return np.asarray(y, dtype=np.float64)
    if kind == "multiclass":
        raise ValueError("Only binary classification is supported.")
    check_n_classes(np.unique(y), type(est).__name__)
    raise ValueError(
        f"y must hold binary labels or bag proportions in [0, 1]; got target type {kind!r}."
    )
