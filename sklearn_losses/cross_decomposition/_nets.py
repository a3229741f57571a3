"""torch parts of Deep CCA: one network per view and the Eckart-Young / Andrew losses.

Imported only by :meth:`DeepCCA.fit`; importing the family does not import torch.
The Eckart-Young loss is not written here: :func:`~._loss.ey_moments` and
:func:`~._loss.ey_from_moments` (the definition NumPy and the numba kernel use)
are called on tensors.  Every loss takes optional per-row weights: weighted
centring and covariances divided by ``sum(w) - 1``, so that integer weights equal
repeated rows.
"""

import torch
from skorch.utils import to_tensor
from torch import nn

from .._torch import NeuralNet, mlp, split_sample_weight
from ._loss import ey_from_moments, ey_moments


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


def _centred(z, sample_weight=None):
    if sample_weight is None:
        return z - z.mean(dim=0, keepdim=True)
    w = sample_weight.to(z.dtype).reshape(-1, 1)
    return z - (w * z).sum(dim=0, keepdim=True) / w.sum().clamp_min(torch.finfo(z.dtype).tiny)


def _dof(z, sample_weight):
    # at least 1: a single (held-out) row gives zero covariances, not NaN
    if sample_weight is None:
        return max(z.shape[0] - 1, 1)
    return (sample_weight.to(z.dtype).sum() - 1.0).clamp_min(1.0)


def _moments(zx, zy, sample_weight=None):
    """``(tr C_xy, C_xx + C_yy)`` of a batch of outputs, centred within the batch."""
    w = None if sample_weight is None else sample_weight.to(zx.dtype)
    return ey_moments(_centred(zx, w), _centred(zy, w), _dof(zx, w), w)


def batch_eckart_young(zx, zy, sample_weight=None):
    """Eckart-Young loss of one batch's own covariances: ``-4 tr C + ||V||^2``.

    Bounded below by ``-n_components`` on every batch: with ``V = C_xx + C_yy``
    and ``C = C_xy``, each ``2 C_ii <= V_ii``, so the loss is at least
    ``sum_i (V_ii^2 - 2 V_ii) >= -n_components``.  Biased for small batches (the
    square of a batch covariance overestimates the square of its mean), which acts
    as a mild penalty on the outputs' variance rather than a way to run away.
    """
    trace_cross, v = _moments(zx, zy, sample_weight)
    return ey_from_moments(trace_cross, v, v)


def unbiased_eckart_young(zx, zy, sample_weight=None):
    """The paper's unbiased two-half estimate ``mean(-4 tr C_h) + <V_1, V_2>``.

    Unbiased for ``-2 tr(U^T A U) + ||U^T B U||^2``, but not bounded below on a
    finite batch (``<V_1, V_2>`` can be made small while both traces grow), which
    a flexible network can find.
    """
    half = zx.shape[0] // 2
    w1, w2 = (None, None) if sample_weight is None else (sample_weight[:half], sample_weight[half:])
    trace1, v1 = _moments(zx[:half], zy[:half], w1)
    trace2, v2 = _moments(zx[half:], zy[half:], w2)
    return ey_from_moments((trace1 + trace2) / 2.0, v1, v2)


class EckartYoungLoss(nn.Module):
    """Eckart-Young loss on network outputs: ``"batch"`` or ``"unbiased"`` estimate.

    In evaluation mode (validation) it is always the batch estimate, computed on
    the whole held-out set: the quantity early stopping watches.
    """

    def __init__(self, estimate="batch"):
        super().__init__()
        self.estimate = estimate

    def forward(self, zx, zy, sample_weight=None):
        if self.training and self.estimate == "unbiased":
            return unbiased_eckart_young(zx, zy, sample_weight)
        return batch_eckart_young(zx, zy, sample_weight)


class AndrewLoss(nn.Module):
    """Classical Deep CCA objective: minus the sum of the batch canonical correlations.

    ``-||C_xx^{-1/2} C_xy C_yy^{-1/2}||_*`` with a small ridge ``eps`` on the
    within-view covariances (Andrew et al., 2013).  Biased for small batches and
    unstable when the batch is smaller than the number of outputs.
    """

    def __init__(self, eps=1e-3):
        super().__init__()
        self.eps = eps

    def forward(self, zx, zy, sample_weight=None):
        w = None if sample_weight is None else sample_weight.to(zx.dtype).reshape(-1, 1)
        n = _dof(zx, w)
        zx, zy = _centred(zx, w), _centred(zy, w)
        wx = zx if w is None else w * zx
        wy = zy if w is None else w * zy
        eye = torch.eye(zx.shape[1], dtype=zx.dtype, device=zx.device)
        root_x = _inverse_sqrt(wx.T @ zx / n + self.eps * eye)
        root_y = _inverse_sqrt(wy.T @ zy / n + self.eps * eye)
        return -torch.linalg.matrix_norm(root_x @ (wx.T @ zy / n) @ root_y, ord="nuc")


def _inverse_sqrt(matrix):
    eigvals, eigvecs = torch.linalg.eigh(matrix)
    return eigvecs @ torch.diag(eigvals.clamp_min(1e-12).rsqrt()) @ eigvecs.T


class TwoViewNet(NeuralNet):
    """A skorch net whose forward returns both views' outputs and whose loss needs no y.

    ``y_true`` carries only the rows' weights, when the fit has them (see
    :func:`~sklearn_losses._torch.split_sample_weight`).
    """

    def get_loss(self, y_pred, y_true, X=None, training=False):
        zx, zy = y_pred
        _, sample_weight = split_sample_weight(y_true)
        if sample_weight is None:
            return self.criterion_(zx, zy)
        return self.criterion_(zx, zy, to_tensor(sample_weight, device=self.device))
