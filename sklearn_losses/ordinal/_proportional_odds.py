"""The proportional-odds (parallel cumulative link) model by exact maximum likelihood."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_consistent_length, check_is_fitted, validate_data

from ..utils._convergence import lbfgs
from ..utils._threads import solver_threads
from ..utils.validation import check_sample_weight
from ._base import CumulativeLinkClassifier, _lookup_codes
from ._inference import invert_information, proportional_odds_information
from ._kernels import LINKS
from ._solver import CumulativeLinkLoss, intercept_only_thresholds

__all__ = ["ProportionalOddsClassifier"]


class ProportionalOddsClassifier(CumulativeLinkClassifier):
    """Proportional-odds (cumulative link) ordinal regression by maximum likelihood.

    ``P(y <= k | x) = F(intercept_[k] + x @ coef_)`` with one slope vector shared
    by every threshold and increasing intercepts.  ``F`` is the logistic
    (proportional odds), normal (ordered probit) or complementary log-log
    (proportional hazards) distribution function.  Fitted with L-BFGS on the exact
    likelihood with analytic gradients; the intercepts are parametrised by their
    first value and log-gaps, so they stay ordered.

    Read more in the :doc:`User Guide </user_guide/ordinal>`.

    Parameters
    ----------
    alpha : float, default=0.0
        L2 penalty on the mean-loss scale: the objective is
        ``sum_i w_i * -log P(y_i | x_i) / sum_i w_i + alpha / 2 * ||coef||^2``
        (intercepts are not penalised).  Applied to the coefficients of the
        standardized features when ``scale=True``.
    link : {"logit", "probit", "cloglog"}, default="logit"
        The cumulative distribution function ``F``.
    scale : bool, default=True
        Penalise the coefficients of the standardized features (True) or the
        original coefficients (False).  The solver always works on standardized
        features (better conditioning) and coefficients are always reported on
        the original scale; without a penalty the fit does not depend on it.
    categories : array-like, default=None
        The ordered class labels, lowest first (e.g. ``["low", "mid", "high"]``).
        None takes the order of an ordered pandas Categorical ``y``, or sorts
        numeric (and boolean) labels; other labels without an order raise a
        ``ValueError``.
    tol : float, default=1e-8
        Gradient tolerance of L-BFGS.
    max_iter : int, default=1000
        Maximum L-BFGS iterations; a :class:`~sklearn.exceptions.ConvergenceWarning`
        says when they ran out.
    verbose : int, default=0
        When positive, print each L-BFGS iteration and its objective to stdout.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes, sorted (the columns of :meth:`predict_proba`, as scikit-learn's
        scorers and metrics assume).
    categories_ : ndarray of shape (n_classes,)
        The classes in their order (``categories``, an ordered pandas ``Categorical``'s
        order, or sorted): threshold ``k`` separates ``categories_[:k + 1]`` from the
        rest.
    coef_ : ndarray of shape (n_features, 1)
        The shared slope (one column, so that it has the layout of
        :class:`PRESTOClassifier`'s ``coef_``).
    intercept_ : ndarray of shape (n_classes - 1,)
        Increasing thresholds.
    n_iter_ : int
        L-BFGS iterations.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    PRESTOClassifier : One slope per threshold, shrunk towards proportional odds.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_presto_data
    >>> from sklearn_losses.ordinal import ProportionalOddsClassifier
    >>> X, y, _ = make_presto_data(n_samples=500, random_state=0)
    >>> clf = ProportionalOddsClassifier().fit(X, y)
    >>> clf.coef_.shape, clf.intercept_.shape
    ((10, 1), (3,))
    >>> bool((clf.predict_proba(X).sum(axis=1).round(12) == 1).all())
    True
    """

    _parameter_constraints = {
        **CumulativeLinkClassifier._parameter_constraints,
        "alpha": [Interval(Real, 0, None, closed="left")],
        "scale": ["boolean"],
        "tol": [Interval(Real, 0, None, closed="neither")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "verbose": ["verbose"],
    }

    def __init__(
        self,
        alpha=0.0,
        *,
        link="logit",
        scale=True,
        categories=None,
        tol=1e-8,
        max_iter=1000,
        verbose=0,
    ):
        self.alpha = alpha
        self.link = link
        self.scale = scale
        self.categories = categories
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the model by maximum likelihood.

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
        X, codes, weight = self._validate_training_data(X, y, sample_weight)
        # every BLAS call of the fit, not only the solver's, on pinned pools (utils._threads)
        with solver_threads(X.size):
            # always fitted on standardized features: the likelihood does not depend on the
            # coordinates, and badly scaled ones sent L-BFGS's first step into the region where
            # the probit probabilities underflow (it stopped there, at zero slopes); with
            # scale=False the penalty stays on the original coefficients, coef = beta / scale
            Xs, mean, scale = self._standardize(X, weight, force=True)
            penalty = self.alpha * (1.0 if self.scale else (1.0 / scale) ** 2)
            loss = CumulativeLinkLoss(Xs, codes, weight, LINKS[self.link])
            n_thresholds = len(self.classes_) - 1
            thresholds = intercept_only_thresholds(codes, weight, n_thresholds, self.link)
            gaps = np.maximum(np.diff(thresholds), 1e-6)
            start = np.concatenate([thresholds[:1], np.log(gaps), np.zeros(X.shape[1])])
            result = lbfgs(
                type(self).__name__,
                _objective,
                start,
                args=(loss, n_thresholds, penalty),
                max_iter=self.max_iter,
                tol=self.tol,
                n_entries=X.size,
                maxcor=20,
                verbose=self.verbose,
            )
            intercepts = _unpack_intercepts(result.x[:n_thresholds])
            slopes = result.x[n_thresholds:, None]
            self._set_original_scale(intercepts, slopes, mean, scale)
        self.n_iter_ = int(result.nit)
        return self

    def covariance(self, X, y, sample_weight=None):
        """Covariance of the parameters: the inverse observed information at the fit.

        The inverse Hessian of the weighted negative log-likelihood
        ``sum_i w_i * -log P(y_i | x_i)`` at the fitted parameters, on the original
        feature scale, for ``theta = concatenate([intercept_, coef_[:, 0]])`` (the
        intercepts first, as :meth:`marginal_effects` takes it).  ``X``, ``y`` and
        ``sample_weight`` must be the training data: the weights count as frequency
        weights (an integer weight is a repeated row; for survey or probability
        weights these are not the sampling errors).  Its diagonal's square roots are the
        usual standard errors of maximum likelihood, those of statsmodels'
        ``OrderedModel`` (``bse``).

        With ``alpha > 0`` the Hessian is that of the penalised objective (times the
        total weight): the covariance of the Laplace approximation to the posterior
        under the Gaussian prior that the L2 penalty is (on the standardized
        coefficients when ``scale=True``).  It is not the sampling covariance of the
        shrunk estimator, which is also biased towards zero; z-scores built on it are
        not frequentist tests.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The training data.
        y : array-like of shape (n_samples,)
            The training labels.
        sample_weight : array-like of shape (n_samples,), default=None
            The training weights.

        Returns
        -------
        covariance : ndarray of shape (n_classes - 1 + n_features, n_classes - 1 + n_features)
            Symmetric positive definite; intercepts first, then the slopes.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_losses.datasets import make_presto_data
        >>> from sklearn_losses.ordinal import ProportionalOddsClassifier
        >>> X, y, _ = make_presto_data(n_samples=500, random_state=0)
        >>> clf = ProportionalOddsClassifier().fit(X, y)
        >>> std_errors = np.sqrt(np.diag(clf.covariance(X, y)))
        >>> std_errors.shape
        (13,)
        """
        check_is_fitted(self)
        name = type(self).__name__
        X = validate_data(self, X, dtype=np.float64, order="C", reset=False)
        check_consistent_length(X, y)
        codes = _lookup_codes(y, getattr(self, "categories_", self.classes_), "categories_")
        weight = check_sample_weight(sample_weight, X, name)
        with solver_threads(X.size):
            # in standardized coordinates z = (x - mean) / scale (better conditioned)
            Z, mean, scale = self._standardize(X, weight, force=True)
            beta = self.coef_[:, 0] * scale
            hessian, gradient = proportional_odds_information(
                Z, codes, weight, self.intercept_ + mean @ self.coef_[:, 0], beta, self.link
            )
        n_thresholds = len(self.classes_) - 1
        # the penalty (alpha / 2) ||coef||^2 on the fit's features, times the total weight
        fit_scale = np.ones_like(scale) if self.scale else 1.0 / scale
        penalty = self.alpha * weight.sum() * fit_scale**2
        hessian[n_thresholds:, n_thresholds:] += np.diag(penalty)
        gradient[n_thresholds:] += penalty * beta
        # the fit stops on its mean-loss gradient in its own coordinates: check it there
        gradient[n_thresholds:] *= 1.0 if self.scale else scale
        if np.max(np.abs(gradient)) / weight.sum() > 1e-4 + 100 * self.tol:
            warnings.warn(
                f"{name}.covariance: the fitted parameters are not a stationary point of "
                "the (penalised) likelihood of these data (largest mean-loss gradient "
                f"{np.max(np.abs(gradient)) / weight.sum():.2e}); pass the training data, "
                "and check that the fit converged.",
                UserWarning,
                stacklevel=2,
            )
        inverse = invert_information(hessian, name)
        # back to the original scale: intercept = a_z - (mean / scale) @ beta_z,
        # coef = beta_z / scale
        T = np.eye(len(gradient))
        T[:n_thresholds, n_thresholds:] = -(mean / scale)
        T[n_thresholds:, n_thresholds:] = np.diag(1.0 / scale)
        covariance = T @ inverse @ T.T
        return 0.5 * (covariance + covariance.T)


def _unpack_intercepts(theta):
    """First threshold, then positive gaps exp(theta_k)."""
    return np.cumsum(np.concatenate([theta[:1], np.exp(theta[1:])]))


def _objective(theta, loss, n_thresholds, penalty):
    """Mean NLL plus ``sum_j penalty_j / 2 * beta_j^2`` and its gradient in ``theta``."""
    intercepts = _unpack_intercepts(theta[:n_thresholds])
    beta = theta[n_thresholds:]
    value, grad_a, grad_B = loss.value_and_gradient(intercepts, beta[:, None])
    if not np.isfinite(value):
        return np.inf, np.zeros_like(theta)
    grad = np.empty_like(theta)
    # chain rule through the cumulative sum of (first, exp(gaps))
    tail = np.cumsum(grad_a[::-1])[::-1]
    grad[0] = tail[0]
    grad[1:n_thresholds] = tail[1:] * np.exp(theta[1:n_thresholds])
    grad[n_thresholds:] = grad_B[:, 0] + penalty * beta
    return value + 0.5 * beta @ (penalty * beta), grad
