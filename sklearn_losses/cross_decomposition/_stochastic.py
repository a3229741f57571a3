"""CCA / ridge CCA / PLS by minibatch SGD on the unconstrained Eckart-Young loss."""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._convergence import DivergenceError, check_finite
from ..utils._sgd import SGD_PARAMETERS, SGDEpochsMixin, batch_rows, fit_generator
from ._base import TwoViewBase
from ._kernels import ey_epoch
from ._loss import ey_from_moments
from ._precondition import RunningCovariance, build_preconditioner
from ._statistics import view_moments

__all__ = ["StochasticCCA"]


class StochasticCCA(SGDEpochsMixin, TwoViewBase):
    """CCA fitted by stochastic gradient descent on the Eckart-Young loss.

    Chapman et al. (ICLR 2024) turn the CCA / ridge CCA / PLS generalised
    eigenproblem into the unconstrained loss
    ``L(U) = -2 tr(U^T A U) + ||U^T B U||_F^2`` (see :func:`eckart_young_loss`),
    whose minimisers span the top-K subspace, with no spurious local minima.  Each
    step estimates the gradient from a minibatch, pairing it with a second,
    independent minibatch in the quadratic term so that the estimate is unbiased.
    Epochs run in a compiled numba kernel, driven by the package's one SGD epoch
    loop; the step is ``eta0`` divided by the largest eigenvalue of a minibatch
    covariance (so it adapts to the data's scale) and, under the default
    ``learning_rate="invscaling"``, decays as ``1 / (1 + epoch)``.  The result is rotated
    into the canonical form of its span (as :class:`CCA`), since the loss fixes
    the subspace, not the basis.

    With ``precondition=True`` (the default) each view's gradient is multiplied
    by ``M^{-1}``, ``M = (1 - c) C + c I`` that view's block of ``B`` (``C`` its
    covariance): steps are taken in whitened coordinates, so the accuracy reached
    in a number of epochs no longer depends on how ill-conditioned the views are
    (plain SGD is ``cond(B)`` times slower along the views' low-variance
    directions).  ``M^{-1}`` is positive definite, so the solution is the same,
    for every ``regularization``; only the path changes.  ``fit`` takes ``C`` from
    the views' cross-products, which the final rotation needs anyway (computed
    once before the epochs instead of after them); ``partial_fit`` from the running
    covariance of the rows seen so far.  The cost is ``O(p^2 K)`` per step
    (``O(p^3)`` once per fit and per ``partial_fit`` call); at ``c = 1`` (PLS)
    ``M = I`` and nothing is done.

    ``partial_fit`` streams data that does not fit in memory (e.g. chunks read
    from a memmap): each call runs one epoch over the chunk, standardizing with
    running statistics (and preconditioning with the running covariance), and
    rotates with that chunk (which needs at least ``n_components_ + 1`` rows).
    SGD continues from its own iterate, not from the rotated weights.  A call
    that fails (wrong shapes, divergence) leaves the estimator as it was before
    the call.

    A fit whose weights or loss stop being finite raises
    :class:`~sklearn_losses.utils.DivergenceError` (a ``ValueError``);
    ``fit`` warns with a ``ConvergenceWarning`` when it runs ``max_iter`` epochs
    without meeting the stopping rule (unless ``tol=None``, which asks for
    ``max_iter`` epochs).

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components, at most ``min(n_features_X, n_features_Y, n_samples - 1)``
        (a larger integer is a ``ValueError``); None takes that minimum (for
        ``partial_fit``, with ``n_samples`` the first chunk's rows).  The cost of an
        epoch grows linearly with it: on wide views pass the few components wanted.
        The number fitted is ``n_components_``.
    regularization : float in [0, 1], default=0.0
        Ridge parameter c: 0 is CCA, 1 is PLS.
    scale : bool, default=True
        Scale each column to unit variance.
    batch_size : "auto" or int, default="auto"
        Rows per minibatch (at least 2).  ``"auto"`` is ``min(256, max(16, n // 10))``
        for ``n`` rows (of the chunk, in ``partial_fit``): 256 rows on large data, and
        about ten steps per epoch from 160 to 2560 rows, since the step decays per
        epoch (with one batch per epoch, 30 epochs were too few steps to leave the
        start on a few hundred rows); below 160 rows, batches of 16.
    learning_rate : {"invscaling", "constant", "cosine"}, default="invscaling"
        Step-size schedule over epochs ``t = 0, 1, ...``: ``eta0 / (1 + t)``,
        ``eta0`` throughout, or ``eta0 * (1 + cos(pi * t / max_iter)) / 2``; each
        divided by the largest eigenvalue of a minibatch covariance.
    eta0 : "auto" or float in (0, inf), default="auto"
        Initial step size relative to the data's scale; ``"auto"`` is 0.2.
    max_iter : int, default=30
        Maximum epochs.
    tol : float in [0, inf) or None, default=1e-4
        Stop when the full-data loss improved by less than ``tol`` (relative) for
        ``n_iter_no_change`` consecutive epochs, and warn with a
        ``ConvergenceWarning`` when ``max_iter`` runs out first.  None runs
        ``max_iter`` epochs.
    n_iter_no_change : int, default=3
        Patience of the stopping rule.
    unbiased : bool, default=True
        Use the two-independent-batch gradient (False: one batch, biased).
    precondition : bool, default=True
        Multiply each view's gradient by the inverse of its block of ``B``
        (whitened steps: the same accuracy whatever the views' conditioning, at
        ``O(p^2 K)`` per step; the solution is unchanged).  False takes the paper's
        plain gradient steps.  ``partial_fit`` preconditions from the running
        covariance once 4 rows per feature of the wider view are in, and takes plain
        steps before (the inverse of a covariance from fewer rows amplifies noise).
    verbose : int, default=0
        Print one line per epoch (step size, full-data loss, time) when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the batch order (one generator per fit).
    warm_start : bool, default=False
        Start ``fit`` from the previous fit's SGD iterate (same views' widths and
        ``n_components_``) instead of random weights.

    Attributes
    ----------
    n_components_ : int
        Number of components fitted (``n_components``, or its resolution when None).
    x_weights_, y_weights_ : ndarray of shape (n_features, `n_components_`)
        Weights on the standardized views, in canonical form.
    canonical_correlations_ : ndarray of shape (`n_components_`,)
        Training correlations of the score pairs.
    eigenvalues_ : ndarray of shape (`n_components_`,)
        Generalised eigenvalues within the fitted span.
    loss_curve_ : list of float
        Full-data Eckart-Young loss after each epoch (``fit`` only).
    n_iter_ : int
        Epochs run.
    x_loadings_, y_loadings_, coef_, intercept_, x_mean_, x_std_, y_mean_, y_std_ : ndarray
        As in :class:`CCA`.
    n_features_in_ : int
        Number of features of X.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of X, when it has string column names.

    See Also
    --------
    CCA : The exact solution of the same problem, in memory.
    DeepCCA : Nonlinear CCA: networks trained on the Eckart-Young loss.
    eckart_young_loss : The loss this estimator minimises.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import CCA, StochasticCCA
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(4000, (20, 20), correlations=(0.9, 0.7), random_state=0)
    >>> sgd = StochasticCCA(n_components=2, batch_size=100, random_state=0).fit(X, Y)
    >>> exact = CCA(n_components=2).fit(X, Y)
    >>> ratio = sgd.canonical_correlations_.sum() / exact.canonical_correlations_.sum()
    >>> bool(ratio > 0.99)
    True

    On views mixed with condition number 300 (covariance condition number 7e4),
    plain gradient steps capture a third of the correlation in 30 epochs:

    >>> X, Y = make_multiview(2000, (12, 12), correlations=(0.9, 0.7), condition_number=300,
    ...                       random_state=0)
    >>> exact = CCA(n_components=2).fit(X, Y).canonical_correlations_.sum()
    >>> for precondition in (True, False):
    ...     sgd = StochasticCCA(2, batch_size=100, tol=None, precondition=precondition,
    ...                         random_state=0).fit(X, Y)
    ...     print(precondition, round(sgd.canonical_correlations_.sum() / exact, 2))
    True 1.0
    False 0.32
    """

    _parameter_constraints = {
        **SGD_PARAMETERS,
        "n_components": [Interval(Integral, 1, None, closed="left"), None],
        "regularization": [Interval(Real, 0, 1, closed="both")],
        "scale": ["boolean"],
        "batch_size": [StrOptions({"auto"}), Interval(Integral, 2, None, closed="left")],
        "eta0": [StrOptions({"auto"}), Interval(Real, 0, np.inf, closed="neither")],
        "unbiased": ["boolean"],
        "precondition": ["boolean"],
    }
    _sgd_stop_on = "loss"

    def __init__(
        self,
        n_components=None,
        *,
        regularization=0.0,
        scale=True,
        batch_size="auto",
        learning_rate="invscaling",
        eta0="auto",
        max_iter=30,
        tol=1e-4,
        n_iter_no_change=3,
        unbiased=True,
        precondition=True,
        verbose=0,
        random_state=None,
        warm_start=False,
    ):
        self.n_components = n_components
        self.regularization = regularization
        self.scale = scale
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.eta0 = eta0
        self.max_iter = max_iter
        self.tol = tol
        self.n_iter_no_change = n_iter_no_change
        self.unbiased = unbiased
        self.precondition = precondition
        self.verbose = verbose
        self.random_state = random_state
        self.warm_start = warm_start

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit by SGD over epochs of the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            First view.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            Second view.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights (summing to more than 1): the standardization, every
            minibatch's covariances and the final rotation are weighted.  The
            minibatches see the weights rescaled to mean 1 (``X_b^T D Y_b /
            (sum(w_b) - 1)`` with ``D`` those weights), so their unit does not matter.
            None weighs rows equally.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        return self._fit_or_clear(self._fit, X, y, sample_weight)

    def _fit(self, X, y, sample_weight):
        X, Y = self._validate_views(X, y)
        w = self._check_sample_weight(sample_weight, X)
        n_components = self._check_n_components(X, Y, w)
        reuse = self._can_warm_start(X, Y, n_components)
        rng = fit_generator(self.random_state)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported
            Xs, Ys = self._standardize_views(X, Y, w)
            self._check_standardized(Xs, Ys)
        Xs, Ys = np.ascontiguousarray(Xs), np.ascontiguousarray(Ys)
        self.n_components_ = n_components
        # the cross-products of the standardized views, in one pass: the preconditioner,
        # the monitored full-data loss and the final rotation all come from them
        moments = view_moments(Xs, Ys, sample_weight=w)
        p = Xs.shape[1]
        dof = moments.weight - 1.0
        covariances = (moments.comoment[:p, :p] / dof, moments.comoment[p:, p:] / dof)
        precond = self._preconditioner(*covariances)
        if reuse:
            Wx, Wy = self._x_iterate, self._y_iterate
        else:
            Wx, Wy = self._init_weights(p, Ys.shape[1], rng, precond)
        self._step_scale = self._data_step_scale(
            Xs, Ys, Wx, Wy, rng, w, shrink=not reuse, precond=precond
        )
        # state that lets partial_fit continue after fit
        self._rng = rng
        self._seen, self._sums, self._squares = _weighted_sums(X, Y, w)
        self._running = None  # the covariance that partial_fit's preconditioner continues
        if precond is not None:
            mean, std = self._standardization()
            self._running = RunningCovariance.start(moments, mean, std, p)
        self.loss_curve_ = []
        # the full-data loss with the weights at mean 1 (as the batches see them), from the gram
        n = Xs.shape[0]
        gram = moments.gram() / (n - 1.0) * (1.0 if w is None else n / moments.weight)
        self._run_epochs((Xs, Ys, Wx, Wy, _unit_mean(w), precond, gram), rng)
        self._x_iterate, self._y_iterate = Wx, Wy
        self.x_weights_, self.y_weights_ = Wx.copy(), Wy.copy()
        return self._finish_rotation(moments.gram(), moments.comoment, dof)

    def _can_warm_start(self, X, Y, n_components):
        """Whether ``fit`` continues the previous iterate (``warm_start`` and same shapes)."""
        if not (self.warm_start and hasattr(self, "_x_iterate")):
            return False
        same = self._x_iterate.shape == (X.shape[1], n_components) and self._y_iterate.shape == (
            Y.shape[1],
            n_components,
        )
        if not same:
            (p, k), q = self._x_iterate.shape, self._y_iterate.shape[0]
            raise ValueError(
                f"warm_start=True continues the previous fit, which had {p} and {q} features "
                f"and n_components_={k}; these views have {X.shape[1]} and {Y.shape[1]} "
                f"features (n_components_={n_components}). Set warm_start=False to fit from "
                "scratch."
            )
        return True

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y, sample_weight=None):
        """One epoch of SGD over a chunk of data (for streams that do not fit in memory).

        The first call fixes the number of features of both views and
        ``n_components_``; every later chunk must have the same columns and at
        least ``n_components_ + 1`` rows.  A call that raises leaves the estimator
        as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            A chunk of the first view.
        y : array-like of shape (n_samples, n_targets) or (n_samples,)
            The same rows of the second view.
        sample_weight : array-like of shape (n_samples,), default=None
            Row weights of the chunk, as in :meth:`fit` (the running means and
            standard deviations are weighted too).

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "_x_iterate")
        return self._partial_fit_or_restore(first, self._partial_fit, X, y, sample_weight, first)

    def _partial_fit(self, X, y, sample_weight, first):
        X, Y = self._validate_views(X, y, reset=first)
        w = self._check_sample_weight(sample_weight, X)
        if first:
            self.n_components_ = self._check_n_components(X, Y, w)
            rng = fit_generator(self.random_state)
            self._rng, self._seen = rng, 0.0
            self._sums = [np.zeros(X.shape[1]), np.zeros(Y.shape[1])]
            self._squares = [np.zeros(X.shape[1]), np.zeros(Y.shape[1])]
            self._running = None
            self.n_iter_ = 0
        else:
            rng = self._rng
            if Y.shape[1] != self._y_iterate.shape[0]:
                raise ValueError(
                    f"Y has {Y.shape[1]} columns, but {type(self).__name__} was fitted with "
                    f"{self._y_iterate.shape[0]}."
                )
            if X.shape[0] < self.n_components_ + 1:
                raise ValueError(
                    f"A chunk needs at least n_components_ + 1 = {self.n_components_ + 1} rows "
                    f"(the weights are rotated with it); got {X.shape[0]}."
                )
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported
            Xs, Ys = self._running_standardize(X, Y, w)
            self._check_standardized(Xs, Ys)
        Xs, Ys = np.ascontiguousarray(Xs), np.ascontiguousarray(Ys)
        chunk = view_moments(Xs, Ys, sample_weight=w)  # the covariance's and the rotation's
        precond = self._running_preconditioner(chunk, X.shape[1])
        if first:
            self._x_iterate, self._y_iterate = self._init_weights(
                X.shape[1], Y.shape[1], rng, precond
            )
        Wx, Wy = self._x_iterate, self._y_iterate
        if first or precond is not None:  # the step follows the refreshed preconditioner
            self._step_scale = self._data_step_scale(
                Xs, Ys, Wx, Wy, rng, w, shrink=first, precond=precond
            )
        self._partial_epoch((Xs, Ys, Wx, Wy, _unit_mean(w), precond, None), rng)
        self._x_iterate, self._y_iterate = Wx, Wy
        self.x_weights_, self.y_weights_ = Wx.copy(), Wy.copy()
        # the chunk's own (centred) moments for the rotation too: it is standardized with
        # the running means, and its uncentred cross-moment is dominated by the offset
        return self._finish_rotation(chunk.comoment, chunk.comoment, chunk.weight - 1.0)

    def _finish_rotation(self, gram, comoment, dof):
        """:meth:`_finish_fit_from_sums`; a rotation that fails on exploded weights diverged."""
        try:
            return self._finish_fit_from_sums(gram, comoment, dof)
        except np.linalg.LinAlgError:
            raise DivergenceError(
                f"{type(self).__name__} diverged: the weights grew too large for the final "
                f"rotation; {_HINT}."
            ) from None

    def _standardization(self):
        """The current ``(mean, std)`` of ``[X, Y]``, concatenated."""
        return (
            np.concatenate([self.x_mean_, self.y_mean_]),
            np.concatenate([self.x_std_, self.y_std_]),
        )

    def _running_preconditioner(self, chunk, p):
        """Merge the chunk into the running covariance; the preconditioner it gives (or None).

        ``chunk`` holds the :class:`Moments` of the standardized chunk.  Refreshed at
        every call (an eigendecomposition per view, ``O(p^3 + q^3)``, the order of
        the chunk's rotation unless chunks are much thinner than the views are
        wide), so that the rows of each epoch are always inside it.
        """
        if not self._preconditions():
            return None
        mean, std = self._standardization()
        if getattr(self, "_running", None) is None:  # (a model fitted before 0.2 has none)
            self._running = RunningCovariance.start(chunk, mean, std, p)
        else:
            self._running = self._running.update(chunk, mean, std)
        with np.errstate(over="ignore", invalid="ignore"):
            covariances = self._running.covariances(mean, std)
            if not all(np.all(np.isfinite(cov)) for cov in covariances):
                raise ValueError(
                    f"{type(self).__name__}: the running covariance overflowed (the "
                    "views' scale changed by more than float64 holds); rescale them."
                )
        if not self._running.is_reliable():  # too few rows: plain steps until they come in
            return None
        return self._preconditioner(*covariances)

    # -- internals ---------------------------------------------------------------------
    _PRIVATE_STATE = (
        "_rng",
        "_step_scale",
        "_seen",
        "_sums",
        "_squares",
        "_running",
        "_x_iterate",
        "_y_iterate",
        "_y_one_column",
        "_n_features_out",
    )

    def _preconditions(self):
        """Whether steps are preconditioned (``precondition`` and ``B`` is not the identity)."""
        return bool(self.precondition) and self.regularization < 1

    def _preconditioner(self, cov_x, cov_y):
        """The :class:`~._precondition.Preconditioner` of these covariances, or None."""
        if not self._preconditions():
            return None
        return build_preconditioner(cov_x, cov_y, self.regularization)

    def _init_weights(self, p, q, rng, precond=None):
        """Random weights; with a preconditioner, isotropic in its whitened coordinates."""
        k = self.n_components_
        Wx = rng.standard_normal((p, k)) / np.sqrt(p)
        Wy = rng.standard_normal((q, k)) / np.sqrt(q)
        if precond is not None:
            Wx, Wy = precond.Fx @ Wx, precond.Fy @ Wy
        return np.ascontiguousarray(Wx), np.ascontiguousarray(Wy)

    def _eta0(self):
        return 0.2 if self.eta0 == "auto" else float(self.eta0)

    def _data_step_scale(self, Xs, Ys, Wx, Wy, rng, sample_weight, shrink=True, precond=None):
        """One over the largest eigenvalue of a minibatch's B (the data's scale).

        With a preconditioner, of the preconditioned ``F^T B F`` (about the identity
        when ``F F^T = B^{-1}``, whatever the views' conditioning).

        With ``shrink``, also rescales the random initial weights (in place) so that
        ``U^T B U`` starts small: the quartic term's curvature grows with it, and a
        start far above the optimum's scale (``U^T B U = Lambda <= 1``) diverges on
        correlated features.  (A scale only: the rows' weights enter as a weighted
        mean, whatever their total.)
        """
        rows = rng.choice(Xs.shape[0], size=batch_rows(self.batch_size, Xs.shape[0]), replace=False)
        w = np.ones(len(rows)) if sample_weight is None else sample_weight[rows]
        w = w / w.sum() if w.sum() > 0 else np.full(len(rows), 1.0 / len(rows))
        c = self.regularization
        B_x = (1 - c) * ((Xs[rows] * w[:, None]).T @ Xs[rows]) + c * np.eye(Xs.shape[1])
        B_y = (1 - c) * ((Ys[rows] * w[:, None]).T @ Ys[rows]) + c * np.eye(Ys.shape[1])
        if shrink:
            start = np.trace(Wx.T @ B_x @ Wx) + np.trace(Wy.T @ B_y @ Wy)
            factor = np.sqrt(0.1 * self.n_components_ / max(start, np.finfo(float).tiny))
            Wx *= factor
            Wy *= factor
        if precond is not None:
            B_x = precond.Fx.T @ B_x @ precond.Fx
            B_y = precond.Fy.T @ B_y @ precond.Fy
        top = max(np.linalg.eigvalsh(B_x)[-1], np.linalg.eigvalsh(B_y)[-1])
        if not top > np.finfo(float).eps:  # a batch with no variance: the views' unit scale
            top = 1.0
        return 1.0 / top

    def _sgd_monitor(self, data):
        """The full-data loss after an epoch (recorded in ``loss_curve_``).

        From the views' cross-products (``O((p + q)^2 K)``, no pass over the data):
        ``tr C = tr(W_x^T G_xy W_y)`` and ``V = W^T B W`` with ``G`` the gram of the
        standardized views over ``n - 1`` (the weights at mean 1, as the batches
        see them), the moments :func:`~._loss.ey_moments` takes from the scores.
        """
        _, _, Wx, Wy, _, _, gram = data
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
            loss = _loss_from_gram(gram, Wx, Wy, self.regularization)
        check_finite(type(self).__name__, np.asarray(loss), hint=_HINT)
        self.loss_curve_.append(loss)
        return loss

    def _sgd_epoch(self, data, lr, rng):
        Xs, Ys, Wx, Wy, w, precond, _ = data
        n = Xs.shape[0]
        batch = batch_rows(self.batch_size, n)
        order = rng.permutation(n)
        order2 = rng.permutation(n)
        loss = ey_epoch(
            Xs,
            Ys,
            Wx,
            Wy,
            order,
            order2,
            batch,
            lr,
            float(self.regularization),
            bool(self.unbiased),
            check_data=False,  # validated, and checked finite after standardizing
            sample_weight=w,
            precondition=None if precond is None else precond.pair(),
        )
        check_finite(type(self).__name__, Wx, Wy, np.asarray(loss), hint=_HINT)

    def _running_standardize(self, X, Y, sample_weight):
        seen, sums, squares = _weighted_sums(X, Y, sample_weight)
        self._seen += seen
        for i in range(2):
            self._sums[i] += sums[i]
            self._squares[i] += squares[i]
        means = [s / self._seen for s in self._sums]
        stds = [
            np.sqrt(np.maximum(q / self._seen - m**2, 0.0)) for q, m in zip(self._squares, means)
        ]
        if not self.scale:
            stds = [np.ones_like(m) for m in means]
        for s in stds:
            s[s == 0] = 1.0
        self.x_mean_, self.y_mean_ = means
        self.x_std_, self.y_std_ = stds
        return (
            np.ascontiguousarray((X - self.x_mean_) / self.x_std_),
            np.ascontiguousarray((Y - self.y_mean_) / self.y_std_),
        )


_HINT = "lower eta0 or raise batch_size"


def _loss_from_gram(gram, Wx, Wy, c):
    """The Eckart-Young loss of the views whose gram over ``dof`` is ``gram`` (``_sgd_monitor``)."""
    p = Wx.shape[0]
    GWx, GWy = gram[:p, :p] @ Wx, gram[p:, p:] @ Wy
    trace_cross = float(np.einsum("ik,ik->", Wx, gram[:p, p:] @ Wy))
    V = Wx.T @ GWx + Wy.T @ GWy
    if c != 0.0:
        V = (1.0 - c) * V + c * (Wx.T @ Wx + Wy.T @ Wy)
    return float(ey_from_moments(trace_cross, V, V))


def _unit_mean(sample_weight):
    """The weights rescaled to mean 1, for the minibatches.

    A batch's covariances divide by ``sum(w_b) - 1`` (frequency weights: integer
    weights act as repeated rows), which is meaningless for weights in other units
    (e.g. probabilities summing to 1: every batch would be skipped).  The
    solution does not depend on the weights' scale (the rotation and the
    standardization use the weights as given), so the batches see them at mean 1.
    """
    if sample_weight is None:
        return None
    return sample_weight * (sample_weight.shape[0] / sample_weight.sum())


def _weighted_sums(X, Y, sample_weight):
    """Total weight, and the weighted column sums and sums of squares of both views."""
    if sample_weight is None:
        return X.shape[0], [X.sum(axis=0), Y.sum(axis=0)], [(X**2).sum(axis=0), (Y**2).sum(axis=0)]
    w = sample_weight
    return w.sum(), [w @ X, w @ Y], [w @ X**2, w @ Y**2]
