"""numba kernels of the EnsLoss family: random calibrated derivatives and one SGD epoch.

A margin-based loss enters SGD only through its derivative ``g = phi'(z)`` at the
margins ``z = y f(x)``.  EnsLoss draws a fresh random ``g`` for every batch; the
fixed surrogates (logistic, hinge, ...) evaluate theirs.  Both feed the same epoch
loop, so EnsLoss and its baselines are trained by the very same solver.
"""

import numpy as np

from .._jit import njit

# the losses' codes and constants are defined with the losses (``_loss.py``)
from ._loss import (
    CLIP,
    ENSLOSS,
    EXP_MARGIN_FLOOR,
    HINGE,
    LOGISTIC,
    SHIFT,
    SQUARED_HINGE,
    TAIL,
)


@njit
def inverse_boxcox(e, lam):
    """``(1 + lam * e)_+ ** (1 / lam)``, or ``exp(e)`` at ``lam = 0``: positive, or 0, or inf.

    Nondecreasing in ``e`` for every ``lam``, and equal to 1 at ``e = 0``.
    """
    if lam == 0.0:
        return np.exp(e)
    base = 1.0 + lam * e
    if base > 0.0:
        return base ** (1.0 / lam)
    return np.inf if lam < 0.0 else 0.0


@njit
def derivatives_from_noise(z, eps, lam, out):
    """Write into ``out`` the random calibrated derivative at margins ``z`` given normal ``eps``.

    The values ``-BC^{-1}(eps)`` are sorted and handed out by the rank of the margin
    (the smallest margin gets the most negative value: a nondecreasing derivative,
    i.e. a convex loss), clipped at ``CLIP``; margins above ``TAIL`` get ``g / z``;
    everything is shifted down by ``SHIFT``.  The shift is applied before the tail
    division, so ``z * g >= CLIP - SHIFT`` holds for every margin.

    ``BC^{-1}`` is nondecreasing with ``BC^{-1}(0) = 1``, so every ``eps >= 0`` is
    clipped: the ``n_clipped`` smallest margins get ``CLIP`` in any order, and only
    the negative draws and the other margins need sorting (half of each, which
    halves the cost of the two sorts that dominate this function).

    Every entry of ``out`` is written whatever the margins: NaN margins rank above
    every number (as in ``np.sort``), so a diverging fit gets finite derivatives and
    is caught by its caller, never by an out-of-bounds write here.
    """
    n = z.shape[0]
    if eps.shape[0] != n or out.shape[0] != n:
        raise ValueError("derivatives_from_noise: z, eps and out must have the same length.")
    draws = np.sort(eps[eps < 0.0])  # ascending: the last one gives the most negative g
    n_clipped = n - draws.shape[0]
    rest = _rank_above(z, n_clipped)
    for i in range(n):
        out[i] = CLIP
    for j in range(rest.shape[0]):
        out[rest[j]] = max(-inverse_boxcox(draws[draws.shape[0] - 1 - j], lam), CLIP)
    for i in range(n):
        value = out[i] - SHIFT
        out[i] = value / z[i] if z[i] > TAIL else value


@njit
def _rank_above(z, k):
    """Indices of all but the ``k`` smallest entries of ``z``, in increasing order of ``z``.

    NaN ranks above every number, as in ``np.sort``; the result always holds exactly
    ``n - k`` distinct indices in ``range(n)``, whatever the values of ``z``.
    """
    n = z.shape[0]
    if k <= 0:
        return np.argsort(z, kind="mergesort")
    if k >= n:
        return np.empty(0, dtype=np.int64)
    rest = np.empty(n - k, dtype=np.int64)
    n_nan = 0
    for i in range(n):
        if np.isnan(z[i]):
            n_nan += 1
    m = 0
    if n - n_nan < k:
        # Fewer than k numbers: the rest are NaN margins (the last ones, in index order).
        to_skip = k - (n - n_nan)
        for i in range(n):
            if np.isnan(z[i]):
                if to_skip > 0:
                    to_skip -= 1
                else:
                    rest[m] = i
                    m += 1
        return rest
    # the k-th smallest number (NaNs excluded, so no comparison below involves NaN)
    threshold = np.partition(z[~np.isnan(z)], k - 1)[k - 1]
    ties_to_skip = k - np.sum(z < threshold)
    for i in range(n):
        zi = z[i]
        if zi > threshold or np.isnan(zi):
            rest[m] = i
            m += 1
        elif zi == threshold:
            if ties_to_skip > 0:
                ties_to_skip -= 1
            else:
                rest[m] = i
                m += 1
    return rest[np.argsort(z[rest], kind="mergesort")]


@njit
def fixed_derivatives(code, z, out):
    """Write into ``out`` the derivative of a fixed margin loss at ``z``."""
    for i in range(z.shape[0]):
        zi = z[i]
        if code == LOGISTIC:
            if zi > 0.0:
                e = np.exp(-zi)
                out[i] = -e / (1.0 + e)
            else:
                out[i] = -1.0 / (1.0 + np.exp(zi))
        elif code == HINGE:
            out[i] = -1.0 if zi < 1.0 else 0.0
        elif code == SQUARED_HINGE:
            out[i] = -2.0 * max(0.0, 1.0 - zi)
        else:  # EXPONENTIAL
            out[i] = -np.exp(-max(zi, EXP_MARGIN_FLOOR))


@njit
def _batch_scores(X, data, indices, indptr, sparse, rows, coef, intercept, scores):
    for r in range(rows.shape[0]):
        row = rows[r]
        for k in range(coef.shape[0]):
            s = intercept[k]
            if sparse:
                for j in range(indptr[row], indptr[row + 1]):
                    s += data[j] * coef[k, indices[j]]
            else:
                for j in range(X.shape[1]):
                    s += X[row, j] * coef[k, j]
            scores[r, k] = s


@njit
def _accumulate_gradient(X, data, indices, indptr, sparse, rows, weights, grad):
    for r in range(rows.shape[0]):
        row = rows[r]
        for k in range(grad.shape[0]):
            w = weights[r, k]
            if w == 0.0:
                continue
            if sparse:
                for j in range(indptr[row], indptr[row + 1]):
                    grad[k, indices[j]] += w * data[j]
            else:
                for j in range(X.shape[1]):
                    grad[k, j] += w * X[row, j]


@njit
def _gradient_norm(grad, grad_intercept):
    """Euclidean norm of ``(grad, grad_intercept)``, without overflow in the squares."""
    squares = np.sum(grad**2) + grad_intercept**2
    if np.isfinite(squares) and squares > 0.0:
        return np.sqrt(squares)
    largest = abs(grad_intercept)
    for j in range(grad.shape[0]):
        largest = max(largest, abs(grad[j]))
    if largest == 0.0 or not np.isfinite(largest):
        return largest  # 0, inf or NaN: nothing to rescale
    total = (grad_intercept / largest) ** 2
    for j in range(grad.shape[0]):
        total += (grad[j] / largest) ** 2
    return largest * np.sqrt(total)


@njit
def _check_epoch_arguments(
    X,
    data,
    indices,
    indptr,
    sparse,
    Y,
    sample_weight,
    coef,
    intercept,
    coef_velocity,
    intercept_velocity,
    order,
    batch_size,
    loss_code,
    noise,
):
    """Raise ValueError unless every index :func:`sgd_epoch` will use is in range.

    The Python side checks all of this with better messages; this is the kernel's
    own guard, so no caller can make it read or write out of bounds.  It costs one
    pass over ``order`` and, for CSR data, over ``indptr`` and ``indices``.
    """
    n_problems, n_features = coef.shape
    if sparse:
        n_rows = indptr.shape[0] - 1
        if n_rows < 0 or indptr[0] != 0 or indptr[n_rows] > indices.shape[0]:
            raise ValueError("sgd_epoch: indptr is not a valid CSR index pointer.")
        if data.shape[0] != indices.shape[0]:
            raise ValueError("sgd_epoch: CSR data and indices differ in length.")
        for i in range(n_rows):
            if indptr[i + 1] < indptr[i]:
                raise ValueError("sgd_epoch: indptr must be non-decreasing.")
        for j in range(indptr[n_rows]):
            if indices[j] < 0 or indices[j] >= n_features:
                raise ValueError("sgd_epoch: a CSR column index is out of range.")
    else:
        n_rows = X.shape[0]
        if X.shape[1] != n_features:
            raise ValueError("sgd_epoch: X and coef differ in their number of features.")
    if Y.shape[0] != n_rows or Y.shape[1] != n_problems:
        raise ValueError("sgd_epoch: Y must have one row per sample and one column per problem.")
    if sample_weight.shape[0] != n_rows:
        raise ValueError("sgd_epoch: sample_weight needs one entry per sample.")
    if intercept.shape[0] != n_problems or intercept_velocity.shape[0] != n_problems:
        raise ValueError("sgd_epoch: intercept and its velocity need one entry per problem.")
    if coef_velocity.shape[0] != n_problems or coef_velocity.shape[1] != n_features:
        raise ValueError("sgd_epoch: coef_velocity must have the shape of coef.")
    if batch_size < 1:
        raise ValueError("sgd_epoch: batch_size must be at least 1.")
    for i in range(order.shape[0]):
        if order[i] < 0 or order[i] >= n_rows:
            raise ValueError("sgd_epoch: order holds a row index out of range.")
    if loss_code == ENSLOSS and (noise.shape[0] != n_problems or noise.shape[1] < order.shape[0]):
        raise ValueError("sgd_epoch: noise needs one draw per problem and row of order.")


@njit
def sgd_epoch(
    X,
    data,
    indices,
    indptr,
    sparse,
    Y,
    sample_weight,
    coef,
    intercept,
    coef_velocity,
    intercept_velocity,
    order,
    batch_size,
    lr,
    alpha,
    momentum,
    loss_code,
    boxcox_lambda,
    fit_intercept,
    max_grad_norm,
    noise,
):
    """One pass of minibatch SGD with heavy-ball momentum, updating the state in place.

    ``Y`` holds ``+-1`` targets, one column per one-vs-rest problem (one column for
    binary), and ``coef`` one row per column.  Rows come in the given ``order``; the
    last batch may be smaller.  The step on each problem is
    ``v <- momentum * v + X_b^T (s * g * y) / sum(s_b) + alpha * w``, ``w <- w - lr * v``
    (``s`` the sample weights: a batch's data term is the weighted mean of its rows'
    gradients, which integer weights make the mean over repeated rows; a batch of
    zero total weight contributes only the penalty; the intercept is not
    penalised), with the gradient's norm clipped at
    ``max_grad_norm`` per problem.  The data is dense ``X`` or, when ``sparse``,
    the CSR triplet ``(data, indices, indptr)``.  ``noise`` holds the standard normal
    draws of EnsLoss, one per row in ``order`` and problem (NumPy's generator draws
    them several times faster than numba's).
    """
    _check_epoch_arguments(
        X,
        data,
        indices,
        indptr,
        sparse,
        Y,
        sample_weight,
        coef,
        intercept,
        coef_velocity,
        intercept_velocity,
        order,
        batch_size,
        loss_code,
        noise,
    )
    n = order.shape[0]
    n_problems, n_features = coef.shape
    scores = np.empty((batch_size, n_problems))
    weights = np.empty((batch_size, n_problems))
    z = np.empty(batch_size)
    g = np.empty(batch_size)
    grad = np.empty((n_problems, n_features))
    grad_intercept = np.empty(n_problems)
    for start in range(0, n, batch_size):
        rows = order[start : min(start + batch_size, n)]
        B = rows.shape[0]
        total_weight = 0.0
        for r in range(B):
            total_weight += sample_weight[rows[r]]
        scale = 1.0 / total_weight if total_weight > 0.0 else 0.0
        _batch_scores(X, data, indices, indptr, sparse, rows, coef, intercept, scores)
        for k in range(n_problems):
            for r in range(B):
                z[r] = Y[rows[r], k] * scores[r, k]
            if loss_code == ENSLOSS:
                derivatives_from_noise(z[:B], noise[k, start : start + B], boxcox_lambda, g[:B])
            else:
                fixed_derivatives(loss_code, z[:B], g[:B])
            for r in range(B):
                weights[r, k] = g[r] * Y[rows[r], k] * sample_weight[rows[r]] * scale
        grad[:, :] = alpha * coef
        _accumulate_gradient(X, data, indices, indptr, sparse, rows, weights[:B], grad)
        for k in range(n_problems):
            grad_intercept[k] = weights[:B, k].sum() if fit_intercept else 0.0
            if max_grad_norm < np.inf:
                norm = _gradient_norm(grad[k], grad_intercept[k])
                if norm > max_grad_norm:
                    grad[k] *= max_grad_norm / norm
                    grad_intercept[k] *= max_grad_norm / norm
        coef_velocity *= momentum
        coef_velocity += grad
        coef -= lr * coef_velocity
        intercept_velocity *= momentum
        intercept_velocity += grad_intercept
        intercept -= lr * intercept_velocity
