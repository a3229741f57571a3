"""PRESTO: one slope vector per threshold, L1-shrunk towards proportional odds."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._convergence import warn_not_converged
from ._base import CumulativeLinkClassifier
from ._kernels import LINKS
from ._solver import (
    CumulativeLinkLoss,
    fista,
    intercept_only_thresholds,
    kkt_violation,
    psi_to_slopes,
    slopes_gradient_to_psi,
)

__all__ = ["PRESTOClassifier"]


class PRESTOClassifier(CumulativeLinkClassifier):
    """PRESTO ordinal regression: non-parallel slopes shrunk towards proportional odds.

    ``P(y <= k | x) = F(intercept_[k] + x @ coef_[:, k])`` with its own slope
    vector per threshold, fitted by penalised maximum likelihood

    .. math::

        -\\frac{1}{n}\\sum_i \\log P(y_i | x_i)
        + \\alpha \\sum_j \\Big(|\\beta_{j1}|
        + \\sum_{k \\ge 2} |\\beta_{jk} - \\beta_{j,k-1}|\\Big)

    (Faletto & Bien, ICML 2023).  Adjacent slopes are fused unless the data say
    otherwise, so the estimates of a rare top class borrow strength from the
    frequent thresholds.  A large ``alpha`` gives the proportional-odds model
    (all slopes equal; zero when ``penalize_first``), ``alpha=0`` the unpenalised
    non-parallel model.

    Read more in the :doc:`User Guide </user_guide/ordinal>`.

    Parameters
    ----------
    alpha : float, default=0.01
        Strength of the L1 penalty on the adjacent slope differences (on the
        standardized scale when ``standardize=True``).
    penalize_first : bool, default=True
        Also penalise the first slope vector ``|beta_1|`` (the paper's choice).
    standardize : bool, default=True
        Fit on standardized features; coefficients are reported on the original scale.
    crossing : {"sort", "clip", "raise"}, default="sort"
        Out of sample, non-parallel predictors can cross (a negative class
        probability).  ``"sort"`` rearranges each row's predictors monotonically,
        ``"clip"`` sets negative class probabilities to 0 and renormalises,
        ``"raise"`` raises.  :meth:`crossings` tells which rows cross.  Training
        predictors never cross: the solver rejects such steps.
    link : {"logit", "probit", "cloglog"}, default="logit"
        The cumulative distribution function ``F``.
    categories : array-like, default=None
        The ordered class labels, lowest first (e.g. ``["low", "mid", "high"]``).
        None takes the order of an ordered pandas Categorical ``y``, or sorts
        numeric (and boolean) labels; other labels without an order raise a
        ``ValueError``.
    tol : float, default=1e-6
        Stop when the largest violation of the optimality (KKT) conditions, on
        the gradient scale of the mean log-likelihood, is below ``tol``.
    max_iter : int, default=10000
        Maximum proximal-gradient iterations; a
        :class:`~sklearn.exceptions.ConvergenceWarning` says when they ran out
        before the KKT violation fell below ``tol``.
    warm_start : bool, default=False
        Start from the previous solution (useful along a path of ``alpha``).
    enforce_order : bool, default=False
        Constrain the fit so that the predictors of **every** training row are
        ordered (no negative class probability anywhere on the training data), as
        the paper's reference solver does.  By default only each row's own class
        must have positive probability (the domain of the likelihood); crossings
        for the other classes are then repaired like out-of-sample ones.  When the
        constraint is active at the optimum the solver follows a log-barrier path,
        which is exact (checked against SLSQP) but can be 10-100 times slower.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Classes in order.
    coef_ : ndarray of shape (n_features, n_classes - 1)
        Column k is the slope of threshold k, on the original feature scale.
    intercept_ : ndarray of shape (n_classes - 1,)
        Intercepts, on the original scale.
    n_iter_ : int
        Solver iterations.
    kkt_violation_ : float
        Largest KKT violation at the solution (standardized scale).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    PRESTOClassifierCV : chooses ``alpha`` by cross-validated Brier score.
    ProportionalOddsClassifier : the parallel model PRESTO shrinks towards.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_presto_data
    >>> from sklearn_losses.ordinal import PRESTOClassifier
    >>> X, y, _ = make_presto_data(n_samples=1000, random_state=0)
    >>> clf = PRESTOClassifier(alpha=0.005).fit(X, y)
    >>> clf.coef_.shape
    (10, 3)
    >>> clf.predict_proba(X[:2]).round(3)
    array([[0.347, 0.567, 0.07 , 0.016],
           [0.364, 0.572, 0.043, 0.02 ]])
    """

    _parameter_constraints = {
        **CumulativeLinkClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "penalize_first": ["boolean"],
        "standardize": ["boolean"],
        "crossing": [StrOptions({"sort", "clip", "raise"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "enforce_order": ["boolean"],
    }

    def __init__(
        self,
        alpha=0.01,
        *,
        penalize_first=True,
        standardize=True,
        crossing="sort",
        link="logit",
        categories=None,
        tol=1e-6,
        max_iter=10000,
        warm_start=False,
        enforce_order=False,
    ):
        self.alpha = alpha
        self.penalize_first = penalize_first
        self.standardize = standardize
        self.crossing = crossing
        self.link = link
        self.categories = categories
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.enforce_order = enforce_order

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the penalised non-parallel cumulative-link model.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Ordinal labels: numeric, an ordered pandas Categorical, or any labels
            listed in ``categories``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights; an integer weight equals repeating the row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        previous = (
            (self.coef_, self.intercept_, self.classes_)
            if (self.warm_start and hasattr(self, "coef_"))
            else None
        )
        X, codes, weight = self._validate_training_data(X, y, sample_weight)
        Xs, mean, scale = self._standardize(X, weight)
        problem = PrestoProblem(
            Xs,
            codes,
            weight,
            len(self.classes_),
            self.link,
            self.penalize_first,
            self.enforce_order,
        )
        start = None
        if (
            previous is not None
            and np.array_equal(previous[2], self.classes_)
            and previous[0].shape == (X.shape[1], len(self.classes_) - 1)
        ):
            slopes = previous[0] * scale[:, None]
            start = (previous[1] + mean @ previous[0], np.diff(slopes, axis=1, prepend=0.0))
        intercepts, psi, n_iter, kkt, converged = problem.solve(
            self.alpha, start, self.tol, self.max_iter
        )
        if not converged:
            warn_not_converged(
                type(self).__name__,
                self.max_iter,
                hint=f"its KKT violation is {kkt:.2e} > tol={self.tol}; raise max_iter or tol",
            )
        self._set_original_scale(intercepts, psi_to_slopes(psi), mean, scale)
        self.n_iter_ = n_iter
        self.kkt_violation_ = kkt
        return self


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
    ):
        self._args = (codes, weight, n_classes, link, penalize_first, enforce_order, name)
        self.name = name  # who reports a divergence
        self.loss = CumulativeLinkLoss(Xs, codes, weight, LINKS[link], enforce_order)
        self.n_thresholds = n_classes - 1
        self.n_features = Xs.shape[1]
        self.factor = np.ones((self.n_features, self.n_thresholds))
        self.factor[:, 0] = 1.0 if penalize_first else 0.0
        self.null_intercepts = intercept_only_thresholds(codes, weight, self.n_thresholds, link)
        self._lipschitz = 1.0

    def null_start(self):
        return self.null_intercepts.copy(), np.zeros((self.n_features, self.n_thresholds))

    def solve(self, alpha, start=None, tol=1e-6, max_iter=10000):
        """Solve at ``alpha`` from ``start`` (feasible) or from the intercept-only fit."""
        if start is not None and not np.isfinite(
            self.loss.value(start[0], psi_to_slopes(start[1]))
        ):
            start = None  # the previous solution crosses on these data
        a, psi = start if start is not None else self.null_start()
        penalty = alpha * self.factor
        a, psi, n_iter, kkt, self._lipschitz, stalled = fista(
            self.loss,
            a,
            psi,
            penalty,
            tol=tol,
            max_iter=max_iter,
            lipschitz=self._lipschitz,
            name=self.name,
        )
        if kkt <= tol or not stalled or not self.loss.enforce_order:
            return a, psi, n_iter, kkt, kkt <= tol
        # Stuck on the boundary of {training predictors ordered}: the optimum has active
        # ordering constraints, where cut-back steps jam.  Follow the central path of a
        # log barrier instead, warm-started, with a vanishing barrier weight.  The start is
        # pulled slightly towards the intercept-only fit, which is strictly inside.
        null_a, null_psi = self.null_start()
        a, psi = 0.999 * a + 0.001 * null_a, 0.999 * psi + 0.001 * null_psi
        converged = True
        for barrier in np.geomspace(1e-3, 1e-11, 5):
            self.loss.barrier = barrier
            a, psi, it, barrier_kkt, _, stalled = fista(
                self.loss,
                a,
                psi,
                penalty,
                tol=tol,
                max_iter=max_iter,
                check_every=50,
                name=self.name,
            )
            n_iter += it
            converged = converged and (barrier_kkt <= tol or stalled)
        self.loss.barrier = 0.0
        _, grad_a, grad_B = self.loss.value_and_gradient(a, psi_to_slopes(psi))
        kkt = kkt_violation(grad_a, slopes_gradient_to_psi(grad_B), psi, penalty)
        return a, psi, n_iter, kkt, converged

    def path(self, alphas, tol=1e-6, max_iter=10000):
        """Solutions along decreasing ``alphas``: warm starts and the sequential strong rule.

        At each alpha, a feature is kept when one of its increments is non-zero or
        its gradient at the previous solution passes the strong rule
        ``|grad| >= 2 alpha - alpha_prev``; the problem is solved on the kept
        columns only, then the KKT conditions are checked on all features and the
        violators added back until none is left, so the result is the full solution.

        Yields ``(intercepts, psi, n_iter)`` per alpha; the alphas whose solve stopped
        without meeting ``tol`` are collected in ``self.not_converged``.
        """
        self.not_converged = []
        a, psi = self.null_start()
        grad_psi, previous = None, None
        for alpha in alphas:
            if grad_psi is None:
                features = np.ones(self.n_features, dtype=bool)
            else:
                strong = np.abs(grad_psi) >= (2 * alpha - previous) * self.factor
                features = np.any(strong | (psi != 0), axis=1)
            n_iter = 0
            while True:
                a, sub_psi, it, ok = self._solve_on(
                    features, alpha, (a, psi[features]), tol, max_iter
                )
                n_iter += it
                psi = np.zeros_like(psi)
                psi[features] = sub_psi
                _, _, grad_B = self.loss.value_and_gradient(a, psi_to_slopes(psi))
                grad_psi = slopes_gradient_to_psi(grad_B)
                violated = ~features & np.any(np.abs(grad_psi) > alpha * self.factor + tol, axis=1)
                if not violated.any():
                    break
                features |= violated
            previous = alpha
            if not ok:  # the last solve is the solution
                self.not_converged.append(float(alpha))
            yield a, psi, n_iter

    def _solve_on(self, features, alpha, start, tol, max_iter):
        problem = (
            self
            if features.all()
            else PrestoProblem(np.ascontiguousarray(self.loss.X[:, features]), *self._args)
        )
        a, psi, n_iter, _, converged = problem.solve(alpha, start, tol, max_iter)
        return a, psi, n_iter, converged

    def alpha_max(self, tol=1e-8):
        """Smallest alpha at which every penalised increment is zero, and that solution."""
        big = np.where(self.factor > 0, np.inf, 0.0)
        a, psi, *_ = fista(
            self.loss, *self.null_start(), big, tol=tol, max_iter=100_000, name=self.name
        )
        _, _, grad_B = self.loss.value_and_gradient(a, psi_to_slopes(psi))
        grad_psi = slopes_gradient_to_psi(grad_B)
        penalised = self.factor > 0
        return float(np.abs(grad_psi[penalised]).max()), (a, psi)
