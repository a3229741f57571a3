"""What the multiview estimators share: input, standardization, canonical form, output.

The input is one matrix whose column blocks are the views, or a list of views: NumPy
(or anything ``check_array`` takes), or dask collections, which ``transform`` and
``score`` (and :class:`MultiviewCCA`'s ``fit``) handle chunk by chunk.
"""

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import (
    _assert_all_finite,
    _check_feature_names,
    _check_feature_names_in,
    _check_n_features,
    check_array,
    check_is_fitted,
    validate_data,
)

from ..utils._dask import (
    as_dask_arrays,
    columns_frame,
    is_dask_collection,
    map_row_blocks,
    reduce_row_blocks,
    require_dask,
)
from ._base import _paired_correlations
from ._loss import check_fit_weights
from ._multiview_solver import canonical_form, view_edges
from ._statistics import merge_moments, view_moments

__all__ = ["MultiviewMixin"]


def _is_view_list(X):
    """Whether X is a list (or tuple) of at least two 2-D arrays: a list of views."""
    return (
        isinstance(X, (list, tuple))
        and len(X) >= 2
        and all(getattr(view, "ndim", None) == 2 for view in X)
    )


def is_dask_input(X):
    """Whether X is a dask collection or a list of views of which one is."""
    return is_dask_collection(X) or (_is_view_list(X) and any(map(is_dask_collection, X)))


def _check_dask_shape(shape, min_samples, name=None):
    """``check_array``'s errors for too few rows or no column, from a dask array's shape."""
    context = "" if name is None else f" by {name}"
    for size, minimum, what in ((shape[0], min_samples, "sample"), (shape[1], 1, "feature")):
        if size < minimum:
            raise ValueError(
                f"Found array with {size} {what}(s) (shape={shape}) while a minimum of "
                f"{minimum} is required{context}."
            )


def _dask_views(X, name, min_samples=1):
    """X as dask arrays with the same row chunks: ``(parts, input_names, widths, columns)``.

    A list of views gives one part per view (named ``"view i"``, as :func:`_stack_views`
    names them) and their widths; any other X one part named ``"X"`` and None.
    ``columns`` carries the column names of X for scikit-learn's feature-name checks
    (a dask DataFrame's empty pandas frame, nothing for a list of views).  The shapes
    are checked as the NumPy path checks them (``min_samples`` rows in all).  Nothing
    is computed, except the partition lengths of a dask DataFrame whose lengths are
    unknown.
    """
    if not _is_view_list(X):
        (part,) = as_dask_arrays(X, names=["X"])
        _check_dask_shape(part.shape, min_samples, name)
        return [part], ("X",), None, columns_frame(X)
    names = tuple(f"view {i}" for i in range(len(X)))
    parts = [as_dask_arrays(view, names=[n])[0] for view, n in zip(X, names)]
    for part in parts:
        _check_dask_shape(part.shape, 1)
    if len({part.shape[0] for part in parts}) > 1:
        raise ValueError(
            "The views must have the same number of rows; got shapes "
            f"{[part.shape for part in parts]}."
        )
    _check_dask_shape((parts[0].shape[0], sum(part.shape[1] for part in parts)), min_samples, name)
    parts = as_dask_arrays(*parts, names=list(names), ndims=[(2,)] * (len(parts) - 1))
    return parts, names, tuple(part.shape[1] for part in parts), None


def _score_block(block, *, name, input_names, edges, mean, std, weights):
    """The scores of every view, side by side, on one block of dask input (checked).

    ``edges`` are the column offsets of the views; each view's columns are checked
    under its input name (``"X"``: as ``validate_data`` checks X, naming ``name``).
    """
    block = np.asarray(block, dtype=np.float64)
    for input_name, a, b in zip(input_names, edges[:-1], edges[1:]):
        _assert_all_finite(
            block[:, a:b],
            allow_nan=False,
            input_name=input_name,
            estimator_name=name if input_name == "X" else None,
        )
    Xs = (block - mean) / std
    view = view_edges([W.shape[0] for W in weights])
    return np.hstack([Xs[:, view[v] : view[v + 1]] @ W for v, W in enumerate(weights)])


def _score_moments(*blocks, block):
    """:func:`view_moments` of the scores of one row chunk (the blocks of its parts)."""
    return view_moments(block(np.hstack([np.asarray(part) for part in blocks])))


def _pairwise_correlations_from_comoment(comoment, n_views, k):
    """``corr(scores_v[:, j], scores_w[:, j])`` for each pair ``v < w`` and component ``j``.

    From the centred cross-products of the scores side by side (columns ``v * k + j``);
    0 where a score is constant, as :func:`_paired_correlations`.  Shape ``(n_pairs, k)``.
    """
    variances = np.diag(comoment)
    pairs = []
    for v in range(n_views):
        for w in range(v + 1, n_views):
            sv, sw = slice(v * k, (v + 1) * k), slice(w * k, (w + 1) * k)
            denom = np.sqrt(variances[sv] * variances[sw])
            cross = np.diag(comoment[sv, sw])
            pairs.append(np.divide(cross, denom, out=np.zeros(k), where=denom > 0))
    return np.array(pairs)


def _stack_views(X):
    """``(hstack(views), widths)`` when X is a list or tuple of 2-D arrays, else ``(X, None)``.

    A list of 2-D arrays (or DataFrames) is a list of views, as cca-zoo's ``fit([X1,
    X2, X3])``; any other input (a 2-D array, a DataFrame, nested lists of numbers) is
    one matrix whose column blocks are the views.
    """
    if not _is_view_list(X):
        ndims = [getattr(view, "ndim", None) for view in X] if isinstance(X, (list, tuple)) else []
        if 2 in ndims and 1 in ndims:  # views, one of them 1-D: not a matrix either
            raise ValueError(
                f"View {ndims.index(1)} of the list is 1-D; pass every view as a 2-D array "
                "(a single feature as view.reshape(-1, 1))."
            )
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

    def _validate_dask_fit_input(self, X, sample_weight):
        """:meth:`_validate_fit_input` of dask input (X or ``sample_weight`` a dask collection).

        Returns the views as dask arrays with the same row chunks (one part holding
        them all, or one per view of a list), their input names and the weights (a
        dask array or None); sets ``view_sizes_``, ``n_views_``, ``n_features_in_``
        and ``feature_names_in_`` (from a dask DataFrame's columns).  Nothing is
        computed.
        """
        name = type(self).__name__
        parts, input_names, from_list, columns = _dask_views(X, name, min_samples=2)
        _check_feature_names(self, columns, reset=True)
        *_, w = as_dask_arrays(
            parts[0], sample_weight, names=[input_names[0], "sample_weight"], ndims=[(1,)]
        )
        n_features = sum(part.shape[1] for part in parts)
        self.n_features_in_ = n_features
        self.view_sizes_ = self._resolve_view_sizes(n_features, from_list)
        self.n_views_ = len(self.view_sizes_)
        return parts, input_names, w

    def _dask_scoring(self, X):
        """Dask input to score: ``(parts, block)``, checked against the fit; lazy.

        ``parts`` are dask arrays with the same row chunks (X, or one per view of a
        list); ``block`` maps the side-by-side NumPy blocks of one row chunk to their
        checked scores.
        """
        check_is_fitted(self)
        name = type(self).__name__
        parts, input_names, from_list, columns = _dask_views(X, name)
        if from_list is not None and from_list != self.view_sizes_:
            raise ValueError(
                f"The views have widths {from_list}, but {name} was fitted with "
                f"view_sizes_={self.view_sizes_}."
            )
        _check_feature_names(self, columns, reset=False)
        if from_list is None:  # a list of the fitted widths has the fitted features
            _check_n_features(self, parts[0], reset=False)
        block = partial(
            _score_block,
            name=name,
            input_names=input_names,
            edges=view_edges([part.shape[1] for part in parts]),
            mean=self.mean_,
            std=self.std_,
            weights=list(self.weights_),
        )
        return parts, block

    def _transform_dask(self, X):
        """:meth:`transform` of dask input: a lazy dask array, block by block."""
        parts, block = self._dask_scoring(X)
        X = parts[0] if len(parts) == 1 else require_dask().concatenate(parts, axis=1)
        return map_row_blocks(block, X, self.n_views_ * self.n_components_)

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
        """None, or checked weights: finite, nonnegative, summing to more than 1."""
        return check_fit_weights(sample_weight, X, type(self).__name__)

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
            list of the views; NumPy, a DataFrame, or dask arrays or DataFrames.

        Returns
        -------
        scores : list of ndarray of shape (n_samples, `n_components_`)
            One array per view: ``(X_v - mean_v) / std_v @ weights_[v]``; lazy dask
            arrays on dask input (column blocks of :meth:`transform`'s one graph).
        """
        if is_dask_input(X):
            scores, k = self._transform_dask(X), self.n_components_
            return [scores[:, v * k : (v + 1) * k] for v in range(self.n_views_)]
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
            list of the views; NumPy, a DataFrame, or dask arrays or DataFrames.

        Returns
        -------
        scores : ndarray of shape (n_samples, `n_views_` * `n_components_`)
            View by view: columns ``v * n_components_ + k`` hold component ``k`` of
            view ``v`` (:meth:`transform_views` returns them as a list).  On dask
            input, a lazy dask array computed chunk by chunk.
        """
        if is_dask_input(X):
            return self._transform_dask(X)
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
            The views, as in :meth:`transform`.  On dask input the correlations come
            from the scores' means and cross-products, reduced chunk by chunk (the
            scores are never gathered); the float is computed.
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
        if is_dask_input(X):
            parts, block = self._dask_scoring(X)
            chunk = partial(_score_moments, block=block)
            moments = reduce_row_blocks(chunk, merge_moments, parts)
            pairs = _pairwise_correlations_from_comoment(
                moments.comoment, self.n_views_, self.n_components_
            )
            return float(np.mean(pairs))
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
