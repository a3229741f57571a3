"""PRESTO and proportional odds against independent routes."""

import itertools
import warnings

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.special import expit
from scipy.stats import gumbel_l, logistic, norm
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from sklearn_losses.datasets import make_presto_data
from sklearn_losses.ordinal import PRESTOClassifier, ProportionalOddsClassifier
from sklearn_losses.ordinal import _kernels as kernels
from sklearn_losses.ordinal._kernels import LINKS, FusedLikelihood, nll_and_gradient
from sklearn_losses.ordinal._loss import CDFS, CumulativeLinkLoss
from sklearn_losses.ordinal._loss import cumulative_link_nll as nll_numpy


@pytest.mark.parametrize(
    "link, distribution", [("logit", logistic), ("probit", norm), ("cloglog", gumbel_l)]
)
def test_reference_cdfs_are_the_links_distributions(link, distribution):
    x = np.linspace(-30, 30, 601)
    np.testing.assert_allclose(CDFS[link](x), distribution.cdf(x), rtol=1e-12, atol=1e-300)


@pytest.mark.parametrize("link", sorted(LINKS))
def test_kernel_backed_loss_equals_the_reference_definition(link, rng):
    """CumulativeLinkLoss (numba) against cumulative_link_nll (NumPy), value and gradient."""
    X, y, _ = make_presto_data(n_samples=80, n_features=3, random_state=1)
    w = rng.uniform(0.5, 2, size=80)
    w[:5] = 0.0  # zero-weight rows count for nothing in both
    a = np.array([-1.0, 0.5, 2.0])
    B = rng.normal(scale=0.1, size=(3, 3))
    loss = CumulativeLinkLoss(X, y.astype(np.int64), w, LINKS[link])
    value, grad_a, grad_B = loss.value_and_gradient(a, B)
    assert value == pytest.approx(nll_numpy(a, B, X, y, link, w), rel=1e-12)
    h = 1e-6
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        fd = (nll_numpy(a + e, B, X, y, link, w) - nll_numpy(a - e, B, X, y, link, w)) / (2 * h)
        assert grad_a[k] == pytest.approx(fd, rel=1e-5, abs=1e-9)
        E = np.zeros_like(B)
        E[1, k] = h
        fd = (nll_numpy(a, B + E, X, y, link, w) - nll_numpy(a, B - E, X, y, link, w)) / (2 * h)
        assert grad_B[1, k] == pytest.approx(fd, rel=1e-5, abs=1e-9)
    crossed = a[[0, 2, 1]]  # the middle classes' brackets cross
    assert loss.value(crossed, B) == nll_numpy(crossed, B, X, y, link, w) == np.inf


@pytest.mark.parametrize("link", sorted(LINKS))
def test_fused_kernel_equals_the_blas_route(link, rng, monkeypatch):
    """One pass over X (the solvers' route) = predictors by BLAS, kernel, X.T @ G."""
    monkeypatch.setattr(kernels, "_MIN_ROWS_PER_THREAD", 10)  # 3 threads on 200 rows
    X = np.ascontiguousarray(rng.normal(size=(200, 7)))
    codes = rng.integers(0, 4, size=200)
    w = rng.uniform(0.5, 2, size=200)
    w[:9] = 0.0
    a = np.array([-1.0, 0.3, 1.5])
    fused = FusedLikelihood(X, codes, w, LINKS[link], 3)
    slopes = (rng.normal(scale=0.1, size=(7, 3)), rng.normal(scale=0.1, size=(7, 1)))
    for B, n_threads in itertools.product(slopes, (1, 3)):
        value, grad_a, grad_B = fused(a, B, n_threads)
        E = X @ B + a
        G = np.empty_like(E)
        expected = nll_and_gradient(E, codes, w, LINKS[link], G)
        assert value == pytest.approx(expected, rel=1e-12)
        np.testing.assert_allclose(grad_a, G.sum(axis=0), rtol=1e-11, atol=1e-12)
        expected_B = X.T @ G if B.shape[1] == 3 else X.T @ G.sum(axis=1, keepdims=True)
        np.testing.assert_allclose(grad_B, expected_B, rtol=1e-11, atol=1e-12)
    assert fused(a[[0, 2, 1]], B) == (np.inf, None, None)  # crossing brackets
    assert fused(a + [0.0, 0.0, 1e308], np.full((7, 1), 1e300))[0] == np.inf  # overflow
    with pytest.raises(ValueError, match="B must have shape"):
        fused(a, np.zeros((7, 2)))
    with pytest.raises(ValueError, match="finite"):
        fused(a, np.full((7, 3), np.nan))
    with pytest.raises(ValueError, match="C-contiguous float64"):
        FusedLikelihood(np.asfortranarray(X), codes, w, LINKS[link], 3)


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_presto_data(n_samples=600, random_state=3)
    return X, y


@pytest.mark.parametrize("link", sorted(LINKS))
def test_kernel_gradient_matches_finite_differences(link, rng):
    X, y, _ = make_presto_data(n_samples=50, n_features=3, random_state=0)
    E = np.sort(rng.normal(size=(50, 3)) * 2, axis=1) + [0, 1, 2]
    w = rng.uniform(0.5, 2, size=50)
    G = np.empty_like(E)
    value = nll_and_gradient(E, y.astype(np.int64), w, LINKS[link], G)
    h = 1e-6
    for i, k in [(0, 0), (3, 1), (7, 2), (11, 0), (20, 2)]:
        Ep = E.copy()
        Ep[i, k] += h
        Em = E.copy()
        Em[i, k] -= h
        fd = nll_and_gradient(
            Ep, y.astype(np.int64), w, LINKS[link], np.empty_like(E)
        ) - nll_and_gradient(Em, y.astype(np.int64), w, LINKS[link], np.empty_like(E))
        assert G[i, k] == pytest.approx(fd / (2 * h), rel=1e-5, abs=1e-8)
    # the kernel's sum against the reference's weighted mean, with E as the features
    eta_loss = w.sum() * nll_numpy(np.zeros(3), np.eye(3), E, y, link, w)
    assert value == pytest.approx(eta_loss, rel=1e-10)


def test_crossing_predictors_give_infinite_loss():
    E = np.array([[0.0, -1.0, 2.0]])
    G = np.empty_like(E)
    assert nll_and_gradient(E, np.array([1]), np.ones(1), 0, G) == np.inf
    # class 3 is bracketed by eta_2 = 2 alone: -log(1 - F(2)), whatever eta_0 > eta_1 does
    assert nll_and_gradient(E, np.array([3]), np.ones(1), 0, G) == pytest.approx(np.log1p(np.e**2))


@pytest.mark.parametrize("link, distr", [("logit", "logit"), ("probit", "probit")])
def test_proportional_odds_matches_statsmodels(data, link, distr):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    X, y = data
    ours = ProportionalOddsClassifier(link=link).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        theirs = OrderedModel(y, X, distr=distr).fit(
            method="bfgs", disp=False, maxiter=5000, gtol=1e-10
        )
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict(X), atol=1e-5)
    np.testing.assert_allclose(ours.coef_[:, 0], -theirs.params[: X.shape[1]], atol=1e-3)


def test_proportional_odds_cloglog_matches_brute_force(data):
    X, y = data
    ours = ProportionalOddsClassifier(link="cloglog").fit(X, y)

    def objective(theta):
        a = np.cumsum(np.r_[theta[0], np.exp(theta[1:3])])
        return nll_numpy(a, np.repeat(theta[3:, None], 3, axis=1), X, y, "cloglog")

    res = minimize(
        objective, np.r_[-1, 0, 0, np.zeros(X.shape[1])], method="BFGS", options={"gtol": 1e-9}
    )
    np.testing.assert_allclose(ours.coef_[:, 0], res.x[3:], atol=1e-4)
    assert (
        nll_numpy(ours.intercept_, np.repeat(ours.coef_, 3, axis=1), X, y, "cloglog")
        <= res.fun + 1e-9
    )


def test_large_alpha_without_first_penalty_is_proportional_odds(data):
    X, y = data
    presto = PRESTOClassifier(alpha=50.0, penalize_first=False, tol=1e-7).fit(X, y)
    po = ProportionalOddsClassifier(tol=1e-10).fit(X, y)
    np.testing.assert_allclose(presto.predict_proba(X), po.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(np.diff(presto.coef_, axis=1), 0, atol=1e-12)


def test_large_alpha_with_first_penalty_is_intercept_only(data):
    X, y = data
    presto = PRESTOClassifier(alpha=50.0).fit(X, y)
    np.testing.assert_array_equal(presto.coef_, 0)
    np.testing.assert_allclose(
        presto.predict_proba(X[:3]), np.tile(np.bincount(y) / len(y), (3, 1)), atol=1e-8
    )


def test_two_classes_equal_l1_logistic_regression(data):
    X, y = data
    yb = (y >= 1).astype(int)
    alpha = 0.01
    presto = PRESTOClassifier(alpha=alpha, tol=1e-7).fit(X, yb)
    scaler = StandardScaler().fit(X)
    lr = LogisticRegression(
        l1_ratio=1.0, C=1 / (len(yb) * alpha), solver="saga", tol=1e-10, max_iter=100_000
    ).fit(scaler.transform(X), yb)
    # P(y <= 0) = F(eta): the logistic coefficients of class 1 are -beta, on the standardized scale
    np.testing.assert_allclose(-presto.coef_[:, 0] * scaler.scale_, lr.coef_[0], atol=1e-5)
    np.testing.assert_allclose(
        presto.predict_proba(X)[:, 1], lr.predict_proba(scaler.transform(X))[:, 1], atol=1e-5
    )


def test_alpha_zero_is_the_unpenalised_non_parallel_mle():
    X, y, _ = make_presto_data(
        n_samples=400, n_features=3, intercepts=(-1.0, 0.5, 2.0), random_state=5
    )
    ours = PRESTOClassifier(alpha=0.0, tol=1e-8, max_iter=50_000).fit(X, y)

    def objective(theta):
        return nll_numpy(theta[:3], theta[3:].reshape(3, 3), X, y, "logit")

    start = np.r_[[-1.0, 0.5, 2.0], np.zeros(9)]
    res = minimize(objective, start, method="BFGS", options={"gtol": 1e-10, "maxiter": 10_000})
    np.testing.assert_allclose(ours.coef_, res.x[3:].reshape(3, 3), atol=1e-4)
    np.testing.assert_allclose(ours.intercept_, res.x[:3], atol=1e-4)


@pytest.mark.parametrize("penalize_first", [True, False])
def test_kkt_conditions_hold_by_finite_differences(data, penalize_first):
    X, y = data
    alpha = 0.004
    model = PRESTOClassifier(alpha=alpha, penalize_first=penalize_first, tol=1e-7).fit(X, y)
    scaler = StandardScaler().fit(X)
    Xs = scaler.transform(X)
    B = model.coef_ * scaler.scale_[:, None]
    a = model.intercept_ + scaler.mean_ @ model.coef_
    psi = np.diff(B, axis=1, prepend=0.0)

    def loss(a_, psi_):
        return nll_numpy(a_, np.cumsum(psi_, axis=1), Xs, y, "logit")

    h = 1e-6
    factor = np.ones_like(psi)
    factor[:, 0] = float(penalize_first)
    for j in range(psi.shape[0]):
        for k in range(psi.shape[1]):
            up, down = psi.copy(), psi.copy()
            up[j, k] += h
            down[j, k] -= h
            g = (loss(a, up) - loss(a, down)) / (2 * h)
            lam = alpha * factor[j, k]
            if psi[j, k] != 0:
                assert g + lam * np.sign(psi[j, k]) == pytest.approx(0, abs=1e-5)
            else:
                assert abs(g) <= lam + 1e-5
    for k in range(3):
        e = np.zeros(3)
        e[k] = h
        assert (loss(a + e, psi) - loss(a - e, psi)) / (2 * h) == pytest.approx(0, abs=1e-5)
    assert np.count_nonzero(psi[:, 1:]) < psi[:, 1:].size  # the penalty fuses something


def test_objective_decreases_along_solver_iterations(data):
    X, y = data
    objectives = []
    for max_iter in (1, 2, 4, 8, 16, 64):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            m = PRESTOClassifier(alpha=0.003, max_iter=max_iter, tol=1e-12).fit(X, y)
        psi = np.diff(m.coef_ * X.std(0)[:, None], axis=1, prepend=0.0)
        objectives.append(
            nll_numpy(m.intercept_, m.coef_, X, y, "logit") + 0.003 * np.abs(psi).sum()
        )
    assert all(b <= a + 1e-10 for a, b in zip(objectives, objectives[1:]))


@pytest.mark.parametrize("seed", [0, 4])
def test_active_ordering_constraints_reach_the_constrained_optimum(seed):
    """Unpenalised fits whose optimum crosses on training rows: compare with SLSQP."""
    X, y, _ = make_presto_data(
        n_samples=150, n_features=3, intercepts=(-1.0, 0.5, 2.0), effect=1.5, random_state=seed
    )
    n, p = X.shape
    ours = PRESTOClassifier(
        alpha=0.0, scale=False, tol=1e-8, max_iter=100_000, enforce_order=True
    ).fit(X, y)

    def unpack(theta):
        return theta[:3], theta[3:].reshape(p, 3)

    def objective(theta):
        a, B = unpack(theta)
        cum = np.column_stack([np.zeros(n), expit(X @ B + a), np.ones(n)])
        prob = cum[np.arange(n), y + 1] - cum[np.arange(n), y]
        return -np.mean(np.log(np.clip(prob, 1e-300, None)))

    def gaps(theta):
        a, B = unpack(theta)
        return np.diff(X @ B + a, axis=1).ravel()

    reference = minimize(
        objective,
        np.r_[-1.0, 0.5, 2.0, np.zeros(3 * p)],
        method="SLSQP",
        constraints=[{"type": "ineq", "fun": gaps}],
        options={"maxiter": 1000, "ftol": 1e-14},
    )
    theta = np.r_[ours.intercept_, ours.coef_.ravel()]
    assert np.sum(gaps(reference.x) < 1e-6) >= 1  # the constraint is active
    assert gaps(theta).min() >= 0  # training predictors stay ordered
    assert objective(theta) == pytest.approx(reference.fun, abs=1e-7)


def test_screened_path_equals_independent_solves():
    from sklearn_losses.ordinal._solver import PrestoProblem, kkt_violation

    X, y, _ = make_presto_data(n_samples=800, n_features=30, sparsity=0.1, random_state=4)
    Xs = np.ascontiguousarray(StandardScaler().fit_transform(X))
    codes, weight = y.astype(np.int64), np.ones(len(y))
    problem = PrestoProblem(Xs, codes, weight, 4, "logit", True)
    alpha_max, _ = problem.alpha_max()
    alphas = np.geomspace(alpha_max, alpha_max * 0.05, 8)
    screened = list(problem.path(alphas, tol=1e-8))
    n_zero_features = [np.sum(~np.any(psi != 0, axis=1)) for _, psi, _ in screened]
    assert max(n_zero_features[1:]) > 5  # the strong rule had features to drop
    for alpha, (a, psi, _) in zip(alphas, screened):
        fresh = PrestoProblem(Xs, codes, weight, 4, "logit", True)
        a_ref, psi_ref, *_ = fresh.solve(alpha, tol=1e-8, max_iter=50_000)
        # both stop at KKT <= 1e-8; the rare threshold is flat, so its parameters agree
        # to about 1e-5 only
        np.testing.assert_allclose(psi, psi_ref, atol=1e-4)
        np.testing.assert_allclose(a, a_ref, atol=1e-4)
        _, grad_a, grad_B = problem.loss.value_and_gradient(a, np.cumsum(psi, axis=1))
        grad_psi = np.cumsum(grad_B[:, ::-1], axis=1)[:, ::-1]
        assert kkt_violation(grad_a, grad_psi, psi, alpha * problem.factor) <= 1e-7
