"""The training objective of one batch (``_batch.Batch``) against the reference estimators.

The reference is ``_loss.py`` through the torch twins of ``_nets.py`` (log domain,
autograd): values and gradients must agree, on the series route and on the exact
one, and the series' stated error bound must hold.
"""

import math

import numpy as np
import pytest

torch = pytest.importorskip("torch")
from sklearn_losses.information_bottleneck import _batch, _nets  # noqa: E402
from sklearn_losses.information_bottleneck._batch import Batch  # noqa: E402


@pytest.fixture
def routes(monkeypatch):
    """Count the batches that took the exact route of the embedding estimate."""
    calls = []
    exact = Batch._embedding_exact

    def spy(self, *args):
        calls.append(args)
        return exact(self, *args)

    monkeypatch.setattr(Batch, "_embedding_exact", spy)
    return calls


def _sample(rng, n, n_targets=1, shift=0.0, weighted=False):
    T = torch.as_tensor
    x = T(rng.normal(size=(n, 4)))
    y = T(rng.normal(size=(n, n_targets)))
    y_pred = T(y.numpy() + shift + 0.5 * rng.normal(size=(n, n_targets))).requires_grad_()
    t = T(rng.normal(size=(n, 6))).requires_grad_()
    weight = T(rng.uniform(0.1, 3.0, size=n)) if weighted else None
    return x, y, y_pred, t, weight


def _value_and_grad(value, wrt):
    (grad,) = torch.autograd.grad(value, wrt)
    return float(value.detach()), grad


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize(
    "estimator, tol, n_targets, series",
    [
        ("embedding", 1e-8, 1, True),
        ("embedding", 0.0, 1, False),
        ("embedding", 1e-8, 2, False),  # several target columns: exact
        ("paper", 1e-8, 1, False),
        ("code", 1e-8, 2, False),
    ],
)
def test_prediction_term_equals_the_reference(
    rng, routes, weighted, estimator, tol, n_targets, series
):
    x, y, y_pred, _, weight = _sample(rng, 96, n_targets, weighted=weighted)
    widths = {"sigma_y": 1.5, "estimator": estimator}
    expected, expected_grad = _value_and_grad(
        _nets.conditional_cs_divergence(x, y, y_pred, sigma_x=1.3, sample_weight=weight, **widths),
        y_pred,
    )
    batch = Batch(x, weight, sigma_x=1.3)
    ours, grad = _value_and_grad(batch.prediction(y, y_pred, tol=tol, **widths), y_pred)
    assert ours == pytest.approx(expected, abs=4 * max(tol, 1e-12))
    torch.testing.assert_close(grad, expected_grad, rtol=1e-7, atol=1e-10)
    assert len(routes) == (estimator == "embedding" and not series)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("normalized", [False, True])
def test_information_equals_the_reference(rng, weighted, normalized):
    x, _, _, t, weight = _sample(rng, 80, weighted=weighted)
    widths = {"sigma_t": 1.7, "normalized": normalized}
    expected, expected_grad = _value_and_grad(
        _nets.cs_mutual_information(x, t, sigma_x="median", sample_weight=weight, **widths), t
    )
    ours, grad = _value_and_grad(Batch(x, weight, sigma_x="median").information(t, **widths), t)
    assert ours == pytest.approx(expected, rel=1e-12, abs=1e-13)
    torch.testing.assert_close(grad, expected_grad, rtol=1e-9, atol=1e-12)


def test_gradcheck(rng):
    x, y, y_pred, t, weight = _sample(rng, 24, weighted=True)
    batch = Batch(x, weight, sigma_x=1.0)
    for normalized in (False, True):
        torch.autograd.gradcheck(
            lambda tt, n=normalized: batch.information(tt, sigma_t=1.5, normalized=n), (t,)
        )
    # the series (24 rows allow up to 11 terms: a narrow range of targets)
    y, y_pred = 0.3 * y, (0.3 * y_pred).detach().requires_grad_()
    torch.autograd.gradcheck(lambda p: batch.prediction(y, p, sigma_y=1.0, tol=1e-8), (y_pred,))
    features = _batch._SeriesFeatures.apply
    torch.autograd.gradcheck(
        lambda u: features(u, 12), (torch.linspace(-3, 3, 9).double().requires_grad_(),)
    )


@pytest.mark.parametrize("radius", [0.0, 0.5, 1.5, 3.0, 4.5])
def test_series_meets_its_stated_error(radius):
    # every kernel value within the truncation bound R^(2m) / m! <= 2^-53, plus rounding
    m, truncation = _batch.series_order(radius)
    assert truncation == pytest.approx(radius ** (2 * m) / math.factorial(m), rel=1e-12)
    assert truncation <= 2.0**-53
    if radius > 0:  # the smallest such order
        assert radius ** (2 * m - 2) / math.factorial(m - 1) > 2.0**-53 or m - 1 < radius**2
    u = torch.linspace(-radius, radius, 201, dtype=torch.float64)
    phi = _batch._SeriesFeatures.apply(u, m)
    approx = phi.T @ phi
    exact = torch.exp(-0.5 * (u[:, None] - u[None, :]) ** 2)
    assert float((approx - exact).abs().max()) <= truncation + (2 * m + 16) * 2.0**-53
    if m > 2:  # two terms fewer miss the bound: the order is not generous
        phi = phi[: m - 2]
        assert float((phi.T @ phi - exact).abs().max()) > 2.0**-53


def test_far_predictions_take_the_exact_route(rng, routes):
    # predictions 6 sigma_y from the targets: the series has few enough terms, but the
    # cross sum falls to ~1e-7 of the weights, below what its error bound guarantees at
    # tol=1e-8, and the batch runs the exact route; at tol=1e-3 the series is kept
    x, y, y_pred, _, _ = _sample(rng, 200, shift=12.0)
    batch = Batch(x, sigma_x=0.3)
    both = torch.cat([y, y_pred.detach()])
    radius = float(both.max() - both.min()) / 4
    m, _ = _batch.series_order(radius)
    assert m <= _batch.MAX_ORDER and 2 * m < 200
    expected = _nets.conditional_cs_divergence(x, y, y_pred, sigma_x=0.3, sigma_y=2.0)
    expected = float(expected.detach())
    ours = batch.prediction(y, y_pred, sigma_y=2.0, tol=1e-8)
    assert len(routes) == 1
    assert float(ours.detach()) == pytest.approx(expected, rel=1e-12)
    loose = batch.prediction(y, y_pred, sigma_y=2.0, tol=1e-3)
    assert len(routes) == 1
    assert float(loose.detach()) == pytest.approx(expected, abs=4e-3)
    # too far for the series: more than MAX_ORDER terms
    batch.prediction(y, y_pred + 30.0, sigma_y=2.0, tol=1e-3)
    # a batch too small for the series to pay
    Batch(x[:8], sigma_x=1.0).prediction(y[:8], y[:8] + 0.1, sigma_y=1.0, tol=1e-8)
    assert len(routes) == 3


def test_narrow_kernels_give_the_closed_forms(rng):
    # K is the identity: I(x; t) = log n, and the prediction term is the correntropy
    # limit -2 log mean_j kappa(y_pred_j, y_j)
    n = 100
    x = torch.as_tensor(50 * rng.normal(size=(n, 5)))
    t = torch.as_tensor(50 * rng.normal(size=(n, 3)))
    batch = Batch(x, sigma_x=1e-2)
    assert float(batch.information(t, sigma_t=1e-2)) == pytest.approx(np.log(n), rel=1e-12)
    assert float(batch.information(t, sigma_t=1e-2, normalized=True)) == pytest.approx(1.0)
    y = torch.as_tensor(rng.normal(size=(n, 1)))
    y_pred = y + torch.as_tensor(rng.normal(0, 0.7, size=(n, 1)))
    limit = -2 * torch.log(torch.exp(-((y_pred - y) ** 2) / (2 * 0.6**2)).mean())
    for tol in (1e-8, 0.0):
        ours = batch.prediction(y, y_pred, sigma_y=0.6, tol=tol)
        assert float(ours) == pytest.approx(float(limit), rel=1e-10)
