"""numba epoch kernel of stochastic Eckart-Young CCA, behind a Python-side boundary.

The compiled kernel indexes rows through ``order`` and updates the weights in place
with no bounds checks: :func:`ey_epoch` is the only way in, and it checks what the
kernel assumes (dtypes, contiguity, matching shapes, the preconditioner's
included, row indices in range, a batch of at least two rows, finite data,
weights, preconditioner and step).  numba's ``boundscheck``
stays off in production; ``NUMBA_BOUNDSCHECK=1`` turns it on for the tests.

The loss is not written here: :func:`~._loss.ey_moments` and
:func:`~._loss.ey_from_moments`, the definition that NumPy and torch evaluate,
are compiled as they are.  Only the gradient is hand-written (tested against
:func:`~._loss.eckart_young_gradient`).
"""

from numbers import Integral, Real

import numpy as np

from .._jit import njit
from ._loss import ey_from_moments, ey_moments

_ey_moments = njit(ey_moments)
_ey_from_moments = njit(ey_from_moments)


@njit
def _batch_terms(Xb, Yb, wb, Wx, Wy, c, cross):
    """One minibatch: ``(X^T D Zy, Y^T D Zx) / dof``, ``B_hat W`` of both views, ``tr C``, ``V``.

    ``D = diag(wb)``; ``dof = sum(wb) - 1`` (``batch - 1`` for unit weights, and
    integer weights give the terms of the repeated rows).  Without ``cross`` (the
    second batch of the unbiased gradient, whose cross terms are not used) the
    cross products are not formed and come back as empty arrays.
    """
    dof = wb.sum() - 1.0
    Zx = Xb @ Wx
    Zy = Yb @ Wy
    trace_cross, V = _ey_moments(Zx, Zy, dof, wb, Wx, Wy, c)
    w = wb.reshape(-1, 1)
    WZx = w * Zx
    WZy = w * Zy
    BWx = (1.0 - c) * (Xb.T @ WZx) / dof + c * Wx
    BWy = (1.0 - c) * (Yb.T @ WZy) / dof + c * Wy
    if cross:
        cross_x = (Xb.T @ WZy) / dof
        cross_y = (Yb.T @ WZx) / dof
    else:
        cross_x = np.empty((0, Wx.shape[1]))
        cross_y = np.empty((0, Wy.shape[1]))
    return cross_x, cross_y, BWx, BWy, trace_cross, V


def ey_epoch(
    X,
    Y,
    Wx,
    Wy,
    order,
    order2,
    batch_size,
    lr,
    c,
    unbiased,
    *,
    check_data=True,
    sample_weight=None,
    precondition=None,
):
    """One pass of SGD on the Eckart-Young loss, updating ``Wx, Wy`` in place.

    Batch t uses rows ``order[t*b:(t+1)*b]``; with ``unbiased`` the variance term
    pairs it with the independent batch ``order2[t*b:(t+1)*b]`` (the unbiased
    two-batch gradient), otherwise with itself.  With ``precondition = (Px, Py)``
    each step is ``W -= lr * P @ grad`` (per view) instead of ``W -= lr * grad``.
    Returns the mean batch loss.

    Parameters
    ----------
    X, Y : ndarray of shape (n, p) and (n, q), float64, C-contiguous
        Standardized views.
    Wx, Wy : ndarray of shape (p, K) and (q, K), float64, C-contiguous, writeable
        Weights, updated in place.
    order, order2 : ndarray of shape (n,), integer
        Row orders of the two batch streams; every entry in ``[0, n)``.
    batch_size : int
        Rows per batch, in ``[2, n]``.
    lr : float
        Step, finite and positive.
    c : float
        Regularization in ``[0, 1]``.
    unbiased : bool
        Pair each batch with the independent one (True) or with itself.
    check_data : bool, default=True
        Check that ``X`` and ``Y`` are finite (O(n (p + q))); a caller that
        validated them once may skip it for each epoch.  Everything else is always
        checked (``sample_weight`` included).
    sample_weight : ndarray of shape (n,), default=None
        Per-row weights (finite, nonnegative; None: all 1).  Each batch's
        covariances become ``X_b^T D Y_b / (sum(w_b) - 1)``, so integer weights
        equal repeated rows; a batch whose weights sum to at most 1 has no
        covariance and is skipped (it adds nothing to the returned mean).
    precondition : tuple (Px, Py) of ndarray, default=None
        Symmetric positive semi-definite matrices of shapes ``(p, p)`` and
        ``(q, q)`` (float64, finite) applied to each view's gradient; None: plain
        gradient steps.  A positive definite ``P`` changes the path, not the
        stationary points (see :mod:`._precondition`).

    Returns
    -------
    loss : float
        Mean minibatch loss over the epoch.
    """
    _check_epoch_args(X, Y, Wx, Wy, order, order2, batch_size, lr, c, check_data)
    sample_weight = _check_epoch_weights(sample_weight, X.shape[0])
    Px, Py, use_p = _check_epoch_preconditioner(precondition, X.shape[1], Y.shape[1])
    return _ey_epoch(
        X,
        Y,
        Wx,
        Wy,
        np.ascontiguousarray(order, dtype=np.int64),
        np.ascontiguousarray(order2, dtype=np.int64),
        int(batch_size),
        float(lr),
        float(c),
        bool(unbiased),
        sample_weight,
        Px,
        Py,
        use_p,
    )


def _check_epoch_preconditioner(precondition, p, q):
    """``(Px, Py, True)``, checked (shapes, float64, C-contiguous, finite); dummies for None."""
    if precondition is None:
        return np.zeros((1, 1)), np.zeros((1, 1)), False
    if not (isinstance(precondition, tuple) and len(precondition) == 2):
        raise ValueError("ey_epoch: precondition must be None or a pair (Px, Py).")
    for name, P, dim in (("Px", precondition[0], p), ("Py", precondition[1], q)):
        if not (
            isinstance(P, np.ndarray)
            and P.dtype == np.float64
            and P.shape == (dim, dim)
            and P.flags.c_contiguous
        ):
            raise ValueError(
                f"ey_epoch: {name} must be a C-contiguous float64 ndarray of shape ({dim}, {dim})."
            )
        if not np.all(np.isfinite(P)):
            raise ValueError(f"ey_epoch: {name} must be finite (no NaN or inf).")
    return precondition[0], precondition[1], True


def _check_epoch_weights(sample_weight, n):
    """Unit weights for None; else a float64 C-contiguous copy, checked finite and >= 0."""
    if sample_weight is None:
        return np.ones(n)
    w = np.asarray(sample_weight)
    if w.ndim != 1 or w.shape[0] != n or not np.issubdtype(w.dtype, np.number):
        raise ValueError(f"ey_epoch: sample_weight must be a 1-D numeric array of length {n}.")
    w = np.ascontiguousarray(w, dtype=np.float64)
    if not (np.all(np.isfinite(w)) and np.all(w >= 0)):
        raise ValueError("ey_epoch: sample_weight must be finite and nonnegative.")
    return w


def _check_epoch_args(X, Y, Wx, Wy, order, order2, batch_size, lr, c, check_data):
    for name, a in (("X", X), ("Y", Y), ("Wx", Wx), ("Wy", Wy)):
        if not (
            isinstance(a, np.ndarray)
            and a.dtype == np.float64
            and a.ndim == 2
            and a.flags.c_contiguous
        ):
            raise ValueError(f"ey_epoch: {name} must be a 2-D C-contiguous float64 ndarray.")
    for name, W in (("Wx", Wx), ("Wy", Wy)):
        if not W.flags.writeable:
            raise ValueError(f"ey_epoch: {name} is updated in place and must be writeable.")
    n, p, q = X.shape[0], X.shape[1], Y.shape[1]
    if Y.shape[0] != n:
        raise ValueError(f"ey_epoch: X has {n} rows and Y {Y.shape[0]}.")
    if Wx.shape[0] != p or Wy.shape[0] != q or Wx.shape[1] != Wy.shape[1]:
        raise ValueError(
            f"ey_epoch: weights of shapes {Wx.shape} and {Wy.shape} do not match views of "
            f"{p} and {q} features (expected ({p}, K) and ({q}, K))."
        )
    for name, o in (("order", order), ("order2", order2)):
        o = np.asarray(o)
        if o.ndim != 1 or o.shape[0] != n or not np.issubdtype(o.dtype, np.integer):
            raise ValueError(f"ey_epoch: {name} must be a 1-D integer array of length {n}.")
        if n and (o.min() < 0 or o.max() >= n):
            raise ValueError(f"ey_epoch: {name} holds row indices outside [0, {n}).")
    if not isinstance(batch_size, Integral) or not 2 <= batch_size <= n:
        raise ValueError(f"ey_epoch: batch_size must be an integer in [2, {n}], got {batch_size}.")
    if not (isinstance(lr, Real) and np.isfinite(lr) and lr > 0):
        raise ValueError(f"ey_epoch: lr must be finite and positive, got {lr}.")
    if not (isinstance(c, Real) and 0 <= c <= 1):
        raise ValueError(f"ey_epoch: c must be in [0, 1], got {c}.")
    arrays = (X, Y, Wx, Wy) if check_data else (Wx, Wy)
    for a in arrays:
        if not np.all(np.isfinite(a)):
            raise ValueError("ey_epoch: the views and weights must be finite (no NaN or inf).")


@njit
def _ey_epoch(X, Y, Wx, Wy, order, order2, batch_size, lr, c, unbiased, w, Px, Py, use_p):
    """The compiled epoch (see :func:`ey_epoch`, its only caller)."""
    n_batches = order.shape[0] // batch_size
    total = 0.0
    used = 0
    for t in range(n_batches):
        rows = order[t * batch_size : (t + 1) * batch_size]
        wb = np.ascontiguousarray(w[rows])
        if unbiased:
            rows2 = order2[t * batch_size : (t + 1) * batch_size]
            wb2 = np.ascontiguousarray(w[rows2])
        else:
            rows2 = rows
            wb2 = wb
        if wb.sum() <= 1.0 or wb2.sum() <= 1.0:
            continue  # no covariance to estimate (weights summing to at most 1)
        Xb = np.ascontiguousarray(X[rows])
        Yb = np.ascontiguousarray(Y[rows])
        cross_x, cross_y, BWx, BWy, trace_cross, V = _batch_terms(Xb, Yb, wb, Wx, Wy, c, True)
        if unbiased:
            Xb2 = np.ascontiguousarray(X[rows2])
            Yb2 = np.ascontiguousarray(Y[rows2])
            _, _, BWx2, BWy2, _, V2 = _batch_terms(Xb2, Yb2, wb2, Wx, Wy, c, False)
        else:
            BWx2, BWy2, V2 = BWx, BWy, V
        # the gradient of ey_from_moments(ey_moments(...)) with respect to Wx, Wy
        gx = -4.0 * cross_x + 2.0 * (BWx @ V2 + BWx2 @ V)
        gy = -4.0 * cross_y + 2.0 * (BWy @ V2 + BWy2 @ V)
        total += _ey_from_moments(trace_cross, V, V2)
        used += 1
        if use_p:
            gx = Px @ gx
            gy = Py @ gy
        Wx -= lr * gx
        Wy -= lr * gy
    return total / max(used, 1)
