"""numba kernels of the cumulative-link likelihood.

The linear predictors ``E`` (n_samples, n_thresholds) are computed by the caller
with BLAS (``X @ B + intercepts``); these kernels do the O(n K) per-row part:
the negative log-likelihood and its derivative with respect to ``E``, in which
only the two columns bracketing each row's class are non-zero.  A row whose
bracketing predictors cross (a class probability <= 0) gives an infinite loss,
which the solvers' line searches reject: training predictors stay ordered.
"""

import math

import numpy as np

from .._jit import njit

LINKS = {"logit": 0, "probit": 1, "cloglog": 2}
_SQRT2 = math.sqrt(2.0)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


@njit
def _cdf_sf_pdf(link, x):
    """F(x), 1 - F(x) and F'(x), each accurate in its own tail, with few transcendentals."""
    if link == 0:
        e = math.exp(-abs(x))
        big = 1.0 / (1.0 + e)
        small = e * big
        if x >= 0:
            return big, small, big * small
        return small, big, big * small
    if link == 1:
        return (
            0.5 * math.erfc(-x / _SQRT2),
            0.5 * math.erfc(x / _SQRT2),
            _INV_SQRT_2PI * math.exp(-0.5 * x * x),
        )
    ex = math.exp(x)
    sf = math.exp(-ex)
    return -math.expm1(-ex), sf, ex * sf


@njit
def _bracket(link, lower, upper, has_lower, has_upper):
    """P(lower < latent <= upper) and the densities at both ends (0 for a missing end)."""
    f_low = 0.0
    f_up = 0.0
    if has_upper:
        F_up, S_up, f_up = _cdf_sf_pdf(link, upper)
    if has_lower:
        F_low, S_low, f_low = _cdf_sf_pdf(link, lower)
    if not has_lower:
        return F_up, f_low, f_up
    if not has_upper:
        return S_low, f_low, f_up
    if lower >= upper:
        return 0.0, f_low, f_up
    # subtract on the side of the distribution where both terms are small
    p = F_up - F_low if lower < 0.0 else S_low - S_up
    return p, f_low, f_up


@njit
def nll_and_gradient(E, codes, weight, link, G, barrier=0.0, check_order=False):
    """Weighted negative log-likelihood of the rows, and d(loss)/dE written into ``G``.

    ``codes`` are classes 0..K-1; ``E`` has K-1 columns.  The loss is
    ``sum_i w_i * -log p_i`` (not normalised).  Returns ``inf`` as soon as a
    row's own class has probability <= 0 or, with ``check_order``, as soon as
    any of its predictors cross; G is then undefined.  ``barrier > 0`` adds
    ``-barrier * sum log(E[i, k] - E[i, k-1])`` over the training rows, an
    interior-point term for solutions on the boundary of the ordered set.
    """
    n, m = E.shape
    total = 0.0
    for i in range(n):
        for k in range(m):
            G[i, k] = 0.0
        w = weight[i]
        if w == 0.0:
            continue
        if check_order:
            for k in range(1, m):
                if E[i, k] < E[i, k - 1]:
                    return np.inf
        c = codes[i]
        has_lower = c > 0
        has_upper = c < m
        lower = E[i, c - 1] if has_lower else 0.0
        upper = E[i, c] if has_upper else 0.0
        p, f_low, f_up = _bracket(link, lower, upper, has_lower, has_upper)
        if not p > 0.0:
            return np.inf
        total -= w * math.log(p)
        if has_upper:
            G[i, c] = -w * f_up / p
        if has_lower:
            G[i, c - 1] = w * f_low / p
        if barrier > 0.0:
            for k in range(1, m):
                gap = E[i, k] - E[i, k - 1]
                if not gap > 0.0:
                    return np.inf
                total -= w * barrier * math.log(gap)
                G[i, k] -= w * barrier / gap
                G[i, k - 1] += w * barrier / gap
    return total


@njit
def class_probabilities(E, link, out):
    """Class probabilities from ordered predictors ``E`` (n, K-1) into ``out`` (n, K)."""
    n, m = E.shape
    for i in range(n):
        for k in range(m + 1):
            lower = E[i, k - 1] if k > 0 else 0.0
            upper = E[i, k] if k < m else 0.0
            out[i, k] = _bracket(link, lower, upper, k > 0, k < m)[0]
    return out
