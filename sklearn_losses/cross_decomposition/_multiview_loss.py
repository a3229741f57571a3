"""The Eckart-Young loss of multiview CCA (MCCA / GCCA) on minibatches, and its gradient.

For weights ``U = [U_1; ...; U_M]`` of the generalised eigenproblem ``A u = lambda B u``
of :mod:`._multiview_solver` (``A`` the between-view covariances for MCCA, the whole
joint covariance for GCCA; ``B = blockdiag((1 - c_v) Sigma_vv + c_v I)``), the loss

    L(U) = -2 tr(U^T A U) + ||U^T B U||_F^2

of Chapman et al. (ICLR 2024) is minimised exactly by the top-K eigenvectors (up to a
rotation and their eigenvalues' square roots), with no spurious local minima, when
the top K eigenvalues are positive.  Its terms are sums over views of the scores'
moments, ``tr(U^T A U) = sum_{v != w} tr Cov(Z_v, Z_w)`` (plus ``sum_v tr Var Z_v``
for GCCA) and ``U^T B U = sum_v (1 - c_v) Var Z_v + c_v U_v^T U_v``, so a minibatch
estimates them from its scores ``Z_v = X_v U_v`` in O(b p K).  Two independent
minibatches make the quadratic term, hence the gradient, unbiased.
"""

import numpy as np

from ._loss import ey_from_moments

__all__ = ["batch_terms", "multiview_ey_gradient", "multiview_ey_loss"]


def batch_terms(batch, U, scale, regularization, method, sample_weight=None, cross=True):
    """``A U``, ``B U`` (per view), ``U^T B U`` and ``tr(U^T A U)`` estimated on one batch.

    ``batch`` holds each view's rows of the batch (standardized, so centred on the
    data); the covariances are ``X_v^T D X_w * scale`` with ``D = diag(sample_weight)``
    (the identity when None).  ``scale = n / (b (sum(w) - 1))`` makes them unbiased
    for the data's covariances (divided by ``sum(w) - 1``) when the ``b`` rows are
    drawn without replacement from the ``n``.  Without ``cross`` (the second batch of
    the unbiased gradient needs only ``B U`` and ``V``), ``A U`` and its trace are None.
    """
    Z = [Xb @ Uv for Xb, Uv in zip(batch, U)]
    WZ = Z if sample_weight is None else [sample_weight[:, None] * z for z in Z]
    total = sum(WZ) if cross else None
    k = U[0].shape[1]
    AU, BU = [], []
    V = np.zeros((k, k))
    trace_a = 0.0
    for v, (Xb, Uv) in enumerate(zip(batch, U)):
        c = regularization[v]
        if cross:
            other = total if method == "gcca" else total - WZ[v]
            products = Xb.T @ np.hstack([other, WZ[v]])  # one BLAS call per view
            products *= scale
            AU.append(products[:, :k])
            own = products[:, k:]
            trace_a += float((Uv * AU[v]).sum())
        else:
            own = Xb.T @ WZ[v]
            own *= scale
        BU.append((1.0 - c) * own + c * Uv if c else own)
        V += Uv.T @ BU[v]
    if not cross:
        return None, BU, (V + V.T) / 2, None
    return AU, BU, (V + V.T) / 2, trace_a


def multiview_ey_loss(batch, U, scale, regularization, method, second=None, **weights):
    """The Eckart-Young loss on a batch, or its unbiased two-batch estimate.

    ``second = (batch2, scale2)`` pairs the quadratic term with an independent batch;
    ``weights`` are the ``sample_weight`` and ``sample_weight2`` of the two batches.
    """
    w1, w2 = weights.get("sample_weight"), weights.get("sample_weight2")
    _, _, V, trace_a = batch_terms(batch, U, scale, regularization, method, w1)
    if second is None:
        return float(ey_from_moments(trace_a / 2.0, V, V))
    V2 = batch_terms(second[0], U, second[1], regularization, method, w2, cross=False)[2]
    return float(ey_from_moments(trace_a / 2.0, V, V2))


def multiview_ey_gradient(batch, U, scale, regularization, method, second=None, **weights):
    """Gradient of :func:`multiview_ey_loss` with respect to each view's weights.

    ``-4 A U + 2 (B U V' + B' U V)`` with ``V = U^T B U`` on the first batch and
    ``V' = U^T B' U`` on the second (the same batch when ``second`` is None).
    """
    w1, w2 = weights.get("sample_weight"), weights.get("sample_weight2")
    AU, BU, V, _ = batch_terms(batch, U, scale, regularization, method, w1)
    if second is None:
        BU2, V2 = BU, V
    else:
        _, BU2, V2, _ = batch_terms(
            second[0], U, second[1], regularization, method, w2, cross=False
        )
    return [-4.0 * au + 2.0 * (bu @ V2 + bu2 @ V) for au, bu, bu2 in zip(AU, BU, BU2)]
