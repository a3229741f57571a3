"""The simulation settings of Faletto & Bien (ICML 2023)."""

from numbers import Integral, Real

import numpy as np
from scipy.special import expit
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["make_presto_data"]

# rounds of rejection sampling without a single accepted row before giving up
_MAX_EMPTY_ROUNDS = 10_000


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": [Interval(Integral, 1, None, closed="left")],
        "intercepts": ["array-like"],
        "setting": [StrOptions({"sparse", "dense"})],
        "sparsity": [Interval(Real, 0, 1, closed="both")],
        "effect": [Interval(Real, 0, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_presto_data(
    n_samples=2500,
    n_features=10,
    *,
    intercepts=(0.0, 3.5, 5.5),
    setting="sparse",
    sparsity=0.5,
    effect=0.5,
    random_state=None,
):
    """Ordinal data with a rare top class and slopes that drift between thresholds.

    ``x ~ U(-1, 1)^p`` and ``P(y <= k | x) = sigmoid(intercepts[k] + x @ beta_k)``
    with ``beta_k = psi_1 + ... + psi_k``.  ``"sparse"``: each entry of
    ``psi_1`` is ``effect`` with probability ``sparsity`` (else 0) and each entry
    of ``psi_k`` (k >= 2) is ``+-effect`` with probability ``sparsity``.
    ``"dense"``: every entry of every ``psi_k`` is ``U(-effect, effect)``.  With
    the defaults (the paper's Section 4.1) the top class has about 0.7% of the
    samples.

    Parameters
    ----------
    n_samples : int, default=2500
        Number of samples.
    n_features : int, default=10
        Number of features.
    intercepts : sequence of float, default=(0.0, 3.5, 5.5)
        Finite, strictly increasing intercepts; ``len(intercepts) + 1`` classes.
    setting : {"sparse", "dense"}, default="sparse"
        How the slope increments are drawn.
    sparsity : float, default=0.5
        Probability that an increment is non-zero (sparse setting).
    effect : float, default=0.5
        Size of the increments (finite, >= 0).
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, n_features)
        The features, uniform on ``[-1, 1]``.
    y : ndarray of shape (n_samples,)
        Classes 0..K-1.
    proba : ndarray of shape (n_samples, K)
        True class probabilities (rows with crossing true predictors are
        redrawn, so every probability is positive).

    See Also
    --------
    sklearn_losses.ordinal.PRESTOClassifier : The ordinal model these data are
        designed for, with penalized differences between threshold slopes.
    sklearn_losses.ordinal.ProportionalOddsClassifier : The model with one slope
        shared by every threshold, misspecified on these data.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_presto_data
    >>> X, y, proba = make_presto_data(random_state=0)
    >>> X.shape, proba.shape
    ((2500, 10), (2500, 4))
    """
    rng = check_random_state(random_state)
    try:
        intercepts = np.asarray(intercepts, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError("intercepts must be a sequence of numbers.") from None
    if (
        intercepts.ndim != 1
        or intercepts.size < 1
        or not np.all(np.isfinite(intercepts))
        or np.any(np.diff(intercepts) <= 0)
    ):
        raise ValueError(
            f"intercepts must be a non-empty, finite, increasing sequence; got {intercepts}."
        )
    n_thresholds = intercepts.size
    if setting == "sparse":
        psi = np.where(rng.uniform(size=(n_features, n_thresholds)) < sparsity, effect, 0.0)
        signs = rng.choice([-1.0, 1.0], size=(n_features, n_thresholds))
        psi[:, 1:] *= signs[:, 1:]
    else:
        psi = rng.uniform(-effect, effect, size=(n_features, n_thresholds))
    B = np.cumsum(psi, axis=1)
    X = np.empty((0, n_features))
    rounds = 0
    while X.shape[0] < n_samples:  # keep only rows whose true predictors are ordered
        if X.shape[0] == 0 and rounds == _MAX_EMPTY_ROUNDS:
            raise ValueError(
                f"No draw of x in {rounds * n_samples} had ordered true predictors: the "
                "slopes cross for almost every x. Use wider gaps between the intercepts, a "
                "smaller effect or fewer features."
            )
        rounds += 1
        draw = rng.uniform(-1.0, 1.0, size=(n_samples, n_features))
        eta = draw @ B + intercepts
        X = np.vstack([X, draw[np.all(np.diff(eta, axis=1) > 0, axis=1)]])
    X = X[:n_samples]
    cumulative = expit(X @ B + intercepts)
    proba = np.diff(np.column_stack([np.zeros(n_samples), cumulative, np.ones(n_samples)]), axis=1)
    u = rng.uniform(size=n_samples)
    y = (u[:, None] > np.cumsum(proba, axis=1)[:, :-1]).sum(axis=1)
    return X, y, proba
