"""Bag ids: validation, bag sums and means, random bags, broadcast aggregates, folds of bags."""

from numbers import Integral, Number

import numpy as np
from scipy import sparse
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, validate_params
from sklearn.utils.validation import check_array

from ..utils.validation import check_sample_weight

__all__ = ["make_bags", "aggregate_responses", "check_bags", "BagOperator"]


def _id_kind(value):
    """'string', 'number', 'missing' or the type name of one bag id."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return "missing"
    if isinstance(value, (str, bytes)):
        return "string"
    if isinstance(value, Number):
        return "missing" if value != value else "number"  # NaN != NaN
    return type(value).__name__


def check_bags(bags, n_samples, *, input_name="X"):
    """Validate bag ids and return their codes ``0..n_bags-1`` (None: one bag per row).

    Bag ids are one per row (a 1-D array of length ``n_samples``), never missing
    (None, NaN, NaT), and either all numbers or all strings: as with
    scikit-learn's "Mix of label input types (string and number)", a mix is an
    error rather than a silent conversion (NumPy would turn ``[1, "1"]`` into one
    bag).  ``input_name`` names the array whose rows the ids label, for errors.
    """
    if bags is None:
        return np.arange(n_samples)
    raw = bags
    bags = np.asarray(bags)
    if bags.ndim != 1:
        raise ValueError(f"bags must be 1-D (one bag id per row), got shape {bags.shape}.")
    if bags.shape[0] != n_samples:
        raise ValueError(
            f"bags has {bags.shape[0]} ids but {input_name} has {n_samples} rows; "
            "give one bag id per row."
        )
    kind = bags.dtype.kind
    if kind == "f" and not np.all(np.isfinite(bags)):
        raise ValueError("bags contains NaN or infinite ids.")
    if kind in "mM" and np.any(np.isnat(bags)):
        raise ValueError("bags contains missing (NaT) ids.")
    if kind == "O" or (kind in "US" and not isinstance(raw, np.ndarray)):
        # the original Python objects: NumPy has already turned a mixed list into strings
        values = raw.tolist() if hasattr(raw, "tolist") else list(raw)
        kinds = {_id_kind(v) for v in values}
        if "missing" in kinds:
            raise ValueError("bags contains missing (None or NaN) ids.")
        if len(kinds) > 1:
            raise ValueError(
                f"Mix of bag id types ({' and '.join(sorted(kinds))}) in bags; bag ids "
                "must be all numbers or all strings."
            )
    if kind in "iu" and bags.size:
        # small integer ids (the common case): codes by a presence table, in O(n)
        low, high = int(bags.min()), int(bags.max())
        if high - low < 2 * bags.shape[0] + 1024 and high <= np.iinfo(np.intp).max:
            offsets = bags.astype(np.intp, copy=False)  # no wrap-around of small types
            offsets = offsets - low if low else offsets
            present = np.zeros(high - low + 1, dtype=bool)
            present[offsets] = True
            return (np.cumsum(present, dtype=np.intp) - 1)[offsets]
    try:
        _, codes = np.unique(bags, return_inverse=True)
    except TypeError as exc:  # e.g. unorderable objects
        raise ValueError(f"bag ids must be numbers or strings that can be sorted: {exc}") from exc
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


@validate_params(
    {
        "n_samples": [Interval(Integral, 1, None, closed="left")],
        "bag_size": [Interval(Integral, 1, None, closed="left")],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def make_bags(n_samples, bag_size, *, random_state=None):
    """Random bags of (nearly) equal size: a bag id per row.

    Rows are dealt round-robin into ``ceil(n_samples / bag_size)`` bags and the
    ids shuffled, so that the bags are a uniformly random partition whose sizes
    differ by at most one row.

    Parameters
    ----------
    n_samples : int
        Number of rows, >= 1.
    bag_size : int
        Rows per bag, >= 1; the last bags differ by at most one row when
        ``bag_size`` does not divide ``n_samples``.
    random_state : int, RandomState instance or None, default=None
        Seed of the random assignment.

    Returns
    -------
    bags : ndarray of shape (n_samples,)
        Bag ids ``0..ceil(n_samples / bag_size) - 1``.

    See Also
    --------
    aggregate_responses : Replace responses by their bag means.

    Examples
    --------
    >>> import numpy as np
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
    n_bags = -(-int(n_samples) // int(bag_size))
    bags = np.arange(n_samples) % n_bags
    rng.shuffle(bags)
    return bags


@validate_params(
    {"y": ["array-like"], "bags": ["array-like"], "sample_weight": ["array-like", None]},
    prefer_skip_nested_validation=True,
)
def aggregate_responses(y, bags, sample_weight=None):
    """Replace each response by its bag's (weighted) mean, broadcast back to the rows.

    This is what learning from aggregate responses observes: every row of a bag
    carries the same value, the bag's mean, and the estimators of this family use
    only those means.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Individual responses, finite.
    bags : array-like of shape (n_samples,)
        Bag id per row: all numbers or all strings.
    sample_weight : array-like of shape (n_samples,), default=None
        Non-negative, finite weights of the mean.  Every bag needs a positive
        total weight: a bag whose weights are all zero has no weighted mean, so
        it is an error (as in :func:`numpy.average`) rather than a silent NaN.
        Drop such rows first; the estimators ignore zero-weight bags.

    Returns
    -------
    y_bag : ndarray of the shape of ``y``
        Each row's bag mean.

    See Also
    --------
    make_bags : Random bags.
    privatize_responses : Bag means with label-differential-privacy noise.

    Examples
    --------
    >>> from sklearn_losses.aggregate import aggregate_responses
    >>> aggregate_responses([1.0, 3.0, 10.0], [0, 0, 1])
    array([ 2.,  2., 10.])
    """
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name="y")
    codes = check_bags(bags, y.shape[0], input_name="y")
    weight = check_sample_weight(sample_weight, y, "aggregate_responses")
    op = BagOperator(codes, weight)
    if not op.row_kept.all():
        n_empty = np.count_nonzero(np.bincount(codes, weights=weight) == 0)
        first = np.asarray(bags)[np.flatnonzero(~op.row_kept)[0]].tolist()
        raise ValueError(
            f"sample_weight sums to zero in {n_empty} bag(s) (e.g. bag {first!r}), whose "
            "weighted mean is undefined; give every bag a positive total weight or drop "
            "those rows."
        )
    return op.mean(y)[op.codes]


def group_kfold(sizes, n_splits):
    """The fold of each group, as :class:`~sklearn.model_selection.GroupKFold` assigns it.

    GroupKFold takes the groups from the largest (ties: the last group first) and
    puts each in the fold with the fewest rows so far (ties: the first fold).  For
    a run of equal sizes ``s`` that greedy rule takes, in order, the smallest of the
    candidate loads ``load_f + j s`` ordered by (load, fold), so each run is one sort.
    """
    order = np.argsort(sizes, kind="stable")[::-1]
    sorted_sizes = sizes[order]
    loads = np.zeros(n_splits)
    fold = np.empty(sizes.shape[0], dtype=np.intp)
    starts = np.r_[0, np.flatnonzero(np.diff(sorted_sizes)) + 1]
    ends = np.r_[starts[1:], sizes.shape[0]]
    for start, end in zip(starts, ends):
        size, count = float(sorted_sizes[start]), end - start
        candidates = loads[:, None] + size * np.arange(count)[None, :]
        folds = np.repeat(np.arange(n_splits), count)
        chosen = folds[np.lexsort((folds, candidates.ravel()))[:count]]
        fold[order[start:end]] = chosen
        loads += size * np.bincount(chosen, minlength=n_splits)
    return fold


def cells_of_splits(splits, n_samples):
    """Rows grouped by their role (training, held-out, neither) in every split.

    Returns each row's cell code and, per split, which cells are training and
    which held-out rows (boolean arrays of shape (n_splits, n_cells)).  For
    grouped K-fold the cells are the K folds (and the unused rows).
    """
    pattern = np.zeros(n_samples, dtype=np.int64)
    for i, (train, test) in enumerate(splits):
        state = np.zeros(n_samples, dtype=np.int64)
        state[train] = 1
        state[test] = 2
        pattern = pattern * 3 + state
        if i % 38 == 37:  # keep 3 ** (splits since the last renumbering) within int64
            pattern = np.unique(pattern, return_inverse=True)[1].ravel()
    _, first, cells = np.unique(pattern, return_index=True, return_inverse=True)
    train_cells = np.zeros((len(splits), first.size), dtype=bool)
    test_cells = np.zeros((len(splits), first.size), dtype=bool)
    for i, (train, test) in enumerate(splits):
        for roles, index in ((train_cells, train), (test_cells, test)):
            member = np.zeros(n_samples, dtype=bool)
            member[index] = True
            roles[i] = member[first]
    return cells.ravel(), train_cells, test_cells


def bag_pieces(codes, cells, n_cells):
    """Row keys of the bag sums: the bags, or (bag, cell) pieces when a split cuts a bag.

    Returns the keys (codes ``0..n_pieces-1``), each piece's bag and cell, and
    whether any bag is cut (spans cells).
    """
    n_bags = int(codes.max(initial=-1)) + 1
    cell_of_bag = np.zeros(n_bags, dtype=np.intp)
    cell_of_bag[codes] = cells
    if np.array_equal(cell_of_bag[codes], cells):
        return codes, np.arange(n_bags), cell_of_bag, False
    pieces, keys = np.unique(codes * np.int64(n_cells) + cells, return_inverse=True)
    return keys.ravel(), pieces // n_cells, pieces % n_cells, True
