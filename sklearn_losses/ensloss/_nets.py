"""torch parts of the EnsLoss family: the margin criterion and the skorch net.

Imported only when :class:`EnsLossMLPClassifier` is fitted; importing the family
does not import torch.
"""

import torch
from skorch.callbacks import Callback, EpochScoring, GradientNormClipping
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn

from .._torch import split_sample_weight, weighted_mean
from ._loss import (
    CLIP,
    EXP_MARGIN_FLOOR,
    EXPONENTIAL,
    EXPONENTIAL_MAX_GRAD_NORM,
    HINGE,
    LOGISTIC,
    LOSS_CODES,
    SHIFT,
    SQUARED_HINGE,
    TAIL,
)


def derivatives_from_noise(z, eps, lam):
    """Torch twin of the numba generator, column by column of ``z`` (no gradient).

    The torch form of ``_loss.random_derivatives`` (the definition), with its
    constants; tied margins are ranked by row, as there, so both give the same
    derivatives from the same noise.
    """
    if lam == 0.0:
        u = torch.exp(eps)
    else:
        base = 1.0 + lam * eps
        beyond = torch.full_like(eps, float("inf") if lam < 0 else 0.0)
        u = torch.where(base > 0, base.clamp_min(0.0).pow(1.0 / lam), beyond)
    g = torch.sort(-u, dim=0).values.clamp_min(CLIP) - SHIFT
    out = torch.empty_like(z).scatter_(0, torch.argsort(z, dim=0, stable=True), g)
    return torch.where(z > TAIL, out / z, out)


def _exponential(z):
    # exp(-z), continued linearly below EXP_MARGIN_FLOOR, as ``_loss.fixed_loss``: its
    # derivative is -exp(-max(z, EXP_MARGIN_FLOOR)) (finite, and never 0 for a bad margin)
    floored = z.clamp_min(EXP_MARGIN_FLOOR)
    return torch.exp(-floored) * (1.0 + (floored - z))


# The fixed losses' values, by the codes of ``_loss.LOSS_CODES``: the torch form of
# ``_loss.fixed_loss`` (the definition), whose values and autograd derivatives the tests
# check against ``_loss.fixed_loss`` and ``_loss.fixed_loss_derivative`` in float64.
FIXED_LOSSES = {
    LOGISTIC: lambda z: torch.logaddexp(torch.zeros_like(z), -z),
    HINGE: lambda z: torch.relu(1.0 - z),
    SQUARED_HINGE: lambda z: torch.relu(1.0 - z) ** 2,
    EXPONENTIAL: _exponential,
}


class MarginLoss(nn.Module):
    """Margin loss of +-1 targets, summed over one-vs-rest columns, averaged over rows.

    With ``loss="ensloss"`` and in training mode, each call draws a new random
    calibrated derivative ``g`` per column (normals from ``generator``, the fit's
    own) and returns ``sum(g * z) / B`` with ``g`` held constant, so the gradient
    with respect to the logits is ``g * y / B``.  The value of that surrogate is
    meaningless; in evaluation mode (validation) the criterion reports the
    logistic loss instead, for monitoring and early stopping.

    With row weights ``w`` (see :func:`~sklearn_losses._torch.split_sample_weight`)
    the mean over rows is weighted: ``sum_i w_i l_i / sum_i w_i``, so that an integer
    weight equals repeating the row (for EnsLoss, with the same ``g``: the draws
    depend on the batch, not on the weights).
    """

    def __init__(self, loss="ensloss", boxcox_lambda=0.0, generator=None):
        super().__init__()
        self.loss = loss
        self.boxcox_lambda = boxcox_lambda
        self.generator = generator

    def forward(self, logits, target):
        target, weight = split_sample_weight(target)
        z = target * logits.reshape(target.shape)
        if self.loss == "ensloss" and self.training:
            with torch.no_grad():
                noise = torch.randn(
                    z.shape, generator=self.generator, dtype=z.dtype, device=z.device
                )
                g = derivatives_from_noise(z, noise, self.boxcox_lambda)
            values = g * z
        else:
            code = LOGISTIC if self.loss == "ensloss" else LOSS_CODES[self.loss]
            values = FIXED_LOSSES[code](z)
        return weighted_mean(values.sum(1), weight)  # summed over one-vs-rest columns


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
