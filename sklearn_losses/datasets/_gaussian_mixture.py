"""The Gaussian mixture simulator of Zheng et al. (ICML 2023) and its Bayes error."""

from numbers import Integral

import numpy as np
from scipy.stats import norm
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["make_gaussian_mixture", "bayes_error"]

# Class k has mean 2**(k-1): beyond 1024 classes the means overflow float64.
_MAX_CLASSES = 1024
_CONSTRAINTS = {
    "n_features": [Interval(Integral, 1, None, closed="left")],
    "n_classes": [Interval(Integral, 2, _MAX_CLASSES, closed="both")],
    "mode": [StrOptions({"easy", "hard"})],
    "random_state": ["random_state"],
}


def _mixture_parameters(n_features, n_classes, mode, rng):
    """Class means and the shared covariance (or its diagonal) of the generator."""
    means = np.empty((n_classes, n_features))
    means[0] = -1.0
    for k in range(1, n_classes):
        means[k] = 2.0 ** (k - 1)
    diag = np.ones(n_features)
    diag[: n_features // 2] = n_features
    if mode == "easy":
        return means, diag
    # hard: a random correlation structure (from B^T B, B ~ U[-1, 1]) with the same diagonal.
    B = rng.uniform(-1.0, 1.0, size=(n_features, n_features))
    gram = B.T @ B + 1e-6 * np.eye(n_features)
    d = np.sqrt(np.diag(gram))
    corr = gram / np.outer(d, d)
    return means, corr * np.sqrt(np.outer(diag, diag))


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        **_CONSTRAINTS,
        "balanced": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def make_gaussian_mixture(
    n_samples, n_features, n_classes=2, *, mode="easy", balanced=True, random_state=None
):
    """Draw the paper's Gaussian mixture: shared covariance, class means on the diagonal.

    Class 0 has mean ``-1`` and class ``k >= 1`` mean ``2**(k-1)`` in every
    coordinate.  The covariance is shared by the classes: in ``"easy"`` mode it
    is diagonal with variance ``n_features`` on the first ``n_features // 2``
    coordinates and 1 on the rest (the naive Bayes assumption holds); in
    ``"hard"`` mode it has the same diagonal and a random correlation
    structure.  For more than two classes the features are rescaled as
    ``(x - 2**(K-3)) / 2**(K-3)``, as in the paper's code.

    Parameters
    ----------
    n_samples : int
        Number of samples, at least ``n_classes``.
    n_features : int
        Feature dimension (the paper's n).
    n_classes : int, default=2
        Number of classes K, from 2 to 1024 (the class means ``2**(k-1)`` must be
        finite).
    mode : {"easy", "hard"}, default="easy"
        Diagonal or correlated covariance.
    balanced : bool, default=True
        Equal class sizes (up to one sample) when True, otherwise iid uniform labels.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The samples, rescaled as described above when ``n_classes > 2``.
    y : ndarray of shape (n_samples,)
        The integer class label of each sample, in ``0, ..., n_classes - 1``.

    See Also
    --------
    bayes_error : The Bayes error of this mixture, the floor of any classifier's error.
    sklearn_losses.naive_bayes.SharedVarianceGaussianNB : The naive Bayes model whose
        assumption holds in ``"easy"`` mode.
    sklearn_losses.naive_bayes.compare_learning_curves : Learning curves of classifiers
        trained on data such as this.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_gaussian_mixture
    >>> X, y = make_gaussian_mixture(100, 10, random_state=0)
    >>> X.shape, sorted(set(y.tolist()))
    ((100, 10), [0, 1])
    """
    if n_samples < n_classes:
        raise ValueError(
            f"n_samples={n_samples} is smaller than n_classes={n_classes}; every class needs "
            "at least one sample."
        )
    rng = check_random_state(random_state)
    means, cov = _mixture_parameters(n_features, n_classes, mode, rng)
    if balanced:
        y = np.arange(n_samples) % n_classes
        rng.shuffle(y)
    else:
        y = rng.randint(n_classes, size=n_samples)
    noise = rng.standard_normal((n_samples, n_features))
    if cov.ndim == 1:
        noise *= np.sqrt(cov)
    else:
        noise = noise @ np.linalg.cholesky(cov).T
    X = means[y] + noise
    if n_classes > 2:
        shift = 2.0 ** (n_classes - 3)
        X = (X - shift) / shift
    return X, y


@validate_params(
    {
        **_CONSTRAINTS,
        "method": [StrOptions({"auto", "exact", "monte_carlo"})],
        "n_samples": [Interval(Integral, 1, None, closed="left")],
    },
    prefer_skip_nested_validation=True,
)
def bayes_error(
    n_features, n_classes=2, *, mode="easy", method="auto", n_samples=200_000, random_state=None
):
    """Compute the Bayes error of :func:`make_gaussian_mixture` (balanced classes).

    With a shared covariance the Bayes rule is linear.  For two classes the error
    has the closed form ``Phi(-Delta / 2)`` with ``Delta`` the Mahalanobis
    distance between the means; otherwise it is estimated by Monte Carlo.

    Parameters
    ----------
    n_features : int
        Feature dimension.
    n_classes : int, default=2
        Number of classes, from 2 to 1024.
    mode : {"easy", "hard"}, default="easy"
        Covariance mode (``"hard"`` uses ``random_state`` to draw the correlation).
    method : {"auto", "exact", "monte_carlo"}, default="auto"
        ``"auto"`` is exact for two classes and Monte Carlo otherwise.
    n_samples : int, default=200_000
        Monte Carlo sample size, at least ``n_classes``.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    error : float
        The Bayes error.
    std_error : float
        Its Monte Carlo standard error (0 for the exact formula).

    See Also
    --------
    make_gaussian_mixture : Draw samples from the mixture whose Bayes error this is.
    sklearn_losses.naive_bayes.compare_learning_curves : Measure how fast classifiers
        approach this error as the training set grows.

    Examples
    --------
    >>> from sklearn_losses.datasets import bayes_error
    >>> err, se = bayes_error(2)
    >>> round(err, 4), se
    (0.1103, 0.0)
    """
    rng = check_random_state(random_state)
    state = rng.get_state()
    means, cov = _mixture_parameters(n_features, n_classes, mode, rng)
    full = np.diag(cov) if cov.ndim == 1 else cov
    if method == "auto":
        method = "exact" if n_classes == 2 else "monte_carlo"
    if method == "exact":
        if n_classes != 2:
            raise ValueError("The exact Bayes error is available for two classes only.")
        diff = means[1] - means[0]
        delta = np.sqrt(diff @ np.linalg.solve(full, diff))
        return float(norm.cdf(-delta / 2)), 0.0
    rng.set_state(state)  # the same covariance as make_gaussian_mixture with this seed
    X, y = make_gaussian_mixture(n_samples, n_features, n_classes, mode=mode, random_state=rng)
    if n_classes > 2:
        shift = 2.0 ** (n_classes - 3)
        means = (means - shift) / shift
        full = full / shift**2
    precision_means = np.linalg.solve(full, means.T).T
    scores = X @ precision_means.T - 0.5 * np.sum(means * precision_means, axis=1)
    wrong = np.argmax(scores, axis=1) != y
    error = wrong.mean()
    return float(error), float(np.sqrt(error * (1 - error) / n_samples))
