"""What the multiview estimators share: input, standardization, canonical form, output.

The input is one matrix whose column blocks are the views, or a list of views.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _check_feature_names_in,
    check_array,
    check_is_fitted,
    validate_data,
)

from ..utils.validation import check_sample_weight
from ._base import _paired_correlations
from ._loss import check_weight_total
from ._multiview_solver import canonical_form, view_edges

__all__ = ["MultiviewMixin"]


def _stack_views(X):
    """``(hstack(views), widths)`` when X is a list or tuple of 2-D arrays, else ``(X, None)``.

    A list of 2-D arrays (or DataFrames) is a list of views, as cca-zoo's ``fit([X1,
    X2, X3])``; any other input (a 2-D array, a DataFrame, nested lists of numbers) is
    one matrix whose column blocks are the views.
    """
    if not (
        isinstance(X, (list, tuple))
        and len(X) >= 2
        and all(getattr(view, "ndim", None) == 2 for view in X)
    ):
        return X, None
    views = [
        check_array(view, dtype=np.float64, input_name=f"view {i}") for i, view in enumerate(X)
    ]
    rows = {view.shape[0] for view in views}
    if len(rows) > 1:
        raise ValueError(
            f"The views must have the same number of rows; got shapes {[v.shape for v in views]}."
        )
    return np.hstack(views), tuple(view.shape[1] for view in views)


class MultiviewMixin(TransformerMixin, BaseEstimator):
    """Input, standardization, canonical form, transform and scoring of the multiview estimators.

    Subclasses call :meth:`_validate_fit_input` and :meth:`_finish_fit` (after setting
    ``mean_`` and ``std_``).
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "view_sizes": ["array-like", None],
        "method": [StrOptions({"mcca", "gcca"})],
        "regularization": [Interval(Real, 0, 1, closed="both"), "array-like"],
        "scale": ["boolean"],
    }

    # -- input -------------------------------------------------------------------------
    def _validate_fit_input(self, X):
        """Check X (a matrix or a list of views); set ``view_sizes_``, ``n_views_``."""
        X, from_list = _stack_views(X)
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2)
        self.view_sizes_ = self._resolve_view_sizes(X.shape[1], from_list)
        self.n_views_ = len(self.view_sizes_)
        return X

    def _validate_transform_input(self, X):
        check_is_fitted(self)
        X, from_list = _stack_views(X)
        if from_list is not None and from_list != self.view_sizes_:
            raise ValueError(
                f"The views have widths {from_list}, but {type(self).__name__} was fitted "
                f"with view_sizes_={self.view_sizes_}."
            )
        return validate_data(self, X, dtype=np.float64, reset=False)

    def _resolve_view_sizes(self, n_features, from_list):
        name = type(self).__name__
        if self.view_sizes is None:
            if from_list is not None:
                return from_list
            if n_features < 2:
                raise ValueError(
                    f"{name}: view_sizes=None splits the columns of X into two views, which "
                    f"needs at least 2 features; got {n_features} feature(s). Pass "
                    "view_sizes=(p1, p2, ...), the widths of the views in column order."
                )
            first = (n_features + 1) // 2
            return (first, n_features - first)
        sizes = np.asarray(self.view_sizes)
        if (
            sizes.ndim != 1
            or sizes.shape[0] < 2
            or not all(isinstance(size, Integral) for size in sizes.tolist())
            or np.any(sizes < 1)
        ):
            raise ValueError(
                f"{name}: view_sizes must be a sequence of at least two positive integers "
                f"(the widths of the views, in column order); got {self.view_sizes!r}."
            )
        sizes = tuple(int(size) for size in sizes)
        if sum(sizes) != n_features:
            raise ValueError(
                f"{name}: view_sizes={sizes} sums to {sum(sizes)}, but X has {n_features} "
                "feature(s)."
            )
        if from_list is not None and from_list != sizes:
            raise ValueError(f"{name}: the views have widths {from_list}, but view_sizes={sizes}.")
        return sizes

    def _regularization_per_view(self):
        """``regularization`` as one value per view, checked."""
        c = np.asarray(self.regularization, dtype=np.float64)
        if c.ndim == 0:
            return np.full(self.n_views_, float(c))
        if c.shape != (self.n_views_,) or not np.all((c >= 0) & (c <= 1)):
            raise ValueError(
                f"{type(self).__name__}: regularization must be a float in [0, 1] or one "
                f"such value per view ({self.n_views_} views); got {self.regularization!r}."
            )
        return c

    def _check_sample_weight(self, sample_weight, X):
        if sample_weight is None:
            return None
        name = type(self).__name__
        sample_weight = check_sample_weight(sample_weight, X, name)
        check_weight_total(sample_weight, name)
        return sample_weight

    def _check_n_components(self, n_positive):
        """``n_components``, or ``min(view_sizes_ + (n_positive - 1,))`` when None."""
        limit = min(*self.view_sizes_, n_positive - 1)
        if limit < 1:
            raise ValueError(
                f"{type(self).__name__} needs at least 2 rows of positive sample_weight; "
                f"got {n_positive}."
            )
        if self.n_components is None:
            return limit
        if self.n_components > limit:
            raise ValueError(
                f"n_components={self.n_components} must be <= min(view_sizes={self.view_sizes_}"
                f", n_samples - 1={n_positive - 1}) = {limit}; n_components=None takes as "
                "many as the data allow."
            )
        return int(self.n_components)

    def _set_standardization(self, mean, var):
        self.mean_ = mean
        self.std_ = np.sqrt(var) if self.scale else np.ones(len(mean))
        self.std_[~(self.std_ > 0)] = 1.0  # constant columns carry no signal; they score 0

    def _check_finite(self, *arrays):
        if not all(np.all(np.isfinite(a)) for a in arrays):
            raise ValueError(
                f"{type(self).__name__}: the views' moments overflowed float64 (values too "
                "large to centre, scale or multiply); rescale the views."
            )

    # -- canonical form ----------------------------------------------------------------
    def _finish_fit(self, weights, eigenvalues, cov, traces, score_cov=None):
        """Canonical form of per-view weights, from the covariance of the standardized views.

        ``cov`` is the views' joint covariance (``score_cov``, the covariance of the
        scores, is computed from it when not given).  Sets ``weights_``,
        ``eigenvalues_``, ``pairwise_correlations_``, ``correlations_`` and
        ``n_components_``.
        """
        k = weights[0].shape[1]
        if score_cov is None:
            stacked = np.zeros((sum(self.view_sizes_), self.n_views_ * k))
            edges = view_edges(self.view_sizes_)
            for v, W in enumerate(weights):
                stacked[edges[v] : edges[v + 1], v * k : (v + 1) * k] = W
            score_cov = stacked.T @ cov @ stacked
        weight_norms = np.array([(W**2).sum(axis=0) for W in weights])
        self.weights_, self.pairwise_correlations_ = canonical_form(
            weights, score_cov, weight_norms, self._regularization_per_view(), traces
        )
        upper = np.triu_indices(self.n_views_, 1)
        self.correlations_ = self.pairwise_correlations_[:, upper[0], upper[1]].mean(axis=1)
        self.eigenvalues_ = np.asarray(eigenvalues, dtype=np.float64)
        self.n_components_ = k
        return self

    # -- output ------------------------------------------------------------------------
    def transform_views(self, X):
        """The scores of each view, as a list (cca-zoo's ``transform``).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of array-like
            The views side by side (column blocks of widths ``view_sizes_``), or a
            list of the views.

        Returns
        -------
        scores : list of ndarray of shape (n_samples, `n_components_`)
            One array per view: ``(X_v - mean_v) / std_v @ weights_[v]``.
        """
        X = self._validate_transform_input(X)
        Xs = (X - self.mean_) / self.std_
        edges = view_edges(self.view_sizes_)
        return [Xs[:, edges[v] : edges[v + 1]] @ W for v, W in enumerate(self.weights_)]

    def transform(self, X):
        """The scores of every view, side by side.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of array-like
            The views side by side (column blocks of widths ``view_sizes_``), or a
            list of the views.

        Returns
        -------
        scores : ndarray of shape (n_samples, `n_views_` * `n_components_`)
            View by view: columns ``v * n_components_ + k`` hold component ``k`` of
            view ``v`` (:meth:`transform_views` returns them as a list).
        """
        return np.hstack(self.transform_views(X))

    def score(self, X, y=None, sample_weight=None):
        """Mean correlation between the views' scores (higher is better).

        The mean over components of the mean over pairs of views of
        ``corr(scores_v[:, k], scores_w[:, k])``: cca-zoo's ``score``, and for two
        views the mean canonical correlation of :meth:`CCA.score`.  On held-out data
        it is the criterion to tune ``regularization`` and ``n_components`` with
        ``GridSearchCV``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of array-like
            The views, as in :meth:`transform`.
        y : None
            Ignored.
        sample_weight : None
            Not supported; present for API compatibility.

        Returns
        -------
        score : float
            The mean correlation, in [-1, 1].
        """
        if sample_weight is not None:
            raise ValueError("score does not support sample_weight.")
        scores = self.transform_views(X)
        pairs = [
            _paired_correlations(scores[v], scores[w])
            for v in range(len(scores))
            for w in range(v + 1, len(scores))
        ]
        return float(np.mean(pairs))

    def get_feature_names_out(self, input_features=None):
        """Get the names of the output columns: ``<estimator>_view<v>_<k>``.

        Parameters
        ----------
        input_features : array-like of str or None, default=None
            Checked against the names seen in ``fit``, if any; not used otherwise.

        Returns
        -------
        feature_names_out : ndarray of str objects
            One name per column of :meth:`transform`, view by view.
        """
        check_is_fitted(self)
        _check_feature_names_in(self, input_features, generate_names=False)
        prefix = type(self).__name__.lower()
        return np.asarray(
            [
                f"{prefix}_view{v}_{k}"
                for v in range(self.n_views_)
                for k in range(self.n_components_)
            ],
            dtype=object,
        )
