"""The definitions of the aggregate family's losses (NumPy).

The squared bag loss is what :class:`AggregateLinearRegression` minimises in
closed form and :class:`AggregateMLPRegressor`'s criterion (``_nets.BagLoss``)
evaluates on batches of whole bags; the tests check both against
:func:`squared_bag_loss`.  The logistic bag loss of
:class:`AggregateLogisticRegression`, with its gradient, is
:class:`LogisticBagObjective`.  :func:`proportion_bag_loss` is the multiclass
cross-entropy between bag label proportions and bag-mean probabilities: the
definition that the multiclass solvers and the network criterion are tested
against; :class:`MultinomialBagObjective` is its value and gradient for
:class:`AggregateLogisticRegression` with three or more classes.
"""

import numpy as np
from scipy.special import expit, log_expit

__all__ = [
    "LogisticBagObjective",
    "MultinomialBagObjective",
    "proportion_bag_loss",
    "squared_bag_loss",
]

_EPS = 1e-12


def squared_bag_loss(f, y, bags, rho):
    """``[sum_a W_a (ybar_a - fbar_a)^2 + rho sum_i w_i (f_i - fbar_a)^2] / (2 W)``.

    ``f`` are the row predictions, ``y`` the row responses (the bag's aggregate
    response on each of its rows gives the same ``ybar_a``), ``bags`` a
    :class:`~._bags.BagOperator` (weighted bag means, bag weights ``W_a``, total
    ``W``).  Equal to ``[(1 - rho) sum_a W_a (ybar_a - fbar_a)^2 + rho sum_i w_i
    (ybar_a(i) - f_i)^2] / (2 W)``: the interpolation between the bag-level and the
    instance-level squared error, on the mean-loss scale.
    """
    f_bar, y_bar = bags.mean(f), bags.mean(y)
    between = bags.weight @ (y_bar - f_bar) ** 2
    within = bags.sum((f - f_bar[bags.codes]) ** 2).sum()
    return float((between + rho * within) / (2.0 * bags.weight.sum()))


def proportion_bag_loss(proba, proportions, bags, rho):
    """``[(1 - rho) sum_a W_a CE(q_a, pbar_a) + rho sum_i w_i CE(q_a(i), p_i)] / W``.

    ``proba`` (n, K) are the rows' class probabilities, ``proportions`` (n, K)
    the rows' label distributions (one-hot labels, or a bag's label proportions
    broadcast to its rows: either gives the same bag proportions ``q_a``), and
    ``bags`` a :class:`~._bags.BagOperator` (weighted bag means ``pbar_a``, bag
    weights ``W_a``, total ``W``).  ``CE(q, p) = -sum_k q_k log p_k``.  The bag
    term is learning from label proportions (DLLP); the instance term trains
    each row on its bag's proportions.  With K = 2 and the second column as the
    positive class it is the data term of :class:`LogisticBagObjective`.
    """
    proba = np.asarray(proba, dtype=np.float64)
    q = bags.mean(np.asarray(proportions, dtype=np.float64))
    p_bar = bags.mean(proba)
    value = bags.weight @ -(q * np.log(np.clip(p_bar, _EPS, None))).sum(axis=1)
    if rho > 0:
        kept = bags.row_kept
        rows = -(q[bags.codes[kept]] * np.log(np.clip(proba[kept], _EPS, None))).sum(axis=1)
        weight = np.asarray(bags.matrix.sum(axis=0)).ravel()[kept]
        value = (1 - rho) * value + rho * (weight @ rows)
    return float(value / bags.weight.sum())


class LogisticBagObjective:
    """Value and gradient of :class:`AggregateLogisticRegression`'s objective.

    ``[(1 - rho) sum_a W_a CE(q_a, pbar_a) + rho sum_i w_i CE(q_a(i), p_i)] / W
    + alpha / 2 ||coef||^2``: the cross-entropy of each bag's label proportion
    ``q_a`` against the bag's weighted mean probability ``pbar_a``, interpolated
    with the instance-level cross-entropy against the bag's proportion.
    """

    def __init__(self, X, y_bag, bags, weight, rho, alpha, fit_intercept):
        self.X, self.y_bag, self.bags, self.weight = X, y_bag, bags, weight
        self.rho, self.alpha, self.fit_intercept = rho, alpha, fit_intercept
        self.total = weight.sum()
        self.q = bags.mean(y_bag)  # bag proportions

    def __call__(self, theta):
        coef, intercept = theta[:-1], theta[-1] if self.fit_intercept else 0.0
        z = self.X @ coef + intercept
        p = expit(z)
        w, rho, q = self.weight, self.rho, self.q
        # instance level: CE(ybar_a, p_i), written with log-sigmoids for stability
        instance = -(self.y_bag * log_expit(z) + (1 - self.y_bag) * log_expit(-z))
        value = rho * (w @ instance)
        d_z = rho * w * (p - self.y_bag)
        if rho < 1:
            p_bar = np.clip(self.bags.mean(p), _EPS, 1 - _EPS)
            bag = -(q * np.log(p_bar) + (1 - q) * np.log1p(-p_bar))
            value += (1 - rho) * (self.bags.weight @ bag)
            c = (p_bar - q) / (p_bar * (1 - p_bar))
            d_z += (1 - rho) * w * c[self.bags.codes] * p * (1 - p)
        d_z = np.where(self.bags.row_kept, d_z, 0.0)
        grad = np.empty_like(theta)
        grad[:-1] = self.X.T @ d_z / self.total + self.alpha * coef
        grad[-1] = d_z.sum() / self.total if self.fit_intercept else 0.0
        return value / self.total + 0.5 * self.alpha * coef @ coef, grad


class MultinomialBagObjective:
    """Value and gradient of :class:`AggregateLogisticRegression`'s objective, K classes.

    :func:`proportion_bag_loss` of the softmax probabilities ``p_i = softmax(coef
    @ x_i + intercept)`` plus ``alpha / 2 ||coef||_F^2`` (the intercepts are not
    penalised), in the parameters ``theta = [coef | intercept]`` of shape (K, p+1)
    flattened by rows, or (K, p) without intercept: scikit-learn's multinomial
    parametrisation, K free rows that the penalty (or, unpenalised, L-BFGS's
    start at zero: every gradient sums to zero over the classes) makes
    identifiable.  The estimator uses it for K >= 3; at K = 2 it equals
    :class:`LogisticBagObjective` at half the ``alpha``, with ``coef = w_1 - w_0``
    (tested), but costs 2.6-3.4x as much per evaluation, so two classes keep that one.
    With one row per bag the bag term equals the instance term, and only the
    latter is evaluated.

    ``log pbar_a`` is the log of the weighted bag mean of the rows'
    probabilities, evaluated in the log domain (a log-sum-exp over the bag's
    rows) wherever a probability underflows, so that, unlike the definition's
    clip at 1e-12, the value and gradient stay exact for confident wrong
    predictions.  The gradient of the bag term with respect to the logits is
    ``w_i [P_ij sum_k q_ak R_ik - q_aj R_ij]`` with ``R_ik = p_ik / pbar_ak``,
    formed as ``w_i R_ik = exp(log p_ik + log w_i - log pbar_ak) <= W_a``.
    """

    _TINY = 1e-280  # below this a bag mean may have lost its underflowed rows

    def __init__(self, X, proportions, bags, weight, rho, alpha, fit_intercept):
        self.X, self.bags, self.rho, self.alpha = X, bags, rho, alpha
        self.fit_intercept = fit_intercept
        self.q = bags.mean(proportions)  # (n_bags, K): the bag proportions
        self.n_classes = self.q.shape[1]
        kept = bags.row_kept
        self.weight = np.where(kept, weight, 0.0)
        self.total = weight.sum()
        self.codes = np.where(kept, bags.codes, 0)
        with np.errstate(divide="ignore"):
            self.log_weight = np.log(self.weight)  # -inf for zero weights
        self.q_rows = self.q[self.codes]
        # one row per bag: the bag term is the instance term, so take the cheaper one
        sizes = np.bincount(bags.codes[kept], minlength=self.q.shape[0])
        self.singletons = bool(sizes.size) and sizes.max() == 1

    def unpack(self, theta):
        """``(coef, intercept)`` of shapes (K, p) and (K,) (zeros without intercept)."""
        params = theta.reshape(self.n_classes, -1)
        if self.fit_intercept:
            return params[:, :-1], params[:, -1]
        return params, np.zeros(self.n_classes)

    def _log_bag_mean(self, log_p, p):
        """``log pbar`` (n_bags, K), the weighted bag means of ``p`` in the log domain."""
        p_bar = self.bags.mean(p)
        small = p_bar < self._TINY
        with np.errstate(divide="ignore"):
            log_p_bar = np.log(p_bar)
        if small.any():  # rare: recompute those bags by a shifted log-sum-exp
            bad = np.flatnonzero(small.any(axis=1))
            position = np.full(self.q.shape[0], -1)
            position[bad] = np.arange(bad.size)
            rows = np.flatnonzero((position[self.codes] >= 0) & (self.weight > 0))
            local = position[self.codes[rows]]
            terms = log_p[rows] + self.log_weight[rows, None]
            shift = np.full((bad.size, self.n_classes), -np.inf)
            np.maximum.at(shift, local, terms)
            sums = np.zeros_like(shift)
            np.add.at(sums, local, np.exp(terms - shift[local]))
            log_p_bar[bad] = shift + np.log(sums) - np.log(self.bags.weight[bad])[:, None]
        return log_p_bar

    def __call__(self, theta):
        coef, intercept = self.unpack(theta)
        z = self.X @ coef.T + intercept
        z -= z.max(axis=1, keepdims=True)
        p = np.exp(z)
        norm = p.sum(axis=1, keepdims=True)
        p /= norm
        log_p = z - np.log(norm)  # log-softmax, exact where p underflows
        w, q_rows = self.weight, self.q_rows
        rho = 1.0 if self.singletons else self.rho
        value = 0.0
        d_z = np.zeros_like(p)
        if rho > 0:  # instance level: CE(q_a(i), p_i)
            value += rho * (w @ -(q_rows * log_p).sum(axis=1))
            d_z += (rho * w)[:, None] * (p * q_rows.sum(axis=1)[:, None] - q_rows)
        if rho < 1:  # bag level: CE(q_a, pbar_a)
            log_p_bar = self._log_bag_mean(log_p, p)
            value += (1 - rho) * (self.bags.weight @ -(self.q * log_p_bar).sum(axis=1))
            w_ratio = np.exp(log_p + self.log_weight[:, None] - log_p_bar[self.codes])
            qr = q_rows * w_ratio
            d_z += (1 - rho) * (p * qr.sum(axis=1)[:, None] - qr)
        grad = d_z.T @ self.X / self.total + self.alpha * coef
        if self.fit_intercept:
            grad = np.column_stack([grad, d_z.sum(axis=0) / self.total])
        value = value / self.total + 0.5 * self.alpha * np.sum(coef * coef)
        return value, grad.ravel()
