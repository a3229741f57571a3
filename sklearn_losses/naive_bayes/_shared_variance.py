"""Gaussian naive Bayes with one diagonal variance shared by all classes."""

from functools import partial
from numbers import Real

import numpy as np
from scipy import sparse
from scipy.special import logsumexp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.extmath import softmax
from sklearn.utils.multiclass import _check_partial_fit_first_call, check_classification_targets
from sklearn.utils.sparsefuncs import mean_variance_axis
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_n_features,
    check_is_fitted,
    validate_data,
)

from ..utils._dask import (
    as_dask_arrays,
    columns_frame,
    is_dask_collection,
    map_row_blocks,
    reduce_row_blocks,
)
from ..utils.validation import (
    SparseCheckedLinearClassifierMixin,
    check_n_classes,
    check_sample_weight,
    check_sparse_structure,
)

__all__ = ["SharedVarianceGaussianNB"]


class SharedVarianceGaussianNB(SparseCheckedLinearClassifierMixin, BaseEstimator):
    """Gaussian naive Bayes whose per-feature variance is pooled over the classes.

    Each class has its own mean; every class shares one diagonal variance, the
    within-class variance pooled with the class proportions.  The decision rule is
    then linear (diagonal linear discriminant analysis), the generative partner of
    multinomial logistic regression in the comparison of Zheng et al. (ICML 2023):

    .. math::

        \\log p(y=k, x) = \\log \\pi_k + x^\\top \\frac{\\mu_k}{\\sigma^2}
            - \\frac12 \\sum_i \\frac{\\mu_{ki}^2}{\\sigma_i^2} + \\text{const}.

    Read more in the :doc:`User Guide </user_guide/naive_bayes>`.

    Parameters
    ----------
    priors : array-like of shape (n_classes,), default=None
        Prior probabilities of the classes.  ``None`` uses the (weighted) class
        frequencies.  Priors change the intercepts only, never the pooling of the
        variances, which always uses the observed class proportions.
    var_smoothing : float, default=1e-9
        Added to every pooled variance, so zero-variance features give finite
        weights.  How it is scaled depends on ``smoothing``.
    smoothing : {"absolute", "relative"}, default="absolute"
        ``"absolute"`` adds ``var_smoothing`` itself (the paper's rule);
        ``"relative"`` adds ``var_smoothing`` times the largest total feature
        variance (scikit-learn's :class:`~sklearn.naive_bayes.GaussianNB` rule).
        Both are computed from merged statistics, so ``partial_fit`` over chunks
        equals one ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The class labels.
    class_count_ : ndarray of shape (n_classes,)
        Weighted number of training samples per class.
    class_prior_ : ndarray of shape (n_classes,)
        Prior probability of each class (``priors`` or the class frequencies).
    theta_ : ndarray of shape (n_classes, n_features)
        Mean of each feature per class.
    var_ : ndarray of shape (n_classes, n_features)
        Variance (ddof=0) of each feature per class, before smoothing.
    pooled_var_ : ndarray of shape (n_features,)
        The shared variance: class-proportion-weighted ``var_`` plus ``epsilon_``.
    epsilon_ : float
        The smoothing added to the pooled variances.
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Weights of the linear decision function.  As in
        :class:`~sklearn.discriminant_analysis.LinearDiscriminantAnalysis`, a binary
        problem has one row, the difference class 1 minus class 0.
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts of the linear decision function.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    sklearn.naive_bayes.GaussianNB : Per-class variances (quadratic boundary).
    sklearn.discriminant_analysis.LinearDiscriminantAnalysis : Full shared covariance.
    compare_learning_curves : The generative vs discriminative sample-complexity study.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_losses.naive_bayes import SharedVarianceGaussianNB
    >>> X, y = load_iris(return_X_y=True)
    >>> clf = SharedVarianceGaussianNB().fit(X, y)
    >>> clf.coef_.shape
    (3, 4)
    >>> round(clf.score(X, y), 2)
    0.96
    >>> clf.predict_proba(X[:1]).round(3)
    array([[1., 0., 0.]])
    """

    _parameter_constraints = {
        "priors": ["array-like", None],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
        "smoothing": [StrOptions({"absolute", "relative"})],
    }

    def __init__(self, *, priors=None, var_smoothing=1e-9, smoothing="absolute"):
        self.priors = priors
        self.var_smoothing = var_smoothing
        self.smoothing = smoothing

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the class means and the pooled variance.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data; a dask array or DataFrame is reduced chunk by chunk
            (with ``y`` a dask array or Series of numeric labels).
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; an integer weight equals repeating the row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if any(is_dask_collection(a) for a in (X, y, sample_weight)):
            return self._fit_dask(X, y, sample_weight)
        check_sparse_structure(X)
        X, y = validate_data(self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32])
        check_classification_targets(y)
        if hasattr(self, "classes_"):
            del self.classes_  # a fresh fit, not an update
        return self._accumulate(X, y, np.unique(y), sample_weight)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Update the fit with a batch of samples, merging sufficient statistics exactly.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A batch of training data.
        y : array-like of shape (n_samples,)
            Its class labels.
        classes : array-like of shape (n_classes,), default=None
            Every class that will ever be seen.  Required on the first call,
            ignored after.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights of the batch.

        Returns
        -------
        self : object
            The updated estimator.
        """
        check_sparse_structure(X)
        first_call = not hasattr(self, "classes_")
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=[np.float64, np.float32], reset=first_call
        )
        check_classification_targets(y)
        return self._accumulate(X, y, classes, sample_weight)

    def _accumulate(self, X, y, classes, sample_weight):
        """Merge the statistics of a validated batch into the fit."""
        first_call = _check_partial_fit_first_call(self, classes)
        try:
            # after the first chunk, a chunk of zero weights adds nothing and is fine
            weight = check_sample_weight(
                sample_weight, X, type(self).__name__, allow_all_zero=not first_call
            )
            n_classes = len(self.classes_)
            if first_call:
                check_n_classes(self.classes_, type(self).__name__)
            unseen = np.setdiff1d(np.unique(y), self.classes_)
            if unseen.size:
                raise ValueError(
                    f"The labels {unseen.tolist()} are not among the classes given to the first "
                    f"call of partial_fit ({self.classes_.tolist()})."
                )
        except ValueError:
            if first_call:
                del self.classes_  # nothing was fitted: the next call is a first call again
            raise
        if first_call:
            n_features = X.shape[1]
            self.class_count_ = np.zeros(n_classes)
            self.theta_ = np.zeros((n_classes, n_features))
            self._m2 = np.zeros((n_classes, n_features))
        statistics = _class_statistics(X, y, weight, self.classes_)
        for k, batch in enumerate(statistics.values()):
            fitted = (self.class_count_[k], self.theta_[k], self._m2[k])
            merged = _merge_moments(fitted if fitted[0] > 0 else None, batch)
            if merged is not None:
                self.class_count_[k], self.theta_[k], self._m2[k] = merged
        self._update_linear_model()
        return self

    def _fit_dask(self, X, y, sample_weight):
        """:meth:`fit` on dask input: per-class statistics reduced chunk by chunk.

        Each chunk's per-class (count, mean, M2) are those ``partial_fit`` computes;
        they are merged by the same update, and the classes are the union of the
        labels of the chunks.
        """
        if y is None:
            raise ValueError(
                f"This {type(self).__name__} estimator requires y to be passed, but the target "
                "y is None."
            )
        _check_feature_names(self, columns_frame(X), reset=True)
        Xd, yd, wd = as_dask_arrays(X, y, sample_weight, names=["X", "y", "sample_weight"])
        _check_n_features(self, Xd, reset=True)
        if yd.ndim != 1:
            raise ValueError(f"y must be 1-D for {type(self).__name__}; got shape {yd.shape}.")
        name = type(self).__name__
        statistics = reduce_row_blocks(
            partial(_checked_chunk_statistics, name=name), _merge_class_statistics, [Xd, yd, wd]
        )
        if hasattr(self, "classes_"):
            del self.classes_  # a fresh fit, not an update
        classes = np.array(sorted(statistics), dtype=yd.dtype)
        check_n_classes(classes, name)
        self.classes_ = classes
        self.class_count_ = np.zeros(len(classes))
        self.theta_ = np.zeros((len(classes), Xd.shape[1]))
        self._m2 = np.zeros((len(classes), Xd.shape[1]))
        for k, label in enumerate(sorted(statistics)):
            if statistics[label] is not None:
                self.class_count_[k], self.theta_[k], self._m2[k] = statistics[label]
        self._update_linear_model()
        return self

    def _update_linear_model(self):
        counts = self.class_count_
        if counts.sum() <= 0:
            raise ValueError("The total sample weight is zero; nothing to fit.")
        seen = counts > 0
        self.var_ = np.zeros_like(self.theta_)
        self.var_[seen] = self._m2[seen] / counts[seen, None]
        proportions = counts / counts.sum()
        within = proportions @ self.var_
        if self.smoothing == "absolute":
            self.epsilon_ = float(self.var_smoothing)
        else:
            overall_mean = proportions @ self.theta_
            total_var = within + proportions @ (self.theta_ - overall_mean) ** 2
            self.epsilon_ = float(self.var_smoothing * total_var.max())
        self.pooled_var_ = within + self.epsilon_
        if np.any(self.pooled_var_ <= 0):
            raise ValueError(
                "Some features have zero variance within every class and var_smoothing=0; "
                "set var_smoothing > 0 (or drop the constant features)."
            )
        if not np.all(np.isfinite(self.pooled_var_)):
            raise ValueError(
                "The variance of some features overflows float64 (values of about 1e154 or "
                "more square past its range); scale the features, e.g. with StandardScaler."
            )
        self.class_prior_ = self._priors(proportions)
        with np.errstate(divide="ignore"):
            log_prior = np.log(self.class_prior_)
        weights = self.theta_ / self.pooled_var_
        intercepts = log_prior - 0.5 * np.sum(self.theta_ * weights, axis=1)
        if len(self.classes_) == 2:
            self.coef_ = weights[1:] - weights[:1]
            self.intercept_ = intercepts[1:] - intercepts[:1]
        else:
            self.coef_, self.intercept_ = weights, intercepts
        self._joint_coef, self._joint_intercept = weights, intercepts

    def _priors(self, proportions):
        if self.priors is None:
            return proportions
        priors = np.asarray(self.priors, dtype=np.float64)
        if priors.shape != (len(self.classes_),):
            raise ValueError(
                f"priors has shape {priors.shape}; expected ({len(self.classes_)},), one per class."
            )
        if np.any(priors < 0) or not np.isclose(priors.sum(), 1.0):
            raise ValueError("priors must be non-negative and sum to 1.")
        return priors

    def predict_joint_log_proba(self, X):
        """Return ``log p(x, y=k)`` up to a constant shared by the classes.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        jll : ndarray of shape (n_samples, n_classes)
            Joint log-likelihood of each class, without the terms common to all.
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            return self._predict_dask(X, "joint_log_proba")
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse="csr", reset=False)
        scores = X @ self._joint_coef.T
        return np.asarray(scores) + self._joint_intercept

    def predict_log_proba(self, X):
        """Log of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Log-probability of each class.
        """
        if is_dask_collection(X):
            return self._predict_dask(X, "log_proba")
        jll = self.predict_joint_log_proba(X)
        return jll - logsumexp(jll, axis=1, keepdims=True)

    def predict_proba(self, X):
        """Posterior class probabilities: the softmax of the joint log-likelihood.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Probability of each class; rows sum to 1.
        """
        if is_dask_collection(X):
            return self._predict_dask(X, "proba")
        return softmax(self.predict_joint_log_proba(X))

    def decision_function(self, X):
        """Linear decision function ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (a dask array or DataFrame gives a lazy dask array).

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            A vector for two classes (positive favours ``classes_[1]``), else one
            column per class.
        """
        if is_dask_collection(X):
            check_is_fitted(self)
            return self._predict_dask(X, "decision_function")
        return super().decision_function(X)

    def predict(self, X):
        """Predict the class of each sample (the largest decision function).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples (a dask array or DataFrame gives a lazy dask array).

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The predicted classes.
        """
        if is_dask_collection(X):
            check_is_fitted(self)
            return self._predict_dask(X, "predict")
        return super().predict(X)

    def _predict_dask(self, X, kind):
        """A prediction method on dask input: a lazy dask array, block by block."""
        _check_feature_names(self, columns_frame(X), reset=False)
        (X,) = as_dask_arrays(X)
        _check_n_features(self, X, reset=False)
        block = partial(
            _predict_block,
            kind=kind,
            joint=(self._joint_coef, self._joint_intercept),
            linear=(self.coef_, self.intercept_),
            classes=self.classes_,
        )
        if kind == "predict":
            return map_row_blocks(block, X, dtype=self.classes_.dtype)
        if kind == "decision_function" and self.coef_.shape[0] == 1:
            return map_row_blocks(block, X)
        return map_row_blocks(block, X, len(self.classes_))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _class_statistics(X, y, weight, labels):
    """Weighted ``(count, mean, M2)`` of the rows of each label: ``{label: triple}``.

    A label without rows of positive weight gets None.
    """
    codes = np.searchsorted(labels, y)
    statistics = {}
    for k, label in enumerate(labels):
        mask = codes == k
        w = weight[mask]
        count = w.sum()
        statistics[label] = None if count == 0 else (count, *_weighted_mean_m2(X[mask], w))
    return statistics


def _merge_moments(a, b):
    """Chan-Golub-LeVeque merge of two ``(count, mean, M2)`` triples (None: no rows)."""
    if a is None or b is None:
        return a if b is None else b
    (old, mean_a, m2_a), (count, mean_b, m2_b) = a, b
    total = old + count
    delta = mean_b - mean_a
    return total, mean_a + delta * (count / total), m2_a + (m2_b + delta**2 * (old * count / total))


def _merge_class_statistics(a, b):
    """The union of two ``{label: triple}`` maps, merging the labels they share."""
    merged = dict(a)
    for label, statistics in b.items():
        merged[label] = _merge_moments(merged.get(label), statistics)
    return merged


def _checked_chunk_statistics(X, y, sample_weight, *, name):
    """:func:`_class_statistics` of one dask chunk, checked as ``fit`` checks NumPy input."""
    X = np.asarray(X, dtype=np.float64)
    _assert_all_finite(X, allow_nan=False, input_name="X", estimator_name=name)
    y = np.asarray(y)
    if y.dtype.kind == "f":
        _assert_all_finite(y, allow_nan=False, input_name="y", estimator_name=name)
    if y.shape[0]:
        check_classification_targets(y)
    # a chunk may hold only zero weights: the total is checked after the reduction
    weight = check_sample_weight(sample_weight, X, name, allow_all_zero=True)
    return _class_statistics(X, y, weight, np.unique(y))


def _predict_block(block, *, kind, joint, linear, classes):
    """One row block of a prediction method on dask input."""
    X = np.asarray(block, dtype=np.float64)
    _assert_all_finite(X, allow_nan=False, input_name="X")
    if kind in ("decision_function", "predict"):
        scores = X @ linear[0].T + linear[1]
        if kind == "decision_function":
            return scores.ravel() if scores.shape[1] == 1 else scores
        indices = (scores.ravel() > 0).astype(int) if scores.shape[1] == 1 else scores.argmax(1)
        return classes[indices]
    jll = X @ joint[0].T + joint[1]
    if kind == "joint_log_proba":
        return jll
    if kind == "log_proba":
        return jll - logsumexp(jll, axis=1, keepdims=True)
    return softmax(jll)


def _weighted_mean_m2(X, w):
    """Weighted mean and sum of weighted squared deviations of the columns of X."""
    count = w.sum()
    if sparse.issparse(X):
        if not X.has_canonical_format:
            # mean_variance_axis takes duplicate entries as separate values: sum them first
            X = X.copy()
            X.sum_duplicates()
        mean, var = mean_variance_axis(X, axis=0, weights=w)
        return np.asarray(mean, dtype=np.float64), np.asarray(var, dtype=np.float64) * count
    X = np.asarray(X, dtype=np.float64)
    mean = w @ X / count
    return mean, w @ (X - mean) ** 2
