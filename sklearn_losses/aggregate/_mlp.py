"""A neural network trained on bag-level responses (skorch, batches of whole bags)."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import SkorchEstimatorMixin
from ._bags import BagOperator, check_bags

__all__ = ["AggregateMLPRegressor"]


class AggregateMLPRegressor(SkorchEstimatorMixin, RegressorMixin, BaseEstimator):
    """Multi-layer perceptron trained from bag-level responses.

    The loss of :class:`AggregateLinearRegression` for a neural network ``f``:
    squared error between each bag's mean response and mean prediction, plus
    ``rho`` times the within-bag variance of the predictions.  Trained with Adam
    through skorch on batches made of **whole bags** (a bag is never split across
    batches, so every batch sees complete bag means).  The response is
    standardized internally and predictions are returned on the original scale.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the within-bag prediction variance (0: bag level, 1: instance level).
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the hidden layers.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden activation.
    lr : float, default=1e-3
        Adam learning rate.
    weight_decay : float, default=0.0
        Adam weight decay.
    max_epochs : int, default=100
        Passes over the data.
    batch_size : int, default=256
        Rows per batch (whole bags are packed up to this size).
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights and batch order; a fixed seed gives identical results on a CPU.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network.
    device_ : str
        The device used.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    Examples
    --------
    >>> from sklearn_losses.aggregate import (
    ...     AggregateMLPRegressor, aggregate_responses, make_bags)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(2000, 2))
    >>> y = np.sin(X[:, 0]) + X[:, 1] ** 2
    >>> bags = make_bags(2000, 5, random_state=0)
    >>> reg = AggregateMLPRegressor(max_epochs=40, random_state=0)
    >>> reg = reg.fit(X, aggregate_responses(y, bags), bags=bags)
    >>> bool(reg.score(X, y) > 0.6)
    True
    """

    _parameter_constraints = {
        "rho": [Interval(Real, 0, 1, closed="both")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "weight_decay": [Interval(Real, 0, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "device": [str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        rho=0.0,
        *,
        hidden_layer_sizes=(64,),
        activation="relu",
        lr=1e-3,
        weight_decay=0.0,
        max_epochs=100,
        batch_size=256,
        device="auto",
        verbose=0,
        random_state=None,
    ):
        self.rho = rho
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.lr = lr
        self.weight_decay = weight_decay
        self.max_epochs = max_epochs
        self.batch_size = batch_size
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None):
        """Train on bag-level responses.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,)
            Each row's response or its bag's aggregate (only bag means are used).
        bags : array-like of shape (n_samples,), default=None
            Bag ids; None puts every row in its own bag.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float32, y_numeric=True)
        codes = check_bags(bags, X.shape[0])
        y_bag = BagOperator(codes, np.ones(len(y))).mean(y.astype(np.float64))[codes]
        self._y_mean = float(y_bag.mean())
        std = float(y_bag.std())
        self._y_scale = std if std > 0 else 1.0
        target = np.column_stack([(y_bag - self._y_mean) / self._y_scale, codes])
        self._fit_net(np.require(X, requirements=["C", "W"]), target.astype(np.float32))
        return self

    def _make_net(self, X, y, device):
        from ._nets import make_bag_net

        return make_bag_net(
            X.shape[1],
            y[:, 1].astype(np.int64),
            rho=self.rho,
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
            lr=self.lr,
            weight_decay=self.weight_decay,
            max_epochs=self.max_epochs,
            batch_size=self.batch_size,
            device=device,
            callbacks=self._callbacks(),
        )

    def predict(self, X):
        """Predict each row's response.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float32, reset=False)
        return self._forward_numpy(X).ravel() * self._y_scale + self._y_mean

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # few epochs in the common checks
        return tags
