"""The one door through which dask enters the package.

Nothing here imports dask at module import time: :func:`is_dask_collection` looks
at the object's type, and :func:`require_dask` imports dask on first use, naming
the ``dask`` extra when it is missing.  Estimators built on sufficient statistics
(per-bag sums, cross-products, per-class moments) accept dask input in ``fit`` by
reducing their statistics chunk by chunk (:func:`reduce_row_blocks`), and return
lazy dask arrays from ``predict`` / ``transform`` on dask input
(:func:`map_row_blocks`).  Their fitted attributes are ordinary NumPy arrays.
"""

import numpy as np

__all__ = [
    "as_dask_arrays",
    "columns_frame",
    "is_dask_collection",
    "map_row_blocks",
    "reduce_row_blocks",
    "require_dask",
]

_INSTALL_HINT = (
    "dask input needs dask: `pip install 'dask[array,dataframe]' distributed dask-ml` "
    '(from a clone of sklearn_losses: `pip install -e ".[dask]"`).'
)


def is_dask_collection(obj):
    """Whether ``obj`` is a dask collection (array, DataFrame, Series), without importing dask."""
    return hasattr(obj, "__dask_graph__") and type(obj).__module__.split(".")[0] == "dask"


def require_dask():
    """Import and return ``dask.array``, or raise ImportError naming the ``dask`` extra."""
    try:
        import dask.array as da
    except ImportError as error:  # pragma: no cover - depends on the installation
        raise ImportError(_INSTALL_HINT) from error
    return da


def _to_array(obj, name, ndim):
    """A dask array of float64 from a dask array, DataFrame or Series (row sizes known)."""
    da = require_dask()
    if not isinstance(obj, da.Array):
        if not hasattr(obj, "to_dask_array"):
            raise TypeError(
                f"{name} is a dask collection of type {type(obj).__name__}; "
                "pass a dask array, DataFrame or Series."
            )
        obj = obj.to_dask_array(lengths=True)
    if obj.ndim not in ndim:
        raise ValueError(
            f"{name} must have {' or '.join(map(str, ndim))} dimensions; "
            f"got a dask array of shape {obj.shape}."
        )
    if any(np.isnan(size) for size in obj.shape):
        obj = obj.compute_chunk_sizes()
    if not (np.issubdtype(obj.dtype, np.number) or obj.dtype == bool):
        raise ValueError(f"{name} must be numeric; got a dask array of dtype {obj.dtype}.")
    return obj


def as_dask_arrays(X, *others, names=None, ndims=None):
    """``X`` and the row-aligned ``others`` as dask arrays with the same row chunks.

    ``X`` (2-D, dask or NumPy) sets the row chunks; each of ``others`` (dask or
    NumPy, or None) is rechunked (or wrapped) to match.  ``ndims`` gives, per entry
    of ``others``, the allowed numbers of dimensions (default ``(1, 2)``; e.g.
    ``(1,)`` for bag ids or weights).  Raises ValueError when a shape or the numbers
    of rows differ.
    """
    da = require_dask()
    names = names or ["X"] + [f"argument {i + 2}" for i in range(len(others))]
    ndims = ndims or [(1, 2)] * len(others)
    if not is_dask_collection(X):  # NumPy X with dask companions: X is wrapped
        X = da.from_array(np.asarray(X))
    X = _to_array(X, names[0], ndim=(2,))
    out = [X]
    for name, other, allowed in zip(names[1:], others, ndims):
        if other is None:
            out.append(None)
            continue
        if is_dask_collection(other):
            other = _to_array(other, name, ndim=allowed)
        else:
            other = np.asarray(other)
            if other.ndim not in allowed:
                raise ValueError(
                    f"{name} must have {' or '.join(map(str, allowed))} dimensions; got an "
                    f"array of shape {other.shape}."
                )
        if other.shape[0] != X.shape[0]:
            raise ValueError(f"{name} has {other.shape[0]} rows but {names[0]} has {X.shape[0]}.")
        if not is_dask_collection(other):
            other = da.from_array(other, chunks=(X.chunks[0],) + other.shape[1:])
        out.append(other.rechunk((X.chunks[0],) + other.shape[1:]))
    return out


def columns_frame(X):
    """What carries the column names of ``X`` for scikit-learn's feature-name checks.

    A dask DataFrame's empty pandas frame (its ``_meta``), which scikit-learn reads
    without computing anything; any other ``X`` as it is.
    """
    return X._meta if is_dask_collection(X) and hasattr(X, "columns") else X


def reduce_row_blocks(chunk_statistics, combine, arrays):
    """Compute ``combine`` over ``chunk_statistics`` of each row block of ``arrays``.

    ``arrays`` are dask arrays with the same row chunks (and, for 2-D ones, a single
    column chunk is made), or None.  ``chunk_statistics(*blocks)`` receives the NumPy
    blocks of one row chunk (None stays None) and returns the chunk's statistics;
    ``combine(a, b)`` merges two of them (associative).  The reduction runs as a
    tree on dask's scheduler, so no more than a few blocks are in memory at once.
    """
    require_dask()
    import dask

    present = [a for a in arrays if a is not None]
    blocks = []
    for a in present:
        if a.ndim == 2:
            a = a.rechunk({1: -1})
        # unoptimised: each array's graph fused on its own would duplicate the tasks
        # its arrays share (two views sliced from one array would be read twice)
        blocks.append(a.to_delayed(optimize_graph=False).ravel())
    n_blocks = len(blocks[0])
    per_chunk = []
    for b in range(n_blocks):
        it = iter(block[b] for block in blocks)
        args = [None if a is None else next(it) for a in arrays]
        per_chunk.append(dask.delayed(chunk_statistics)(*args))
    while len(per_chunk) > 1:
        per_chunk = [
            dask.delayed(combine)(per_chunk[i], per_chunk[i + 1])
            if i + 1 < len(per_chunk)
            else per_chunk[i]
            for i in range(0, len(per_chunk), 2)
        ]
    return dask.compute(per_chunk[0])[0]


def map_row_blocks(function, X, n_outputs=None, dtype=np.float64):
    """Apply ``function`` (NumPy rows in, rows out) lazily to each row block of ``X``.

    ``n_outputs`` is the number of output columns, or None for a 1-D result.
    """
    require_dask()
    X = _to_array(X, "X", ndim=(2,)).rechunk({1: -1})
    if n_outputs is None:
        return X.map_blocks(function, drop_axis=1, dtype=dtype, meta=np.empty((0,), dtype))
    return X.map_blocks(
        function, chunks=(X.chunks[0], (n_outputs,)), dtype=dtype, meta=np.empty((0, 0), dtype)
    )
