"""CS divergence and CS mutual information: properties, brute-force oracles, the torch twin."""

import numpy as np
import pytest
from scipy.spatial.distance import pdist
from scipy.special import logsumexp

from sklearn_losses.information_bottleneck import (
    conditional_cs_divergence,
    cs_divergence,
    cs_mutual_information,
)
from sklearn_losses.information_bottleneck._loss import (
    NUMPY,
    conditional_cs_divergence_from_samples,
    cs_divergence_from_samples,
    cs_mutual_information_from_samples,
    resolve_width,
)


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
    lowest = {"embedding": (np.inf,), "paper": (np.inf,), "code": (np.inf,)}
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
            if value < lowest[estimator][0]:
                lowest[estimator] = (value, x, y[:, None], y_pred[:, None], widths)
    assert lowest["embedding"][0] >= -1e-12
    for estimator in ("paper", "code"):
        # the most negative value found is the estimator's, not a rounding artefact
        value, x, y, y_pred, widths = lowest[estimator]
        brute = brute_conditional(x, y, y_pred, widths["sigma_x"], widths["sigma"], estimator)
        assert value == pytest.approx(brute, rel=1e-10)
        assert value < -1e-3  # far beyond rounding (the brute force agrees to 1e-10)


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


def test_estimators_stay_exact_with_narrow_kernels(rng):
    # every kernel value but the diagonal's underflows float64 (exp(-1e7)): the Gram
    # matrices are the identity, and the values have closed forms
    n, sigma = 60, 1e-2
    x = 50 * rng.normal(size=(n, 5))
    t = 50 * rng.normal(size=(n, 3))
    assert cs_mutual_information(x, t, sigma=sigma) == pytest.approx(np.log(n), rel=1e-12)
    assert cs_mutual_information(x, t, sigma=sigma, normalized=True) == pytest.approx(1.0)
    # the correntropy limit, whose kernel values exp(-(t0 - t1)^2 / 2 sigma^2) all underflow
    log_kappa = -((t[:, 1] - t[:, 0]) ** 2) / (2 * sigma**2)
    expected = -2 * (logsumexp(log_kappa) - np.log(n))
    for estimator in ("paper", "code"):  # single sums: log-sum-exp all the way
        ours = conditional_cs_divergence(x, t[:, 0], t[:, 1], sigma=sigma, estimator=estimator)
        assert ours == pytest.approx(expected, rel=1e-10)  # a difference of logs near 1e4
    # the embedding form goes through a matrix product of shifted exponentials, whose
    # entries below 1e-300 of their row and column maxima are floored (TINY): finite, and
    # on the right side of the limit, but not exact this far out
    embedding = conditional_cs_divergence(x, t[:, 0], t[:, 1], sigma=sigma)
    assert 0 < embedding <= expected * (1 + 1e-12)
    # a shift by 1 in each of 5 dimensions: D = 2 * 5 / (2 sigma^2)
    assert cs_divergence(x, x + 1, sigma=sigma) == pytest.approx(5 / sigma**2, rel=1e-12)


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


def _weighted_and_repeated(rng, n=15):
    """Random paired samples, integer weights (some 0) and the rows repeated by them."""
    x, y, t = rng.normal(size=(n, 3)), rng.normal(size=(n, 2)), rng.normal(size=(n, 4))
    y_pred = y + rng.normal(0, 0.7, size=y.shape)
    w = rng.integers(0, 4, size=n).astype(float)
    w[0] = 0.0
    repeat = np.repeat(np.arange(n), w.astype(int))
    return (x, y, y_pred, t), w, repeat


def _cs_values(x, y, y_pred, t, ops, log_weight=None):
    """Every estimator of the family on one sample (the sample weighted by ``log_weight``)."""
    values = [cs_divergence_from_samples(y, y_pred, 0.8, ops, log_weight, log_weight)]
    for estimator in ("embedding", "paper", "code"):
        values.append(
            conditional_cs_divergence_from_samples(
                x, y, y_pred, 1.3, 0.8, estimator, ops, log_weight
            )
        )
    for normalized in (False, True):
        values.append(
            cs_mutual_information_from_samples(x, t, 1.3, 0.9, normalized, ops, log_weight)
        )
    return np.array([float(v) for v in values])


def test_integer_weights_equal_repeated_rows(rng):
    # V-statistics (the diagonal i = j included): repeating a row w times is weighting it
    # by w, exactly; a weight of 0 is dropping the row
    for _ in range(5):
        arrays, w, repeat = _weighted_and_repeated(rng)
        with np.errstate(divide="ignore"):
            weighted = _cs_values(*arrays, NUMPY, np.log(w))
        repeated = _cs_values(*(a[repeat] for a in arrays), NUMPY)
        np.testing.assert_allclose(weighted, repeated, rtol=1e-10, atol=1e-12)
        keep = w > 0
        dropped = _cs_values(*(a[keep] for a in arrays), NUMPY, np.log(w[keep]))
        np.testing.assert_allclose(weighted, dropped, rtol=1e-10, atol=1e-12)
        # equal weights, of any size, are no weights
        same = _cs_values(*arrays, NUMPY, np.full(len(w), np.log(2.5)))
        np.testing.assert_allclose(same, _cs_values(*arrays, NUMPY), rtol=1e-10, atol=1e-12)


torch = pytest.importorskip("torch")


def test_torch_weighted_estimators_equal_repeated_rows(rng):
    from sklearn_losses.information_bottleneck import _nets

    arrays, w, repeat = _weighted_and_repeated(rng)
    keep = w > 0  # the regressor drops rows of weight 0 before training
    x, y, y_pred, t = (torch.as_tensor(a[keep]) for a in arrays)
    weight = torch.as_tensor(w[keep])
    xr, yr, pr, tr = (torch.as_tensor(a[repeat]) for a in arrays)
    for estimator in ("embedding", "paper", "code"):
        widths = {"sigma_x": 1.3, "sigma_y": 0.8, "estimator": estimator}
        ours = _nets.conditional_cs_divergence(x, y, y_pred, sample_weight=weight, **widths)
        expected = _nets.conditional_cs_divergence(xr, yr, pr, **widths)
        assert float(ours) == pytest.approx(float(expected), rel=1e-10)
    for normalized in (False, True):
        widths = {"sigma_x": 1.3, "sigma_t": 0.9, "normalized": normalized}
        ours = _nets.cs_mutual_information(x, t, sample_weight=weight, **widths)
        expected = _nets.cs_mutual_information(xr, tr, **widths)
        assert float(ours) == pytest.approx(float(expected), rel=1e-10)


def test_torch_twin_agrees_with_numpy(rng):
    from sklearn_losses.information_bottleneck import _nets
    from sklearn_losses.information_bottleneck._loss import cs_divergence_from_samples

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
