"""Sufficient statistics of the aggregate least-squares problem: one definition for all inputs.

:class:`AggregateLinearRegression` and :class:`AggregateLinearRegressionCV` need
only, per bag ``a``, its total weight ``W_a``, its weighted feature sum
``S_a = sum_{i in a} w_i x_i`` and response sum ``T_a = sum_{i in a} w_i y_i``, and,
over the rows of each *cell* (all rows for a single fit, the rows of one
cross-validation fold for the CV estimator), the weighted moments ``W``, ``sum w x``,
``sum w y``, ``X^T W X`` and ``X^T W y``.  Both reduce over row blocks in any order:
:func:`chunk_statistics` computes them for one block of rows (a NumPy array, a CSR
matrix, or one chunk of a dask array) and :func:`combine` merges two of them,
adding the moments and merging the bag sums by bag id (a groupby-style reduction,
so a bag may span blocks in any order).  NumPy input is one block; dask input is
reduced chunk by chunk with :func:`~sklearn_losses.utils._dask.reduce_row_blocks`.
The normal equations (:class:`NormalEquations`) are then built from the statistics
alone: the data are never touched again.
"""

import numpy as np
from scipy import sparse
from scipy.linalg import LinAlgError, cho_factor, cho_solve

__all__ = ["AggregateStatistics", "NormalEquations", "bag_products", "chunk_statistics", "combine"]

_BLOCK = 65536  # rows per block of the weighted Gram matrix: O(block * d) extra memory


class AggregateStatistics:
    """Per-bag sums and per-cell moments of rows (O(n_bags d + n_cells d^2) memory).

    Attributes
    ----------
    ids : ndarray of shape (n_bags,) or None
        Sorted bag ids (None: every row is its own bag and no bag sums are kept;
        the bag-level products are then the row-level moments).
    bag_weight, bag_x, bag_y : ndarray of shape (n_bags,), (n_bags, d), (n_bags,)
        ``W_a``, ``S_a`` and ``T_a`` of each bag.
    weight, n_positive, x_sum, y_sum : ndarrays of n_cells rows
        Per cell: total weight, number of rows of positive weight, ``sum w x`` (a
        d-vector), ``sum w y``.
    gram, xy : ndarray of shape (n_cells, d, d), (n_cells, d)
        Per cell: ``X^T W X`` and ``X^T W y``.
    """

    def drop_empty_bags(self):
        """Remove bags of zero total weight (they carry nothing to fit or score)."""
        if self.ids is not None:
            keep = self.bag_weight > 0
            if not keep.all():
                self.ids = self.ids[keep]
                self.bag_weight = self.bag_weight[keep]
                self.bag_x = self.bag_x[keep]
                self.bag_y = self.bag_y[keep]
        return self


def _check_block(X, y, keys, weight):
    """Finiteness (and signs of the weights) of one block of rows, with a clear error."""
    values = X.data if sparse.issparse(X) else X
    if not np.all(np.isfinite(values)):
        raise ValueError("Input X contains NaN or infinity (in one of its row chunks).")
    if not np.all(np.isfinite(y)):
        raise ValueError("Input y contains NaN or infinity (in one of its row chunks).")
    if keys is not None and keys.dtype.kind == "f" and not np.all(np.isfinite(keys)):
        raise ValueError("bags contains NaN or infinite ids.")
    if weight is not None:
        if not np.all(np.isfinite(weight)):
            raise ValueError("sample_weight contains NaN or infinity (in one of its row chunks).")
        if np.any(weight < 0):
            raise ValueError("Negative values in data passed to sample_weight.")


def chunk_statistics(X, y, keys, weight, cells=None, *, n_keys=None, n_cells=1, check=False):
    """The :class:`AggregateStatistics` of one block of rows.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_rows, d)
        Features.
    y : ndarray of shape (n_rows,) or (n_rows, 1)
        Responses (or broadcast bag aggregates).
    keys : ndarray of shape (n_rows,) or None
        Bag id of each row (None: every row is its own bag).  With ``n_keys`` they
        are codes ``0..n_keys-1`` and no sorting is needed.
    weight : ndarray of shape (n_rows,) or None
        Non-negative row weights (None: ones).
    cells : ndarray of shape (n_rows,) or None
        Cell code ``0..n_cells-1`` of each row (None: all rows in cell 0).
    check : bool
        Check finiteness and weights here (dask input, which is not validated
        up front).
    """
    if y.ndim == 2:
        y = y[:, 0]
    if keys is not None and keys.ndim == 2:
        keys = keys[:, 0]
    if weight is not None and weight.ndim == 2:
        weight = weight[:, 0]
    if check:
        _check_block(X, y, keys, weight)
    if not sparse.issparse(X):
        X = np.asarray(X, dtype=np.float64)
    y = np.asarray(y, dtype=np.float64)
    n_rows, d = X.shape
    weight = np.ones(n_rows) if weight is None else np.asarray(weight, dtype=np.float64)
    stats = AggregateStatistics()
    stats.ids = None
    if keys is not None:
        if n_keys is None:
            stats.ids, inverse = np.unique(keys, return_inverse=True)
            inverse = inverse.ravel()
        else:
            stats.ids, inverse = np.arange(n_keys), np.asarray(keys, dtype=np.intp)
        n_bags = stats.ids.shape[0]
        # one entry per column: the scatter-add S_a = sum_{i in a} w_i x_i without a sort
        op = sparse.csc_matrix((weight, inverse, np.arange(n_rows + 1)), shape=(n_bags, n_rows))
        bag_x = op @ X
        stats.bag_x = bag_x.toarray() if sparse.issparse(bag_x) else np.asarray(bag_x)
        stats.bag_weight = np.bincount(inverse, weights=weight, minlength=n_bags)
        stats.bag_y = np.bincount(inverse, weights=weight * y, minlength=n_bags)
    stats.weight = np.zeros(n_cells)
    stats.n_positive = np.zeros(n_cells, dtype=np.int64)
    stats.x_sum = np.zeros((n_cells, d))
    stats.y_sum = np.zeros(n_cells)
    stats.gram = np.zeros((n_cells, d, d))
    stats.xy = np.zeros((n_cells, d))
    for start in range(0, n_rows, _BLOCK):
        rows = slice(start, start + _BLOCK)
        if cells is None:
            _add_moments(stats, 0, X[rows], y[rows], weight[rows])
            continue
        # one gather of the block's rows, sorted by cell; each cell is then a slice
        block_cells = np.asarray(cells[rows], dtype=np.int16 if n_cells < 2**15 else np.intp)
        order = np.argsort(block_cells, kind="stable")
        X_sorted = X[rows][order] if sparse.issparse(X) else X[rows].take(order, axis=0)
        y_sorted, w_sorted = y[rows][order], weight[rows][order]
        bounds = np.r_[0, np.cumsum(np.bincount(block_cells, minlength=n_cells))]
        for cell in np.flatnonzero(np.diff(bounds)):
            part = slice(bounds[cell], bounds[cell + 1])
            _add_moments(stats, cell, X_sorted[part], y_sorted[part], w_sorted[part])
    return stats


def _add_moments(stats, cell, X, y, weight):
    unit = np.all(weight == 1.0)
    if sparse.issparse(X):
        gram = X.T @ (X if unit else X.multiply(weight[:, None]).tocsr())
        gram = gram.toarray() if sparse.issparse(gram) else np.asarray(gram)
    else:
        gram = X.T @ (X if unit else X * weight[:, None])
    stats.gram[cell] += gram
    stats.xy[cell] += X.T @ (weight * y)
    stats.x_sum[cell] += X.T @ weight
    stats.y_sum[cell] += weight @ y
    stats.weight[cell] += weight.sum()
    stats.n_positive[cell] += np.count_nonzero(weight > 0)


def combine(a, b):
    """Merge the statistics of two disjoint sets of rows (bag sums merged by bag id)."""
    out = AggregateStatistics()
    for name in ("weight", "n_positive", "x_sum", "y_sum", "gram", "xy"):
        setattr(out, name, getattr(a, name) + getattr(b, name))
    if a.ids is None:
        out.ids = None
        return out
    out.ids, inverse = np.unique(np.concatenate([a.ids, b.ids]), return_inverse=True)
    inverse = inverse.ravel()
    n_bags = out.ids.shape[0]
    out.bag_weight = np.zeros(n_bags)
    out.bag_x = np.zeros((n_bags, a.bag_x.shape[1]))
    out.bag_y = np.zeros(n_bags)
    # ids are unique within each side, so plain fancy-index additions are exact
    for part, index in ((a, inverse[: a.ids.shape[0]]), (b, inverse[a.ids.shape[0] :])):
        out.bag_weight[index] += part.bag_weight
        out.bag_x[index] += part.bag_x
        out.bag_y[index] += part.bag_y
    return out


def sum_by(ids, weight, x, y):
    """Bag sums of pieces of bags: the pieces' sums added by bag id."""
    unique, inverse = np.unique(ids, return_inverse=True)
    inverse = inverse.ravel()
    out_x = np.zeros((unique.shape[0], x.shape[1]))
    np.add.at(out_x, inverse, x)
    return (
        np.bincount(inverse, weights=weight, minlength=unique.shape[0]),
        out_x,
        np.bincount(inverse, weights=y, minlength=unique.shape[0]),
    )


def bag_products(weight, x, y):
    """``sum_a S_a S_a^T / W_a`` and ``sum_a S_a T_a / W_a`` over bags of positive weight."""
    return x.T @ (x / weight[:, None]), x.T @ (y / weight)


class NormalEquations:
    """The normal equations of :class:`AggregateLinearRegression` at any (rho, alpha).

    With bag sums ``S_a``, ``T_a``, bag weights ``W_a``, total weight ``W`` and the
    weighted Gram matrix ``X^T W X``, the objective times ``2 W``,

        sum_a W_a (ybar_a - Xbar_a theta)^2 + rho sum_i w_i ((x_i - Xbar_a) theta)^2
        + alpha W ||theta||^2,

    has the normal equations ``(between + rho * within + alpha W I) theta = rhs``
    with ``between = sum_a S_a S_a^T / W_a``, ``within = X^T W X - between`` and
    ``rhs = sum_a S_a T_a / W_a``, centred by the weighted means of ``x`` and ``y``
    when fitting an intercept, so every (rho, alpha) is one d x d solve.
    """

    def __init__(self, between, rhs, gram, weight, x_sum, y_sum, fit_intercept):
        if not (np.all(np.isfinite(gram)) and np.all(np.isfinite(rhs))):
            raise ValueError(
                "The sufficient statistics of X and y overflow float64 (values of about 1e154 "
                "or more square past its range); scale the features and the response, e.g. "
                "with StandardScaler."
            )
        self.total_weight = float(weight)
        self.within = gram - between
        self.between = between.copy()
        self.rhs = rhs.copy()
        self.x_mean = np.zeros(gram.shape[0])
        self.y_mean = 0.0
        if fit_intercept:
            self.x_mean = x_sum / weight
            self.y_mean = float(y_sum / weight)
            self.between -= weight * np.outer(self.x_mean, self.x_mean)
            self.rhs -= weight * self.x_mean * self.y_mean

    @classmethod
    def from_statistics(cls, stats, fit_intercept):
        """The equations of all rows (all cells, all bags) of ``stats``."""
        gram = stats.gram.sum(axis=0)
        if stats.ids is None:  # every row its own bag: the bag products are the row moments
            between, rhs = gram, stats.xy.sum(axis=0)
        else:
            between, rhs = bag_products(stats.bag_weight, stats.bag_x, stats.bag_y)
        return cls(
            between,
            rhs,
            gram,
            stats.weight.sum(),
            stats.x_sum.sum(axis=0),
            stats.y_sum.sum(),
            fit_intercept,
        )

    def solve(self, rho, alpha):
        """Coefficients and intercept at (rho, alpha); minimum-norm when singular.

        ``alpha`` is on the mean-loss scale; the normal equations are those of the
        objective times ``2 W``, whose penalty is ``alpha * W``.
        """
        A = self.between + rho * self.within
        A.flat[:: A.shape[0] + 1] += alpha * self.total_weight
        A = (A + A.T) / 2
        try:  # the common, well-posed case: one Cholesky factorisation
            factor = cho_factor(A)
            pivots = np.abs(np.diag(factor[0]))
            if pivots.min() ** 2 > pivots.max() ** 2 * A.shape[0] * np.finfo(float).eps:
                coef = cho_solve(factor, self.rhs)
                return coef, self.y_mean - self.x_mean @ coef, False
        except LinAlgError:
            pass
        eigvals, eigvecs = np.linalg.eigh(A)
        keep = eigvals > eigvals.max(initial=0.0) * A.shape[0] * np.finfo(float).eps
        coef = eigvecs[:, keep] @ ((eigvecs[:, keep].T @ self.rhs) / eigvals[keep])
        return coef, self.y_mean - self.x_mean @ coef, True


def dask_statistics(X, y, bags, sample_weight, cells=None, *, n_keys=None, n_cells=1):
    """Reduce :func:`chunk_statistics` over the row chunks of dask ``X`` (X never materialised).

    ``X`` is a dask array with known row chunks; ``y``, ``bags`` (ids, or codes with
    ``n_keys``), ``sample_weight`` and ``cells`` are row-aligned dask or NumPy arrays
    or None.  Every chunk is checked for finiteness inside the reduction.
    """
    from functools import partial

    from ..utils._dask import as_dask_arrays, reduce_row_blocks

    arrays = as_dask_arrays(
        X, y, bags, sample_weight, cells, names=["X", "y", "bags", "sample_weight", "cells"]
    )
    statistics = partial(chunk_statistics, n_keys=n_keys, n_cells=n_cells, check=True)
    return reduce_row_blocks(statistics, combine, arrays)
