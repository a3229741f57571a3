"""What the cumulative-link classifiers share: labels, scaling, probabilities, crossings."""

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import _check_sample_weight, check_is_fitted, validate_data

from ._kernels import LINKS, class_probabilities


class CumulativeLinkClassifier(ClassifierMixin, BaseEstimator):
    """Base of the ordinal classifiers ``P(y <= k | x) = F(intercept_[k] + x @ coef_[:, k])``.

    Subclasses implement ``_fit_standardized(X, codes, weight, n_classes)``
    returning intercepts and slopes for standardized X.
    """

    _parameter_constraints = {
        "link": [StrOptions(set(LINKS))],
        "categories": ["array-like", None],
    }

    # -- fitting ---------------------------------------------------------------------------
    def _validate_training_data(self, X, y, sample_weight):
        X, y = validate_data(self, X, y, dtype=np.float64, order="C")
        check_classification_targets(y)
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64, ensure_non_negative=True)
        self.classes_, codes = encode_ordinal(y, self.categories)
        if len(self.classes_) < 2:
            raise ValueError(
                f"Ordinal regression needs at least 2 classes; y has 1 class: {self.classes_}."
            )
        return X, codes, weight

    def _standardize(self, X, weight):
        """Weighted centring and scaling (ddof=0); constant columns keep scale 1."""
        if not getattr(self, "standardize", True):
            return X, np.zeros(X.shape[1]), np.ones(X.shape[1])
        mean = weight @ X / weight.sum()
        scale = np.sqrt(weight @ (X - mean) ** 2 / weight.sum())
        scale[scale < 1e-12 * np.maximum(1.0, np.abs(mean))] = 1.0
        return np.ascontiguousarray((X - mean) / scale), mean, scale

    def _set_original_scale(self, intercepts, slopes, mean, scale):
        self.coef_ = slopes / scale[:, None]
        self.intercept_ = intercepts - mean @ self.coef_

    # -- prediction ------------------------------------------------------------------------
    def linear_predictor(self, X):
        """The linear predictors ``eta_k(x) = intercept_[k] + x @ coef_[:, k]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        eta : ndarray of shape (n_samples, n_classes - 1)
            ``F(eta_k)`` is the cumulative probability ``P(y <= classes_[k] | x)``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def crossings(self, X):
        """Which rows have crossing (non-monotone) cumulative probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        mask : ndarray of bool, shape (n_samples,)
            True where some ``eta_k(x) < eta_{k-1}(x)``; such rows are repaired in
            :meth:`predict_proba` as the ``crossing`` parameter says.
        """
        eta = self.linear_predictor(X)
        return np.any(np.diff(eta, axis=1) < 0, axis=1)

    def predict_proba(self, X):
        """Class probabilities; crossing predictors are repaired per ``crossing``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Non-negative, rows sum to 1, columns ordered as ``classes_``.
        """
        eta = self.linear_predictor(X)
        return probabilities_from_predictors(eta, self.link, getattr(self, "crossing", "sort"))

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` for zero probabilities)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X):
        """Scores whose maximum (or sign, for two classes) gives :meth:`predict`.

        For two classes, ``-eta`` (for the logit link the log-odds of the upper class);
        for more classes the log class probabilities.  The per-threshold linear
        predictors are :meth:`linear_predictor`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        if len(self.classes_) == 2:
            return -self.linear_predictor(X)[:, 0]
        return self.predict_log_proba(X)

    def predict(self, X):
        """The most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's classifier checks score on unordered blobs, which a cumulative
        # model cannot separate (the classes must be ordered along a direction).
        tags.classifier_tags.poor_score = True
        return tags


def probabilities_from_predictors(eta, link, crossing="sort"):
    """Class probabilities from linear predictors, repairing crossed rows per ``crossing``."""
    crossed = np.any(np.diff(eta, axis=1) < 0, axis=1)
    if crossed.any():
        if crossing == "raise":
            raise ValueError(
                f"{int(crossed.sum())} rows have crossing cumulative probabilities; "
                "use crossing='sort' or 'clip' to repair them."
            )
        if crossing == "sort":  # monotone rearrangement of the predictors
            eta = np.sort(eta, axis=1)
    proba = class_probabilities(
        np.ascontiguousarray(eta, dtype=np.float64),
        LINKS[link],
        np.empty((eta.shape[0], eta.shape[1] + 1)),
    )
    if crossed.any() and crossing == "clip":
        # the kernel already gives max(F(eta_k) - F(eta_{k-1}), 0) per class
        proba[crossed] /= proba[crossed].sum(axis=1, keepdims=True)
    return proba


def encode_ordinal(y, categories=None):
    """Classes in their order and the integer code of each label."""
    if categories is None:
        classes = np.unique(y)
        return classes, np.searchsorted(classes, y).astype(np.int64)
    classes = np.asarray(categories)
    if classes.ndim != 1 or len(set(classes.tolist())) != len(classes):
        raise ValueError("categories must be a 1-D list of distinct labels, in their order.")
    lookup = {label: code for code, label in enumerate(classes.tolist())}
    try:
        codes = np.array([lookup[label] for label in np.asarray(y).tolist()], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"y has the label {exc.args[0]!r}, which is not in categories.") from None
    missing = sorted(set(range(len(classes))) - set(codes.tolist()))
    if missing:
        raise ValueError(
            f"The categories {classes[missing].tolist()} do not occur in y; an ordinal model "
            "cannot estimate thresholds for empty classes."
        )
    return classes, codes
