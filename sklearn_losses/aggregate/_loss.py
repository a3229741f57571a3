"""The definitions of the aggregate family's losses (NumPy).

The squared bag loss is what :class:`AggregateLinearRegression` minimises in
closed form and :class:`AggregateMLPRegressor`'s criterion (``_nets.BagLoss``)
evaluates on batches of whole bags; the tests check both against
:func:`squared_bag_loss`.  The logistic bag loss of
:class:`AggregateLogisticRegression`, with its gradient, is
:class:`LogisticBagObjective`.  :func:`proportion_bag_loss` is the multiclass
cross-entropy between bag label proportions and bag-mean probabilities: the
definition that the multiclass solvers and the network criterion are tested
against.
"""

import numpy as np
from scipy.special import expit, log_expit

__all__ = ["LogisticBagObjective", "proportion_bag_loss", "squared_bag_loss"]

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
