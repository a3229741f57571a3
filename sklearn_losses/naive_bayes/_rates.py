"""The theoretical shapes of the excess error of naive Bayes and logistic regression."""

import numpy as np

__all__ = ["theoretical_rate", "fit_rate_scale"]

_KINDS = ("naive_bayes", "logistic")


def theoretical_rate(train_sizes, n_features, kind="naive_bayes", scale=1.0):
    """Excess-error shape of Zheng et al.: sqrt(log n / m) for naive Bayes, sqrt(n / m) for LR.

    Here ``n`` is the number of features and ``m`` the training size; naive Bayes
    reaches its asymptote with O(log n) samples, logistic regression with O(n).

    Parameters
    ----------
    train_sizes : array-like of shape (n_sizes,)
        Training sizes m (positive).
    n_features : int
        Feature dimension n (at least 2 for the naive Bayes rate).
    kind : {"naive_bayes", "logistic"}, default="naive_bayes"
        Which rate.
    scale : float, default=1.0
        Multiplicative constant (see :func:`fit_rate_scale`).

    Returns
    -------
    rate : ndarray of shape (n_sizes,)

    Examples
    --------
    >>> from sklearn_losses.naive_bayes import theoretical_rate
    >>> theoretical_rate([100, 400], n_features=100, kind="logistic")
    array([1. , 0.5])
    """
    sizes = np.asarray(train_sizes, dtype=np.float64)
    if np.any(sizes <= 0):
        raise ValueError("train_sizes must be positive.")
    if n_features < 2:
        raise ValueError(f"n_features must be >= 2, got {n_features}.")
    if kind == "naive_bayes":
        return scale * np.sqrt(np.log(n_features) / sizes)
    if kind == "logistic":
        return scale * np.sqrt(n_features / sizes)
    raise ValueError(f"kind must be one of {_KINDS}, got {kind!r}.")


def fit_rate_scale(train_sizes, excess_errors, n_features, kind="naive_bayes"):
    """Least-squares scale c so that ``c * theoretical_rate`` best matches measured excess errors.

    Parameters
    ----------
    train_sizes : array-like of shape (n_sizes,)
        Training sizes.
    excess_errors : array-like of shape (n_sizes,)
        Measured error minus the asymptotic error; NaN entries are ignored.
    n_features : int
        Feature dimension.
    kind : {"naive_bayes", "logistic"}, default="naive_bayes"
        Which rate.

    Returns
    -------
    scale : float

    Examples
    --------
    >>> from sklearn_losses.naive_bayes import fit_rate_scale, theoretical_rate
    >>> sizes = [10, 20, 40]
    >>> errors = theoretical_rate(sizes, 50, "logistic", scale=0.3)
    >>> round(fit_rate_scale(sizes, errors, 50, "logistic"), 6)
    0.3
    """
    rate = theoretical_rate(train_sizes, n_features, kind)
    errors = np.asarray(excess_errors, dtype=np.float64)
    keep = np.isfinite(errors)
    if not keep.any():
        raise ValueError("excess_errors has no finite value.")
    return float(rate[keep] @ errors[keep] / (rate[keep] @ rate[keep]))
