"""torch parts of the aggregate family: the bag losses and whole-bag batches.

Imported only by the ``fit`` of :class:`AggregateMLPRegressor` and
:class:`AggregateMLPClassifier`; importing the family does not import torch.  The
targets the nets receive end with one column of bag codes (float64, exact up to
2**53 bags): the batches, the held-out split and the criteria read it there.
"""

import numpy as np
import torch
from sklearn.model_selection import GroupShuffleSplit
from skorch.dataset import Dataset
from torch import nn

from .._torch import IndexedBatches, split_sample_weight


def _local_bags(bag):
    """Codes ``0..n_bags-1`` of a batch's bag codes, and ``n_bags``."""
    uniques, local = torch.unique(bag, return_inverse=True)
    return local, uniques.shape[0]


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
        y, bag = target[:, 0].to(f.dtype), target[:, -1]
        weight = torch.ones_like(f) if weight is None else weight.to(f.dtype)
        local, n_bags = _local_bags(bag)
        bag_weight = torch.zeros(n_bags, dtype=f.dtype, device=f.device).index_add_(
            0, local, weight
        )
        f_bar = torch.zeros_like(bag_weight).index_add_(0, local, weight * f) / bag_weight
        y_bar = torch.zeros_like(bag_weight).index_add_(0, local, weight * y) / bag_weight
        bag_term = torch.sum(bag_weight * (y_bar - f_bar) ** 2)
        within = torch.sum(weight * (f - f_bar[local]) ** 2)
        return (bag_term + self.rho * within) / weight.sum()


class ProportionLoss(nn.Module):
    """Cross-entropy of bag label proportions and bag-mean probabilities, rho-interpolated.

    ``logits`` (n, K) are the network's outputs for K classes; ``target`` holds K
    columns of label distributions (one-hot labels, or the bag's proportions on
    each of its rows) and a last column of bag codes.  On a batch of whole bags this is
    :func:`~sklearn_losses.aggregate._loss.proportion_bag_loss`, the family's
    definition (tested against it):
    ``[(1 - rho) sum_a W_a CE(q_a, pbar_a) + rho sum_i w_i CE(q_a(i), p_i)] / sum_i w_i``
    with ``p_i = softmax(logits_i)``, weighted bag means ``q_a`` (of the target
    rows) and ``pbar_a`` (of ``p_i``), bag weights ``W_a = sum_{i in a} w_i``
    (see :func:`~sklearn_losses._torch.split_sample_weight`; ones without
    weights) and ``CE(q, p) = -sum_k q_k log p_k``: an integer weight equals
    repeating the row.  ``log pbar_a`` is a per-bag log-sum-exp of the rows'
    log-probabilities, so it needs no clipping and stays finite in float32 where
    a probability underflows.  A bag of total weight zero adds nothing.
    """

    def __init__(self, rho=0.0):
        super().__init__()
        self.rho = rho

    def forward(self, logits, target):
        target, weight = split_sample_weight(target)
        dtype = logits.dtype
        rows, bag = target[:, :-1].to(dtype), target[:, -1]
        weight = torch.ones_like(logits[:, 0]) if weight is None else weight.to(dtype)
        local, n_bags = _local_bags(bag)
        bag_weight = torch.zeros(n_bags, dtype=dtype, device=logits.device)
        bag_weight = bag_weight.index_add_(0, local, weight)
        # (a bag of weight 0 divides by 1 instead: its proportions and term are 0)
        empty = (bag_weight == 0).to(dtype)
        q = torch.zeros((n_bags, rows.shape[1]), dtype=dtype, device=logits.device)
        q = q.index_add_(0, local, weight[:, None] * rows) / (bag_weight + empty)[:, None]
        log_p = torch.log_softmax(logits, dim=1)
        value = 0.0
        if self.rho < 1:
            # log pbar_a = log sum_{i in a} w_i p_i - log W_a, shifted by the bag's largest term
            terms = log_p + torch.log(weight)[:, None]
            index = local[:, None].expand_as(terms)
            shift = torch.full_like(q, -torch.inf).scatter_reduce_(0, index, terms.detach(), "amax")
            shift = torch.where(torch.isfinite(shift), shift, 0.0)
            sums = torch.zeros_like(q).index_add_(0, local, torch.exp(terms - shift[local]))
            log_p_bar = (
                shift + torch.log(sums + empty[:, None]) - torch.log(bag_weight + empty)[:, None]
            )
            value = (1 - self.rho) * torch.sum(bag_weight * -(q * log_p_bar).sum(dim=1))
        if self.rho > 0:
            value = value + self.rho * torch.sum(weight * -(q[local] * log_p).sum(dim=1))
        return value / weight.sum()


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
    """skorch iterator factory: whole-bag batches; the bag codes are the targets' last column."""
    target, _ = split_sample_weight(dataset.y)
    bags = np.asarray(target)[:, -1]
    batches = WholeBagBatches(bags, batch_size, shuffle, generator)
    # each batch fetched by one tensor index, as in the shared batch_loader
    return IndexedBatches(dataset, batches, len(batches), generator)


def split_by_bags(dataset, y, *, validation_fraction, seed):
    """skorch ``train_split`` holding out a random ``validation_fraction`` of the bags."""
    splitter = GroupShuffleSplit(1, test_size=validation_fraction, random_state=seed)
    X, y = dataset.X, dataset.y
    target, _ = split_sample_weight(y)
    train, valid = next(splitter.split(X, target, groups=target[:, -1]))

    def rows(index):
        return {k: v[index] for k, v in y.items()} if isinstance(y, dict) else y[index]

    return Dataset(X[train], rows(train)), Dataset(X[valid], rows(valid))
