"""Input checks shared by the families, beyond scikit-learn's ``validate_data``."""

import inspect

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model._base import LinearClassifierMixin
from sklearn.utils.validation import _check_sample_weight

# scikit-learn >= 1.9 refuses all-zero weights unless told otherwise (earlier versions
# accept them and have no such keyword); the all-zero check below is ours, for every
# version, so that a chunk of zero weights can be allowed.
_KEEP_ZERO_WEIGHTS = {"ensure_non_negative": True}
if "allow_all_zero_weights" in inspect.signature(_check_sample_weight).parameters:
    _KEEP_ZERO_WEIGHTS["allow_all_zero_weights"] = True

__all__ = [
    "SparseCheckedLinearClassifierMixin",
    "check_n_classes",
    "check_sample_weight",
    "check_sparse_structure",
]


def check_n_classes(classes, name):
    """Raise the package's one ValueError for fewer than two classes.

    Parameters
    ----------
    classes : array-like of shape (n_classes,)
        The distinct class labels found (or given).
    name : str
        The estimator's name, for the message.
    """
    classes = np.asarray(classes)
    if classes.shape[0] < 2:
        raise ValueError(
            f"{name} needs at least 2 classes; got {classes.shape[0]} class(es): "
            f"{classes.tolist()}."
        )


def check_sample_weight(sample_weight, X, name, *, allow_all_zero=False):
    """``sample_weight`` as a float64 vector: finite, nonnegative, one per row, not all zero.

    ``None`` gives ones.  scikit-learn's own check (finite, nonnegative, one per
    row), the refusal of all-zero weights, and the estimator's name in the message.

    Parameters
    ----------
    sample_weight : array-like of shape (n_samples,), float or None
        The weights (a scalar is the same weight for every row).
    X : array-like of shape (n_samples, ...)
        The data the weights belong to.
    name : str
        The estimator's name, for the message.
    allow_all_zero : bool, default=False
        Accept weights that are all zero (one chunk of a larger data set may hold
        only zero weights; its caller checks the total).

    Returns
    -------
    sample_weight : ndarray of shape (n_samples,)
        The checked weights.
    """
    try:
        weight = _check_sample_weight(sample_weight, X, dtype=np.float64, **_KEEP_ZERO_WEIGHTS)
    except ValueError as error:
        raise ValueError(f"{name}: {error}") from None
    if not allow_all_zero and not weight.any():
        raise ValueError(f"{name}: Sample weights must contain at least one non-zero number.")
    return weight


def check_sparse_structure(X, name="X"):
    """Raise ValueError when a CSR, CSC or COO matrix ``X`` has out-of-range indices.

    ``validate_data`` checks the values of a sparse matrix, not its structure.
    scipy does not check the index arrays of a matrix built from raw arrays (or
    modified in place), and its compiled routines (products, format conversions),
    like our numba kernels, read and write out of bounds on such a matrix: a crash,
    not an error.  Call it on the raw input, before any conversion; it costs one
    pass over the indices, small beside any fit.
    """
    if not sp.issparse(X) or X.format not in ("csr", "csc", "coo"):
        return
    problem = _structure_problem(X)
    if problem is not None:
        raise ValueError(f"{name} is a malformed {X.format.upper()} sparse matrix: {problem}.")


def _structure_problem(X):
    n_rows, n_cols = X.shape
    if X.format == "coo":
        row, col = np.asarray(X.row), np.asarray(X.col)
        if not row.shape == col.shape == np.shape(X.data):
            return "row, col and data differ in length"
        if row.size and (row.min() < 0 or row.max() >= n_rows):
            return f"a row index lies outside [0, {n_rows})"
        if col.size and (col.min() < 0 or col.max() >= n_cols):
            return f"a column index lies outside [0, {n_cols})"
        return None
    n_major, n_minor = (n_rows, n_cols) if X.format == "csr" else (n_cols, n_rows)
    major, minor = ("row", "column") if X.format == "csr" else ("column", "row")
    indptr, indices = np.asarray(X.indptr), np.asarray(X.indices)
    if indptr.ndim != 1 or indptr.shape[0] != n_major + 1:
        return f"indptr has {indptr.size} entries; expected {n_major + 1} (one per {major}, plus 1)"
    if indices.ndim != 1 or indices.shape != np.shape(X.data):
        return "indices and data differ in length"
    if indptr[0] != 0 or np.any(np.diff(indptr) < 0) or indptr[-1] > indices.shape[0]:
        return (
            "indptr must start at 0, be non-decreasing and end at most at the number of "
            f"stored values ({indices.shape[0]})"
        )
    used = indices[: indptr[-1]]
    if used.size and (used.min() < 0 or used.max() >= n_minor):
        return f"a {minor} index lies outside [0, {n_minor})"
    return None


class SparseCheckedLinearClassifierMixin(LinearClassifierMixin):
    """scikit-learn's linear classifier mixin, with the sparse structure checked first.

    ``LinearClassifierMixin.decision_function`` hands a sparse ``X`` to scipy's
    product, which reads out of bounds on a malformed matrix.
    """

    def decision_function(self, X):
        """Linear decision function ``X @ coef_.T + intercept_``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            A vector for two classes (positive favours ``classes_[1]``), else one
            column per class.
        """
        check_sparse_structure(X)
        return super().decision_function(X)
