"""torch parts of the aggregate family: the bag loss and whole-bag batches.

Imported only by :class:`AggregateMLPRegressor.fit`; importing the family does not
import torch.
"""

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from skorch.dataset import Dataset
from torch import nn

from .._torch import IndexedBatches, split_sample_weight


class BagLoss(nn.Module):
    """Bag-level squared loss plus rho times the within-bag prediction variance.

    ``target`` holds two columns: the (aggregate) response and the bag code.  On a
    batch of whole bags this is twice :func:`~sklearn_losses.aggregate._loss.squared_bag_loss`,
    the family's definition (tested against it), which
    :class:`AggregateLinearRegression` minimises in closed form.
    With row weights ``w`` (see :func:`~sklearn_losses._torch.split_sample_weight`)
    it is ``[sum_a W_a (ybar_a - fbar_a)^2 + rho sum_i w_i (f_i - fbar_a)^2] / sum_i w_i``,
    with weighted bag means and bag weights ``W_a = sum_{i in a} w_i``, as in
    :class:`AggregateLinearRegression`: an integer weight equals repeating the row.
    """

    def __init__(self, rho=0.0):
        super().__init__()
        self.rho = rho

    def forward(self, prediction, target):
        f = prediction.reshape(-1)
        target, weight = split_sample_weight(target)
        # float64 targets: bag codes stay exact up to 2**53 bags
        y, bag = target[:, 0].to(f.dtype), target[:, 1]
        weight = torch.ones_like(f) if weight is None else weight.to(f.dtype)
        _, local = torch.unique(bag, return_inverse=True)
        n_bags = int(local.max()) + 1
        bag_weight = torch.zeros(n_bags, dtype=f.dtype, device=f.device).index_add_(
            0, local, weight
        )
        f_bar = torch.zeros_like(bag_weight).index_add_(0, local, weight * f) / bag_weight
        y_bar = torch.zeros_like(bag_weight).index_add_(0, local, weight * y) / bag_weight
        bag_term = torch.sum(bag_weight * (y_bar - f_bar) ** 2)
        within = torch.sum(weight * (f - f_bar[local]) ** 2)
        return (bag_term + self.rho * within) / weight.sum()


class WholeBagBatches:
    """Batches made of whole bags: bags shuffled, then packed up to ``batch_size`` rows.

    A bag larger than ``batch_size`` forms a batch of its own, so no bag is ever
    split and every batch loss sees complete bag means.  Shuffling draws from
    ``generator`` (the fit's own).  Calling the object yields each batch's rows (an
    int64 tensor; a bag's rows in increasing order): one permutation of the bags,
    then a search per batch, with no Python loop over bags or rows.
    """

    def __init__(self, bags, batch_size, shuffle=True, generator=None):
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        self._rows = np.argsort(bags, kind="stable")  # rows grouped by bag
        starts = np.flatnonzero(np.r_[True, np.diff(bags[self._rows]) != 0])
        self._starts = starts
        self._sizes = np.diff(np.r_[starts, len(bags)])

    def _bounds(self, sizes):
        """Where the greedy packing of bags of ``sizes`` (in order) closes its batches."""
        ends = np.cumsum(sizes)
        bounds, first = [0], 0
        while first < len(sizes):
            # the most bags from ``first`` on that fit in one batch, at least one
            filled = ends[first - 1] if first else 0
            last = np.searchsorted(ends, filled + self.batch_size, side="right")
            first = max(int(last), first + 1)
            bounds.append(int(ends[first - 1]))
        return bounds

    def __call__(self):
        if self.shuffle:
            order = torch.randperm(len(self._sizes), generator=self.generator).numpy()
        else:
            order = np.arange(len(self._sizes))
        sizes = self._sizes[order]
        # the rows of bag order[0], then of order[1], ...: each bag's start plus 0..size-1
        shift = np.repeat(self._starts[order] - (np.cumsum(sizes) - sizes), sizes)
        rows = torch.from_numpy(self._rows[shift + np.arange(len(shift))])
        bounds = self._bounds(sizes)
        return (rows[begin:end] for begin, end in zip(bounds[:-1], bounds[1:]))

    def __len__(self):
        return len(self._bounds(self._sizes)) - 1


def whole_bag_loader(dataset, batch_size=256, shuffle=False, generator=None, **_):
    """skorch iterator factory: whole-bag batches; the bag codes are the targets' 2nd column."""
    target, _ = split_sample_weight(dataset.y)
    bags = np.asarray(target)[:, 1]
    batches = WholeBagBatches(bags, batch_size, shuffle, generator)
    # each batch fetched by one tensor index, as in the shared batch_loader
    return IndexedBatches(dataset, batches, len(batches), generator)


def split_by_bags(dataset, y, *, validation_fraction, seed):
    """skorch ``train_split`` holding out a random ``validation_fraction`` of the bags."""
    splitter = GroupShuffleSplit(1, test_size=validation_fraction, random_state=seed)
    X, y = dataset.X, dataset.y
    target, _ = split_sample_weight(y)
    train, valid = next(splitter.split(X, target, groups=target[:, 1]))

    def rows(index):
        return {k: v[index] for k, v in y.items()} if isinstance(y, dict) else y[index]

    return Dataset(X[train], rows(train)), Dataset(X[valid], rows(valid))
