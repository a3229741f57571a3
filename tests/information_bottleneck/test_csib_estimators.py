"""CS divergence and CS mutual information: properties, brute-force oracles, the torch twin."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist

from sklearn_losses.information_bottleneck import (
    conditional_cs_divergence,
    cs_divergence,
    cs_mutual_information,
)
from sklearn_losses.information_bottleneck._estimators import NUMPY, resolve_width


def kernel(a, b, sigma):
    a, b = np.atleast_2d(a), np.atleast_2d(b)
    return np.exp(-np.sum((a[:, None, :] - b[None, :, :]) ** 2, axis=-1) / (2 * sigma**2))


def brute_conditional(x, y, y_pred, sigma_x, sigma_y, estimator):
    """The three estimates with explicit sums, no logs until the end."""
    K = kernel(x, x, sigma_x)
    n = len(x)
    d = K.sum(axis=1) ** 2 if estimator == "paper" else (K**2).sum(axis=1)
    w = K / K.sum(axis=1, keepdims=True)

    def term(a, b):
        L = kernel(a, b, sigma_y)
        if estimator == "embedding":
            rows = range(n)
            return np.log(
                sum(w[j, i] * w[j, k] * L[i, k] for j in rows for i in rows for k in rows)
            )
        return np.log(sum(sum(K[j, i] * L[j, i] for i in range(n)) / d[j] for j in range(n)))

    return term(y, y) + term(y_pred, y_pred) - 2 * term(y_pred, y)


def brute_qmi(x, t, sigma_x, sigma_t):
    """Proposition 2 with explicit sums."""
    n = len(x)
    K, Q = kernel(x, x, sigma_x), kernel(t, t, sigma_t)
    joint = np.trace(K @ Q) / n**2
    product = K.sum() * Q.sum() / n**4
    cross = np.ones(n) @ K @ Q @ np.ones(n) / n**3
    return np.log(joint) + np.log(product) - 2 * np.log(cross)


def test_divergence_is_zero_on_equal_samples_and_grows_with_a_shift(rng):
    a = rng.normal(size=(150, 2))
    assert cs_divergence(a, a) == pytest.approx(0, abs=1e-12)
    shifts = [cs_divergence(a, a + c) for c in (0.25, 0.5, 1.0, 2.0)]
    assert np.all(np.diff(shifts) > 0) and shifts[0] > 0
    b = rng.normal(1, 2, size=(90, 2))
    assert cs_divergence(a, b) == pytest.approx(cs_divergence(b, a), rel=1e-12)


def test_divergence_equals_the_integral_of_parzen_densities(rng):
    # kappa_sigma Gram sums are integrals of Parzen densities of width sigma / sqrt(2)
    a, b = rng.normal(size=30), rng.normal(0.7, 1.3, size=40)
    sigma, h = 0.8, 0.8 / np.sqrt(2)
    grid = np.linspace(-12, 12, 48001)

    def parzen(sample):
        return np.exp(-((grid[:, None] - sample) ** 2) / (2 * h**2)).mean(1) / (
            h * np.sqrt(2 * np.pi)
        )

    p, q = parzen(a), parzen(b)
    integral = np.trapezoid
    expected = -np.log(integral(p * q, grid) ** 2 / (integral(p * p, grid) * integral(q * q, grid)))
    assert cs_divergence(a, b, sigma=sigma) == pytest.approx(expected, rel=1e-8)


@pytest.mark.parametrize("estimator", ["embedding", "paper", "code"])
def test_conditional_divergence_matches_brute_force(rng, estimator):
    x, y = rng.normal(size=(12, 3)), rng.normal(size=(12, 2))
    y_pred = y + rng.normal(0, 0.5, size=y.shape)
    ours = conditional_cs_divergence(x, y, y_pred, sigma=0.9, sigma_x=1.7, estimator=estimator)
    assert ours == pytest.approx(brute_conditional(x, y, y_pred, 1.7, 0.9, estimator), rel=1e-12)


@pytest.mark.parametrize("estimator", ["embedding", "paper", "code"])
def test_conditional_divergence_zero_at_truth_grows_and_is_permutation_invariant(rng, estimator):
    x = rng.normal(size=(80, 4))
    y = x @ rng.normal(size=4)
    assert conditional_cs_divergence(x, y, y, estimator=estimator) == pytest.approx(0, abs=1e-12)
    values = [conditional_cs_divergence(x, y, y + c, estimator=estimator) for c in (0.2, 0.5, 1, 2)]
    assert np.all(np.diff(values) > 0)
    y_pred = y + rng.normal(size=80)
    perm = rng.permutation(80)
    assert conditional_cs_divergence(x, y, y_pred) == pytest.approx(
        conditional_cs_divergence(x[perm], y[perm], y_pred[perm]), rel=1e-12
    )


def test_only_the_embedding_estimator_is_never_negative():
    # random data with a few far-off predictions: the single-sum forms dip below 0
    lowest = {"embedding": np.inf, "paper": np.inf, "code": np.inf}
    for seed in range(600):
        r = np.random.default_rng(seed)
        n = int(r.integers(3, 30))
        x = r.normal(size=(n, 2)) * r.uniform(0.2, 3)
        y = r.normal(size=n) * r.uniform(0.1, 3)
        y_pred = y + r.normal(size=n) * r.uniform(0, 3)
        y_pred[r.integers(0, n, size=max(1, n // 10))] += r.uniform(2, 50)
        widths = {"sigma": r.uniform(0.3, 2), "sigma_x": r.uniform(0.3, 3)}
        for estimator in lowest:
            value = conditional_cs_divergence(x, y, y_pred, estimator=estimator, **widths)
            lowest[estimator] = min(lowest[estimator], value)
    assert lowest["embedding"] >= -1e-12
    assert lowest["paper"] < 0


def test_conditional_divergence_tends_to_correntropy_as_the_x_kernel_narrows(rng):
    x, y = rng.normal(size=(50, 3)), rng.normal(size=50)
    y_pred = y + rng.normal(0, 0.7, size=50)
    sigma = 0.6
    limit = -2 * np.log(np.mean(np.exp(-((y_pred - y) ** 2) / (2 * sigma**2))))
    for estimator in ("embedding", "paper", "code"):
        ours = conditional_cs_divergence(
            x, y, y_pred, sigma=sigma, sigma_x=1e-3, estimator=estimator
        )
        assert ours == pytest.approx(limit, rel=1e-10)


def test_estimators_stay_finite_with_narrow_kernels(rng):
    x = 50 * rng.normal(size=(60, 5))
    t = 50 * rng.normal(size=(60, 3))
    assert np.isfinite(cs_mutual_information(x, t, sigma=1e-2, normalized=True))
    assert np.isfinite(conditional_cs_divergence(x, t[:, 0], t[:, 1], sigma=1e-2))
    assert np.isfinite(cs_divergence(x, x + 1, sigma=1e-2))


def test_mutual_information_matches_brute_force_and_its_properties(rng):
    x = rng.normal(size=(40, 3))
    t = np.tanh(x @ rng.normal(size=(3, 2))) + 0.3 * rng.normal(size=(40, 2))
    ours = cs_mutual_information(x, t, sigma=1.3, sigma_t=0.7)
    assert ours == pytest.approx(brute_qmi(x, t, 1.3, 0.7), rel=1e-12)
    assert ours == pytest.approx(cs_mutual_information(t, x, sigma=0.7, sigma_t=1.3), rel=1e-12)
    perm = rng.permutation(40)
    assert ours == pytest.approx(cs_mutual_information(x[perm], t[perm], sigma=1.3, sigma_t=0.7))
    for seed in range(50):
        r = np.random.default_rng(seed)
        a, b = r.normal(size=(r.integers(2, 60), 2)), None
        b = r.normal(size=(a.shape[0], 1))
        assert cs_mutual_information(a, b, sigma=r.uniform(0.1, 3)) >= 0


def test_mutual_information_near_zero_for_independent_variables(rng):
    x = rng.normal(size=(600, 2))
    independent = cs_mutual_information(x, rng.normal(size=(600, 2)))
    dependent = cs_mutual_information(x, x + 0.3 * rng.normal(size=(600, 2)))
    assert independent < 0.01 and dependent > 20 * independent


def test_normalized_mutual_information(rng):
    x = rng.normal(size=(70, 3))
    assert cs_mutual_information(x, x, normalized=True) == pytest.approx(1.0)
    assert cs_mutual_information(x, 2 * x, sigma=1.0, sigma_t=2.0, normalized=True) == (
        pytest.approx(1.0)
    )
    assert cs_mutual_information(x, np.ones((70, 1)), normalized=True) == 0.0
    t = np.tanh(x @ rng.normal(size=(3, 2)))
    assert 0 <= cs_mutual_information(x, t, normalized=True) <= 1


def test_normalized_mutual_information_can_exceed_one():
    # Unlike Shannon's I(x;t) / sqrt(H(x) H(t)), the CS form has no upper bound of 1: a
    # wide kernel on x makes I(x;x) small while I(x;t) stays large.  We report the value
    # rather than clip it (found while checking the "within [0, 1]").
    r = np.random.default_rng(5)
    x = r.normal(size=(68, 4)) * r.uniform(0.1, 5)
    t = np.tanh(x @ r.normal(size=(4, int(r.integers(1, 4))))) * r.uniform(0.1, 5)
    t = t + r.uniform(0, 2) * r.normal(size=(68, 1))
    assert cs_mutual_information(x, t, sigma=3.0, sigma_t=0.3, normalized=True) > 1.05


def test_median_width_rule(rng):
    a = rng.normal(size=(30, 2))
    assert resolve_width("median", a, NUMPY) == pytest.approx(np.median(pdist(a)))
    assert resolve_width("median", np.ones((5, 2)), NUMPY) == 1.0
    value = cs_mutual_information(a, a[:, :1], sigma="median", normalized=True)
    assert 0 < value <= 1


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda a: cs_divergence(a, a, sigma=0.0), "sigma"),
        (lambda a: cs_divergence(a, a, sigma=-1.0), "sigma"),
        (lambda a: cs_mutual_information(a, a[:5]), "same number of rows"),
        (lambda a: conditional_cs_divergence(a, a[:, 0], a[:, :2]), "shape"),
        (lambda a: cs_divergence(np.where(a > 1, np.nan, a), a), "NaN"),
        (lambda a: cs_divergence(a, a[:, :1]), "columns"),
    ],
)
def test_bad_input(rng, call, match):
    with pytest.raises(ValueError, match=match):
        call(rng.normal(size=(20, 3)))


torch = pytest.importorskip("torch")


def test_torch_twin_agrees_with_numpy(rng):
    from sklearn_losses.information_bottleneck import _nets
    from sklearn_losses.information_bottleneck._estimators import cs_divergence_from_samples

    x, y = rng.normal(size=(64, 5)), rng.normal(size=(64, 2))
    y_pred, t = y + rng.normal(size=y.shape), rng.normal(size=(64, 7))
    T = torch.as_tensor
    for estimator in ("embedding", "paper", "code"):
        ours = _nets.conditional_cs_divergence(
            T(x), T(y), T(y_pred), sigma_x=1.5, sigma_y="median", estimator=estimator
        )
        expected = conditional_cs_divergence(
            x, y, y_pred, sigma="median", sigma_x=1.5, estimator=estimator
        )
        assert float(ours) == pytest.approx(expected, abs=1e-10)
    for normalized in (False, True):
        ours = _nets.cs_mutual_information(
            T(x), T(t), sigma_x="median", sigma_t=2.0, normalized=normalized
        )
        expected = cs_mutual_information(x, t, sigma="median", sigma_t=2.0, normalized=normalized)
        assert float(ours) == pytest.approx(expected, abs=1e-10)
    ours = cs_divergence_from_samples(T(x), T(x + 0.5), 1.2, _nets.TORCH)
    assert float(ours) == pytest.approx(cs_divergence(x, x + 0.5, sigma=1.2), abs=1e-10)


def test_gradcheck_in_float64(rng):
    from sklearn_losses.information_bottleneck import _nets

    x = torch.as_tensor(rng.normal(size=(8, 3)), dtype=torch.float64)
    y = torch.as_tensor(rng.normal(size=(8, 1)), dtype=torch.float64)
    y_pred = torch.tensor(rng.normal(size=(8, 1)), requires_grad=True)
    t = torch.tensor(rng.normal(size=(8, 4)), requires_grad=True)
    for estimator in ("embedding", "paper", "code"):
        torch.autograd.gradcheck(
            lambda p, e=estimator: _nets.conditional_cs_divergence(
                x, y, p, sigma_x=1.0, sigma_y=0.8, estimator=e
            ),
            (y_pred,),
        )
    for normalized in (False, True):
        torch.autograd.gradcheck(
            lambda tt, n=normalized: _nets.cs_mutual_information(
                x, tt, sigma_x=1.0, sigma_t=1.5, normalized=n
            ),
            (t,),
        )
