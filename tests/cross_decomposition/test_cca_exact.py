"""Exact CCA and the Eckart-Young loss against independent routes."""

import numpy as np
import pytest
from scipy.linalg import eigh
from sklearn.cross_decomposition import PLSSVD, PLSRegression
from sklearn.linear_model import LinearRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.cross_decomposition import (
    CCA,
    eckart_young_gradient,
    eckart_young_loss,
    paired_correlations,
)
from sklearn_losses.datasets import make_multiview


@pytest.fixture(scope="module")
def views():
    """Shared by the module's tests: read-only, so no test can change it for the next."""
    X, Y = make_multiview(
        3000, (12, 9), correlations=(0.9, 0.7, 0.5), condition_number=10, random_state=0
    )
    X.setflags(write=False)
    Y.setflags(write=False)
    return X, Y


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
    c = 0.5
    reg = CCA(n_components=2, regularization=c).fit(X, Y)
    # the ridge problem is well posed: its eigenvalues are those of scipy's generalised solver
    Z = np.hstack([(X - X.mean(0)) / X.std(0, ddof=1), (Y - Y.mean(0)) / Y.std(0, ddof=1)])
    C = Z.T @ Z / (len(Z) - 1)
    A, B = C.copy(), (1 - c) * C + c * np.eye(len(C))
    A[:50, :50] = A[50:, 50:] = B[:50, 50:] = B[50:, :50] = 0
    np.testing.assert_allclose(reg.eigenvalues_, eigh(A, B, eigvals_only=True)[::-1][:2], rtol=1e-8)
    assert np.all(reg.canonical_correlations_ < 0.999)  # c = 0 would give 1 (degenerate)


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


# -- coef_ and intercept_ as scikit-learn's PLS estimators -------------------------------
def _per_component_prediction(cca, X, Y):
    """The predictor before coef_ moved to scikit-learn's layout, from public attributes.

    For each X score, the least-squares regression of the standardized Y on it, summed,
    then put back on Y's scale.
    """
    Tx = cca.transform(X)
    Ys = (Y - cca.y_mean_) / cca.y_std_
    n = len(X) - 1
    slopes = (Tx.T @ Ys / n) / Tx.var(axis=0, ddof=1)[:, None]
    return Tx @ slopes * cca.y_std_ + cca.y_mean_


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("c", [0.0, 0.3, 1.0])
def test_coef_and_intercept_act_on_the_original_x(c, scale, views):
    X, Y = views
    X = X * np.arange(1, 13) + 5.0  # columns far from centred and unit variance
    cca = CCA(n_components=3, regularization=c, scale=scale).fit(X, Y)
    assert cca.coef_.shape == (9, 12) and cca.intercept_.shape == (9,)
    np.testing.assert_allclose(cca.predict(X), X @ cca.coef_.T + cca.intercept_, rtol=1e-12)
    np.testing.assert_allclose(cca.predict(X), _per_component_prediction(cca, X, Y), atol=1e-10)
    one = CCA(n_components=1, regularization=c, scale=scale).fit(X, Y[:, 0])
    assert one.coef_.shape == (1, 12) and one.intercept_.shape == (1,)
    assert one.predict(X).shape == (len(X),)


@pytest.mark.parametrize("scale", [True, False])
def test_coef_with_every_component_is_least_squares_as_in_pls_regression(scale, views):
    """With as many components as X has features, the scores span X: predict is OLS.

    scikit-learn's PLSRegression with all components is OLS too, and shares the
    layout (n_targets, n_features) on the original X (its intercept_ is y's mean and its
    predict centres X; ours folds the centring into intercept_).
    """
    X, Y = views
    X, Y = X[:, :6] * np.arange(1, 7) + 2.0, Y[:, :8]  # 6 <= 8: all of X's directions
    ours = CCA(n_components=6, scale=scale).fit(X, Y)
    ols = LinearRegression().fit(X, Y)
    pls = PLSRegression(n_components=6, scale=scale).fit(X, Y)
    np.testing.assert_allclose(ours.coef_, ols.coef_, atol=1e-10)
    np.testing.assert_allclose(ours.intercept_, ols.intercept_, atol=1e-10)
    np.testing.assert_allclose(ours.coef_, pls.coef_, atol=1e-8)
    np.testing.assert_allclose(ours.predict(X), pls.predict(X), atol=1e-8)


def test_paired_correlations_is_public_and_validated(views, rng):
    X, Y = views
    cca = CCA(n_components=3).fit(X, Y)
    np.testing.assert_allclose(
        paired_correlations(*cca.transform(X, Y)), cca.canonical_correlations_, atol=1e-12
    )
    a, b = rng.normal(size=50), rng.normal(size=50)
    expected = np.corrcoef(a, b)[0, 1]
    np.testing.assert_allclose(paired_correlations(a, b), [expected])
    np.testing.assert_allclose(paired_correlations(a.tolist(), b), [expected])
    np.testing.assert_array_equal(paired_correlations(np.ones((5, 1)), b[:5, None]), [0.0])
    with pytest.raises(ValueError, match="same shape"):
        paired_correlations(np.ones((5, 2)), np.ones((5, 3)))


# -- sample_weight ------------------------------------------------------------------------
FITTED = (
    "x_weights_",
    "y_weights_",
    "x_loadings_",
    "y_loadings_",
    "canonical_correlations_",
    "eigenvalues_",
    "coef_",
    "intercept_",
    "x_mean_",
    "x_std_",
    "y_mean_",
    "y_std_",
)


SIGNED = ("x_weights_", "y_weights_", "x_loadings_", "y_loadings_")  # a component's sign is free


def _assert_same_fit(a, b, X, Y, atol=1e-8):
    signs = np.sign(np.sum(a.x_weights_ * b.x_weights_, axis=0))
    for name in FITTED:
        got = getattr(a, name) * (signs if name in SIGNED else 1)
        np.testing.assert_allclose(got, getattr(b, name), atol=atol, err_msg=name)
    for got, want in zip(a.transform(X, Y), b.transform(X, Y)):
        np.testing.assert_allclose(got * signs, want, atol=atol)
    np.testing.assert_allclose(a.predict(X), b.predict(X), atol=atol)


@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("c", [0.0, 0.5, 1.0])
def test_integer_weights_equal_repeated_rows(c, scale, views, rng):
    X, Y = views[0][:400] * 3.0 + 1.0, views[1][:400]
    weights = rng.integers(1, 4, size=len(X))
    rows = np.repeat(np.arange(len(X)), weights)
    weighted = CCA(n_components=3, regularization=c, scale=scale).fit(X, Y, sample_weight=weights)
    repeated = CCA(n_components=3, regularization=c, scale=scale).fit(X[rows], Y[rows])
    _assert_same_fit(weighted, repeated, X, Y)
    # weights are not a constant factor: equal weights 2 are not the unweighted fit
    unweighted = CCA(n_components=3, regularization=c, scale=scale).fit(X, Y)
    assert not np.allclose(weighted.x_weights_, unweighted.x_weights_, atol=1e-6)


def test_zero_weights_drop_rows_and_unit_weights_change_nothing(views, rng):
    X, Y = views[0][:500], views[1][:500]
    weights = (rng.random(len(X)) > 0.3).astype(float)
    kept = weights > 0
    for c in (0.0, 0.4):
        weighted = CCA(n_components=3, regularization=c).fit(X, Y, sample_weight=weights)
        dropped = CCA(n_components=3, regularization=c).fit(X[kept], Y[kept])
        _assert_same_fit(weighted, dropped, X, Y)
    ones = CCA().fit(X, Y, sample_weight=np.ones(len(X)))
    _assert_same_fit(ones, CCA().fit(X, Y), X, Y, atol=1e-12)
    x_scores, _ = CCA(n_components=2).fit_transform(X, Y, sample_weight=weights)
    np.testing.assert_allclose(
        np.abs(x_scores), np.abs(CCA(n_components=2).fit(X[kept], Y[kept]).transform(X)), atol=1e-8
    )
    # None resolves with the rows of positive weight: min(12, 9, 3 - 1)
    few = np.zeros(len(X))
    few[:3] = 1.0
    with pytest.warns(UserWarning, match="rank deficient"):
        assert CCA().fit(X, Y, sample_weight=few).n_components_ <= 2


@pytest.mark.parametrize(
    "sample_weight, match",
    [
        (lambda n: np.ones(n - 1), r"CCA: sample_weight.shape == \(2999,\), expected"),
        (lambda n: -np.ones(n), "CCA: Negative values"),
        (lambda n: np.full(n, np.nan), "CCA: Input sample_weight contains NaN"),
        (lambda n: np.zeros(n), "CCA: Sample weights must contain at least one non-zero"),
        (lambda n: np.full(n, 0.5 / n), "sum to more than 1"),
        (lambda n: np.eye(1, n, 0).ravel() * 5, "at least 2 rows of positive sample_weight"),
    ],
)
def test_sample_weight_is_validated(sample_weight, match, views):
    X, Y = views
    with pytest.raises(ValueError, match=match):
        CCA(n_components=1).fit(X, Y, sample_weight=sample_weight(len(X)))


# -- one definition of the Eckart-Young loss: NumPy, numba and torch agree -----------------
def _centred_batch(rng, n=40, p=5, q=4, k=3, sample_weight=None):
    X, Y = rng.normal(size=(n, p)), rng.normal(size=(n, q))
    X[:, 1] += Y[:, 0]  # some correlation
    w = np.ones(n) if sample_weight is None else sample_weight
    X, Y = X - w @ X / w.sum(), Y - w @ Y / w.sum()
    return X, Y, 0.3 * rng.normal(size=(p, k)), 0.3 * rng.normal(size=(q, k))


def _kernel_step(X, Y, Wx, Wy, c, sample_weight=None, lr=1e-3):
    """One full-batch step of the numba kernel: its loss and its gradient."""
    from sklearn_losses.cross_decomposition._kernels import ey_epoch

    a, b, order = Wx.copy(), Wy.copy(), np.arange(len(X))
    loss = ey_epoch(X, Y, a, b, order, order, len(X), lr, c, False, sample_weight=sample_weight)
    return loss, (Wx - a) / lr, (Wy - b) / lr, a, b


@pytest.mark.parametrize("weighted", [False, True])
def test_numba_torch_and_numpy_losses_agree_on_one_batch(weighted, rng):
    torch = pytest.importorskip("torch")
    from sklearn_losses.cross_decomposition._nets import batch_eckart_young

    w = rng.integers(0, 4, size=40).astype(float) if weighted else None
    X, Y, Wx, Wy = _centred_batch(rng, sample_weight=w)
    numpy_loss = eckart_young_loss(X, Y, Wx, Wy, sample_weight=w)
    numba_loss = _kernel_step(X, Y, Wx, Wy, 0.0, w)[0]
    t = None if w is None else torch.as_tensor(w)
    torch_loss = float(batch_eckart_young(torch.as_tensor(X @ Wx), torch.as_tensor(Y @ Wy), t))
    assert numba_loss == pytest.approx(numpy_loss, rel=1e-10, abs=1e-12)
    assert torch_loss == pytest.approx(numpy_loss, rel=1e-10, abs=1e-12)
    for c in (0.5, 1.0):  # the ridge part (numba and NumPy; the nets have no ridge)
        assert _kernel_step(X, Y, Wx, Wy, c, w)[0] == pytest.approx(
            eckart_young_loss(X, Y, Wx, Wy, regularization=c, sample_weight=w), rel=1e-10
        )


@pytest.mark.parametrize("c", [0.0, 0.5, 1.0])
def test_kernel_gradient_is_the_gradient_of_the_loss(c, rng):
    """The kernel's hand-written gradient against eckart_young_gradient, weighted too."""
    w = rng.integers(0, 4, size=40).astype(float)
    X, Y, Wx, Wy = _centred_batch(rng, sample_weight=w)
    for weights in (None, w):
        _, gx, gy, _, _ = _kernel_step(X, Y, Wx, Wy, c, weights)
        ex, ey = eckart_young_gradient(X, Y, Wx, Wy, regularization=c, sample_weight=weights)
        np.testing.assert_allclose(gx, ex, rtol=1e-7, atol=1e-9)
        np.testing.assert_allclose(gy, ey, rtol=1e-7, atol=1e-9)


@pytest.mark.parametrize("c", [0.0, 0.5])
def test_weighted_gradient_matches_finite_differences(c, rng):
    w = rng.random(40) * 3
    X, Y, Wx, Wy = _centred_batch(rng, sample_weight=w)
    gx, _ = eckart_young_gradient(X, Y, Wx, Wy, regularization=c, sample_weight=w)
    h = 1e-6
    for i, j in ((0, 0), (2, 1), (4, 2)):
        up, down = Wx.copy(), Wx.copy()
        up[i, j] += h
        down[i, j] -= h
        values = [
            eckart_young_loss(X, Y, W, Wy, regularization=c, sample_weight=w) for W in (up, down)
        ]
        assert gx[i, j] == pytest.approx((values[0] - values[1]) / (2 * h), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("unbiased", [False, True])
@pytest.mark.parametrize("c", [0.0, 0.5])
def test_kernel_integer_weights_equal_repeated_rows_on_a_batch(c, unbiased, rng):
    from sklearn_losses.cross_decomposition._kernels import ey_epoch

    w = rng.integers(0, 4, size=40).astype(float)
    X, Y, Wx, Wy = _centred_batch(rng, sample_weight=w)
    rows = np.repeat(np.arange(40), w.astype(int))
    a, b = Wx.copy(), Wy.copy()
    order = np.arange(40)
    loss = ey_epoch(X, Y, a, b, order, order[::-1].copy(), 40, 1e-2, c, unbiased, sample_weight=w)
    a2, b2 = Wx.copy(), Wy.copy()
    order = np.arange(len(rows))
    loss2 = ey_epoch(
        np.ascontiguousarray(X[rows]),
        np.ascontiguousarray(Y[rows]),
        a2,
        b2,
        order,
        order[::-1].copy(),
        len(rows),
        1e-2,
        c,
        unbiased,
    )
    assert loss == pytest.approx(loss2, rel=1e-10)
    np.testing.assert_allclose(a, a2, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, b2, rtol=1e-10, atol=1e-12)
    # and the weights matter
    a3 = Wx.copy()
    ey_epoch(X, Y, a3, Wy.copy(), np.arange(40), np.arange(40), 40, 1e-2, c, unbiased)
    assert not np.allclose(a3, a)


def test_kernel_skips_batches_without_covariance_and_checks_weights(rng):
    from sklearn_losses.cross_decomposition._kernels import ey_epoch

    X, Y, Wx, Wy = _centred_batch(rng)
    w = np.ones(40)
    w[:20] = 0.0  # the first batch of 20 rows has no weight: skipped
    a, b, order = Wx.copy(), Wy.copy(), np.arange(40)
    loss = ey_epoch(X, Y, a, b, order, order, 20, 1e-2, 0.0, False, sample_weight=w)
    a2, b2, order2 = Wx.copy(), Wy.copy(), np.arange(20)
    X2, Y2 = np.ascontiguousarray(X[20:]), np.ascontiguousarray(Y[20:])
    assert loss == ey_epoch(X2, Y2, a2, b2, order2, order2, 20, 1e-2, 0.0, False)
    np.testing.assert_array_equal(a, a2)
    for bad, match in [
        (np.ones(39), "length 40"),
        (np.ones((40, 1)), "length 40"),
        (-w, "nonnegative"),
        (np.where(w > 0, np.nan, 0.0), "finite"),
        (np.array(["a"] * 40), "numeric"),
    ]:
        with pytest.raises(ValueError, match=match):
            ey_epoch(X, Y, Wx, Wy, order, order, 20, 1e-2, 0.0, False, sample_weight=bad)


# -- issue 15: the fit from sufficient statistics --------------------------------------
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("c", [0.0, 0.5, 1.0])
def test_attributes_from_covariances_equal_their_data_definitions(c, weighted, views, rng):
    """The fit never forms the scores: check each attribute against the data it describes."""
    X, Y = views
    w = rng.uniform(0, 3, size=len(X)) if weighted else np.ones(len(X))
    cca = CCA(n_components=4, regularization=c).fit(X, Y, sample_weight=w if weighted else None)
    n = w.sum() - 1
    mean_x, mean_y = w @ X / w.sum(), w @ Y / w.sum()
    std_x = np.sqrt(w @ (X - mean_x) ** 2 / n)
    std_y = np.sqrt(w @ (Y - mean_y) ** 2 / n)
    np.testing.assert_allclose(cca.x_mean_, mean_x, rtol=1e-12)
    np.testing.assert_allclose(cca.y_std_, std_y, rtol=1e-12)
    Xs, Ys = (X - mean_x) / std_x, (Y - mean_y) / std_y
    Tx, Ty = Xs @ cca.x_weights_, Ys @ cca.y_weights_
    np.testing.assert_allclose(cca.transform(X), Tx, atol=1e-10)
    var_x, var_y = w @ Tx**2 / n, w @ Ty**2 / n
    np.testing.assert_allclose(
        cca.canonical_correlations_, w @ (Tx * Ty) / n / np.sqrt(var_x * var_y), atol=1e-10
    )
    np.testing.assert_allclose(cca.x_loadings_, (Xs * w[:, None]).T @ Tx / n / var_x, atol=1e-10)
    np.testing.assert_allclose(cca.y_loadings_, (Ys * w[:, None]).T @ Ty / n / var_y, atol=1e-10)
    # coef_: per component, the weighted least squares of the standardized Y on the X score
    slopes = (Tx * w[:, None]).T @ Ys / n / var_x[:, None]
    coef = (cca.x_weights_ @ slopes * std_y / std_x[:, None]).T
    np.testing.assert_allclose(cca.coef_, coef, atol=1e-10)
    if c == 0:  # canonical form: unit variance, uncorrelated scores
        np.testing.assert_allclose((Tx * w[:, None]).T @ Tx / n, np.eye(4), atol=1e-10)


def test_signs_are_fixed_so_row_order_and_blocks_do_not_matter(views, rng):
    """Each component's largest x weight is positive: a permutation of the rows (other
    rounding in the statistics) gives the same fit, not one with flipped components."""
    X, Y = views
    order = rng.permutation(len(X))
    for c in (0.0, 1.0):
        a = CCA(regularization=c).fit(X, Y)
        b = CCA(regularization=c).fit(X[order], Y[order])
        for name in ("x_weights_", "y_weights_", "x_loadings_", "coef_"):
            np.testing.assert_allclose(getattr(b, name), getattr(a, name), atol=1e-10)
        largest = a.x_weights_[np.abs(a.x_weights_).argmax(0), np.arange(a.n_components_)]
        assert np.all(largest > 0)


def test_blockwise_statistics_are_stable_and_exact(rng):
    from sklearn_losses.cross_decomposition._statistics import merge_moments, view_moments

    X = rng.normal(size=(1000, 3)) + 1e5  # an offset: raw sums of squares lose 10 digits
    Y = rng.normal(size=(1000, 2))
    w = rng.uniform(0, 2, size=1000)
    w[:300] = 0.0  # whole blocks of zero weight
    Z = np.hstack([X, Y])
    mean = w @ Z / w.sum()
    expected = ((Z - mean) * w[:, None]).T @ (Z - mean)
    for block_rows in (7, 128, 5000):
        moments = view_moments(X, Y, sample_weight=w, block_rows=block_rows)
        assert moments.weight == pytest.approx(w.sum(), rel=1e-13)
        assert moments.n_positive == 700
        np.testing.assert_allclose(moments.mean, mean, rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(moments.comoment, expected, rtol=1e-9, atol=1e-9)
    halves = merge_moments(view_moments(X[:400], Y[:400]), view_moments(X[400:], Y[400:]))
    np.testing.assert_allclose(halves.comoment, np.cov(Z.T) * 999, rtol=1e-9)


def test_in_memory_fit_needs_little_more_memory_than_its_input():
    """Peak extra memory of a fit on NumPy input: at most half the input (issue 15).

    The statistics are merged block by block and the rest of the fit works on
    (p + q)^2 covariances: no standardized copy of the data is made (it was 1.7x
    the input before, 2.2x with weights).
    """
    import tracemalloc

    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 25))
    Y = 0.5 * X + rng.normal(size=(200_000, 25))
    w = rng.random(200_000)
    for sample_weight in (None, w):
        tracemalloc.start()
        try:
            before = tracemalloc.get_traced_memory()[0]
            CCA(n_components=5).fit(X, Y, sample_weight=sample_weight)
            peak = tracemalloc.get_traced_memory()[1] - before
        finally:
            tracemalloc.stop()
        assert peak <= 0.5 * (X.nbytes + Y.nbytes), peak / (X.nbytes + Y.nbytes)
