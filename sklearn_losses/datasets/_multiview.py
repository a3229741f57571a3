"""Two or more views with known canonical correlations (Chapman et al. style simulations)."""

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
        "return_concatenated": ["boolean"],
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
    return_concatenated=False,
    random_state=None,
):
    """Two or more views whose population canonical correlations are ``correlations``.

    **Two views** (``n_features=(p1, p2)``): latent pairs ``(z_k, w_k)`` are
    standard normal with ``corr(z_k, w_k) = correlations[k]``; the remaining
    coordinates of each view are independent noise.  Each view is then mixed by a
    random invertible matrix with the given condition number, which changes no
    canonical correlation.  With ``nonlinear=True`` the first view's latents are
    ``t ~ U(-1, 1)`` and the second view's are ``rho * cos(pi t) + noise``
    (standardized): the best nonlinear maps reach correlations ``rho`` while ``t``
    and ``cos(pi t)`` are uncorrelated, so a linear CCA finds almost nothing and
    :class:`~sklearn_losses.cross_decomposition.DeepCCA` can find ``sum(rho)``.

    **Three or more views** (``n_features=(p1, p2, p3, ...)``): one shared latent
    ``s_k ~ N(0, 1)`` per component, seen by every view ``v`` through its latent
    coordinate ``z_vk = sqrt(rho_k) s_k + sqrt(1 - rho_k) e_vk`` (``e_vk``
    independent standard normal noise, ``rho_k = correlations[k]``); the other
    coordinates are noise and each view is mixed as above.  Every pair of views
    then has correlation ``rho_k`` on component ``k``, and the population
    multiview quantities are known in closed form for ``M`` views:

    - every pair of views has canonical correlations ``correlations``;
    - MCCA's generalised eigenvalues (between-view covariance against the
      block-diagonal within-view covariances) are ``(M - 1) * rho_k`` at the top,
      then ``0`` (noise) and ``-rho_k`` (``M - 1`` times each);
    - GCCA's (MAXVAR's) eigenvalues are ``1 + (M - 1) * rho_k``;
    - the scores of the top MCCA (or GCCA) components have mean pairwise
      correlation ``rho_k``, and each view predicts the shared latent ``s_k`` with
      ``R^2 = rho_k``.

    Parameters
    ----------
    n_samples : int >= 1
        Number of rows (at least 2 with ``nonlinear=True``, whose latents are
        standardized over the rows).
    n_features : sequence of int, default=(20, 20)
        Dimensions of the views, one positive integer per view (at least two views),
        each at least ``len(correlations)``.
    correlations : non-empty 1-D sequence of float in [0, 1), default=(0.9, 0.8, 0.7, 0.6, 0.5)
        The canonical correlations (0: a latent with no relation; 1 is excluded, as
        it makes the joint covariance singular).  With three or more views, the
        correlation of every pair of views on each component.
    nonlinear : bool, default=False
        Make the relation between the views nonlinear (two views only).
    condition_number : float in [1, inf), default=1.0
        Condition number of each view's mixing matrix (finite).
    return_concatenated : bool, default=False
        Return the views side by side as one matrix, with their widths (the input of
        :class:`~sklearn_losses.cross_decomposition.MultiviewCCA` with
        ``view_sizes``), instead of the views.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    views : tuple (X, Y) or list of ndarray
        Two views: the pair ``(X, Y)`` of shapes ``(n_samples, p1)`` and
        ``(n_samples, p2)``, paired row by row.  Three or more: a list with one
        array of shape ``(n_samples, p_v)`` per view.  With ``return_concatenated``,
        the pair ``(X, view_sizes)`` instead: ``X`` of shape ``(n_samples,
        sum(n_features))`` holds the views side by side and ``view_sizes`` is the
        tuple of their widths.

    See Also
    --------
    sklearn_losses.cross_decomposition.CCA : Linear CCA, which recovers
        ``correlations`` from the linear views.
    sklearn_losses.cross_decomposition.MultiviewCCA : MCCA and GCCA of three or
        more views.
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
    >>> views = make_multiview(500, (6, 5, 4), correlations=(0.8,), random_state=0)
    >>> [view.shape for view in views]
    [(500, 6), (500, 5), (500, 4)]
    >>> X, view_sizes = make_multiview(
    ...     500, (6, 5, 4), correlations=(0.8,), return_concatenated=True, random_state=0
    ... )
    >>> X.shape, view_sizes
    ((500, 15), (6, 5, 4))
    """
    rng = check_random_state(random_state)
    sizes = np.asarray(n_features)
    if (
        sizes.ndim != 1
        or sizes.shape[0] < 2
        or not all(isinstance(size, Integral) for size in sizes.tolist())
        or np.any(sizes < 1)
    ):
        raise ValueError(
            "n_features must be a pair of positive integers (p1, p2), or one positive "
            f"integer per view for three or more views; got {n_features!r}."
        )
    sizes = tuple(int(size) for size in sizes)
    rho = np.asarray(correlations, dtype=np.float64)
    if rho.ndim != 1 or rho.size == 0 or not np.all((rho >= 0) & (rho < 1)):
        raise ValueError(
            "correlations must be a non-empty 1-D sequence of values in [0, 1), got "
            f"{correlations!r}."
        )
    k = rho.size
    if min(sizes) < k:
        raise ValueError(
            f"each view needs at least len(correlations) = {k} features (one per "
            f"correlated component), got n_features={n_features}."
        )
    if nonlinear and len(sizes) > 2:
        raise ValueError(f"nonlinear=True draws two views; got {len(sizes)} view sizes {sizes}.")
    if nonlinear and n_samples < 2:
        raise ValueError(
            f"nonlinear=True standardizes over the rows and needs n_samples >= 2, got {n_samples}."
        )
    if len(sizes) > 2:
        views = _shared_latent_views(n_samples, sizes, rho, condition_number, rng)
        return _returned(views, sizes, return_concatenated)
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
    p1, p2 = sizes[0], sizes[1]
    X = np.column_stack([z, rng.standard_normal((n_samples, p1 - k))])
    Y = np.column_stack([w, rng.standard_normal((n_samples, p2 - k))])
    views = (X @ _mixing(p1, condition_number, rng), Y @ _mixing(p2, condition_number, rng))
    return _returned(views, sizes, return_concatenated)


def _returned(views, sizes, return_concatenated):
    if return_concatenated:
        return np.hstack(views), sizes
    return views


def _shared_latent_views(n_samples, sizes, rho, condition_number, rng):
    """Three or more views: one shared latent per component, loading ``sqrt(rho)`` on each.

    ``z_vk = sqrt(rho_k) s_k + sqrt(1 - rho_k) e_vk``, so ``corr(z_ik, z_jk) = rho_k``
    for every pair of views ``i != j``; components, noise and views are independent.
    """
    k = rho.size
    shared = rng.standard_normal((n_samples, k))
    views = []
    for p in sizes:
        latent = np.sqrt(rho) * shared + np.sqrt(1.0 - rho) * rng.standard_normal((n_samples, k))
        view = np.column_stack([latent, rng.standard_normal((n_samples, p - k))])
        views.append(view @ _mixing(p, condition_number, rng))
    return views


def _mixing(p, condition_number, rng):
    """A random p x p matrix with singular values log-spaced from 1 to ``condition_number``."""
    left, _ = np.linalg.qr(rng.standard_normal((p, p)))
    right, _ = np.linalg.qr(rng.standard_normal((p, p)))
    return left @ np.diag(np.geomspace(1.0, condition_number, p)) @ right
