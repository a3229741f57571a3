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

from ..utils.validation import check_sample_weight

__all__ = ["eckart_young_loss", "eckart_young_gradient"]

# The one definition of the loss: the two functions below are written with
# operators that NumPy arrays, torch tensors and numba's nopython mode all share
# (``*``, ``@``, ``.T``, ``.sum()``, ``.reshape``), so that the numba kernel
# (``_kernels.py`` compiles these very functions with ``_jit.njit``) and the torch
# criterion (``_nets.py`` calls them on tensors) evaluate the same code as NumPy.


def ey_from_moments(trace_cross, V, V2):
    """The Eckart-Young loss from the moments of a batch: ``-4 tr C + <V, V2>``.

    ``trace_cross`` is the trace of the cross-covariance of the scores
    (``tr(U^T A U) / 2``), ``V`` and ``V2`` the ``U^T B U`` of one batch and of
    the batch paired with it (the same one for the plug-in estimate).
    """
    return -4.0 * trace_cross + (V * V2).sum()


def ey_moments(Zx, Zy, dof, sample_weight=None, Wx=None, Wy=None, c=0.0):
    """``(tr C, V)`` of one batch of (centred) scores ``Zx = X W_x``, ``Zy = Y W_y``.

    ``C = Zx^T D Zy / dof`` and ``V = (1 - c) (Zx^T D Zx + Zy^T D Zy) / dof +
    c (W_x^T W_x + W_y^T W_y)`` with ``D = diag(sample_weight)`` (the identity
    when None); ``dof`` is ``n - 1``, or ``sum(sample_weight) - 1``, so that
    integer weights give the moments of the rows repeated.  ``Wx, Wy`` are needed
    only when ``c != 0``.
    """
    if sample_weight is None:
        WZx, WZy = Zx, Zy
    else:
        w = sample_weight.reshape(-1, 1)
        WZx, WZy = w * Zx, w * Zy
    trace_cross = (WZx * Zy).sum() / dof
    V = (WZx.T @ Zx + WZy.T @ Zy) / dof
    if c != 0.0:
        V = (1.0 - c) * V + c * (Wx.T @ Wx + Wy.T @ Wy)
    return trace_cross, V


def _dof(X, sample_weight):
    """The covariances' denominator: ``n - 1``, or ``sum(sample_weight) - 1``."""
    return X.shape[0] - 1.0 if sample_weight is None else sample_weight.sum() - 1.0


def _parts(X, Y, Wx, Wy, c, sample_weight=None):
    n = _dof(X, sample_weight)
    Zx, Zy = X @ Wx, Y @ Wy
    trace_cross, V = ey_moments(Zx, Zy, n, sample_weight, Wx, Wy, c)
    return Zx, Zy, trace_cross, V, n


def _check_arrays(X, Y, Wx, Wy, second_batch, sample_weight=None):
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
    if sample_weight is not None:
        sample_weight = check_sample_weight(sample_weight, X, "eckart_young_loss")
        check_weight_total(sample_weight, "eckart_young_loss")
    return X, Y, Wx, Wy, second_batch, sample_weight


def check_weight_total(sample_weight, name):
    """Refuse weights whose sum is at most 1: the covariances divide by ``sum - 1``."""
    total = float(np.sum(sample_weight))
    if not total > 1.0:
        raise ValueError(
            f"{name}: sample_weight must sum to more than 1 (the covariances divide by "
            f"sum(sample_weight) - 1, as by n_samples - 1 without weights); got {total:.6g}."
        )


def check_fit_weights(sample_weight, X, name):
    """None, or ``fit``'s weights checked: finite, nonnegative, summing to more than 1."""
    if sample_weight is None:
        return None
    sample_weight = check_sample_weight(sample_weight, X, name)
    check_weight_total(sample_weight, name)
    return sample_weight


_PARAMS = {
    "X": ["array-like"],
    "Y": ["array-like"],
    "Wx": ["array-like"],
    "Wy": ["array-like"],
    "regularization": [Interval(Real, 0, 1, closed="both")],
    "second_batch": [tuple, None],
    "sample_weight": ["array-like", None],
}


def _loss_value(X, Y, Wx, Wy, regularization, second_batch=None, *, sample_weight=None):
    """:func:`eckart_young_loss` without validation (for callers that validated)."""
    _, _, trace_cross, V, _ = _parts(X, Y, Wx, Wy, regularization, sample_weight)
    V2 = V if second_batch is None else _parts(*second_batch, Wx, Wy, regularization)[3]
    return float(ey_from_moments(trace_cross, V, V2))


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def eckart_young_loss(X, Y, Wx, Wy, *, regularization=0.0, second_batch=None, sample_weight=None):
    """The Eckart-Young loss on (centred) data, or its unbiased two-batch estimate.

    ``L(U) = -2 tr(U^T A U) + ||U^T B U||_F^2`` with the covariances of the
    batch (divided by ``n_samples - 1``), whose minimum over the weights is
    ``-sum_k lambda_k^2`` (the top generalised eigenvalues).  The same code, on
    the same batch moments, is compiled by numba for :class:`StochasticCCA` and
    run on tensors for :class:`DeepCCA`.

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
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows of ``(X, Y)`` (not of ``second_batch``): the
        covariances become ``X^T D Y / (sum(sample_weight) - 1)`` with ``D =
        diag(sample_weight)``, so integer weights equal repeated rows.  They must
        be finite, nonnegative and sum to more than 1.  None weighs every row 1.

    Returns
    -------
    loss : float
        The value of the loss (lower is better).

    See Also
    --------
    eckart_young_gradient : Its gradient with respect to the weights.
    StochasticCCA : SGD on this loss.

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
    X, Y, Wx, Wy, second_batch, sample_weight = _check_arrays(
        X, Y, Wx, Wy, second_batch, sample_weight
    )
    return _loss_value(X, Y, Wx, Wy, regularization, second_batch, sample_weight=sample_weight)


@validate_params(_PARAMS, prefer_skip_nested_validation=True)
def eckart_young_gradient(
    X, Y, Wx, Wy, *, regularization=0.0, second_batch=None, sample_weight=None
):
    """Gradient of :func:`eckart_young_loss` with respect to ``(Wx, Wy)``.

    Exact (not an estimate) for the batch given: with ``second_batch``, the
    gradient of the two-batch estimate, which is unbiased for the population
    gradient.

    Parameters
    ----------
    X : array-like of shape (n_samples, p)
        First view, as in :func:`eckart_young_loss`.
    Y : array-like of shape (n_samples, q)
        Second view.
    Wx : array-like of shape (p, K)
        Weights of the first view.
    Wy : array-like of shape (q, K)
        Weights of the second view.
    regularization : float in [0, 1], default=0.0
        The ridge parameter c, as in :func:`eckart_young_loss`.
    second_batch : tuple (X2, Y2), default=None
        An independent batch, as in :func:`eckart_young_loss`.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the rows of ``(X, Y)``, as in :func:`eckart_young_loss`.

    Returns
    -------
    grad_x, grad_y : ndarray
        Same shapes as ``Wx`` and ``Wy``.

    See Also
    --------
    eckart_young_loss : The loss itself.

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
    X, Y, Wx, Wy, second_batch, sample_weight = _check_arrays(
        X, Y, Wx, Wy, second_batch, sample_weight
    )
    c = regularization
    Zx, Zy, _, V, n = _parts(X, Y, Wx, Wy, c, sample_weight)
    # the rows' weights enter through the scores: X^T D Z = X^T (w * Z)
    w = np.ones(X.shape[0]) if sample_weight is None else sample_weight
    WZx, WZy = w[:, None] * Zx, w[:, None] * Zy
    if second_batch is None:
        X2, Y2, V2, WZx2, WZy2, n2 = X, Y, V, WZx, WZy, n
    else:
        X2, Y2 = second_batch
        WZx2, WZy2, _, V2, n2 = _parts(X2, Y2, Wx, Wy, c)
    # B_hat W for each batch
    BWx, BWy = (1 - c) * X.T @ WZx / n + c * Wx, (1 - c) * Y.T @ WZy / n + c * Wy
    BWx2, BWy2 = (1 - c) * X2.T @ WZx2 / n2 + c * Wx, (1 - c) * Y2.T @ WZy2 / n2 + c * Wy
    grad_x = -4.0 * X.T @ WZy / n + 2.0 * (BWx @ V2 + BWx2 @ V)
    grad_y = -4.0 * Y.T @ WZx / n + 2.0 * (BWy @ V2 + BWy2 @ V)
    return grad_x, grad_y
