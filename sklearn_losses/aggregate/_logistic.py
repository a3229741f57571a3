"""Learning from label proportions: logistic regression from bag-level class proportions."""

from numbers import Integral, Real

import numpy as np
from scipy import sparse
from scipy.special import expit, log_expit, log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data

from ..utils._convergence import lbfgs
from ..utils.validation import check_n_classes, check_sample_weight
from ._bags import BagOperator, check_bags
from ._loss import LogisticBagObjective, MultinomialBagObjective

__all__ = ["AggregateLogisticRegression"]

_SUM_TOLERANCE = 1e-6  # how far a row of proportions may sum from 1 (rounding of counts / k)


class AggregateLogisticRegression(ClassifierMixin, BaseEstimator):
    """Logistic regression from bag-level label proportions (binary or multiclass).

    Each bag reports the proportions ``q_a = (q_a1, ..., q_aK)`` of its rows'
    labels.  With row probabilities ``p_i = softmax(coef_ @ x_i + intercept_)``
    and their weighted bag means ``pbar_a``, the estimator minimises

    .. math::

        \\frac{1}{W}\\Big[(1 - \\rho) \\sum_a W_a\\, CE(q_a, \\bar p_a)
        + \\rho \\sum_i w_i\\, CE(q_{a(i)}, p_i)\\Big]
        + \\frac{\\alpha}{2} \\lVert coef \\rVert^2,

    with ``CE(q, p) = -sum_k q_k log p_k``, row weights ``w_i``
    (``sample_weight``, ones by default), bag weights ``W_a = sum_{i in a} w_i``
    and total weight ``W = sum_i w_i``: the weighted mean of the rho-interpolated
    cross-entropy plus the L2 penalty on the mean-loss scale (the intercepts are
    not penalised).  ``rho=0`` is the bag-level loss of learning from label
    proportions (DLLP), ``rho=1`` the instance-level loss (each row trained on
    its bag's proportions).  Fitted with L-BFGS on exact gradients.

    The parametrisation is scikit-learn's
    :class:`~sklearn.linear_model.LogisticRegression`: with two classes one row
    of coefficients and the sigmoid of the log-odds of ``classes_[1]``; with
    ``K >= 3`` classes K rows (multinomial), made identifiable by the penalty,
    reported centred (each column of ``coef_`` and ``intercept_`` sums to zero,
    which leaves the probabilities unchanged).  With one row per bag the fit is
    ``LogisticRegression(C=1 / (alpha * sum(sample_weight)))`` in both cases.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the instance-level loss.
    alpha : float, default=1e-4
        L2 penalty on the mean-loss scale, ``alpha / 2 * ||coef_||^2`` in the
        objective above (the intercepts are not penalised).  With one row per bag
        the fit is :class:`~sklearn.linear_model.LogisticRegression` with
        ``C=1 / (alpha * sum(sample_weight))``.
    fit_intercept : bool, default=True
        Fit an intercept (one per class with ``K >= 3`` classes).
    tol : float, default=1e-8
        Gradient tolerance of L-BFGS.
    max_iter : int, default=1000
        Maximum L-BFGS iterations; a :class:`~sklearn.exceptions.ConvergenceWarning`
        says when they ran out.
    verbose : int, default=0
        When positive, print each L-BFGS iteration and its objective to stdout.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes: the sorted labels, or ``[0, 1, ..., K - 1]`` (the columns
        of ``y``) when ``y`` holds proportions.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients: one row (of ``classes_[1]``'s log-odds) for two classes,
        one row per class for three or more.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts, shaped as ``coef_``'s rows.
    n_iter_ : int
        L-BFGS iterations.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegression : The regression counterpart, on the same scale of ``alpha``.
    privatize_label_proportions : Label-differentially-private bag proportions to fit on.

    Notes
    -----
    ``y`` takes three forms, all read through their bag proportions only: class
    labels (each row its own label; any two or more labels), for two classes the
    proportion of ``classes_[1]`` in [0, 1] on each row, or an array of shape
    (n_samples, K) of class proportions, each row non-negative and summing to 1
    (e.g. :func:`privatize_label_proportions`'s output, or each bag's known
    proportions broadcast to its rows).  The columns of that array are the
    classes ``0, ..., K - 1`` in ``classes_``; map predictions back to your labels
    with ``labels[clf.predict(X)]``.  ``score`` (accuracy) needs row labels; to
    select models on held-out bags, score their proportions (see the User Guide).

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

    Three classes, from the proportions of bags of 10:

    >>> from sklearn.datasets import load_iris
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_iris(return_X_y=True)
    >>> X = StandardScaler().fit_transform(X)
    >>> bags = make_bags(150, 10, random_state=0)
    >>> clf = AggregateLogisticRegression(alpha=1e-3).fit(X, y, bags=bags)
    >>> clf.coef_.shape, clf.predict_proba(X).shape
    ((3, 4), (150, 3))
    >>> bool(clf.score(X, y) > 0.8)
    True
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
        """Fit from bag label proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels (only their bag proportions are used); for two classes,
            the proportion of the positive class in [0, 1] on each row; or class
            proportions, one row per sample, non-negative and summing to 1, with
            columns the classes ``0, ..., n_classes - 1`` (see Notes).
        bags : array-like of shape (n_samples,), default=None
            Bag ids (None: every row its own bag, i.e. ordinary logistic
            regression).  Route it through meta-estimators with
            ``set_fit_request(bags=True)``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; an integer weight equals repeating the row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=False)
        target = _encode_target(self, y)
        codes = check_bags(bags, X.shape[0])
        weight = check_sample_weight(sample_weight, X, type(self).__name__)
        op = BagOperator(codes, weight)
        if target.ndim == 1:  # two classes: the binary objective (one row, sigmoid)
            problem = LogisticBagObjective(
                X, op.mean(target)[op.codes], op, weight, self.rho, self.alpha, self.fit_intercept
            )
            n_params = X.shape[1] + 1
        else:
            problem = MultinomialBagObjective(
                X, target, op, weight, self.rho, self.alpha, self.fit_intercept
            )
            n_params = target.shape[1] * (X.shape[1] + int(self.fit_intercept))
        result = lbfgs(
            type(self).__name__,
            problem,
            np.zeros(n_params),
            max_iter=self.max_iter,
            tol=self.tol,
            n_entries=X.size,
            verbose=self.verbose,
        )
        if target.ndim == 1:
            self.coef_ = result.x[None, :-1]
            self.intercept_ = result.x[-1:] if self.fit_intercept else np.zeros(1)
        else:
            coef, intercept = problem.unpack(result.x)
            # softmax is unchanged by a shift per column: report the centred (smallest) one
            self.coef_ = coef - coef.mean(axis=0)
            self.intercept_ = intercept - intercept.mean()
        self.n_iter_ = int(result.nit)
        return self

    def decision_function(self, X):
        """Compute the log-odds (two classes) or the class scores (K >= 3 classes).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The log-odds of ``classes_[1]`` for two classes; otherwise each
            class's score ``coef_ @ x + intercept_``, whose softmax is
            :meth:`predict_proba`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        if self.coef_.shape[0] == 1:
            return X @ self.coef_[0] + self.intercept_[0]
        return X @ self.coef_.T + self.intercept_

    def predict_proba(self, X):
        """Class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class of ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            p = expit(scores)
            return np.column_stack([1 - p, p])
        return softmax(scores, axis=1)

    def predict_log_proba(self, X):
        """Logarithm of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class of ``classes_``.
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return np.column_stack([log_expit(-scores), log_expit(scores)])
        return log_softmax(scores, axis=1)

    def predict(self, X):
        """The most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sample (from ``classes_``).
        """
        scores = self.decision_function(X)
        if scores.ndim == 1:
            return self.classes_[(scores > 0).astype(int)]
        return self.classes_[np.argmax(scores, axis=1)]


def _encode_target(est, y):
    """``y`` -> the binary 0/1 target (1-D) or the (n, K) proportions; sets ``classes_``.

    Labels are encoded against their sorted unique values; 1-D values in [0, 1]
    that are not all 0/1 are proportions of the positive class; a 2-D ``y`` of
    two or more columns holds class proportions (rows non-negative, summing to 1).
    Two classes always take the binary objective (the proportion of the second).
    """
    name = type(est).__name__
    if sparse.issparse(y):
        raise ValueError(
            f"{name}: y must be dense (labels or class proportions), got a sparse matrix."
        )
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = column_or_1d(y, warn=True)  # a column vector: scikit-learn's warning
    if y.ndim == 2:
        proportions = _check_proportions(y, name)
        est.classes_ = np.arange(proportions.shape[1])
        return proportions[:, 1] if proportions.shape[1] == 2 else proportions
    kind = type_of_target(y)
    if kind == "unknown":
        raise ValueError(f"Unknown label type: y of dtype {y.dtype}.")
    if kind in ("binary", "multiclass"):
        est.classes_, codes = np.unique(y, return_inverse=True)
        check_n_classes(est.classes_, name)
        codes = codes.ravel()
        if est.classes_.shape[0] == 2:
            return codes.astype(np.float64)
        return np.eye(est.classes_.shape[0])[codes]
    if kind == "continuous" and np.all((y >= 0) & (y <= 1)):
        est.classes_ = np.array([0, 1])
        return np.asarray(y, dtype=np.float64)
    check_n_classes(np.unique(y), name)
    raise ValueError(
        "y must hold class labels, proportions of the positive class in [0, 1] (two "
        "classes), or an (n_samples, n_classes) array of class proportions; got target "
        f"type {kind!r}."
    )


def _check_proportions(y, name):
    """An (n, K) array of class proportions: numbers, K >= 2, rows >= 0 summing to 1."""
    try:
        proportions = np.asarray(y, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(
            f"{name}: a 2-D y must hold class proportions (numbers), got dtype {y.dtype}."
        ) from None
    if proportions.shape[1] < 2:
        check_n_classes(np.arange(proportions.shape[1]), name)
    if not np.all(np.isfinite(proportions)):
        raise ValueError(f"{name}: the class proportions in y contain NaN or infinity.")
    if np.any(proportions < 0):
        raise ValueError(
            f"{name}: the class proportions in y must be non-negative; got a minimum of "
            f"{proportions.min():.3g} (project noisy proportions onto the simplex first, "
            "e.g. with privatize_label_proportions)."
        )
    sums = proportions.sum(axis=1)
    worst = np.abs(sums - 1)
    if np.any(worst > _SUM_TOLERANCE):
        raise ValueError(
            f"{name}: each row of class proportions in y must sum to 1; row "
            f"{int(np.argmax(worst))} sums to {sums[np.argmax(worst)]:.6g} (divide counts by "
            "the bag size; a multilabel indicator is not a label distribution)."
        )
    return proportions / sums[:, None]
