"""torch parts of the EnsLoss family: the margin criterion and the skorch net.

Imported only when :class:`EnsLossMLPClassifier` is fitted; importing the family
does not import torch.
"""

import torch
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochScoring, GradientNormClipping, LRScheduler
from skorch.dataset import Dataset
from skorch.helper import predefined_split
from torch import nn

from .._torch import batch_loader, mlp
from ._kernels import CLIP, EXP_MARGIN_FLOOR, SHIFT, TAIL
from ._losses import EXPONENTIAL_MAX_GRAD_NORM


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
    calibrated derivative ``g`` per column and returns ``sum(g * z) / B`` with ``g``
    held constant, so the gradient with respect to the logits is ``g * y / B``.  The
    value of that surrogate is meaningless; in evaluation mode (validation) the
    criterion reports the logistic loss instead, for monitoring only.
    """

    def __init__(self, loss="ensloss", boxcox_lambda=0.0):
        super().__init__()
        self.loss = loss
        self.boxcox_lambda = boxcox_lambda

    def forward(self, logits, target):
        z = target * logits.reshape(target.shape)
        n_rows = z.shape[0]
        if self.loss == "ensloss" and self.training:
            with torch.no_grad():
                g = derivatives_from_noise(z, torch.randn_like(z), self.boxcox_lambda)
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

    def __init__(self, every):
        self.every = every

    def on_epoch_begin(self, net, **kwargs):
        epoch = len(net.history) - 1
        if epoch > 0 and epoch % self.every == 0:
            net.criterion_.boxcox_lambda = float(torch.rand(1)) * 2.0 - 1.0


def one_vs_rest_accuracy(net, X, y):
    """Accuracy of the net's logits against +-1 targets (``EpochScoring`` signature)."""
    logits = net.forward(X).reshape(-1, y.shape[1])
    y = torch.as_tensor(y, device=logits.device)
    if y.shape[1] == 1:
        return float(torch.mean(((logits > 0) == (y > 0)).float()))
    return float(torch.mean((logits.argmax(1) == y.argmax(1)).float()))


def make_margin_net(
    n_features,
    n_outputs,
    *,
    loss,
    hidden_layer_sizes,
    batch_norm,
    optimizer,
    lr,
    momentum,
    weight_decay,
    max_epochs,
    batch_size,
    lr_schedule,
    boxcox_lambda,
    resample_lambda_every,
    validation,
    device,
    callbacks,
):
    """The skorch net of :class:`EnsLossMLPClassifier` (the paper's TabMLP and training)."""
    callbacks = list(callbacks)
    if lr_schedule == "cosine":
        callbacks.append(LRScheduler(torch.optim.lr_scheduler.CosineAnnealingLR, T_max=max_epochs))
    if loss == "exponential":
        callbacks.append(GradientNormClipping(EXPONENTIAL_MAX_GRAD_NORM))
    if resample_lambda_every is not None:
        callbacks.append(ResampleBoxCoxLambda(resample_lambda_every))
    train_split = None
    if validation is not None:
        train_split = predefined_split(Dataset(*validation))
        callbacks.append(
            EpochScoring(one_vs_rest_accuracy, lower_is_better=False, name="valid_acc")
        )
    if optimizer == "sgd":
        optimizer_options = {"optimizer": torch.optim.SGD, "optimizer__momentum": momentum}
    else:
        optimizer_options = {"optimizer": torch.optim.Adam}
    return NeuralNet(
        mlp(n_features, tuple(hidden_layer_sizes), "relu", n_outputs, batch_norm=batch_norm),
        criterion=MarginLoss,
        criterion__loss=loss,
        criterion__boxcox_lambda=float(boxcox_lambda),
        lr=lr,
        optimizer__weight_decay=weight_decay,
        max_epochs=max_epochs,
        batch_size=batch_size,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        # batch norm cannot normalise a batch of one row
        iterator_train__drop_last=batch_norm,
        iterator_valid=batch_loader,
        train_split=train_split,
        callbacks=callbacks,
        verbose=0,
        device=device,
        **optimizer_options,
    )
