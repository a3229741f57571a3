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
    n = zx.shape[0] - 1
    zx, zy = _centred(zx), _centred(zy)
    return (zx.T @ zx + zy.T @ zy) / n, zx.T @ zy / n


class EckartYoungLoss(nn.Module):
    """Unbiased two-batch Eckart-Young loss on network outputs.

    The batch is split into two independent halves; each half gives the cross term
    and the variance ``V``, and the quadratic term pairs the halves:
    ``mean(-4 tr C_1, -4 tr C_2) + <V_1, V_2>``, an unbiased estimate of
    ``-2 tr(U^T A U) + ||U^T B U||^2`` for the outputs' (last-layer) CCA problem.
    """

    def forward(self, zx, zy):
        half = zx.shape[0] // 2
        v1, c1 = _variance_and_cross(zx[:half], zy[:half])
        v2, c2 = _variance_and_cross(zx[half:], zy[half:])
        return -2.0 * (torch.trace(c1) + torch.trace(c2)) + torch.sum(v1 * v2)


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
        n = zx.shape[0] - 1
        zx, zy = _centred(zx), _centred(zy)
        eye = torch.eye(zx.shape[1], dtype=zx.dtype, device=zx.device)
        root_x = _inverse_sqrt(zx.T @ zx / n + self.eps * eye)
        root_y = _inverse_sqrt(zy.T @ zy / n + self.eps * eye)
        return -torch.linalg.matrix_norm(root_x @ (zx.T @ zy / n) @ root_y, ord="nuc")


def _inverse_sqrt(matrix):
    eigvals, eigvecs = torch.linalg.eigh(matrix)
    return eigvecs @ torch.diag(eigvals.clamp_min(1e-12).rsqrt()) @ eigvecs.T


class _TwoViewNet(NeuralNet):
    """A skorch net whose forward returns both views' outputs and whose loss needs no y."""

    def get_loss(self, y_pred, y_true, X=None, training=False):
        zx, zy = y_pred
        return self.criterion_(zx, zy)


def make_two_view_net(
    n_features_x,
    n_features_y,
    *,
    n_components,
    hidden_layer_sizes,
    activation,
    loss,
    lr,
    batch_size,
    max_epochs,
    device,
    callbacks,
):
    """The skorch net of :class:`DeepCCA`."""
    return _TwoViewNet(
        TwoTower,
        module__n_features_x=n_features_x,
        module__n_features_y=n_features_y,
        module__n_components=n_components,
        module__hidden_layer_sizes=tuple(hidden_layer_sizes),
        module__activation=activation,
        criterion=EckartYoungLoss if loss == "ey" else AndrewLoss,
        optimizer=torch.optim.Adam,
        lr=lr,
        batch_size=batch_size,
        max_epochs=max_epochs,
        iterator_train__shuffle=True,
        iterator_train__drop_last=True,
        train_split=None,
        callbacks=callbacks,
        verbose=0,
        device=device,
    )
