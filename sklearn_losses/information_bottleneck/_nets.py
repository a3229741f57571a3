"""torch parts of the CS information bottleneck: the estimators' backend, the network, the net.

Imported only when :class:`CSIBRegressor` is fitted; importing the family does not
import torch.
"""

import numpy as np
import torch
from skorch.callbacks import Callback
from skorch.utils import to_tensor
from torch import nn

from .._torch import NeuralNet, mlp, split_sample_weight, weighted_mean
from ._batch import TORCH, Batch
from ._loss import (
    conditional_cs_divergence_from_samples,
    cs_mutual_information_from_samples,
    resolve_width,
)


def _log_weight(sample_weight):
    return None if sample_weight is None else torch.log(sample_weight)


def conditional_cs_divergence(
    x, y, y_pred, *, sigma_x, sigma_y, estimator="embedding", sample_weight=None
):
    """Differentiable twin of the NumPy estimator, on float64 tensors of shape (n, d).

    ``sample_weight``: positive row weights (None: equal), see ``_loss.py``.  The
    reference: training evaluates the same estimate through :class:`~._batch.Batch`.
    """
    width_x = resolve_width(sigma_x, x, TORCH)
    width_y = resolve_width(sigma_y, torch.cat([y, y_pred]), TORCH)
    return conditional_cs_divergence_from_samples(
        x, y, y_pred, width_x, width_y, estimator, TORCH, _log_weight(sample_weight)
    )


def cs_mutual_information(x, t, *, sigma_x, sigma_t, normalized=False, sample_weight=None):
    """Differentiable twin of the NumPy estimator, on float64 tensors of shape (n, d).

    ``sample_weight``: positive row weights (None: equal), see ``_loss.py``.
    """
    width_x = resolve_width(sigma_x, x, TORCH)
    width_t = resolve_width(sigma_t, t, TORCH)
    return cs_mutual_information_from_samples(
        x, t, width_x, width_t, normalized, TORCH, _log_weight(sample_weight)
    )


class BottleneckNetwork(nn.Module):
    """Encoder ``x -> t`` and decoder ``t -> y``; returns ``(y_pred, t)``.

    The encoder's hidden layers end in a linear map to ``t`` (of the last hidden
    width).  In training mode ``noise_std`` adds isotropic Gaussian noise to ``t``
    (the paper's stochastic encoder; the authors' code trains without noise).
    """

    def __init__(
        self,
        n_features,
        n_outputs,
        hidden_layer_sizes,
        decoder_layer_sizes,
        noise_std,
        generator=None,
    ):
        super().__init__()
        width = hidden_layer_sizes[-1]
        self.encoder = mlp(n_features, hidden_layer_sizes, "relu", width)
        self.decoder = mlp(width, decoder_layer_sizes, "relu", n_outputs)
        self.noise_std = noise_std
        self.generator = generator  # the fit's own, for the noise

    def forward(self, X):
        t = self.encoder(X)
        if self.training and self.noise_std > 0:
            noise = torch.randn(t.shape, generator=self.generator, dtype=t.dtype, device=t.device)
            t = t + self.noise_std * noise
        return self.decoder(t), t


class CSIBNet(NeuralNet):
    """skorch net whose loss is ``prediction term + beta * I(x; t)``.

    The terms of each training batch are recorded in the batch history as
    ``prediction`` and ``mutual_information``.  With sample weights (see
    :func:`~sklearn_losses._torch.split_sample_weight`) both terms are those of the
    batch's weighted empirical distribution.  The objective is evaluated by
    :class:`~._batch.Batch` (the data-only terms once per batch; the embedding
    estimate by its series within ``embedding_tol``).
    """

    def __init__(
        self,
        module,
        *,
        beta,
        loss,
        sigma_x,
        sigma_y,
        sigma_t,
        normalize_mi,
        estimator,
        embedding_tol=1e-8,
        **kwargs,
    ):
        super().__init__(module, **kwargs)
        self.beta = beta
        self.loss = loss
        self.sigma_x = sigma_x
        self.sigma_y = sigma_y
        self.sigma_t = sigma_t
        self.normalize_mi = normalize_mi
        self.estimator = estimator
        self.embedding_tol = embedding_tol

    def get_loss(self, y_pred, y_true, X=None, training=False):
        y_hat, t = y_pred
        y_hat = y_hat.double()
        y_true, weight = split_sample_weight(y_true)
        y_true = to_tensor(y_true, device=y_hat.device).double()
        if weight is not None:
            weight = to_tensor(weight, device=y_hat.device).double()
        # the Gram matrix of x and the terms of the data alone: once per batch, no autograd
        batch = Batch(to_tensor(X, device=y_hat.device).double(), weight, sigma_x=self.sigma_x)
        if self.loss == "mse":
            prediction = weighted_mean((y_hat - y_true) ** 2, weight)
        else:
            prediction = batch.prediction(
                y_true,
                y_hat,
                sigma_y=self.sigma_y,
                estimator=self.estimator,
                tol=self.embedding_tol,
            )
        if self.beta > 0 or training:
            # recorded only (beta = 0): no gradient
            with torch.set_grad_enabled(torch.is_grad_enabled() and self.beta > 0):
                information = batch.information(
                    t.double(), sigma_t=self.sigma_t, normalized=self.normalize_mi
                )
        if training:
            self.history.record_batch("prediction", float(prediction.detach()))
            self.history.record_batch("mutual_information", float(information.detach()))
        if self.beta == 0:
            return prediction
        return prediction + self.beta * information


class InformationPlane(Callback):
    """Average the batch terms of each epoch into the epoch history."""

    def on_epoch_end(self, net, **kwargs):
        batches = [b for b in net.history[-1]["batches"] if "prediction" in b]
        for key in ("prediction", "mutual_information"):
            net.history.record(key, float(np.mean([b[key] for b in batches])))
