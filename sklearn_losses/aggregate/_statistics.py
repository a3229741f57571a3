"""Sufficient statistics of the aggregate least-squares problem: one definition for all inputs.

:class:`AggregateLinearRegression` and :class:`AggregateLinearRegressionCV` need
only, per bag ``a``, its total weight ``W_a``, its weighted feature sum
``S_a = sum_{i in a} w_i x_i`` and response sum ``T_a = sum_{i in a} w_i y_i``, and,
over the rows of each *cell* (all rows for a single fit, the rows of one
cross-validation fold for the CV estimator), the weighted moments ``W``, ``sum w x``,
``sum w y``, ``X^T W X`` and ``X^T W y``.  :func:`accumulate_statistics` computes
them in one pass over row blocks, for NumPy, sparse and dask input alike: the bag
ids are first mapped to global codes ``0..n_bags-1`` (one integer per row, in
memory), one table of bag sums is preallocated, and each block's statistics
(:func:`chunk_statistics`: its bags' partial sums and its moments) are added into
it in place (:func:`add_statistics`), so a bag may span blocks in any order and
the O(n_bags d) table is never copied.  NumPy input is walked in row slices; dask
input chunk by chunk (one chunk computed at a time on dask's synchronous
scheduler, two on a parallel one), so a dask fit holds a few chunks, the table
and one bag code per row.  The normal equations (:class:`NormalEquations`) are
then built from the statistics alone: the data are never touched again.
"""

import numpy as np
from scipy import sparse
from scipy.linalg import LinAlgError, cho_factor, cho_solve

from ._kernels import add_rows

__all__ = [
    "AggregateStatistics",
    "NormalEquations",
    "accumulate_statistics",
    "add_statistics",
    "bag_products",
    "chunk_statistics",
]

BLOCK_ROWS = 65536  # rows per block of the weighted Gram matrix: O(block * d) extra memory
_ROWS = 131072  # rows per slice of NumPy input: its bag sums are O(slice * d) extra memory
_CHUNKS_AT_ONCE = 2  # dask chunks computed per call: what bounds the memory of a dask fit


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
        """Remove bags of zero total weight (they carry nothing to fit or score).

        The table is compacted in place, block by block (no copy of it).
        """
        if self.ids is None:
            return self
        keep = self.bag_weight > 0
        if keep.all():
            return self
        tables = [self.ids, self.bag_weight, self.bag_x, self.bag_y]
        n_kept = 0
        for start in range(0, keep.shape[0], BLOCK_ROWS):
            rows = slice(start, start + BLOCK_ROWS)
            kept = keep[rows]
            end = n_kept + int(np.count_nonzero(kept))
            for table in tables:  # the destination never runs past the rows read so far
                table[n_kept:end] = table[rows][kept]
            n_kept = end
        self.ids, self.bag_weight, self.bag_x, self.bag_y = (t[:n_kept] for t in tables)
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


def chunk_statistics(X, y, keys, weight, cells=None, *, n_cells=1, check=False):
    """The :class:`AggregateStatistics` of one block of rows.

    Parameters
    ----------
    X : ndarray or CSR matrix of shape (n_rows, d)
        Features.
    y : ndarray of shape (n_rows,) or (n_rows, 1)
        Responses (or broadcast bag aggregates).
    keys : ndarray of shape (n_rows,) or None
        Bag code of each row (None: every row is its own bag).  The block's bag
        sums are those of its own bags, ``ids`` (sorted), for :func:`add_statistics`.
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
        stats.ids, inverse = np.unique(keys, return_inverse=True)
        inverse = inverse.ravel()
        n_bags = stats.ids.shape[0]
        # one entry per column: the scatter-add S_a = sum_{i in a} w_i x_i without a sort
        op = sparse.csc_matrix((weight, inverse, np.arange(n_rows + 1)), shape=(n_bags, n_rows))
        bag_x = op @ X
        stats.bag_x = bag_x.toarray() if sparse.issparse(bag_x) else np.asarray(bag_x)
        stats.bag_weight = np.bincount(inverse, weights=weight, minlength=n_bags)
        stats.bag_y = np.bincount(inverse, weights=weight * y, minlength=n_bags)
    _zero_moments(stats, n_cells, d)
    for start in range(0, n_rows, BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
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


def _zero_moments(stats, n_cells, n_features):
    """Zero per-cell moments: weight, positive rows, sums of x and y, X^T W X, X^T W y."""
    stats.weight = np.zeros(n_cells)
    stats.n_positive = np.zeros(n_cells, dtype=np.int64)
    stats.x_sum = np.zeros((n_cells, n_features))
    stats.y_sum = np.zeros(n_cells)
    stats.gram = np.zeros((n_cells, n_features, n_features))
    stats.xy = np.zeros((n_cells, n_features))


def empty_statistics(n_keys, n_features, n_cells=1):
    """Zero statistics with a preallocated table of ``n_keys`` bags (None: no bag sums)."""
    stats = AggregateStatistics()
    stats.ids = None
    if n_keys is not None:
        stats.ids = np.arange(n_keys)
        stats.bag_weight = np.zeros(n_keys)
        stats.bag_x = np.zeros((n_keys, n_features))
        stats.bag_y = np.zeros(n_keys)
    _zero_moments(stats, n_cells, n_features)
    return stats


def add_statistics(total, part):
    """Add the statistics of a block of rows into ``total`` (from :func:`empty_statistics`).

    In place: the moments are added, and the block's bag sums are added into the
    table at its bag codes ``part.ids``.
    """
    for name in ("weight", "n_positive", "x_sum", "y_sum", "gram", "xy"):
        np.add(getattr(total, name), getattr(part, name), out=getattr(total, name))
    if total.ids is not None and part.ids.shape[0]:
        # what the compiled kernel assumes (it runs without bounds checks)
        n_bags, n_features = total.bag_x.shape
        if part.ids.min() < 0 or part.ids.max() >= n_bags:
            raise ValueError("bag codes out of the range of the table of bag sums.")
        if part.bag_x.shape != (part.ids.shape[0], n_features) or not (
            part.bag_weight.shape == part.bag_y.shape == part.ids.shape
        ):
            raise ValueError("the bag sums of a block do not match its bag codes.")
        add_rows(
            total.bag_weight,
            total.bag_x,
            total.bag_y,
            np.ascontiguousarray(part.ids, dtype=np.intp),
            np.ascontiguousarray(part.bag_weight),
            np.ascontiguousarray(part.bag_x),
            np.ascontiguousarray(part.bag_y),
        )
    return total


def _numpy_blocks(X, y, codes, weight, cells, n_cells):
    """The statistics of ``X``'s row slices, one after the other."""
    for start in range(0, X.shape[0], _ROWS):
        rows = slice(start, start + _ROWS)
        yield chunk_statistics(
            X[rows],
            y[rows],
            None if codes is None else codes[rows],
            None if weight is None else weight[rows],
            None if cells is None else cells[rows],
            n_cells=n_cells,
        )


def _dask_blocks(X, y, codes, weight, cells, n_cells):
    """The statistics of dask ``X``'s row chunks, one or two computed at a time.

    One blockwise graph over the row-aligned arrays (so a chunk of X that ``y``
    is computed from is computed once), checked for finiteness chunk by chunk.
    """
    from ..utils._dask import as_dask_arrays, require_dask

    da = require_dask()
    import dask
    from dask.base import get_scheduler
    from dask.local import get_sync

    arrays = as_dask_arrays(
        X, y, codes, weight, cells, names=["X", "y", "bags", "sample_weight", "cells"]
    )
    present = [a is not None for a in arrays[1:]]

    def block(X, *others):
        it = iter(others)
        args = [next(it) if p else None for p in present]
        out = np.empty((1, 1), dtype=object)
        out[0, 0] = chunk_statistics(X, *args, n_cells=n_cells, check=True)
        return out

    # X's column index stays in the output (one column chunk), so no block is concatenated
    pairs = [arrays[0].rechunk({1: -1}), "ij"]
    for a in arrays[1:]:
        if a is not None:
            pairs += [a[:, 0] if a.ndim == 2 else a, "i"]
    parts = da.blockwise(
        block,
        "ij",
        *pairs,
        dtype=object,
        adjust_chunks={"i": 1, "j": 1},
        meta=np.empty((0, 0), dtype=object),
    ).to_delayed()
    parts = list(parts.ravel())
    # one chunk at a time on the synchronous scheduler, a couple on a parallel one
    at_once = 1 if get_scheduler() is get_sync else _CHUNKS_AT_ONCE
    for start in range(0, len(parts), at_once):
        results = list(dask.compute(*parts[start : start + at_once]))
        while results:  # hold no block here once it is handed on
            yield results.pop(0).ravel()[0]


def accumulate_statistics(X, y, codes, weight, cells=None, *, n_keys=None, n_cells=1):
    """The :class:`AggregateStatistics` of all rows, accumulated in place block by block.

    Parameters
    ----------
    X : ndarray, CSR matrix or dask array of shape (n_samples, d)
        Features (a dask array is read chunk by chunk, never materialised).
    y : ndarray or dask array of shape (n_samples,) or (n_samples, 1)
        Responses.
    codes : ndarray of shape (n_samples,) or None
        Bag code ``0..n_keys-1`` of each row, in memory (None: every row is its
        own bag, and no table is kept).
    weight : ndarray, dask array of shape (n_samples,) or None
        Non-negative row weights (None: ones); dask weights are checked chunk by
        chunk, as are dask ``X`` and ``y``.
    cells : ndarray of shape (n_samples,) or None
        Cell code ``0..n_cells-1`` of each row (None: all rows in cell 0).
    n_keys : int or None
        Number of bag codes: the rows of the preallocated table.
    """
    from ..utils._dask import is_dask_collection

    total = empty_statistics(None if codes is None else n_keys, X.shape[1], n_cells)
    blocks = _dask_blocks if is_dask_collection(X) else _numpy_blocks
    for part in blocks(X, y, codes, weight, cells, n_cells):
        add_statistics(total, part)
        del part
    return total


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
    """``sum_a S_a S_a^T / W_a`` and ``sum_a S_a T_a / W_a`` over bags of positive weight.

    Summed over blocks of bags: O(block * d) extra memory, not a scaled copy of ``x``.
    """
    between, rhs = np.zeros((x.shape[1], x.shape[1])), np.zeros(x.shape[1])
    for start in range(0, weight.shape[0], BLOCK_ROWS):
        rows = slice(start, start + BLOCK_ROWS)
        between += x[rows].T @ (x[rows] / weight[rows, None])
        rhs += x[rows].T @ (y[rows] / weight[rows])
    return between, rhs


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
        return cls.with_totals(between, rhs, gram, stats, fit_intercept)

    @classmethod
    def with_totals(cls, between, rhs, gram, stats, fit_intercept):
        """The equations of given products, with the weight and sums of all of ``stats``."""
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
