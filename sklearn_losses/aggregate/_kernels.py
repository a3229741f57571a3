"""numba kernel of the aggregate family: in-place adds into the table of per-bag sums.

Its only caller, :func:`~._statistics.add_statistics`, checks the bag codes and the
shapes first (the kernel runs without bounds checks; ``NUMBA_BOUNDSCHECK=1`` turns
them on for the tests).
"""

from .._jit import njit


@njit
def add_rows(weight, x, y, ids, part_weight, part_x, part_y):
    """``weight[ids] += part_weight`` (and ``x``, ``y``) in place, without a gathered copy."""
    for j in range(ids.shape[0]):
        row = ids[j]
        weight[row] += part_weight[j]
        y[row] += part_y[j]
        for k in range(x.shape[1]):
            x[row, k] += part_x[j, k]
