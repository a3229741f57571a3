"""Deep CCA trained on the Eckart-Young loss through skorch."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_array, check_is_fitted, validate_data

from .._torch import SkorchEstimatorMixin
from ._base import TwoViewMixin
from ._cca import CCA

__all__ = ["DeepCCA"]


class DeepCCA(
    SkorchEstimatorMixin,
    TwoViewMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    BaseEstimator,
):
    """Deep canonical correlation analysis with the Eckart-Young loss (DCCA-EY).

    One neural network per view maps it to ``n_components`` outputs; the networks
    are trained with Adam on the unbiased two-batch Eckart-Young loss of their
    outputs (Chapman et al., ICLR 2024), which, unlike the classical objective,
    needs no matrix inverse and works with batches smaller than ``n_components``.
    A final exact linear :class:`CCA` on the training outputs puts the
    representation in canonical form (sorted, unit variance, uncorrelated), so
    ``transform`` and ``score`` mean what they mean for :class:`CCA`.

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    n_components : int, default=2
        Dimension of the learned representation.
    hidden_layer_sizes : tuple of int, default=(256, 256)
        Hidden widths of each view's network (``()`` gives a linear map).
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden activation.
    loss : {"ey", "andrew"}, default="ey"
        ``"ey"``: the Eckart-Young loss; ``"andrew"``: the classical Deep CCA
        objective (minus the batch canonical correlations), as a baseline.
    lr : float, default=1e-3
        Adam learning rate.
    batch_size : int, default=128
        Rows per batch (at least 4; split in two independent halves by the EY loss).
    max_epochs : int, default=30
        Passes over the data.
    scale : bool, default=True
        Standardize each column before training.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights and batch order; a fixed seed gives identical results on a CPU.

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
    x_mean_, x_std_, y_mean_, y_std_ : ndarray
        Standardization of the views.
    n_features_in_ : int
        Number of features of X.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of X, when it has string column names.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import DeepCCA
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(1000, (10, 10), correlations=(0.9,), random_state=0)
    >>> dcca = DeepCCA(n_components=1, hidden_layer_sizes=(32,), max_epochs=10,
    ...                random_state=0).fit(X, Y)
    >>> dcca.transform(X).shape
    (1000, 1)
    """

    _parameter_constraints = {
        "n_components": [Interval(Integral, 1, None, closed="left")],
        "hidden_layer_sizes": [tuple, list],
        "activation": [StrOptions({"relu", "tanh", "gelu"})],
        "loss": [StrOptions({"ey", "andrew"})],
        "lr": [Interval(Real, 0, None, closed="neither")],
        "batch_size": [Interval(Integral, 4, None, closed="left")],
        "max_epochs": [Interval(Integral, 1, None, closed="left")],
        "scale": ["boolean"],
        "device": [str],
        "verbose": ["verbose"],
        "random_state": ["random_state"],
    }

    def __init__(
        self,
        n_components=2,
        *,
        hidden_layer_sizes=(256, 256),
        activation="relu",
        loss="ey",
        lr=1e-3,
        batch_size=128,
        max_epochs=30,
        scale=True,
        device="auto",
        verbose=0,
        random_state=None,
    ):
        self.n_components = n_components
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.lr = lr
        self.batch_size = batch_size
        self.max_epochs = max_epochs
        self.scale = scale
        self.device = device
        self.verbose = verbose
        self.random_state = random_state

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y):
        """Train the two networks, then fit the final linear CCA on their outputs.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Second view.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, Y = self._validate_views(X, y)
        if self.n_components > X.shape[0] - 1:
            raise ValueError(
                f"n_components={self.n_components} must be <= n_samples - 1 = {X.shape[0] - 1}."
            )
        Xs, Ys = self._standardize_views(X, Y)
        self._n_features_y = Ys.shape[1]
        inputs = {"x": Xs.astype(np.float32), "y": Ys.astype(np.float32)}
        self._fit_net(inputs, None)
        # infer in float64: float32 matmuls differ with the number of rows, and
        # transform must not depend on which other rows are passed with a row
        self.net_.module_.double()
        Zx, Zy = self._outputs(Xs, Ys)
        self.cca_ = CCA(self.n_components, scale=False).fit(Zx, Zy)
        self.canonical_correlations_ = self.cca_.canonical_correlations_
        self._n_features_out = self.n_components
        return self

    def _make_net(self, X, y, device):
        from ._nets import make_two_view_net

        return make_two_view_net(
            X["x"].shape[1],
            X["y"].shape[1],
            n_components=self.n_components,
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
            loss=self.loss,
            lr=self.lr,
            batch_size=min(self.batch_size, X["x"].shape[0] - X["x"].shape[0] % 2),
            max_epochs=self.max_epochs,
            device=device,
            callbacks=self._callbacks(),
        )

    def _outputs(self, Xs, Ys=None):
        """Network outputs of the standardized views (the module runs in float64)."""
        towers = self.net_.module_
        zx = self._forward_numpy(np.asarray(Xs, dtype=np.float64), towers.x_net)
        if Ys is None:
            return zx
        return zx, self._forward_numpy(np.asarray(Ys, dtype=np.float64), towers.y_net)

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
