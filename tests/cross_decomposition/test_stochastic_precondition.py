"""Preconditioned StochasticCCA: the same solution, reached whatever the views' conditioning."""

import warnings

import numpy as np
import pytest
import scipy.linalg
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.cross_decomposition import (
    CCA,
    StochasticCCA,
    eckart_young_gradient,
    eckart_young_loss,
    paired_correlations,
)
from sklearn_losses.cross_decomposition._kernels import ey_epoch
from sklearn_losses.datasets import make_multiview


@pytest.fixture(scope="module")
def ill():
    """Views mixed with condition number 300: covariance condition number about 7e4."""
    X, Y = make_multiview(2000, (12, 12), correlations=(0.9, 0.7), condition_number=300,
                          random_state=0)  # fmt: skip
    return X, Y


def _cosines(a, b):
    """|cos| between matching columns (canonical weights are defined up to sign)."""
    return np.abs((a * b).sum(axis=0)) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)


def _captured(sgd, exact):
    return sgd.canonical_correlations_.sum() / exact.canonical_correlations_.sum()


def test_views_are_ill_conditioned(ill):
    X, _ = ill
    eigvals = np.linalg.eigvalsh(np.corrcoef(X.T))
    assert eigvals[-1] / eigvals[0] > 1e4


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_preconditioned_sgd_reaches_the_exact_solution_where_plain_sgd_does_not(ill, seed):
    X, Y = ill
    exact = CCA(n_components=2).fit(X, Y)
    kw = {"n_components": 2, "batch_size": 100, "max_iter": 30, "random_state": seed}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the plain fit does not converge
        plain = StochasticCCA(**kw, precondition=False).fit(X, Y)
    fast = StochasticCCA(**kw).fit(X, Y)  # default: preconditioned, default tol
    assert _captured(plain, exact) < 0.6  # first-order steps on cond(B) ~ 7e4
    assert fast.n_iter_ < 30  # the stopping rule met, no warning
    assert _captured(fast, exact) > 0.999
    assert np.all(_cosines(fast.x_weights_, exact.x_weights_) > 0.999)
    assert np.all(_cosines(fast.y_weights_, exact.y_weights_) > 0.999)
    np.testing.assert_allclose(
        fast.canonical_correlations_, exact.canonical_correlations_, atol=2e-3
    )


def _gep_minimiser(X, Y, c, k):
    """``U_K Lambda_K^{1/2}`` of ``A u = lambda B u`` by scipy (the loss's exact minimiser)."""
    n, p = X.shape
    Z = np.hstack([X, Y])
    C = Z.T @ Z / (n - 1)
    A = C.copy()
    A[:p, :p] = 0.0
    A[p:, p:] = 0.0
    B = (1 - c) * scipy.linalg.block_diag(C[:p, :p], C[p:, p:]) + c * np.eye(len(C))
    eigvals, eigvecs = scipy.linalg.eigh(A, B)
    U = eigvecs[:, ::-1][:, :k] * np.sqrt(eigvals[::-1][:k])
    return np.ascontiguousarray(U[:p]), np.ascontiguousarray(U[p:])


def _spd(dim, rng):
    G = rng.standard_normal((dim, 2 * dim))
    return np.ascontiguousarray(G @ G.T / (2 * dim))


@pytest.mark.parametrize("c", [0.0, 0.3, 1.0])
def test_a_preconditioned_step_is_p_times_the_gradient_and_keeps_the_minimiser(c):
    rng = np.random.default_rng(0)
    X, Y = make_multiview(60, (5, 4), correlations=(0.9, 0.6), condition_number=30,
                          random_state=1)  # fmt: skip
    X, Y = X - X.mean(axis=0), Y - Y.mean(axis=0)
    Px, Py = _spd(5, rng), _spd(4, rng)
    Wx, Wy = rng.standard_normal((5, 2)) * 0.1, rng.standard_normal((4, 2)) * 0.1
    gx, gy = eckart_young_gradient(X, Y, Wx, Wy, regularization=c)  # NumPy's gradient
    a, b = Wx.copy(), Wy.copy()
    order = np.arange(60)
    ey_epoch(X, Y, a, b, order, order, 60, 0.05, c, False, precondition=(Px, Py))
    np.testing.assert_allclose(a, Wx - 0.05 * Px @ gx, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(b, Wy - 0.05 * Py @ gy, rtol=1e-10, atol=1e-12)
    # the loss's minimiser is a fixed point with or without the preconditioner: the
    # preconditioner changes the path, not the solution
    Ux, Uy = _gep_minimiser(X, Y, c, 2)
    for precondition in (None, (Px, Py)):
        a, b = Ux.copy(), Uy.copy()
        ey_epoch(X, Y, a, b, order, order, 60, 0.5, c, False, precondition=precondition)
        np.testing.assert_allclose(a, Ux, atol=1e-10)
        np.testing.assert_allclose(b, Uy, atol=1e-10)


def test_ey_epoch_checks_the_preconditioner():
    rng = np.random.default_rng(0)
    X, Y = rng.standard_normal((20, 3)), rng.standard_normal((20, 2))
    Wx, Wy = rng.standard_normal((3, 1)), rng.standard_normal((2, 1))
    order = np.arange(20)
    good = (np.eye(3), np.eye(2))
    for bad, match in [
        ((np.eye(2), np.eye(2)), "Px must be"),
        ((np.eye(3), np.eye(3)), "Py must be"),
        ((np.eye(3, dtype=np.float32), np.eye(2)), "Px must be"),
        ((np.asfortranarray(rng.standard_normal((3, 3))), np.eye(2)), "Px must be"),
        ((np.full((3, 3), np.nan), np.eye(2)), "Px must be finite"),
        (np.eye(3), "a pair"),
    ]:
        with pytest.raises(ValueError, match=match):
            ey_epoch(X, Y, Wx.copy(), Wy.copy(), order, order, 10, 0.1, 0.0, True,
                     precondition=bad)  # fmt: skip
    ey_epoch(X, Y, Wx.copy(), Wy.copy(), order, order, 10, 0.1, 0.0, True, precondition=good)


@pytest.mark.parametrize("c", [0.1, 0.5, 1.0])
def test_ridge_and_pls_solutions_are_unchanged(ill, c):
    # the preconditioner is built from B's blocks (1 - c) C + c I, the ridge included:
    # the fit reaches the exact ridge CCA / PLS solution of the same c
    X, Y = ill
    exact = CCA(n_components=2, regularization=c).fit(X, Y)
    kw = {"n_components": 2, "regularization": c, "batch_size": 100, "max_iter": 30,
          "tol": None, "random_state": 0}  # fmt: skip
    pre = StochasticCCA(**kw).fit(X, Y)
    assert np.all(_cosines(pre.x_weights_, exact.x_weights_) > 0.999)
    assert np.all(_cosines(pre.y_weights_, exact.y_weights_) > 0.999)
    np.testing.assert_allclose(pre.eigenvalues_, exact.eigenvalues_, rtol=2e-3)
    if c == 1.0:  # B = I: nothing to precondition, the fits are the same
        plain = StochasticCCA(**kw, precondition=False).fit(X, Y)
        np.testing.assert_array_equal(pre.x_weights_, plain.x_weights_)


def test_monitored_loss_is_the_full_data_loss(ill):
    X, Y = ill
    w = np.random.default_rng(0).integers(0, 4, len(X)).astype(float)
    for weight in (None, w):
        sgd = StochasticCCA(2, regularization=0.2, max_iter=3, tol=None, random_state=0)
        sgd.fit(X, Y, sample_weight=weight)
        Xs, Ys = (X - sgd.x_mean_) / sgd.x_std_, (Y - sgd.y_mean_) / sgd.y_std_
        unit = None if weight is None else weight * len(X) / weight.sum()
        expected = eckart_young_loss(Xs, Ys, sgd._x_iterate, sgd._y_iterate,
                                     regularization=0.2, sample_weight=unit)  # fmt: skip
        assert sgd.loss_curve_[-1] == pytest.approx(expected, rel=1e-10)


def _raw_covariances(sgd):
    """The running covariances of the unstandardized views (``partial_fit``'s state)."""
    dims = sum(len(m.mean) for m in (sgd._running.x, sgd._running.y))
    return sgd._running.covariances(np.zeros(dims), np.ones(dims))


def test_integer_weights_equal_repeated_rows(ill):
    X, Y = ill
    w = np.random.default_rng(1).integers(0, 4, len(X))
    Xr, Yr = np.repeat(X, w, axis=0), np.repeat(Y, w, axis=0)
    exact = CCA(n_components=2).fit(Xr, Yr)
    sgd = StochasticCCA(2, batch_size=100, random_state=0).fit(X, Y, sample_weight=w.astype(float))
    assert _captured(sgd, exact) > 0.999
    assert np.all(_cosines(sgd.x_weights_, exact.x_weights_) > 0.999)
    # the running covariance (partial_fit's preconditioner) of weighted chunks is that of
    # the repeated rows
    weighted, repeated = StochasticCCA(2, random_state=0), StochasticCCA(2, random_state=0)
    for rows in np.array_split(np.arange(len(X)), 4):
        weighted.partial_fit(X[rows], Y[rows], sample_weight=w[rows].astype(float))
    repeated.partial_fit(Xr, Yr)
    for a, b in zip(_raw_covariances(weighted), _raw_covariances(repeated)):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    assert weighted._running.x.weight == repeated._running.x.weight == w.sum()


def test_partial_fit_streams_ill_conditioned_chunks(ill):
    X, Y = ill
    exact = CCA(n_components=2).fit(X, Y)
    # 4 chunks of 500 rows, 5 passes: 20 epochs of 10 steps, the step decaying per chunk
    kw = {"n_components": 2, "batch_size": 50, "random_state": 0}
    pre, plain = StochasticCCA(**kw), StochasticCCA(**kw, precondition=False)
    passes = 5
    for _ in range(passes):
        for rows in np.array_split(np.arange(len(X)), 4):
            pre.partial_fit(X[rows], Y[rows])
            plain.partial_fit(X[rows], Y[rows])
    assert pre.n_iter_ == plain.n_iter_ == 4 * passes
    # the weights are rotated with the last chunk; their span, on all rows:
    # the exact CCA of the scores (rotation invariant)
    ratios = [_captured(CCA(2, scale=False).fit(*m.transform(X, Y)), exact) for m in (pre, plain)]
    assert ratios[0] > 0.999
    assert ratios[1] < 0.5
    # the running covariance is that of every row seen (the data, `passes` times)
    cov_x, cov_y = _raw_covariances(pre)
    np.testing.assert_allclose(cov_x, np.cov(np.vstack([X] * passes).T), rtol=1e-9)
    np.testing.assert_allclose(cov_y, np.cov(np.vstack([Y] * passes).T), rtol=1e-9)


def test_partial_fit_continues_a_preconditioned_fit(ill):
    X, Y = ill
    exact = CCA(n_components=2).fit(X, Y)
    sgd = StochasticCCA(2, batch_size=50, max_iter=2, tol=None, random_state=0).fit(X, Y)
    np.testing.assert_allclose(_raw_covariances(sgd)[0], np.cov(X.T), rtol=1e-9)
    before = _captured(CCA(2, scale=False).fit(*sgd.transform(X, Y)), exact)
    for rows in np.array_split(np.arange(len(X)), 4):
        sgd.partial_fit(X[rows], Y[rows])
    assert sgd.n_iter_ == 6 and sgd._running.x.weight == 2 * len(X)
    after = _captured(CCA(2, scale=False).fit(*sgd.transform(X, Y)), exact)
    assert 1 - after < (1 - before) / 2  # the chunks continue the fit's iterate


def test_warm_start_keeps_the_preconditioned_iterate(ill):
    X, Y = ill
    kw = {"n_components": 2, "batch_size": 100, "max_iter": 10, "tol": None, "random_state": 0}
    cold = StochasticCCA(**kw).fit(X, Y)
    sgd = StochasticCCA(**kw, warm_start=True).fit(X, Y).fit(X, Y)
    assert sgd.loss_curve_[0] < cold.loss_curve_[0]  # continues, does not restart
    optimum = -np.sum(CCA(n_components=2).fit(X, Y).eigenvalues_ ** 2)  # -sum lambda_k^2
    assert sgd.loss_curve_[-1] == pytest.approx(optimum, rel=1e-3)


def test_a_constant_column_keeps_a_zero_weight(ill):
    # its variance is 0: the preconditioner floors that eigenvalue, the whitened start
    # puts no weight on it and its gradient is 0, so the fit equals the one without it
    X, Y = ill
    Xc = X.copy()
    Xc[:, 3] = 5.0
    exact = CCA(n_components=2).fit(np.delete(Xc, 3, axis=1), Y)
    sgd = StochasticCCA(2, batch_size=100, random_state=0).fit(Xc, Y)
    assert np.all(np.abs(sgd.x_weights_[3]) < 1e-4 * np.abs(sgd.x_weights_).max())
    assert np.all(_cosines(np.delete(sgd.x_weights_, 3, axis=0), exact.x_weights_) > 0.999)


def test_partial_fit_correlations_are_those_of_the_chunks_scores():
    # the last chunk is standardized with the running mean, not its own: the reported
    # correlations must still be the correlations of its scores (they exceeded 1 when the
    # uncentred cross-products were divided by centred variances)
    rng = np.random.default_rng(0)
    Z = rng.standard_normal((569, 2))
    X = np.c_[Z, rng.standard_normal((569, 13))] @ rng.standard_normal((15, 15))
    Y = np.c_[0.8 * Z + 0.6 * rng.standard_normal((569, 2)), rng.standard_normal((569, 13))]
    X[:, 0] += np.linspace(0, 30, 569)  # a drifting mean: the chunks' means differ
    est = StochasticCCA(n_components=2, random_state=0)
    for _ in range(5):
        for i in range(0, 569, 50):
            est.partial_fit(X[i : i + 50], Y[i : i + 50])
    assert np.all(np.abs(est.canonical_correlations_) <= 1)
    np.testing.assert_allclose(
        est.canonical_correlations_, paired_correlations(*est.transform(X[550:], Y[550:]))
    )


def test_partial_fit_on_chunks_as_small_as_the_views_stays_stable():
    # 11-row chunks of 10 + 10 features: the first chunks' covariances are noise in their
    # smallest eigenvalues; preconditioning by their inverse made the weights explode (1e55,
    # then a LinAlgError in the rotation).  The running estimate is now shrunk towards the
    # identity while few rows are in, and the chunk's own centred moments rotate the weights
    from sklearn.datasets import load_breast_cancer

    data = load_breast_cancer().data
    rows = np.random.default_rng(0).permutation(len(data))
    X, Y = data[rows, :10], data[rows, 10:20]
    est = StochasticCCA(2, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(2):
            for i in range(0, 88, 11):
                est.partial_fit(X[i : i + 11], Y[i : i + 11])
    assert np.all(np.isfinite(est.x_weights_)) and np.abs(est.x_weights_).max() < 1e3
    # at regularization 0 the eigenvalues are the (chunk's) canonical correlations, sorted
    np.testing.assert_allclose(est.canonical_correlations_, est.eigenvalues_, atol=1e-10)
    assert np.all(np.diff(est.eigenvalues_) <= 1e-12)
