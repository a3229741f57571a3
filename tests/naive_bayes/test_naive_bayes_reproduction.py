"""The paper's claim, quick version: NB needs O(log n) samples, LR needs O(n)."""

import numpy as np
import pytest

from sklearn_losses.datasets import bayes_error, make_gaussian_mixture
from sklearn_losses.naive_bayes import nb_assumption_diagnostics
from sklearn_losses.reproduce.naive_bayes import MODELS, growth_exponent, simulate


@pytest.mark.slow
def test_samples_to_within_grow_log_for_nb_and_linear_for_lr():
    needed = {}
    for n in (100, 400):
        _, within = simulate(n, n_repeats=5, random_state=1)
        needed[n] = within
        assert within[MODELS[0]] <= 15
        assert within[MODELS[1]] >= n / 2
    nb_growth = needed[400][MODELS[0]] / needed[100][MODELS[0]]
    lr_growth = needed[400][MODELS[1]] / needed[100][MODELS[1]]
    assert nb_growth <= 1.6
    assert lr_growth >= 2.5


def test_growth_exponent_reads_log_and_linear_growth():
    n = np.array([100, 200, 400, 1000])
    assert growth_exponent(n, 3 * n + 5) == pytest.approx(1, abs=0.05)
    assert growth_exponent(n, 2 * np.log(n)) < 0.3


@pytest.mark.parametrize("n_features", [2, 6, 10])
def test_bayes_error_closed_form_matches_monte_carlo(n_features):
    exact, _ = bayes_error(n_features)
    mc, se = bayes_error(n_features, method="monte_carlo", n_samples=400_000, random_state=0)
    assert abs(mc - exact) <= 3 * se + 1e-4
    # closed form: Mahalanobis distance sqrt(2n + 2) in the easy mode (diff of means = 2)
    from scipy.stats import norm

    assert exact == pytest.approx(norm.cdf(-np.sqrt(2 * n_features + 2) / 2))


def test_generator_moments():
    X, y = make_gaussian_mixture(60_000, 6, random_state=0)
    assert np.bincount(y).tolist() == [30_000, 30_000]
    np.testing.assert_allclose(X[y == 0].mean(0), -1, atol=0.05)
    np.testing.assert_allclose(X[y == 1].mean(0), 1, atol=0.05)
    np.testing.assert_allclose(X[y == 1].var(0), [6, 6, 6, 1, 1, 1], rtol=0.05)
    Xh, yh = make_gaussian_mixture(60_000, 4, mode="hard", random_state=0)
    cov = np.cov(Xh[yh == 0].T)
    np.testing.assert_allclose(np.diag(cov), [4, 4, 1, 1], rtol=0.05)
    assert np.abs(cov - np.diag(np.diag(cov))).max() > 0.1  # correlated
    X3, y3 = make_gaussian_mixture(30_000, 3, n_classes=3, random_state=0)
    np.testing.assert_allclose(X3[y3 == 2].mean(0), 1, atol=0.05)  # (2 - 1) / 1


def test_hard_mode_bayes_error_monte_carlo_is_below_chance():
    err, se = bayes_error(4, 3, mode="hard", n_samples=50_000, random_state=0)
    assert 0 < err < 2 / 3 and se > 0


def test_assumption_diagnostics_against_direct_computation():
    X, y = make_gaussian_mixture(4000, 8, random_state=0)
    d = nb_assumption_diagnostics(X, y)
    np.testing.assert_allclose(d.pooled_var, [8] * 4 + [1] * 4, rtol=0.1)
    # log p(x|1) - log p(x|0) for x from class 1, averaged per dimension, by hand
    mu0, mu1 = X[y == 0].mean(0), X[y == 1].mean(0)
    x1 = X[y == 1]
    gap = ((-((x1 - mu1) ** 2) + (x1 - mu0) ** 2) / (2 * d.pooled_var)).sum(1)
    assert d.gap_mean[1, 0, 1] == pytest.approx(gap.mean() / 8, rel=1e-6)
    assert d.gap_var[1, 0, 1] == pytest.approx(gap.var() / 8, rel=1e-6)
    np.testing.assert_allclose(d.gap_mean[0, 1], -d.gap_mean[1, 0])
    assert d.gap_mean[1, 0, 1] > 0 and d.gap_mean[1, 0, 0] < 0
