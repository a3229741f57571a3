"""A neural network trained on bag-level responses (skorch, batches of whole bags)."""

import math
from functools import partial
from numbers import Real

import numpy as np
from sklearn.base import BaseEstimator, RegressorMixin, _fit_context
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import NET_PARAMETERS, SkorchEstimatorMixin, mlp
from ..utils.validation import check_sample_weight
from ._bags import BagOperator, check_bags
from ._scoring import BagScoreMixin

__all__ = ["AggregateMLPRegressor"]


class WholeBagNetMixin(SkorchEstimatorMixin):
    """What the aggregate networks share: bags and weights in, batches of whole bags.

    A subclass's ``fit`` calls :meth:`_bags_and_weights` and
    :meth:`_scale_features`, then ``_fit_net`` with targets whose last column is
    the bag codes (float64, so that codes stay exact beyond 2**24 bags): the
    batches are whole bags (``_nets.whole_bag_loader``) and early stopping holds
    out whole bags (``_nets.split_by_bags``).
    """

    # one constructor for the aggregate networks: the same parameters, meaning the same
    _parameter_constraints = {
        **NET_PARAMETERS,
        "rho": [Interval(Real, 0, 1, closed="both")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu"})],
        "scale": ["boolean"],
    }

    def __init__(
        self,
        rho=0.0,
        *,
        hidden_layer_sizes=(64,),
        activation="relu",
        scale=True,
        solver="adam",
        learning_rate="constant",
        learning_rate_init=1e-3,
        momentum=0.9,
        weight_decay=0.0,
        batch_size=256,
        max_iter=100,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        verbose=0,
        random_state=None,
    ):
        self.rho = rho
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.scale = scale
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
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    def _bags_and_weights(self, X, y, bags, sample_weight):
        """Check ``bags`` and ``sample_weight`` and drop rows of weight 0.

        Returns ``X``, ``y`` (without those rows), the :class:`BagOperator` of the
        rows kept (consecutive codes) and the weights (None when not given).
        """
        codes = check_bags(bags, X.shape[0])
        weight = None
        if sample_weight is not None:
            weight = check_sample_weight(sample_weight, X, type(self).__name__)
            keep = weight > 0  # a row of weight 0 is no row
            X, y, codes, weight = X[keep], y[keep], codes[keep], weight[keep]
        bag_operator = BagOperator(codes, np.ones(X.shape[0]) if weight is None else weight)
        return X, y, bag_operator, weight

    def _scale_features(self, X, weight):
        """The network's float32 input: ``X`` standardized (weighted) when ``scale``."""
        # features on a unit scale: a network's default initialisation and step assume it
        # (diabetes' columns, of std 0.05, left the network at R^2 0.08 after 100 epochs)
        self._x_scaler = StandardScaler(with_mean=self.scale, with_std=self.scale)
        self._x_scaler.fit(X, sample_weight=weight)
        return self._x_scaler.transform(X).astype(np.float32)

    def _net_options(self):
        from ._nets import whole_bag_loader

        return {"iterator_train": whole_bag_loader, "iterator_valid": whole_bag_loader}

    def _train_split(self, seed, early_stopping):
        if not early_stopping:
            return None
        from ._nets import split_by_bags

        return partial(split_by_bags, validation_fraction=self.validation_fraction, seed=seed)

    def _n_held_out(self, X, y):
        # whole bags are held out: count bags, as GroupShuffleSplit does
        return math.ceil(self.validation_fraction * len(np.unique(y[:, -1])))


class AggregateMLPRegressor(WholeBagNetMixin, BagScoreMixin, RegressorMixin, BaseEstimator):
    """Multi-layer perceptron trained from bag-level responses.

    The loss of :class:`AggregateLinearRegression` for a neural network ``f``:
    squared error between each bag's mean response and mean prediction, plus
    ``rho`` times the within-bag variance of the predictions.  Trained (with Adam
    by default) through skorch on batches made of **whole bags** (a bag is never split across
    batches, so every batch sees complete bag means).  With ``scale=True`` (the
    default) the features and the response are standardized internally and
    predictions are returned on the original scale.  With ``sample_weight``,
    bag means are weighted and each bag weighs its total weight, as in
    :class:`AggregateLinearRegression`.

    ``score(X, y, bags=bags)`` is the R^2 of the bag means (for held-out bag
    aggregates); without ``bags`` the row-level R^2.  See
    :class:`AggregateLinearRegression` for model selection on bags.

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the within-bag prediction variance (0: bag level, 1: instance level).
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the hidden layers.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden activation.
    scale : bool, default=True
        Standardize the features and the bag responses (weighted by
        ``sample_weight``) before training, and return predictions on the original
        scale.  With ``False`` the data are used as given.
    solver : {"adam", "sgd"}, default="adam"
        The optimiser (SGD uses ``momentum``).
    learning_rate : {"constant", "cosine"}, default="constant"
        Step-size schedule over epochs.
    learning_rate_init : float, default=1e-3
        Initial step size.
    momentum : float in [0, 1), default=0.9
        SGD momentum.
    weight_decay : float, default=0.0
        L2 weight decay.
    batch_size : int, default=256
        Rows per batch (whole bags are packed up to this size).
    max_iter : int, default=100
        Maximum number of epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the **bags** and stop when their bag
        loss has not improved by ``tol`` for ``n_iter_no_change`` epochs, keeping
        the best epoch's weights.  Off by default: with aggregated responses the
        held-out bags take a tenth of an already coarse signal.
    validation_fraction : float in (0, 1), default=0.1
        Held-out fraction of the bags for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the held-out loss that counts as an improvement.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batch order and the validation split (through generators
        local to the fit); a fixed seed gives identical results on a CPU, in any thread.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network.
    device_ : str
        The device used.
    n_iter_ : int
        Number of epochs run (fewer than ``max_iter`` when early stopping stopped).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    AggregateLinearRegression : The linear model on the same bag losses, in closed form.
    AggregateLogisticRegression : Learning from bag-level label proportions.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import (
    ...     AggregateMLPRegressor, aggregate_responses, make_bags)
    >>> rng = np.random.default_rng(0)
    >>> X = rng.uniform(-2, 2, size=(2000, 2))
    >>> y = np.sin(X[:, 0]) + X[:, 1] ** 2
    >>> bags = make_bags(2000, 5, random_state=0)
    >>> reg = AggregateMLPRegressor(max_iter=40, random_state=0)
    >>> reg = reg.fit(X, aggregate_responses(y, bags), bags=bags)
    >>> bool(reg.score(X, y) > 0.6)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Train on bag-level responses.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,)
            Each row's response or its bag's aggregate (only bag means are used).
        bags : array-like of shape (n_samples,), default=None
            Bag ids; None puts every row in its own bag.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (None: equal).  The loss of a batch is
            ``[sum_a W_a (ybar_a - fbar_a)^2 + rho sum_i w_i (f_i - fbar_a)^2] / sum_i w_i``
            with weighted bag means ``fbar_a = sum_{i in a} w_i f_i / W_a`` and bag
            weights ``W_a = sum_{i in a} w_i``: an integer weight equals repeating
            the row in its bag.  Rows of weight 0 are dropped before training.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, y_numeric=True)
        X, y, bag_operator, weight = self._bags_and_weights(X, y, bags, sample_weight)
        codes = bag_operator.codes
        y_bag = bag_operator.mean(y.astype(np.float64))[codes]
        self._y_mean, self._y_scale = 0.0, 1.0
        if self.scale:
            self._y_mean = float(np.average(y_bag, weights=weight))
            std = float(np.sqrt(np.average((y_bag - self._y_mean) ** 2, weights=weight)))
            self._y_scale = std if std > 0 else 1.0
        target = np.column_stack([(y_bag - self._y_mean) / self._y_scale, codes])
        self._fit_net(self._scale_features(X, weight), target, sample_weight=weight)
        return self

    def _module_factory(self, X, y, generator):
        return partial(mlp, X.shape[1], self._hidden_layer_sizes, self.activation)

    def _criterion(self, generator):
        from ._nets import BagLoss

        return BagLoss(self.rho)

    def predict(self, X):
        """Predict each row's response.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The network's prediction for each row (on the scale of ``y``).
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Xs = self._x_scaler.transform(X)
        return self._forward_numpy(Xs).ravel() * self._y_scale + self._y_mean

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.regressor_tags.poor_score = True  # few epochs in the common checks
        return tags
