"""torch parts of the aggregate family: the bag loss and whole-bag batches.

Imported only by :class:`AggregateMLPRegressor.fit`; importing the family does not
import torch.
"""

import numpy as np
import torch
from skorch import NeuralNet
from torch import nn
from torch.utils.data import DataLoader, Sampler

from .._torch import mlp


class BagLoss(nn.Module):
    """Bag-level squared loss plus rho times the within-bag prediction variance.

    ``target`` holds two columns: the (aggregate) response and the bag code.  On a
    batch of whole bags this is the per-batch version of
    :class:`AggregateLinearRegression`'s objective, divided by the batch size.
    """

    def __init__(self, rho=0.0):
        super().__init__()
        self.rho = rho

    def forward(self, prediction, target):
        f = prediction.reshape(-1)
        y, bag = target[:, 0], target[:, 1]
        _, local = torch.unique(bag, return_inverse=True)
        n_bags = int(local.max()) + 1
        counts = torch.zeros(n_bags, dtype=f.dtype, device=f.device).index_add_(
            0, local, torch.ones_like(f)
        )
        f_bar = torch.zeros_like(counts).index_add_(0, local, f) / counts
        y_bar = torch.zeros_like(counts).index_add_(0, local, y) / counts
        bag_term = torch.sum(counts * (y_bar - f_bar) ** 2)
        within = torch.sum((f - f_bar[local]) ** 2)
        return (bag_term + self.rho * within) / f.shape[0]


class WholeBagSampler(Sampler):
    """Batches made of whole bags: bags shuffled, then packed up to ``batch_size`` rows.

    A bag larger than ``batch_size`` forms a batch of its own, so no bag is ever
    split and every batch loss sees complete bag means.
    """

    def __init__(self, bags, batch_size, shuffle=True):
        self.batch_size = batch_size
        self.shuffle = shuffle
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
            order = torch.randperm(n_bags).numpy()  # seeded by the caller's torch RNG
        else:
            order = np.arange(n_bags)
        return self._batches(order)

    def __len__(self):
        return sum(1 for _ in self._batches(np.arange(len(self.members))))


def whole_bag_loader(dataset, batch_size=256, shuffle=True, bags=None, **kwargs):
    """skorch iterator factory: a DataLoader over whole-bag batches (other options ignored)."""
    return DataLoader(dataset, batch_sampler=WholeBagSampler(bags, batch_size, shuffle))


def make_bag_net(
    n_features,
    codes,
    *,
    rho,
    hidden_layer_sizes,
    activation,
    lr,
    weight_decay,
    max_epochs,
    batch_size,
    device,
    callbacks,
):
    """The skorch net of :class:`AggregateMLPRegressor`."""
    return NeuralNet(
        mlp(n_features, tuple(hidden_layer_sizes), activation),
        criterion=BagLoss,
        criterion__rho=rho,
        optimizer=torch.optim.Adam,
        optimizer__weight_decay=weight_decay,
        lr=lr,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=whole_bag_loader,
        iterator_train__bags=codes,
        iterator_train__shuffle=True,
        train_split=None,
        callbacks=callbacks,
        verbose=0,
        device=device,
    )
