"""Permutation tests of the canonical correlations, one component after another.

The test of component ``k`` asks whether the views are associated beyond their first
``k - 1`` pairs of canonical directions.  It follows Winkler et al. (2020): the
earlier directions are removed from the data before permuting, since the naive test
(the ``k``-th correlation of each permuted fit against the observed ``k``-th) is
anti-conservative for ``k > 1``.  The removal is done once, in the coordinates in
which the fitted eigenproblem is an SVD: each view ``v`` is centred (and scaled) as
the estimator did it and whitened by ``B_v^{-1/2}``, ``B_v = (1 - c_v) Sigma_vv +
c_v I``, then rotated by an orthonormal basis ``Q_v`` whose leading columns span
the fitted directions (nested: by QR).  Component ``k``'s residual problem is then
the trailing columns ``k-1:`` of every rotated view.  Permuting rows of a view does
not change its within-view matrices, so the whitening is done once; each
permutation costs one thin product per pair of views and a small factorisation.
"""

from numbers import Integral

import numpy as np
from joblib import effective_n_jobs
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.parallel import Parallel, delayed
from sklearn.utils.validation import check_array

from ..utils._threads import solver_threads
from ..utils.validation import check_sample_weight
from ._base import TwoViewBase
from ._multiview_solver import whitener

__all__ = ["permutation_test"]

_CHUNK = 32  # permutations per task: their statistics are computed as one batch
_CHUNK_ENTRIES = 4_000_000  # at most this many entries in a task's stack of joint matrices
_RTOL = 1e-12  # a null statistic within this relative distance of the observed one ties it


def _draw(seed, n_rows, n_views):
    """The row permutations of views ``1, ..., n_views - 1`` (view 0 stays) of one draw."""
    rng = np.random.default_rng(seed)
    return [rng.permutation(n_rows) for _ in range(n_views - 1)]


class _Problem:
    """The fitted eigenproblem, whitened and rotated: everything a permutation needs.

    ``views[v]`` (n x r_v) is view ``v`` whitened by its ``B_v`` and rotated so that
    its first ``j`` columns span the first ``j`` fitted directions; ``omegas[v]`` its
    covariance (the identity at regularization 0).
    """

    def __init__(self, views, regularization, weights, *, statistic, gcca, n_tested):
        self.dof = views[0].shape[0] - 1.0
        self.views, self.omegas = [], []
        for view, c, W in zip(views, regularization, weights):
            B = (1.0 - c) * (view.T @ view / self.dof) + c * np.eye(view.shape[1])
            R = whitener(B)
            A = R.T @ B @ W  # the fitted directions in whitened coordinates (r_v x K)
            Q = np.linalg.qr(A[:, : R.shape[1]], mode="complete")[0]
            Z = view @ (R @ Q)
            self.views.append(Z)
            self.omegas.append(Z.T @ Z / self.dof)
        self.ranks = [Z.shape[1] for Z in self.views]
        self.n_tested = min(n_tested, *self.ranks)
        self.statistic, self.gcca = statistic, gcca
        self.first_t = np.ascontiguousarray(self.views[0].T)
        # joint coordinates ordered by column index, descending: the columns ``k-1:`` of
        # every view (component k's residual problem) are then a leading block
        order = sorted(
            ((j, v) for v, r in enumerate(self.ranks) for j in range(r)),
            key=lambda t: (-t[0], t[1]),
        )
        self.positions = [np.zeros(r, dtype=int) for r in self.ranks]
        for position, (j, v) in enumerate(order):
            self.positions[v][j] = position
        self.sizes = [sum(max(r - k, 0) for r in self.ranks) for k in range(self.n_tested)]

    @property
    def n_rows(self):
        return self.views[0].shape[0]

    def cross_blocks(self, draws):
        """``{(v, w): (b, r_v, r_w)}``: the cross-covariances of the permuted views."""
        n_views = len(self.views)
        blocks = {
            (v, w): np.empty((len(draws), self.ranks[v], self.ranks[w]))
            for v in range(n_views)
            for w in range(v + 1, n_views)
        }
        buffers = [np.empty_like(Z) for Z in self.views[1:]]
        for i, perms in enumerate(draws):
            permuted = [self.views[0]]
            for Z, perm, buffer in zip(self.views[1:], perms, buffers):
                # "clip": the indices are valid; "raise" checks them through a copy (3x slower)
                permuted.append(np.take(Z, perm, axis=0, out=buffer, mode="clip"))
            for (v, w), block in blocks.items():
                left = self.first_t if v == 0 else permuted[v].T
                np.matmul(left, permuted[w], out=block[i])
        for block in blocks.values():
            block /= self.dof
        return blocks

    def statistics(self, blocks):
        """``(b, n_tested)``: the statistic of each residual problem, per permutation."""
        K = self.n_tested
        if self.statistic == "pillai":  # sums of squares of the trailing blocks, all k at once
            total = 0.0
            for N in blocks.values():  # K <= min(r_v, r_w): every block has K diagonal entries
                squares = (N**2)[:, ::-1, ::-1].cumsum(axis=1).cumsum(axis=2)[:, ::-1, ::-1]
                total = total + squares[:, np.arange(K), np.arange(K)]
            return total
        if self.statistic == "roy" and len(self.views) == 2 and not self.gcca:
            N = blocks[0, 1]  # the eigenvalues of [[0, N], [N^T, 0]] are +-svd(N)
            return np.stack(
                [np.linalg.svd(N[:, k:, k:], compute_uv=False)[:, 0] for k in range(K)], axis=1
            )
        S = self._joint(blocks)
        if self.statistic == "roy":
            return np.stack(
                [np.linalg.eigvalsh(S[:, :m, :m])[:, -1] for m in self.sizes[:K]], axis=1
            )
        return _wilks(S, self.sizes[:K])

    def _joint(self, blocks):
        """The whitened joint matrix in the descending order: ``(b, m, m)``."""
        b = next(iter(blocks.values())).shape[0]
        m = sum(self.ranks)
        S = np.zeros((b, m, m))
        for v, pos in enumerate(self.positions):
            if self.statistic == "wilks":  # the joint correlation matrix
                S[:, pos, pos] = 1.0
            elif self.gcca:  # GCCA: A is the whole joint covariance
                S[:, pos[:, None], pos[None, :]] = self.omegas[v]
        for (v, w), N in blocks.items():
            pv, pw = self.positions[v], self.positions[w]
            S[:, pv[:, None], pw[None, :]] = N
            S[:, pw[:, None], pv[None, :]] = N.transpose(0, 2, 1)
        return S

    def null_chunk(self, seeds):
        draws = [_draw(seed, self.n_rows, len(self.views)) for seed in seeds]
        return self.statistics(self.cross_blocks(draws))

    def observed(self):
        identity = [np.arange(self.n_rows)] * (len(self.views) - 1)
        return self.statistics(self.cross_blocks([identity]))[0]


def _wilks(S, sizes):
    """``-log det`` of the leading ``m x m`` block of each ``S``, for each ``m`` in ``sizes``.

    One Cholesky factorisation gives every leading minor.  A matrix that is not
    positive definite (a correlation of 1: more columns than rows) scores ``inf``.
    """
    out = np.empty((S.shape[0], len(sizes)))
    idx = np.asarray(sizes) - 1
    try:
        L = np.linalg.cholesky(S)
    except np.linalg.LinAlgError:
        for i, matrix in enumerate(S):
            out[i] = _wilks(matrix[None], sizes)[0] if _is_pd(matrix) else _wilks_eig(matrix, sizes)
        return out
    log_diag = np.log(np.diagonal(L, axis1=1, axis2=2))
    return -2.0 * np.cumsum(log_diag, axis=1)[:, idx]


def _is_pd(matrix):
    try:
        np.linalg.cholesky(matrix)
    except np.linalg.LinAlgError:
        return False
    return True


def _wilks_eig(matrix, sizes):
    """:func:`_wilks` of one matrix that is not positive definite, by eigenvalues."""
    out = np.empty(len(sizes))
    for i, m in enumerate(sizes):
        eigvals = np.linalg.eigvalsh(matrix[:m, :m])
        out[i] = np.inf if eigvals.min() <= 0 else -np.log(eigvals).sum()
    return out


def _refit_chunk(template, problem, seeds, multiview):
    """:meth:`_Problem.null_chunk` by fitting a clone on each residual problem."""
    out = np.empty((len(seeds), problem.n_tested))
    for i, seed in enumerate(seeds):
        if seed is None:
            perms = [np.arange(problem.n_rows)] * (len(problem.views) - 1)
        else:
            perms = _draw(seed, problem.n_rows, len(problem.views))
        for k in range(problem.n_tested):
            views = [problem.views[0][:, k:]]
            views += [Z[perm, k:] for Z, perm in zip(problem.views[1:], perms)]
            out[i, k] = _refit_statistic(template, views, problem.statistic, multiview)
    return out


def _refit_statistic(template, views, statistic, multiview):
    """The statistic of one residual problem, from a clone fitted on its whitened views.

    In whitened coordinates the problem has ``B = I``: a fit at regularization 1 on the
    unscaled views solves it, whatever the estimator's own regularization.
    """
    widths = [view.shape[1] for view in views]
    n_components = 1 if statistic == "roy" else min(*widths, views[0].shape[0] - 1)
    params = {"regularization": 1.0, "scale": False, "n_components": n_components}
    if multiview:
        params["view_sizes"] = tuple(widths)
        fitted = clone(template).set_params(**params).fit(np.hstack(views))
    else:
        fitted = clone(template).set_params(**params).fit(views[0], views[1])
    eigenvalues = np.asarray(fitted.eigenvalues_, dtype=np.float64)
    if statistic == "roy":
        return float(eigenvalues[0])
    if statistic == "pillai":
        return float((eigenvalues**2).sum())
    with np.errstate(divide="ignore"):
        return float(-np.log1p(-np.minimum(eigenvalues**2, 1.0)).sum())


def _kind(estimator):
    """The estimator's kind, "two_view" or "multiview"; a ValueError if the test cannot run it."""
    params = estimator.get_params(deep=False) if hasattr(estimator, "get_params") else {}
    needed = {"regularization", "scale", "n_components"}
    if isinstance(estimator, TwoViewBase) and needed <= params.keys():
        return "two_view"
    if needed | {"view_sizes"} <= params.keys() and hasattr(estimator, "transform_views"):
        return "multiview"
    raise ValueError(
        "permutation_test supports the linear CCA estimators of "
        "sklearn_losses.cross_decomposition (CCA, StochasticCCA, MultiviewCCA: an "
        "estimator with regularization, scale and n_components parameters whose fit "
        f"solves the CCA / ridge CCA / PLS eigenproblem); got {type(estimator).__name__}."
    )


def _integer_weights(sample_weight, X):
    """The row index of the data with each row repeated ``sample_weight`` times."""
    w = check_sample_weight(sample_weight, X, "permutation_test")
    if not np.all(w == np.round(w)):
        raise ValueError(
            "permutation_test needs frequency weights (nonnegative integers: a row of "
            "weight 3 counts as 3 rows, and the permutations shuffle those rows); got "
            "non-integer sample_weight.  A permutation null of real-valued weights is not "
            "defined (they would have to travel with the rows of one view or the other)."
        )
    return np.repeat(np.arange(X.shape[0]), w.astype(np.int64))


def _fit_and_standardize(estimator, kind, X, Y, sample_weight):
    """The fitted clone and its views, centred and scaled as it did, one row per unit weight."""
    if isinstance(X, (list, tuple)) and all(getattr(view, "ndim", None) == 2 for view in X):
        X_arr = np.hstack([check_array(view, dtype=np.float64) for view in X])
    else:
        X_arr = check_array(X, dtype=np.float64, input_name="X")
    rows = None if sample_weight is None else _integer_weights(sample_weight, X_arr)
    if kind == "two_view":
        if Y is None:
            raise ValueError(
                f"permutation_test of {type(estimator).__name__} needs the second view Y."
            )
        Y_arr = check_array(Y, dtype=np.float64, input_name="Y", ensure_2d=False)
        Y_arr = Y_arr.reshape(-1, 1) if Y_arr.ndim == 1 else Y_arr
        if X_arr.shape[0] != Y_arr.shape[0]:
            raise ValueError(
                f"X and Y must have the same number of rows; got {X_arr.shape[0]} and "
                f"{Y_arr.shape[0]}."
            )
        fitted = clone(estimator).fit(X, Y, sample_weight=sample_weight)
        views = [
            (X_arr - fitted.x_mean_) / fitted.x_std_,
            (Y_arr - fitted.y_mean_) / fitted.y_std_,
        ]
        c = np.full(2, float(fitted.regularization))
        weights = [fitted.x_weights_, fitted.y_weights_]
    else:
        if Y is not None:
            raise ValueError(
                f"{type(estimator).__name__} takes its views as the column blocks of X "
                "(view_sizes) or as a list of views; Y must be None."
            )
        fitted = clone(estimator).fit(X, sample_weight=sample_weight)
        edges = np.cumsum((0, *fitted.view_sizes_))
        Xs = (X_arr - fitted.mean_) / fitted.std_
        views = [Xs[:, a:b] for a, b in zip(edges[:-1], edges[1:])]
        c = np.asarray(fitted.regularization, dtype=np.float64)  # checked by fit
        c = np.broadcast_to(c, (len(views),))
        weights = list(fitted.weights_)
    if rows is not None:
        views = [view[rows] for view in views]
    views = [view - view.mean(axis=0) for view in views]
    return fitted, views, c, weights


@validate_params(
    {
        "estimator": [HasMethods(["fit", "get_params"])],
        "X": ["array-like", list],
        "Y": ["array-like", None],
        "sample_weight": ["array-like", None],
        "n_permutations": [Interval(Integral, 1, None, closed="left")],
        "statistic": [StrOptions({"auto", "wilks", "pillai", "roy"})],
        "refit": ["boolean"],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def permutation_test(
    estimator,
    X,
    Y=None,
    *,
    sample_weight=None,
    n_permutations=999,
    statistic="auto",
    refit=False,
    n_jobs=None,
    random_state=None,
):
    """Permutation test of each canonical component, sequential (Winkler et al., 2020).

    Fits a clone of ``estimator`` and tests, for ``k = 1, ..., n_components_``, the
    null hypothesis that the views are independent beyond their first ``k - 1``
    pairs of fitted directions (equivalently, that the ``k``-th population
    correlation and all later ones are 0).  For component ``k`` the first ``k - 1``
    directions are removed from every view first, and the rows of every view but the
    first are permuted (independently per view) against the residual of the first:
    the naive test, which compares the ``k``-th correlation of each permuted fit with
    the observed ``k``-th, ignores that the earlier components took the largest
    share of the chance correlation and rejects too often for ``k > 1``.

    The removal happens in the coordinates in which the fitted problem is an SVD (an
    eigenproblem for more views): each view is centred and scaled as the estimator
    did, whitened by ``B_v^{-1/2}`` with ``B_v = (1 - c) Sigma_vv + c I`` (``c`` the
    estimator's ``regularization``: CCA, ridge CCA or PLS), and the fitted directions
    are projected out.  Permuting rows changes no within-view matrix, so this is
    done once and each permutation costs one ``n x p x q`` product per pair of
    views plus a small factorisation.

    Read more in the :doc:`User Guide </user_guide/cross_decomposition>`.

    Parameters
    ----------
    estimator : estimator object
        A :class:`CCA`, :class:`StochasticCCA`, :class:`MultiviewCCA` or
        :class:`StochasticMultiviewCCA`, at any ``regularization`` (it is cloned
        and fitted).  The components tested are its ``n_components_``.
    X : array-like of shape (n_samples, n_features) or list of array-like
        First view; for :class:`MultiviewCCA`, all views (column blocks of widths
        ``view_sizes``, or a list of views).
    Y : array-like of shape (n_samples, n_targets), default=None
        Second view (two-view estimators only).
    sample_weight : array-like of shape (n_samples,), default=None
        Frequency weights, nonnegative integers, passed to ``fit``: the test is the
        one of the data with each row repeated that many times (the permutations
        shuffle the repeated rows), as the estimators' weighted fits are their fits
        on repeated rows.  Real-valued weights raise a ValueError: a permutation null
        is not defined for them.
    n_permutations : int >= 1, default=999
        Number of random permutations.  The smallest p-value is
        ``1 / (n_permutations + 1)``.
    statistic : {"auto", "wilks", "pillai", "roy"}, default="auto"
        Statistic of component ``k``, computed on its residual problem (whose
        eigenvalues are, for the exact estimators and two views, the observed
        ``r_k >= r_{k+1} >= ...``):

        - "wilks": ``-sum_{j >= k} log(1 - r_j^2)``, Bartlett's and Winkler et al.'s
          statistic; for more views, ``-log det`` of the joint correlation matrix of
          the residual views.  Needs regularization 0 (with ridge a whitened
          eigenvalue can exceed 1).
        - "pillai": ``sum_{j >= k} r_j^2`` (Pillai's trace at regularization 0); for
          more views, the sum over pairs of views of the squared whitened
          cross-covariances of the residual views.  Any regularization; the
          cheapest (no factorisation).
        - "roy": ``r_k``, the largest eigenvalue of the residual problem (the
          ``k``-th canonical correlation, ridge eigenvalue or PLS covariance: the
          estimator's ``eigenvalues_[k - 1]`` for two views).  The most powerful
          against one strong component, the costliest for many components.
        - "auto": "wilks" at regularization 0 in every view, else "roy".

    refit : bool, default=False
        How each residual problem is solved.  False: in closed form (an SVD or a
        Cholesky factorisation).  True: by fitting a clone of ``estimator`` on the
        whitened residual views (at ``regularization=1, scale=False``, which solves
        that problem exactly for the exact estimators); ``n_permutations x
        n_components_`` fits, slow, for an estimator whose own fit (e.g. a
        :class:`StochasticCCA` stopped early) should make the null.  The directions
        removed are always the estimator's.
    n_jobs : int, default=None
        Number of jobs the permutations run on (joblib; ``None`` is 1 unless in a
        ``joblib.parallel_config`` context, -1 is all processors).  Threads by
        default; each keeps its BLAS on one thread.  The result does not depend on
        ``n_jobs``.
    random_state : int, RandomState instance or None, default=None
        Draws the permutations (one seed per permutation, so the same
        ``random_state`` gives the same permutations for any ``n_jobs``).

    Returns
    -------
    result : :class:`~sklearn.utils.Bunch`
        With fields:

        - ``statistic`` : ndarray of shape (n_components,), the observed statistic
          of each component;
        - ``null_distribution`` : ndarray of shape (n_permutations, n_components),
          the statistic of each component under each permutation;
        - ``p_values`` : ndarray of shape (n_components,), nondecreasing:
          ``max_{j <= k}`` of ``p_values_unadjusted``.  Rejecting ``H_k`` (no
          association beyond ``k - 1`` components) claims ``k`` components, which
          makes no sense unless ``H_1, ..., H_{k-1}`` are rejected too; the
          hypotheses are nested (``H_j`` implies ``H_k`` for ``j < k``), so by the
          closed testing principle these p-values control the family-wise error
          rate over all components at no cost in power: read off the components
          with ``p_values <= alpha``;
        - ``p_values_unadjusted`` : ndarray of shape (n_components,),
          ``(1 + #{null >= observed}) / (1 + n_permutations)`` per component;
        - ``eigenvalues`` : ndarray of shape (n_components,), the fitted
          estimator's ``eigenvalues_`` (the canonical correlations at
          regularization 0);
        - ``statistic_name`` : "wilks", "pillai" or "roy" (the statistic used);
        - ``estimator`` : the fitted clone.

    See Also
    --------
    CCA : Exact CCA, ridge CCA and PLS, whose components this tests.
    MultiviewCCA : Multiview CCA, tested with every view but the first permuted.
    StochasticCCA : Its directions are tested, the null computed exactly.
    sklearn.model_selection.permutation_test_score : The test of a prediction score.

    Notes
    -----
    The components tested are ``min(n_components_, rank of each view)``.  With
    ``n`` rows, views of ``p <= q`` columns, ``K`` components and ``B`` permutations
    the cost is one ``O(n (p^2 + q^2))`` whitening, then per permutation one
    ``O(n p q)`` product and ``O((p + q)^3)`` for "wilks", ``O(p q)`` for "pillai",
    ``O(K p^3)`` for "roy".  At regularization 0 the test needs ``n > p + q``: with
    fewer rows some correlations are 1 and the "wilks" statistic is infinite.

    Permutation ``b`` shuffles the rows by
    ``numpy.random.default_rng(seed_b).permutation(n)`` (one call per permuted
    view), where ``seed_b`` is the ``b``-th of ``n_permutations`` integers drawn by
    ``check_random_state(random_state).randint(2**31 - 1, ...)``.

    The observed statistic of component ``k`` is that of its residual problem.  For
    :class:`CCA` it is a function of the canonical correlations (above).  For more
    than two views (whose per-view directions are not orthogonal within a view)
    and for the stochastic estimators (whose directions approximate the exact
    ones) it can differ slightly from what ``eigenvalues_`` gives: the test is of
    the residual problem, for the observed data and every permutation alike.

    References
    ----------
    Winkler, A. M., Renaud, O., Smith, S. M. and Nichols, T. E. (2020). Permutation
    inference for canonical correlation analysis. NeuroImage, 220, 117065.

    Examples
    --------
    >>> from sklearn_losses.cross_decomposition import CCA, permutation_test
    >>> from sklearn_losses.datasets import make_multiview
    >>> X, Y = make_multiview(300, (5, 4), correlations=(0.6, 0.3), random_state=0)
    >>> result = permutation_test(CCA(n_components=3), X, Y, n_permutations=199, random_state=0)
    >>> result.p_values  # two components beyond chance, not the third
    array([0.005, 0.005, 0.295])
    >>> result.null_distribution.shape
    (199, 3)
    """
    kind = _kind(estimator)
    fitted, views, c, weights = _fit_and_standardize(estimator, kind, X, Y, sample_weight)
    if statistic == "auto":
        statistic = "wilks" if np.all(c == 0) else "roy"
    if statistic == "wilks" and np.any(c > 0):
        raise ValueError(
            "statistic='wilks' needs regularization=0 (with ridge the whitened "
            "eigenvalues can exceed 1 and log(1 - r^2) is undefined); use statistic='roy'."
        )
    if refit and statistic != "roy" and len(views) > 2:
        raise ValueError(
            f"refit=True computes the {statistic!r} statistic of two views only (it needs "
            "every eigenvalue of the residual problem); use statistic='roy' or refit=False."
        )
    gcca = fitted.get_params().get("method") == "gcca"
    with solver_threads(sum(view.size for view in views)):
        problem = _Problem(
            views, c, weights, statistic=statistic, gcca=gcca, n_tested=fitted.n_components_
        )
    seeds = check_random_state(random_state).randint(np.iinfo(np.int32).max, size=n_permutations)
    per_task = -(-n_permutations // effective_n_jobs(n_jobs))
    chunk = max(1, min(_CHUNK, per_task, _CHUNK_ENTRIES // sum(problem.ranks) ** 2))
    chunks = [seeds[start : start + chunk] for start in range(0, n_permutations, chunk)]
    multiview = kind == "multiview"
    # BLAS on one thread for the whole run, parallelism through n_jobs: the pools are
    # process-wide, and thread workers pinning and releasing them in turn would resize
    # a pool while another worker computes (process workers pin their own, in _pinned)
    with solver_threads(0):
        if refit:
            observed = _refit_chunk(fitted, problem, [None], multiview)[0]
            jobs = (
                delayed(_pinned)(_refit_chunk, fitted, problem, seeds=s, multiview=multiview)
                for s in chunks
            )
        else:
            observed = problem.observed()
            jobs = (delayed(_pinned)(_null_chunk, problem, seeds=s) for s in chunks)
        null = np.concatenate(Parallel(n_jobs=n_jobs, prefer="threads")(jobs), axis=0)
    return _result(fitted, problem, statistic, observed, null)


def _null_chunk(problem, seeds):
    return problem.null_chunk(seeds)


def _pinned(function, *args, seeds, **kwargs):
    """``function(*args, seeds=seeds, **kwargs)`` with the BLAS pools on one thread."""
    with solver_threads(0):
        return function(*args, seeds=seeds, **kwargs)


def _result(fitted, problem, statistic, observed, null):
    ties = null >= observed - _RTOL * np.abs(observed)
    unadjusted = (1.0 + ties.sum(axis=0)) / (1.0 + null.shape[0])
    K = problem.n_tested
    return Bunch(
        statistic=observed,
        null_distribution=null,
        p_values=np.maximum.accumulate(unadjusted),
        p_values_unadjusted=unadjusted,
        eigenvalues=np.asarray(fitted.eigenvalues_, dtype=np.float64)[:K],
        statistic_name=statistic,
        estimator=fitted,
    )
