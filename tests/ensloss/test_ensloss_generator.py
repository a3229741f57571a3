"""The family's loss definitions (``ensloss/_loss.py``), the conditions they guarantee,
and their two backends (numba kernels, torch criterion) checked against them."""

import numpy as np
import pytest

from sklearn_losses.ensloss import calibrated_loss_derivatives
from sklearn_losses.ensloss._kernels import derivatives_from_noise, fixed_derivatives
from sklearn_losses.ensloss._loss import (
    EXP_MARGIN_FLOOR,
    EXPONENTIAL,
    HINGE,
    LOGISTIC,
    SQUARED_HINGE,
    fixed_loss,
    fixed_loss_derivative,
    random_derivatives,
)

SHIFT = 1e-6


def _batches(rng, n_batches, size):
    for b in range(n_batches):
        scale = rng.choice([0.1, 1.0, 5.0])
        yield rng.normal(rng.normal(), scale, size=size), b


@pytest.mark.parametrize("lam", [0.0, -0.5, 0.7])
def test_conditions_hold_on_every_batch(rng, lam):
    for z, seed in _batches(rng, 3000, 128):
        g = calibrated_loss_derivatives(z, boxcox_lambda=lam, random_state=seed)
        assert np.all(g >= -1 - SHIFT) and np.all(g < 0)
        by_margin = g[np.argsort(z, kind="stable")]
        assert np.all(np.diff(by_margin) >= 0), "derivative must be nondecreasing (convex loss)"
        tail = z > 1
        assert np.all(z[tail] * g[tail] >= -1 - SHIFT) and np.all(z[tail] * g[tail] < 0)


def test_about_half_clipped_on_large_batches(rng):
    fractions = [
        np.mean(calibrated_loss_derivatives(rng.normal(size=1000), random_state=s) <= -1)
        for s in range(200)
    ]
    assert 0.45 <= np.mean(fractions) <= 0.55
    assert 0.40 <= min(fractions) and max(fractions) <= 0.60


def test_expected_derivative_by_rank_matches_the_paper_profile(rng):
    # the paper's note: E[g] by within-batch rank is -1 on the bottom half, about -0.52 at
    # the 75th percentile and -0.29 at the 90th (margins below the tail threshold here)
    z = np.linspace(-3, 0.9, 128)
    mean = np.mean([calibrated_loss_derivatives(z, random_state=s) for s in range(4000)], axis=0)
    assert np.allclose(mean[:60], -1, atol=0.02)
    assert mean[95] == pytest.approx(-0.52, abs=0.03)
    assert mean[115] == pytest.approx(-0.29, abs=0.03)


def test_seed_gives_the_same_draw_and_changes_with_it(rng):
    z = rng.normal(size=64)
    a = calibrated_loss_derivatives(z, random_state=3)
    assert np.array_equal(a, calibrated_loss_derivatives(z, random_state=3))
    assert not np.array_equal(a, calibrated_loss_derivatives(z, random_state=4))


def test_bad_margins_are_rejected():
    with pytest.raises(ValueError, match="1-D"):
        calibrated_loss_derivatives(np.zeros((3, 2)))
    with pytest.raises(ValueError, match="NaN"):
        calibrated_loss_derivatives([0.0, np.nan])


FIXED = [LOGISTIC, HINGE, SQUARED_HINGE, EXPONENTIAL]


def _margins_with_ties_and_tails(rng, n=300):
    z = np.concatenate([rng.normal(0, 3, n), rng.choice([-1.0, 0.0, 1.0, 2.5], 40)])
    return rng.permutation(np.concatenate([z, [EXP_MARGIN_FLOOR - 5, 60.0, -700.0]]))


@pytest.mark.parametrize("code", FIXED)
def test_definition_derivative_matches_finite_differences_of_its_value(rng, code):
    z = rng.uniform(-4, 4, size=200)
    z = z[np.abs(z - 1) > 1e-3]  # away from the hinge kink
    h = 1e-6
    numeric = (fixed_loss(code, z + h) - fixed_loss(code, z - h)) / (2 * h)
    np.testing.assert_allclose(fixed_loss_derivative(code, z), numeric, rtol=1e-6, atol=1e-8)
    # below the floor the exponential loss continues linearly, with the floor's slope
    far = np.array([EXP_MARGIN_FLOOR - 3.0])
    if code == EXPONENTIAL:
        slope = (fixed_loss(code, far + 1e-3) - fixed_loss(code, far - 1e-3)) / 2e-3
        np.testing.assert_allclose(slope, fixed_loss_derivative(code, far), rtol=1e-6)


@pytest.mark.parametrize("code", FIXED)
def test_numba_fixed_derivatives_equal_the_definition(rng, code):
    z = _margins_with_ties_and_tails(rng)
    out = np.empty_like(z)
    fixed_derivatives(code, z, out)
    np.testing.assert_allclose(out, fixed_loss_derivative(code, z), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("lam", [0.0, -0.8, 0.5, 1.7])
def test_numba_generator_equals_the_definition(rng, lam):
    for trial in range(200):
        z = _margins_with_ties_and_tails(rng, n=int(rng.integers(1, 60)))
        if trial % 10 == 0:
            z[rng.integers(0, z.size, 3)] = np.nan  # NaN ranks last in both
        eps = rng.standard_normal(z.size)
        out = np.empty_like(z)
        derivatives_from_noise(z, eps, lam, out)
        np.testing.assert_allclose(out, random_derivatives(z, eps, lam), rtol=1e-14, atol=0)


torch = pytest.importorskip("torch")


@pytest.mark.parametrize("lam", [0.0, -0.8, 0.5])
def test_torch_twin_equals_the_definition(rng, lam):
    from sklearn_losses.ensloss._nets import derivatives_from_noise as torch_derivatives

    for _ in range(50):
        z = rng.normal(0, 2, size=(97, 3))
        z[::7] = np.round(z[::7])  # ties
        eps = rng.standard_normal(z.shape)
        ours = torch_derivatives(torch.as_tensor(z), torch.as_tensor(eps), lam).numpy()
        for k in range(3):
            expected = random_derivatives(z[:, k], eps[:, k], lam)
            np.testing.assert_allclose(ours[:, k], expected, rtol=1e-13, atol=0)


@pytest.mark.parametrize("code", FIXED)
def test_torch_fixed_loss_values_equal_the_definition(rng, code):
    from sklearn_losses.ensloss._nets import FIXED_LOSSES

    z = _margins_with_ties_and_tails(rng)
    ours = FIXED_LOSSES[code](torch.as_tensor(z)).numpy()
    np.testing.assert_allclose(ours, fixed_loss(code, z), rtol=1e-13)


def test_autograd_of_the_criterion_is_g_y_over_batch(rng):
    from sklearn_losses.ensloss._nets import MarginLoss
    from sklearn_losses.ensloss._nets import derivatives_from_noise as torch_derivatives

    B = 128
    logits = torch.tensor(rng.normal(size=(B, 1)), requires_grad=True)
    y = torch.tensor(np.where(rng.random((B, 1)) < 0.5, -1.0, 1.0))
    criterion = MarginLoss("ensloss").train()
    torch.manual_seed(11)
    criterion(logits, y).backward()
    torch.manual_seed(11)
    z = (y * logits).detach()
    g = torch_derivatives(z, torch.randn_like(z), 0.0)
    np.testing.assert_allclose(logits.grad.numpy(), (g * y / B).numpy(), rtol=0, atol=1e-12)


def test_criterion_reports_logistic_loss_in_eval_mode(rng):
    from sklearn_losses.ensloss._nets import MarginLoss

    logits = torch.tensor(rng.normal(size=(20, 1)))
    y = torch.ones(20, 1)
    value = MarginLoss("ensloss").eval()(logits, y)
    assert float(value) == pytest.approx(np.logaddexp(0, -logits.numpy()).mean())
