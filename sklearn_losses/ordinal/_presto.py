"""PRESTO: one slope vector per threshold, L1-shrunk towards proportional odds."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._convergence import warn_not_converged
from ..utils._threads import solver_threads
from ._base import CumulativeLinkClassifier
from ._solver import PrestoProblem, psi_to_slopes

__all__ = ["PRESTOClassifier"]


class PRESTOClassifier(CumulativeLinkClassifier):
    """PRESTO ordinal regression: non-parallel slopes shrunk towards proportional odds.

    ``P(y <= k | x) = F(intercept_[k] + x @ coef_[:, k])`` with its own slope
    vector per threshold, fitted by penalised maximum likelihood

    .. math::

        -\\frac{1}{\\sum_i w_i}\\sum_i w_i \\log P(y_i | x_i)
        + \\alpha \\sum_j \\Big(|\\beta_{j1}|
        + \\sum_{k \\ge 2} |\\beta_{jk} - \\beta_{j,k-1}|\\Big)

    with row weights ``w_i`` (``sample_weight``, ones by default) and the
    ``|beta_j1|`` term only when ``penalize_first`` (Faletto & Bien, ICML 2023).
    Adjacent slopes are fused unless the data say
    otherwise, so the estimates of a rare top class borrow strength from the
    frequent thresholds.  A large ``alpha`` gives the proportional-odds model
    (all slopes equal; zero when ``penalize_first``), ``alpha=0`` the unpenalised
    non-parallel model.

    Read more in the :doc:`User Guide </user_guide/ordinal>`.

    Parameters
    ----------
    alpha : float, default=0.01
        Strength of the L1 penalty on the adjacent slope differences, on the
        mean-loss scale (the objective above: the weighted mean negative
        log-likelihood plus ``alpha`` times the L1 norm).  Applied to the
        coefficients of the standardized features when ``scale=True``.
    penalize_first : bool, default=True
        Also penalise the first slope vector ``|beta_1|`` (the paper's choice).
    scale : bool, default=True
        Fit on standardized features; coefficients are reported on the original scale.
    crossing : {"sort", "clip", "raise"}, default="sort"
        Out of sample, non-parallel predictors can cross (a negative class
        probability).  ``"sort"`` rearranges each row's predictors monotonically,
        ``"clip"`` sets negative class probabilities to 0 and renormalises,
        ``"raise"`` raises.  :meth:`crossings` tells which rows cross.  Training
        rows are repaired the same way: the solver keeps only the two predictors
        that bracket each training row's own class ordered, so its other
        predictors may cross, unless ``enforce_order=True``.
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
        Maximum solver (OWL-QN) iterations; a
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
    verbose : int, default=0
        When positive, print the solver's iteration, objective and KKT
        violation to stdout every 100 iterations and when it stops (greater than
        1: every 5 iterations).

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes, sorted (the columns of :meth:`predict_proba`, as scikit-learn's
        scorers and metrics assume).
    categories_ : ndarray of shape (n_classes,)
        The classes in their order (``categories``, an ordered pandas ``Categorical``'s
        order, or sorted): threshold ``k`` separates ``categories_[:k + 1]`` from the
        rest.
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
    PRESTOClassifierCV : Chooses ``alpha`` by cross-validated Brier score.
    ProportionalOddsClassifier : The parallel model PRESTO shrinks towards.

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
        "scale": ["boolean"],
        "crossing": [StrOptions({"sort", "clip", "raise"})],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "warm_start": ["boolean"],
        "enforce_order": ["boolean"],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alpha=0.01,
        *,
        penalize_first=True,
        scale=True,
        crossing="sort",
        link="logit",
        categories=None,
        tol=1e-6,
        max_iter=10000,
        warm_start=False,
        enforce_order=False,
        verbose=0,
    ):
        self.alpha = alpha
        self.penalize_first = penalize_first
        self.scale = scale
        self.crossing = crossing
        self.link = link
        self.categories = categories
        self.tol = tol
        self.max_iter = max_iter
        self.warm_start = warm_start
        self.enforce_order = enforce_order
        self.verbose = verbose

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
            (self.coef_, self.intercept_, getattr(self, "categories_", self.classes_))
            if (self.warm_start and hasattr(self, "coef_"))
            else None
        )
        X, codes, weight = self._validate_training_data(X, y, sample_weight)
        self._warn_if_rare_class_is_interior(codes, weight)
        # every BLAS call of the fit, not only the solver's, on pinned pools (utils._threads)
        with solver_threads(X.size):
            Xs, mean, scale = self._standardize(X, weight)
            problem = PrestoProblem(
                Xs,
                codes,
                weight,
                len(self.classes_),
                self.link,
                self.penalize_first,
                self.enforce_order,
                verbose=self.verbose,
            )
            start = None
            if (
                previous is not None
                and np.array_equal(previous[2], self.categories_)
                and previous[0].shape == (X.shape[1], len(self.classes_) - 1)
            ):
                slopes = previous[0] * scale[:, None]
                start = (previous[1] + mean @ previous[0], np.diff(slopes, axis=1, prepend=0.0))
            intercepts, psi, n_iter, kkt, converged, _ = problem.solve(
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
