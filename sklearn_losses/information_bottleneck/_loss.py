"""The CS information bottleneck's maths: Gram-matrix estimators of Cauchy-Schwarz divergences.

The family's one definition of its loss, written once for NumPy and torch.  Every
quantity is a log of sums of products of Gaussian kernels
``kappa_sigma(a, b) = exp(-||a - b||^2 / (2 sigma^2))``.  They are evaluated from
log-Gram matrices with log-sum-exp, in float64, so that nothing underflows when the
kernels are nearly diagonal (narrow widths, high dimensions).  The formulas take a
backend (:data:`NUMPY` here, the torch one in ``_nets.py``) that supplies the few
operations the two libraries spell differently.

Sample weights: every estimator also takes the log of positive row weights
``log_weight`` (None: equal weights).  The sample is then the weighted empirical
distribution ``sum_i w_i delta_{x_i} / sum_i w_i``, so each Gram mean becomes
``sum_ij w_i w_j K_ij / (sum_i w_i)^2``.  All estimators are V-statistics (the
diagonal ``i = j`` is included), hence an integer weight equals repeating the row,
exactly.  The median width rule ignores the weights.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp


@dataclass(frozen=True)
class Backend:
    logsumexp: Callable  # (array, axis) -> array
    clip_at_zero: Callable  # elementwise max(x, 0)
    median: Callable  # median of a 1-D array, as a float, outside any gradient
    scalar: Callable  # a 0-d array as a float, outside any gradient
    exp: Callable
    log: Callable
    max: Callable  # (array, axis) -> array of maxima along the axis


NUMPY = Backend(
    logsumexp=lambda a, axis=None: logsumexp(a, axis=axis),
    clip_at_zero=lambda a: np.maximum(a, 0.0),
    median=lambda a: float(np.median(a)),
    scalar=float,
    exp=np.exp,
    log=np.log,
    max=lambda a, axis: np.max(a, axis=axis),
)

# Added inside logs of matrix products whose entries can underflow: log(0) would give an
# infinite gradient, and inf * 0 = NaN in backpropagation.
TINY = 1e-300


def squared_distances(a, b, ops):
    """Pairwise squared Euclidean distances between the rows of ``a`` and ``b``."""
    cross = a @ b.T
    return ops.clip_at_zero((a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * cross)


def resolve_width(sigma, a, ops):
    """A kernel width: the float given, or the median pairwise distance of ``a``.

    The median heuristic uses the distinct pairs (i < j) and falls back to 1 when
    they are all equal (a constant sample).
    """
    if sigma != "median":
        return float(sigma)
    n = a.shape[0]
    if n < 2:
        return 1.0
    rows, cols = np.triu_indices(n, k=1)
    distances = squared_distances(a, a, ops)[rows, cols] ** 0.5
    width = ops.median(distances)
    return width if width > 0 else 1.0


def log_gram(a, b, sigma, ops):
    """``log kappa_sigma(a_i, b_j)`` for all pairs."""
    return -squared_distances(a, b, ops) / (2.0 * sigma**2)


def log_matmul_exp(log_a, log_b, ops):
    """``log(exp(log_a) @ exp(log_b))`` by one matrix product, rows and columns max-shifted."""
    row_max = ops.max(log_a, 1)[:, None]
    col_max = ops.max(log_b, 0)[None, :]
    product = ops.exp(log_a - row_max) @ ops.exp(log_b - col_max)
    return ops.log(product + TINY) + row_max + col_max


def _rows(log_m, log_weight):
    """``log_m`` with row ``i`` of the matrix (or entry ``i`` of the vector) plus ``log w_i``."""
    if log_weight is None:
        return log_m
    return log_m + (log_weight[:, None] if log_m.ndim == 2 else log_weight)


def _cols(log_m, log_weight):
    """``log_m`` with column ``j`` plus ``log w_j``."""
    return log_m if log_weight is None else log_m + log_weight[None, :]


def _log_total(log_weight, n, ops):
    """``log sum_i w_i`` (``log n`` for equal weights)."""
    return np.log(n) if log_weight is None else ops.logsumexp(log_weight, None)


def log_mean_gram(log_k, ops, log_weight_a=None, log_weight_b=None):
    """``log sum_ij w_i v_j K_ij / (sum w sum v)``: the log of the (weighted) mean of ``K``."""
    weighted = _cols(_rows(log_k, log_weight_a), log_weight_b)
    return (
        ops.logsumexp(weighted, None)
        - _log_total(log_weight_a, log_k.shape[0], ops)
        - _log_total(log_weight_b, log_k.shape[1], ops)
    )


def cs_divergence_from_samples(a, b, sigma, ops, log_weight_a=None, log_weight_b=None):
    """``-log[(int p q)^2 / (int p^2 int q^2)]`` for Parzen estimates of ``p`` (a) and ``q`` (b)."""
    wa, wb = log_weight_a, log_weight_b
    return (
        log_mean_gram(log_gram(a, a, sigma, ops), ops, wa, wa)
        + log_mean_gram(log_gram(b, b, sigma, ops), ops, wb, wb)
        - 2.0 * log_mean_gram(log_gram(a, b, sigma, ops), ops, wa, wb)
    )


def conditional_cs_divergence_from_samples(
    x, y, y_pred, sigma_x, sigma_y, estimator, ops, log_weight=None
):
    """The conditional CS divergence between p(y|x) and q(y_pred|x), three estimators.

    Each is ``T_yy + T_pp - 2 T_py`` for the Gram matrices ``L`` of (y, y),
    (y_pred, y_pred) and (y_pred, y), with ``K`` the Gram matrix of ``x``:

    - ``"embedding"``: ``T = log sum_j sum_ik w_ji w_jk L_ik`` with ``w_j = K_j / sum K_j``,
      i.e. ``log sum_j <u_j, v_j>`` for the kernel embeddings ``u_j = sum_i w_ji phi(y_i)``
      of the conditionals at ``x_j``.  Nonnegative (Cauchy-Schwarz, twice), 0 when
      ``y_pred == y``; O(n^3) time through two matrix products, O(n^2) memory.
    - ``"paper"`` (Yu et al., Prop. 1): ``T = log sum_j [sum_i K_ji L_ji / (sum_i K_ji)^2]``.
    - ``"code"`` (the authors' code): the same with ``sum_i K_ji^2`` as the normaliser.

    The last two single-sum forms are 0 when ``y_pred == y`` but can be negative.
    With row weights ``s`` (``log_weight``), every sum over ``i`` (and ``k``) weighs
    ``K_ji`` by ``s_i`` and the outer sum over ``j`` weighs its term by ``s_j``.
    """
    log_k = log_gram(x, x, sigma_x, ops)
    log_kw = _cols(log_k, log_weight)  # s_i K_ji
    if estimator == "embedding":
        log_w = log_kw - ops.logsumexp(log_kw, 1)[:, None]

        def term(log_l):
            return ops.logsumexp(_rows(log_matmul_exp(log_w, log_l, ops) + log_w, log_weight), None)

    else:
        if estimator == "paper":
            log_d = 2.0 * ops.logsumexp(log_kw, 1)
        else:
            log_d = ops.logsumexp(_cols(2.0 * log_k, log_weight), 1)

        def term(log_l):
            return ops.logsumexp(_rows(ops.logsumexp(log_kw + log_l, 1) - log_d, log_weight), 0)

    return (
        term(log_gram(y, y, sigma_y, ops))
        + term(log_gram(y_pred, y_pred, sigma_y, ops))
        - 2.0 * term(log_gram(y_pred, y, sigma_y, ops))
    )


def _qmi_from_log_grams(log_k, log_q, ops, log_weight=None):
    """CS quadratic mutual information from the log-Gram matrices of x and t (Prop. 2)."""
    log_n = _log_total(log_weight, log_k.shape[0], ops)

    def both(log_m):
        return _cols(_rows(log_m, log_weight), log_weight)

    joint = ops.logsumexp(both(log_k + log_q), None) - 2.0 * log_n
    marginals = ops.logsumexp(both(log_k), None) + ops.logsumexp(both(log_q), None) - 4.0 * log_n
    row_sums = ops.logsumexp(_cols(log_k, log_weight), 1) + ops.logsumexp(
        _cols(log_q, log_weight), 1
    )
    cross = ops.logsumexp(_rows(row_sums, log_weight), 0) - 3.0 * log_n
    return joint + marginals - 2.0 * cross


def cs_mutual_information_from_samples(x, t, sigma_x, sigma_t, normalized, ops, log_weight=None):
    """``I_CS(x; t) = D_CS(p(x, t) || p(x) p(t))``, optionally over ``sqrt(I(x;x) I(t;t))``."""
    log_k = log_gram(x, x, sigma_x, ops)
    log_q = log_gram(t, t, sigma_t, ops)
    value = _qmi_from_log_grams(log_k, log_q, ops, log_weight)
    if not normalized:
        return value
    scale = (
        _qmi_from_log_grams(log_k, log_k, ops, log_weight)
        * _qmi_from_log_grams(log_q, log_q, ops, log_weight)
    ) ** 0.5
    return value / scale if ops.scalar(scale) > 0 else value * 0.0
