"""numba kernels of the EnsLoss family: random calibrated derivatives and one SGD epoch.

A margin-based loss enters SGD only through its derivative ``g = phi'(z)`` at the
margins ``z = y f(x)``.  EnsLoss draws a fresh random ``g`` for every batch; the
fixed surrogates (logistic, hinge, ...) evaluate theirs.  Both feed the same epoch
loop, so EnsLoss and its baselines are trained by the very same solver.
"""

import numpy as np

from .._jit import njit

# loss codes shared with the Python side (``_losses.LOSS_CODES``)
ENSLOSS, LOGISTIC, HINGE, SQUARED_HINGE, EXPONENTIAL = 0, 1, 2, 3, 4

CLIP = -1.0  # the most negative derivative (keeps every loss 1-Lipschitz)
TAIL = 1.0  # margins above this get g / z, a tail that decays fast enough to bound phi below
SHIFT = 1e-6  # makes every derivative strictly negative, hence phi'(0) < 0 (calibration)
EXP_MARGIN_FLOOR = -50.0  # exp(-z) for z below this would overflow the gradient


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
    """
    n = z.shape[0]
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
    """Indices of all but ``k`` smallest entries of ``z``, in increasing order of ``z``."""
    n = z.shape[0]
    if k == 0:
        return np.argsort(z, kind="mergesort")
    threshold = np.partition(z, k - 1)[k - 1]  # the k-th smallest margin
    ties_to_skip = k - np.sum(z < threshold)
    rest = np.empty(n - k, dtype=np.int64)
    m = 0
    for i in range(n):
        if z[i] > threshold:
            rest[m] = i
            m += 1
        elif z[i] == threshold:
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
def sgd_epoch(
    X,
    data,
    indices,
    indptr,
    sparse,
    Y,
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
    ``v <- momentum * v + X_b^T (g * y) / B + alpha * w``, ``w <- w - lr * v`` (the
    intercept is not penalised), with the gradient's norm clipped at
    ``max_grad_norm`` per problem.  The data is dense ``X`` or, when ``sparse``,
    the CSR triplet ``(data, indices, indptr)``.  ``noise`` holds the standard normal
    draws of EnsLoss, one per row in ``order`` and problem (NumPy's generator draws
    them several times faster than numba's).
    """
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
        _batch_scores(X, data, indices, indptr, sparse, rows, coef, intercept, scores)
        for k in range(n_problems):
            for r in range(B):
                z[r] = Y[rows[r], k] * scores[r, k]
            if loss_code == ENSLOSS:
                derivatives_from_noise(z[:B], noise[k, start : start + B], boxcox_lambda, g[:B])
            else:
                fixed_derivatives(loss_code, z[:B], g[:B])
            for r in range(B):
                weights[r, k] = g[r] * Y[rows[r], k] / B
        grad[:, :] = alpha * coef
        _accumulate_gradient(X, data, indices, indptr, sparse, rows, weights[:B], grad)
        for k in range(n_problems):
            grad_intercept[k] = weights[:B, k].sum() if fit_intercept else 0.0
            norm = np.sqrt(np.sum(grad[k] ** 2) + grad_intercept[k] ** 2)
            if norm > max_grad_norm:
                grad[k] *= max_grad_norm / norm
                grad_intercept[k] *= max_grad_norm / norm
        coef_velocity *= momentum
        coef_velocity += grad
        coef -= lr * coef_velocity
        intercept_velocity *= momentum
        intercept_velocity += grad_intercept
        intercept -= lr * intercept_velocity
