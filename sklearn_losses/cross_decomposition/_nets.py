"""torch parts of Deep CCA: one network per view and the Eckart-Young / Andrew losses.

Imported only by :meth:`DeepCCA.fit`; importing the family does not import torch.
"""

import torch
from skorch import NeuralNet
from torch import nn

from .._torch import mlp


class TwoTower(nn.Module):
    """One MLP per view, both ending in a linear layer of ``n_components`` outputs."""

    def __init__(
        self,
        n_features_x,
        n_features_y,
        n_components,
        hidden_layer_sizes=(256, 256),
        activation="relu",
    ):
        super().__init__()
        self.x_net = mlp(n_features_x, hidden_layer_sizes, activation, n_components)
        self.y_net = mlp(n_features_y, hidden_layer_sizes, activation, n_components)

    def forward(self, x, y):
        return self.x_net(x), self.y_net(y)


def _centred(z):
    return z - z.mean(dim=0, keepdim=True)


def _variance_and_cross(zx, zy):
    n = max(zx.shape[0] - 1, 1)  # a single held-out row gives zero covariances, not NaN
    zx, zy = _centred(zx), _centred(zy)
    return (zx.T @ zx + zy.T @ zy) / n, zx.T @ zy / n


def batch_eckart_young(zx, zy):
    """Eckart-Young loss of one batch's own covariances: ``-4 tr C + ||V||^2``.

    Bounded below by ``-n_components`` on every batch: with ``V = C_xx + C_yy``
    and ``C = C_xy``, each ``2 C_ii <= V_ii``, so the loss is at least
    ``sum_i (V_ii^2 - 2 V_ii) >= -n_components``.  Biased for small batches (the
    square of a batch covariance overestimates the square of its mean), which acts
    as a mild penalty on the outputs' variance rather than a way to run away.
    """
    v, c = _variance_and_cross(zx, zy)
    return -4.0 * torch.trace(c) + torch.sum(v * v)


def unbiased_eckart_young(zx, zy):
    """The paper's unbiased two-half estimate ``mean(-4 tr C_h) + <V_1, V_2>``.

    Unbiased for ``-2 tr(U^T A U) + ||U^T B U||^2``, but not bounded below on a
    finite batch (``<V_1, V_2>`` can be made small while both traces grow), which
    a flexible network can find.
    """
    half = zx.shape[0] // 2
    v1, c1 = _variance_and_cross(zx[:half], zy[:half])
    v2, c2 = _variance_and_cross(zx[half:], zy[half:])
    return -2.0 * (torch.trace(c1) + torch.trace(c2)) + torch.sum(v1 * v2)


class EckartYoungLoss(nn.Module):
    """Eckart-Young loss on network outputs: ``"batch"`` or ``"unbiased"`` estimate.

    In evaluation mode (validation) it is always the batch estimate, computed on
    the whole held-out set: the quantity early stopping watches.
    """

    def __init__(self, estimate="batch"):
        super().__init__()
        self.estimate = estimate

    def forward(self, zx, zy):
        if self.training and self.estimate == "unbiased":
            return unbiased_eckart_young(zx, zy)
        return batch_eckart_young(zx, zy)


class AndrewLoss(nn.Module):
    """Classical Deep CCA objective: minus the sum of the batch canonical correlations.

    ``-||C_xx^{-1/2} C_xy C_yy^{-1/2}||_*`` with a small ridge ``eps`` on the
    within-view covariances (Andrew et al., 2013).  Biased for small batches and
    unstable when the batch is smaller than the number of outputs.
    """

    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = eps

    def forward(self, zx, zy):
        n = max(zx.shape[0] - 1, 1)
        zx, zy = _centred(zx), _centred(zy)
        eye = torch.eye(zx.shape[1], dtype=zx.dtype, device=zx.device)
        root_x = _inverse_sqrt(zx.T @ zx / n + self.eps * eye)
        root_y = _inverse_sqrt(zy.T @ zy / n + self.eps * eye)
        return -torch.linalg.matrix_norm(root_x @ (zx.T @ zy / n) @ root_y, ord="nuc")


def _inverse_sqrt(matrix):
    eigvals, eigvecs = torch.linalg.eigh(matrix)
    return eigvecs @ torch.diag(eigvals.clamp_min(1e-12).rsqrt()) @ eigvecs.T


class TwoViewNet(NeuralNet):
    """A skorch net whose forward returns both views' outputs and whose loss needs no y."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        zx, zy = y_pred
        return self.criterion_(zx, zy)
