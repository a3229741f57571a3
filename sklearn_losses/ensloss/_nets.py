"""torch parts of the EnsLoss family: the margin criterion and the skorch net.

Imported only when :class:`EnsLossMLPClassifier` is fitted; importing the family
does not import torch.
"""

import torch
from skorch.callbacks import Callback, EpochScoring, GradientNormClipping
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn

from ._kernels import CLIP, EXP_MARGIN_FLOOR, SHIFT, TAIL
from ._loss import EXPONENTIAL_MAX_GRAD_NORM


def derivatives_from_noise(z, eps, lam):
    """Torch twin of the numba generator, column by column of ``z`` (no gradient)."""
    if lam == 0.0:
        u = torch.exp(eps)
    else:
        base = 1.0 + lam * eps
        beyond = torch.full_like(eps, float("inf") if lam < 0 else 0.0)
        u = torch.where(base > 0, base.clamp_min(0.0).pow(1.0 / lam), beyond)
    g = torch.sort(-u, dim=0).values.clamp_min(CLIP) - SHIFT
    out = torch.empty_like(z).scatter_(0, torch.argsort(z, dim=0, stable=True), g)
    return torch.where(z > TAIL, out / z, out)


class MarginLoss(nn.Module):
    """Margin loss of +-1 targets, summed over one-vs-rest columns, averaged over rows.

    With ``loss="ensloss"`` and in training mode, each call draws a new random
    calibrated derivative ``g`` per column (normals from ``generator``, the fit's
    own) and returns ``sum(g * z) / B`` with ``g`` held constant, so the gradient
    with respect to the logits is ``g * y / B``.  The value of that surrogate is
    meaningless; in evaluation mode (validation) the criterion reports the
    logistic loss instead, for monitoring and early stopping.
    """

    def __init__(self, loss="ensloss", boxcox_lambda=0.0, generator=None):
        super().__init__()
        self.loss = loss
        self.boxcox_lambda = boxcox_lambda
        self.generator = generator

    def forward(self, logits, target):
        z = target * logits.reshape(target.shape)
        n_rows = z.shape[0]
        if self.loss == "ensloss" and self.training:
            with torch.no_grad():
                noise = torch.randn(
                    z.shape, generator=self.generator, dtype=z.dtype, device=z.device
                )
                g = derivatives_from_noise(z, noise, self.boxcox_lambda)
            return torch.sum(g * z) / n_rows
        if self.loss in ("logistic", "ensloss"):
            values = nn.functional.softplus(-z)
        elif self.loss == "hinge":
            values = torch.relu(1.0 - z)
        elif self.loss == "squared_hinge":
            values = torch.relu(1.0 - z) ** 2
        else:  # exponential
            values = torch.exp(-z.clamp_min(EXP_MARGIN_FLOOR))
        return torch.sum(values) / n_rows


class ResampleBoxCoxLambda(Callback):
    """Draw the criterion's Box-Cox lambda from U(-1, 1) every ``every`` epochs."""

    def __init__(self, every, generator=None):
        self.every = every
        self.generator = generator

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        if epoch > 0 and epoch % self.every == 0:
            draw = torch.rand(1, generator=self.generator, device=self.generator.device)
            net.criterion_.boxcox_lambda = float(draw) * 2.0 - 1.0


def one_vs_rest_accuracy(net, X, y):
    """Accuracy of the net's logits against +-1 targets (``EpochScoring`` signature)."""
    logits = net.forward(X).reshape(-1, y.shape[1])
    y = torch.as_tensor(y, device=logits.device)
    if y.shape[1] == 1:
        return float(torch.mean(((logits > 0) == (y > 0)).float()))
    return float(torch.mean((logits.argmax(1) == y.argmax(1)).float()))


def margin_callbacks(loss, resample_lambda_every, validation, generator):
    """The family's own callbacks: clipping for the exponential loss, lambda draws, accuracy."""
    callbacks = []
    if loss == "exponential":
        callbacks.append(GradientNormClipping(EXPONENTIAL_MAX_GRAD_NORM))
    if resample_lambda_every is not None:
        callbacks.append(ResampleBoxCoxLambda(resample_lambda_every, generator))
    if validation:
        callbacks.append(
            EpochScoring(one_vs_rest_accuracy, lower_is_better=False, name="valid_acc")
        )
    return callbacks


def predefined_validation(X_val, Y_val):
    """skorch's ``train_split`` that validates on the given data."""
    return predefined_split(Dataset(X_val, Y_val))
