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

from numbers import Real

import numpy as np
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array

__all__ = ["eckart_young_loss", "eckart_young_gradient"]


def _parts(X, Y, Wx, Wy, c):
    n = X.shape[0] - 1
    Zx, Zy = X @ Wx, Y @ Wy
    cross = Zx.T @ Zy / n
    V = (1 - c) * (Zx.T @ Zx + Zy.T @ Zy) / n + c * (Wx.T @ Wx + Wy.T @ Wy)
    return Zx, Zy, cross, V, n


def _check_arrays(X, Y, Wx, Wy, second_batch):
    """Float64, finite, 2-D arrays of matching shapes (the functions' input contract)."""
    X = check_array(X, input_name="X", dtype=np.float64, ensure_min_samples=2)
    Y = check_array(Y, input_name="Y", dtype=np.float64, ensure_min_samples=2)
    Wx = check_array(Wx, input_name="Wx", dtype=np.float64)
    Wy = check_array(Wy, input_name="Wy", dtype=np.float64)
    if Y.shape[0] != X.shape[0]:
        raise ValueError(
            f"X and Y must have the same number of rows; got {X.shape[0]} and {Y.shape[0]}."
        )
    if Wx.shape[0] != X.shape[1] or Wy.shape[0] != Y.shape[1]:
        raise ValueError(
            f"Wx must have shape (n_features_X={X.shape[1]}, K) and Wy (n_features_Y="
            f"{Y.shape[1]}, K); got {Wx.shape} and {Wy.shape}."
        )
    if Wx.shape[1] != Wy.shape[1]:
        raise ValueError(
            f"Wx and Wy must have the same number of columns K; got {Wx.shape[1]} and "
            f"{Wy.shape[1]}."
        )
    if second_batch is not None:
        if len(second_batch) != 2:
            raise ValueError(
                f"second_batch must be a pair (X2, Y2); got a tuple of {len(second_batch)}."
            )
        X2 = check_array(second_batch[0], input_name="X2", dtype=np.float64, ensure_min_samples=2)
        Y2 = check_array(second_batch[1], input_name="Y2", dtype=np.float64, ensure_min_samples=2)
        if X2.shape[0] != Y2.shape[0] or X2.shape[1] != X.shape[1] or Y2.shape[1] != Y.shape[1]:
            raise ValueError(
                f"second_batch must hold (n2, {X.shape[1]}) and (n2, {Y.shape[1]}) arrays with "
                f"the same rows; got {X2.shape} and {Y2.shape}."
            )
        second_batch = (X2, Y2)
    return X, Y, Wx, Wy, second_batch


_PARAMS = {
    "X": ["array-like"],
    "Y": ["array-like"],
    "Wx": ["array-like"],
    "Wy": ["array-like"],
    "regularization": [Interval(Real, 0, 1, closed="both")],
    "second_batch": [tuple, None],
}


def _loss_value(X, Y, Wx, Wy, regularization, second_batch=None):
    """:func:`eckart_young_loss` without validation (for callers that validated)."""
    _, _, cross, V, _ = _parts(X, Y, Wx, Wy, regularization)
    V2 = V if second_batch is None else _parts(*second_batch, Wx, Wy, regularization)[3]
    return float(-4.0 * np.trace(cross) + np.sum(V * V2))


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def eckart_young_loss(X, Y, Wx, Wy, *, regularization=0.0, second_batch=None):
    """The Eckart-Young loss on (centred) data, or its unbiased two-batch estimate.

    Parameters
    ----------
    X, Y : array-like of shape (n_samples, p) and (n_samples, q)
        Centred (and, as in the estimators, standardized) views; finite, at least
        two rows (the covariances divide by ``n_samples - 1``).
    Wx, Wy : array-like of shape (p, K) and (q, K)
        Weights (finite).
    regularization : float in [0, 1], default=0.0
        The ridge parameter c (0: CCA, 1: PLS): ``B`` mixes the covariances with
        weight ``1 - c`` and the identity with weight ``c``.
    second_batch : tuple (X2, Y2), default=None
        An independent batch of shapes ``(m, p)`` and ``(m, q)``; when given, the
        variance term is the product of the two batches' estimates (unbiased),
        otherwise the plug-in square.

    Returns
    -------
    loss : float

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.cross_decomposition import eckart_young_loss
    >>> X = np.array([[1.0], [-1.0]]); Y = X.copy()
    >>> eckart_young_loss(X, Y, np.ones((1, 1)), np.ones((1, 1)))  # -4 * 2 + (2 + 2) ** 2
    8.0
    >>> w = np.full((1, 1), 0.5)  # the minimiser: U^T B U = 1 = the eigenvalue
    >>> eckart_young_loss(X, Y, w, w)
    -1.0
    """
    X, Y, Wx, Wy, second_batch = _check_arrays(X, Y, Wx, Wy, second_batch)
    return _loss_value(X, Y, Wx, Wy, regularization, second_batch)


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
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
    >>> import numpy as np
    >>> from sklearn_losses.cross_decomposition import eckart_young_gradient
    >>> X = np.array([[1.0], [-1.0]])
    >>> gx, gy = eckart_young_gradient(X, X, np.ones((1, 1)), np.ones((1, 1)))
    >>> gx
    array([[24.]])
    >>> eckart_young_gradient(X, X, np.full((1, 1), 0.5), np.full((1, 1), 0.5))[0]
    array([[0.]])
    """
    X, Y, Wx, Wy, second_batch = _check_arrays(X, Y, Wx, Wy, second_batch)
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
