"""Deep CCA trained on the Eckart-Young loss through skorch."""

from functools import partial
from numbers import Integral

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._torch import NET_PARAMETERS, SkorchEstimatorMixin
from ._base import TwoViewMixin
from ._cca import CCA

__all__ = ["DeepCCA"]

MIN_ROWS = 4


class DeepCCA(
    SkorchEstimatorMixin,
    TwoViewMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Deep canonical correlation analysis with the Eckart-Young loss (DCCA-EY).

    One neural network per view maps it to ``n_components`` outputs; the networks
    are trained (with Adam by default) on the Eckart-Young loss of their outputs (Chapman et
    al., ICLR 2024), which, unlike the classical objective, needs no matrix
    inverse.  A final exact linear :class:`CCA` on the training outputs puts the
    representation in canonical form (sorted, unit variance, uncorrelated), so
    ``transform`` and ``score`` mean what they mean for :class:`CCA`.

    By default each batch's loss is computed from that batch's own covariances
    (``loss="ey"``), which is bounded below by ``-n_components`` on any batch; the
    paper's unbiased two-half estimate (``loss="ey_unbiased"``) has no lower bound
    on a finite batch, and a flexible network drives it far below the population
    optimum (see the user guide for measurements).  Early stopping watches the
    Eckart-Young loss of a held-out ``validation_fraction`` of the rows.

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the learned representation.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden widths of each view's network (``()`` gives a linear map).
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden activation.
    loss : {"ey", "ey_unbiased", "andrew"}, default="ey"
        ``"ey"``: the Eckart-Young loss of each batch's covariances (bounded);
        ``"ey_unbiased"``: the paper's unbiased two-half estimate (batches of at
        least 4 rows); ``"andrew"``: the classical Deep CCA objective (minus the
        batch canonical correlations), as a baseline.
    scale : bool, default=True
        Standardize each column before training.
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
    batch_size : int, default=128
        Rows per batch.
    max_iter : int, default=200
        Maximum number of epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the rows and stop when their
        Eckart-Young loss has not improved by ``tol`` for ``n_iter_no_change``
        epochs, keeping the best epoch's weights.
    validation_fraction : float in (0, 1), default=0.1
        Held-out fraction for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the held-out loss that counts as an improvement.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, the validation split and batch order (through generators
        local to the fit); a fixed seed gives identical results on a CPU, in any thread.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained two-tower network.
    cca_ : CCA
        The final linear CCA on the network outputs.
    canonical_correlations_ : ndarray of shape (n_components,)
        Training correlations of the learned representation.
    device_ : str
        The device used.
    n_iter_ : int
        Number of epochs run (fewer than ``max_iter`` when early stopping stopped).
    x_mean_, x_std_, y_mean_, y_std_ : ndarray
        Standardization of the views.
    n_features_in_ : int
        Number of features of X.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of X, when it has string column names.

    See Also
    --------
    CCA : The exact linear estimator (what a linear encoder reaches).
    StochasticCCA : The linear estimator trained by SGD on the same loss.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import DeepCCA
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(1000, (10, 10), correlations=(0.9,), random_state=0)
    >>> dcca = DeepCCA(n_components=1, hidden_layer_sizes=(32,), max_iter=10,
    ...                random_state=0).fit(X, Y)
    >>> dcca.transform(X).shape
    (1000, 1)
    """

    _parameter_constraints = {
        **NET_PARAMETERS,
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu"})],
        "loss": [StrOptions({"ey", "ey_unbiased", "andrew"})],
        "scale": ["boolean"],
    }
    _drop_last = True  # a batch of one row has no covariance: never train on one

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 256),
        activation="relu",
        loss="ey",
        scale=True,
        solver="adam",
        learning_rate="constant",
        learning_rate_init=1e-3,
        momentum=0.9,
        weight_decay=0.0,
        batch_size=128,
        max_iter=200,
        early_stopping=True,
        validation_fraction=0.1,
        n_iter_no_change=10,
        tol=1e-4,
        device="auto",
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
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

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Train the two networks, then fit the final linear CCA on their outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Second view.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows (None: all 1).  They weight the
            standardization, each batch's covariances in the loss (weighted
            centring, divided by ``sum(w) - 1``: integer weights equal repeated
            rows within a batch), the held-out loss of early stopping, and the
            final :class:`CCA`.  Batches are still drawn uniformly over rows.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, Y = self._validate_views(X, y)
        if X.shape[0] < MIN_ROWS:
            raise ValueError(
                f"DeepCCA needs at least {MIN_ROWS} rows (batches of two or more rows, "
                f"and two per half for loss='ey_unbiased'); got {X.shape[0]}."
            )
        if self.n_components > X.shape[0] - 1:
            raise ValueError(
                f"n_components={self.n_components} must be <= n_samples - 1 = {X.shape[0] - 1}."
            )
        if self.loss == "ey_unbiased" and self.batch_size < 4:
            raise ValueError(
                f"loss='ey_unbiased' splits each batch in two halves of at least two rows; "
                f"batch_size={self.batch_size} is below 4."
            )
        w = self._check_sample_weight(sample_weight, X)
        Xs, Ys = self._standardize_views(X, Y, w)
        self._n_features_y = Ys.shape[1]
        self._fit_net(
            {"x": Xs.astype(np.float32), "y": Ys.astype(np.float32)}, None, sample_weight=w
        )
        self.cca_ = CCA(self.n_components, scale=False).fit(*self._outputs(Xs, Ys), sample_weight=w)
        self.canonical_correlations_ = self.cca_.canonical_correlations_
        self._n_features_out = self.n_components
        return self

    def _module_factory(self, X, y, generator):
        from ._nets import TwoTower

        return partial(
            TwoTower,
            X["x"].shape[1],
            X["y"].shape[1],
            self.n_components,
            self._hidden_layer_sizes,
            self.activation,
        )

    def _criterion(self, generator):
        from ._nets import AndrewLoss, EckartYoungLoss

        if self.loss == "andrew":
            return AndrewLoss()
        return EckartYoungLoss("unbiased" if self.loss == "ey_unbiased" else "batch")

    def _net_class(self):
        from ._nets import TwoViewNet

        return TwoViewNet

    def _net_options(self):
        # the held-out loss is computed on the whole held-out set at once
        return {"iterator_valid__batch_size": np.iinfo(np.int32).max}

    def _outputs(self, Xs, Ys=None):
        """Network outputs of the standardized views."""
        zx = self._forward_numpy(Xs, part="x_net")
        if Ys is None:
            return zx
        return zx, self._forward_numpy(Ys, part="y_net")

    def transform(self, X, Y=None):
        """Canonical scores of the learned representation of X (and of Y when given).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        Y : array-like of shape (n_samples, n_targets), default=None
            Second view.

        Returns
        -------
        x_scores : ndarray of shape (n_samples, n_components)
            Returned alone when ``Y`` is None, else as ``(x_scores, y_scores)``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        Xs = (X - self.x_mean_) / self.x_std_
        if Y is None:
            return self.cca_.transform(self._outputs(Xs))
        Y = check_array(Y, input_name="Y", dtype=np.float64, ensure_2d=False)
        Y = Y.reshape(-1, 1) if Y.ndim == 1 else Y
        if Y.shape[1] != self._n_features_y:
            raise ValueError(f"Y has {Y.shape[1]} columns; the fit saw {self._n_features_y}.")
        Zx, Zy = self._outputs(Xs, (Y - self.y_mean_) / self.y_std_)
        return self.cca_.transform(Zx, Zy)
