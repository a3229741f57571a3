"""Multiview CCA (MCCA and GCCA) of any number of views >= 2, exact."""

import warnings

import numpy as np
from sklearn.base import _fit_context

from ..utils._dask import is_dask_collection
from ..utils._threads import solver_threads
from ._loss import check_weight_total
from ._multiview_base import MultiviewMixin, is_dask_input
from ._multiview_solver import multiview_directions, view_edges
from ._statistics import dask_view_moments, view_moments

__all__ = ["MultiviewCCA"]


class MultiviewCCA(MultiviewMixin):
    """Multiview CCA of any number of views: MCCA (SUMCOR) and GCCA (MAXVAR), exact.

    Finds, for each component ``k``, one weight vector per view so that the scores
    ``X_v w_vk`` of the views are as correlated as possible, solved exactly as one
    generalised eigenproblem ``A u = lambda B u`` with ``B = blockdiag(B_v)``,
    ``B_v = (1 - c_v) Sigma_vv + c_v I`` (``c_v`` the ridge parameter of view ``v``):

    - ``method="mcca"`` (Kettenring's SUMCOR, cca-zoo's ``MCCA``): ``A`` holds the
      between-view covariances ``Sigma_vw`` (v != w); the eigenvalue is the sum of the
      pairwise covariances of the scores, ``sum_{v != w} u_v^T Sigma_vw u_w``, under
      ``sum_v u_v^T B_v u_v = 1``.  With two views it is :class:`CCA`.
    - ``method="gcca"`` (Carroll's MAXVAR, cca-zoo's ``GCCA``): ``A`` is the whole
      joint covariance; the eigenvectors are the shared latent that all views
      predict best (the top eigenvectors of ``sum_v X_v B_v^{-1} X_v^T``), carried to
      each view's features.  At ``c = 0`` the two methods give the same directions
      and GCCA's eigenvalues are MCCA's plus 1; with ridge they differ.

    ``regularization=c`` moves each view from CCA (0) through ridge CCA to PLS (1),
    as for :class:`CCA`.  Solved by whitening each view with the eigendecomposition of
    its ``B_v`` and one symmetric eigenproblem of the whitened ``A`` (its top
    eigenpairs only), from the joint covariance accumulated block by block:
    O(n p^2 + p^3) for ``p`` features in all, never an n x n matrix.
    :class:`StochasticMultiviewCCA` is the minibatch solver of the same problems.

    **Input.**  One matrix ``X`` whose column blocks are the views, of widths
    ``view_sizes`` (``make_multiview(..., return_concatenated=True)`` returns it):
    so that ``MultiviewCCA`` is a transformer like any other, in a ``Pipeline``
    (after a ``ColumnTransformer`` or a scaler) and in ``GridSearchCV`` or
    ``cross_val_score``, which split the rows of one matrix and cannot split a list
    of views.  A list of views ``[X_1, X_2, ...]`` (cca-zoo's ``fit(views)``) is
    accepted too, in ``fit``, ``transform`` and ``score``: it is the matrix
    ``hstack(views)`` with ``view_sizes`` taken from the views' widths.  ``fit``
    also takes dask arrays and DataFrames (the matrix, or a list of views, and
    ``sample_weight``): it reduces each chunk to its means and cross-products where
    it lies and merges them as a tree, out of core or on a ``dask.distributed``
    cluster; ``transform`` and ``transform_views`` of dask input are lazy dask arrays.

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components, at most ``min(view_sizes + [n_samples - 1])`` (a
        larger integer is a ``ValueError``).  None takes that minimum, further
        capped by the numerical rank of each view (a rank-deficient view at
        regularization 0 carries no more directions).  The number fitted is
        ``n_components_``.
    view_sizes : sequence of int or None, default=None
        Widths of the views, in column order: the first ``view_sizes[0]`` columns of
        X are the first view, and so on (at least two views; they must sum to the
        number of features).  None: the widths of the views when X is a list of
        views; otherwise two views, the first ``ceil(n_features / 2)`` columns and
        the rest (a matrix with one feature cannot be split: ``ValueError``).
    method : {"mcca", "gcca"}, default="mcca"
        The multiview formulation: MCCA (sum of pairwise covariances under the
        within-view constraints) or GCCA (a shared latent predicted by every view).
    regularization : float in [0, 1] or sequence of float, default=0.0
        Ridge parameter ``c_v`` of each view (one value for all, or one per view):
        0 is CCA, 1 is PLS.  With more features than samples in a view, ``c = 0``
        is degenerate (every direction of it reaches correlation 1): use ``c > 0``.
    scale : bool, default=True
        Scale each column to unit variance before fitting.

    Attributes
    ----------
    weights_ : list of ndarray of shape (n_features_v, `n_components_`)
        Weights of each view on its standardized columns, scaled so that
        ``w_vk^T B_v w_vk = 1``: at regularization 0 each view's training scores
        have unit variance (as :class:`CCA`'s), at 1 each view's weight vectors have
        unit norm.  The sign of a component makes the largest entry of the first
        view's weights positive.  A view that takes no part in a component (its part
        of the eigenvector is zero to rounding) has zero weights there.
    eigenvalues_ : ndarray of shape (`n_components_`,)
        The generalised eigenvalues, descending.  MCCA: the sum over ordered pairs
        of views of the scores' covariances under ``sum_v u_v^T B_v u_v = 1``
        (the canonical correlations for two views; ``(n_views - 1) * rho`` when every
        pair of views correlates ``rho``).  GCCA: the sum over views of each
        view's fit of the shared latent (in ``[0, n_views]``).
    correlations_ : ndarray of shape (`n_components_`,)
        For each component, the mean over pairs of views of the training
        correlation of their scores: the canonical correlations for two views, and
        the statistic :meth:`score` averages on held-out data (the per-component
        statistic of a permutation test).
    pairwise_correlations_ : ndarray of shape (`n_components_`, `n_views_`, `n_views_`)
        Training correlation of the scores of each pair of views, per component
        (ones on the diagonal).
    n_components_ : int
        Number of components fitted.
    view_sizes_ : tuple of int
        Widths of the views.
    n_views_ : int
        Number of views.
    mean_ : ndarray of shape (`n_features_in_`,)
        Column means (weighted with ``sample_weight``).
    std_ : ndarray of shape (`n_features_in_`,)
        Column standard deviations (ones without ``scale``; 1 for a constant column).
    n_features_in_ : int
        Number of features of X (all views).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of X, when it has string column names.

    See Also
    --------
    StochasticMultiviewCCA : The same problems by minibatch SGD on the Eckart-Young loss.
    CCA : Two views, with ``predict`` and loadings.
    sklearn_losses.datasets.make_multiview : Views with known multiview correlations.

    Notes
    -----
    Where eigenvalues are tied (e.g. a view with more columns than rows at
    regularization 0, where many directions reach correlation 1), every basis of
    the tied eigenspace solves the problem; the one fitted is the limit of ridge
    regularization ``c -> 0+`` (the weights of smallest norm first), so that the
    fit does not depend on rounding.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import MultiviewCCA
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, view_sizes = make_multiview(
    ...     3000, (6, 5, 4), correlations=(0.8, 0.4), return_concatenated=True, random_state=0
    ... )
    >>> mcca = MultiviewCCA(n_components=2, view_sizes=view_sizes).fit(X)
    >>> mcca.correlations_.round(1)  # mean pairwise correlation per component
    array([0.8, 0.4])
    >>> mcca.eigenvalues_.round(1)  # (n_views - 1) * correlation
    array([1.6, 0.8])
    >>> mcca.transform(X).shape  # 3 views x 2 components
    (3000, 6)
    >>> [scores.shape for scores in mcca.transform_views(X)]
    [(3000, 2), (3000, 2), (3000, 2)]
    """

    _parameter_constraints = {**MultiviewMixin._parameter_constraints}

    def __init__(
        self, n_components=None, *, view_sizes=None, method="mcca", regularization=0.0, scale=True
    ):
        self.n_components = n_components
        self.view_sizes = view_sizes
        self.method = method
        self.regularization = regularization
        self.scale = scale

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y=None, sample_weight=None):
        """Fit the multiview canonical directions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of array-like
            The views side by side (column blocks of widths ``view_sizes``), or a
            list of the views, each of shape (n_samples, n_features_v): NumPy
            arrays, DataFrames, or dask arrays or DataFrames (then reduced chunk by
            chunk to the views' means and cross-products, never gathered).
        y : None
            Ignored.
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
        if is_dask_input(X) or is_dask_collection(sample_weight):
            return self._fit_dask(X, sample_weight)
        X = self._validate_fit_input(X)
        w = self._check_sample_weight(sample_weight, X)
        c = self._regularization_per_view()
        n_positive = X.shape[0] if w is None else int(np.count_nonzero(w))
        n_components = self._check_n_components(n_positive)
        with solver_threads(X.size):
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
                moments = view_moments(X, sample_weight=w)
        return self._fit_moments(moments, c, n_components, X.size)

    def _fit_dask(self, X, sample_weight):
        """:meth:`fit` on dask input: the statistics are reduced chunk by chunk."""
        name = type(self).__name__
        parts, input_names, w = self._validate_dask_fit_input(X, sample_weight)
        c = self._regularization_per_view()
        n_components = self._check_n_components(parts[0].shape[0])  # the bound the shapes set
        moments = dask_view_moments(*parts, w, name=name, input_names=input_names)
        if w is not None:
            check_weight_total(moments.weight, name)
            n_components = self._check_n_components(moments.n_positive)
        return self._fit_moments(moments, c, n_components, moments.comoment.size, stacklevel=4)

    def _fit_moments(self, moments, c, n_components, n_entries, stacklevel=3):
        """The fit from the :class:`Moments` of the raw views (no pass over the data).

        ``n_entries`` is the number of entries the fit's products touch (for
        :func:`solver_threads`); ``stacklevel`` points the rank warning at the caller
        of ``fit``.
        """
        sizes = self.view_sizes_
        with solver_threads(n_entries):
            with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported below
                dof = moments.weight - 1.0
                self._set_standardization(moments.mean, np.diag(moments.comoment) / dof)
                cov = moments.comoment / dof / np.outer(self.std_, self.std_)
            self._check_finite(moments.mean, self.std_, cov)
            weights, eigenvalues, ranks = multiview_directions(
                cov, sizes, c, self.method, n_components
            )
        if any(rank < size for rank, size in zip(ranks, sizes)):
            warnings.warn(
                f"A view is rank deficient (ranks {tuple(ranks)} for view_sizes {sizes}) "
                "at its regularization: the directions are fitted on its range and "
                "correlations may be spuriously high; set regularization > 0.",
                UserWarning,
                stacklevel=stacklevel,
            )
            if self.n_components is None:  # no more directions than the ranks carry
                n_components = max(1, min(n_components, *ranks))
                weights = [W[:, :n_components] for W in weights]
                eigenvalues = eigenvalues[:n_components]
        edges = view_edges(sizes)
        traces = np.array([np.trace(cov[a:b, a:b]) for a, b in zip(edges[:-1], edges[1:])])
        return self._finish_fit(weights, eigenvalues, cov, traces)
