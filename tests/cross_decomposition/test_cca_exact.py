"""Exact CCA and the Eckart-Young loss against independent routes."""

import numpy as np
import pytest
from scipy.linalg import eigh
from sklearn.cross_decomposition import PLSSVD
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.cross_decomposition import CCA, eckart_young_gradient, eckart_young_loss
from sklearn_losses.datasets import make_multiview


@pytest.fixture(scope="module")
def views():
    return make_multiview(
        3000, (12, 9), correlations=(0.9, 0.7, 0.5), condition_number=10, random_state=0
    )


def qr_svd_correlations(X, Y, k):
    """Canonical correlations by QR-whitening each view and an SVD (Bjorck-Golub)."""
    Qx, _ = np.linalg.qr(X - X.mean(0))
    Qy, _ = np.linalg.qr(Y - Y.mean(0))
    return np.linalg.svd(Qx.T @ Qy, compute_uv=False)[:k]


def test_correlations_equal_qr_svd(views):
    X, Y = views
    cca = CCA(n_components=5).fit(X, Y)
    np.testing.assert_allclose(cca.canonical_correlations_, qr_svd_correlations(X, Y, 5), atol=1e-8)


def test_scores_are_canonical(views):
    X, Y = views
    x_scores, y_scores = CCA(n_components=4).fit_transform(X, Y)
    np.testing.assert_allclose(np.cov(x_scores.T), np.eye(4), atol=1e-8)
    np.testing.assert_allclose(np.cov(y_scores.T), np.eye(4), atol=1e-8)
    cross = np.cov(x_scores.T, y_scores.T)[:4, 4:]
    np.testing.assert_allclose(cross, np.diag(np.diag(cross)), atol=1e-8)
    assert np.all(np.diff(np.diag(cross)) <= 0)


def test_invariant_to_invertible_mixing(views, rng):
    X, Y = views
    Mx, My = rng.normal(size=(12, 12)), rng.normal(size=(9, 9))
    a = CCA(n_components=3, scale=False).fit(X, Y)
    b = CCA(n_components=3, scale=False).fit(X @ Mx, Y @ My)
    np.testing.assert_allclose(a.canonical_correlations_, b.canonical_correlations_, atol=1e-8)
    np.testing.assert_allclose(np.abs(a.transform(X)), np.abs(b.transform(X @ Mx)), atol=1e-6)


def test_regularization_one_is_pls_svd(views):
    X, Y = views
    ours = CCA(n_components=3, regularization=1.0).fit(X, Y)
    theirs = PLSSVD(n_components=3).fit(X, Y)
    ox, oy = ours.transform(X, Y)
    tx, ty = theirs.transform(X, Y)
    signs = np.sign(np.sum(ox * tx, axis=0))
    np.testing.assert_allclose(ox * signs, tx, atol=1e-8)
    np.testing.assert_allclose(oy * signs, ty, atol=1e-8)


def test_loss_at_solution_is_minus_sum_of_squared_eigenvalues(views):
    X, Y = views
    for c in (0.0, 0.4):
        cca = CCA(n_components=3, regularization=c).fit(X, Y)
        Xs = (X - cca.x_mean_) / cca.x_std_
        Ys = (Y - cca.y_mean_) / cca.y_std_
        # minimisers are U_K Lambda^{1/2}; the stacked eigenvector [w_x; w_y] / sqrt(2) is
        # B-orthonormal because each view's weights are
        root = np.sqrt(cca.eigenvalues_ / 2)
        loss = eckart_young_loss(
            Xs, Ys, cca.x_weights_ * root, cca.y_weights_ * root, regularization=c
        )
        assert loss == pytest.approx(-np.sum(cca.eigenvalues_**2), rel=1e-8)
        n, p = len(Xs) - 1, Xs.shape[1]
        Z = np.hstack([Xs, Ys])
        C = Z.T @ Z / n
        A = C.copy()
        A[:p, :p] = 0
        A[p:, p:] = 0
        B = (1 - c) * C + c * np.eye(len(C))
        B[:p, p:] = 0
        B[p:, :p] = 0
        top = eigh(A, B, eigvals_only=True)[::-1][:3]
        np.testing.assert_allclose(cca.eigenvalues_, top, rtol=1e-8)


@pytest.mark.parametrize("c", [0.0, 0.5, 1.0])
def test_gradient_matches_finite_differences(c, views, rng):
    X, Y = views
    X, Y = X - X.mean(0), Y - Y.mean(0)
    Wx, Wy = rng.normal(size=(12, 2)) * 0.1, rng.normal(size=(9, 2)) * 0.1
    second = (X[:500], Y[:500])
    gx, gy = eckart_young_gradient(X[500:], Y[500:], Wx, Wy, regularization=c, second_batch=second)
    h = 1e-6
    for W, g, which in ((Wx, gx, 0), (Wy, gy, 1)):
        for i, j in ((0, 0), (3, 1), (5, 0)):
            up, down = W.copy(), W.copy()
            up[i, j] += h
            down[i, j] -= h
            args = [(up, Wy), (down, Wy)] if which == 0 else [(Wx, up), (Wx, down)]
            values = [
                eckart_young_loss(X[500:], Y[500:], *w, regularization=c, second_batch=second)
                for w in args
            ]
            assert g[i, j] == pytest.approx((values[0] - values[1]) / (2 * h), rel=1e-5, abs=1e-8)


def test_two_batch_estimate_is_unbiased_and_one_batch_is_not(rng):
    """Monte Carlo over batches drawn from a known population (the two views below)."""
    p = 4
    cov = np.eye(2 * p)
    cov[:p, p:] = cov[p:, :p] = np.diag([0.8, 0.5, 0.2, 0.0])
    Wx, Wy = rng.normal(size=(p, 2)) * 0.5, rng.normal(size=(p, 2)) * 0.5
    A = np.zeros_like(cov)
    A[:p, p:], A[p:, :p] = cov[:p, p:], cov[p:, :p]
    U = np.vstack([Wx, Wy])
    V = U.T @ cov @ U  # B = blockdiag of cov's diagonal blocks = I here
    population = -2 * np.trace(U.T @ A @ U) + np.sum(V * V)
    chol = np.linalg.cholesky(cov)
    two, one = [], []
    for _ in range(4000):
        a = rng.standard_normal((10, 2 * p)) @ chol.T
        b = rng.standard_normal((10, 2 * p)) @ chol.T
        a -= a.mean(0)
        b -= b.mean(0)
        two.append(eckart_young_loss(a[:, :p], a[:, p:], Wx, Wy, second_batch=(b[:, :p], b[:, p:])))
        one.append(eckart_young_loss(a[:, :p], a[:, p:], Wx, Wy))
    two, one = np.array(two), np.array(one)
    assert abs(two.mean() - population) <= 3 * two.std(ddof=1) / np.sqrt(len(two))
    assert one.mean() - population > 3 * one.std(ddof=1) / np.sqrt(len(one))


def test_rank_deficient_view_warns_and_regularization_handles_p_greater_than_n(rng):
    X = rng.normal(size=(30, 50))
    Y = X[:, :5] + 0.1 * rng.normal(size=(30, 5))
    with pytest.warns(UserWarning, match="rank deficient"):
        CCA(n_components=2).fit(X, Y)
    reg = CCA(n_components=2, regularization=0.5).fit(X, Y)
    assert np.all(np.isfinite(reg.x_weights_))


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda X, Y: CCA(n_components=10).fit(X, Y), "n_components=10 must be <="),
        (lambda X, Y: CCA().fit(X, Y[:-1]), "same number of rows"),
        (lambda X, Y: CCA().fit(np.where(X > 2, np.nan, X), Y), "NaN"),
        (lambda X, Y: CCA().fit(X, None), "requires y"),
    ],
)
def test_bad_input(call, match, views):
    X, Y = views
    with pytest.raises(ValueError, match=match):
        call(X, Y)


def test_one_dimensional_y_is_one_column_and_constant_columns_are_harmless(views):
    X, Y = views
    cca = CCA(n_components=1).fit(X, Y[:, 0])
    assert cca.predict(X).shape == (len(X),)
    Xc = np.column_stack([X, np.ones(len(X))])
    with pytest.warns(UserWarning, match="rank deficient"):
        const = CCA(n_components=2).fit(Xc, Y)
    np.testing.assert_allclose(
        const.canonical_correlations_,
        CCA(n_components=2).fit(X, Y).canonical_correlations_,
        atol=1e-8,
    )


def test_pipeline_and_grid_search_by_held_out_correlation(views):
    X, Y = views
    search = GridSearchCV(CCA(n_components=2), {"regularization": [0.0, 0.5, 1.0]}, cv=3)
    search.fit(X, Y)
    assert search.best_params_["regularization"] == 0.0  # CCA maximises correlation
    pipe = make_pipeline(StandardScaler(), CCA(n_components=2)).fit(X, Y)
    assert pipe.transform(X).shape == (len(X), 2)
    assert pipe.score(X, Y) > 0.7
