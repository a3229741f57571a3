"""Multiview CCA (MCCA / GCCA) by minibatch SGD on the unconstrained Eckart-Young loss.

The loss, its two-batch estimate and its gradient are in :mod:`._multiview_loss`; the
epochs run through the package's one SGD loop (``utils/_sgd.py``), each view's step
preconditioned as :class:`StochasticCCA`'s (:mod:`._precondition`); the final rotation
is the exact solver of :mod:`._multiview_solver` on the K-dimensional scores.
"""

from numbers import Integral, Real

import numpy as np
from sklearn.base import _fit_context
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._convergence import check_finite
from ..utils._sgd import SGD_PARAMETERS, SGDEpochsMixin, batch_rows, fit_generator
from ..utils._threads import solver_threads
from ._base import _column_moments
from ._multiview_base import MultiviewMixin
from ._multiview_loss import multiview_ey_gradient, multiview_ey_loss
from ._multiview_solver import multiview_directions, view_edges
from ._precondition import view_preconditioners
from ._statistics import block_moments, view_moments

__all__ = ["StochasticMultiviewCCA"]

_HINT = "lower eta0 or raise batch_size"


def _largest_eigenvalue(blocks):
    """``lambda_max(M^T M)`` of ``M = hstack(blocks)``, from the smaller of its two Grams."""
    rows = blocks[0].shape[0]
    if rows <= sum(block.shape[1] for block in blocks):
        gram = sum(block @ block.T for block in blocks)
    else:
        M = np.hstack(blocks)
        gram = M.T @ M
    return float(np.linalg.eigvalsh(gram)[-1])


class StochasticMultiviewCCA(SGDEpochsMixin, MultiviewMixin):
    """Multiview CCA (MCCA or GCCA) fitted by SGD on the Eckart-Young loss.

    The minibatch counterpart of :class:`MultiviewCCA`, as :class:`StochasticCCA` is
    of :class:`CCA`: the same problems, weights, attributes, ``transform`` and
    ``score``, for views too wide for the exact solver's covariance matrix
    (O(p^2) memory, O(p^3) time in ``p`` features): an epoch costs O(n p K) and
    memory O(p K), plus each view's own ``p_v x p_v`` covariance with the default
    ``precondition=True`` (``precondition=False`` needs none).  Chapman et al.
    (ICLR 2024) write the generalised eigenproblem as the unconstrained loss
    ``L(U) = -2 tr(U^T A U) + ||U^T B U||_F^2``, whose minimisers span the top-K
    eigenvectors with no spurious local minima; with ``M`` views its terms are sums
    over the views' scores (``tr(U^T A U) = sum_{v != w} tr Cov(X_v U_v, X_w U_w)``,
    plus the views' own variances for GCCA).  Each step estimates the gradient from
    a minibatch, pairing it with a second, independent one in the quadratic term so
    that the estimate is unbiased.  The step is ``eta0`` divided by the largest
    eigenvalue of a minibatch's joint covariance or within-view ``B`` and decays
    under the default ``learning_rate="invscaling"``; epochs run through the
    package's one SGD loop.  Finally the weights are rotated within their span by the
    exact multiview CCA of the K-dimensional scores of each view, which puts them in
    the canonical form of :class:`MultiviewCCA` (the loss fixes the span, not the
    basis).

    With ``precondition=True`` (the default) each view's gradient is multiplied
    by ``M_v^{-1}``, ``M_v = (1 - c_v) C_vv + c_v I`` that view's block of ``B``
    (``C_vv`` its covariance), as :class:`StochasticCCA` does: steps are taken in
    whitened coordinates, so the accuracy reached in a number of epochs no longer
    depends on how ill-conditioned the views are (plain SGD is ``cond(B_v)`` times
    slower along the views' low-variance directions).  ``M_v^{-1}`` is positive
    definite, so the solution is the same, for every ``regularization``; only the
    path changes.  The step is ``eta0`` over the largest eigenvalue of the whitened
    minibatch matrices and the random start is isotropic in whitened coordinates,
    so ``eta0="auto"`` serves both.  ``C_vv`` comes from one pass over the
    standardized views before the epochs (``O(n p_v^2)`` time, ``O(p_v^2)``
    memory, and an ``O(p_v^3)`` eigendecomposition per view and fit); a step
    costs ``O(p_v^2 K)`` more per view.  A view at ``c_v = 1`` (PLS) has
    ``M_v = I`` and is left as it is.

    A fit whose weights or loss stop being finite raises
    :class:`~sklearn_losses.utils.DivergenceError` (a ``ValueError``); ``fit``
    warns with a ``ConvergenceWarning`` when it runs ``max_iter`` epochs without
    meeting the stopping rule (unless ``tol=None``).  The loss's characterisation
    needs the top ``n_components`` eigenvalues to be positive: with MCCA on views
    with fewer than ``n_components`` positively correlated directions the extra
    components shrink to zero (zero weights); GCCA's eigenvalues are never
    negative.

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    n_components : int or None, default=None
        Number of components, at most ``min(view_sizes + [n_samples - 1])`` (a larger
        integer is a ``ValueError``); None takes that minimum.  The cost of an
        epoch grows linearly with it: on wide views pass the few components wanted.
    view_sizes : sequence of int or None, default=None
        Widths of the views in column order, as in :class:`MultiviewCCA` (None: the
        widths of a list of views, or two halves of X).
    method : {"mcca", "gcca"}, default="mcca"
        The multiview formulation, as in :class:`MultiviewCCA`.
    regularization : float in [0, 1] or sequence of float, default=0.0
        Ridge parameter of each view (one for all, or one per view): 0 is CCA, 1 is
        PLS.
    scale : bool, default=True
        Scale each column to unit variance.
    batch_size : "auto" or int, default="auto"
        Rows per minibatch (at least 2).  ``"auto"`` is ``min(256, max(16, n // 10))``
        for ``n`` rows: 256 rows on large data, about ten steps per epoch from 160 to
        2560 rows (the step decays per epoch), batches of 16 below, as for
        :class:`StochasticCCA`.  Epochs take whole batches (the remainder rows wait
        for the next epoch's shuffle).
    learning_rate : {"invscaling", "constant", "cosine"}, default="invscaling"
        Step-size schedule over epochs ``t = 0, 1, ...``: ``eta0 / (1 + t)``,
        ``eta0`` throughout, or ``eta0 * (1 + cos(pi * t / max_iter)) / 2``; each
        divided by the largest eigenvalue of a minibatch's joint covariance (or of a
        view's ``B``, if larger), in whitened coordinates with ``precondition``.
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
        ``O(p_v^2 K)`` per step and view; the solution is unchanged).  False takes
        the paper's plain gradient steps (for views too wide for a ``p_v x p_v``
        matrix).
    verbose : int, default=0
        Print one line per epoch (step size, full-data loss, time) when positive.
    random_state : int, RandomState instance or None, default=None
        Seeds the initial weights and the batch order (one generator per fit).
    warm_start : bool, default=False
        Start ``fit`` from the previous fit's SGD iterate (same view sizes and
        ``n_components_``) instead of random weights.

    Attributes
    ----------
    weights_ : list of ndarray of shape (n_features_v, `n_components_`)
        Weights of each view on its standardized columns, in the canonical form of
        :class:`MultiviewCCA`.
    eigenvalues_ : ndarray of shape (`n_components_`,)
        Generalised eigenvalues within the span of the fitted weights (their sum
        over components is the objective reached; at most the exact solution's).
    correlations_ : ndarray of shape (`n_components_`,)
        Mean over pairs of views of the training correlation of their scores.
    pairwise_correlations_ : ndarray of shape (`n_components_`, `n_views_`, `n_views_`)
        Training correlation of the scores of each pair of views.
    loss_curve_ : list of float
        Full-data Eckart-Young loss after each epoch.
    n_iter_ : int
        Epochs run.
    n_components_ : int
        Number of components fitted.
    view_sizes_ : tuple of int
        Widths of the views.
    n_views_ : int
        Number of views.
    mean_ : ndarray of shape (`n_features_in_`,)
        Column means.
    std_ : ndarray of shape (`n_features_in_`,)
        Column standard deviations (ones without ``scale``).
    n_features_in_ : int
        Number of features of X (all views).
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features of X, when it has string column names.

    See Also
    --------
    MultiviewCCA : The exact solution of the same problems, in memory.
    StochasticCCA : Two views, with ``partial_fit``.

    Notes
    -----
    On three views of 200 columns (n=20,000, five correlations 0.9-0.5, K=5, 30
    epochs, three seeds), the share of the exact objective (the sum of the top-K
    eigenvalues) reached at batch size 100 / 500:

    - views mixed to a covariance condition number near 1e5
      (``make_multiview(condition_number=316.2)``, which mixes each view by its own
      matrix): 0.9997-0.9998 / 0.99997-0.99998 preconditioned (MCCA and GCCA),
      where plain steps (``precondition=False``) reach 0.55-0.56 / 0.41-0.42 (MCCA)
      and 0.74-0.75 / 0.65-0.67 (GCCA); with ridge ``(0, 0.1, 0.5)`` per view
      0.9998-0.9999 / 0.99998 (MCCA) and 0.998-0.9998 / 0.996-0.999 (GCCA, whose
      5th and 6th eigenvalues are then within 2%), against 0.69-0.81 and 0.93-0.95
      plain;
    - well-conditioned views (``condition_number=1``, covariance condition 1.5):
      0.9997-0.9998 / 0.99997-0.99998 with or without the preconditioner (the same
      to five digits).

    With the preconditioner an epoch there costs 2-11% more (1 BLAS thread, batch
    size 100 or 500: a ``p_v x p_v`` product per view and step), plus about 0.1 s
    once per fit for the within-view covariances and their eigendecompositions.

    Plain steps are ``cond(B_v)`` times slower along the low-variance directions;
    they are what ``precondition=False`` keeps, for views too wide for the
    ``p_v x p_v`` covariances (or decorrelate each view first, e.g. PCA per view
    in a ``ColumnTransformer``).

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import MultiviewCCA, StochasticMultiviewCCA
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, view_sizes = make_multiview(
    ...     4000, (10, 10, 10), correlations=(0.9, 0.6), return_concatenated=True, random_state=0
    ... )
    >>> sgd = StochasticMultiviewCCA(
    ...     2, view_sizes=view_sizes, batch_size=100, random_state=0
    ... ).fit(X)
    >>> exact = MultiviewCCA(2, view_sizes=view_sizes).fit(X)
    >>> bool(sgd.eigenvalues_.sum() / exact.eigenvalues_.sum() > 0.99)
    True

    On views mixed with condition number 300 (covariance condition number 9e4),
    plain gradient steps reach about a third of the exact objective in 30 epochs:

    >>> X, view_sizes = make_multiview(2000, (12, 12, 12), correlations=(0.9, 0.7),
    ...                                condition_number=300, return_concatenated=True,
    ...                                random_state=0)
    >>> exact = MultiviewCCA(2, view_sizes=view_sizes).fit(X).eigenvalues_.sum()
    >>> for precondition in (True, False):
    ...     sgd = StochasticMultiviewCCA(2, view_sizes=view_sizes, batch_size=100, tol=None,
    ...                                  precondition=precondition, random_state=0).fit(X)
    ...     print(precondition, round(sgd.eigenvalues_.sum() / exact, 2))
    True 1.0
    False 0.36
    """

    _parameter_constraints = {
        **MultiviewMixin._parameter_constraints,
        **SGD_PARAMETERS,
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
        view_sizes=None,
        method="mcca",
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
        self.view_sizes = view_sizes
        self.method = method
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
    def fit(self, X, y=None, sample_weight=None):
        """Fit by SGD over epochs of the data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of array-like
            The views side by side (column blocks of widths ``view_sizes``), or a
            list of the views.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the rows (summing to more than 1): the
            standardization, every minibatch's covariances (each row's term
            weighted, scaled to be unbiased for the weighted covariances divided by
            ``sum(sample_weight) - 1``) and the final rotation are weighted.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        previous = getattr(self, "_iterate", None)
        X = self._validate_fit_input(X)
        w = self._check_sample_weight(sample_weight, X)
        c = self._regularization_per_view()
        n_positive = X.shape[0] if w is None else int(np.count_nonzero(w))
        n_components = self._check_n_components(n_positive)
        reuse = self._can_warm_start(previous, n_components)
        rng = fit_generator(self.random_state)
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported
            mean, var = _column_moments(X, w)
            self._set_standardization(mean, var)
            Xs = (X - self.mean_) / self.std_
        self._check_finite(self.mean_, self.std_, Xs)
        edges = view_edges(self.view_sizes_)
        views = [np.ascontiguousarray(Xs[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]
        del Xs
        total = float(X.shape[0] if w is None else w.sum())
        precond = self._preconditioner(views, w, total, c)
        if reuse:
            U = [u.copy() for u in previous]
        else:
            U = [rng.standard_normal((view.shape[1], n_components)) for view in views]
            U = [u / np.sqrt(u.shape[0]) for u in U]
            if precond is not None:  # isotropic in each view's whitened coordinates
                U = [u if pre is None else pre[1] @ u for u, pre in zip(U, precond)]
        data = (views, U, w, total, c, precond)
        self._step_scale = self._data_step_scale(data, rng, shrink=not reuse)
        self.loss_curve_ = []
        # a batch's products are small: BLAS threads would only spin (utils/_threads.py)
        with solver_threads(batch_rows(self.batch_size, X.shape[0]) * X.shape[1]):
            self._run_epochs(data, rng)
            self._iterate = [u.copy() for u in U]
            return self._rotate(views, U, w, total, c)

    def _can_warm_start(self, previous, n_components):
        if not (self.warm_start and previous is not None):
            return False
        shapes = [(p, n_components) for p in self.view_sizes_]
        if [u.shape for u in previous] != shapes:
            widths = tuple(u.shape[0] for u in previous)
            raise ValueError(
                f"warm_start=True continues the previous fit, which had views of {widths} "
                f"features and n_components_={previous[0].shape[1]}; these views have "
                f"{self.view_sizes_} features (n_components_={n_components}). Set "
                "warm_start=False to fit from scratch."
            )
        return True

    def _preconditioner(self, views, w, total, c):
        """Per view ``(P_v, F_v)`` of ``B_v = (1 - c_v) C_vv + c_v I`` (None at ``c_v = 1``).

        None without ``precondition`` or when every ``B_v`` is the identity.  ``C_vv``
        is the (weighted) covariance of the standardized view, over ``sum(w) - 1``,
        from one pass in row blocks (``O(n p_v^2)``, ``O(p_v^2)`` memory).
        """
        if not (self.precondition and np.any(c < 1.0)):
            return None
        covariances = [
            view_moments(view, sample_weight=w).comoment / (total - 1.0) if c_v < 1.0 else None
            for view, c_v in zip(views, c)
        ]
        return view_preconditioners(covariances, c)

    def _eta0(self):
        return 0.2 if self.eta0 == "auto" else float(self.eta0)

    def _data_step_scale(self, data, rng, shrink=True):
        """One over the data's scale: the largest eigenvalue of a minibatch's ``A`` or ``B``.

        The loss's curvature grows with both ``B`` (each view's covariance) and ``A``
        (the between-view covariances, up to ``n_views - 1`` times a view's own when
        the views are correlated), so the step is divided by the larger of
        ``lambda_max(B_v)`` over the views and ``lambda_max`` of the joint covariance
        (which bounds ``A``'s top eigenvalue, for MCCA and GCCA).  With a
        preconditioner, of the same matrices in whitened coordinates (each view's
        minibatch times ``F_v``; ``F_v^T B_v F_v`` is about the identity whatever the
        views' conditioning).  With ``shrink``, also rescales the random initial
        weights (in place) so that ``U^T B U`` starts small (a start far above the
        optimum's scale diverges).
        """
        views, U, w, total, c, precond = data
        n = views[0].shape[0]
        rows = rng.choice(n, size=batch_rows(self.batch_size, n), replace=False)
        scale = n / (len(rows) * (total - 1.0))
        root = np.ones(len(rows)) if w is None else np.sqrt(w[rows])
        batch = [view[rows] * root[:, None] for view in views]
        whitened = batch
        if precond is not None:
            whitened = [Xb if pre is None else Xb @ pre[1] for Xb, pre in zip(batch, precond)]
        top = _largest_eigenvalue(whitened) * scale  # the joint covariance: bounds A
        start = 0.0
        for v, Xb in enumerate(batch):
            pre = None if precond is None else precond[v]
            if pre is None:
                top = max(top, (1.0 - c[v]) * scale * _largest_eigenvalue([Xb]) + c[v])
            else:  # F^T B_v F on the batch
                gram = whitened[v].T @ whitened[v]
                B = (1.0 - c[v]) * scale * gram + c[v] * (pre[1].T @ pre[1])
                top = max(top, float(np.linalg.eigvalsh(B)[-1]))
            Z = Xb @ U[v]
            start += (1.0 - c[v]) * scale * (Z**2).sum() + c[v] * (U[v] ** 2).sum()
        if shrink:
            factor = np.sqrt(0.1 * U[0].shape[1] / max(start, np.finfo(float).tiny))
            for u in U:
                u *= factor
        return 1.0 / top if top > np.finfo(float).eps else 1.0

    def _sgd_epoch(self, data, step, rng):
        views, U, w, total, c, precond = data
        n = views[0].shape[0]
        b = batch_rows(self.batch_size, n)
        order, order2 = rng.permutation(n), rng.permutation(n)
        # one gather per view and epoch; each batch is then a slice (no copy)
        shuffled = [view[order] for view in views]
        shuffled2 = [view[order2] for view in views] if self.unbiased else None
        w1 = None if w is None else w[order]
        w2 = None if w is None or not self.unbiased else w[order2]
        # whole batches only, as the two-view kernel: a remainder of a few rows gives a
        # gradient far noisier than the step was sized for (GCCA diverged on 442 rows)
        for start in range(0, n - b + 1, b):
            rows = slice(start, start + b)
            scale = n / (b * (total - 1.0))
            batch = [view[rows] for view in shuffled]
            weights = {} if w is None else {"sample_weight": w1[rows]}
            second = None
            if self.unbiased:
                second = ([view[rows] for view in shuffled2], scale)
                if w is not None:
                    weights["sample_weight2"] = w2[rows]
            grads = multiview_ey_gradient(batch, U, scale, c, self.method, second, **weights)
            if precond is None:
                for u, g in zip(U, grads):
                    u -= step * g
            else:  # U_v -= step * B_v^{-1} grad_v: SGD in whitened coordinates
                for u, g, pre in zip(U, grads, precond):
                    u -= step * (g if pre is None else pre[0] @ g)
        check_finite(type(self).__name__, *U, hint=_HINT)

    def _sgd_monitor(self, data):
        """The full-data loss after an epoch (recorded in ``loss_curve_``)."""
        views, U, w, total, c, _ = data
        with np.errstate(over="ignore", invalid="ignore"):  # divergence is reported
            loss = multiview_ey_loss(views, U, 1.0 / (total - 1.0), c, self.method, sample_weight=w)
        check_finite(type(self).__name__, np.asarray(loss), hint=_HINT)
        self.loss_curve_.append(loss)
        return loss

    def _rotate(self, views, U, w, total, c):
        """The exact multiview CCA of the K-dimensional scores: canonical form in the span."""
        k = U[0].shape[1]
        scores = np.hstack([view @ u for view, u in zip(views, U)])
        moments = block_moments(scores, w)
        score_cov = moments.comoment / (total - 1.0)
        grams = [u.T @ u for u in U]
        blocks, eigenvalues, _ = multiview_directions(
            score_cov, (k,) * len(U), c, self.method, k, grams=grams
        )
        weights = [u @ a for u, a in zip(U, blocks)]
        stacked = np.zeros((len(U) * k, len(U) * k))
        for v, a in enumerate(blocks):
            stacked[v * k : (v + 1) * k, v * k : (v + 1) * k] = a
        traces = np.array(
            [
                float(((view**2).sum(axis=0) if w is None else w @ view**2).sum()) / (total - 1.0)
                for view in views
            ]
        )
        return self._finish_fit(
            weights, eigenvalues, None, traces, score_cov=stacked.T @ score_cov @ stacked
        )
