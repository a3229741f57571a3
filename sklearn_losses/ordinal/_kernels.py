"""numba kernels of the cumulative-link likelihood defined in :mod:`._loss`.

The linear predictors ``E`` (n_samples, n_thresholds) are computed by the caller
with BLAS (``X @ B + intercepts``); these kernels do the O(n K) per-row part:
the negative log-likelihood and its derivative with respect to ``E``, in which
only the two columns bracketing each row's class are non-zero.  A row whose
bracketing predictors cross (its own class's probability <= 0) gives an
infinite loss, which the solvers' line searches reject: the two predictors
around each training row's own class stay ordered.  Its other predictors may
cross unless ``check_order`` is set, which makes any crossing infinite.

The jitted kernels (``_nll_and_gradient``, ``_class_probabilities``) index
without bounds checks and read every input as finite; they are called only
through the Python functions :func:`nll_and_gradient` and
:func:`class_probabilities`, which check shapes, dtypes, the range of the class
codes and the link, and that every number is finite, and raise a
``ValueError`` otherwise.
"""

import math
from concurrent.futures import ThreadPoolExecutor
from numbers import Integral

import numpy as np

from .._jit import njit

LINKS = {"logit": 0, "probit": 1, "cloglog": 2}
_MIN_ROWS_PER_THREAD = 20_000  # below this a thread costs more than its share of the rows
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
    # the density exp(x - e^x), not e^x * exp(-e^x), which is inf * 0 = NaN for x > 709
    return -math.expm1(-ex), math.exp(-ex), math.exp(x - ex)


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
def _nll_and_gradient(E, codes, weight, link, G, barrier, check_order):
    """Kernel of :func:`nll_and_gradient`, which checks its inputs."""
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
def _class_probabilities(E, link, out):
    """Kernel of :func:`class_probabilities`, which checks its inputs."""
    n, m = E.shape
    for i in range(n):
        for k in range(m + 1):
            lower = E[i, k - 1] if k > 0 else 0.0
            upper = E[i, k] if k < m else 0.0
            out[i, k] = _bracket(link, lower, upper, k > 0, k < m)[0]
    return out


@njit(fastmath={"reassoc", "contract"}, nogil=True)
def _fused_nll_and_gradient(X, BT, intercepts, codes, weight, link, grad_BT, grad_a):
    """Kernel of :class:`FusedLikelihood`, which checks its inputs.

    ``BT`` is the transposed slope matrix (one row per threshold, or one shared row);
    the gradient in ``B`` is accumulated transposed into ``grad_BT``.  Only the two
    predictors bracketing a row's class enter its likelihood, so only those two
    dot products are computed and only their two gradient rows are updated.  The
    fast-math flags only reassociate sums (vectorised dot products); NaN and inf
    keep their meaning, so an overflowing or crossing row gives ``inf``.
    """
    n, p = X.shape
    m = intercepts.shape[0]
    shared = BT.shape[0] == 1
    grad_BT[:, :] = 0.0
    grad_a[:] = 0.0
    total = 0.0
    for i in range(n):
        w = weight[i]
        if w == 0.0:
            continue
        c = codes[i]
        has_lower = c > 0
        has_upper = c < m
        low_row = 0 if shared else c - 1
        up_row = 0 if shared else c
        lower = 0.0
        upper = 0.0
        if has_lower:
            s = 0.0
            for j in range(p):
                s += X[i, j] * BT[low_row, j]
            lower = intercepts[c - 1] + s
        if has_upper:
            if shared and has_lower:
                upper = intercepts[c] + (lower - intercepts[c - 1])
            else:
                s = 0.0
                for j in range(p):
                    s += X[i, j] * BT[up_row, j]
                upper = intercepts[c] + s
        if not (math.isfinite(lower) and math.isfinite(upper)):
            return np.inf  # overflowing predictors: infeasible, as on the BLAS route
        prob, f_low, f_up = _bracket(link, lower, upper, has_lower, has_upper)
        if not prob > 0.0:
            return np.inf
        total -= w * math.log(prob)
        if has_upper:
            g = -w * f_up / prob
            grad_a[c] += g
            for j in range(p):
                grad_BT[up_row, j] += g * X[i, j]
        if has_lower:
            g = w * f_low / prob
            grad_a[c - 1] += g
            for j in range(p):
                grad_BT[low_row, j] += g * X[i, j]
    return total


# -- the checked boundary in front of the kernels --------------------------------------------
def _check_predictors(E):
    E = np.ascontiguousarray(E, dtype=np.float64)
    if E.ndim != 2 or E.shape[1] < 1:
        raise ValueError(
            f"The linear predictors must be a 2-D array with at least one column (one per "
            f"threshold); got shape {E.shape}."
        )
    if not np.all(np.isfinite(E)):
        raise ValueError(
            "The linear predictors hold NaN or inf: the features or coefficients overflow; "
            "scale the features."
        )
    return E


def _check_link(link):
    if isinstance(link, (bool, np.bool_)) or not isinstance(link, Integral):
        raise ValueError(f"link must be one of the integer codes {sorted(LINKS.values())}.")
    if int(link) not in LINKS.values():
        raise ValueError(f"link must be one of {sorted(LINKS.values())}; got {link}.")
    return int(link)


def _check_output(out, shape, name):
    if not (
        isinstance(out, np.ndarray)
        and out.dtype == np.float64
        and out.shape == shape
        and out.flags.writeable
    ):
        raise ValueError(f"{name} must be a writeable float64 array of shape {shape}.")
    return out


class Likelihood:
    """The likelihood kernel bound to checked class codes, row weights and link.

    The codes, weights and link are checked once, here; every call checks what
    changes between calls (the predictors ``E``, the output ``G``, the barrier).
    ``codes`` (n,) are the classes 0..K-1, ``weight`` (n,) non-negative finite
    row weights, ``link`` a value of :data:`LINKS`.  Both arrays are copied.
    """

    def __init__(self, codes, weight, link, n_thresholds):
        if not (isinstance(n_thresholds, Integral) and n_thresholds >= 1):
            raise ValueError(f"n_thresholds must be an int >= 1; got {n_thresholds!r}.")
        codes = np.asarray(codes)
        if codes.ndim != 1 or codes.dtype.kind not in "iu":
            raise ValueError("codes must be a 1-D integer array.")
        if codes.size and (codes.min() < 0 or codes.max() > n_thresholds):
            raise ValueError(
                f"codes must lie in 0..{n_thresholds} (one class more than thresholds)."
            )
        weight = np.asarray(weight, dtype=np.float64)
        if weight.shape != codes.shape:
            raise ValueError(f"weight must be a 1-D array of length {codes.size}, as codes.")
        if not np.all(np.isfinite(weight)) or np.any(weight < 0):
            raise ValueError("weight must be finite and non-negative.")
        self.codes = np.array(codes, dtype=np.int64)
        self.weight = np.array(weight)
        self.link = _check_link(link)
        self.shape = (codes.size, int(n_thresholds))

    def __call__(self, E, G, barrier=0.0, check_order=False):
        """Weighted negative log-likelihood of the rows, and d(loss)/dE written into ``G``.

        The loss is ``sum_i w_i * -log p_i`` (not normalised).  Returns ``inf`` when a
        row's own class has probability <= 0 or, with ``check_order``, when any of its
        predictors cross; G is then undefined.  ``barrier > 0`` adds
        ``-barrier * sum log(E[i, k] - E[i, k-1])`` over the training rows.

        Raises ``ValueError`` on predictors that are not finite or not of shape
        (n, K-1), and on a ``G`` that is not a writeable float64 array of that shape.
        """
        E = _check_predictors(E)
        if E.shape != self.shape:
            raise ValueError(
                f"The linear predictors have shape {E.shape}; codes and weights need {self.shape}."
            )
        _check_output(G, self.shape, "G")
        barrier = float(barrier)
        if not (np.isfinite(barrier) and barrier >= 0):
            raise ValueError(f"barrier must be finite and >= 0; got {barrier}.")
        return float(
            _nll_and_gradient(E, self.codes, self.weight, self.link, G, barrier, bool(check_order))
        )


def nll_and_gradient(E, codes, weight, link, G, barrier=0.0, check_order=False):
    """One checked call of the likelihood kernel (see :class:`Likelihood`).

    ``E`` (n, K-1) are the linear predictors, ``codes`` (n,) the classes 0..K-1,
    ``weight`` (n,) the row weights; d(loss)/dE is written into ``G``.  Raises
    ``ValueError`` on a non-finite predictor or weight, a code outside 0..K-1,
    mismatched shapes or an unknown link: the compiled kernel checks none of them.
    """
    E = _check_predictors(E)
    codes = np.asarray(codes)
    if codes.shape != (E.shape[0],):
        raise ValueError(f"codes must be a 1-D integer array of length {E.shape[0]}.")
    return Likelihood(codes, weight, link, E.shape[1])(E, G, barrier, check_order)


def class_probabilities(E, link, out=None):
    """Class probabilities (n, K) from ordered predictors ``E`` (n, K-1), into ``out``.

    Raises ``ValueError`` on a non-finite predictor, an unknown link or an
    ``out`` of the wrong shape or dtype.
    """
    E = _check_predictors(E)
    link = _check_link(link)
    shape = (E.shape[0], E.shape[1] + 1)
    out = np.empty(shape) if out is None else _check_output(out, shape, "out")
    return _class_probabilities(E, link, out)


class FusedLikelihood:
    """The likelihood and its gradient in ``(intercepts, B)`` in one pass over ``X``.

    For a given ``X`` (n, p), the same loss as :class:`Likelihood` applied to
    ``E = X @ B + intercepts``, with the products fused into the kernel: each row
    is read once, and only the two predictors that bracket its class (and their
    gradient) are computed, where the BLAS route forms all K-1 predictors and
    multiplies the mostly-zero ``G`` back.  It serves the solvers' plain
    likelihood (no barrier, no order check on every predictor).  ``X`` must be a
    C-contiguous float64 array of finite numbers (checked once, here), with the
    codes, weights and link of :class:`Likelihood`; ``B`` has one column per
    threshold or one shared column (proportional odds).
    """

    def __init__(self, X, codes, weight, link, n_thresholds):
        self._rows = Likelihood(codes, weight, link, n_thresholds)  # checks and copies
        if not (
            isinstance(X, np.ndarray)
            and X.dtype == np.float64
            and X.ndim == 2
            and X.flags.c_contiguous
            and X.shape[0] == codes.shape[0]
        ):
            raise ValueError(
                f"X must be a C-contiguous float64 array with {codes.shape[0]} rows, one per code."
            )
        if not np.all(np.isfinite(X)):
            raise ValueError("X holds NaN or inf.")
        self.X = X

    def __call__(self, intercepts, B, n_threads=1):
        """``(nll, grad_intercepts, grad_B)``: the unnormalised loss and its gradient.

        The loss is ``inf`` (and the gradients None) when a row's own class has
        probability <= 0 or its predictors overflow.  ``n_threads`` > 1 splits the
        rows into that many blocks run in parallel.  Raises ``ValueError`` on
        intercepts or slopes of the wrong shape or not finite.
        """
        n_thresholds = self._rows.shape[1]
        intercepts = np.asarray(intercepts, dtype=np.float64)
        B = np.asarray(B, dtype=np.float64)
        if intercepts.shape != (n_thresholds,):
            raise ValueError(f"intercepts must have shape ({n_thresholds},).")
        if B.ndim != 2 or B.shape[0] != self.X.shape[1] or B.shape[1] not in (1, n_thresholds):
            raise ValueError(
                f"B must have shape ({self.X.shape[1]}, {n_thresholds}) or "
                f"({self.X.shape[1]}, 1); got {B.shape}."
            )
        if not (np.all(np.isfinite(intercepts)) and np.all(np.isfinite(B))):
            raise ValueError("The intercepts and slopes must be finite.")
        BT = np.ascontiguousarray(B.T)
        n_blocks = max(1, min(int(n_threads), self.X.shape[0] // _MIN_ROWS_PER_THREAD))
        bounds = np.linspace(0, self.X.shape[0], n_blocks + 1).astype(int)
        grad_BT = np.empty((n_blocks,) + BT.shape)
        grad_a = np.empty((n_blocks, n_thresholds))
        rows = self._rows

        def block(b):
            start, stop = bounds[b], bounds[b + 1]
            return _fused_nll_and_gradient(
                self.X[start:stop], BT, intercepts, rows.codes[start:stop],
                rows.weight[start:stop], rows.link, grad_BT[b], grad_a[b],
            )  # fmt: skip

        if n_blocks == 1:
            totals = [block(0)]
        else:  # the kernel releases the GIL: row blocks run in parallel threads
            with ThreadPoolExecutor(n_blocks) as pool:
                totals = list(pool.map(block, range(n_blocks)))
        total = sum(totals)
        if not total < np.inf:
            return np.inf, None, None
        return float(total), grad_a.sum(axis=0), grad_BT.sum(axis=0).T
