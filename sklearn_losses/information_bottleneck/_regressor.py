"""Regression network trained on the Cauchy-Schwarz information bottleneck (skorch)."""

import warnings
from functools import partial
from numbers import Integral, Real

import numpy as np
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    RegressorMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import NET_PARAMETERS, SkorchEstimatorMixin, check_layer_sizes
from ..utils.validation import check_sample_weight

__all__ = ["CSIBRegressor"]

_WIDTH = [Interval(Real, 0, None, closed="neither"), StrOptions({"median"})]
LARGE_BATCH = 2048


class CSIBRegressor(
    SkorchEstimatorMixin,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    RegressorMixin,
    BaseEstimator,
):
    """Neural regression with the Cauchy-Schwarz divergence information bottleneck.

    Yu et al. (ICLR 2024): an encoder maps ``x`` to a representation ``t`` and a
    decoder predicts ``y`` from ``t``; the network minimises

    ``D_CS(p(y | x) || q(y_pred | x)) + beta * I_CS(x; t)``,

    the conditional CS divergence between the data's and the model's predictive
    distributions (see :func:`conditional_cs_divergence`; it replaces the mean
    squared error, to which it tends as the kernel on ``x`` narrows and the one on
    ``y`` widens) plus ``beta`` times the CS quadratic mutual information between
    input and representation (see :func:`cs_mutual_information`), which
    compresses ``t``.  Both terms are estimated from Gram matrices of each batch:
    O(batch_size^2) memory and time per step, in float64 (the exact embedding
    estimate costs O(batch_size^3); see ``embedding_tol``).

    With ``scale=True`` (the default) ``X`` and ``y`` are standardized internally
    (the kernel widths refer to the standardized scale) and predictions are
    returned on the original scale; ``y`` may have several columns.
    ``loss="mse"`` trains the same network on the mean squared error (with
    ``beta=0``: the plain baseline every comparison needs).

    Read more in the :doc:`User Guide </user_guide/information_bottleneck>`.

    Parameters
    ----------
    beta : float, default=1e-2
        Weight of the compression term ``I_CS(x; t)``.
    loss : {"cs_divergence", "mse"}, default="cs_divergence"
        Prediction term.
    hidden_layer_sizes : tuple of int, default=(128, 128, 128)
        Encoder hidden widths (ReLU); ``t`` is a linear map of the last, of that width.
    decoder_layer_sizes : tuple of int, default=(128,)
        Decoder hidden widths (ReLU).
    sigma_x : float or "median", default=0.5
        Gaussian kernel width on standardized ``x``: how far the conditionals are
        smoothed over neighbouring inputs.  A wide kernel (such as the median rule
        with many features) biases the fit towards a smoothed regression.
        ``"median"``: the median distance between the rows of each batch (likewise
        for the other widths).  The authors use 1.0 for all three widths.
    sigma_y : float or "median", default=2.0
        Gaussian kernel width on standardized ``y`` and the predictions.  Narrower
        is more robust to outlying targets (correntropy-like), wider is closer to
        the mean squared error.
    sigma_t : float or "median", default=1.0
        Gaussian kernel width on ``t``.
    normalize_mi : bool, default=True
        Train on ``I(x; t) / sqrt(I(x; x) I(t; t))`` (the authors' code) rather than
        on ``I(x; t)``.
    noise_std : float, default=0.0
        Standard deviation of Gaussian noise added to ``t`` in training (the paper's
        stochastic encoder; the authors' code uses none).
    estimator : {"embedding", "paper", "code"}, default="embedding"
        Estimate of the prediction term (see :func:`conditional_cs_divergence`):
        the nonnegative kernel-embedding form, the paper's Proposition 1, or the
        authors' code.  The last two can go negative, and training exploits it on
        some data; they are there for comparison.
    embedding_tol : float, default=1e-8
        Error allowed in training of each log term of the ``"embedding"`` estimate
        (the divergence is within ``4 * embedding_tol`` of the exact one).  With one
        target column the Gaussian kernel on ``y`` is expanded in a series of ``m``
        terms, truncated at float64 precision: O(batch_size^2 m) per batch instead
        of O(batch_size^3); a batch whose error bound exceeds the tolerance
        (predictions many ``sigma_y`` from the targets), several target columns,
        and ``embedding_tol=0`` use the exact evaluation.  Ignored by the other
        estimators.
    scale : bool, default=True
        Standardize ``X`` and ``y`` (weighted by ``sample_weight``) before training
        and return predictions on the original scale.  With ``False`` the data are
        used as given, and the kernel widths refer to their own scale.
    solver : {"adam", "sgd"}, default="adam"
        The optimiser (SGD uses ``momentum``).
    learning_rate : {"constant", "cosine"}, default="constant"
        Step-size schedule over epochs.
    learning_rate_init : float, default=1e-3
        Initial step size (the authors' code: 1e-4).
    momentum : float in [0, 1), default=0.9
        SGD momentum.
    weight_decay : float, default=0.0
        L2 weight decay.
    batch_size : int, default=128
        Rows per batch, at least 2 (an incomplete last batch of an epoch is dropped).
    max_iter : int, default=200
        Maximum number of epochs.
    early_stopping : bool, default=True
        Hold out ``validation_fraction`` of the data and stop when the validation
        objective has not improved by ``tol`` for ``n_iter_no_change`` epochs,
        keeping the best epoch's weights.  The paper trains without it.
    validation_fraction : float in (0, 1), default=0.1
        Held-out fraction for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    tol : float, default=1e-4
        Smallest decrease of the validation objective that counts as an improvement.
    device : str, default="auto"
        ``"auto"`` uses CUDA when available, else the CPU.
    verbose : int, default=0
        Show a progress bar per epoch when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds weights, batches, the validation split and noise (through generators
        local to the fit); a fixed seed gives identical results on a CPU, in any thread.

    Attributes
    ----------
    net_ : skorch.NeuralNet
        The trained network.
    device_ : str
        The device used.
    n_iter_ : int
        Number of epochs run (fewer than ``max_iter`` when early stopping stopped).
    information_plane_ : dict of ndarray
        Per epoch, the training-batch means of ``"mutual_information"`` (the
        compression term as trained, normalized when ``normalize_mi``) and of
        ``"prediction"`` (the prediction term).
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    conditional_cs_divergence : The prediction term of the objective.
    cs_mutual_information : The compression term of the objective.
    sklearn.neural_network.MLPRegressor : The same network without the bottleneck.

    Examples
    --------
    >>> from sklearn.datasets import make_friedman1
    >>> from sklearn_losses.information_bottleneck import CSIBRegressor
    >>> X, y = make_friedman1(1000, noise=0.5, random_state=0)
    >>> reg = CSIBRegressor(max_iter=30, random_state=0).fit(X[:800], y[:800])
    >>> bool(reg.score(X[800:], y[800:]) > 0.8)
    True
    >>> reg.transform(X[:3]).shape
    (3, 128)
    """

    _parameter_constraints = {
        **NET_PARAMETERS,
        "beta": [Interval(Real, 0, None, closed="left")],
        "loss": [StrOptions({"cs_divergence", "mse"})],
        "hidden_layer_sizes": [tuple, list],
        "decoder_layer_sizes": [tuple, list],
        "sigma_x": _WIDTH,
        "sigma_y": _WIDTH,
        "sigma_t": _WIDTH,
        "normalize_mi": ["boolean"],
        "noise_std": [Interval(Real, 0, None, closed="left")],
        "estimator": [StrOptions({"embedding", "paper", "code"})],
        "embedding_tol": [Interval(Real, 0, None, closed="left")],
        "scale": ["boolean"],
        "batch_size": [Interval(Integral, 2, None, closed="left")],
    }
    _drop_last = True  # Gram matrices of a single row carry no information

    def __init__(
        self,
        beta=1e-2,
        *,
        loss="cs_divergence",
        hidden_layer_sizes=(128, 128, 128),
        decoder_layer_sizes=(128,),
        sigma_x=0.5,
        sigma_y=2.0,
        sigma_t=1.0,
        normalize_mi=True,
        noise_std=0.0,
        estimator="embedding",
        embedding_tol=1e-8,
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
        self.beta = beta
        self.loss = loss
        self.hidden_layer_sizes = hidden_layer_sizes
        self.decoder_layer_sizes = decoder_layer_sizes
        self.sigma_x = sigma_x
        self.sigma_y = sigma_y
        self.sigma_t = sigma_t
        self.normalize_mi = normalize_mi
        self.noise_std = noise_std
        self.estimator = estimator
        self.embedding_tol = embedding_tol
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
        """Train the network on the CS-IB objective.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (None: equal).  Each batch's CS estimates are
            those of its weighted empirical distribution (an integer weight equals
            repeating the row within the batch), and the standardization is
            weighted.  Rows of weight 0 are dropped before training.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        check_layer_sizes(self.hidden_layer_sizes, allow_empty=False)  # t needs an encoder
        self._decoder_sizes = check_layer_sizes(self.decoder_layer_sizes, "decoder_layer_sizes")
        if self.batch_size > LARGE_BATCH:
            warnings.warn(
                f"batch_size={self.batch_size}: the CS-IB loss builds batch_size^2 Gram "
                "matrices (memory and time grow quadratically).",
                UserWarning,
                stacklevel=2,
            )
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True, y_numeric=True)
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1)
        if sample_weight is not None:
            sample_weight = check_sample_weight(sample_weight, X, type(self).__name__)
            keep = sample_weight > 0  # a row of weight 0 is no row (batch norm, widths)
            X, Y, sample_weight = X[keep], Y[keep], sample_weight[keep]
        # a constant column gets scale 1 (stays 0), so a constant y never gives NaN;
        # with scale=False both scalers are the identity
        self._x_scaler = StandardScaler(with_mean=self.scale, with_std=self.scale)
        self._y_scaler = StandardScaler(with_mean=self.scale, with_std=self.scale)
        self._x_scaler.fit(X, sample_weight=sample_weight)
        self._y_scaler.fit(Y, sample_weight=sample_weight)
        Xs = self._x_scaler.transform(X).astype(np.float32)
        Ys = self._y_scaler.transform(Y).astype(np.float32)
        self._fit_net(Xs, Ys, sample_weight=sample_weight)
        self._n_features_out = self._hidden_layer_sizes[-1]  # width of t, for feature names
        history = self.net_.history
        self.information_plane_ = {
            key: np.asarray(history[:, key]) for key in ("mutual_information", "prediction")
        }
        return self

    def _module_factory(self, X, Y, generator):
        from ._nets import BottleneckNetwork

        sizes = (self._hidden_layer_sizes, self._decoder_sizes)
        return partial(BottleneckNetwork, X.shape[1], Y.shape[1], *sizes, self.noise_std, generator)

    def _criterion(self, generator):
        from torch.nn import MSELoss

        return MSELoss()  # unused: the net's get_loss computes the objective

    def _net_class(self):
        from ._nets import CSIBNet

        return CSIBNet

    def _net_options(self):
        return {
            "beta": self.beta,
            "loss": self.loss,
            "sigma_x": self.sigma_x,
            "sigma_y": self.sigma_y,
            "sigma_t": self.sigma_t,
            "normalize_mi": self.normalize_mi,
            "estimator": self.estimator,
            "embedding_tol": self.embedding_tol,
        }

    def _extra_callbacks(self, generator):
        from ._nets import InformationPlane

        return [InformationPlane()]

    def _standardized(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._x_scaler.transform(X)

    def predict(self, X):
        """Predict targets on the original scale.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,) or (n_samples, n_targets)
            The decoder's prediction, on the scale of ``y``.
        """
        check_is_fitted(self)
        Y = self._y_scaler.inverse_transform(self._forward_numpy(self._standardized(X)))
        return Y.ravel() if self._y_1d else Y

    def transform(self, X):
        """The representation ``t`` of ``X`` (noise-free).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        t : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            The bottleneck representation of each row.
        """
        return self._forward_numpy(self._standardized(X), output=1)

    def fit_transform(self, X, y):
        """Fit, then return the representation of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,) or (n_samples, n_targets)
            Targets.

        Returns
        -------
        t : ndarray of shape (n_samples, hidden_layer_sizes[-1])
            The bottleneck representation of each row.
        """
        return self.fit(X, y).transform(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        tags.target_tags.required = True
        tags.regressor_tags.poor_score = True  # few epochs in the common checks
        return tags
