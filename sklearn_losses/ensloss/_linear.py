"""Linear classifier trained by minibatch SGD on EnsLoss or a fixed margin loss."""

import copy
from contextlib import contextmanager
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, _fit_context
from sklearn.utils._param_validation import Interval
from sklearn.utils.extmath import safe_sparse_dot
from sklearn.utils.multiclass import _check_partial_fit_first_call
from sklearn.utils.validation import validate_data

from ..utils._convergence import DivergenceError, check_finite
from ..utils._sgd import SGD_PARAMETERS, SGDEpochsMixin, fit_generator
from ..utils.validation import (
    SparseCheckedLinearClassifierMixin,
    check_n_classes,
    check_sample_weight,
    check_sparse_structure,
)
from ._base import (
    LogisticProbaMixin,
    encode_labels,
    label_codes,
    one_vs_rest_targets,
    validation_pair,
)
from ._kernels import sgd_epoch
from ._loss import LOSS_CODES, LOSS_OPTION, max_grad_norm

__all__ = ["EnsLossClassifier"]

_NO_INDEX = np.empty(0, dtype=np.int64)
_NO_DATA = np.empty(0, dtype=np.float64)
_NO_DENSE = np.empty((0, 0), dtype=np.float64)
_NO_NOISE = _NO_DENSE

# Margins y f(x) beyond this are divergence: SGD from finite steps on a sane problem
# stays many orders below it, and float64 overflows in their squares.
_MARGIN_LIMIT = 1e150
_DIVERGENCE_HINT = "lower eta0 or scale the features (e.g. with StandardScaler)"


def _kernel_data(X, n_features):
    """The arguments ``(X, data, indices, indptr, sparse)`` of the epoch kernel.

    The boundary in front of the kernel, for ``X`` already validated (finite
    float64, C order or CSR): its feature count must be the fitted state's
    ``n_features`` and its CSR index arrays must lie in range.  (The kernel checks
    again, with terser messages.)
    """
    if X.shape[1] != n_features:
        raise ValueError(f"X has {X.shape[1]} features; the fitted state has {n_features}.")
    if sp.issparse(X):
        check_sparse_structure(X)
        return (
            _NO_DENSE,
            np.ascontiguousarray(X.data, dtype=np.float64),
            np.ascontiguousarray(X.indices, dtype=np.int64),
            np.ascontiguousarray(X.indptr, dtype=np.int64),
            True,
        )
    return X, _NO_DATA, _NO_INDEX, _NO_INDEX, False


def _sorted_by_batch(noise, batch_size):
    """``noise`` with each batch's draws sorted, in place, by NumPy's vectorised sort.

    A batch's derivatives depend only on the set of its draws, so this changes no
    result; the kernel then need not sort them (it would, were they unsorted).
    """
    full = noise.shape[1] - noise.shape[1] % batch_size
    noise[:, :full].reshape(noise.shape[0], -1, batch_size).sort(axis=2)
    noise[:, full:].sort(axis=1)
    return noise


def _largest_entry(X):
    """``max |X|`` (0 for an empty matrix), for the cheap bound on the margins."""
    values = X.data if sp.issparse(X) else X
    return float(np.max(np.abs(values))) if values.size else 0.0


class EnsLossClassifier(
    SGDEpochsMixin, LogisticProbaMixin, SparseCheckedLinearClassifierMixin, BaseEstimator
):
    """Linear classifier trained on random calibrated losses (EnsLoss) or a fixed surrogate.

    EnsLoss (Dai, ICML 2025) replaces the surrogate loss of empirical risk minimisation
    by a new random convex, classification-calibrated loss at every SGD step: the
    step needs only the loss's derivative at the batch margins ``z = y f(x)``, and
    :func:`calibrated_loss_derivatives` draws one that satisfies the conditions.
    Averaging over these losses works like dropout on the loss function and keeps
    the model from overfitting one surrogate.  The fixed losses ``"logistic"``,
    ``"hinge"``, ``"squared_hinge"`` and ``"exponential"`` run through the same
    compiled solver (minibatch SGD with momentum, L2 penalty, the package's one SGD
    epoch loop), so comparisons between losses are like for like.

    Binary problems are solved directly; more classes are fitted one-vs-rest (one
    binary problem per class, all sharing the batches).  Dense and CSR input.

    The value of the EnsLoss objective is meaningless (only its derivative is
    defined), so training runs ``max_iter`` epochs, the paper's final-epoch
    protocol; set ``tol`` to stop when the coefficients stop moving.

    Read more in the :doc:`User Guide </user_guide/ensloss>`.

    Parameters
    ----------
    loss : {"ensloss", "logistic", "hinge", "squared_hinge", "exponential"}, \
            default="ensloss"
        The loss.  The exponential loss's gradient norm is clipped at 10, as in the paper.
    alpha : float, default=1e-4
        L2 penalty on the mean-loss scale: the objective is the (weighted) mean loss
        plus ``alpha / 2 * ||coef||^2`` (the intercept is not penalised).
    batch_size : int, default=128
        Rows per minibatch (the last batch of an epoch may be smaller).
    max_iter : int, default=100
        Epochs (passes over the data).
    learning_rate : {"cosine", "constant", "invscaling"}, default="cosine"
        Step-size schedule over epochs ``t = 0, 1, ...``:
        ``eta0 * (1 + cos(pi * t / max_iter)) / 2``, ``eta0`` throughout, or
        ``eta0 / (1 + t)``.
    eta0 : float, default=0.01
        Initial step size.  Too large a step (for the scale of the features) makes
        the fit diverge: :class:`~sklearn_losses.utils.DivergenceError`
        (a ``ValueError``), checked after every epoch.
    momentum : float in [0, 1), default=0.9
        Heavy-ball momentum (PyTorch's convention: ``v <- momentum * v + grad``).
    boxcox_lambda : float, default=0.0
        Box-Cox parameter of the EnsLoss draws (0: log-normal, the paper's default).
    resample_lambda_every : int or None, default=None
        When set, draw a new ``boxcox_lambda`` from U(-1, 1) every this many epochs
        (the paper's ``main_bc.py`` variant).
    fit_intercept : bool, default=True
        Fit an intercept.
    tol : float or None, default=None
        Stop when the coefficients and intercepts move by at most ``tol`` times their
        norm over an epoch, ``n_iter_no_change`` epochs in a row (the EnsLoss
        objective has no meaningful value to watch), and warn with a
        ``ConvergenceWarning`` when ``max_iter`` epochs run out first.  None runs all
        ``max_iter`` epochs (the paper's protocol).
    n_iter_no_change : int, default=5
        Patience of the stopping rule.
    verbose : int, default=0
        Print one line per epoch (step size, coefficient norm, time) when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the batch order and the loss draws (one generator per fit); a fixed
        seed gives identical weights.
    warm_start : bool, default=False
        Start ``fit`` from the previous solution.

    Attributes
    ----------
    coef_ : ndarray of shape (1, n_features) or (n_classes, n_features)
        Coefficients (one row for binary problems).
    intercept_ : ndarray of shape (1,) or (n_classes,)
        Intercepts.
    classes_ : ndarray of shape (n_classes,)
        Class labels.
    n_iter_ : int
        Epochs run (by the last ``fit``, or in total by ``partial_fit``).
    validation_scores_ : list of float
        Accuracy on ``(X_val, y_val)`` after each epoch, when they were given to ``fit``.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    EnsLossMLPClassifier : The same losses for a multi-layer perceptron.
    calibrated_loss_derivatives : The random derivative generator.
    sklearn.linear_model.SGDClassifier : Per-sample SGD on fixed losses.

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.model_selection import train_test_split
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> from sklearn_losses.ensloss import EnsLossClassifier
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    >>> clf = make_pipeline(StandardScaler(), EnsLossClassifier(random_state=0))
    >>> print(round(clf.fit(X_train, y_train).score(X_test, y_test), 3))
    0.958
    """

    # An Interval rejects NaN, and an unbounded end excludes inf whatever ``closed``
    # says (scikit-learn compares with -inf/inf): every real parameter is finite.
    _parameter_constraints = {
        **SGD_PARAMETERS,
        "loss": [LOSS_OPTION],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "eta0": [Interval(Real, 0, None, closed="neither")],
        "momentum": [Interval(Real, 0, 1, closed="left")],
        "boxcox_lambda": [Interval(Real, None, None, closed="neither")],
        "resample_lambda_every": [Interval(Integral, 1, None, closed="left"), None],
        "fit_intercept": ["boolean"],
    }
    _sgd_stop_on = "coef"

    def __init__(
        self,
        loss="ensloss",
        *,
        alpha=1e-4,
        batch_size=128,
        max_iter=100,
        learning_rate="cosine",
        eta0=0.01,
        momentum=0.9,
        boxcox_lambda=0.0,
        resample_lambda_every=None,
        fit_intercept=True,
        tol=None,
        n_iter_no_change=5,
        verbose=0,
        random_state=None,
        warm_start=False,
    ):
        self.loss = loss
        self.alpha = alpha
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.momentum = momentum
        self.boxcox_lambda = boxcox_lambda
        self.resample_lambda_every = resample_lambda_every
        self.fit_intercept = fit_intercept
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None, X_val=None, y_val=None):
        """Fit by up to ``max_iter`` epochs of minibatch SGD.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Class labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights: each batch's gradient is the weighted mean of its rows'
            (integer weights act as repeated rows).  None weighs rows equally.
        X_val, y_val : array-like, default=None
            Optional held-out data scored (accuracy) after every epoch into
            ``validation_scores_``; it does not influence training.

        Returns
        -------
        self : object
            The fitted estimator.

        Raises
        ------
        DivergenceError
            When the coefficients or the margins stop being finite or overflow
            (checked after every epoch): lower ``eta0`` or scale the features.
        """
        check_sparse_structure(X)
        with _state_kept_on_error(self):
            reuse = self.warm_start and hasattr(self, "coef_")
            X, y = validate_data(self, X, y, accept_sparse="csr", dtype=np.float64, order="C")
            previous_classes = self.classes_ if reuse else None
            Y = encode_labels(self, y)
            if reuse:
                if not np.array_equal(previous_classes, self.classes_):
                    raise ValueError("warm_start needs the classes of the previous fit.")
                if X.shape[1] != self.coef_.shape[1]:
                    # as SGDClassifier: warm_start continues the previous solution only
                    raise ValueError(
                        f"warm_start=True continues the previous fit, which had "
                        f"{self.coef_.shape[1]} features, but X has {X.shape[1]}; set "
                        "warm_start=False to fit from scratch."
                    )
            weight = check_sample_weight(sample_weight, X, type(self).__name__)
            self._validation = validation_pair(X_val, y_val)
            rng = fit_generator(self.random_state)
            self._init_state(X.shape[1], Y.shape[1], rng, reuse)
            self.validation_scores_ = []
            try:
                self._run_epochs(self._epoch_data(X, Y, weight), rng)
            finally:
                del self._validation
        return self

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, classes=None, sample_weight=None):
        """Run one epoch over a chunk of data, continuing from the current state.

        The step-size schedule continues over calls (the cosine schedule restarts
        every ``max_iter`` epochs), and so do the momentum and the random generator.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            A chunk of training data, with the features of the first call.
        y : array-like of shape (n_samples,)
            Its labels.
        classes : array-like of shape (n_classes,), default=None
            All the classes; required on the first call, ignored afterwards.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights, as in :meth:`fit`.

        Returns
        -------
        self : object
            The updated estimator.

        Raises
        ------
        DivergenceError
            When the coefficients or the margins stop being finite or overflow.
        """
        check_sparse_structure(X)
        with _state_kept_on_error(self):  # a failed first call stays a first call
            first = _check_partial_fit_first_call(self, classes)
            fresh = first or not hasattr(self, "coef_")
            X, y = validate_data(
                self, X, y, accept_sparse="csr", dtype=np.float64, order="C", reset=fresh
            )
            if fresh:
                check_n_classes(self.classes_, type(self).__name__)
            codes = label_codes(self.classes_, y)
            # a chunk may hold only zero weights (a stream's total is what matters)
            weight = check_sample_weight(sample_weight, X, type(self).__name__, allow_all_zero=True)
            if fresh:
                n_problems = 1 if len(self.classes_) == 2 else len(self.classes_)
                self._init_state(X.shape[1], n_problems, fit_generator(self.random_state))
                self.n_iter_ = 0
            Y = one_vs_rest_targets(codes, len(self.classes_))
            self._validation = None
            try:
                self._partial_epoch(self._epoch_data(X, Y, weight), self._rng)
            finally:
                del self._validation
        return self

    # -- internals ---------------------------------------------------------------------
    def _init_state(self, n_features, n_problems, rng, reuse=False):
        self._rng = rng
        self._lambda = float(self.boxcox_lambda)
        if not reuse:
            self.coef_ = np.zeros((n_problems, n_features))
            self.intercept_ = np.zeros(n_problems)
        self._coef_velocity = np.zeros_like(self.coef_)
        self._intercept_velocity = np.zeros_like(self.intercept_)

    def _epoch_data(self, X, Y, sample_weight):
        """What an epoch needs: ``X`` (for the divergence check), the kernel's view of it,
        ``max |X|``, the targets and the weights."""
        if Y.shape[1] != self.coef_.shape[0]:
            raise ValueError(
                f"Y has {Y.shape[1]} columns; the fitted state has {self.coef_.shape[0]} problems."
            )
        kernel_data = _kernel_data(X, self.coef_.shape[1])
        return X, kernel_data, _largest_entry(X), np.ascontiguousarray(Y), sample_weight

    def _sgd_monitor(self, data):
        return np.concatenate([self.coef_.ravel(), self.intercept_])

    def _check_divergence(self, X, x_max):
        """Raise DivergenceError when the state is non-finite or the margins overflow.

        Every margin on ``X`` is at most ``x_max * ||w||_1 + |b|``: when that cheap
        bound (NaN fails it) is within ``_MARGIN_LIMIT``, the fit is healthy (the
        velocities are finite too, or the last step would have spoilt ``w``).
        Otherwise the state is checked, and the margins themselves computed.
        """
        with np.errstate(over="ignore", invalid="ignore"):
            coef_limit = 0.5 * _MARGIN_LIMIT / x_max if x_max > 0 else np.inf
            if (
                np.abs(self.coef_).sum(axis=1).max() <= coef_limit
                and np.abs(self.intercept_).max() <= 0.5 * _MARGIN_LIMIT
            ):
                return
            name = "EnsLossClassifier"
            check_finite(
                name,
                self.coef_,
                self.intercept_,
                self._coef_velocity,
                self._intercept_velocity,
                hint=_DIVERGENCE_HINT,
            )
            largest = np.max(np.abs(safe_sparse_dot(X, self.coef_.T) + self.intercept_))
        if not largest <= _MARGIN_LIMIT:  # also true for NaN
            reached = f"reached {largest:.3g}" if np.isfinite(largest) else "overflowed"
            raise DivergenceError(
                f"{name} diverged: its margins on the training data {reached} (the limit is "
                f"{_MARGIN_LIMIT:.0e}); {_DIVERGENCE_HINT}."
            )

    def _sgd_epoch(self, data, step, rng):
        """One epoch of the kernel; then the divergence check and the validation score."""
        X, kernel_data, x_max, Y, sample_weight = data
        every = self.resample_lambda_every
        if every is not None and self.n_iter_ > 0 and self.n_iter_ % every == 0:
            self._lambda = float(rng.uniform(-1.0, 1.0))
        n_rows = Y.shape[0]
        batch_size = min(self.batch_size, n_rows)
        order = rng.permutation(n_rows).astype(np.int64, copy=False)
        noise = _NO_NOISE
        if self.loss == "ensloss":
            noise = _sorted_by_batch(rng.standard_normal((Y.shape[1], n_rows)), batch_size)
        sgd_epoch(
            *kernel_data,
            Y,
            sample_weight,
            self.coef_,
            self.intercept_,
            self._coef_velocity,
            self._intercept_velocity,
            order,
            batch_size,
            step,
            self.alpha,
            self.momentum,
            LOSS_CODES[self.loss],
            self._lambda,
            self.fit_intercept,
            max_grad_norm(self.loss),
            noise,
        )
        self._check_divergence(X, x_max)
        if self._validation is not None:
            self.validation_scores_.append(self.score(*self._validation))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags


def _is_fit_state(name):
    return name.endswith("_") or (name.startswith("_") and not name.startswith("__"))


@contextmanager
def _state_kept_on_error(estimator):
    """On any error, put the estimator back as it was before the call.

    A fit or partial_fit that fails (bad input, or divergence mid-way, which leaves
    NaN coefficients) then leaves the previous fit usable, and warm_start and
    partial_fit continue from it, not from the failed state.
    """
    before = {
        name: copy.deepcopy(value) for name, value in vars(estimator).items() if _is_fit_state(name)
    }
    try:
        yield
    except BaseException:
        for name in [name for name in vars(estimator) if _is_fit_state(name)]:
            delattr(estimator, name)
        vars(estimator).update(before)
        raise
