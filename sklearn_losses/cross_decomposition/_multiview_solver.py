"""The multiview CCA eigenproblem (MCCA and GCCA), solved exactly from a covariance matrix.

For views ``X_1, ..., X_M`` with joint covariance ``C`` (blocks ``C_vw``) and per-view
ridge parameters ``c_v``, both methods solve a generalised eigenproblem ``A u = lambda
B u`` with ``B = blockdiag(B_v)``, ``B_v = (1 - c_v) C_vv + c_v I``:

- MCCA (Kettenring's SUMCOR, cca-zoo's ``MCCA``): ``A`` holds the between-view blocks
  ``C_vw`` (v != w) and zero diagonal blocks;
- GCCA (Carroll's MAXVAR, cca-zoo's ``GCCA``): ``A = C``, the whole joint covariance.
  Its eigenvectors are those of the n x n matrix ``sum_v X_v B_v^{-1} X_v^T`` (the
  shared latent of MAXVAR) carried to the features, without forming that matrix.

At ``c = 0`` the two share their eigenvectors (GCCA's eigenvalues are MCCA's plus 1).
Both are solved the stable way: each view is whitened by the eigendecomposition of its
own ``B_v`` (on its numerical range), then one symmetric eigenproblem of the whitened
``A`` gives the top eigenvectors; nothing of size n x n, no Cholesky of an
ill-conditioned ``B``.  The same function solves the problem reduced to the span of
given weights (the final rotation of the stochastic solver), where the ridge term uses
the weights' Gram matrix instead of the identity.
"""

import numpy as np
import scipy.linalg

__all__ = ["multiview_directions", "canonical_form"]

# Eigenvalues closer than this (relative to the largest magnitude, at least 1) form one
# tied cluster, whose basis is fixed by the ridge limit (see _break_ties).
TIE_TOLERANCE = 1e-10


def view_edges(sizes):
    """Column offsets of the views: view ``v`` is ``[edges[v], edges[v + 1])``."""
    return np.concatenate([[0], np.cumsum(sizes)]).astype(int)


def whitener(B):
    """A ``(q, r)`` factor ``R`` with ``R^T B R = I_r`` on the numerical range of ``B``.

    ``R = V_r diag(lambda_r)^{-1/2}`` from the eigendecomposition of the symmetric
    ``B``; eigenvalues at or below ``lambda_max * q * eps`` (the tolerance of
    :func:`~._base.inverse_sqrt`) are dropped.
    """
    eigvals, eigvecs = np.linalg.eigh((B + B.T) / 2)
    tol = eigvals.max(initial=0.0) * B.shape[0] * np.finfo(float).eps
    keep = eigvals > tol
    return eigvecs[:, keep] / np.sqrt(eigvals[keep])


def multiview_directions(cov, sizes, regularization, method, n_components, grams=None):
    """The top generalised eigenvectors of MCCA or GCCA, per view.

    Parameters
    ----------
    cov : ndarray of shape (Q, Q)
        Joint covariance of the views side by side (``Q = sum(sizes)``).
    sizes : sequence of int
        Widths of the views.
    regularization : ndarray of shape (n_views,)
        Ridge parameter ``c_v`` of each view, in [0, 1].
    method : {"mcca", "gcca"}
        Which ``A`` (see the module docstring).
    n_components : int
        Number of eigenvectors wanted.
    grams : list of ndarray or None
        The matrix the ridge term of each view uses in these coordinates (None: the
        identity).  For weights ``u_v = T_v a_v`` reduced to the span of ``T_v``, it
        is ``T_v^T T_v``, so that ``B_v`` is the full problem's restricted to the span.

    Returns
    -------
    blocks : list of ndarray of shape (q_v, n_components)
        Each view's part of the eigenvectors (``sum_v u_v^T B_v u_v = 1`` per
        column); columns beyond the problem's dimension are zero.
    eigenvalues : ndarray of shape (n_components,)
        Descending (0 for the zero columns).
    ranks : list of int
        Numerical rank of each ``B_v``.
    """
    edges = view_edges(sizes)
    views = range(len(sizes))
    whiteners = []
    for v in views:
        block = cov[edges[v] : edges[v + 1], edges[v] : edges[v + 1]]
        ridge = np.eye(sizes[v]) if grams is None else grams[v]
        c = regularization[v]
        whiteners.append(whitener((1.0 - c) * block + c * ridge))
    ranks = [R.shape[1] for R in whiteners]
    r_edges = view_edges(ranks)
    M = np.zeros((r_edges[-1], r_edges[-1]))
    for v in views:
        for w in range(v, len(sizes)):
            if v == w and method == "mcca":
                continue  # MCCA: no within-view term
            part = cov[edges[v] : edges[v + 1], edges[w] : edges[w + 1]]
            white = whiteners[v].T @ part @ whiteners[w]
            M[r_edges[v] : r_edges[v + 1], r_edges[w] : r_edges[w + 1]] = white
            M[r_edges[w] : r_edges[w + 1], r_edges[v] : r_edges[v + 1]] = white.T

    def norms(E):
        """Gram matrix of the weights ``R_v E_v`` in the ridge term's metric."""
        total = np.zeros((E.shape[1], E.shape[1]))
        for v in views:
            weights = whiteners[v] @ E[r_edges[v] : r_edges[v + 1]]
            gram = weights if grams is None else grams[v] @ weights
            total += weights.T @ gram
        return total

    k = min(n_components, M.shape[0])
    eigenvalues, vectors = top_eigenpairs(M, k, norms)
    blocks = []
    for v in views:
        block = np.zeros((sizes[v], n_components))
        block[:, :k] = whiteners[v] @ vectors[r_edges[v] : r_edges[v + 1]]
        blocks.append(block)
    return blocks, np.concatenate([eigenvalues, np.zeros(n_components - k)]), ranks


def top_eigenpairs(M, k, norms):
    """The ``k`` largest eigenpairs of the symmetric ``M``, descending, ties resolved.

    Only the top of the spectrum is computed (LAPACK's ``syevr``), plus one eigenvalue
    to see whether the ``k``-th is tied with the next; a tie across that boundary
    computes the whole spectrum, so that a tied cluster is never cut arbitrarily.
    Within a cluster, :func:`_break_ties` fixes the basis.
    """
    r = M.shape[0]
    if k == 0:
        return np.zeros(0), np.zeros((r, 0))
    wanted = min(r, k + 1)
    values, vectors = scipy.linalg.eigh(M, subset_by_index=[r - wanted, r - 1])
    values, vectors = values[::-1], vectors[:, ::-1]
    tol = TIE_TOLERANCE * max(1.0, float(np.abs(values).max()))
    if wanted > k and values[k - 1] - values[k] <= tol and wanted < r:
        values, vectors = np.linalg.eigh(M)
        values, vectors = values[::-1], vectors[:, ::-1]
    values, vectors = _break_ties(values, vectors, k, tol, norms)
    return values[:k], vectors[:, :k]


def _break_ties(values, vectors, k, tol, norms):
    """Fix the basis of each cluster of tied eigenvalues reaching into the top ``k``.

    Within a tied eigenspace every orthonormal basis is a solution, and rounding alone
    would pick one.  The basis taken is the limit of ridge regularization ``c -> 0+``:
    to first order in ``c`` a generalised eigenvalue ``lambda`` moves by ``-c lambda
    (||u||^2 - 1)``, so the ridge splits the cluster along the eigenvectors of the
    weights' Gram matrix, the smallest weight norm first (for ``lambda >= 0``).  This
    makes the fit a continuous function of the data even where the problem is
    degenerate (e.g. views with more columns than rows at ``c = 0``).
    """
    values, vectors = values.copy(), vectors.copy()
    start = 0
    while start < min(k, len(values)):
        stop = start + 1
        while stop < len(values) and values[stop - 1] - values[stop] <= tol:
            stop += 1
        if stop - start > 1:
            E = vectors[:, start:stop]
            _, rotation = np.linalg.eigh(norms(E))  # ascending weight norms
            if values[start:stop].mean() < 0:
                rotation = rotation[:, ::-1]
            vectors[:, start:stop] = E @ rotation
            values[start:stop] = values[start:stop].mean()
        start = stop
    return values, vectors


def canonical_form(weights, score_cov, weight_norms, regularization, traces):
    """Scale each view's weights to ``u_v^T B_v u_v = 1``, fix signs, get correlations.

    Parameters
    ----------
    weights : list of ndarray of shape (p_v, K)
        Each view's weights (standardized coordinates).
    score_cov : ndarray of shape (M K, M K)
        Covariance of the scores ``[X_1 W_1, ..., X_M W_M]``.
    weight_norms : ndarray of shape (M, K)
        ``||W_v[:, k]||^2``.
    regularization : ndarray of shape (M,)
        The ridge parameters.
    traces : ndarray of shape (M,)
        Trace of each view's covariance (the scale of rounding in a score variance).

    Returns
    -------
    weights : list of ndarray
        Rescaled and sign-fixed.  A view's part of a component that is zero to
        rounding (the view takes no part in it) is exactly zero.
    pairwise : ndarray of shape (K, M, M)
        Training correlation of the scores of each pair of views, ones on the
        diagonal (0 where a score has no variance).
    """
    n_views, k = weight_norms.shape
    variances = np.diag(score_cov).reshape(n_views, k)
    c = regularization[:, None]
    b_norms = (1.0 - c) * variances + c * weight_norms
    live = b_norms > 1e-24 * b_norms.sum(axis=0)
    scale = np.where(live, 1.0 / np.sqrt(np.where(live, b_norms, 1.0)), 0.0)
    # the sign making the largest entry of the first view taking part positive
    signs = np.ones(k)
    decided = np.zeros(k, dtype=bool)
    for v in range(n_views):
        W = weights[v]
        largest = W[np.argmax(np.abs(W), axis=0), np.arange(k)] if W.shape[0] else np.zeros(k)
        take = live[v] & ~decided
        signs[take] = np.where(largest[take] < 0, -1.0, 1.0)
        decided |= take
    factors = scale * signs
    weights = [W * factors[v] for v, W in enumerate(weights)]
    flat = factors.ravel()
    cov = score_cov * np.outer(flat, flat)
    variances = np.diag(cov).reshape(n_views, k)
    # a score of weights in (numerically) the null space of its view is zero
    norms = weight_norms * scale**2
    has_variance = variances > np.finfo(float).eps * norms * traces[:, None]
    std = np.where(has_variance, np.sqrt(np.where(has_variance, variances, 1.0)), 0.0)
    pairwise = np.zeros((k, n_views, n_views))
    for v in range(n_views):
        for w in range(n_views):
            cross = np.diag(cov[v * k : (v + 1) * k, w * k : (w + 1) * k])
            denom = std[v] * std[w]
            pairwise[:, v, w] = np.divide(cross, denom, out=np.zeros(k), where=denom > 0)
    idx = np.arange(n_views)
    pairwise[:, idx, idx] = 1.0
    return weights, pairwise
