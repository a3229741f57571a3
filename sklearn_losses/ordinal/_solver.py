"""The solvers of the cumulative-link models: OWL-QN, FISTA and the PRESTO path.

:func:`owlqn` (orthant-wise L-BFGS) minimises the smooth loss of :mod:`._loss` plus
a weighted L1 norm; :func:`fista` (accelerated proximal gradient) does the same
with steps cut back exactly to the boundary of the ordered set, and serves the
log-barrier phase; :class:`PrestoProblem` solves one (standardized) PRESTO data
set at one alpha, along a warm-started path of alphas with the sequential strong
rule, and with a log barrier when ordering constraints are active.

Parametrisation of the non-parallel model (PRESTO): intercepts ``a`` (K-1,) and
slope increments ``Psi`` (p, K-1) with ``B = cumsum(Psi, axis=1)``, so column k
of ``B`` is the slope of threshold k and the PRESTO penalty is an ordinary
weighted L1 norm of ``Psi``.  The augmented design matrix of the reference
implementation is never built: one gradient costs one fused pass over ``X``
(:class:`~._kernels.FusedLikelihood`).
"""

from contextlib import contextmanager

import numpy as np
from scipy.special import ndtri

from ..utils._convergence import DivergenceError, check_finite
from ..utils._threads import solver_threads
from ._kernels import LINKS
from ._loss import CumulativeLinkLoss

# a curvature bound beyond which the step 1 / L underflows: the problem is not representable
_MAX_LIPSCHITZ = 1e300
# a gradient whose square overflows: no line search can find the curvature along it
_MAX_GRADIENT = 1e150


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
    check_every=5,
    name="PRESTOClassifier",
    verbose=0,
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
    to report.  ``verbose > 0`` prints the iteration, objective and KKT violation
    to stdout every 100 iterations (``verbose > 1``: at every KKT check) and when
    the solver stops.

    Returns ``(intercepts, psi, n_iter, kkt, stalled)``.
    """
    x_a, x_psi = intercepts.copy(), psi.copy()
    f_x, g_a, g_B = loss.value_and_gradient(x_a, psi_to_slopes(x_psi))
    if not np.isfinite(f_x):
        raise ValueError("The starting point of the solver is infeasible (crossing predictors).")
    obj_x = f_x + l1_penalty(x_psi, penalty)
    y_a, y_psi, f_y = x_a, x_psi, f_x
    gy_a, gy_psi = g_a, slopes_gradient_to_psi(g_B)
    t = 1.0
    L = 1.0  # the curvature estimate of the backtracking
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
                    "(scale=True does)."
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
            if verbose > 1 or (verbose > 0 and n_iter % 100 == 0):
                _report(name, n_iter, obj_x, kkt)
            # At a solution where ordering constraints of training rows are active the
            # unconstrained KKT conditions cannot hold; stop when the objective stalls.
            if last_check_obj - obj_x <= 1e-13 * max(1.0, abs(obj_x)):
                stalled = True
                break
            last_check_obj = obj_x
    if kkt > tol:
        _, gx_a, gx_B = loss.value_and_gradient(x_a, psi_to_slopes(x_psi))
        kkt = kkt_violation(gx_a, slopes_gradient_to_psi(gx_B), x_psi, penalty)
    if verbose > 0:
        _report(name, n_iter, obj_x, kkt, "stopped: " + ("stalled" if stalled else "done"))
    return x_a, x_psi, n_iter, kkt, stalled


def pseudo_gradient(grad, x, penalty):
    """The minimum-norm subgradient of ``f + sum(penalty * |x|)`` (its norm: the KKT violation).

    Where ``x`` is zero it is zero when ``|grad| <= penalty`` and otherwise the
    side of the kink the objective falls towards; an infinite penalty pins ``x`` at 0.
    """
    out = np.where(x > 0, grad + penalty, np.where(x < 0, grad - penalty, 0.0))
    at_zero = x == 0
    falls_up = at_zero & (grad + penalty < 0)
    falls_down = at_zero & (grad - penalty > 0)
    out[falls_up] = (grad + penalty)[falls_up]
    out[falls_down] = (grad - penalty)[falls_down]
    return out


def owlqn(
    loss,
    intercepts,
    psi,
    penalty,
    *,
    tol,
    max_iter,
    memory=20,
    history=None,
    name="PRESTOClassifier",
    verbose=0,
):
    """Orthant-wise limited-memory quasi-Newton (OWL-QN) for the L1-penalised loss.

    Minimises ``loss(a, cumsum(Psi)) + sum(penalty * |Psi|)`` like :func:`fista`
    from a feasible start, with L-BFGS directions on the pseudo-gradient kept
    in its orthant and a backtracking line search that projects each trial
    point onto the orthant (Andrew & Gao, ICML 2007).  A trial point whose
    predictors cross (infinite loss) counts as a failed trial, so every iterate
    is feasible.  One iteration costs one evaluation of the loss and gradient
    (one pass over ``X``) when its first trial step is accepted, as it is near
    the solution, against about three for FISTA; and with the curvature it
    learns it needs about 25 iterations where FISTA needed 40-130 (measured on
    the benchmark's data).

    ``history`` is the list of L-BFGS pairs, updated in place: passing the list of a
    previous solve on the same loss (another penalty, e.g. the next alpha of a
    path) starts with the curvature learnt there, which stays valid because the
    smooth part is the same.  Stops when the KKT violation is below ``tol`` or
    when no step lowers the objective (``stalled``: a solution on the boundary of
    the feasible set, or the objective flat to rounding).  Returns
    ``(intercepts, psi, n_iter, kkt, stalled, grad_psi)``, the last the gradient of
    the smooth loss in ``psi`` at the solution.
    """
    history = [] if history is None else history
    with solver_threads(loss.X.size):
        return _owlqn(loss, intercepts, psi, penalty, tol, max_iter, memory, history, name, verbose)


def _owlqn(loss, intercepts, psi, penalty, tol, max_iter, memory, history, name, verbose):
    n_a, shape = intercepts.size, psi.shape
    weights = np.concatenate([np.zeros(n_a), penalty.ravel()])
    penalised = weights > 0

    def evaluate(x):
        f, g_a, g_B = loss.value_and_gradient(x[:n_a], psi_to_slopes(x[n_a:].reshape(shape)))
        if not f < np.inf:  # infeasible (crossing) or overflowing: a failed trial
            return np.inf, None
        grad = np.concatenate([g_a, slopes_gradient_to_psi(g_B).ravel()])
        return f + l1_penalty(x[n_a:], penalty.ravel()), grad

    x = np.concatenate([intercepts, psi.ravel()])
    obj, grad = evaluate(x)
    if not np.isfinite(obj):
        raise ValueError("The starting point of the solver is infeasible (crossing predictors).")
    pg = pseudo_gradient(grad, x, weights)
    kkt = np.abs(pg).max() if pg.size else 0.0
    n_iter, stalled, flat_iterations = 0, False, 0
    while n_iter < max_iter and kkt > tol:
        n_iter += 1
        direction = -_two_loop(pg, history)
        # penalised coordinates keep to the descent orthant of the pseudo-gradient; the
        # unpenalised ones (intercepts, alpha=0) move freely, as in plain L-BFGS
        direction[penalised & (direction * pg >= 0)] = 0.0
        if not np.any(direction):
            stalled = True
            break
        orthant = np.where(x != 0, np.sign(x), -np.sign(pg))
        t = 1.0 if history else min(1.0, 1.0 / np.abs(pg).sum())
        for _ in range(60):
            trial = x + t * direction
            trial[penalised & (np.sign(trial) != orthant)] = 0.0  # project onto the orthant
            trial_obj, trial_grad = evaluate(trial)
            if trial_obj <= obj + 1e-4 * (pg @ (trial - x)):
                break
            t *= 0.5
        else:
            if not kkt < _MAX_GRADIENT:
                raise DivergenceError(
                    f"{name} diverged: no step of its quasi-Newton solver lowers the "
                    f"objective, whose gradient ({kkt:.1e}) is beyond float64's working "
                    "range; scale the features (scale=True does)."
                )
            stalled = True
            break
        check_finite(name, trial, np.asarray(trial_obj), hint="scale the features")
        step, change = trial - x, trial_grad - grad
        if step @ change > 1e-12 * np.sqrt((step @ step) * (change @ change)):
            history.append((step, change))
            del history[:-memory]
        flat = obj - trial_obj <= 1e-15 * max(1.0, abs(obj))
        x, obj, grad = trial, trial_obj, trial_grad
        pg = pseudo_gradient(grad, x, weights)
        kkt = np.abs(pg).max()
        if verbose > 1 or (verbose > 0 and n_iter % 100 == 0):
            _report(name, n_iter, obj, kkt)
        flat_iterations = flat_iterations + 1 if flat else 0
        if flat_iterations >= 5 and kkt > tol:
            stalled = True  # no decrease at working precision: the optimum to rounding
            break
    if verbose > 0:
        _report(name, n_iter, obj, kkt, "stopped: " + ("stalled" if stalled else "done"))
    return x[:n_a], x[n_a:].reshape(shape), n_iter, kkt, stalled, grad[n_a:].reshape(shape)


def _two_loop(vector, history):
    """L-BFGS's product of the inverse-Hessian estimate with ``vector`` (Nocedal & Wright 7.4)."""
    q = vector.copy()
    rhos = [1.0 / (y @ s) for s, y in history]
    alphas = []
    for (s, y), rho in zip(reversed(history), reversed(rhos)):
        alpha = rho * (s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if history:
        s, y = history[-1]
        q *= (s @ y) / (y @ y)
    for (s, y), rho, alpha in zip(history, rhos, reversed(alphas)):
        q += (alpha - rho * (y @ q)) * s
    return q


def _report(name, n_iter, objective, kkt, note=""):
    print(
        f"{name}: iteration {n_iter}, objective {objective:.10g}, KKT violation {kkt:.3e}"
        + (f" ({note})" if note else ""),
        flush=True,
    )


@contextmanager
def _no_barrier_after(loss):
    """Leave ``loss`` without its log barrier, however the barrier phase ends."""
    try:
        yield
    finally:
        loss.barrier = 0.0


class PrestoProblem:
    """One PRESTO data set (standardized) whose solutions can be warm-started along alphas."""

    def __init__(
        self,
        Xs,
        codes,
        weight,
        n_classes,
        link,
        penalize_first,
        enforce_order=False,
        name="PRESTOClassifier",
        verbose=0,
    ):
        self._args = (codes, weight, n_classes, link, penalize_first, enforce_order, name, verbose)
        self.name = name  # who reports a divergence
        self.verbose = verbose  # passed on to the solvers
        self.loss = CumulativeLinkLoss(Xs, codes, weight, LINKS[link], enforce_order)
        self.n_thresholds = n_classes - 1
        self.n_features = Xs.shape[1]
        self.factor = np.ones((self.n_features, self.n_thresholds))
        self.factor[:, 0] = 1.0 if penalize_first else 0.0
        self.null_intercepts = intercept_only_thresholds(codes, weight, self.n_thresholds, link)

    def null_start(self):
        return self.null_intercepts.copy(), np.zeros((self.n_features, self.n_thresholds))

    def solve(self, alpha, start=None, tol=1e-6, max_iter=10000, *, kept=None, history=None):
        """Solve at ``alpha`` from ``start`` (feasible) or from the intercept-only fit.

        ``kept`` (a boolean mask of the features, default all) pins the other features'
        increments at zero; ``history`` carries L-BFGS curvature between solves (see
        :func:`owlqn`).  Returns ``(intercepts, psi, n_iter, kkt, converged,
        grad_psi)``, the last the loss's gradient in ``psi`` at the solution.
        """
        if start is not None and not np.isfinite(
            self.loss.value(start[0], psi_to_slopes(start[1]))
        ):
            start = None  # the previous solution crosses on these data
        a, psi = start if start is not None else self.null_start()
        penalty = alpha * self.factor
        if kept is not None:
            penalty[~kept] = np.inf
        a, psi, n_iter, kkt, stalled, grad_psi = owlqn(
            self.loss,
            a,
            psi,
            penalty,
            tol=tol,
            max_iter=max_iter,
            history=history,
            name=self.name,
            verbose=self.verbose,
        )
        if kkt <= tol or not stalled or not self.loss.enforce_order:
            return a, psi, n_iter, kkt, kkt <= tol, grad_psi
        # Stuck on the boundary of {training predictors ordered}: the optimum has active
        # ordering constraints, where cut-back steps jam.  Follow the central path of a
        # log barrier instead, warm-started, with a vanishing barrier weight.  The start is
        # pulled slightly towards the intercept-only fit, which is strictly inside.
        null_a, null_psi = self.null_start()
        a, psi = 0.999 * a + 0.001 * null_a, 0.999 * psi + 0.001 * null_psi
        converged = True
        with solver_threads(self.loss.X.size), _no_barrier_after(self.loss):
            for barrier in np.geomspace(1e-3, 1e-11, 5):
                self.loss.barrier = barrier
                if self.verbose > 0:
                    print(
                        f"{self.name}: ordering constraints active; log barrier weight "
                        f"{barrier:.0e} (the objective includes the barrier)",
                        flush=True,
                    )
                # FISTA here: its steps cut back to the boundary of the ordered set
                # exactly, where OWL-QN's halving line search jams (measured: thousands
                # of iterations)
                a, psi, it, barrier_kkt, stalled = fista(
                    self.loss,
                    a,
                    psi,
                    penalty,
                    tol=tol,
                    max_iter=max_iter,
                    check_every=50,
                    name=self.name,
                    verbose=self.verbose,
                )
                n_iter += it
                converged = converged and (barrier_kkt <= tol or stalled)
        _, grad_a, grad_B = self.loss.value_and_gradient(a, psi_to_slopes(psi))
        grad_psi = slopes_gradient_to_psi(grad_B)
        kkt = kkt_violation(grad_a, grad_psi, psi, penalty)
        return a, psi, n_iter, kkt, converged, grad_psi

    def path(self, alphas, tol=1e-6, max_iter=10000):
        """Solutions along decreasing ``alphas``: warm starts and the sequential strong rule.

        At each alpha, a feature is kept when one of its increments is non-zero or
        its gradient at the previous solution passes the strong rule
        ``|grad| >= 2 alpha - alpha_prev``; the others are pinned at zero while the
        problem is solved, then the KKT conditions are checked on all features and the
        violators released until none is left, so the result is the full solution.
        Each solve starts from the previous solution with the curvature learnt
        along the path (the loss is the same, only the penalty moves).

        Yields ``(intercepts, psi, n_iter)`` per alpha; the alphas whose solve stopped
        without meeting ``tol`` are collected in ``self.not_converged``.
        """
        self.not_converged = []
        a, psi = self.null_start()
        grad_psi, previous, history = None, None, []
        for alpha in alphas:
            if grad_psi is None:
                kept = np.ones(self.n_features, dtype=bool)
            else:
                strong = np.abs(grad_psi) >= (2 * alpha - previous) * self.factor
                kept = np.any(strong | (psi != 0), axis=1)
            n_iter = 0
            while True:
                a, psi, it, _, ok, grad_psi = self.solve(
                    alpha, (a, psi), tol, max_iter, kept=kept, history=history
                )
                n_iter += it
                violated = ~kept & np.any(np.abs(grad_psi) > alpha * self.factor + tol, axis=1)
                if not violated.any():
                    break
                kept |= violated
            previous = alpha
            if not ok:  # the last solve is the solution
                self.not_converged.append(float(alpha))
            yield a, psi, n_iter

    def alpha_max(self, tol=1e-8):
        """Smallest alpha at which every penalised increment is zero, and that solution."""
        big = np.where(self.factor > 0, np.inf, 0.0)
        a, psi, *_, grad_psi = owlqn(
            self.loss, *self.null_start(), big, tol=tol, max_iter=100_000, name=self.name
        )
        penalised = self.factor > 0
        return float(np.abs(grad_psi[penalised]).max()), (a, psi)
