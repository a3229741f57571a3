"""Preconditioned StochasticMultiviewCCA: the exact solution, whatever the views' conditioning.

The step against ``W - lr * P @ grad`` with NumPy's gradient and ``P`` inverted
independently, the fixed point of full-batch iteration against
``scipy.linalg.eigh(A, B)`` and :class:`MultiviewCCA`, minibatch fits on views whose
covariance condition number is about 1e5 against the exact solution (where plain
steps stall), and ``precondition=False`` against fits recorded before the
preconditioner existed.
"""

import warnings

import numpy as np
import pytest
from scipy.linalg import eigh
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.cross_decomposition import MultiviewCCA, StochasticMultiviewCCA
from sklearn_losses.cross_decomposition._multiview_loss import multiview_ey_gradient
from sklearn_losses.datasets import make_multiview


@pytest.fixture(scope="module")
def ill():
    """Three views of 12 columns, each mixed with condition number 300 (cov. cond ~1e5)."""
    X, sizes = make_multiview(2000, (12, 12, 12), correlations=(0.9, 0.7), condition_number=300,
                              return_concatenated=True, random_state=0)  # fmt: skip
    X.setflags(write=False)
    return X, sizes


def _views(X, sizes):
    return np.split(X, np.cumsum(sizes)[:-1], axis=1)


def _share(sgd, exact):
    """The share of the exact objective (the sum of the top-K eigenvalues) reached."""
    return sgd.eigenvalues_.sum() / exact.eigenvalues_.sum()


def _cosines(a, b):
    """|cos| between matching columns (a component's sign is a convention)."""
    return np.abs((a * b).sum(axis=0)) / np.linalg.norm(a, axis=0) / np.linalg.norm(b, axis=0)


def test_every_view_is_ill_conditioned(ill):
    # make_multiview mixes each view by its own matrix with singular values from 1 to
    # condition_number; the unmixed coordinates have identity covariance, so each
    # view's covariance has condition number about condition_number^2 = 9e4
    for view in _views(*ill):
        for cov in (np.cov(view.T), np.corrcoef(view.T)):  # raw and standardized
            eigvals = np.linalg.eigvalsh(cov)
            assert 3e4 < eigvals[-1] / eigvals[0] < 3e5


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_preconditioned_sgd_reaches_the_exact_solution_where_plain_sgd_does_not(ill, method, seed):
    X, sizes = ill
    exact = MultiviewCCA(2, view_sizes=sizes, method=method).fit(X)
    kw = {"n_components": 2, "view_sizes": sizes, "method": method, "batch_size": 100,
          "random_state": seed}  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the plain fit does not converge
        plain = StochasticMultiviewCCA(**kw, precondition=False).fit(X)
    fast = StochasticMultiviewCCA(**kw).fit(X)  # default: preconditioned, default tol
    assert _share(plain, exact) < 0.8  # first-order steps on cond(B_v) ~ 1e5
    assert fast.n_iter_ < 30  # the stopping rule met, no warning
    assert _share(fast, exact) > 0.999
    assert fast.eigenvalues_.sum() <= exact.eigenvalues_.sum() + 1e-10
    for ours, reference in zip(fast.weights_, exact.weights_):
        assert np.all(_cosines(ours, reference) > 0.999)
    np.testing.assert_allclose(fast.correlations_, exact.correlations_, atol=2e-3)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("precondition", [True, False])
def test_a_step_is_p_times_numpys_gradient(method, precondition):
    X, sizes = make_multiview(300, (5, 4, 3), correlations=(0.9, 0.5), condition_number=30,
                              return_concatenated=True, random_state=1)  # fmt: skip
    c = np.array([0.0, 0.3, 1.0])
    est = StochasticMultiviewCCA(2, view_sizes=sizes, method=method, regularization=c,
                                 batch_size=300, unbiased=False, learning_rate="constant",
                                 max_iter=1, tol=None, warm_start=True,
                                 precondition=precondition, random_state=0)  # fmt: skip
    U0 = [u.copy() for u in est.fit(X)._iterate]
    est.fit(X)  # warm: one full-batch step from U0
    lr = 0.2 * est._step_scale  # eta0="auto" is 0.2, over the data's scale
    n = X.shape[0]
    Z = _views((X - X.mean(axis=0)) / X.std(axis=0, ddof=1), sizes)
    grads = multiview_ey_gradient(Z, U0, 1.0 / (n - 1), c, method)  # NumPy's gradient
    for v, (u0, g) in enumerate(zip(U0, grads)):
        P = np.eye(sizes[v])
        if precondition:  # B_v^{-1}, inverted here directly
            P = np.linalg.inv((1 - c[v]) * np.cov(Z[v].T) + c[v] * np.eye(sizes[v]))
        np.testing.assert_allclose(est._iterate[v], u0 - lr * P @ g, rtol=1e-9, atol=1e-12)


def _gep(X, sizes, regularization, method, k):
    """Top-k eigenvalues and per-view eigenvectors (``u^T B u = 1``) by scipy."""
    Z = (X - X.mean(axis=0)) / X.std(axis=0, ddof=1)
    C = np.cov(Z.T)
    A, B = C.copy(), np.zeros_like(C)
    edges = np.cumsum([0, *sizes])
    c = np.broadcast_to(np.asarray(regularization, float), (len(sizes),))
    for v, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        B[a:b, a:b] = (1 - c[v]) * C[a:b, a:b] + c[v] * np.eye(b - a)
        if method == "mcca":
            A[a:b, a:b] = 0.0
    values, vectors = eigh(A, B)
    return values[::-1][:k], vectors[:, ::-1][:, :k]


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("c", [0.0, 0.5, (0.0, 0.3, 1.0)])
def test_the_fixed_point_is_the_exact_solution(method, c):
    # full-batch iteration U <- U - lr P grad L(U) stops only where grad L = 0 (P is
    # positive definite): at the exact solution, for every ridge parameter
    X, sizes = make_multiview(600, (6, 5, 4), correlations=(0.9, 0.6), condition_number=100,
                              return_concatenated=True, random_state=0)  # fmt: skip
    sgd = StochasticMultiviewCCA(2, view_sizes=sizes, method=method, regularization=c,
                                 batch_size=600, learning_rate="constant", max_iter=300,
                                 tol=None, random_state=0).fit(X)  # fmt: skip
    values, vectors = _gep(X, sizes, c, method, 2)
    np.testing.assert_allclose(sgd.eigenvalues_, values, rtol=1e-10)
    exact = MultiviewCCA(2, view_sizes=sizes, method=method, regularization=c).fit(X)
    for ours, reference in zip(sgd.weights_, _views(vectors.T, sizes)):
        assert np.all(_cosines(ours, reference.T) > 1 - 1e-12)  # each view's part
    for ours, reference in zip(sgd.weights_, exact.weights_):
        np.testing.assert_allclose(ours, reference, atol=1e-8)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
def test_ridge_per_view_reaches_its_own_solution(ill, method):
    X, sizes = ill
    c = (0.0, 0.1, 0.5)
    exact = MultiviewCCA(2, view_sizes=sizes, method=method, regularization=c).fit(X)
    kw = {"n_components": 2, "view_sizes": sizes, "method": method, "regularization": c,
          "batch_size": 100, "tol": None, "random_state": 0}  # fmt: skip
    pre = StochasticMultiviewCCA(**kw).fit(X)
    plain = StochasticMultiviewCCA(**kw, precondition=False).fit(X)
    assert _share(pre, exact) > 0.999
    assert _share(plain, exact) < _share(pre, exact) - 0.01
    for ours, reference in zip(pre.weights_, exact.weights_):
        assert np.all(_cosines(ours, reference) > 0.999)


def test_pls_is_not_preconditioned(ill):
    # at c = 1, B = I: no preconditioner, the fits are the same bit for bit
    X, sizes = ill
    kw = {"n_components": 2, "view_sizes": sizes, "regularization": 1.0, "batch_size": 100,
          "max_iter": 5, "tol": None, "random_state": 0}  # fmt: skip
    pre = StochasticMultiviewCCA(**kw).fit(X)
    plain = StochasticMultiviewCCA(**kw, precondition=False).fit(X)
    for a, b in zip(pre.weights_, plain.weights_):
        np.testing.assert_array_equal(a, b)
    assert pre.loss_curve_ == plain.loss_curve_


@pytest.mark.parametrize(
    ("method", "weighted", "loss_curve", "eigenvalues"),
    [
        ("mcca", False,
         [-1.5337821978317967, -1.7658779591557412, -1.8728616975438732, -1.9141259799491164,
          -1.9693975776842843, -1.9989807534553945, -2.0262590279431785, -2.0453014370853313,
          -2.0633150945866134, -2.0743074346841652],
         [1.042834938995997, 0.9575698999486264, 0.315059469621505]),
        ("gcca", True,
         [-17.966791091971935, -21.263032226824915, -21.647007701120234, -21.884646012800197,
          -22.168690071697732, -21.836164580427383, -22.1418052111647, -22.220251191613922,
          -22.239206669681696, -22.259885115063152],
         [3.7826366590844054, 2.3372172897113637, 1.620407226056518]),
    ],
)  # fmt: skip
def test_precondition_false_is_the_previous_solver(method, weighted, loss_curve, eigenvalues):
    # recorded with the solver as it was before ``precondition`` existed
    X, sizes = make_multiview(1500, (8, 7, 6), correlations=(0.9, 0.6, 0.3), condition_number=30,
                              return_concatenated=True, random_state=0)  # fmt: skip
    w = np.random.default_rng(0).uniform(0, 2, X.shape[0]) if weighted else None
    sgd = StochasticMultiviewCCA(3, view_sizes=sizes, method=method, regularization=(0, 0.3, 1),
                                 batch_size=50, max_iter=10, precondition=False,
                                 random_state=2 if method == "mcca" else 8)  # fmt: skip
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        sgd.fit(X, sample_weight=w)
    np.testing.assert_allclose(sgd.loss_curve_, loss_curve, rtol=1e-9)
    np.testing.assert_allclose(sgd.eigenvalues_, eigenvalues, rtol=1e-9)


def test_integer_weights_equal_repeated_rows(ill):
    # the preconditioner's covariances are weighted: the fit reaches the exact
    # solution of the repeated rows
    X, sizes = ill
    w = np.random.default_rng(1).integers(0, 4, len(X))
    exact = MultiviewCCA(2, view_sizes=sizes).fit(np.repeat(X, w, axis=0))
    sgd = StochasticMultiviewCCA(2, view_sizes=sizes, batch_size=100, random_state=0)
    sgd.fit(X, sample_weight=w.astype(float))
    assert _share(sgd, exact) > 0.999
    for ours, reference in zip(sgd.weights_, exact.weights_):
        assert np.all(_cosines(ours, reference) > 0.999)


def test_a_constant_column_keeps_a_zero_weight(ill):
    # its variance is 0: the preconditioner floors that eigenvalue, the whitened start
    # puts no weight on it and its gradient is 0, so the fit is the one without it
    X, sizes = ill
    Xc = np.array(X)
    Xc[:, 3] = 5.0
    exact = MultiviewCCA(2, view_sizes=(11, 12, 12)).fit(np.delete(Xc, 3, axis=1))
    sgd = StochasticMultiviewCCA(2, view_sizes=sizes, batch_size=100, random_state=0).fit(Xc)
    first = sgd.weights_[0]
    assert np.all(np.abs(first[3]) < 1e-4 * np.abs(first).max())
    assert np.all(_cosines(np.delete(first, 3, axis=0), exact.weights_[0]) > 0.999)
    assert _share(sgd, exact) > 0.999


def test_warm_start_keeps_the_preconditioned_iterate(ill):
    X, sizes = ill
    kw = {"n_components": 2, "view_sizes": sizes, "batch_size": 100, "max_iter": 10,
          "tol": None, "random_state": 0}  # fmt: skip
    cold = StochasticMultiviewCCA(**kw).fit(X)
    warm = StochasticMultiviewCCA(**kw, warm_start=True).fit(X).fit(X)
    assert warm.loss_curve_[0] < cold.loss_curve_[0]  # continues, does not restart
    exact = MultiviewCCA(2, view_sizes=sizes).fit(X)
    # the Eckart-Young minimum is -sum lambda_k^2
    assert warm.loss_curve_[-1] == pytest.approx(-np.sum(exact.eigenvalues_**2), rel=1e-3)
    assert _share(warm, exact) > 0.999


@pytest.mark.parametrize("view_sizes", [(1, 12), (2, 2, 2, 7)])
def test_defaults_reach_the_exact_solution_on_small_real_data(view_sizes):
    # 178 rows of wine: batch_size="auto" takes about ten steps per epoch (one batch of 256
    # rows per epoch left a width-1 view at a correlation of 0.03 against the exact 0.77)
    from sklearn.datasets import load_wine

    X = load_wine().data
    exact = MultiviewCCA(1, view_sizes=view_sizes).fit(X)
    for seed in range(3):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sgd = StochasticMultiviewCCA(1, view_sizes=view_sizes, random_state=seed).fit(X)
        assert sgd.eigenvalues_[0] > 0.98 * exact.eigenvalues_[0]  # 0.985-0.9998 over seeds


def test_gcca_epochs_use_whole_batches_and_do_not_diverge():
    # 442 rows in batches of 44 left a 2-row remainder per epoch whose unbiased gradient
    # diverged GCCA for 3 of 40 seeds; epochs now take whole batches, as the two-view kernel
    from sklearn.datasets import load_diabetes

    diabetes = load_diabetes()
    X = np.column_stack([diabetes.data, diabetes.target])
    exact = MultiviewCCA(1, view_sizes=(10, 1), method="gcca").fit(X)
    for seed in (2, 5, 11):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            sgd = StochasticMultiviewCCA(
                1, view_sizes=(10, 1), method="gcca", random_state=seed
            ).fit(X)
        assert sgd.eigenvalues_[0] > 0.98 * exact.eigenvalues_[0]
