"""The squared bag loss's one definition, and the two backends that use it."""

import numpy as np
import pytest
from scipy.optimize import approx_fprime

from sklearn_losses.aggregate import AggregateLinearRegression, make_bags
from sklearn_losses.aggregate._bags import BagOperator
from sklearn_losses.aggregate._loss import squared_bag_loss


@pytest.fixture
def batch():
    rng = np.random.default_rng(0)
    n = 40
    bags = make_bags(n, 4, random_state=0)
    return rng.normal(size=n), rng.normal(size=n), bags, rng.uniform(0.2, 3.0, size=n)


def _loop(f, y, bags, w, rho):
    total = 0.0
    for b in np.unique(bags):
        m = bags == b
        f_bar, y_bar = w[m] @ f[m] / w[m].sum(), w[m] @ y[m] / w[m].sum()
        total += (1 - rho) * w[m].sum() * (y_bar - f_bar) ** 2
        total += rho * w[m] @ (y_bar - f[m]) ** 2  # the instance loss against the bag mean
    return total / (2 * w.sum())


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
def test_definition_equals_the_interpolation_written_out(batch, rho):
    f, y, bags, w = batch
    expected = _loop(f, y, bags, w, rho)
    assert squared_bag_loss(f, y, BagOperator(bags, w), rho) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
def test_torch_criterion_is_twice_the_definition(batch, rho):
    torch = pytest.importorskip("torch")
    from sklearn_losses.aggregate._nets import BagLoss

    f, y, bags, w = batch
    target = {
        "target": torch.as_tensor(np.c_[y, bags].astype(np.float64)),
        "sample_weight": torch.as_tensor(w),
    }
    value = float(BagLoss(rho)(torch.as_tensor(f), target))
    assert value == pytest.approx(2 * squared_bag_loss(f, y, BagOperator(bags, w), rho), rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_closed_form_is_a_stationary_point_of_the_definition(batch, rho):
    _, y, bags, w = batch
    X = np.random.default_rng(1).normal(size=(len(y), 3))
    alpha = 0.05
    est = AggregateLinearRegression(rho=rho, alpha=alpha).fit(X, y, bags=bags, sample_weight=w)
    op = BagOperator(bags, w)

    def objective(theta):
        return (
            squared_bag_loss(X @ theta[:3] + theta[3], y, op, rho)
            + alpha / 2 * theta[:3] @ theta[:3]
        )

    theta = np.r_[est.coef_, est.intercept_]
    np.testing.assert_allclose(approx_fprime(theta, objective, 1e-7), 0.0, atol=1e-6)
