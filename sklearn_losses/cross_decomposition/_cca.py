"""Exact CCA, ridge CCA and PLS as one generalised eigenproblem."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ._base import TwoViewBase, _dof, _gram, canonical_directions

__all__ = ["CCA"]


class CCA(TwoViewBase):
    """Canonical correlation analysis, from CCA through ridge CCA to PLS.

    Finds weights ``W_x, W_y`` maximising the correlation between the scores
    ``X W_x`` and ``Y W_y`` component by component: the top eigenvectors of the
    generalised eigenproblem ``A u = lambda B u`` with ``A`` the cross-covariance
    blocks and ``B = blockdiag((1 - c) C_xx + c I, (1 - c) C_yy + c I)``.
    ``regularization=c`` moves from CCA (0) through ridge CCA to PLS (1), the
    family that Chapman et al. (ICLR 2024) solve with one Eckart-Young loss.
    Solved exactly by whitening and an SVD, O(n p^2 + p^3).  At c=0 the scores are
    in canonical form: sorted by correlation, unit variance and uncorrelated
    within each view; at c=1 the weights are orthonormal and the scores those of
    PLS-SVD.

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components, at most ``min(n_features_X, n_features_Y, n_samples - 1)``
        (a larger integer is a ``ValueError``).  None takes as many as the data allow:
        that minimum, further capped at regularization=0 by the numerical rank of each
        view (a rank-deficient view carries no more canonical directions).  The number
        fitted is ``n_components_``.
    regularization : float in [0, 1], default=0.0
        Ridge parameter c: 0 is CCA, 1 is PLS (``PLSSVD``).  With more features than
        samples, c = 0 is degenerate (every direction reaches correlation 1): use c > 0.
    scale : bool, default=True
        Scale each column to unit variance before fitting.
    solver : {"eigh"}, default="eigh"
        Exact solver (whitening and SVD).  :class:`StochasticCCA` is the
        minibatch solver for data that does not fit in memory.

    Attributes
    ----------
    n_components_ : int
        Number of components fitted (``n_components``, or its resolution when None).
    x_weights_, y_weights_ : ndarray of shape (n_features, `n_components_`)
        Weights on the standardized views.  A component that a rank-deficient view
        cannot carry (regularization=0) has zero weights in it and scores 0.
    x_loadings_, y_loadings_ : ndarray of shape (n_features, `n_components_`)
        Covariance of each standardized column with each score.
    canonical_correlations_ : ndarray of shape (`n_components_`,)
        Training correlation of each pair of scores (descending for regularization=0).
    eigenvalues_ : ndarray of shape (`n_components_`,)
        The generalised eigenvalues, descending; equal to the correlations at c=0.
    coef_ : ndarray of shape (n_targets, n_features)
        Linear predictor of Y from X through the scores, acting on the original
        (unstandardized) X: ``predict(X) = X @ coef_.T + intercept_``
        (scikit-learn's PLS layout).  For each component, the least-squares
        regression of the standardized Y on that X score.
    intercept_ : ndarray of shape (n_targets,)
        Intercept of that predictor, ``y_mean_ - coef_ @ x_mean_``.  (scikit-learn's
        PLS estimators set ``intercept_ = y_mean`` and centre X inside ``predict``;
        here the identity above holds on uncentred X as stated.)
    x_mean_, x_std_, y_mean_, y_std_ : ndarray
        Standardization of the views.
    n_features_in_ : int
        Number of features of X.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of X, when it has string column names.

    See Also
    --------
    StochasticCCA : The same estimator fitted by stochastic gradient descent.
    DeepCCA : One neural network per view, then this CCA on their outputs.
    sklearn.cross_decomposition.CCA : NIPALS with deflation; ``score`` is R^2.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import CCA
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(2000, (10, 8), correlations=(0.9, 0.5), random_state=0)
    >>> cca = CCA(n_components=2).fit(X, Y)
    >>> cca.canonical_correlations_.round(2)
    array([0.9 , 0.51])
    >>> x_scores, y_scores = cca.transform(X, Y)
    >>> x_scores.shape
    (2000, 2)
    >>> CCA().fit(X, Y).n_components_  # None: as many as the data allow
    8
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "regularization": [Interval(Real, 0, 1, closed="both")],
        "scale": ["boolean"],
        "solver": [StrOptions({"eigh"})],
    }

    def __init__(self, n_components=None, *, regularization=0.0, scale=True, solver="eigh"):
        self.n_components = n_components
        self.regularization = regularization
        self.scale = scale
        self.solver = solver

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the canonical directions of two views.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Second view (named ``y`` for scikit-learn's meta-estimators).
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows (None: all 1): weighted means, standard
            deviations and covariances, each divided by ``sum(sample_weight) - 1``
            where the unweighted fit divides by ``n_samples - 1``, so that integer
            weights give exactly the fit on the rows repeated and zero weights the
            fit without those rows.  Finite, nonnegative, summing to more than 1,
            with at least two positive.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, Y = self._validate_views(X, y)
        w = self._check_sample_weight(sample_weight, X)
        n_components = self._check_n_components(X, Y, w)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            Xs, Ys = self._standardize_views(X, Y, w)
            self._check_standardized(Xs, Ys)
            n, c = _dof(X.shape[0], w), self.regularization
            cov_xx = (1 - c) * (_gram(Xs, Xs, w) / n) + c * np.eye(X.shape[1])
            cov_yy = (1 - c) * (_gram(Ys, Ys, w) / n) + c * np.eye(Y.shape[1])
            cov_xy = _gram(Xs, Ys, w) / n
        if not all(np.all(np.isfinite(cov)) for cov in (cov_xx, cov_yy, cov_xy)):
            raise ValueError(
                "CCA: the covariances of the views overflowed float64 (values too large "
                "with scale=False); rescale the views."
            )
        self.x_weights_, self.y_weights_, _, ranks = canonical_directions(
            cov_xx, cov_yy, cov_xy, n_components
        )
        rank_deficient = ranks[0] < X.shape[1] or ranks[1] < Y.shape[1]
        if c == 0 and rank_deficient:
            warnings.warn(
                f"A view is rank deficient (ranks {ranks} for {X.shape[1]} and {Y.shape[1]} "
                "features) and regularization=0: the canonical directions are fitted on its "
                "range and correlations may be spuriously high; set regularization > 0.",
                UserWarning,
                stacklevel=2,
            )
            if self.n_components is None:  # no more directions than the ranks carry
                n_components = max(1, min(n_components, *ranks))
                self.x_weights_ = self.x_weights_[:, :n_components]
                self.y_weights_ = self.y_weights_[:, :n_components]
        self.n_components_ = n_components
        return self._finish_fit(Xs, Ys, w)
