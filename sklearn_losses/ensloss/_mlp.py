"""Multi-layer perceptron trained on EnsLoss or a fixed margin loss (skorch)."""

from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import NET_PARAMETERS, SkorchEstimatorMixin, mlp
from ..utils.validation import check_sample_weight
from ._base import (
    LogisticProbaMixin,
    encode_labels,
    label_codes,
    labels_from_decision,
    one_vs_rest_targets,
    validation_pair,
)
from ._loss import LOSS_OPTION

__all__ = ["EnsLossMLPClassifier"]


class EnsLossMLPClassifier(
    SkorchEstimatorMixin, LogisticProbaMixin, ClassifierMixin, BaseEstimator
):
    """Multi-layer perceptron trained on random calibrated losses (EnsLoss) or a fixed one.

    The network of the EnsLoss paper's tabular experiments (TabMLP): each hidden
    layer is ``Linear -> ReLU -> BatchNorm1d``, then a linear output.  The
    defaults (Adam, early stopping) train well on small tabular data; the paper
    trains 1024 units by SGD with momentum, weight decay and a cosine schedule for
    300 epochs and keeps the final epoch (``hidden_layer_sizes=(1024,),
    solver="sgd", learning_rate="cosine", learning_rate_init=1e-4, max_iter=300,
    early_stopping=False``).  With
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
    hidden_layer_sizes : tuple of int, default=(256,)
        Widths of the hidden layers (the paper's MLP1, MLP3, MLP5 have 1, 3, 5 of 1024).
    batch_norm : bool, default=True
        Batch normalisation after each hidden activation.  The last incomplete batch
        of an epoch is then dropped, since a batch of one row cannot be normalised.
    solver : {"adam", "sgd"}, default="adam"
        The optimiser (SGD uses ``momentum``; the paper's setting).
    learning_rate : {"constant", "cosine"}, default="constant"
        Step-size schedule over epochs (the paper's: ``"cosine"`` over ``max_iter``).
    learning_rate_init : float, default=1e-3
        Initial step size (the paper's: 1e-4 with SGD).
    momentum : float in [0, 1), default=0.9
        SGD momentum.
    weight_decay : float, default=5e-6
        L2 weight decay.
    batch_size : int, default=128
        Rows per batch.
    max_iter : int, default=200
        Maximum number of epochs (the paper's: 300, keeping the final epoch's network).
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the training rows (or use ``X_val, y_val``
        when given), stop when the held-out loss (the logistic loss for
        ``loss="ensloss"``) has not improved by ``tol`` for ``n_iter_no_change``
        epochs, and keep the best epoch's weights.  The paper trains without it.
    validation_fraction : float in (0, 1), default=0.1
        Held-out fraction for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the held-out loss that counts as an improvement.
    boxcox_lambda : float, default=0.0
        Box-Cox parameter of the EnsLoss draws (0: log-normal, the paper's default).
    resample_lambda_every : int or None, default=None
        When set, draw a new ``boxcox_lambda`` from U(-1, 1) every this many epochs.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batch order and loss draws (through generators local to the
        fit); a fixed seed gives identical weights on a CPU, in any thread.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    net_ : skorch.NeuralNet
        The trained network (``net_.history`` holds the per-epoch records).
    device_ : str
        The device used.
    n_iter_ : int
        Number of epochs run (fewer than ``max_iter`` when early stopping stopped).
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
    >>> clf = make_pipeline(StandardScaler(), EnsLossMLPClassifier(random_state=0))
    >>> bool(clf.fit(X_train, y_train).score(X_test, y_test) > 0.9)
    True
    """

    _parameter_constraints = {
        **NET_PARAMETERS,
        "loss": [LOSS_OPTION],
        "hidden_layer_sizes": [tuple, list],
        "batch_norm": ["boolean"],
        "boxcox_lambda": [Interval(Real, None, None, closed="neither")],
        "resample_lambda_every": [Interval(Integral, 1, None, closed="left"), None],
    }

    def __init__(
        self,
        loss="ensloss",
        *,
        hidden_layer_sizes=(256,),
        batch_norm=True,
        solver="adam",
        learning_rate="constant",
        learning_rate_init=1e-3,
        momentum=0.9,
        weight_decay=5e-6,
        batch_size=128,
        max_iter=200,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        boxcox_lambda=0.0,
        resample_lambda_every=None,
        device="auto",
        verbose=0,
        random_state=None,
    ):
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.batch_norm = batch_norm
        self.solver = solver
        self.learning_rate = learning_rate
        self.learning_rate_init = learning_rate_init
        self.momentum = momentum
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.boxcox_lambda = boxcox_lambda
        self.resample_lambda_every = resample_lambda_every
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None):
        """Train the network (with early stopping unless it is turned off).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (None: equal).  Each batch's loss is the
            weighted mean of its rows' losses (an integer weight equals repeating
            the row in the batch; EnsLoss draws its derivatives for the batch as
            without weights).  Rows of weight 0 are dropped before training (they
            would still enter batch normalisation and the EnsLoss ranks).
        X_val, y_val : array-like, default=None
            Optional held-out data, scored (accuracy) after every epoch into
            ``validation_scores_``; with ``early_stopping`` it replaces the
            ``validation_fraction`` held out of the training data.

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
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, type(self).__name__)
            keep = sample_weight > 0
            X, y, sample_weight = X[keep], y[keep], sample_weight[keep]
        if self.batch_norm and X.shape[0] < 2:
            raise ValueError(
                f"Found {X.shape[0]} sample(s); batch normalisation needs at least 2 rows. "
                "Use more rows or batch_norm=False."
            )
        Y = encode_labels(self, y).astype(np.float32)
        self._validation = self._validation_set(X_val, y_val)  # read while the net is built
        try:
            self._fit_net(np.require(X, requirements=["C", "W"]), Y, sample_weight=sample_weight)
        finally:
            validation = self.__dict__.pop("_validation")
        history = self.net_.history
        self.validation_scores_ = history[:, "valid_acc"] if validation else []
        return self

    def _validation_set(self, X_val, y_val):
        """The validation data as the net's float32 inputs and +-1 targets, or None."""
        if validation_pair(X_val, y_val) is None:
            return None
        X_val = validate_data(self, X_val, dtype=np.float32, reset=False)
        codes = label_codes(self.classes_, y_val, "y_val")
        Y_val = one_vs_rest_targets(codes, len(self.classes_)).astype(np.float32)
        return np.require(X_val, requirements=["C", "W"]), Y_val

    @property
    def _drop_last(self):
        return self.batch_norm  # batch norm cannot normalise a batch of one row

    def _module_factory(self, X, Y, generator):
        sizes = self._hidden_layer_sizes
        return partial(mlp, X.shape[1], sizes, "relu", Y.shape[1], batch_norm=self.batch_norm)

    def _criterion(self, generator):
        from ._nets import MarginLoss

        return MarginLoss(self.loss, float(self.boxcox_lambda), generator)

    def _extra_callbacks(self, generator):
        from ._nets import margin_callbacks

        return margin_callbacks(
            self.loss, self.resample_lambda_every, self._validation is not None, generator
        )

    def _train_split(self, seed, early_stopping):
        if self._validation is None:
            return super()._train_split(seed, early_stopping)
        from ._nets import predefined_validation

        return predefined_validation(*self._validation)  # scored every epoch, stopping or not

    def _n_held_out(self, X, y):
        if self._validation is None:
            return super()._n_held_out(X, y)
        return len(self._validation[0])

    def decision_function(self, X):
        """The network's logits (one column per class when multiclass).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            The network's logits: one column per class, or a vector for two
            classes (positive favours ``classes_[1]``).
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
            The predicted class labels.
        """
        check_is_fitted(self)
        return labels_from_decision(self.classes_, self.decision_function(X))
