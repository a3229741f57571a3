"""What the two-view estimators share: validation, centring, canonical form, scoring."""

from functools import partial

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MultiOutputMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_n_features,
    check_array,
    check_is_fitted,
    validate_data,
)

from ..utils._dask import as_dask_arrays, columns_frame, is_dask_collection, map_row_blocks
from ._loss import check_fit_weights
from ._statistics import dask_view_moments, view_moments


@validate_params(
    {"x_scores": ["array-like"], "y_scores": ["array-like"]},
    prefer_skip_nested_validation=True,
)
def paired_correlations(x_scores, y_scores):
    """Correlation of each pair of score columns, ``corr(x_scores[:, k], y_scores[:, k])``.

    The quantity behind the two-view estimators' ``score`` (its mean over
    components) and ``canonical_correlations_`` (on the training scores).  A
    column with no variance has correlation 0, not NaN.

    Parameters
    ----------
    x_scores : array-like of shape (n_samples, n_components) or (n_samples,)
        Scores of the first view (e.g. the first output of ``transform(X, Y)``).
    y_scores : array-like of the same shape as ``x_scores``
        Scores of the second view.

    Returns
    -------
    correlations : ndarray of shape (n_components,)
        Pearson correlation of each pair of columns, in [-1, 1].

    See Also
    --------
    CCA.score : The mean of these correlations on held-out data.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import CCA, paired_correlations
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(4000, (5, 5), correlations=(0.9, 0.5), random_state=0)
    >>> cca = CCA(n_components=2).fit(X[:2000], Y[:2000])
    >>> paired_correlations(*cca.transform(X[2000:], Y[2000:])).round(1)  # held out
    array([0.9, 0.5])
    """
    x_scores = check_array(x_scores, input_name="x_scores", dtype=np.float64, ensure_2d=False)
    y_scores = check_array(y_scores, input_name="y_scores", dtype=np.float64, ensure_2d=False)
    if x_scores.shape != y_scores.shape:
        raise ValueError(
            f"x_scores and y_scores must have the same shape; got {x_scores.shape} and "
            f"{y_scores.shape}."
        )
    if x_scores.ndim == 1:
        x_scores, y_scores = x_scores[:, None], y_scores[:, None]
    return _paired_correlations(x_scores, y_scores)


def _paired_correlations(x_scores, y_scores):
    """:func:`paired_correlations` of 2-D float arrays, without validation."""
    xc = x_scores - x_scores.mean(axis=0)
    yc = y_scores - y_scores.mean(axis=0)
    denom = np.sqrt((xc**2).sum(axis=0) * (yc**2).sum(axis=0))
    return np.divide((xc * yc).sum(axis=0), denom, out=np.zeros(denom.shape), where=denom > 0)


def _correlations_from_comoment(comoment):
    """Paired correlations of ``[x_scores, y_scores]`` from their centred cross-products."""
    k = comoment.shape[0] // 2
    variances = np.diag(comoment)
    denom = np.sqrt(variances[:k] * variances[k:])
    cross = np.diag(comoment[:k, k:])
    return np.divide(cross, denom, out=np.zeros(k), where=denom > 0)


def _dof(n_rows, sample_weight=None):
    """Covariance denominator: ``n - 1``, or ``sum(w) - 1`` (integer weights = repeated rows)."""
    return n_rows - 1 if sample_weight is None else float(sample_weight.sum()) - 1.0


def _column_moments(A, sample_weight=None, variance=True):
    """Column means and variances (``ddof=1``; weighted: divided by ``sum(w) - 1``).

    Only the means when ``variance`` is False.
    """
    mean = A.mean(axis=0) if sample_weight is None else sample_weight @ A / sample_weight.sum()
    if not variance:
        return mean
    if sample_weight is None:
        return mean, A.var(axis=0, ddof=1)
    return mean, sample_weight @ (A - mean) ** 2 / _dof(A.shape[0], sample_weight)


def inverse_sqrt(matrix, *, rank_tol=None):
    """Symmetric inverse square root on the range of ``matrix`` and its numerical rank."""
    eigvals, eigvecs = np.linalg.eigh((matrix + matrix.T) / 2)
    tol = (
        rank_tol
        if rank_tol is not None
        else (eigvals.max(initial=0.0) * matrix.shape[0] * np.finfo(float).eps)
    )
    keep = eigvals > tol
    root = eigvecs[:, keep] / np.sqrt(eigvals[keep])
    return root @ eigvecs[:, keep].T, int(keep.sum())


def canonical_directions(cov_xx, cov_yy, cov_xy, n_components):
    """Weights whose scores are canonical: unit variance, uncorrelated, sorted.

    Solves the CCA generalised eigenproblem through whitening and an SVD:
    ``W_x = C_xx^{-1/2} U``, ``W_y = C_yy^{-1/2} V`` with ``U S V^T`` the SVD of
    ``C_xx^{-1/2} C_xy C_yy^{-1/2}``; S holds the canonical correlations.
    """
    root_x, rank_x = inverse_sqrt(cov_xx)
    root_y, rank_y = inverse_sqrt(cov_yy)
    U, S, Vt = np.linalg.svd(root_x @ cov_xy @ root_y, full_matrices=False)
    k = n_components
    return root_x @ U[:, :k], root_y @ Vt[:k].T, S[:k], (rank_x, rank_y)


def _quadratic_diag(W, M):
    """``diag(W^T M W)``: e.g. the score variances ``var(X W)`` from the covariance of X."""
    return np.einsum("ik,ik->k", W, M @ W)


def _affine_block(block, *, name, mean, std, weights, intercept=0.0):
    """``(block - mean) / std @ weights + intercept`` on one checked block of dask input."""
    block = np.asarray(block, dtype=np.float64)
    _assert_all_finite(block, allow_nan=False, input_name=name)
    return (block - mean) / std @ weights + intercept


def _ravel_block(function, block):
    return function(block).ravel()


def _component_signs(W):
    """+1 or -1 per column: the sign making its largest entry (in magnitude) positive.

    A component's sign is arbitrary (flipping both views' weights changes nothing);
    fixing it this way (scikit-learn's ``svd_flip``) makes the fitted weights a
    continuous function of the data, not of the rounding inside the SVD: fits on the
    same rows in another order or in other chunks agree.
    """
    largest = W[np.argmax(np.abs(W), axis=0), np.arange(W.shape[1])]
    return np.where(largest < 0, -1.0, 1.0)


def _live_components(W, var, trace):
    """Columns of ``X @ W`` whose variance is not rounding error (False: a dead component).

    A weight vector in the null space of the data has a score variance of the order
    of rounding, ``eps * ||w||^2 * trace(C)`` at most (``trace`` is ``trace(C)``);
    a Rayleigh quotient ``w^T C w / ||w||^2`` below ``eps * trace(C)`` is below the
    numerical rank tolerance of :func:`inverse_sqrt`, and such a component is
    treated as exactly zero.
    """
    floor = np.finfo(float).eps * (W**2).sum(axis=0) * trace
    return var > floor


class TwoViewMixin:
    """Validation, standardization and scoring shared by every two-view estimator."""

    def _validate_views(self, X, Y, reset=True):
        if Y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None "
                "(y is the second view)."
            )
        X = validate_data(self, X, dtype=np.float64, reset=reset, ensure_min_samples=2)
        Y = check_array(Y, input_name="Y", dtype=np.float64, ensure_2d=False, ensure_min_samples=2)
        if reset:
            self._y_one_column = Y.ndim == 1
        if Y.ndim == 1:
            Y = Y.reshape(-1, 1)  # a single target column, as scikit-learn's CCA
        if Y.shape[0] != X.shape[0]:
            raise ValueError(
                f"X and Y must have the same number of rows; got {X.shape[0]} and {Y.shape[0]}."
            )
        return X, Y

    def _check_sample_weight(self, sample_weight, X):
        """None, or checked weights: finite, nonnegative, summing to more than 1."""
        return check_fit_weights(sample_weight, X, type(self).__name__)

    def _standardize_views(self, X, Y, sample_weight=None):
        """Centre (and with ``scale``, scale) both views, by weighted moments when weighted."""
        if self.scale:
            (x_mean, x_var), (y_mean, y_var) = (
                _column_moments(X, sample_weight),
                _column_moments(Y, sample_weight),
            )
        else:
            x_mean = _column_moments(X, sample_weight, variance=False)
            y_mean = _column_moments(Y, sample_weight, variance=False)
            x_var = y_var = None
        self._set_standardization(x_mean, x_var, y_mean, y_var)
        return (X - self.x_mean_) / self.x_std_, (Y - self.y_mean_) / self.y_std_

    def _set_standardization(self, x_mean, x_var, y_mean, y_var):
        """Set ``x_mean_, x_std_, y_mean_, y_std_`` from column means and variances.

        The variances are ignored without ``scale`` (None is then allowed).
        """
        self.x_mean_, self.y_mean_ = x_mean, y_mean
        if self.scale:
            self.x_std_, self.y_std_ = np.sqrt(x_var), np.sqrt(y_var)
        else:
            self.x_std_, self.y_std_ = np.ones(len(x_mean)), np.ones(len(y_mean))
        self.x_std_[self.x_std_ == 0] = 1.0  # constant columns carry no signal; they score 0
        self.y_std_[self.y_std_ == 0] = 1.0

    def _check_n_components(self, X, Y, sample_weight=None, *, n_positive=None):
        """The number of components to fit: ``n_components``, or the most the data allow.

        ``n_components=None`` resolves to ``min(n_features_X, n_features_Y, n_samples - 1)``
        (the rank that the cross-covariance of centred views can reach; with
        ``sample_weight``, ``n_samples`` counts the rows of positive weight, or is
        ``n_positive`` when given); an integer above that limit is a ``ValueError``.
        Returns the resolved number.
        """
        if n_positive is not None:
            n = int(n_positive)
        else:
            n = X.shape[0] if sample_weight is None else int(np.count_nonzero(sample_weight))
        limit = min(X.shape[1], Y.shape[1], n - 1)
        if limit < 1:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows of positive sample_weight; got {n}."
            )
        if self.n_components is None:
            return limit
        if self.n_components > limit:
            raise ValueError(
                f"n_components={self.n_components} must be <= min(n_features_X="
                f"{X.shape[1]}, n_features_Y={Y.shape[1]}, n_samples - 1={n - 1}); "
                "n_components=None takes as many as the data allow."
            )
        return int(self.n_components)

    def fit_transform(self, X, y=None, **fit_params):
        """Fit, then return the scores of both views (``(x_scores, y_scores)``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        y : array-like of shape (n_samples, n_targets)
            Second view.
        **fit_params : dict
            Passed to ``fit`` (e.g. ``sample_weight``).

        Returns
        -------
        scores : tuple of ndarray
            The scores of the first and of the second view.
        """
        return self.fit(X, y, **fit_params).transform(X, y)

    def score(self, X, y, sample_weight=None):
        """Mean canonical correlation of held-out scores (higher is better).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        y : array-like of shape (n_samples, n_targets)
            Second view.
        sample_weight : None
            Not supported; present for API compatibility.

        Returns
        -------
        score : float
            The mean over components of corr(x_scores[:, k], y_scores[:, k]).
        """
        if sample_weight is not None:
            raise ValueError("score does not support sample_weight.")
        x_scores, y_scores = self.transform(X, y)
        if is_dask_collection(x_scores):
            # the scores' correlations from their moments, reduced chunk by chunk
            moments = dask_view_moments(x_scores, y_scores, None, name=type(self).__name__)
            return float(_correlations_from_comoment(moments.comoment).mean())
        return float(_paired_correlations(x_scores, y_scores).mean())


class TwoViewBase(
    TwoViewMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    RegressorMixin,
    MultiOutputMixin,
    BaseEstimator,
):
    """Linear two-view estimators (the signature of scikit-learn's cross decomposition).

    Subclasses set ``x_mean_, x_std_, y_mean_, y_std_, x_weights_, y_weights_``
    (weights act on standardized views) and call :meth:`_finish_fit` (with the
    fit's ``sample_weight``, if any).
    """

    def _check_standardized(self, Xs, Ys):
        """Finite input can overflow when centred or scaled (e.g. values near 1e308)."""
        for name, view, mean, std in (
            ("X", Xs, self.x_mean_, self.x_std_),
            ("Y", Ys, self.y_mean_, self.y_std_),
        ):
            if not (np.all(np.isfinite(view)) and np.all(np.isfinite(mean + std))):
                self._raise_not_standardizable(name)

    def _raise_not_standardizable(self, name):
        raise ValueError(
            f"{type(self).__name__}: {name} became non-finite when centred and scaled "
            "(its values are too large to standardize in float64); rescale it."
        )

    def _standardize_moments(self, moments, n_features_x):
        """Set the standardization from the :class:`Moments` of the raw ``[X, Y]``.

        Returns the centred cross-products of the standardized views, ``[Xs, Ys]^T D
        [Xs, Ys]`` (``D = diag(w)``), computed from the statistics alone.
        """
        p, dof = n_features_x, moments.weight - 1.0
        var = np.diag(moments.comoment) / dof if self.scale else None
        mean = moments.mean
        self._set_standardization(
            mean[:p], None if var is None else var[:p], mean[p:], None if var is None else var[p:]
        )
        for name, view_mean, std in (
            ("X", self.x_mean_, self.x_std_),
            ("Y", self.y_mean_, self.y_std_),
        ):
            if not np.all(np.isfinite(view_mean + std)):
                self._raise_not_standardizable(name)
        std = np.concatenate([self.x_std_, self.y_std_])
        return moments.comoment / std / std[:, None]

    def _finish_fit(self, Xs, Ys, sample_weight=None):
        """:meth:`_finish_fit_from_sums` for standardized views given as data.

        Their statistics are computed block by block (:func:`view_moments`); the
        views need not be centred (e.g. ``partial_fit``'s running standardization).
        """
        moments = view_moments(Xs, Ys, sample_weight=sample_weight)
        return self._finish_fit_from_sums(moments.gram(), moments.comoment, moments.weight - 1.0)

    def _finish_fit_from_sums(self, gram, comoment, dof):
        """Rotate the weights into the canonical form of their span, then set the rest.

        Everything comes from the cross-products of the standardized views ``Z =
        [Xs, Ys]``: ``gram = Z^T D Z`` and ``comoment = (Z - mean)^T D (Z - mean)``
        (``D = diag(w)``; equal when the views are centred), divided by ``dof``
        (``n - 1``, or ``sum(w) - 1``).  The scores' covariances are those of the
        weights, e.g. ``cov(Xs W) = W^T C_xx W``: no pass over the data.

        Within the span of the current weights, the generalised eigenproblem is
        solved exactly (a K x K problem), so weights from any solver (the exact one,
        SGD on the Eckart-Young loss, or a network's last layer) end up B-orthonormal
        and sorted: for regularization=0 the scores have unit variance, are
        uncorrelated within a view and sorted by correlation; for regularization=1
        the weights are orthonormal, as in PLS-SVD.

        A component the views' rank cannot carry (regularization=0 with a
        rank-deficient view) gets zero weights in that view: its scores are 0, its
        correlation, loadings and share of ``coef_`` are 0 (never NaN).
        """
        c, n = self.regularization, dof
        Wx, Wy = self.x_weights_, self.y_weights_
        p = Wx.shape[0]
        gxx, gyy, gxy = gram[:p, :p], gram[p:, p:], gram[:p, p:]
        rot_x, rot_y, eigenvalues, _ = canonical_directions(
            (1 - c) * (Wx.T @ gxx @ Wx / n) + c * (Wx.T @ Wx),
            (1 - c) * (Wy.T @ gyy @ Wy / n) + c * (Wy.T @ Wy),
            Wx.T @ gxy @ Wy / n,
            self.n_components_,
        )
        Wx, Wy = Wx @ rot_x, Wy @ rot_y
        var_x = _quadratic_diag(Wx, comoment[:p, :p]) / n
        var_y = _quadratic_diag(Wy, comoment[p:, p:]) / n
        # scores of weights in (numerically) the null space of a view: exact zeros
        live_x = _live_components(Wx, var_x, np.trace(gxx) / max(n, 1))
        live_y = _live_components(Wy, var_y, np.trace(gyy) / max(n, 1))
        Wx, var_x = Wx * live_x, np.where(live_x, var_x, 1.0)
        Wy, var_y = Wy * live_y, np.where(live_y, var_y, 1.0)
        signs = np.where(live_x, _component_signs(Wx), _component_signs(Wy))
        Wx, Wy = Wx * signs, Wy * signs
        self.x_weights_, self.y_weights_ = Wx, Wy
        self.eigenvalues_ = eigenvalues
        # correlations, loadings and the regression from the centred moments, as the
        # variances: mixing the uncentred gram of a partial_fit chunk (standardized with
        # the running mean, not its own) into them gave correlations above 1
        cxx, cyy, cxy = comoment[:p, :p], comoment[p:, p:], comoment[:p, p:]
        cross = Wx.T @ cxy / n  # cov(X scores, standardized Y)
        self.canonical_correlations_ = np.einsum("ki,ik->k", cross, Wy) / np.sqrt(var_x * var_y)
        self.x_loadings_ = cxx @ Wx / n / var_x
        self.y_loadings_ = cyy @ Wy / n / var_y
        # least-squares prediction of standardized Y from each X score, rescaled to act on
        # the original X (scikit-learn's PLS layout): Y ~ X @ coef_.T + intercept_
        standardized = self.x_weights_ @ (cross / var_x[:, None])
        self.coef_ = (standardized * self.y_std_ / self.x_std_[:, None]).T
        self.intercept_ = self.y_mean_ - self.coef_ @ self.x_mean_
        self._n_features_out = self.n_components_
        return self

    def transform(self, X, Y=None):
        """Canonical scores of X (and of Y when given).

        With ``set_output(transform="pandas")`` the X scores (returned alone, or
        first in the pair) are a DataFrame with columns named after the estimator
        (``cca0, cca1, ...``, see :meth:`get_feature_names_out`); the Y scores stay
        an array, as in scikit-learn's cross decomposition.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        Y : array-like of shape (n_samples, n_targets), default=None
            Second view.

        Returns
        -------
        x_scores : ndarray of shape (n_samples, `n_components_`)
            Returned alone when ``Y`` is None, else as ``(x_scores, y_scores)``.
        """
        check_is_fitted(self)
        if is_dask_collection(X) or is_dask_collection(Y):
            return self._transform_dask(X, Y)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        x_scores = (X - self.x_mean_) / self.x_std_ @ self.x_weights_
        if Y is None:
            return x_scores
        Y = check_array(Y, input_name="Y", dtype=np.float64, ensure_2d=False)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if Y.shape[1] != self.y_weights_.shape[0]:
            raise ValueError(
                f"Y has {Y.shape[1]} columns, but {type(self).__name__} was fitted with "
                f"{self.y_weights_.shape[0]}."
            )
        return x_scores, (Y - self.y_mean_) / self.y_std_ @ self.y_weights_

    @staticmethod
    def _score_block(name, mean, std, weights, intercept=0.0):
        """The blockwise function of a dask ``transform`` / ``predict``."""
        return partial(
            _affine_block, name=name, mean=mean, std=std, weights=weights, intercept=intercept
        )

    def _transform_dask(self, X, Y):
        """:meth:`transform` of dask input: lazy dask arrays, block by block."""
        _check_feature_names(self, columns_frame(X), reset=False)
        X, Y = as_dask_arrays(X, Y, names=["X", "Y"])
        _check_n_features(self, X, reset=False)
        k = self.n_components_
        x_scores = map_row_blocks(
            self._score_block("X", self.x_mean_, self.x_std_, self.x_weights_), X, k
        )
        if Y is None:
            return x_scores
        Y = Y[:, None] if Y.ndim == 1 else Y
        if Y.shape[1] != self.y_weights_.shape[0]:
            raise ValueError(
                f"Y has {Y.shape[1]} columns, but {type(self).__name__} was fitted with "
                f"{self.y_weights_.shape[0]}."
            )
        y_block = self._score_block("Y", self.y_mean_, self.y_std_, self.y_weights_)
        return x_scores, map_row_blocks(y_block, Y, k)

    def inverse_transform(self, X):
        """Reconstruct the first view from its scores (least squares through the loadings).

        Parameters
        ----------
        X : array-like of shape (n_samples, `n_components_`)
            X scores.

        Returns
        -------
        X_reconstructed : ndarray of shape (n_samples, n_features)
            The first view as the loadings reconstruct it from the scores.
        """
        check_is_fitted(self)
        X = check_array(X, dtype=np.float64)
        if X.shape[1] != self.x_loadings_.shape[1]:
            raise ValueError(
                f"X has {X.shape[1]} columns; inverse_transform expects the "
                f"{self.x_loadings_.shape[1]} scores of transform."
            )
        return X @ self.x_loadings_.T * self.x_std_ + self.x_mean_

    def predict(self, X):
        """Predict the second view from the first through the canonical scores.

        ``X @ coef_.T + intercept_``: for each component, the least-squares
        prediction of the (standardized) second view from that X score, summed
        and put back on the second view's scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.

        Returns
        -------
        Y_pred : ndarray of shape (n_samples, n_targets)
            A 1-D array when the second view had one column.
        """
        check_is_fitted(self)
        if is_dask_collection(X):
            _check_feature_names(self, columns_frame(X), reset=False)
            (X,) = as_dask_arrays(X, names=["X"])
            _check_n_features(self, X, reset=False)
            block = self._score_block("X", 0.0, 1.0, self.coef_.T, self.intercept_)
            if self._y_one_column:
                return map_row_blocks(partial(_ravel_block, block), X)
            return map_row_blocks(block, X, self.coef_.shape[0])
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Y = X @ self.coef_.T + self.intercept_
        return Y.ravel() if self._y_one_column else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.required = True
        return tags
