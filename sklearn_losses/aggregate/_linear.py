"""Linear regression from bag-level responses, interpolating bag- and instance-level losses."""

import warnings
from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import _check_feature_names, check_is_fitted, validate_data

from ..utils._dask import as_dask_arrays, columns_frame, is_dask_collection, map_row_blocks
from ..utils._threads import solver_threads
from ..utils.validation import check_sample_weight, check_sparse_structure
from ._bags import check_bags
from ._scoring import BagScoreMixin
from ._statistics import BLOCK_ROWS, NormalEquations, accumulate_statistics

__all__ = ["AggregateLinearRegression"]


def _n_bags(stats):
    """Bags of positive weight (rows of positive weight when every row is its own bag)."""
    return int(stats.n_positive.sum()) if stats.ids is None else int(stats.ids.shape[0])


def _predict_block(X, coef, intercept):
    X = np.asarray(X, dtype=np.float64)
    if not np.all(np.isfinite(X)):
        raise ValueError("Input X contains NaN or infinity (in one of its row chunks).")
    return X @ coef + intercept


def _check_total_weight(stats, estimator):
    if not stats.weight.sum() > 0:
        raise ValueError(
            f"{type(estimator).__name__}: Sample weights must contain at least one non-zero number."
        )


def _in_memory(values, name):
    """A dask array or Series of one number per row, computed chunk by chunk into NumPy."""
    from ..utils._dask import _to_array, require_dask

    da = require_dask()
    values = _to_array(values, name, ndim=(1, 2))
    out = np.empty(values.shape, dtype=values.dtype)
    da.store(values, out, lock=False)
    return out


def _check_dask_input(estimator, X, y, bags, sample_weight, *, in_memory=False):
    """Lazy checks of dask ``fit`` input; sets ``n_features_in_`` and ``feature_names_in_``.

    Returns ``X`` as a dask array, ``y``, the bag codes (computed: one integer per
    row, in memory) with their number, and the weights; finiteness of ``X``,
    ``y`` and dask weights is checked chunk by chunk in the reduction.
    ``in_memory`` computes the weights too (one number per row), as the
    cross-validation needs them to assign bags to folds, and gives codes for
    ``bags=None`` (one bag per row).
    """
    if y is None:
        raise ValueError(f"{type(estimator).__name__} requires y to be passed, but y is None.")
    _check_feature_names(estimator, columns_frame(X), reset=True)
    (X,) = as_dask_arrays(X)
    if not is_dask_collection(y):
        y = np.asarray(y)
        if y.ndim not in (1, 2) or y.shape[0] != X.shape[0]:
            raise ValueError(f"y has shape {y.shape} but X has {X.shape[0]} rows.")
    X, y = as_dask_arrays(X, y, names=["X", "y"])
    n_samples, n_features = X.shape
    if n_samples == 0 or n_features == 0:
        raise ValueError(
            f"Found array with {n_samples} sample(s) and {n_features} feature(s) while a "
            "minimum of 1 is required."
        )
    if y.ndim == 2 and y.shape[1] != 1:
        raise ValueError(f"y must be 1-D (one response per row); got shape {y.shape}.")
    estimator.n_features_in_ = n_features
    if is_dask_collection(bags):
        bags = _in_memory(bags, "bags")
    if in_memory and is_dask_collection(sample_weight):
        sample_weight = _in_memory(sample_weight, "sample_weight").ravel()
    codes, n_keys = None, None
    if bags is not None or in_memory:
        codes = check_bags(bags, n_samples)
        n_keys = int(codes.max(initial=-1)) + 1
        if n_keys <= np.iinfo(np.int32).max:  # half the memory of the one array of n_samples
            codes = codes.astype(np.int32)
    if sample_weight is not None and not is_dask_collection(sample_weight):
        shape_only = np.empty((n_samples, 0))
        sample_weight = check_sample_weight(sample_weight, shape_only, type(estimator).__name__)
    return X, y, codes, n_keys, sample_weight


class AggregateLinearRegression(BagScoreMixin, RegressorMixin, BaseEstimator):
    """Least squares from bag-level responses, with the bag/instance interpolation rho.

    Rows come in bags whose individual responses are hidden: only each bag's mean
    response ``ybar_a`` is known.  With predictions ``f_i = x_i @ coef_ + intercept_``
    and their bag means ``fbar_a``, the estimator minimises (Javanmard et al.,
    ICLR 2024)

    .. math::

        \\frac{1}{2W}\\Big[(1 - \\rho) \\sum_a W_a (\\bar y_a - \\bar f_a)^2
        + \\rho \\sum_i w_i (\\bar y_{a(i)} - f_i)^2\\Big]
        + \\frac{\\alpha}{2} \\lVert coef \\rVert^2,

    with row weights ``w_i`` (``sample_weight``, ones by default), bag weights
    ``W_a = sum_{i in a} w_i`` and total weight ``W = sum_i w_i``: the weighted
    mean of the rho-interpolated loss (here half the squared error, as in
    :class:`~sklearn.linear_model.ElasticNet`) plus the L2 penalty on the
    mean-loss scale (the intercept is not penalised).  The instance-level sum is
    the bag-level sum plus the within-bag prediction variance
    ``sum_i w_i (f_i - fbar_a(i))^2``, so the bracket is also the bag-level loss
    plus ``rho`` times that variance.

    ``rho=0`` is the bag-level loss (unbiased, only as many effective samples as
    bags), ``rho=1`` the instance-level loss, equal to least squares on the
    broadcast bag means (lower variance, shrunk towards 0 by about ``1 / k`` for
    bags of size k); the within-bag prediction variance is exactly their
    difference.  Solved in closed form in O(n d^2) time from sufficient
    statistics (per-bag sums and the weighted Gram matrix: O(n_bags d + d^2)
    memory, never an n x n matrix), dense or sparse ``X``.

    Dask input: ``fit`` accepts dask arrays and dask DataFrames / Series for ``X``,
    ``y``, ``bags`` and ``sample_weight`` (NumPy ``bags`` / ``sample_weight`` beside
    a dask ``X`` too) and accumulates the statistics chunk by chunk without
    materialising ``X``; a bag may span chunks in any order.  The bag ids (one
    number per row, so dask ``bags`` must be numeric) are computed into memory
    and coded once, and each chunk's bag sums are added in place into one table
    of ``n_bags x n_features`` sums: besides a few chunks, the fit holds that
    table and one integer per row.  Finiteness is checked in each chunk as it is
    read.  The fitted attributes are NumPy arrays, so the model pickles and
    predicts on NumPy as usual; ``predict`` on dask input returns a lazy dask
    array.

    Scoring: ``score(X, y, bags=bags)`` is the R^2 of the bag means, the score for
    responses known only as bag aggregates; without ``bags`` it is the row-level
    R^2, meaningful only against row-level responses (against broadcast bag means
    it counts the within-bag spread of the predictions as error).  In model
    selection with metadata routing on, request ``bags`` for both fit and score
    (``set_fit_request(bags=True).set_score_request(bags=True)``) or pass
    ``scoring=make_bag_scorer()``, and split with ``GroupKFold`` on the bag ids so
    that no bag is cut between training and held-out rows.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the instance-level loss (equivalently, of the within-bag
        prediction variance).
    alpha : float, default=0.0
        L2 penalty on the mean-loss scale, ``alpha / 2 * ||coef_||^2`` in the
        objective above (the intercept is not penalised).  With one row per bag
        the fit is :class:`~sklearn.linear_model.Ridge` with
        ``alpha=alpha * sum(sample_weight)``.
    fit_intercept : bool, default=True
        Fit an intercept.

    Attributes
    ----------
    coef_ : ndarray of shape (n_features,)
        Coefficients.
    intercept_ : float
        Intercept.
    n_bags_ : int
        Number of bags seen in fit.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegressionCV : Chooses rho by grouped cross-validation.
    make_bag_scorer : Bag-level squared error as a ``scoring=`` object.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import (
    ...     AggregateLinearRegression, aggregate_responses, make_bags)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(2000, 3))
    >>> y = X @ [1.0, -2.0, 0.5] + rng.normal(scale=0.1, size=2000)
    >>> bags = make_bags(2000, 10, random_state=0)
    >>> y_bag = aggregate_responses(y, bags)  # what is observed
    >>> reg = AggregateLinearRegression(rho=0.0).fit(X, y_bag, bags=bags)
    >>> reg.coef_.round(1)
    array([ 1. , -2. ,  0.5])
    >>> round(reg.score(X, y_bag, bags=bags), 3)  # R^2 of the bag means
    0.998
    >>> round(reg.score(X, y_bag), 1)  # row-level R^2 against bag means: not a fair score
    -8.2
    """

    _parameter_constraints = {
        "rho": [Interval(Real, 0, 1, closed="both")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "fit_intercept": ["boolean"],
    }

    def __init__(self, rho=0.0, *, alpha=0.0, fit_intercept=True):
        self.rho = rho
        self.alpha = alpha
        self.fit_intercept = fit_intercept

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Fit from bag-level responses.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array or DataFrame} of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,)
            Each row's response or its bag's aggregate; only bag means are used,
            so both give the same fit.
        bags : array-like of shape (n_samples,), default=None
            Bag id of each row; None puts every row in its own bag (ordinary
            least squares).  Route it through meta-estimators with
            ``set_fit_request(bags=True)``.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights; an integer weight equals repeating the row.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if is_dask_collection(X):
            X, y, codes, n_keys, weight = _check_dask_input(self, X, y, bags, sample_weight)
        else:
            check_sparse_structure(X)  # before validate_data: scipy's conversions trust it
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True)
            codes = None if bags is None else check_bags(bags, X.shape[0])
            weight = check_sample_weight(sample_weight, X, type(self).__name__)
            n_keys = None if codes is None else int(codes.max(initial=-1)) + 1
        # one pass over row blocks, into one preallocated table of bag sums; BLAS products
        # (NumPy's pool, per block of rows) then a Cholesky solve (SciPy's), pinned
        with solver_threads(min(X.shape[0], BLOCK_ROWS) * X.shape[1]):
            stats = accumulate_statistics(X, y, codes, weight, n_keys=n_keys)
            del codes
            _check_total_weight(stats, self)
            stats.drop_empty_bags()
            equations = NormalEquations.from_statistics(stats, self.fit_intercept)
            self.coef_, self.intercept_, singular = equations.solve(self.rho, self.alpha)
        self.n_bags_ = _n_bags(stats)
        if singular and self.alpha == 0:
            warnings.warn(
                f"The normal equations are singular ({self.n_bags_} bags for "
                f"{X.shape[1]} features at rho={self.rho}); returning the minimum-norm "
                "solution. Use rho > 0 or alpha > 0, or more bags.",
                UserWarning,
                stacklevel=2,
            )
        return self

    def predict(self, X):
        """Predict each row's response.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array or DataFrame} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray or dask array of shape (n_samples,)
            The predicted response of each row (a lazy dask array for dask ``X``).
        """
        check_is_fitted(self)
        if is_dask_collection(X):  # lazy, row block by row block
            _check_feature_names(self, columns_frame(X), reset=False)
            (X,) = as_dask_arrays(X)
            if X.shape[1] != self.n_features_in_:
                raise ValueError(
                    f"X has {X.shape[1]} features, but {type(self).__name__} is expecting "
                    f"{self.n_features_in_} features as input."
                )
            block = partial(_predict_block, coef=self.coef_, intercept=self.intercept_)
            return map_row_blocks(block, X)
        check_sparse_structure(X)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float64, reset=False)
        return np.asarray(X @ self.coef_).ravel() + self.intercept_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags
