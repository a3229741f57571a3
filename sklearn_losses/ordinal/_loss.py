"""The one definition of the cumulative-link loss, and its kernel-backed form.

The ordinal models say ``P(y <= k | x) = F(eta_k)`` with the linear predictors
``eta_k = intercepts[k] + x @ B[:, k]`` (n_thresholds = n_classes - 1 columns);
a row's likelihood is ``P(y = c | x) = F(eta_c) - F(eta_{c-1})`` with
``F(eta_{-1}) = 0`` and ``F(eta_{K-1}) = 1``.  The loss is the weighted mean
negative log-likelihood

    sum_i w_i * -log P(y_i | x_i) / sum_i w_i.

:func:`cumulative_link_nll` writes this down in NumPy, straight from the
definition (slow, no gradient: the reference).  :class:`CumulativeLinkLoss` is
the same loss with its gradient, evaluated by the numba kernel of
:mod:`._kernels` (tested against the reference); the solvers use it.
"""

import numpy as np
from scipy.special import expit, ndtr

from ..utils._threads import PARALLEL_MIN_ENTRIES, blas_threads
from ._kernels import FusedLikelihood, Likelihood

__all__ = ["CDFS", "CumulativeLinkLoss", "cumulative_link_nll"]

# the cumulative distribution function F of each link
CDFS = {
    "logit": expit,
    "probit": ndtr,
    "cloglog": lambda x: -np.expm1(-np.exp(x)),
}


def cumulative_link_nll(intercepts, B, X, codes, link, weight=None):
    """Weighted mean negative log-likelihood of a cumulative-link model (the reference).

    Parameters
    ----------
    intercepts : ndarray of shape (n_thresholds,)
        The intercepts.
    B : ndarray of shape (n_features, n_thresholds)
        One slope vector per threshold (equal columns: proportional odds).
    X : ndarray of shape (n_samples, n_features)
        The features.
    codes : ndarray of int, shape (n_samples,)
        The classes, ``0 .. n_thresholds``.
    link : {"logit", "probit", "cloglog"}
        The link's name.
    weight : ndarray of shape (n_samples,), default=None
        Row weights (None: ones).

    Returns
    -------
    nll : float
        ``sum_i w_i * -log P(y_i | x_i) / sum_i w_i``; ``inf`` when a row's own
        class has probability <= 0 (its bracketing predictors cross).
    """
    codes = np.asarray(codes)
    n = codes.shape[0]
    cumulative = np.column_stack([np.zeros(n), CDFS[link](X @ B + intercepts), np.ones(n)])
    rows = np.arange(n)
    proba = cumulative[rows, codes + 1] - cumulative[rows, codes]
    weight = np.ones(n) if weight is None else np.asarray(weight, dtype=np.float64)
    with np.errstate(divide="ignore"):
        log_proba = np.log(np.maximum(proba, 0.0))  # -inf where the predictors cross
    kept = weight > 0  # a zero-weight row adds nothing, even at probability 0
    return float(-(weight[kept] @ log_proba[kept]) / weight.sum())


class CumulativeLinkLoss:
    """:func:`cumulative_link_nll` and its gradient in ``(a, B)``, through the numba kernel.

    ``link`` is the link's code in :data:`~._kernels.LINKS`.  ``enforce_order``
    makes a point infeasible (loss ``inf``) when any training row's predictors
    cross, not only its own class's bracket; ``barrier`` adds the log barrier of
    :meth:`PrestoProblem.solve <._solver.PrestoProblem.solve>`.
    """

    def __init__(self, X, codes, weight, link, enforce_order=False):
        self.X = X
        self.codes = codes
        self.weight = weight
        self.total_weight = weight.sum()
        self.link = link
        self._likelihood = None  # the checked kernel, bound on the first call
        self._fused = None  # the fused kernel, likewise
        self.enforce_order = enforce_order  # reject crossings on any training row
        self.barrier = 0.0  # interior-point weight, see PrestoProblem.solve
        self._G = np.empty((X.shape[0], 0))

    def predictors(self, intercepts, B):
        """``X @ B + intercepts``; a ``B`` of one column is a slope shared by every threshold."""
        return self.X @ B + intercepts

    def _nll(self, intercepts, B):
        """Unnormalised NLL (gradient w.r.t. the predictors in ``self._G``), inf if infeasible.

        A point whose predictors overflow (NaN or inf, e.g. a trial step far too long) is
        infeasible like one whose predictors cross: the line searches shorten the step.
        """
        E = self.X @ B
        if E.shape[1] == intercepts.size:
            E += intercepts  # in place: E is a fresh C-ordered array
        else:
            E = E + intercepts  # one shared slope (n, 1) against K - 1 intercepts
        if not np.all(np.isfinite(E)):
            return np.inf
        if self._G.shape != E.shape:
            self._G = np.empty_like(E)
            self._likelihood = Likelihood(self.codes, self.weight, self.link, E.shape[1])
        return self._likelihood(E, self._G, self.barrier, self.enforce_order)

    def value_and_gradient(self, intercepts, B):
        """Loss, d/d intercepts and d/dB at ``(intercepts, B)``; loss is inf when infeasible."""
        if self.barrier == 0 and not self.enforce_order:
            # the plain likelihood: one fused pass over X (about 2x the BLAS route's speed)
            if not (np.all(np.isfinite(intercepts)) and np.all(np.isfinite(B))):
                return np.inf, None, None  # a trial step that overflowed: infeasible
            if self._fused is None:
                self._fused = FusedLikelihood(
                    self.X, self.codes, self.weight, self.link, len(intercepts)
                )
            # threads only where BLAS would use them too (see utils._threads)
            big = self.X.size >= PARALLEL_MIN_ENTRIES
            value, grad_a, grad_B = self._fused(intercepts, B, blas_threads() if big else 1)
            if not value < np.inf:
                return np.inf, None, None
            scale = 1.0 / self.total_weight
            return value * scale, grad_a * scale, grad_B * scale
        value = self._nll(intercepts, B)
        if not np.isfinite(value):
            return np.inf, None, None
        # X.T @ G computed as (G.T @ X).T: BLAS streams the tall X once either way, but
        # twice as fast with the thin factor on the left (measured at n=1e5, p=50)
        G, scale = self._G, 1.0 / self.total_weight
        if B.shape[1] != G.shape[1]:  # one shared slope: one product, not K - 1 equal ones
            grad_B = (G.sum(axis=1) @ self.X)[:, None]
        else:
            grad_B = (G.T @ self.X).T
        return value * scale, G.sum(axis=0) * scale, grad_B * scale

    def max_feasible_fraction(self, intercepts, B, d_intercepts, d_B):
        """Largest s in [0, 1] keeping every row's predictors ordered along ``+ s * d``.

        The feasible set {predictors ordered on every training row} is a polyhedron,
        so the fraction is exact: a min over rows of -gap / d_gap where the gap shrinks.
        """
        gap = np.diff(self.predictors(intercepts, B), axis=1)
        d_gap = np.diff(self.predictors(d_intercepts, d_B), axis=1)
        shrinking = d_gap < 0
        if not shrinking.any():
            return 1.0
        return float(min(1.0, np.min(-gap[shrinking] / d_gap[shrinking])))

    def value(self, intercepts, B):
        return self._nll(intercepts, B) / self.total_weight
