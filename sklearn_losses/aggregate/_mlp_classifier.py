"""A neural network trained on bag label proportions (DLLP; skorch, batches of whole bags)."""

from functools import partial

import numpy as np
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.utils.validation import check_is_fitted, validate_data

from .._torch import mlp
from ._logistic import _encode_target
from ._mlp import WholeBagNetMixin

__all__ = ["AggregateMLPClassifier"]


class AggregateMLPClassifier(WholeBagNetMixin, ClassifierMixin, BaseEstimator):
    """Multi-layer perceptron trained from bag-level label proportions (DLLP).

    Each bag ``a`` reports only the proportions ``q_a`` of its rows' classes.  A
    network with a softmax over the K classes gives each row its probabilities
    ``p_i``; the loss compares each bag's proportions with its mean probability
    ``pbar_a`` (deep learning from label proportions, Ardehaly & Culotta 2017),
    interpolated by ``rho`` with the instance-level loss that trains every row
    on its bag's proportions:

    .. math::

        \\frac{1}{W}\\Big[(1 - \\rho) \\sum_a W_a\\, CE(q_a, \\bar p_a)
        + \\rho \\sum_i w_i\\, CE(q_{a(i)}, p_i)\\Big],
        \\qquad CE(q, p) = -\\sum_k q_k \\log p_k,

    with row weights ``w_i`` (``sample_weight``, ones by default), weighted bag
    means, bag weights ``W_a = sum_{i in a} w_i`` and ``W = sum_i w_i``: the loss
    of :class:`AggregateLogisticRegression` for a network.  It is trained (with
    Adam by default) through skorch on batches made of **whole bags** (a bag is
    never split across batches, so every batch sees complete bag means), as
    :class:`AggregateMLPRegressor`.  With one row per bag (``bags=None``) both
    terms are the ordinary cross-entropy: a softmax MLP on instance labels.

    ``y`` takes the forms of :class:`AggregateLogisticRegression` (class labels,
    the positive class's proportion for two classes, or an (n_samples, K) array
    of class proportions), so that the two estimators are interchangeable.
    ``score`` is the accuracy on row labels (``ClassifierMixin``); held-out bags
    known only by their proportions are compared with the bag means of
    ``predict_proba`` (see the User Guide).

    Read more in the :doc:`User Guide </user_guide/aggregate>`.

    Parameters
    ----------
    rho : float in [0, 1], default=0.0
        Weight of the instance-level loss (0: bag level, DLLP; 1: every row
        trained on its bag's proportions).
    hidden_layer_sizes : tuple of int, default=(64,)
        Widths of the hidden layers.
    activation : {"relu", "tanh", "gelu"}, default="relu"
        Hidden activation.
    scale : bool, default=True
        Standardize the features (weighted by ``sample_weight``) before training
        and prediction.  With ``False`` the features are used as given.
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
        Rows per batch (whole bags are packed up to this size; a larger bag is a
        batch of its own).
    max_iter : int, default=100
        Maximum number of epochs.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the **bags** and stop when their loss
        has not improved by ``tol`` for ``n_iter_no_change`` epochs, keeping the
        best epoch's weights.  Off by default, as for :class:`AggregateMLPRegressor`:
        the held-out bags take a tenth of an already aggregated signal.
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
    classes_ : ndarray of shape (n_classes,)
        The classes: the sorted labels, or ``[0, 1, ..., K - 1]`` (the columns
        of ``y``) when ``y`` holds proportions.
    net_ : skorch.NeuralNet
        The trained network (``net_.history`` holds the per-epoch records).
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
    AggregateLogisticRegression : The linear model on the same loss, by L-BFGS.
    AggregateMLPRegressor : The network for bag-level mean responses.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn_losses.aggregate import AggregateMLPClassifier, make_bags
    >>> X, y = load_digits(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> bags = make_bags(len(y_train), 5, random_state=0)  # only bag proportions are used
    >>> clf = AggregateMLPClassifier(random_state=0).fit(X_train, y_train, bags=bags)
    >>> bool(clf.score(X_test, y_test) > 0.85)
    True
    """

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, bags=None, sample_weight=None):
        """Train on bag label proportions.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Features of every row.
        y : array-like of shape (n_samples,) or (n_samples, n_classes)
            Class labels (only their proportions in each bag are used); for two
            classes, the proportion of the positive class in [0, 1] on each row;
            or class proportions, one row per sample, non-negative and summing to
            1, with columns the classes ``0, ..., n_classes - 1`` (e.g. each
            bag's proportions broadcast to its rows, or the output of
            :func:`privatize_label_proportions`): the forms
            :class:`AggregateLogisticRegression` takes.
        bags : array-like of shape (n_samples,), default=None
            Bag ids; None puts every row in its own bag (ordinary training on
            instance labels).
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative row weights (None: equal).  Bag proportions and bag-mean
            probabilities are weighted means and each bag weighs its total
            weight, so that on a batch an integer weight equals repeating the row
            in its bag.  Rows of weight 0 are dropped before training.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, y = validate_data(self, X, y, dtype=np.float64, multi_output=True)
        # AggregateLogisticRegression's forms of y, as rows of class proportions
        labels = _encode_target(self, y)
        if labels.ndim == 1:  # two classes: the proportion of classes_[1]
            labels = np.column_stack([1.0 - labels, labels])
        X, labels, bag_operator, weight = self._bags_and_weights(X, labels, bags, sample_weight)
        codes = bag_operator.codes
        # each row carries its bag's (weighted) proportions, then the bag code
        target = np.column_stack([bag_operator.mean(labels)[codes], codes])
        self._fit_net(self._scale_features(X, weight), target, sample_weight=weight)
        return self

    def _module_factory(self, X, y, generator):
        n_classes = y.shape[1] - 1  # (the last column holds the bag codes)
        return partial(mlp, X.shape[1], self._hidden_layer_sizes, self.activation, n_classes)

    def _criterion(self, generator):
        from ._nets import ProportionLoss

        return ProportionLoss(self.rho)

    def _logits(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return self._forward_numpy(self._x_scaler.transform(X))

    def predict_proba(self, X):
        """Class probabilities (the network's softmax).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            The probability of each class of ``classes_``.
        """
        return softmax(self._logits(X), axis=1)

    def predict_log_proba(self, X):
        """Compute the logarithms of the class probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log-probability of each class of ``classes_``.
        """
        return log_softmax(self._logits(X), axis=1)

    def predict(self, X):
        """Predict the most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sample.
        """
        logits = self._logits(X)
        return self.classes_[np.argmax(logits, axis=1)]
