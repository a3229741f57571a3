"""Input checks shared by the families, beyond scikit-learn's ``validate_data``."""

import scipy.sparse as sp

__all__ = ["check_sparse_structure"]


def check_sparse_structure(X, name="X"):
    """Raise a ValueError when sparse ``X`` has out-of-range indices or a broken ``indptr``.

    ``validate_data`` checks the values of a sparse matrix, not its structure;
    SciPy's products and our numba kernels trust the structure, and an index past
    the last column reads or writes out of bounds (a crash, not an error).  The
    full check costs one pass over the indices, small beside any fit.
    """
    if sp.issparse(X):
        try:
            X.check_format(full_check=True)
        except ValueError as error:
            raise ValueError(f"{name} is a malformed sparse matrix: {error}.") from error
    return X
