"""Multi-layer perceptron trained on EnsLoss or a fixed margin loss (skorch)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import SkorchEstimatorMixin
from ._base import (
    LogisticProbaMixin,
    encode_labels,
    label_codes,
    labels_from_decision,
    one_vs_rest_targets,
    validation_pair,
)
from ._losses import LOSS_OPTION

__all__ = ["EnsLossMLPClassifier"]


class EnsLossMLPClassifier(
    SkorchEstimatorMixin, LogisticProbaMixin, ClassifierMixin, BaseEstimator
):
    """Multi-layer perceptron trained on random calibrated losses (EnsLoss) or a fixed one.

    The network of the EnsLoss paper's tabular experiments (TabMLP): each hidden
    layer is ``Linear -> ReLU -> BatchNorm1d``, then a linear output, trained by SGD
    with momentum, weight decay and a cosine step-size schedule.  With
    ``loss="ensloss"`` every step draws a new random convex calibrated loss
    derivative (see :func:`calibrated_loss_derivatives`); the fixed losses train
    the same network on the same batches for comparison.  The paper's claim is
    that EnsLoss overfits less than any fixed loss, more so for deeper networks
    and noisy labels, judged at the final epoch.

    Binary problems have one output unit (``logit > 0`` predicts ``classes_[1]``);
    K > 2 classes get K one-vs-rest output units on a shared body.

    Read more in the :doc:`User Guide </user_guide/ensloss>`.

    Parameters
    ----------
    loss : {"ensloss", "logistic", "hinge", "squared_hinge", "exponential"}, \
            default="ensloss"
        The loss.  The exponential loss's gradient norm is clipped at 10, as in the paper.
    hidden_layer_sizes : tuple of int, default=(1024,)
        Widths of the hidden layers (the paper's MLP1, MLP3, MLP5 have 1, 3, 5 of 1024).
    batch_norm : bool, default=True
        Batch normalisation after each hidden activation.  The last incomplete batch
        of an epoch is then dropped, since a batch of one row cannot be normalised.
    optimizer : {"sgd", "adam"}, default="sgd"
        The optimiser (SGD uses ``momentum``).
    lr : float, default=1e-4
        Learning rate.
    momentum : float in [0, 1), default=0.9
        SGD momentum.
    weight_decay : float, default=5e-6
        L2 weight decay.
    max_epochs : int, default=300
        Epochs; the cosine schedule spans them and the final epoch's network is kept.
    batch_size : int, default=128
        Rows per batch.
    lr_schedule : {"cosine", "constant"}, default="cosine"
        Learning-rate schedule over epochs.
    boxcox_lambda : float, default=0.0
        Box-Cox parameter of the EnsLoss draws (0: log-normal, the paper's default).
    resample_lambda_every : int or None, default=None
        When set, draw a new ``boxcox_lambda`` from U(-1, 1) every this many epochs.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batch order and loss draws; a fixed seed gives identical
        weights on a CPU.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : skorch.NeuralNet
        The trained network (``net_.history`` holds the per-epoch records).
    device_ : str
        The device used.
    validation_scores_ : list of float
        Accuracy on ``(X_val, y_val)`` after each epoch, when they were given to ``fit``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    EnsLossClassifier : The same losses for a linear model.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_losses.ensloss import EnsLossMLPClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), EnsLossMLPClassifier(
    ...     hidden_layer_sizes=(64,), lr=1e-2, max_epochs=30, random_state=0))
    >>> bool(clf.fit(X_train, y_train).score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints = {
        "loss": [LOSS_OPTION],
        "hidden_layer_sizes": [tuple, list],
        "batch_norm": ["boolean"],
        "optimizer": [StrOptions({"sgd", "adam"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "lr_schedule": [StrOptions({"cosine", "constant"})],
        "boxcox_lambda": [Interval(Real, None, None, closed="neither")],
        "resample_lambda_every": [Interval(Integral, 1, None, closed="left"), None],
        "device": [str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        loss="ensloss",
        *,
        hidden_layer_sizes=(1024,),
        batch_norm=True,
        optimizer="sgd",
        lr=1e-4,
        momentum=0.9,
        weight_decay=5e-6,
        max_epochs=300,
        batch_size=128,
        lr_schedule="cosine",
        boxcox_lambda=0.0,
        resample_lambda_every=None,
        device="auto",
        verbose=0,
        random_state=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_norm = batch_norm
        self.optimizer = optimizer
        self.lr = lr
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.lr_schedule = lr_schedule
        self.boxcox_lambda = boxcox_lambda
        self.resample_lambda_every = resample_lambda_every
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, X_val=None, y_val=None):
        """Train for ``max_epochs`` epochs and keep the final network.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        X_val, y_val : array-like, default=None
            Optional held-out data scored (accuracy) after every epoch into
            ``validation_scores_``; it does not influence training.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        if self.batch_norm and self.batch_size < 2:
            raise ValueError(
                "batch_size=1 cannot be used with batch_norm=True: batch normalisation "
                "needs at least 2 rows per batch. Use batch_size >= 2 or batch_norm=False."
            )
        X, y = validate_data(self, X, y, dtype=np.float32)
        Y = encode_labels(self, y).astype(np.float32)
        self._validation = self._validation_set(X_val, y_val)  # read by _make_net
        self._fit_net(np.require(X, requirements=["C", "W"]), Y)
        history = self.net_.history
        self.validation_scores_ = history[:, "valid_acc"] if self._validation else []
        del self._validation
        return self

    def _validation_set(self, X_val, y_val):
        """The validation data as the net's float32 inputs and +-1 targets, or None."""
        if validation_pair(X_val, y_val) is None:
            return None
        X_val = validate_data(self, X_val, dtype=np.float32, reset=False)
        codes = label_codes(self.classes_, y_val, "y_val")
        Y_val = one_vs_rest_targets(codes, len(self.classes_)).astype(np.float32)
        return np.require(X_val, requirements=["C", "W"]), Y_val

    def _make_net(self, X, Y, device):
        from ._nets import make_margin_net

        return make_margin_net(
            X.shape[1],
            Y.shape[1],
            loss=self.loss,
            hidden_layer_sizes=self.hidden_layer_sizes,
            batch_norm=self.batch_norm,
            optimizer=self.optimizer,
            lr=self.lr,
            momentum=self.momentum,
            weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=min(self.batch_size, X.shape[0]),
            lr_schedule=self.lr_schedule,
            boxcox_lambda=self.boxcox_lambda,
            resample_lambda_every=self.resample_lambda_every,
            validation=self._validation,
            device=device,
            callbacks=self._callbacks(),
        )

    def decision_function(self, X):
        """The network's logits (one column per class when multiclass).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        scores = self._forward_numpy(X)
        return scores.ravel() if scores.shape[1] == 1 else scores

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        return labels_from_decision(self.classes_, self.decision_function(X))
