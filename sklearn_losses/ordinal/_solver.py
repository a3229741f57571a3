"""The smooth part of the cumulative-link objective and the proximal-gradient solver.

Parametrisation of the non-parallel model (PRESTO): intercepts ``a`` (K-1,) and
slope increments ``Psi`` (p, K-1) with ``B = cumsum(Psi, axis=1)``, so column k
of ``B`` is the slope of threshold k and the PRESTO penalty is an ordinary
weighted L1 norm of ``Psi``.  The augmented design matrix of the reference
implementation is never built: one gradient costs two (n, p) x (p, K-1) BLAS
products plus an O(n K) kernel pass.
"""

import numpy as np
from scipy.special import ndtri

from ..utils._convergence import DivergenceError, check_finite
from ._kernels import Likelihood


class CumulativeLinkLoss:
    """Mean weighted NLL of a cumulative-link model as a function of ``(a, B)``."""

    def __init__(self, X, codes, weight, link, enforce_order=False):
        self.X = X
        self.codes = codes
        self.weight = weight
        self.total_weight = weight.sum()
        self.link = link
        self._likelihood = None  # the checked kernel, bound on the first call
        self.enforce_order = enforce_order  # reject crossings on any training row
        self.barrier = 0.0  # interior-point weight, see PrestoProblem.solve
        self._G = np.empty((X.shape[0], 0))

    def predictors(self, intercepts, B):
        return self.X @ B + intercepts

    def _nll(self, intercepts, B):
        """Unnormalised NLL (gradient w.r.t. the predictors in ``self._G``), inf if infeasible.

        A point whose predictors overflow (NaN or inf, e.g. a trial step far too long) is
        infeasible like one whose predictors cross: the line searches shorten the step.
        """
        E = np.ascontiguousarray(self.predictors(intercepts, B))
        if not np.all(np.isfinite(E)):
            return np.inf
        if self._G.shape != E.shape:
            self._G = np.empty_like(E)
            self._likelihood = Likelihood(self.codes, self.weight, self.link, E.shape[1])
        return self._likelihood(E, self._G, self.barrier, self.enforce_order)

    def value_and_gradient(self, intercepts, B):
        """Loss, d/d intercepts and d/dB at ``(intercepts, B)``; loss is inf when infeasible."""
        value = self._nll(intercepts, B)
        if not np.isfinite(value):
            return np.inf, None, None
        G = self._G / self.total_weight
        return value / self.total_weight, G.sum(axis=0), self.X.T @ G

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


# a curvature bound beyond which the step 1 / L underflows: the problem is not representable
_MAX_LIPSCHITZ = 1e300


def intercept_only_thresholds(codes, weight, n_thresholds, link):
    """Thresholds of the intercept-only fit: F^-1 of the cumulative class frequencies."""
    counts = np.bincount(codes, weights=weight, minlength=n_thresholds + 1)
    cumulative = np.clip(np.cumsum(counts)[:-1] / counts.sum(), 1e-10, 1 - 1e-10)
    if link == "logit":
        return np.log(cumulative) - np.log1p(-cumulative)
    if link == "probit":
        return ndtri(cumulative)
    return np.log(-np.log1p(-cumulative))


def psi_to_slopes(psi):
    return np.cumsum(psi, axis=1)


def slopes_gradient_to_psi(grad_B):
    """Chain rule through ``B = cumsum(Psi)``: d/dPsi_l = sum_{k >= l} d/dB_k."""
    return np.cumsum(grad_B[:, ::-1], axis=1)[:, ::-1]


def kkt_violation(grad_a, grad_psi, psi, penalty):
    """Largest violation of the optimality conditions of the L1-penalised problem.

    ``penalty`` is the per-coordinate L1 weight (lambda times the penalty factor).
    """
    nonzero = psi != 0
    stationarity = np.maximum(np.abs(grad_psi) - penalty, 0.0)
    stationarity[nonzero] = np.abs(grad_psi[nonzero] + penalty[nonzero] * np.sign(psi[nonzero]))
    worst = stationarity.max() if stationarity.size else 0.0
    return max(worst, np.abs(grad_a).max() if grad_a.size else 0.0)


def l1_penalty(psi, penalty):
    """sum(penalty * |psi|), with 0 * inf = 0 (an infinite weight pins a coordinate at 0)."""
    nonzero = psi != 0
    return float(np.sum(penalty[nonzero] * np.abs(psi[nonzero])))


def soft_threshold(x, threshold):
    return np.sign(x) * np.maximum(np.abs(x) - threshold, 0.0)


def fista(
    loss,
    intercepts,
    psi,
    penalty,
    *,
    tol,
    max_iter,
    lipschitz=1.0,
    check_every=5,
    stop_on_stall=True,
    name="PRESTOClassifier",
):
    """Accelerated proximal gradient with backtracking and adaptive restart.

    Minimises ``loss(a, cumsum(Psi)) + sum(penalty * |Psi|)`` from a feasible
    start.  A step that makes any training row's predictors cross gives an
    infinite loss and is cut back to the ordered set, so every iterate is
    feasible.  Stops when the KKT violation at the iterate is below ``tol``, or
    when the objective stalls (a solution on the boundary of the ordered set,
    where the unconstrained KKT conditions do not apply).  Every accepted iterate
    is checked to be finite (:class:`~sklearn_losses.utils.DivergenceError`
    naming ``name`` otherwise); running out of ``max_iter`` is left to the caller
    to report.

    Returns ``(intercepts, psi, n_iter, kkt, lipschitz, stalled)``.
    """
    x_a, x_psi = intercepts.copy(), psi.copy()
    f_x, g_a, g_B = loss.value_and_gradient(x_a, psi_to_slopes(x_psi))
    if not np.isfinite(f_x):
        raise ValueError("The starting point of the solver is infeasible (crossing predictors).")
    obj_x = f_x + l1_penalty(x_psi, penalty)
    y_a, y_psi, f_y = x_a, x_psi, f_x
    gy_a, gy_psi = g_a, slopes_gradient_to_psi(g_B)
    t = 1.0
    L = lipschitz
    last_check_obj = np.inf
    stalled = False
    at_x = True  # whether the current search point y is the iterate x itself
    stalls = 0
    kkt = kkt_violation(gy_a, gy_psi, x_psi, penalty)
    n_iter = 0
    while n_iter < max_iter and kkt > tol:
        n_iter += 1
        while True:  # backtracking on the quadratic upper bound
            step = 1.0 / L
            new_a = y_a - step * gy_a
            new_psi = soft_threshold(y_psi - step * gy_psi, step * penalty)
            f_new = loss.value(new_a, psi_to_slopes(new_psi))
            d_a, d_psi = new_a - y_a, new_psi - y_psi
            if not np.isfinite(f_new) and loss.enforce_order:
                # the step crosses some training row's predictors: go 99% of the way to the
                # boundary of the ordered set (a descent step of the same quadratic model)
                frac = 0.99 * loss.max_feasible_fraction(
                    y_a, psi_to_slopes(y_psi), d_a, psi_to_slopes(d_psi)
                )
                d_a, d_psi = frac * d_a, frac * d_psi
                new_a, new_psi = y_a + d_a, y_psi + d_psi
                f_new = loss.value(new_a, psi_to_slopes(new_psi))
            bound = f_y + gy_a @ d_a + np.sum(gy_psi * d_psi)
            bound += 0.5 * L * (d_a @ d_a + np.sum(d_psi * d_psi))
            if f_new <= bound + 1e-12 * abs(f_y):
                break
            L *= 2.0
            if not L < _MAX_LIPSCHITZ:  # also catches a NaN bound, which no L satisfies
                raise DivergenceError(
                    f"{name} diverged: no step of its proximal-gradient solver lowers the "
                    "objective, whose gradient overflows float64; scale the features "
                    "(standardize=True does)."
                )
        obj_new = f_new + l1_penalty(new_psi, penalty)
        # an increase below rounding level is no reason to restart: near the optimum the
        # objective is flat to machine precision while the gradient still carries information
        if obj_new > obj_x + 1e-14 * abs(obj_x):
            if at_x:
                # a plain proximal step from x did not decrease the objective: the step
                # passed the upper-bound test only within rounding, so shorten it; when
                # even tiny steps fail, x is optimal to machine precision
                if stalls == 0:
                    L_before_stall = L
                stalls += 1
                if stalls > 20:
                    stalled, L = True, L_before_stall
                    break
                L *= 2.0
                continue
            # adaptive restart: drop the momentum and step from x instead
            t, at_x = 1.0, True
            y_a, y_psi = x_a, x_psi
            f_y, g_a, g_B = loss.value_and_gradient(y_a, psi_to_slopes(y_psi))
            gy_a, gy_psi = g_a, slopes_gradient_to_psi(g_B)
            continue
        t_next = 0.5 * (1.0 + np.sqrt(1.0 + 4.0 * t * t))
        beta = (t - 1.0) / t_next
        cand_a = new_a + beta * (new_a - x_a)
        cand_psi = new_psi + beta * (new_psi - x_psi)
        check_finite(name, new_a, new_psi, obj_new, hint="scale the features")
        x_a, x_psi, obj_x, t, at_x, stalls = new_a, new_psi, obj_new, t_next, False, 0
        f_c, g_a, g_B = loss.value_and_gradient(cand_a, psi_to_slopes(cand_psi))
        if not np.isfinite(f_c):  # extrapolation left the feasible set: restart at x
            t = 1.0
            cand_a, cand_psi = x_a, x_psi
            f_c, g_a, g_B = loss.value_and_gradient(x_a, psi_to_slopes(x_psi))
        y_a, y_psi, f_y = cand_a, cand_psi, f_c
        gy_a, gy_psi = g_a, slopes_gradient_to_psi(g_B)
        L *= 0.9  # let the step grow back
        if n_iter % check_every == 0:
            _, gx_a, gx_B = loss.value_and_gradient(x_a, psi_to_slopes(x_psi))
            kkt = kkt_violation(gx_a, slopes_gradient_to_psi(gx_B), x_psi, penalty)
            # At a solution where ordering constraints of training rows are active the
            # unconstrained KKT conditions cannot hold; stop when the objective stalls.
            if stop_on_stall and last_check_obj - obj_x <= 1e-13 * max(1.0, abs(obj_x)):
                stalled = True
                break
            last_check_obj = obj_x
    if kkt > tol:
        _, gx_a, gx_B = loss.value_and_gradient(x_a, psi_to_slopes(x_psi))
        kkt = kkt_violation(gx_a, slopes_gradient_to_psi(gx_B), x_psi, penalty)
    return x_a, x_psi, n_iter, kkt, L, stalled
