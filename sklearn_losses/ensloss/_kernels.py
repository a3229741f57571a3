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

    Every entry of ``out`` is written whatever the margins: NaN margins rank above
    every number (as in ``np.sort``), so a diverging fit gets finite derivatives and
    is caught by its caller, never by an out-of-bounds write here.
    """
    n = z.shape[0]
    if eps.shape[0] != n or out.shape[0] != n:
        raise ValueError("derivatives_from_noise: z, eps and out must have the same length.")
    draws, keys, ranked, stack = draw_workspace(n)
    ranked_derivatives(z, eps, lam, out, draws, keys, ranked, stack)


@njit
def draw_workspace(n):
    """Scratch arrays of :func:`ranked_derivatives` for batches of up to ``n`` rows:
    ``draws, keys, ranked, stack``."""
    return (
        np.empty(n),
        np.empty(n),
        np.empty(n, dtype=np.int64),
        np.empty(_STACK_SIZE, dtype=np.int64),
    )


@njit
def ranked_derivatives(z, eps, lam, out, draws, keys, ranked, stack):
    """:func:`derivatives_from_noise` in the scratch space of :func:`draw_workspace`.

    Allocates nothing (the epoch kernel calls it once per batch), and sorts nothing
    when ``eps`` comes sorted (ascending): the epoch's caller sorts every batch's
    draws at once with NumPy's vectorised sort, which is several times faster.  The
    derivatives depend only on the set of draws, so sorted or not, the same draws
    give the same derivatives.

    ``BC^{-1}`` is nondecreasing with ``BC^{-1}(0) = 1``, so every ``eps >= 0`` is
    clipped: the ``n_clipped`` smallest margins get ``CLIP`` in any order, and only
    the negative draws and the other margins are sorted (about half of each), by
    in-place quicksorts that need no memory beyond the scratch arrays.  Margins are
    ordered by ``(z, row)`` with NaN above every number: a strict total order, so the
    ranks are those of a stable sort, as in the definition.
    """
    n = z.shape[0]
    m = 0
    ascending = True
    for i in range(n):
        m += eps[i] < 0.0
        if i > 0:
            ascending &= eps[i - 1] <= eps[i]
    if ascending:
        negative = eps  # the m negative draws come first, in order
    else:
        m = 0
        for i in range(n):
            e = eps[i]
            draws[m] = e
            m += e < 0.0
        _sort_floats(draws, m, stack)
        negative = draws
    n_clipped = n - m
    for i in range(n):
        out[i] = CLIP
    _partial_argsort(z, ranked, n, n_clipped, keys, stack)
    for j in range(m):  # the largest negative draw goes to the smallest unclipped margin
        out[ranked[n_clipped + j]] = max(-inverse_boxcox(negative[m - 1 - j], lam), CLIP)
    for i in range(n):
        value = out[i] - SHIFT
        out[i] = value / z[i] if z[i] > TAIL else value


# The quicksorts below (median-of-three pivots, insertion sort below _SMALL entries)
# keep an explicit stack on which the larger part waits while the smaller one is
# sorted first: it never holds more than 2 * log2(n) bounds (128 for 64-bit lengths).
_SMALL = 16
_STACK_SIZE = 128
_LARGEST_KEY = np.int64(0x7FFFFFFFFFFFFFFF)


@njit
def _margin_keys(z, keys, n):
    """``keys[:n]`` (float64 scratch) rewritten as int64 keys that order like ``z``.

    The bits of a float, with the magnitude bits of negative numbers flipped, compare
    as signed integers as the floats do; ``-0.0`` becomes ``+0.0`` first (they tie,
    as in NumPy's sorts) and every NaN gets the largest key (NaN ranks last).  An
    integer comparison needs no branch, so the sort below partitions without
    mispredictions.
    """
    for i in range(n):
        keys[i] = z[i] + 0.0  # -0.0 + 0.0 is +0.0
    bits = keys[:n].view(np.int64)
    for i in range(n):
        b = bits[i]
        bits[i] = _LARGEST_KEY if np.isnan(z[i]) else b ^ ((b >> 63) & _LARGEST_KEY)
    return bits


@njit
def _lower(key_a, row_a, key_b, row_b):
    """Whether ``(key_a, row_a) < (key_b, row_b)``, without a branch."""
    return (key_a < key_b) | ((key_a == key_b) & (row_a < row_b))


@njit
def _partial_argsort(z, ranked, n, k, keys, stack):
    """Fill ``ranked[:n]`` with the rows ``0, ..., n - 1`` so that ``ranked[k:n]`` hold the
    rows of rank ``k, ..., n - 1`` in that order (``ranked[:k]``: the others, in any
    order), rows ranked by margin ``z``, NaN last, ties by row: a strict total
    order, so the ranks are those of a stable sort.

    A quicksort (median-of-three pivot, branch-free Lomuto partitions of the integer
    keys of :func:`_margin_keys`, insertion sort below ``_SMALL`` entries) that drops
    the parts lying wholly below position ``k``.  ``keys`` is float64 scratch of
    length ``n`` at least.
    """
    bits = _margin_keys(z, keys, n)
    for i in range(n):
        ranked[i] = i
    top = 0
    lo = 0
    hi = n - 1
    while True:
        if hi - lo < _SMALL:
            if hi >= k:
                for i in range(lo + 1, hi + 1):
                    key = bits[i]
                    row = ranked[i]
                    j = i - 1
                    while j >= lo and _lower(key, row, bits[j], ranked[j]):
                        bits[j + 1] = bits[j]
                        ranked[j + 1] = ranked[j]
                        j -= 1
                    bits[j + 1] = key
                    ranked[j + 1] = row
        else:
            # the median of the first, middle and last entries goes to hi: the pivot
            a = lo
            b = lo + ((hi - lo) >> 1)
            c = hi
            if _lower(bits[b], ranked[b], bits[a], ranked[a]):
                a, b = b, a
            if _lower(bits[c], ranked[c], bits[b], ranked[b]):
                b = c
                if _lower(bits[b], ranked[b], bits[a], ranked[a]):
                    b = a
            bits[b], bits[hi] = bits[hi], bits[b]
            ranked[b], ranked[hi] = ranked[hi], ranked[b]
            pivot_key = bits[hi]
            pivot_row = ranked[hi]
            # [lo, store) ranks below the pivot, [store, i) above: every entry is
            # swapped with the one at ``store``, which advances when it ranks below
            store = lo
            for i in range(lo, hi):
                key = bits[i]
                row = ranked[i]
                below = _lower(key, row, pivot_key, pivot_row)
                bits[i] = bits[store]
                ranked[i] = ranked[store]
                bits[store] = key
                ranked[store] = row
                store += below
            bits[hi] = bits[store]
            ranked[hi] = ranked[store]
            bits[store] = pivot_key
            ranked[store] = pivot_row
            # the pivot is in place at ``store``
            if store - 1 < k:  # the lower part lies wholly below k: only the upper one
                lo = store + 1
                continue
            if store - lo < hi - store:
                stack[top] = store + 1
                stack[top + 1] = hi
                hi = store - 1
            else:
                stack[top] = lo
                stack[top + 1] = store - 1
                lo = store + 1
            top += 2
            continue
        if top == 0:
            return
        top -= 2
        lo = stack[top]
        hi = stack[top + 1]


@njit
def _sort_floats(values, n, stack):
    """Sort ``values[:n]`` (no NaN) ascending, in place."""
    top = 0
    lo = 0
    hi = n - 1
    while True:
        if hi - lo < _SMALL:
            for i in range(lo + 1, hi + 1):
                v = values[i]
                j = i - 1
                while j >= lo and v < values[j]:
                    values[j + 1] = values[j]
                    j -= 1
                values[j + 1] = v
        else:
            mid = lo + ((hi - lo) >> 1)
            if values[mid] < values[lo]:
                values[mid], values[lo] = values[lo], values[mid]
            if values[hi] < values[mid]:
                values[mid], values[hi] = values[hi], values[mid]
            if values[mid] < values[lo]:
                values[mid], values[lo] = values[lo], values[mid]
            pivot = values[mid]
            values[mid], values[hi - 1] = values[hi - 1], values[mid]
            i = lo
            j = hi - 1
            while True:
                i += 1
                while values[i] < pivot:
                    i += 1
                j -= 1
                while pivot < values[j]:
                    j -= 1
                if i >= j:
                    break
                values[i], values[j] = values[j], values[i]
            values[i], values[hi - 1] = values[hi - 1], values[i]
            if i - lo < hi - i:
                stack[top] = i + 1
                stack[top + 1] = hi
                hi = i - 1
            else:
                stack[top] = lo
                stack[top + 1] = i - 1
                lo = i + 1
            top += 2
            continue
        if top == 0:
            return
        top -= 2
        lo = stack[top]
        hi = stack[top + 1]


@njit
def _rank_above(z, k):
    """Indices of all but the ``k`` smallest entries of ``z``, in increasing order of ``z``.

    NaN ranks above every number, as in ``np.sort``; the result always holds exactly
    ``n - k`` distinct indices in ``range(n)``, whatever the values of ``z``.
    """
    n = z.shape[0]
    k = min(max(k, 0), n)
    ranked = np.empty(n, dtype=np.int64)
    _partial_argsort(z, ranked, n, k, np.empty(n), np.empty(_STACK_SIZE, dtype=np.int64))
    return ranked[k:].copy()


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
def _fetch_rows(X, data, indices, indptr, sparse, rows, lo, hi, sink):
    """Read the batch's CSR row bounds into ``lo, hi`` and touch every row's first and
    last entries and column indices (their sum goes to ``sink``, so the reads stay).

    The rows of a shuffled batch lie anywhere in memory, and the products read them
    row after row, one cache miss after the other.  These reads do not depend on one
    another, so the processor keeps many misses in flight at once; the products then
    find the rows in cache (on CSR data with 10% non-zeros, n=1e5: a third off an epoch).
    """
    touched = 0.0
    first_index = 0
    if sparse:
        for r in range(rows.shape[0]):
            row = rows[r]
            lo[r] = indptr[row]
            hi[r] = indptr[row + 1]
        for r in range(rows.shape[0]):
            if hi[r] > lo[r]:
                touched += data[lo[r]] + data[hi[r] - 1]
                first_index += indices[lo[r]] + indices[hi[r] - 1]
    elif X.shape[1] > 0:
        last = X.shape[1] - 1
        for r in range(rows.shape[0]):
            touched += X[rows[r], 0] + X[rows[r], last]
    sink[0] = touched + first_index


@njit
def _batch_scores(X, data, indices, sparse, rows, lo, hi, coef, intercept, scores):
    """``scores[r, k] = intercept[k] + x_r . coef[k]``, each sum taken in column order."""
    n_rows = rows.shape[0]
    first = 0
    if not sparse:
        # four rows at a time: four independent sums keep the processor busy where one
        # would wait on each addition (each sum's order, hence its value, is unchanged)
        first = n_rows - n_rows % 4
        for r in range(0, first, 4):
            a, b, c, d = rows[r], rows[r + 1], rows[r + 2], rows[r + 3]
            for k in range(coef.shape[0]):
                sa = sb = sc = sd = intercept[k]
                for j in range(X.shape[1]):
                    w = coef[k, j]
                    sa += X[a, j] * w
                    sb += X[b, j] * w
                    sc += X[c, j] * w
                    sd += X[d, j] * w
                scores[r, k] = sa
                scores[r + 1, k] = sb
                scores[r + 2, k] = sc
                scores[r + 3, k] = sd
    for r in range(first, n_rows):
        row = rows[r]
        for k in range(coef.shape[0]):
            s = intercept[k]
            if sparse:
                for j in range(lo[r], hi[r]):
                    s += data[j] * coef[k, indices[j]]
            else:
                for j in range(X.shape[1]):
                    s += X[row, j] * coef[k, j]
            scores[r, k] = s


@njit
def _accumulate_gradient(X, data, indices, sparse, rows, lo, hi, weights, grad):
    for r in range(rows.shape[0]):
        row = rows[r]
        for k in range(grad.shape[0]):
            w = weights[r, k]
            if w == 0.0:
                continue
            if sparse:
                for j in range(lo[r], hi[r]):
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
def _within(values, n):
    """Whether every entry of the integer array ``values`` lies in ``range(n)``."""
    low = 0
    high = 0
    for i in range(values.shape[0]):
        low = min(low, values[i])
        high = max(high, values[i])
    return low >= 0 and (values.shape[0] == 0 or high < n)


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
        # (counts and bounds rather than early exits: these loops vectorise)
        decreasing = 0
        for i in range(n_rows):
            decreasing += indptr[i + 1] < indptr[i]
        if decreasing:
            raise ValueError("sgd_epoch: indptr must be non-decreasing.")
        if not _within(indices[: indptr[n_rows]], n_features):
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
    if not _within(order, n_rows):
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
    them several times faster than numba's); a batch's derivatives depend only on
    the set of its draws, and draws sorted within each batch (as
    ``_linear._sorted_by_batch`` leaves them) spare the kernel their sort.
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
    draws, keys, ranked, stack = draw_workspace(batch_size)
    lo = np.empty(batch_size, dtype=np.int64)
    hi = np.empty(batch_size, dtype=np.int64)
    sink = np.empty(1)
    for start in range(0, n, batch_size):
        rows = order[start : min(start + batch_size, n)]
        B = rows.shape[0]
        _fetch_rows(X, data, indices, indptr, sparse, rows, lo, hi, sink)
        total_weight = 0.0
        for r in range(B):
            total_weight += sample_weight[rows[r]]
        scale = 1.0 / total_weight if total_weight > 0.0 else 0.0
        _batch_scores(X, data, indices, sparse, rows, lo, hi, coef, intercept, scores)
        for k in range(n_problems):
            for r in range(B):
                z[r] = Y[rows[r], k] * scores[r, k]
            if loss_code == ENSLOSS:
                ranked_derivatives(
                    z[:B],
                    noise[k, start : start + B],
                    boxcox_lambda,
                    g[:B],
                    draws,
                    keys,
                    ranked,
                    stack,
                )
            else:
                fixed_derivatives(loss_code, z[:B], g[:B])
            for r in range(B):
                weights[r, k] = g[r] * Y[rows[r], k] * sample_weight[rows[r]] * scale
        for k in range(n_problems):
            for j in range(n_features):
                grad[k, j] = alpha * coef[k, j]
        _accumulate_gradient(X, data, indices, sparse, rows, lo, hi, weights[:B], grad)
        for k in range(n_problems):
            grad_intercept[k] = weights[:B, k].sum() if fit_intercept else 0.0
            if max_grad_norm < np.inf:
                norm = _gradient_norm(grad[k], grad_intercept[k])
                if norm > max_grad_norm:
                    grad[k] *= max_grad_norm / norm
                    grad_intercept[k] *= max_grad_norm / norm
            # v <- momentum * v + grad, w <- w - lr * v: one pass, no temporaries
            for j in range(n_features):
                velocity = momentum * coef_velocity[k, j] + grad[k, j]
                coef_velocity[k, j] = velocity
                coef[k, j] -= lr * velocity
            velocity = momentum * intercept_velocity[k] + grad_intercept[k]
            intercept_velocity[k] = velocity
            intercept[k] -= lr * velocity
