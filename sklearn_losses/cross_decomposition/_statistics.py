"""The sufficient statistics of the views, merged row block by row block.

A linear fit of two views (CCA, ridge CCA, PLS) or of more (multiview CCA) needs
only the weighted count, the column means and the centred cross-products of the
views side by side, ``[X, Y]`` or ``[X_1, ..., X_M]``.  They are computed
here in row blocks of a few thousand rows, each block's statistics merged into
the running ones by the parallel update of Chan, Golub and LeVeque (stable: no
raw sums of squares), so no full-size standardized copy of the data is ever made.
The same two functions serve NumPy input (:func:`view_moments`, a loop over
blocks) and dask input (:func:`dask_view_moments`, a tree reduction over chunks
through :func:`~sklearn_losses.utils._dask.reduce_row_blocks`).
"""

from functools import partial
from typing import NamedTuple

import numpy as np
from sklearn.utils.validation import _assert_all_finite

from ..utils._dask import reduce_row_blocks
from ..utils.validation import check_sample_weight

__all__ = [
    "BLOCK_ROWS",
    "Moments",
    "dask_view_moments",
    "merge_moments",
    "view_moments",
]

BLOCK_ROWS = 4096  # rows per block: 4096 x 50 float64 is 1.6 MB


class Moments(NamedTuple):
    """Weighted sufficient statistics of the columns of a data matrix ``Z``.

    ``weight`` is the sum of the row weights (the number of rows when unweighted),
    ``n_positive`` the number of rows of positive weight, ``mean`` the weighted
    column means and ``comoment`` the centred cross-products
    ``sum_i w_i (z_i - mean)(z_i - mean)^T``.
    """

    weight: float
    n_positive: int
    mean: np.ndarray
    comoment: np.ndarray

    @classmethod
    def empty(cls, n_columns):
        """The statistics of no rows."""
        return cls(0.0, 0, np.zeros(n_columns), np.zeros((n_columns, n_columns)))

    def gram(self):
        """The uncentred cross-products ``sum_i w_i z_i z_i^T``."""
        return self.comoment + self.weight * np.outer(self.mean, self.mean)


def block_moments(Z, sample_weight=None):
    """:class:`Moments` of one block ``Z`` (2-D float64), directly."""
    if sample_weight is None:
        if Z.shape[0] == 0:
            return Moments.empty(Z.shape[1])
        mean = Z.mean(axis=0)
        centred = Z - mean
        return Moments(float(Z.shape[0]), Z.shape[0], mean, centred.T @ centred)
    weight = float(sample_weight.sum())
    if weight == 0:
        return Moments.empty(Z.shape[1])
    mean = sample_weight @ Z / weight
    centred = Z - mean
    comoment = (centred * sample_weight[:, None]).T @ centred
    return Moments(weight, int(np.count_nonzero(sample_weight)), mean, comoment)


def merge_moments(a, b):
    """The :class:`Moments` of the rows of ``a`` and ``b`` together (Chan et al.'s update)."""
    if b.weight == 0:
        return a._replace(n_positive=a.n_positive + b.n_positive)
    if a.weight == 0:
        return b._replace(n_positive=a.n_positive + b.n_positive)
    total = a.weight + b.weight
    delta = b.mean - a.mean
    return Moments(
        total,
        a.n_positive + b.n_positive,
        a.mean + delta * (b.weight / total),
        a.comoment + b.comoment + np.outer(delta, delta * (a.weight * b.weight / total)),
    )


def view_moments(*views, sample_weight=None, block_rows=BLOCK_ROWS):
    """:class:`Moments` of the columns of ``hstack(views)``, block by block.

    ``views`` are 2-D arrays with the same rows; only one block of their
    concatenation (``block_rows`` rows) exists at a time.
    """
    n_rows = views[0].shape[0]
    total = Moments.empty(sum(view.shape[1] for view in views))
    for start in range(0, n_rows, block_rows):
        rows = slice(start, start + block_rows)
        Z = np.hstack([np.asarray(view[rows], dtype=np.float64) for view in views])
        block = block_moments(Z, None if sample_weight is None else sample_weight[rows])
        total = merge_moments(total, block)
    return total


def _checked_chunk_moments(*blocks, input_names, name):
    """:func:`view_moments` of one dask chunk, checked as NumPy input is checked.

    ``blocks`` are the chunk's blocks of the views, then of the weights (or None);
    ``input_names`` name the views.  The view named ``"X"`` is checked as
    ``validate_data`` checks X (its error names the estimator ``name``), the others
    as ``check_array`` checks them; a 1-D view is one column.
    """
    *views, sample_weight = blocks
    checked = []
    for view, input_name in zip(views, input_names, strict=True):
        view = np.asarray(view, dtype=np.float64)
        _assert_all_finite(
            view,
            allow_nan=False,
            input_name=input_name,
            estimator_name=name if input_name == "X" else None,
        )
        checked.append(view.reshape(-1, 1) if view.ndim == 1 else view)
    if sample_weight is not None:
        # a chunk may hold only zero weights; the total is checked after the reduction
        sample_weight = check_sample_weight(sample_weight, checked[0], name, allow_all_zero=True)
    with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported by the fit
        return view_moments(*checked, sample_weight=sample_weight)


def dask_view_moments(*arrays, name, input_names=("X", "Y")):
    """:class:`Moments` of ``hstack(views)`` (dask arrays with the same row chunks), chunk by chunk.

    ``arrays`` are the views, any number of them (named by ``input_names``, one name
    per view), then the row weights, a 1-D dask array or None: ``(X, Y, w)`` for two
    views, ``(X, w)`` for one matrix holding them all.  Each chunk is checked (finite
    values, valid weights) and reduced to its statistics; the statistics are merged
    by a tree reduction on dask's scheduler.
    """
    *views, sample_weight = arrays
    if len(views) != len(input_names):
        raise ValueError(f"{len(views)} views for the {len(input_names)} names {input_names}.")
    chunk = partial(_checked_chunk_moments, input_names=tuple(input_names), name=name)
    return reduce_row_blocks(chunk, merge_moments, [*views, sample_weight])
