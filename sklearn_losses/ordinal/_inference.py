"""Marginal effects of the cumulative-link classifiers, their delta-method errors, and the
observed information of the proportional-odds likelihood.

With ``eta_k(x) = intercept_[k] + x @ coef_[:, k]`` and ``P(y = k | x) = F(eta_k) -
F(eta_{k-1})`` (``F(eta_{-1}) = 0``, ``F(eta_{K-1}) = 1``), the partial effect of feature
``j`` on class ``k`` is

    d P(y = k | x) / d x_j = f(eta_k) coef_[j, k] - f(eta_{k-1}) coef_[j, k-1],

with ``f = F'``.  Where :meth:`predict_proba` repairs crossing predictors, the effect is the
derivative of the repaired probabilities (``"sort"``: each row's sorted predictors, with the
slope of the column that lands in each place; ``"clip"``: the renormalisation's derivative).

The parameter vector of the delta method is ``theta = concatenate([intercept_,
coef_.ravel()])`` on the original feature scale (for proportional odds, ``coef_`` has one
column: ``theta = (intercept_, coef_[:, 0])``).
"""

import numpy as np
from scipy.linalg import LinAlgError, cho_factor, cho_solve
from scipy.special import expit, ndtr
from scipy.stats import norm

from ._kernels import LINKS, class_probabilities

_INV_SQRT_2PI = 1.0 / np.sqrt(2.0 * np.pi)
_PREDICTOR_LIMIT = 1e300  # as in _base: |eta| beyond which F is exactly 0 or 1
_JACOBIAN_ENTRIES = 2_000_000  # per-row Jacobians are built in blocks of at most this size


def density(link, x):
    """The density ``f = F'`` and its derivative ``f'`` of a link, at ``x`` (any shape).

    Accurate in both tails (no ``inf * 0``); ``x`` may hold the clipped predictors ``+-1e300``.
    """
    with np.errstate(over="ignore", under="ignore"):
        if link == "logit":
            upper, lower = expit(x), expit(-x)
            f = upper * lower
            return f, f * (lower - upper)
        if link == "probit":
            f = _INV_SQRT_2PI * np.exp(-0.5 * np.minimum(x * x, 1e308))
            return f, np.where(f > 0, -x * f, 0.0)
        ex = np.exp(x)  # cloglog: F = 1 - exp(-e^x), f = exp(x - e^x), f' = f (1 - e^x)
        return np.exp(x - ex), np.exp(x - ex) - np.exp(2.0 * x - ex)


def _cdf(link, x):
    if link == "logit":
        return expit(x)
    if link == "probit":
        return ndtr(x)
    with np.errstate(over="ignore"):
        return -np.expm1(-np.exp(x))


# -- marginal effects ------------------------------------------------------------------------
def _placement(eta, crossing):
    """Predictors as predict_proba uses them, and the column of ``eta`` in each place.

    Returns ``(placed, column, clipped)``: ``placed[i, k] = eta[i, column[i, k]]``, sorted in
    rows that cross when ``crossing="sort"``; ``clipped`` marks the crossing rows that
    ``crossing="clip"`` renormalises (all False otherwise).
    """
    if np.isnan(eta).any():
        raise ValueError(
            "The linear predictors hold NaN: X @ coef_ overflows for these samples; they "
            "lie far outside the scale of the training data."
        )
    eta = np.clip(eta, -_PREDICTOR_LIMIT, _PREDICTOR_LIMIT)
    column = np.broadcast_to(np.arange(eta.shape[1]), eta.shape).copy()
    crossed = np.any(np.diff(eta, axis=1) < 0, axis=1)
    clipped = np.zeros(eta.shape[0], dtype=bool)
    if crossed.any():
        if crossing == "raise":
            raise ValueError(
                f"{int(crossed.sum())} rows have crossing cumulative probabilities; "
                "use crossing='sort' or 'clip' to repair them."
            )
        if crossing == "sort":
            column[crossed] = np.argsort(eta[crossed], axis=1, kind="stable")
            eta = np.take_along_axis(eta, column, axis=1)
        else:
            clipped = crossed
    return eta, column, clipped


def _differences(G):
    """Class effects from cumulative ones: ``G[..., k] - G[..., k-1]`` with zero ends (axis 2)."""
    shape = list(G.shape)
    shape[2] = 1
    zeros = np.zeros(shape)
    return np.diff(np.concatenate([zeros, G, zeros], axis=2), axis=2)


def row_effects(X, B, intercepts, link, crossing):
    """Per-row partial effects ``d P(y = k | x_i) / d x_ij``, shape (n, p, K).

    ``B`` is ``coef_`` (one column: a slope shared by every threshold).
    """
    n_thresholds = intercepts.shape[0]
    B = np.broadcast_to(B, (B.shape[0], n_thresholds))
    placed, column, clipped = _placement(X @ B + intercepts, crossing)
    f, _ = density(link, placed)
    # cumulative effects d F(placed_ik) / d x_ij = f_ik * B[j, column_ik]
    G = f[:, None, :] * B.T[column].transpose(0, 2, 1)
    effects = _differences(G)
    if clipped.any():
        # p_k = max(r_k, 0) / S with r_k = F(eta_k) - F(eta_{k-1}) and S = sum_k max(r_k, 0):
        # d p_k = (m_k d r_k - p_k sum_l m_l d r_l) / S, m_k = [r_k > 0]
        eta = placed[clipped]
        cumulative = np.column_stack([np.zeros(len(eta)), _cdf(link, eta), np.ones(len(eta))])
        raw = np.diff(cumulative, axis=1)
        kept = raw > 0
        total = np.where(kept, raw, 0.0).sum(axis=1)
        proba = np.where(kept, raw, 0.0) / total[:, None]
        d_raw = effects[clipped] * kept[:, None, :]
        d_total = d_raw.sum(axis=2, keepdims=True)
        effects[clipped] = (d_raw - proba[:, None, :] * d_total) / total[:, None, None]
    return effects


def effect_jacobian(X, B, intercepts, link, crossing, weight=None):
    """Jacobian of the partial effects with respect to ``theta = (intercepts, B.ravel())``.

    With ``weight`` (shape (n,)), the Jacobian of the weighted average effect, shape
    (p, K, n_params); without, one per row, shape (n, p, K, n_params).  ``B`` of one column
    is the shared slope of proportional odds (``theta = (intercepts, B[:, 0])``).
    """
    n_thresholds = intercepts.shape[0]
    shared = B.shape[1] == 1
    Bfull = np.broadcast_to(B, (B.shape[0], n_thresholds))
    placed, column, clipped = _placement(X @ Bfull + intercepts, crossing)
    if clipped.any():
        raise ValueError(
            f"{int(clipped.sum())} rows have crossing predictors, which crossing='clip' "
            "renormalises; the delta method is not available for them. Use crossing='sort' "
            "(the default), whose probabilities are differentiable in the parameters."
        )
    f, df = density(link, placed)
    # slot k of row i uses column c = column[i, k]: indicator[i, k, c]
    indicator = column[:, :, None] == np.arange(n_thresholds)
    Q1 = df[:, :, None] * indicator  # d f(eta_c) / d eta_c where column c sits in slot k
    Q0 = f[:, :, None] * indicator
    p = B.shape[0]
    eye = np.eye(p)
    if weight is not None:
        w = weight / weight.sum()
        S1 = np.einsum("i,ikc->kc", w, Q1)
        S0 = np.einsum("i,ikc->kc", w, Q0)
        V = np.einsum("ikc,il->klc", Q1 * w[:, None, None], X)
        J_a = Bfull[:, None, :] * S1[None]  # (p, K-1, c)
        # d G[j, k] / d B[l, c] = B[j, c] V[k, l, c] + [j == l] S0[k, c]
        J_B = Bfull[:, None, None, :] * V[None] + eye[:, None, :, None] * S0[None, :, None, :]
        J_B = J_B.sum(axis=3) if shared else J_B.reshape(p, n_thresholds, -1)
        return _differences(np.concatenate([J_a, J_B], axis=2)[None])[0]
    J_a = Bfull[None, :, None, :] * Q1[:, None]  # (n, p, K-1, c)
    J_B = (
        Bfull[None, :, None, None, :] * Q1[:, None, :, None, :] * X[:, None, None, :, None]
        + eye[None, :, None, :, None] * Q0[:, None, :, None, :]
    )
    J_B = J_B.sum(axis=4) if shared else J_B.reshape(X.shape[0], p, n_thresholds, -1)
    return _differences(np.concatenate([J_a, J_B], axis=3))


def row_std_errors(X, B, intercepts, link, crossing, covariance):
    """Delta-method standard errors of every row's effects, shape (n, p, K).

    The per-row Jacobians are formed in blocks of rows whose largest intermediate (the
    slopes' block, ``p * (K-1) * p * (K-1)`` numbers per row) stays under
    ``_JACOBIAN_ENTRIES``.
    """
    p, n_thresholds = B.shape[0], intercepts.shape[0]
    rows = max(1, _JACOBIAN_ENTRIES // (p * n_thresholds * p * n_thresholds))
    blocks = []
    for start in range(0, X.shape[0], rows):
        jacobian = effect_jacobian(X[start : start + rows], B, intercepts, link, crossing)
        blocks.append(delta_method(jacobian, covariance))
    return np.concatenate(blocks)


def delta_method(jacobian, covariance):
    """Standard errors ``sqrt(diag(J cov J'))`` of each entry of the Jacobian's leading axes."""
    variance = np.einsum("...a,ab,...b->...", jacobian, covariance, jacobian)
    return np.sqrt(np.maximum(variance, 0.0))


def inference_table(effects, std_errors):
    """z-scores, two-sided normal p-values and 95% intervals, as statsmodels' margins."""
    with np.errstate(divide="ignore", invalid="ignore"):
        z = effects / std_errors
    p_values = 2.0 * norm.sf(np.abs(z))
    half = norm.ppf(0.975) * std_errors
    return z, p_values, np.stack([effects - half, effects + half], axis=-1)


# -- observed information of proportional odds -----------------------------------------------
def proportional_odds_information(Z, codes, weight, intercepts, beta, link):
    """Hessian and gradient of ``sum_i w_i * -log P(y_i | z_i)`` in ``(intercepts, beta)``.

    ``P(y <= k | z) = F(intercepts[k] + z @ beta)``; returns ``(hessian, gradient)``, the
    Hessian of shape (K - 1 + p, K - 1 + p), intercepts first.
    """
    n, p = Z.shape
    n_thresholds = intercepts.shape[0]
    eta = np.clip(Z @ beta, -_PREDICTOR_LIMIT, _PREDICTOR_LIMIT)[:, None] + intercepts
    proba = class_probabilities(np.ascontiguousarray(eta), LINKS[link])[np.arange(n), codes]
    has_upper, has_lower = codes < n_thresholds, codes > 0
    rows = np.arange(n)
    upper = eta[rows, np.minimum(codes, n_thresholds - 1)]
    lower = eta[rows, np.maximum(codes - 1, 0)]
    f_u, df_u = (np.where(has_upper, v, 0.0) for v in density(link, upper))
    f_l, df_l = (np.where(has_lower, v, 0.0) for v in density(link, lower))
    # -log p with p = F(u) - F(l): first and second derivatives in u and l
    g_u, g_l = -f_u / proba, f_l / proba
    h_uu = g_u * g_u - df_u / proba
    h_ll = g_l * g_l + df_l / proba
    h_ul = g_u * g_l
    hessian = np.zeros((n_thresholds + p, n_thresholds + p))
    gradient = np.zeros(n_thresholds + p)
    beta_weight = weight * (h_uu + h_ll + 2.0 * h_ul)
    hessian[n_thresholds:, n_thresholds:] = (Z * beta_weight[:, None]).T @ Z
    gradient[n_thresholds:] = (weight * (g_u + g_l)) @ Z
    # the intercept of row i's upper bound is a_{c_i}, of its lower bound a_{c_i - 1}
    up = np.where(has_upper, codes, 0)
    low = np.where(has_lower, codes - 1, 0)
    cross_u = np.zeros((n_thresholds, n))
    cross_l = np.zeros((n_thresholds, n))
    cross_u[up, rows] = np.where(has_upper, weight * (h_uu + h_ul), 0.0)
    cross_l[low, rows] = np.where(has_lower, weight * (h_ll + h_ul), 0.0)
    hessian[:n_thresholds, n_thresholds:] = (cross_u + cross_l) @ Z
    hessian[n_thresholds:, :n_thresholds] = hessian[:n_thresholds, n_thresholds:].T
    aa = np.zeros((n_thresholds, n_thresholds))
    np.add.at(aa, (up, up), np.where(has_upper, weight * h_uu, 0.0))
    np.add.at(aa, (low, low), np.where(has_lower, weight * h_ll, 0.0))
    both = has_upper & has_lower
    np.add.at(aa, (up[both], low[both]), weight[both] * h_ul[both])
    np.add.at(aa, (low[both], up[both]), weight[both] * h_ul[both])
    hessian[:n_thresholds, :n_thresholds] = aa
    np.add.at(gradient, up[has_upper], (weight * g_u)[has_upper])
    np.add.at(gradient, low[has_lower], (weight * g_l)[has_lower])
    return hessian, gradient


def invert_information(hessian, name):
    """The inverse of a positive definite Hessian; a clear ``ValueError`` when it is singular."""
    diagonal = np.diag(hessian)
    factor = None
    if np.all(diagonal > 0) and np.all(np.isfinite(hessian)):
        # judged on the correlation form, so that the features' units do not matter
        unit = 1.0 / np.sqrt(diagonal)
        correlation = hessian * np.outer(unit, unit)
        if np.linalg.eigvalsh(correlation)[0] > 1e-10:
            try:
                factor = cho_factor(correlation)
            except LinAlgError:
                factor = None
    if factor is None:
        raise ValueError(
            f"{name}: the observed information (the Hessian of the negative log-likelihood) "
            "is singular at the fit, so the parameters have no finite standard errors: a "
            "feature is constant or collinear with others, or a feature separates the "
            "classes. Drop or combine such features."
        )
    inverse = cho_solve(factor, np.eye(hessian.shape[0])) * np.outer(unit, unit)
    return 0.5 * (inverse + inverse.T)
