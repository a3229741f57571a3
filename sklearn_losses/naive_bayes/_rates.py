"""The theoretical shapes of the excess error of naive Bayes and logistic regression."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["theoretical_rate", "fit_rate_scale"]

_KIND = StrOptions({"naive_bayes", "logistic"})
# n >= 2: the naive Bayes rate sqrt(log n / m) vanishes at n = 1
_N_FEATURES = Interval(Integral, 2, None, closed="left")


def _sizes(train_sizes):
    """``train_sizes`` as a 1-D float array of positive, finite sizes."""
    sizes = np.asarray(train_sizes, dtype=np.float64)
    if sizes.ndim != 1:
        raise ValueError(f"train_sizes must be 1-D; got an array of shape {sizes.shape}.")
    if not np.all(np.isfinite(sizes) & (sizes > 0)):
        raise ValueError("train_sizes must be positive and finite.")
    return sizes


@validate_params(
    {
        "train_sizes": ["array-like"],
        "n_features": [_N_FEATURES],
        "kind": [_KIND],
        "scale": [Interval(Real, None, None, closed="neither")],  # finite
    },
    prefer_skip_nested_validation=True,
)
def theoretical_rate(train_sizes, n_features, kind="naive_bayes", scale=1.0):
    """Excess-error shape of Zheng et al.: sqrt(log n / m) for naive Bayes, sqrt(n / m) for LR.

    Here ``n`` is the number of features and ``m`` the training size; naive Bayes
    reaches its asymptote with O(log n) samples, logistic regression with O(n).

    Parameters
    ----------
    train_sizes : array-like of shape (n_sizes,)
        Training sizes m (positive).
    n_features : int
        Feature dimension n (at least 2).
    kind : {"naive_bayes", "logistic"}, default="naive_bayes"
        Which rate.
    scale : float, default=1.0
        Multiplicative constant, finite (see :func:`fit_rate_scale`).

    Returns
    -------
    rate : ndarray of shape (n_sizes,)
        ``scale`` times the rate at each training size.

    See Also
    --------
    fit_rate_scale : Fit ``scale`` to measured excess errors.
    compare_learning_curves : Measure the learning curves these rates describe.

    Examples
    --------
    >>> from sklearn_losses.naive_bayes import theoretical_rate
    >>> theoretical_rate([100, 400], n_features=100, kind="logistic")
    array([1. , 0.5])
    """
    sizes = _sizes(train_sizes)
    if kind == "naive_bayes":
        return scale * np.sqrt(np.log(n_features) / sizes)
    return scale * np.sqrt(n_features / sizes)


@validate_params(
    {
        "train_sizes": ["array-like"],
        "excess_errors": ["array-like"],
        "n_features": [_N_FEATURES],
        "kind": [_KIND],
    },
    prefer_skip_nested_validation=True,
)
def fit_rate_scale(train_sizes, excess_errors, n_features, kind="naive_bayes"):
    """Fit the scale c so that ``c * theoretical_rate`` best matches measured excess errors.

    The theory fixes the shape of the excess error only up to a constant; this
    returns the least-squares constant over the finite entries of
    ``excess_errors``, so a measured learning curve can be compared with the
    predicted shape (as :meth:`LearningCurveComparison.plot` does with
    ``theory``).

    Parameters
    ----------
    train_sizes : array-like of shape (n_sizes,)
        Training sizes (positive).
    excess_errors : array-like of shape (n_sizes,)
        Measured error minus the asymptotic error; NaN entries are ignored.
    n_features : int
        Feature dimension (at least 2).
    kind : {"naive_bayes", "logistic"}, default="naive_bayes"
        Which rate.

    Returns
    -------
    scale : float
        The constant ``c`` minimising ``sum((c * rate - excess_errors) ** 2)``.

    See Also
    --------
    theoretical_rate : The rate shape that is scaled.
    LearningCurveComparison.plot : Draw measured curves with the fitted rates.

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
    if errors.shape != rate.shape:
        raise ValueError(
            f"excess_errors has shape {errors.shape}; expected {rate.shape}, one error per "
            "training size."
        )
    keep = np.isfinite(errors)
    if not keep.any():
        raise ValueError("excess_errors has no finite value.")
    return float(rate[keep] @ errors[keep] / (rate[keep] @ rate[keep]))
