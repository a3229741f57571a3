"""The Eckart-Young loss of Chapman et al. (ICLR 2024) for two views, and its gradient.

For weights ``U = [U_x; U_y]`` of the generalised eigenproblem ``A u = lambda B u``
(``A`` the cross-covariance blocks, ``B = blockdiag((1-c) C_xx + c I, (1-c) C_yy + c I)``)

    L(U) = -2 tr(U^T A U) + ||U^T B U||_F^2,

minimised exactly by ``U = U_K Lambda_K^{1/2} O`` (top-K B-orthonormal eigenvectors,
any orthogonal O) with minimum ``-sum_k lambda_k^2``, and with no spurious local
minima.  With two independent minibatches, ``-2 tr A_hat + <V_hat, V_hat'>`` is an
unbiased estimate of L (``V = U^T B U``): the product of two independent
estimates has the product of their means as its mean.
"""

import numpy as np

__all__ = ["eckart_young_loss", "eckart_young_gradient"]


def _parts(X, Y, Wx, Wy, c):
    n = X.shape[0] - 1
    Zx, Zy = X @ Wx, Y @ Wy
    cross = Zx.T @ Zy / n
    V = (1 - c) * (Zx.T @ Zx + Zy.T @ Zy) / n + c * (Wx.T @ Wx + Wy.T @ Wy)
    return Zx, Zy, cross, V, n


def eckart_young_loss(X, Y, Wx, Wy, *, regularization=0.0, second_batch=None):
    """The Eckart-Young loss on (centred) data, or its unbiased two-batch estimate.

    Parameters
    ----------
    X, Y : ndarray of shape (n_samples, p) and (n_samples, q)
        Centred (and, as in the estimators, standardized) views.
    Wx, Wy : ndarray of shape (p, K) and (q, K)
        Weights.
    regularization : float in [0, 1], default=0.0
        The ridge parameter c (0: CCA, 1: PLS).
    second_batch : tuple (X2, Y2), default=None
        An independent batch; when given, the variance term is the product of the
        two batches' estimates (unbiased), otherwise the plug-in square.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import eckart_young_loss
    >>> X = np.array([[1.0], [-1.0]]); Y = X.copy()
    >>> eckart_young_loss(X, Y, np.ones((1, 1)), np.ones((1, 1)))  # -4 * 2 + (2 + 2) ** 2
    8.0
    >>> w = np.full((1, 1), 0.5)  # the minimiser: U^T B U = 1 = the eigenvalue
    >>> eckart_young_loss(X, Y, w, w)
    -1.0
    """
    _, _, cross, V, _ = _parts(X, Y, Wx, Wy, regularization)
    V2 = V if second_batch is None else _parts(*second_batch, Wx, Wy, regularization)[3]
    return float(-4.0 * np.trace(cross) + np.sum(V * V2))


def eckart_young_gradient(X, Y, Wx, Wy, *, regularization=0.0, second_batch=None):
    """Gradient of :func:`eckart_young_loss` with respect to ``(Wx, Wy)``.

    Parameters
    ----------
    X, Y, Wx, Wy, regularization, second_batch
        As in :func:`eckart_young_loss`.

    Returns
    -------
    grad_x, grad_y : ndarray
        Same shapes as ``Wx`` and ``Wy``.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import eckart_young_gradient
    >>> X = np.array([[1.0], [-1.0]])
    >>> gx, gy = eckart_young_gradient(X, X, np.ones((1, 1)), np.ones((1, 1)))
    >>> gx
    array([[24.]])
    >>> eckart_young_gradient(X, X, np.full((1, 1), 0.5), np.full((1, 1), 0.5))[0]
    array([[0.]])
    """
    c = regularization
    Zx, Zy, _, V, n = _parts(X, Y, Wx, Wy, c)
    if second_batch is None:
        X2, Y2, V2, Zx2, Zy2, n2 = X, Y, V, Zx, Zy, n
    else:
        X2, Y2 = second_batch
        Zx2, Zy2, _, V2, n2 = _parts(X2, Y2, Wx, Wy, c)
    # B_hat W for each batch
    BWx, BWy = (1 - c) * X.T @ Zx / n + c * Wx, (1 - c) * Y.T @ Zy / n + c * Wy
    BWx2, BWy2 = (1 - c) * X2.T @ Zx2 / n2 + c * Wx, (1 - c) * Y2.T @ Zy2 / n2 + c * Wy
    grad_x = -4.0 * X.T @ Zy / n + 2.0 * (BWx @ V2 + BWx2 @ V)
    grad_y = -4.0 * Y.T @ Zx / n + 2.0 * (BWy @ V2 + BWy2 @ V)
    return grad_x, grad_y
