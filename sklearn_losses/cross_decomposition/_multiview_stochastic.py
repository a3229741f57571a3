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
from sklearn.utils.validation import validate_data

from ..utils._convergence import check_finite
from ..utils._sgd import SGD_PARAMETERS, SGDEpochsMixin, batch_rows, fit_generator
from ..utils._threads import solver_threads
from ._base import _column_moments
from ._multiview_base import MultiviewMixin, _stack_views
from ._multiview_loss import multiview_ey_gradient, multiview_ey_loss
from ._multiview_solver import multiview_directions, view_edges
from ._precondition import RunningCovariance, view_preconditioners
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

    ``partial_fit`` streams data that does not fit in memory (e.g. chunks read from a
    memmap), as :class:`StochasticCCA`'s: each call runs one epoch over the chunk,
    standardizing with running statistics and preconditioning with each view's
    running covariance, and rotates with that chunk (which needs at least
    ``n_components_ + 1`` rows); SGD continues from its own iterate (after ``fit``
    too), and a call that fails leaves the estimator as it was.

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
        integer is a ``ValueError``); None takes that minimum (for ``partial_fit``,
        with ``n_samples`` the first chunk's rows).  The cost of an
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
        for ``n`` rows (of the chunk, in ``partial_fit``): 256 rows on large data,
        about ten steps per epoch from 160 to 2560 rows (the step decays per epoch),
        batches of 16 below, as for :class:`StochasticCCA`.  Epochs take whole
        batches (the remainder rows wait for the next epoch's shuffle).
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
        Full-data Eckart-Young loss after each epoch (``fit`` only).
    n_iter_ : int
        Epochs run (one per ``partial_fit`` call, continuing ``fit``'s count).
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
    StochasticCCA : Two views.

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

    Streaming the rows in chunks with ``partial_fit`` (one epoch per call):

    >>> sgd = StochasticMultiviewCCA(2, view_sizes=view_sizes, batch_size=50, random_state=0)
    >>> for _ in range(5):
    ...     for start in range(0, 2000, 500):
    ...         sgd = sgd.partial_fit(X[start : start + 500])
    >>> span = MultiviewCCA(2, view_sizes=(2, 2, 2), scale=False).fit(sgd.transform(X))
    >>> sgd.n_iter_, bool(span.eigenvalues_.sum() / exact > 0.99)
    (20, True)
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
    # what fit and partial_fit set besides the public attributes: snapshotted by
    # partial_fit and restored when a call fails (SGDEpochsMixin._partial_fit_or_restore)
    _PRIVATE_STATE = ("_rng", "_step_scale", "_column_stats", "_running", "_iterate")

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
        return self._fit_or_clear(self._fit, X, sample_weight)

    def _fit(self, X, sample_weight):
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
        self._running = None  # the covariance that partial_fit's preconditioner continues
        edges = view_edges(self.view_sizes_)
        views = [np.ascontiguousarray(Xs[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]
        del Xs
        total = float(X.shape[0] if w is None else w.sum())
        precond = self._preconditioner(views, w, total, c)
        self.n_components_ = n_components
        U = [u.copy() for u in previous] if reuse else self._init_weights(rng, precond)
        data = (views, U, w, total, c, precond)
        self._step_scale = self._data_step_scale(data, rng, shrink=not reuse)
        # state that lets partial_fit continue after fit
        self._rng = rng
        self._column_stats = (total, self.mean_.copy(), var * (total - 1.0))
        self.loss_curve_ = []
        # a batch's products are small: BLAS threads would only spin (utils/_threads.py)
        with solver_threads(batch_rows(self.batch_size, X.shape[0]) * X.shape[1]):
            self._run_epochs(data, rng)
            self._iterate = [u.copy() for u in U]
            return self._rotate(views, U, w, total, c)

    @_fit_context(prefer_skip_nested_validation=True)
    def partial_fit(self, X, y=None, sample_weight=None):
        """One epoch of SGD over a chunk of data (for streams that do not fit in memory).

        The first call fixes the views' widths (``view_sizes_``) and
        ``n_components_``; every later chunk must have the same columns and at least
        ``n_components_ + 1`` rows (of positive weight).  Each call standardizes the
        chunk with the running means and standard deviations of all rows seen, merges
        each view's covariance into a running one (the preconditioner, once 4 rows
        per feature of the widest view are in; plain steps before), runs one epoch
        continuing the step schedule at ``n_iter_``, and rotates the weights into
        canonical form with the chunk.  After :meth:`fit` it continues the fit's SGD
        iterate and statistics.  A call that raises leaves the estimator as it was.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features) or list of array-like
            A chunk of the views side by side (column blocks of widths
            ``view_sizes``), or a list of the chunk's views.
        y : None
            Ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Frequency weights of the chunk's rows, as in :meth:`fit` (the running
            means, standard deviations and covariances are weighted too: integer
            weights count as repeated rows).

        Returns
        -------
        self : object
            The updated estimator.
        """
        first = not hasattr(self, "_iterate")
        return self._partial_fit_or_restore(first, self._partial_fit, X, sample_weight, first)

    def _partial_fit(self, X, sample_weight, first):
        X = self._validate_chunk(X, first)
        w = self._check_sample_weight(sample_weight, X)
        c = self._regularization_per_view()
        n_positive = X.shape[0] if w is None else int(np.count_nonzero(w))
        if first:
            self.n_components_ = self._check_n_components(n_positive)
            self._rng = fit_generator(self.random_state)
            self._column_stats = self._running = None
            self.n_iter_ = 0
        elif n_positive < self.n_components_ + 1:
            raise ValueError(
                f"A chunk needs at least n_components_ + 1 = {self.n_components_ + 1} rows "
                f"of positive sample_weight (the weights are rotated with it); got {n_positive}."
            )
        rng = self._rng
        with np.errstate(over="ignore", invalid="ignore"):  # overflow is reported
            Xs = self._running_standardize(X, w)
        self._check_finite(self.mean_, self.std_, Xs)
        edges = view_edges(self.view_sizes_)
        views = [np.ascontiguousarray(Xs[:, a:b]) for a, b in zip(edges[:-1], edges[1:])]
        del Xs
        total = float(X.shape[0] if w is None else w.sum())
        precond = self._running_preconditioner(views, w, c)
        U = self._init_weights(rng, precond) if first else self._iterate
        data = (views, U, w, total, c, precond)
        if first or precond is not None:  # the step follows the refreshed preconditioner
            self._step_scale = self._data_step_scale(data, rng, shrink=first)
        with solver_threads(batch_rows(self.batch_size, X.shape[0]) * X.shape[1]):
            self._partial_epoch(data, rng)
            self._iterate = [u.copy() for u in U]
            # the chunk is standardized with the running means: its scores' moments and
            # the views' traces are centred at the chunk's own means
            return self._rotate(views, U, w, total, c, centred=True)

    def _validate_chunk(self, X, first):
        """:meth:`_validate_fit_input` on the first call; later, X checked against it."""
        if first:
            return self._validate_fit_input(X)
        X, from_list = _stack_views(X)
        X = validate_data(self, X, dtype=np.float64, ensure_min_samples=2, reset=False)
        sizes = self._resolve_view_sizes(X.shape[1], from_list)
        if sizes != self.view_sizes_:
            raise ValueError(
                f"The views have widths {sizes}, but {type(self).__name__} was fitted with "
                f"view_sizes_={self.view_sizes_}."
            )
        return X

    def _running_standardize(self, X, w):
        """Merge the chunk's column moments into the running ones; the chunk standardized.

        ``_column_stats`` holds the total weight, the weighted column means and the
        centred sums of squares of every row seen (merged as Chan et al.'s update);
        ``std_`` is their standard deviation over ``weight - 1``, as :meth:`fit`'s.
        """
        weight = float(X.shape[0] if w is None else w.sum())
        mean = _column_moments(X, w, variance=False)
        squares = ((X - mean) ** 2).sum(axis=0) if w is None else w @ (X - mean) ** 2
        if self._column_stats is not None:
            seen, seen_mean, seen_squares = self._column_stats
            delta, both = mean - seen_mean, seen + weight
            mean = seen_mean + delta * (weight / both)
            squares = seen_squares + squares + delta**2 * (seen * weight / both)
            weight = both
        self._column_stats = (weight, mean, squares)
        self._set_standardization(mean.copy(), squares / (weight - 1.0))
        return (X - self.mean_) / self.std_

    def _running_preconditioner(self, views, w, c):
        """Merge the chunk's views into the running covariance; the preconditioner (or None).

        None until ``MIN_ROWS_PER_FEATURE`` rows per feature of the widest view are in
        (:meth:`RunningCovariance.is_reliable`): plain steps before, as
        :class:`StochasticCCA`.  Refreshed at every call (an eigendecomposition per
        view), so that the rows of each epoch are always inside it.
        """
        if not self._preconditions(c):
            return None
        chunk = [view_moments(view, sample_weight=w) for view in views]
        if self._running is None:
            self._running = RunningCovariance.start(chunk, self.mean_, self.std_)
        else:
            self._running = self._running.update(chunk, self.mean_, self.std_)
        with np.errstate(over="ignore", invalid="ignore"):
            covariances = self._running.covariances(self.mean_, self.std_)
        if not all(np.all(np.isfinite(cov)) for cov in covariances):
            raise ValueError(
                f"{type(self).__name__}: the running covariance overflowed (the views' "
                "scale changed by more than float64 holds); rescale them."
            )
        if not self._running.is_reliable():  # too few rows: plain steps until they come in
            return None
        return view_preconditioners(covariances, c)

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

    def _preconditions(self, c):
        """Whether steps are preconditioned (``precondition`` and some ``B_v`` is not ``I``)."""
        return bool(self.precondition) and bool(np.any(c < 1.0))

    def _preconditioner(self, views, w, total, c):
        """Per view ``(P_v, F_v)`` of ``B_v = (1 - c_v) C_vv + c_v I`` (None at ``c_v = 1``).

        None without ``precondition`` or when every ``B_v`` is the identity.  ``C_vv``
        is the (weighted) covariance of the standardized view, over ``sum(w) - 1``,
        from one pass in row blocks (``O(n p_v^2)``, ``O(p_v^2)`` memory).  Every
        view's moments start the running covariance that ``partial_fit`` continues.
        """
        if not self._preconditions(c):
            return None
        moments = [view_moments(view, sample_weight=w) for view in views]
        self._running = RunningCovariance.start(moments, self.mean_, self.std_)
        covariances = [m.comoment / (total - 1.0) for m in moments]
        return view_preconditioners(covariances, c)

    def _init_weights(self, rng, precond):
        """Random weights; with a preconditioner, isotropic in each view's whitened coordinates."""
        U = [rng.standard_normal((p, self.n_components_)) for p in self.view_sizes_]
        U = [u / np.sqrt(u.shape[0]) for u in U]
        if precond is not None:
            U = [u if pre is None else pre[1] @ u for u, pre in zip(U, precond)]
        return U

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

    def _rotate(self, views, U, w, total, c, centred=False):
        """The exact multiview CCA of the K-dimensional scores: canonical form in the span.

        With ``centred``, the views' traces are taken about their own (weighted) means
        (``partial_fit``'s chunk is standardized with the running ones).
        """
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
        if centred:  # about the views' own means (only the traces: the scores' are centred)
            views = [view - _column_moments(view, w, variance=False) for view in views]
        traces = np.array(
            [
                float(((view**2).sum(axis=0) if w is None else w @ view**2).sum()) / (total - 1.0)
                for view in views
            ]
        )
        return self._finish_fit(
            weights, eigenvalues, None, traces, score_cov=stacked.T @ score_cov @ stacked
        )
