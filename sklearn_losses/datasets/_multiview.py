"""Two views with known canonical correlations (Chapman et al. style simulations)."""

from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params

__all__ = ["make_multiview"]


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "n_features": ["array-like"],
        "correlations": ["array-like"],
        "nonlinear": ["boolean"],
        "condition_number": [Interval(Real, 1, np.inf, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_multiview(
    n_samples,
    n_features=(20, 20),
    *,
    correlations=(0.9, 0.8, 0.7, 0.6, 0.5),
    nonlinear=False,
    condition_number=1.0,
    random_state=None,
):
    """Two views whose population canonical correlations are ``correlations``.

    Latent pairs ``(z_k, w_k)`` are standard normal with ``corr(z_k, w_k) =
    correlations[k]``; the remaining coordinates of each view are independent
    noise.  Each view is then mixed by a random invertible matrix with the given
    condition number, which changes no canonical correlation.  With
    ``nonlinear=True`` the first view's latents are ``t ~ U(-1, 1)`` and the second
    view's are ``rho * cos(pi t) + noise`` (standardized): the best nonlinear maps
    reach correlations ``rho`` while ``t`` and ``cos(pi t)`` are uncorrelated, so a
    linear CCA finds almost nothing and
    :class:`~sklearn_losses.cross_decomposition.DeepCCA` can find ``sum(rho)``.

    Parameters
    ----------
    n_samples : int >= 1
        Number of rows (at least 2 with ``nonlinear=True``, whose latents are
        standardized over the rows).
    n_features : pair of int (p1, p2), default=(20, 20)
        Dimensions of the two views, each at least ``len(correlations)``.
    correlations : non-empty 1-D sequence of float in [0, 1), default=(0.9, 0.8, 0.7, 0.6, 0.5)
        The canonical correlations (0: a latent pair with no relation; 1 is
        excluded, as it makes the joint covariance singular).
    nonlinear : bool, default=False
        Make the relation between the views nonlinear.
    condition_number : float in [1, inf), default=1.0
        Condition number of each view's mixing matrix (finite).
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    X : ndarray of shape (n_samples, p1)
        The first view.
    Y : ndarray of shape (n_samples, p2)
        The second view, paired row by row with ``X``.

    See Also
    --------
    sklearn_losses.cross_decomposition.CCA : Linear CCA, which recovers
        ``correlations`` from the linear views.
    sklearn_losses.cross_decomposition.DeepCCA : Nonlinear CCA, for the views drawn
        with ``nonlinear=True``.
    sklearn_losses.cross_decomposition.paired_correlations : Correlations of paired
        projections, to compare with ``correlations``.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(500, (6, 5), correlations=(0.8,), random_state=0)
    >>> X.shape, Y.shape
    ((500, 6), (500, 5))
    """
    rng = check_random_state(random_state)
    sizes = np.asarray(n_features)
    if (
        sizes.shape != (2,)
        or not all(isinstance(size, Integral) for size in sizes.tolist())
        or np.any(sizes < 1)
    ):
        raise ValueError(
            f"n_features must be a pair of positive integers (p1, p2), got {n_features!r}."
        )
    p1, p2 = (int(size) for size in sizes)
    rho = np.asarray(correlations, dtype=np.float64)
    if rho.ndim != 1 or rho.size == 0 or not np.all((rho >= 0) & (rho < 1)):
        raise ValueError(
            "correlations must be a non-empty 1-D sequence of values in [0, 1), got "
            f"{correlations!r}."
        )
    k = rho.size
    if min(p1, p2) < k:
        raise ValueError(f"each view needs at least {k} features, got {n_features}.")
    if nonlinear and n_samples < 2:
        raise ValueError(
            f"nonlinear=True standardizes over the rows and needs n_samples >= 2, got {n_samples}."
        )
    if nonlinear:
        # X sees t ~ U(-1, 1); Y sees cos(pi t) (standardized) with noise, so the best
        # nonlinear functions reach corr = rho while corr(t, cos(pi t)) = 0 (linear CCA)
        t = rng.uniform(-1.0, 1.0, size=(n_samples, k))
        z = t * np.sqrt(3.0)
        s = np.cos(np.pi * t)
        s = (s - s.mean(axis=0)) / s.std(axis=0)
        w = rho * s + np.sqrt(1 - rho**2) * rng.standard_normal((n_samples, k))
    else:
        z = rng.standard_normal((n_samples, k))
        w = rho * z + np.sqrt(1 - rho**2) * rng.standard_normal((n_samples, k))
    X = np.column_stack([z, rng.standard_normal((n_samples, p1 - k))])
    Y = np.column_stack([w, rng.standard_normal((n_samples, p2 - k))])
    return X @ _mixing(p1, condition_number, rng), Y @ _mixing(p2, condition_number, rng)


def _mixing(p, condition_number, rng):
    """A random p x p matrix with singular values log-spaced from 1 to ``condition_number``."""
    left, _ = np.linalg.qr(rng.standard_normal((p, p)))
    right, _ = np.linalg.qr(rng.standard_normal((p, p)))
    return left @ np.diag(np.geomspace(1.0, condition_number, p)) @ right
