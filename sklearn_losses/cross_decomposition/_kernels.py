"""numba epoch kernel of stochastic Eckart-Young CCA."""

import numpy as np

from .._jit import njit


@njit
def _batch_terms(Xb, Yb, Wx, Wy, c):
    """Scores, B_hat W for both views and V_hat = W^T B_hat W of one minibatch."""
    n = Xb.shape[0] - 1.0
    Zx = Xb @ Wx
    Zy = Yb @ Wy
    BWx = (1.0 - c) * (Xb.T @ Zx) / n + c * Wx
    BWy = (1.0 - c) * (Yb.T @ Zy) / n + c * Wy
    V = Wx.T @ BWx + Wy.T @ BWy
    return Zx, Zy, BWx, BWy, V


@njit
def ey_epoch(X, Y, Wx, Wy, order, order2, batch_size, lr, c, unbiased):
    """One pass of SGD on the Eckart-Young loss, updating ``Wx, Wy`` in place.

    Batch t uses rows ``order[t*b:(t+1)*b]``; with ``unbiased`` the variance term
    pairs it with the independent batch ``order2[t*b:(t+1)*b]`` (the unbiased
    two-batch gradient), otherwise with itself.  Returns the mean batch loss.
    """
    n_batches = order.shape[0] // batch_size
    total = 0.0
    for t in range(n_batches):
        rows = order[t * batch_size : (t + 1) * batch_size]
        Xb = np.ascontiguousarray(X[rows])
        Yb = np.ascontiguousarray(Y[rows])
        Zx, Zy, BWx, BWy, V = _batch_terms(Xb, Yb, Wx, Wy, c)
        if unbiased:
            rows2 = order2[t * batch_size : (t + 1) * batch_size]
            Xb2 = np.ascontiguousarray(X[rows2])
            Yb2 = np.ascontiguousarray(Y[rows2])
            _, _, BWx2, BWy2, V2 = _batch_terms(Xb2, Yb2, Wx, Wy, c)
        else:
            BWx2, BWy2, V2 = BWx, BWy, V
        n = batch_size - 1.0
        gx = -4.0 * (Xb.T @ Zy) / n + 2.0 * (BWx @ V2 + BWx2 @ V)
        gy = -4.0 * (Yb.T @ Zx) / n + 2.0 * (BWy @ V2 + BWy2 @ V)
        total += -4.0 * np.trace(Zx.T @ Zy) / n + np.sum(V * V2)
        Wx -= lr * gx
        Wy -= lr * gy
    return total / max(n_batches, 1)
