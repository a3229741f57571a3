"""What the two-view estimators share: validation, centring, canonical form, scoring."""

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    MultiOutputMixin,
    RegressorMixin,
    TransformerMixin,
)
from sklearn.utils._param_validation import validate_params
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from ..utils.validation import check_sample_weight
from ._loss import check_weight_total


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


def _gram(A, B, sample_weight=None):
    """``A^T D B`` with ``D = diag(sample_weight)`` (``A^T B`` when None)."""
    return A.T @ B if sample_weight is None else (A * sample_weight[:, None]).T @ B


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


def _live_components(Xs, W, var, sample_weight=None):
    """Columns of ``Xs @ W`` whose variance is not rounding error (False: a dead component).

    A weight vector in the null space of the data has a score variance of the order
    of ``eps^2 * ||w||^2 * trace(C)`` (rounding); a Rayleigh quotient ``w^T C w /
    ||w||^2`` below ``eps * trace(C)`` is below the numerical rank tolerance of
    :func:`inverse_sqrt`, and such a component is treated as exactly zero.
    """
    squares = Xs**2 if sample_weight is None else Xs**2 * sample_weight[:, None]
    trace = squares.sum() / max(_dof(Xs.shape[0], sample_weight), 1)
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
        if sample_weight is None:
            return None
        name = type(self).__name__
        sample_weight = check_sample_weight(sample_weight, X, name)
        check_weight_total(sample_weight, name)
        return sample_weight

    def _standardize_views(self, X, Y, sample_weight=None):
        """Centre (and with ``scale``, scale) both views, by weighted moments when weighted."""
        if self.scale:
            (self.x_mean_, x_var), (self.y_mean_, y_var) = (
                _column_moments(X, sample_weight),
                _column_moments(Y, sample_weight),
            )
            self.x_std_, self.y_std_ = np.sqrt(x_var), np.sqrt(y_var)
        else:
            self.x_mean_ = _column_moments(X, sample_weight, variance=False)
            self.y_mean_ = _column_moments(Y, sample_weight, variance=False)
            self.x_std_, self.y_std_ = np.ones(X.shape[1]), np.ones(Y.shape[1])
        self.x_std_[self.x_std_ == 0] = 1.0  # constant columns carry no signal; they score 0
        self.y_std_[self.y_std_ == 0] = 1.0
        return (X - self.x_mean_) / self.x_std_, (Y - self.y_mean_) / self.y_std_

    def _check_n_components(self, X, Y, sample_weight=None):
        """The number of components to fit: ``n_components``, or the most the data allow.

        ``n_components=None`` resolves to ``min(n_features_X, n_features_Y, n_samples - 1)``
        (the rank that the cross-covariance of centred views can reach; with
        ``sample_weight``, ``n_samples`` counts the rows of positive weight); an
        integer above that limit is a ``ValueError``.  Returns the resolved number.
        """
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
        return float(_paired_correlations(*self.transform(X, y)).mean())


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
                raise ValueError(
                    f"{type(self).__name__}: {name} became non-finite when centred and scaled "
                    "(its values are too large to standardize in float64); rescale it."
                )

    def _finish_fit(self, Xs, Ys, sample_weight=None):
        """Rotate the weights into the canonical form of their span, then set the rest.

        Within the span of the current weights, the generalised eigenproblem is
        solved exactly (a K x K problem), so weights from any solver (the exact one,
        SGD on the Eckart-Young loss, or a network's last layer) end up B-orthonormal
        and sorted: for regularization=0 the scores have unit variance, are
        uncorrelated within a view and sorted by correlation; for regularization=1
        the weights are orthonormal, as in PLS-SVD.

        A component the views' rank cannot carry (regularization=0 with a
        rank-deficient view) gets zero weights in that view: its scores are 0, its
        correlation, loadings and share of ``coef_`` are 0 (never NaN).

        With ``sample_weight``, every covariance is weighted (``Xs^T D Ys / (sum(w)
        - 1)``, ``D = diag(w)``), as in the fit.
        """
        w = sample_weight
        c, n = self.regularization, _dof(Xs.shape[0], w)
        Wx, Wy = self.x_weights_, self.y_weights_
        Tx, Ty = Xs @ Wx, Ys @ Wy
        rot_x, rot_y, eigenvalues, _ = canonical_directions(
            (1 - c) * (_gram(Tx, Tx, w) / n) + c * (Wx.T @ Wx),
            (1 - c) * (_gram(Ty, Ty, w) / n) + c * (Wy.T @ Wy),
            _gram(Tx, Ty, w) / n,
            self.n_components_,
        )
        Wx, Wy = Wx @ rot_x, Wy @ rot_y
        Tx, Ty = Xs @ Wx, Ys @ Wy
        var_x, var_y = _column_moments(Tx, w)[1], _column_moments(Ty, w)[1]
        # scores of weights in (numerically) the null space of a view: exact zeros
        live_x = _live_components(Xs, Wx, var_x, w)
        live_y = _live_components(Ys, Wy, var_y, w)
        Wx, Tx, var_x = Wx * live_x, Tx * live_x, np.where(live_x, var_x, 1.0)
        Wy, Ty, var_y = Wy * live_y, Ty * live_y, np.where(live_y, var_y, 1.0)
        self.x_weights_, self.y_weights_ = Wx, Wy
        self.eigenvalues_ = eigenvalues
        self.canonical_correlations_ = np.diag(_gram(Tx, Ty, w)) / n / np.sqrt(var_x * var_y)
        self.x_loadings_ = _gram(Xs, Tx, w) / n / var_x
        self.y_loadings_ = _gram(Ys, Ty, w) / n / var_y
        # least-squares prediction of standardized Y from each X score, rescaled to act on
        # the original X (scikit-learn's PLS layout): Y ~ X @ coef_.T + intercept_
        standardized = self.x_weights_ @ ((_gram(Tx, Ys, w) / n) / var_x[:, None])
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
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Y = X @ self.coef_.T + self.intercept_
        return Y.ravel() if self._y_one_column else Y

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True
        tags.target_tags.required = True
        return tags
