"""The checks of the paper's "mild assumptions" on a data set."""

from numbers import Real

import numpy as np
from sklearn.utils import Bunch
from sklearn.utils._param_validation import Interval, validate_params

from ._shared_variance import SharedVarianceGaussianNB

__all__ = ["nb_assumption_diagnostics"]


@validate_params(
    {
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "var_smoothing": [Interval(Real, 0, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def nb_assumption_diagnostics(X, y, *, var_smoothing=1e-9):
    """Pooled variances and per-dimension log-likelihood gaps of the naive Bayes model.

    Zheng et al. check three quantities on (min-max scaled) features: the pooled
    variances are bounded away from zero, and for each pair of classes
    (k1, k2) and each conditioning class k the log-likelihood gap
    ``g(x) = log p(x|k1) - log p(x|k2)`` of the fitted model has a per-dimension
    mean ``E_{x|k}[g] / n`` (beta) bounded away from zero and a per-dimension
    variance ``Var_{x|k}[g] / n`` (alpha) that stays bounded.

    Parameters
    ----------
    X : {array-like, sparse matrix} of shape (n_samples, n_features)
        Data, already scaled as it will be for the classifiers.
    y : array-like of shape (n_samples,)
        Class labels.
    var_smoothing : float, default=1e-9
        Absolute smoothing of the pooled variance (finite, non-negative).

    Returns
    -------
    result : Bunch
        ``classes``; ``pooled_var`` (n_features,); ``gap_mean`` and ``gap_var`` of
        shape (n_classes, n_classes, n_classes), indexed ``[k1, k2, k]``.

    See Also
    --------
    SharedVarianceGaussianNB : The naive Bayes model whose log-likelihoods are used.
    compare_learning_curves : The sample-complexity comparison these assumptions
        underpin.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn_losses.naive_bayes import nb_assumption_diagnostics
    >>> d = nb_assumption_diagnostics(*load_iris(return_X_y=True))
    >>> d.gap_mean.shape
    (3, 3, 3)
    >>> bool(d.gap_mean[0, 1, 0] > 0)
    True
    """
    model = SharedVarianceGaussianNB(var_smoothing=var_smoothing).fit(X, y)
    codes = np.searchsorted(model.classes_, np.ravel(y))
    n_classes, n_features = model.theta_.shape
    # log p(x|k) up to a term shared by all classes (the variance is shared), so
    # differences between classes are exact.
    loglik = model.predict_joint_log_proba(X) - np.log(model.class_prior_)
    gap_mean = np.zeros((n_classes,) * 3)
    gap_var = np.zeros((n_classes,) * 3)
    for k in range(n_classes):
        rows = loglik[codes == k]
        gaps = rows[:, :, None] - rows[:, None, :]
        gap_mean[:, :, k] = gaps.mean(axis=0) / n_features
        gap_var[:, :, k] = gaps.var(axis=0) / n_features
    return Bunch(
        classes=model.classes_, pooled_var=model.pooled_var_, gap_mean=gap_mean, gap_var=gap_var
    )
