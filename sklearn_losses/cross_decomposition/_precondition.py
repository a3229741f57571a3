"""The preconditioner of the stochastic CCA solvers: each view's gradient times ``B_v^{-1}``.

Gradient steps on the Eckart-Young loss ``L(U) = -2 tr(U^T A U) + ||U^T B U||_F^2``
converge at a rate set by the conditioning of ``B``: the step must stay below
``2 / lambda_max`` of the curvature, which ``B``'s largest eigenvalue sets, while
the directions of ``B``'s smallest eigenvalues (where canonical directions of
correlated features live) move ``cond(B)`` times slower.  On views whose
covariance has a condition number of 1e5 plain SGD captures a third to a half of
the exact correlation in 30 epochs.

The substitution ``U_i = F_i V_i`` per view, with ``F_i F_i^T = M_i^{-1}`` and
``M_i`` the view's block of ``B``, turns the problem ``(A, B)`` into ``(F^T A F,
F^T B F = I)``: its minimisers are ``F^{-1}`` times the original ones, with the
same loss values, and its curvature no longer depends on the views'
conditioning (only on the gaps between canonical correlations).  A gradient step
on ``V`` is the step ``U_i -= lr M_i^{-1} grad_i L`` on ``U``: the kernel
multiplies each view's gradient by ``P_i = M_i^{-1}`` (``O(p^2 K)`` per step).
``P_i`` is positive definite, so the stationary points, hence the solution for
every ridge parameter ``c``, are those of the unpreconditioned loss; only the path
changes.

``M_i = (1 - c) C_ii + c I`` comes from the covariance of the standardized view:
the full data's in ``fit`` (the cross-products the final rotation needs anyway,
computed once before the epochs instead of after them) and the running
covariance of the rows seen so far in ``partial_fit``.  At ``c = 1`` (PLS)
``M = I`` and nothing is done.  Eigenvalues below ``FLOOR`` times the largest
are raised to it: a constant column (eigenvalue 0) has a zero gradient, and
directions below the floor (condition numbers above 1e10) are preconditioned
less.  A running estimate from few rows is noise in its smallest eigenvalues, and
inverting them made steps on chunks of about as many rows as features explode
(breast_cancer in chunks of 11 rows, 10 features per view): ``partial_fit``
preconditions once the rows seen number at least ``MIN_ROWS_PER_FEATURE`` times
the wider view's features, and takes plain steps before.

:class:`StochasticMultiviewCCA` takes the same per view (:func:`view_preconditioners`,
each view with its own ``c_v``; none for a view at ``c_v = 1``), from the within-view
covariances of the standardized views: one pass before the epochs (its final
rotation needs only the scores, so they are an extra ``O(n sum_v p_v^2)``), and in
``partial_fit`` from the same :class:`RunningCovariance` of any number of views.
"""

from typing import NamedTuple

import numpy as np

from ._statistics import Moments, merge_moments

__all__ = [
    "FLOOR",
    "Preconditioner",
    "RunningCovariance",
    "build_preconditioner",
    "standardized_moments",
    "view_preconditioners",
]

FLOOR = 1e-10


class Preconditioner(NamedTuple):
    """Per view: ``P = M^{-1}``, applied to the gradient, and ``F`` (``F F^T = P`` if unfloored)."""

    Px: np.ndarray
    Py: np.ndarray
    Fx: np.ndarray
    Fy: np.ndarray

    def pair(self):
        """``(Px, Py)``, as :func:`~._kernels.ey_epoch` takes them."""
        return self.Px, self.Py


def _inverse_and_factor(M):
    """``M^{-1}`` (eigenvalues floored) and ``F = V diag(lambda^{-1/2})`` (zero below the floor).

    ``F`` whitens the initial weights and the step's minibatch: a direction below
    the floor (a constant column: no variance) starts at zero, and at ``c = 0``
    its gradient is zero, so its weight stays zero.
    """
    eigvals, eigvecs = np.linalg.eigh((M + M.T) / 2)
    top = eigvals[-1] if eigvals.size and eigvals[-1] > 0 else 1.0
    live = eigvals > FLOOR * top
    floored = np.where(live, eigvals, FLOOR * top)
    inverse = (eigvecs / floored) @ eigvecs.T
    factor = np.where(live, eigvecs / np.sqrt(floored), 0.0)
    return np.ascontiguousarray((inverse + inverse.T) / 2), np.ascontiguousarray(factor)


def view_preconditioners(covariances, regularization):
    """Per view, ``(P, F)`` of ``B``'s block ``(1 - c_v) C_v + c_v I``; None where ``c_v >= 1``.

    ``covariances`` are those of the standardized views and ``regularization`` their
    ridge parameters, one per view: the blocks of :class:`Preconditioner` for two
    views, of :class:`StochasticMultiviewCCA`'s steps for any number.
    """
    return [
        None if c >= 1.0 else _inverse_and_factor((1.0 - c) * C + c * np.eye(C.shape[0]))
        for C, c in zip(covariances, map(float, regularization))
    ]


def build_preconditioner(cov_x, cov_y, regularization):
    """The :class:`Preconditioner` of ``B``'s blocks ``(1 - c) C + c I``; None at ``c = 1``.

    ``cov_x`` and ``cov_y`` are the covariances of the standardized views.
    """
    c = float(regularization)
    if c >= 1.0:
        return None
    (Px, Fx), (Py, Fy) = view_preconditioners((cov_x, cov_y), (c, c))
    return Preconditioner(Px, Py, Fx, Fy)


def standardized_moments(moments, shift, scale):
    """The :class:`Moments` of ``(Z - shift) / scale`` from those of ``Z`` (no pass over Z)."""
    return Moments(
        moments.weight,
        moments.n_positive,
        (moments.mean - shift) / scale,
        moments.comoment / scale / scale[:, None],
    )


#: ``partial_fit`` preconditions once this many rows per feature (of the wider view) are in:
#: a sample covariance from ``m`` rows of ``p`` features has its smallest eigenvalues near
#: ``(1 - sqrt(p / m))^2`` times the true ones, a factor of 4 at most from 4 rows per feature.
MIN_ROWS_PER_FEATURE = 4


class RunningCovariance(NamedTuple):
    """Each view's moments of the rows seen so far, in fixed coordinates ``(Z - shift) / scale``.

    ``partial_fit`` standardizes every chunk with the running means and standard
    deviations of its time; the chunks' moments are moved into one frame (the
    first chunk's standardization, or the one of ``fit``) before they are merged,
    so nothing overflows that the standardized views did not.  Any number of views:
    :class:`StochasticCCA`'s two (``x`` and ``y``) or :class:`StochasticMultiviewCCA`'s
    ``M``; only the within-view blocks are kept (``O(sum_v p_v^2)`` memory).
    """

    shift: np.ndarray
    scale: np.ndarray
    views: tuple

    @property
    def x(self):
        """The first view's :class:`Moments`."""
        return self.views[0]

    @property
    def y(self):
        """The second view's :class:`Moments`."""
        return self.views[1]

    @classmethod
    def start(cls, moments, mean, std, widths=None):
        """From the :class:`Moments` of the standardized views ``(Z - mean) / std``.

        ``moments`` are those of the views side by side, split into the views of
        ``widths`` (their widths, or for two views the first one's), or a sequence
        of each view's own :class:`Moments`.
        """
        return cls(mean.copy(), std.copy(), _per_view(moments, widths))

    def update(self, moments, mean, std):
        """Merge the :class:`Moments` of a chunk of ``(Z - mean) / std`` (as in :meth:`start`)."""
        edges = self._edges()
        moments = _per_view(moments, np.diff(edges))
        shift, scale = (self.shift - mean) / std, self.scale / std
        moved = [
            standardized_moments(m, shift[a:b], scale[a:b])
            for m, a, b in zip(moments, edges[:-1], edges[1:])
        ]
        return self._replace(views=tuple(map(merge_moments, self.views, moved)))

    def covariances(self, mean, std):
        """Each view's covariance (over ``weight - 1``) in the coordinates ``(Z - mean) / std``."""
        edges = self._edges()
        covariances = []
        for moments, a, b in zip(self.views, edges[:-1], edges[1:]):
            ratio = std[a:b] / self.scale[a:b]
            dof = max(moments.weight - 1.0, np.finfo(float).tiny)
            covariances.append(moments.comoment / dof / ratio / ratio[:, None])
        return covariances

    def is_reliable(self):
        """Whether enough rows are in (``MIN_ROWS_PER_FEATURE`` per feature of the widest view)
        for the inverse of the estimate to precondition rather than amplify noise."""
        width = max(m.mean.shape[0] for m in self.views)
        return self.views[0].n_positive >= MIN_ROWS_PER_FEATURE * width

    def _edges(self):
        return np.concatenate([[0], np.cumsum([m.mean.shape[0] for m in self.views])])


def _per_view(moments, widths):
    """Each view's :class:`Moments`: split from those of the views side by side, or as given.

    ``widths`` are the views' widths, or (an integer) the first of two views' width.
    """
    if not isinstance(moments, Moments):
        return tuple(moments)
    if np.ndim(widths) == 0:
        widths = (int(widths), moments.mean.shape[0] - int(widths))
    edges = np.concatenate([[0], np.cumsum(widths)])
    return tuple(
        Moments(
            moments.weight,
            moments.n_positive,
            moments.mean[a:b].copy(),
            moments.comoment[a:b, a:b].copy(),  # not a view of the (sum p_v)^2 matrix
        )
        for a, b in zip(edges[:-1], edges[1:])
    )
