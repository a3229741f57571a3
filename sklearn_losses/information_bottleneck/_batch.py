"""The CS-IB objective of one training batch, in torch: ``_loss.py``'s estimates at a lower cost.

``_loss.py`` defines the estimators once, in the log domain, for NumPy and torch
(the public functions and the reference).  Training evaluates the same numbers
through :class:`Batch`, which differs in three ways:

- **Data-only terms once per batch.**  The Gram matrix of ``x``, the embedding
  weights, the y-y term and ``I(x; x)`` depend on the batch's data only: each is
  computed once, outside autograd, and the two terms share the Gram matrix.
- **Linear domain where a sum is bounded below.**  Every sum of the mutual
  information contains its diagonal (each entry 1 with row weights scaled to a
  largest weight of 1), so it is at least 1 and what underflows is below 1e-308
  of it: no log-sum-exp is needed.
- **A series for the target kernel** (one target column).  The embedding estimate
  is ``T = log S``, ``S = sum_j s_j sum_ik W_ji W_jk L_ik``: O(b^3) for a batch of
  ``b`` rows (one product of b x b matrices, ``G = W' diag(s) W``, then
  ``S = sum G o L``).  With ``u = (a - c) / sigma`` and ``v = (a' - c) / sigma``,

      ``exp(-(u - v)^2 / 2) = sum_q phi_q(u) phi_q(v)``,
      ``phi_q(u) = exp(-u^2 / 2) u^q / sqrt(q!)``

  (the Taylor series of ``exp(u v)``), so ``L ~ Phi_a Phi_b'`` with ``m`` terms and
  ``S = sum_j s_j <(W Phi_a)_j, (W Phi_b)_j>``: O(b^2 m).  Truncation error of each
  kernel value: at most ``R^(2m) / m!`` for ``|u|, |v| <= R`` (Lagrange's remainder
  of ``exp(uv)``, times ``exp(-(u^2 + v^2) / 2) <= exp(-|uv|)``); ``m`` is the
  smallest order that brings it below 2^-53.  Rounding adds at most
  ``(3b + 7m + 20) 2^-53`` per unit of weight (the textbook bound ``n 2^-53`` on a
  sum of ``n`` terms, for the features, the two products and the sums over ``q``
  and ``j``, relative to the sum of absolute values; every ``|phi_q(u) phi_q(v)|``
  sums over ``q`` to at most 1, and each row of ``W`` to 1).  With ``delta`` the
  sum of the two, ``|S~ - S| <= delta N`` (``N = sum_j s_j``; against the exact
  evaluation from the same Gram matrix of ``x``), and a batch keeps the series only
  when this bounds the relative error of all three ``S`` by ``tol / (1 + tol)``:
  then every log term is within ``tol`` of the exact one and the divergence
  within ``4 tol``.  Otherwise (predictions far from the targets in units of
  ``sigma``, several target columns, ``tol=0``, or a batch so small that the
  product is cheaper) the exact O(b^3) route runs.
"""

import torch

from ._loss import Backend, conditional_cs_divergence_from_samples, log_gram, resolve_width


def _logsumexp(a, axis=None):
    return torch.logsumexp(a.reshape(-1), 0) if axis is None else torch.logsumexp(a, axis)


TORCH = Backend(
    logsumexp=_logsumexp,
    clip_at_zero=lambda a: a.clamp_min(0.0),
    median=lambda a: float(torch.quantile(a.detach(), 0.5)),  # averages like np.median
    scalar=lambda a: float(a.detach()),
    exp=torch.exp,
    log=torch.log,
    max=lambda a, axis: torch.amax(a, dim=axis),
)

_UNIT = 2.0**-53  # unit roundoff of float64
MAX_ORDER = 96  # beyond this many series terms (a target range over ~8 sigma) the exact route runs


def gram(a, sigma):
    """Gaussian Gram matrix of the rows of ``a`` in the linear domain (outside autograd).

    One product of the rows augmented by their scaled squared norms gives the
    exponent ``-||a_i - a_k||^2 / (2 sigma^2)``, clipped at 0 (rounding), then
    exponentiated in place.  The rows are centred first (the Gram matrix does not
    change): the expansion's rounding grows with ``||a_i||^2``, not with the distances.
    """
    a = a - a.mean(0, keepdim=True)
    half = (a * a).sum(1, keepdim=True) * (-0.5 / sigma**2)
    ones = torch.ones_like(half)
    left = torch.cat([a / sigma**2, half, ones], 1)
    right = torch.cat([a.T, ones.T, half.T], 0)  # contiguous: the faster product on the CPU
    return (left @ right).clamp_max_(0.0).exp_()


def series_order(radius):
    """Smallest ``m`` with ``radius^(2m) / m! <= 2^-53`` (the truncation bound), and that bound."""
    r2, term, m = radius * radius, 1.0, 0
    while term > _UNIT or m < r2:  # the terms shrink once m > r2
        m += 1
        term *= r2 / m
        if m > MAX_ORDER:
            return m, term
    return max(m, 1), term


class _SeriesFeatures(torch.autograd.Function):
    """Rows ``phi_q(u) = exp(-u^2 / 2) u^q / sqrt(q!)``, ``q < m``, of shape (m, b).

    Gradient: ``phi_q'(u) = sqrt(q) phi_(q-1)(u) - u phi_q(u)``.
    """

    @staticmethod
    def forward(u, m):
        q = torch.arange(1, m, dtype=u.dtype, device=u.device)
        steps = (u[None, :] / torch.sqrt(q)[:, None]).cumprod(0)  # u^q / sqrt(q!), q >= 1
        return torch.cat([torch.ones_like(u)[None, :], steps], 0) * torch.exp(-0.5 * u * u)

    @staticmethod
    def setup_context(ctx, inputs, output):
        ctx.save_for_backward(inputs[0], output)

    @staticmethod
    def backward(ctx, grad):
        u, phi = ctx.saved_tensors
        q = torch.arange(1, phi.shape[0], dtype=u.dtype, device=u.device)
        derivative = -u * phi
        derivative[1:] += torch.sqrt(q)[:, None] * phi[:-1]
        return (derivative * grad).sum(0), None


def _weighted_sum(values, s):
    return values.sum() if s is None else values @ s


class Batch:
    """One batch's inputs ``x`` (float64, shape (b, d)) and row weights, shared by both terms.

    ``weight``: positive row weights or None.  The Gram matrix of ``x`` and the
    terms built on it alone are computed on first use, outside autograd.
    """

    def __init__(self, x, weight=None, *, sigma_x):
        self.x = x
        self.width_x = resolve_width(sigma_x, x, TORCH)
        # the estimates do not change when every weight is scaled; a largest weight
        # of 1 keeps every sum of the mutual information at 1 or more
        self.s = None if weight is None else weight / weight.max()
        self.n = float(x.shape[0] if self.s is None else self.s.sum())
        self._cache = {}

    def _data_term(self, name, compute):
        if name not in self._cache:
            with torch.no_grad():
                self._cache[name] = compute()
        return self._cache[name]

    @property
    def k(self):
        """Gram matrix of ``x``."""
        return self._data_term("k", lambda: gram(self.x, self.width_x))

    @property
    def w_t(self):
        """The transposed embedding weights: ``W_ji = s_i K_ji / sum_i s_i K_ji`` at ``(i, j)``."""

        def compute():
            k, s = self.k, self.s
            if s is None:
                return k / k.sum(1)[None, :]
            return k * (s[:, None] / (k @ s)[None, :])

        return self._data_term("w_t", compute)

    # ---- the prediction term: conditional CS divergence -------------------------------

    def prediction(self, y, y_pred, *, sigma_y, estimator="embedding", tol=0.0):
        """The conditional CS divergence of ``_loss.py``, differentiable in ``y_pred``.

        ``tol`` (embedding estimate only): largest error allowed of each log term
        from the series; 0 computes it exactly.
        """
        pooled = torch.cat([y, y_pred]) if sigma_y == "median" else None
        width_y = resolve_width(sigma_y, pooled, TORCH)
        if estimator != "embedding":  # single sums, already O(b^2): the reference itself
            log_weight = None if self.s is None else torch.log(self.s)
            return conditional_cs_divergence_from_samples(
                self.x, y, y_pred, self.width_x, width_y, estimator, TORCH, log_weight
            )
        if tol > 0 and y.shape[1] == 1:
            value = self._embedding_series(y[:, 0], y_pred[:, 0], width_y, tol)
            if value is not None:
                return value
        return self._embedding_exact(y, y_pred, width_y)

    def _embedding_exact(self, y, y_pred, width_y):
        """``T = log sum_ik G_ik L_ik``, ``G = W' diag(s) W``: one O(b^3) product, no autograd."""

        def compute():
            sw_t = self.w_t if self.s is None else self.w_t * self.s[None, :]
            return torch.log(sw_t @ self.w_t.T)  # 0 (underflow) -> -inf: no weight in the sums

        log_g = self._data_term("log_g", compute)

        def term(a, b):
            return torch.logsumexp((log_g + log_gram(a, b, width_y, TORCH)).reshape(-1), 0)

        with torch.no_grad():
            yy = term(y, y)
        return yy + term(y_pred, y_pred) - 2.0 * term(y_pred, y)

    def _embedding_series(self, y, y_pred, width_y, tol):
        """The series route (one target column); None when its bound does not meet ``tol``."""
        low, high = torch.stack(torch.aminmax(torch.cat([y, y_pred.detach()]))).tolist()
        center, radius = (low + high) / 2, (high - low) / (2 * width_y)
        m, truncation = series_order(radius)
        b = y.shape[0]
        if m > MAX_ORDER or 2 * m >= b:
            return None
        w_t, s = self.w_t, self.s
        # (W Phi)' = Phi' W': the rows of the embeddings of the conditionals, (m, b)
        with torch.no_grad():
            a = _SeriesFeatures.apply((y - center) / width_y, m) @ w_t
            yy = _weighted_sum((a * a).sum(0), s)
        p = _SeriesFeatures.apply((y_pred - center) / width_y, m) @ w_t
        pp = _weighted_sum((p * p).sum(0), s)
        py = _weighted_sum((p * a).sum(0), s)
        error = (truncation + (3 * b + 7 * m + 20) * _UNIT) * 1.01 * self.n  # |S~ - S| at most
        smallest = torch.stack([yy, pp, py]).detach().min().item()
        if error * (1 + 2 * tol) > tol * smallest:
            return None
        return torch.log(yy) + torch.log(pp) - 2.0 * torch.log(py)

    # ---- the compression term: CS quadratic mutual information ------------------------

    def _x_sums(self):
        """``(K s, K o s s', I(x; x))``: what the compression term needs of ``x``."""

        def compute():
            k, s = self.k, self.s
            k_rows, weighted_k = (
                (k.sum(1), k) if s is None else (k @ s, k * (s[:, None] * s[None, :]))
            )
            joint = torch.dot(weighted_k.reshape(-1), k.reshape(-1))
            marginal = _weighted_sum(k_rows, s)
            cross = _weighted_sum(k_rows * k_rows, s)
            information = torch.log(joint) + 2.0 * torch.log(marginal) - 2.0 * torch.log(cross)
            return k_rows, weighted_k, information

        return self._data_term("x_sums", compute)

    def information(self, t, *, sigma_t, normalized=False):
        """``I_CS(x; t)`` of ``_loss.py``, differentiable in ``t``."""
        width_t = resolve_width(sigma_t, t, TORCH)
        return _Information.apply(t, width_t, self.s, *self._x_sums(), normalized)


class _Information(torch.autograd.Function):
    """``I_CS(x; t)`` (Prop. 2), optionally normalized, with its gradient in ``t`` by hand.

    With ``Q`` the Gram matrix of ``t``, ``q = Q s``, ``k = K s``, ``J = sum s s' o K o Q``,
    ``M = s'q`` and ``C = sum s o k o q``: ``I = log J + log(s'k) + log M - 2 log C``.
    Normalized, ``I(t; t) = log J2 + 2 log M - 2 log C2`` with ``J2 = sum s s' o Q o Q``
    and ``C2 = sum s o q o q``.  Every sum is at least 1 (a largest weight of 1).  The
    gradient: ``dV/dQ = a K o s s' + e Q o s s' + r s'``; with ``H`` the symmetric
    ``Q o (dV/dQ + dV/dQ')``, ``dV/dt_i = sum_k H_ik (t_k - t_i) / sigma^2``: one
    product with ``t``, as in the forward pass.
    """

    @staticmethod
    def forward(ctx, t, width, s, k_rows, weighted_k, information_x, normalized):
        q = gram(t, width)
        q_rows = q.sum(1) if s is None else q @ s
        joint = torch.dot(weighted_k.reshape(-1), q.reshape(-1))
        marginal = _weighted_sum(q_rows, s)
        cross = _weighted_sum(k_rows * q_rows, s)
        value = (
            torch.log(joint)
            + torch.log(_weighted_sum(k_rows, s))
            + torch.log(marginal)
            - 2.0 * torch.log(cross)
        )
        # dV/dI and dV/dI(t; t)
        ctx.d_value, ctx.d_information_t, weighted_q = 1.0, 0.0, None
        if normalized:
            weighted_q = q if s is None else q * (s[:, None] * s[None, :])
            joint_t = torch.dot(weighted_q.reshape(-1), q.reshape(-1))
            cross_t = _weighted_sum(q_rows * q_rows, s)
            information_t = (
                torch.log(joint_t) + 2.0 * torch.log(marginal) - 2.0 * torch.log(cross_t)
            )
            scale = float((information_x * information_t) ** 0.5)
            if scale > 0:  # (NaN: rounding below 0 of a constant t)
                value = value / scale
                ctx.d_value, ctx.d_information_t = 1.0 / scale, -float(value) / (2 * information_t)
            else:
                value, ctx.d_value = value * 0.0, 0.0
            ctx.sums_t = (float(joint_t), float(cross_t))
        ctx.sums = (float(joint), float(marginal), float(cross))
        ctx.width = width
        ctx.save_for_backward(t, q, q_rows, s, k_rows, weighted_k, weighted_q)
        return value

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad):
        t, q, q_rows, s, k_rows, weighted_k, weighted_q = ctx.saved_tensors
        joint, marginal, cross = ctx.sums
        g_value, g_t = float(grad) * ctx.d_value, float(grad) * ctx.d_information_t
        # dV/dQ = a K o ss' + e Q o ss' + r s' (each a sum over the entries of Q)
        h = weighted_k * (2.0 * g_value / joint)
        r = (g_value + 2.0 * g_t) / marginal - (2.0 * g_value / cross) * k_rows
        if weighted_q is not None:
            joint_t, cross_t = ctx.sums_t
            h.add_(weighted_q, alpha=4.0 * g_t / joint_t)  # d J2 / dQ = 2 Q o ss'
            r = r - (4.0 * g_t / cross_t) * q_rows
        if s is None:
            h.add_(r[:, None]).add_(r[None, :])
        else:
            r = r * s
            h.addr_(r, s).addr_(s, r)
        h.mul_(q)
        grad_t = (h @ t - h.sum(1, keepdim=True) * t) / ctx.width**2
        return grad_t, None, None, None, None, None, None
