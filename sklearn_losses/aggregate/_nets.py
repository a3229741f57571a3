"""torch parts of the aggregate family: the bag loss and whole-bag batches.

Imported only by :class:`AggregateMLPRegressor.fit`; importing the family does not
import torch.
"""

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from skorch.dataset import Dataset
from torch import nn
from torch.utils.data import DataLoader, Sampler

from .._torch import split_sample_weight


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


class WholeBagSampler(Sampler):
    """Batches made of whole bags: bags shuffled, then packed up to ``batch_size`` rows.

    A bag larger than ``batch_size`` forms a batch of its own, so no bag is ever
    split and every batch loss sees complete bag means.  Shuffling draws from
    ``generator`` (the fit's own).
    """

    def __init__(self, bags, batch_size, shuffle=True, generator=None):
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.generator = generator
        order = np.argsort(bags, kind="stable")
        boundaries = np.flatnonzero(np.diff(bags[order])) + 1
        self.members = np.split(order, boundaries)

    def _batches(self, bag_order):
        batch = []
        for b in bag_order:
            rows = self.members[b]
            if batch and len(batch) + len(rows) > self.batch_size:
                yield batch
                batch = []
            batch.extend(rows.tolist())
        if batch:
            yield batch

    def __iter__(self):
        n_bags = len(self.members)
        if self.shuffle:
            order = torch.randperm(n_bags, generator=self.generator).numpy()
        else:
            order = np.arange(n_bags)
        return self._batches(order)

    def __len__(self):
        return sum(1 for _ in self._batches(np.arange(len(self.members))))


def whole_bag_loader(dataset, batch_size=256, shuffle=False, generator=None, **_):
    """skorch iterator factory: whole-bag batches; the bag codes are the targets' 2nd column."""
    target, _ = split_sample_weight(dataset.y)
    bags = np.asarray(target)[:, 1]
    sampler = WholeBagSampler(bags, batch_size, shuffle, generator)
    # each batch fetched by one fancy index, as in the shared batch_loader
    return DataLoader(dataset, sampler=sampler, batch_size=None, generator=generator)


def split_by_bags(dataset, y, *, validation_fraction, seed):
    """skorch ``train_split`` holding out a random ``validation_fraction`` of the bags."""
    splitter = GroupShuffleSplit(1, test_size=validation_fraction, random_state=seed)
    X, y = dataset.X, dataset.y
    target, _ = split_sample_weight(y)
    train, valid = next(splitter.split(X, target, groups=target[:, 1]))

    def rows(index):
        return {k: v[index] for k, v in y.items()} if isinstance(y, dict) else y[index]

    return Dataset(X[train], rows(train)), Dataset(X[valid], rows(valid))
