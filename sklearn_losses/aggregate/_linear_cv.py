"""Choosing rho by grouped cross-validation on held-out bag aggregates."""

from numbers import Integral

import numpy as np
from sklearn.base import _fit_context
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import validate_data

from ..utils._dask import is_dask_collection
from ..utils._threads import solver_threads
from ..utils.validation import check_sample_weight, check_sparse_structure
from ._bags import bag_pieces, cells_of_splits, check_bags, group_kfold
from ._linear import AggregateLinearRegression, _check_dask_input, _check_total_weight
from ._statistics import (
    BLOCK_ROWS,
    NormalEquations,
    accumulate_statistics,
    bag_products,
    sum_by,
)

__all__ = ["AggregateLinearRegressionCV", "default_rhos"]


def default_rhos(n_rhos=25, smallest=1e-3):
    """0 and a log-spaced grid from ``smallest`` to 1 (the optimum often sits near 0.01-0.2)."""
    return np.r_[0.0, np.geomspace(smallest, 1.0, n_rhos)]


def _check_rhos(rhos):
    """The rho grid as a float array: non-empty, 1-D, finite, in [0, 1]."""
    if rhos is None:
        return default_rhos()
    try:
        grid = np.asarray(rhos, dtype=np.float64)
    except (TypeError, ValueError):
        grid = None
    if (
        grid is None
        or grid.ndim != 1
        or grid.size == 0
        or not np.all(np.isfinite(grid))
        or grid.min() < 0
        or grid.max() > 1
    ):
        raise ValueError(
            f"rhos must be a non-empty 1-D grid of finite values in [0, 1], got {rhos!r}."
        )
    return grid


class AggregateLinearRegressionCV(AggregateLinearRegression):
    """:class:`AggregateLinearRegression` with rho chosen by grouped cross-validation.

    Folds never split a bag (:class:`~sklearn.model_selection.GroupKFold` on the
    bag ids) and each held-out fold is scored by the squared error of its bag
    means, the only labels available.  One pass over the rows computes the
    per-bag sums and the weighted Gram matrix of each fold's rows; a fold's
    training statistics are the total minus its held-out part, so there are no
    copies of ``X[train]`` and no refits from data, and the whole rho grid costs
    one d x d solve per value and fold (about 1.4 single fits in all).

    Dask input is accepted as in :class:`AggregateLinearRegression`; ``X`` and
    ``y`` are reduced chunk by chunk, while the bag ids and weights (one number
    per row each) are brought into memory to assign bags to folds.

    With fewer bags than about the number of features the choice is not robust:
    a fold then has too few bags to fit the bag-level end of the grid.

    ``score(X, y, bags=bags)`` is the R^2 of the bag means, as in
    :class:`AggregateLinearRegression`.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rhos : array-like, default=None
        Grid of finite rho in [0, 1]; None uses 0 and 25 log-spaced values from
        1e-3 to 1.
    alpha : float, default=0.0
        L2 penalty on the mean-loss scale, as in :class:`AggregateLinearRegression`:
        ``alpha / 2 * ||coef_||^2`` added to the weighted mean loss of each
        training fold and of the final refit.
    fit_intercept : bool, default=True
        Fit an intercept.
    cv : int or splitter, default=5
        Number of :class:`~sklearn.model_selection.GroupKFold` folds over the bags
        of positive total weight (bags whose weights are all zero carry nothing to
        fit or score, so they join no fold), or a splitter whose
        ``split(X, y, groups)`` receives the bag ids as groups.  A fold whose
        training or held-out rows have zero total weight is an error: it can be
        neither fitted nor scored, and skipping it would silently change the
        cross-validation.

    Attributes
    ----------
    rho_ : float
        The chosen rho.
    rhos_ : ndarray of shape (n_rhos,)
        The grid.
    cv_scores_ : ndarray of shape (n_rhos, n_folds)
        Held-out bag-level mean squared error.
    coef_ : ndarray of shape (n_features,)
        Coefficients refitted on all data at ``rho_``.
    intercept_ : float
        Intercept.
    n_bags_ : int
        Number of bags.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegression : One fit at a given rho.
    make_bag_scorer : Bag-level squared error for other searches.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import (
    ...     AggregateLinearRegressionCV, aggregate_responses, make_bags)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(1000, 20))
    >>> y = X @ rng.normal(size=20) / 4 + rng.normal(size=1000)
    >>> bags = make_bags(1000, 5, random_state=0)
    >>> reg = AggregateLinearRegressionCV().fit(X, aggregate_responses(y, bags), bags=bags)
    >>> reg.cv_scores_.shape
    (26, 5)
    """

    _parameter_constraints = {
        **AggregateLinearRegression._parameter_constraints,
        "rhos": ["array-like", None],
        "cv": [Interval(Integral, 2, None, closed="left"), "cv_object"],
    }
    _parameter_constraints.pop("rho")

    def __init__(self, rhos=None, *, alpha=0.0, fit_intercept=True, cv=5):
        self.rhos = rhos
        self.alpha = alpha
        self.fit_intercept = fit_intercept
        self.cv = cv

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Cross-validate rho on bag-level scores, then refit on all data.

        Parameters
        ----------
        X : {array-like, sparse matrix, dask array or DataFrame} of shape (n_samples, n_features)
            Features.
        y : array-like of shape (n_samples,)
            Responses or broadcast bag aggregates.
        bags : array-like of shape (n_samples,), default=None
            Bag ids (None: one bag per row).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        rhos = _check_rhos(self.rhos)
        dask_input = is_dask_collection(X)
        if dask_input:
            X, y, codes, _, weight = _check_dask_input(
                self, X, y, bags, sample_weight, in_memory=True
            )
        else:
            check_sparse_structure(X)  # before validate_data: scipy's conversions trust it
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, y_numeric=True)
            codes = check_bags(bags, X.shape[0])
            weight = check_sample_weight(sample_weight, X, type(self).__name__)
        cells, train_cells, test_cells, n_rows = self._cells(X, y, codes, weight)
        n_cells = train_cells.shape[1]
        keys, piece_bag, piece_cell, cut = bag_pieces(codes, cells, n_cells)
        # BLAS products (NumPy's pool) then Cholesky solves (SciPy's), pinned so they
        # do not fight
        with solver_threads(min(X.shape[0], BLOCK_ROWS) * X.shape[1]):
            # one pass over the rows: per-bag sums and the Gram matrix of each cell (fold)
            stats = accumulate_statistics(
                X, y, keys, weight, cells, n_keys=piece_bag.shape[0], n_cells=n_cells
            )
            del keys, cells
            _check_total_weight(stats, self)
            stats.drop_empty_bags()
            piece_bag, piece_cell = piece_bag[stats.ids], piece_cell[stats.ids]
            pieces = (stats.bag_weight, stats.bag_x, stats.bag_y)
            bag_sums = sum_by(piece_bag, *pieces) if cut else pieces
            between, rhs = bag_products(*bag_sums)
            gram = stats.gram.sum(axis=0)
            scores = []
            for i, (n_train, n_test) in enumerate(n_rows):
                for part, size, in_part in (
                    ("training", n_train, train_cells[i]),
                    ("held-out", n_test, test_cells[i]),
                ):
                    if not stats.weight[in_part].sum() > 0:
                        raise ValueError(
                            f"Fold {i} of the cross-validation has zero total sample_weight in "
                            f"its {part} rows ({size} rows), so it cannot be "
                            f"{'fitted' if part == 'training' else 'scored'}. Use a splitter "
                            "whose folds all hold bags of positive weight, or drop the "
                            "zero-weight rows."
                        )
                in_train, in_test = train_cells[i][piece_cell], test_cells[i][piece_cell]
                held_out = [part[in_test] for part in pieces]
                if cut:
                    held_out = sum_by(piece_bag[in_test], *held_out)
                if not cut and np.all(in_train | in_test):
                    # whole bags, every one either trained on or held out: total minus held-out
                    between_out, rhs_out = bag_products(*held_out)
                    fold_between, fold_rhs = between - between_out, rhs - rhs_out
                else:
                    training = [part[in_train] for part in pieces]
                    if cut:
                        training = sum_by(piece_bag[in_train], *training)
                    fold_between, fold_rhs = bag_products(*training)
                equations = NormalEquations(
                    fold_between,
                    fold_rhs,
                    gram - stats.gram[~train_cells[i]].sum(axis=0),
                    stats.weight[train_cells[i]].sum(),
                    stats.x_sum[train_cells[i]].sum(axis=0),
                    stats.y_sum[train_cells[i]].sum(),
                    self.fit_intercept,
                )
                out_weight, out_x, out_y = held_out
                X_bar, y_bar = out_x / out_weight[:, None], out_y / out_weight
                fold = []
                for rho in rhos:
                    coef, intercept, _ = equations.solve(rho, self.alpha)
                    errors = y_bar - (X_bar @ coef + intercept)
                    fold.append(out_weight @ errors**2 / out_weight.sum())
                scores.append(fold)
            self.rhos_ = rhos
            self.cv_scores_ = np.asarray(scores).T
            # the first rho of the grid whose mean score ties the best up to rounding (with
            # singleton bags every rho is the same model and the scores differ only by it)
            mean_scores = self.cv_scores_.mean(axis=1)
            best = mean_scores.min()
            self.rho_ = float(rhos[np.flatnonzero(mean_scores <= best + 1e-12 * abs(best))[0]])
            equations = NormalEquations.with_totals(between, rhs, gram, stats, self.fit_intercept)
            self.coef_, self.intercept_, _ = equations.solve(self.rho_, self.alpha)
        self.n_bags_ = int(bag_sums[0].shape[0])
        return self

    def _cells(self, X, y, codes, weight):
        """Each row's cell, the training and held-out cells of each fold, their row counts.

        With an integer ``cv`` the cells are the grouped folds (computed as
        :class:`~sklearn.model_selection.GroupKFold` does, without its loop over
        bags) and one cell of the rows of zero-weight bags, which join no fold.
        """
        if isinstance(self.cv, Integral):
            # zero-weight bags carry nothing to fit or score: fold only the others
            bag_weight = np.bincount(codes, weights=weight)
            kept = np.flatnonzero(bag_weight[codes] > 0)
            n_bags = np.count_nonzero(bag_weight > 0)
            if n_bags < self.cv:
                raise ValueError(
                    f"{n_bags} bags of positive weight (n_samples={X.shape[0]}) cannot be "
                    f"split into {self.cv} grouped folds."
                )
            fold_of_bag = np.full(bag_weight.shape[0], self.cv)
            fold_of_bag[bag_weight > 0] = group_kfold(np.bincount(codes)[bag_weight > 0], self.cv)
            cells = fold_of_bag[codes]
            rows_per_cell = np.bincount(cells, minlength=self.cv + 1)
            folds = np.arange(self.cv)
            test_cells = np.zeros((self.cv, self.cv + 1), dtype=bool)
            test_cells[folds, folds] = True
            train_cells = ~test_cells
            train_cells[:, self.cv] = False
            n_rows = [(kept.size - rows_per_cell[k], rows_per_cell[k]) for k in folds]
            return cells, train_cells, test_cells, n_rows
        splits = list(check_cv(self.cv).split(X, y, groups=codes))
        n_rows = [(len(train), len(test)) for train, test in splits]
        return (*cells_of_splits(splits, X.shape[0]), n_rows)
