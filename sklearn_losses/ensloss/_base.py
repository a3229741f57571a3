"""What the linear and the neural EnsLoss classifiers share: labels, losses, probabilities."""

import numpy as np
from scipy.special import expit
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets

from ..utils.validation import check_n_classes

__all__ = [
    "LogisticProbaMixin",
    "encode_labels",
    "label_codes",
    "labels_from_decision",
    "one_vs_rest_targets",
    "validation_pair",
]


def encode_labels(estimator, y):
    """Set ``classes_`` and return the +-1 targets, one column per one-vs-rest problem.

    Binary problems get a single column (+1 for ``classes_[1]``); K > 2 classes get K.
    """
    check_classification_targets(y)
    classes, codes = np.unique(y, return_inverse=True)
    check_n_classes(classes, type(estimator).__name__)
    estimator.classes_ = classes
    return one_vs_rest_targets(codes, classes.shape[0])


def one_vs_rest_targets(codes, n_classes):
    """+-1 targets of label codes in ``range(n_classes)``."""
    if n_classes == 2:
        return np.where(codes == 1, 1.0, -1.0)[:, None]
    return np.where(codes[:, None] == np.arange(n_classes), 1.0, -1.0)


def label_codes(classes, y, name="y"):
    """Positions of the labels ``y`` in ``classes``; unknown labels are an error."""
    y = np.asarray(y)
    unknown = np.setdiff1d(y, classes)
    if unknown.size:
        raise ValueError(f"{name} has labels {unknown} that are not in classes {classes}.")
    return np.searchsorted(classes, y)


def validation_pair(X_val, y_val):
    """``(X_val, y_val)``, or None when neither is given; one alone is an error."""
    if (X_val is None) != (y_val is None):
        raise ValueError("X_val and y_val must be given together.")
    return None if X_val is None else (X_val, y_val)


def check_has_proba(estimator):
    """``available_if`` check: probabilities exist only for the logistic loss."""
    if estimator.loss != "logistic":
        raise AttributeError(
            f"predict_proba is not available for loss={estimator.loss!r}: only the logistic "
            "loss estimates probabilities. Wrap the classifier in "
            "sklearn.calibration.CalibratedClassifierCV to calibrate its decision_function."
        )
    return True


class LogisticProbaMixin:
    """``predict_proba`` and ``predict_log_proba`` from ``decision_function`` (logistic only)."""

    @available_if(check_has_proba)
    def predict_proba(self, X):
        """Class probabilities (logistic loss only; otherwise use CalibratedClassifierCV).

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Sigmoid of the decision function (normalised over classes one-vs-rest).
        """
        return proba_from_decision(self.decision_function(X))

    @available_if(check_has_proba)
    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            Natural logarithm of the class probabilities.
        """
        return np.log(self.predict_proba(X))


def proba_from_decision(decision):
    """Logistic-loss probabilities: sigmoid (binary) or normalised one-vs-rest sigmoids."""
    if decision.ndim == 1:
        p = expit(decision)
        return np.column_stack([1.0 - p, p])
    p = expit(decision)
    return p / p.sum(axis=1, keepdims=True)


def labels_from_decision(classes, decision):
    """Predicted labels: the sign (binary) or the largest one-vs-rest score."""
    if decision.ndim == 1:
        return classes[(decision > 0).astype(int)]
    return classes[np.argmax(decision, axis=1)]
