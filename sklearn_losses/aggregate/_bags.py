"""Bag ids: validation, bag sums and means, random bags, broadcast aggregates."""

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state

__all__ = ["make_bags", "aggregate_responses", "check_bags", "BagOperator"]


def check_bags(bags, n_samples):
    """Validate bag ids and return their codes ``0..n_bags-1`` (None: one bag per row)."""
    if bags is None:
        return np.arange(n_samples)
    bags = np.asarray(bags)
    if bags.ndim != 1:
        raise ValueError(f"bags must be 1-D (one bag id per row), got shape {bags.shape}.")
    if bags.shape[0] != n_samples:
        raise ValueError(
            f"bags has {bags.shape[0]} ids but X has {n_samples} rows; give one bag id per row."
        )
    if bags.dtype.kind == "f" and not np.all(np.isfinite(bags)):
        raise ValueError("bags contains NaN or infinite ids.")
    if bags.dtype.kind == "O" and any(b is None for b in bags.tolist()):
        raise ValueError("bags contains missing (None) ids.")
    _, codes = np.unique(bags, return_inverse=True)
    return codes.ravel()


class BagOperator:
    """Weighted bag sums and means for rows grouped by bag codes.

    ``sum(v)`` is ``sum_{i in a} w_i v_i`` per bag; ``mean`` divides by the bag
    weight ``W_a``.  Bags whose total weight is zero are dropped.
    """

    def __init__(self, codes, weight):
        n = codes.shape[0]
        n_bags = int(codes.max()) + 1 if n else 0
        self.matrix = sparse.csr_matrix((weight, (codes, np.arange(n))), shape=(n_bags, n))
        self.weight = np.bincount(codes, weights=weight, minlength=n_bags)
        keep = self.weight > 0
        if not keep.all():
            self.matrix = self.matrix[keep]
            self.weight = self.weight[keep]
        self.codes = np.cumsum(keep) - 1
        self.codes = self.codes[codes]
        self.row_kept = keep[codes]

    @property
    def n_bags(self):
        return self.weight.shape[0]

    def sum(self, values):
        out = self.matrix @ values
        return out.toarray() if sparse.issparse(out) else np.asarray(out)

    def mean(self, values):
        sums = self.sum(values)
        return sums / (self.weight[:, None] if sums.ndim == 2 else self.weight)


def make_bags(n_samples, bag_size, *, random_state=None):
    """Random bags of (nearly) equal size: a bag id per row.

    Parameters
    ----------
    n_samples : int
        Number of rows.
    bag_size : int
        Rows per bag; the last bags differ by at most one row when ``bag_size``
        does not divide ``n_samples``.
    random_state : int, RandomState instance or None, default=None
        Seed of the random assignment.

    Returns
    -------
    bags : ndarray of shape (n_samples,)
        Bag ids ``0..ceil(n_samples / bag_size) - 1``.

    Examples
    --------
    >>> from sklearn_losses.aggregate import make_bags
    >>> bags = make_bags(10, 5, random_state=0)
    >>> np.bincount(bags).tolist()
    [5, 5]
    """
    if bag_size < 1 or int(bag_size) != bag_size:
        raise ValueError(f"bag_size must be a positive integer, got {bag_size}.")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}.")
    rng = check_random_state(random_state)
    n_bags = -(-n_samples // int(bag_size))
    bags = np.arange(n_samples) % n_bags
    rng.shuffle(bags)
    return bags


def aggregate_responses(y, bags, sample_weight=None):
    """Replace each response by its bag's (weighted) mean, broadcast back to the rows.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Individual responses.
    bags : array-like of shape (n_samples,)
        Bag id per row.
    sample_weight : array-like of shape (n_samples,), default=None
        Weights of the mean.

    Returns
    -------
    y_bag : ndarray of shape (n_samples,)

    Examples
    --------
    >>> from sklearn_losses.aggregate import aggregate_responses
    >>> aggregate_responses([1.0, 3.0, 10.0], [0, 0, 1])
    array([ 2.,  2., 10.])
    """
    y = np.asarray(y, dtype=np.float64)
    codes = check_bags(bags, y.shape[0])
    weight = np.ones_like(y) if sample_weight is None else np.asarray(sample_weight, float)
    bags = BagOperator(codes, weight)
    out = np.full_like(y, np.nan)  # rows of a bag whose weights are all zero have no mean
    out[bags.row_kept] = bags.mean(y)[bags.codes[bags.row_kept]]
    return out
