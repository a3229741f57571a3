"""Exact CCA, ridge CCA and PLS as one generalised eigenproblem."""

import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _check_feature_names, _check_n_features

from ..utils._dask import as_dask_arrays, columns_frame, is_dask_collection
from ..utils._threads import solver_threads
from ._base import TwoViewBase, canonical_directions
from ._loss import check_weight_total
from ._statistics import dask_view_moments, view_moments

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
        Exact solver (whitening and SVD) on the views' covariance matrix, computed
        block by block: ``fit`` also accepts dask arrays and DataFrames (out of
        core or on a cluster).  :class:`StochasticCCA` is the minibatch solver.

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
            First view: a NumPy array, a DataFrame, or a dask array or DataFrame
            (then reduced chunk by chunk, never gathered).
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
        if any(is_dask_collection(a) for a in (X, y, sample_weight)):
            return self._fit_dask(X, y, sample_weight)
        X, Y = self._validate_views(X, y)
        w = self._check_sample_weight(sample_weight, X)
        n_components = self._check_n_components(X, Y, w)
        # BLAS products (NumPy's pool) then LAPACK (SciPy's): pinned so they do not fight
        with solver_threads(X.size + Y.size):
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
                moments = view_moments(X, Y, sample_weight=w)
            return self._fit_moments(moments, X.shape[1], Y.shape[1], n_components)

    def _fit_dask(self, X, y, sample_weight):
        """:meth:`fit` on dask input: the statistics are reduced chunk by chunk."""
        if y is None:
            self._validate_views(X, y)  # the error for a missing second view
        _check_feature_names(self, columns_frame(X), reset=True)
        X, Y, w = as_dask_arrays(X, y, sample_weight, names=["X", "Y", "sample_weight"])
        _check_n_features(self, X, reset=True)
        self._y_one_column = Y.ndim == 1
        if Y.ndim == 1:
            Y = Y[:, None]
        if X.shape[0] < 2 or X.shape[1] < 1 or Y.shape[1] < 1:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows and 1 column in each view; got "
                f"X of shape {X.shape} and Y of shape {Y.shape}."
            )
        n_components = self._check_n_components(X, Y)  # the bound the shapes set
        moments = dask_view_moments(X, Y, w, name=type(self).__name__)
        if w is not None:
            check_weight_total(moments.weight, type(self).__name__)
            n_components = self._check_n_components(X, Y, n_positive=moments.n_positive)
        return self._fit_moments(moments, X.shape[1], Y.shape[1], n_components)

    def _fit_moments(self, moments, p, q, n_components):
        """The fit from the :class:`Moments` of the raw ``[X, Y]`` (no pass over the data)."""
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
            sums = self._standardize_moments(moments, p)
            n, c = moments.weight - 1.0, self.regularization
            cov_xx = (1 - c) * (sums[:p, :p] / n) + c * np.eye(p)
            cov_yy = (1 - c) * (sums[p:, p:] / n) + c * np.eye(q)
            cov_xy = sums[:p, p:] / n
        if not all(np.all(np.isfinite(cov)) for cov in (cov_xx, cov_yy, cov_xy)):
            raise ValueError(
                "CCA: the covariances of the views overflowed float64 (values too large "
                "with scale=False); rescale the views."
            )
        self.x_weights_, self.y_weights_, _, ranks = canonical_directions(
            cov_xx, cov_yy, cov_xy, n_components
        )
        rank_deficient = ranks[0] < p or ranks[1] < q
        if c == 0 and rank_deficient:
            warnings.warn(
                f"A view is rank deficient (ranks {ranks} for {p} and {q} "
                "features) and regularization=0: the canonical directions are fitted on its "
                "range and correlations may be spuriously high; set regularization > 0.",
                UserWarning,
                stacklevel=3,
            )
            if self.n_components is None:  # no more directions than the ranks carry
                n_components = max(1, min(n_components, *ranks))
                self.x_weights_ = self.x_weights_[:, :n_components]
                self.y_weights_ = self.y_weights_[:, :n_components]
        self.n_components_ = n_components
        # the views are centred: their cross-products about zero are the centred ones
        return self._finish_fit_from_sums(sums, sums, n)
