"""The sequential permutation test of the canonical components, against independent routes."""

import warnings

import numpy as np
import pytest
import scipy.linalg
from scipy import stats
from sklearn.decomposition import PCA
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state

from sklearn_losses.cross_decomposition import (
    CCA,
    DeepCCA,
    MultiviewCCA,
    StochasticCCA,
    permutation_test,
)
from sklearn_losses.cross_decomposition._permutation import _draw
from sklearn_losses.datasets import make_multiview


@pytest.fixture(scope="module")
def views():
    X, Y = make_multiview(120, (6, 5), correlations=(0.7, 0.4), random_state=1)
    X.setflags(write=False)
    Y.setflags(write=False)
    return X, Y


def permutations(random_state, n_permutations, n_rows, n_views=2):
    """The row permutations the test draws (its documented scheme), view by view."""
    seeds = check_random_state(random_state).randint(2**31 - 1, size=n_permutations)
    return [_draw(seed, n_rows, n_views) for seed in seeds]


def qr_svd_correlations(X, Y):
    """All canonical correlations, by QR-whitening each centred view and an SVD."""
    Qx = np.linalg.qr(X - X.mean(0))[0]
    Qy = np.linalg.qr(Y - Y.mean(0))[0]
    return np.linalg.svd(Qx.T @ Qy, compute_uv=False)


def test_observed_statistics_are_functions_of_the_canonical_correlations(views):
    X, Y = views
    rho = qr_svd_correlations(X, Y)  # 5 correlations; 3 components tested
    tails = {
        "wilks": [-np.log1p(-(rho[k:] ** 2)).sum() for k in range(3)],
        "pillai": [(rho[k:] ** 2).sum() for k in range(3)],
        "roy": rho[:3],
    }
    for statistic, expected in tails.items():
        result = permutation_test(
            CCA(3), X, Y, n_permutations=5, statistic=statistic, random_state=0
        )
        np.testing.assert_allclose(result.statistic, expected, rtol=1e-10)
        assert result.statistic_name == statistic
    assert permutation_test(CCA(3), X, Y, n_permutations=5).statistic_name == "wilks"
    ridge = permutation_test(CCA(3, regularization=0.3), X, Y, n_permutations=5)
    assert ridge.statistic_name == "roy"  # "auto" with ridge
    np.testing.assert_allclose(ridge.statistic, ridge.estimator.eigenvalues_, rtol=1e-10)


@pytest.mark.parametrize("c", [0.0, 0.3, 1.0])
def test_first_step_null_is_the_fit_on_permuted_rows(views, c):
    """Component 1: the top eigenvalue of CCA refitted on (X, Y[perm]), nothing shared."""
    X, Y = views
    result = permutation_test(
        CCA(regularization=c), X, Y, n_permutations=20, statistic="roy", random_state=3
    )
    brute = [
        CCA(1, regularization=c).fit(X, Y[perm]).eigenvalues_[0]
        for (perm,) in permutations(3, 20, len(X))
    ]
    np.testing.assert_allclose(result.null_distribution[:, 0], brute, rtol=1e-10)


@pytest.mark.parametrize("c", [0.0, 0.3, 1.0])
def test_later_steps_solve_the_eigenproblem_deflated_of_the_fitted_directions(views, c):
    """Component k: the generalised eigenproblem restricted to the B-orthogonal
    complement of the first k - 1 fitted weights of each view (scipy's eigh)."""
    X, Y = views
    result = permutation_test(
        CCA(3, regularization=c), X, Y, n_permutations=10, statistic="roy", random_state=4
    )
    est, n = result.estimator, len(X)
    Xs, Ys = (X - est.x_mean_) / est.x_std_, (Y - est.y_mean_) / est.y_std_
    Bx = (1 - c) * Xs.T @ Xs / (n - 1) + c * np.eye(X.shape[1])
    By = (1 - c) * Ys.T @ Ys / (n - 1) + c * np.eye(Y.shape[1])
    for k in (1, 2):
        Tx = scipy.linalg.null_space((Bx @ est.x_weights_[:, :k]).T)
        Ty = scipy.linalg.null_space((By @ est.y_weights_[:, :k]).T)
        B = scipy.linalg.block_diag(Tx.T @ Bx @ Tx, Ty.T @ By @ Ty)
        for row, (perm,) in enumerate(permutations(4, 10, n)):
            cross = Tx.T @ (Xs.T @ Ys[perm] / (n - 1)) @ Ty
            A = np.block(
                [[np.zeros((len(cross),) * 2), cross], [cross.T, np.zeros((Ty.shape[1],) * 2)]]
            )
            top = scipy.linalg.eigh(A, B, eigvals_only=True)[-1]
            assert result.null_distribution[row, k] == pytest.approx(top, rel=1e-10)


def test_later_steps_equal_winklers_residualisation_at_regularization_0(views):
    """At c = 0: the earlier canonical scores regressed out of each view (in the rows'
    space), then the largest canonical correlation of the residual subspaces."""
    X, Y = views
    result = permutation_test(CCA(3), X, Y, n_permutations=10, statistic="roy", random_state=5)
    x_scores, y_scores = result.estimator.transform(X, Y)
    Xc, Yc = X - X.mean(0), Y - Y.mean(0)
    for k in (1, 2):
        Sx, Sy = (
            x_scores[:, :k] - x_scores[:, :k].mean(0),
            y_scores[:, :k] - y_scores[:, :k].mean(0),
        )
        Rx = Xc - Sx @ np.linalg.lstsq(Sx, Xc, rcond=None)[0]
        Ry = Yc - Sy @ np.linalg.lstsq(Sy, Yc, rcond=None)[0]
        Ux = np.linalg.svd(Rx, full_matrices=False)[0][:, : X.shape[1] - k]  # its range
        Uy = np.linalg.svd(Ry, full_matrices=False)[0][:, : Y.shape[1] - k]
        for row, (perm,) in enumerate(permutations(5, 10, len(X))):
            top = np.linalg.svd(Ux.T @ Uy[perm], compute_uv=False)[0]
            assert result.null_distribution[row, k] == pytest.approx(top, rel=1e-9)


@pytest.mark.parametrize(
    "c, statistics", [(0.0, ("wilks", "pillai", "roy")), (0.3, ("pillai", "roy")), (1.0, ("roy",))]
)
def test_closed_form_equals_the_refit_route(views, c, statistics):
    X, Y = views
    for statistic in statistics:
        kwargs = dict(n_permutations=8, statistic=statistic, random_state=6)
        fast = permutation_test(CCA(3, regularization=c), X, Y, **kwargs)
        slow = permutation_test(CCA(3, regularization=c), X, Y, refit=True, **kwargs)
        np.testing.assert_allclose(slow.null_distribution, fast.null_distribution, atol=1e-10)
        np.testing.assert_allclose(slow.statistic, fast.statistic, atol=1e-10)


def test_p_values_count_the_null_and_are_nondecreasing(views):
    X, Y = views
    result = permutation_test(CCA(), X, Y, n_permutations=99, random_state=0)
    counts = (result.null_distribution >= result.statistic).sum(axis=0)
    np.testing.assert_allclose(result.p_values_unadjusted, (1 + counts) / 100)
    np.testing.assert_allclose(result.p_values, np.maximum.accumulate(result.p_values_unadjusted))
    assert result.null_distribution.shape == (99, 5)
    assert result.p_values[0] == 0.01
    assert result.p_values[1] <= 0.05  # the two real components (0.7 and 0.4)
    assert result.p_values[2] > 0.05


def test_p_values_are_uniform_under_independence():
    """Component 1 over 200 independent null data sets: Kolmogorov-Smirnov against U(0, 1).

    p-values of 99 permutations live on the grid j / 100; subtracting U / 100 (U uniform)
    makes a valid one exactly uniform.
    """
    rng = np.random.default_rng(0)
    p_values = []
    for i in range(200):
        X, Y = rng.standard_normal((60, 3)), rng.standard_normal((60, 3))
        p_values.append(
            permutation_test(CCA(2), X, Y, n_permutations=99, random_state=i).p_values[0]
        )
    jittered = np.array(p_values) - rng.uniform(size=200) / 100
    assert stats.kstest(jittered, "uniform").pvalue > 0.01
    assert 0.02 < np.mean(np.array(p_values) <= 0.05) < 0.09


def test_second_component_is_uniform_when_only_the_first_is_real():
    """The sequential step: with one real correlation (0.8), component 2's p-values are
    uniform; the naive comparison with the permuted fits' second correlation is not."""
    rng = np.random.default_rng(1)
    p_values = []
    for i in range(200):
        X, Y = make_multiview(100, (3, 3), correlations=(0.8,), random_state=i)
        result = permutation_test(CCA(2), X, Y, n_permutations=99, random_state=i)
        assert result.p_values[0] == 0.01
        p_values.append(result.p_values_unadjusted[1])
    jittered = np.array(p_values) - rng.uniform(size=200) / 100
    assert stats.kstest(jittered, "uniform").pvalue > 0.01


def test_power_at_a_correlation_of_0_3_with_200_rows():
    """n=200, one canonical correlation of 0.3 between views of 2 and 2 columns: 200
    replications of 199 permutations reject at 0.05 in at least 90% of them."""
    rejected = [
        permutation_test(
            CCA(1),
            *make_multiview(200, (2, 2), correlations=(0.3,), random_state=1000 + i),
            n_permutations=199,
            random_state=i,
        ).p_values[0]
        <= 0.05
        for i in range(200)
    ]
    assert np.mean(rejected) >= 0.9


def test_the_result_does_not_depend_on_n_jobs(views):
    X, Y = views
    one = permutation_test(CCA(), X, Y, n_permutations=70, random_state=7, n_jobs=1)
    two = permutation_test(CCA(), X, Y, n_permutations=70, random_state=7, n_jobs=2)
    np.testing.assert_array_equal(one.null_distribution, two.null_distribution)
    other = permutation_test(CCA(), X, Y, n_permutations=70, random_state=8)
    assert not np.array_equal(one.null_distribution, other.null_distribution)


def test_integer_weights_are_repeated_rows(views):
    X, Y = views
    w = np.random.default_rng(0).integers(0, 4, size=len(X))
    rows = np.repeat(np.arange(len(X)), w)
    weighted = permutation_test(CCA(), X, Y, sample_weight=w, n_permutations=30, random_state=0)
    repeated = permutation_test(CCA(), X[rows], Y[rows], n_permutations=30, random_state=0)
    np.testing.assert_allclose(weighted.null_distribution, repeated.null_distribution, atol=1e-10)
    np.testing.assert_allclose(weighted.statistic, repeated.statistic, atol=1e-10)
    with pytest.raises(ValueError, match="frequency weights"):
        permutation_test(CCA(), X, Y, sample_weight=np.full(len(X), 0.5))


def test_bad_input_is_a_clear_value_error(views):
    X, Y = views
    with pytest.raises(ValueError, match="supports the linear CCA estimators"):
        permutation_test(PCA(), X, Y)
    with pytest.raises(ValueError, match="supports the linear CCA estimators"):
        permutation_test(DeepCCA(), X, Y)
    with pytest.raises(ValueError, match="n_permutations"):
        permutation_test(CCA(), X, Y, n_permutations=0)
    with pytest.raises(ValueError, match="same number of rows"):
        permutation_test(CCA(), X, Y[:50])
    with pytest.raises(ValueError, match="needs the second view"):
        permutation_test(CCA(), X)
    with pytest.raises(ValueError, match="needs regularization=0"):
        permutation_test(CCA(regularization=0.2), X, Y, statistic="wilks")
    with pytest.raises(ValueError, match="Y must be None"):
        permutation_test(MultiviewCCA(), np.hstack([X, Y]), Y)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("c", [0.0, 0.5])
def test_multiview_first_step_is_the_fit_on_permuted_views(method, c):
    """Three views, every view but the first permuted independently; the refit route agrees."""
    X, sizes = make_multiview(
        150, (4, 3, 3), correlations=(0.6, 0.3), return_concatenated=True, random_state=0
    )
    edges = np.cumsum((0, *sizes))
    estimator = MultiviewCCA(2, view_sizes=sizes, method=method, regularization=c)
    result = permutation_test(estimator, X, n_permutations=10, statistic="roy", random_state=0)
    brute = []
    for perms in permutations(0, 10, len(X), n_views=3):
        permuted = X.copy()
        for v, perm in zip((1, 2), perms):
            permuted[:, edges[v] : edges[v + 1]] = X[perm, edges[v] : edges[v + 1]]
        brute.append(estimator.fit(permuted).eigenvalues_[0])
    np.testing.assert_allclose(result.null_distribution[:, 0], brute, rtol=1e-10)
    assert result.statistic[0] == pytest.approx(result.eigenvalues[0], rel=1e-10)
    refit = permutation_test(
        estimator, X, n_permutations=10, statistic="roy", random_state=0, refit=True
    )
    np.testing.assert_allclose(refit.null_distribution, result.null_distribution, atol=1e-10)


def test_multiview_wilks_and_pillai_of_the_permuted_joint_covariance():
    """Component 1 at c = 0, three views: Wilks is ``log det`` of the within-view blocks
    minus ``log det`` of the joint covariance; Pillai the squared whitened cross-blocks."""
    X, sizes = make_multiview(
        150, (4, 3, 3), correlations=(0.6, 0.3), return_concatenated=True, random_state=2
    )
    edges = np.cumsum((0, *sizes))
    blocks = [slice(a, b) for a, b in zip(edges[:-1], edges[1:])]
    estimator = MultiviewCCA(2, view_sizes=sizes)
    wilks = permutation_test(estimator, X, n_permutations=6, random_state=1)
    pillai = permutation_test(estimator, X, n_permutations=6, statistic="pillai", random_state=1)
    for row, perms in enumerate(permutations(1, 6, len(X), n_views=3)):
        permuted = X.copy()
        for block, perm in zip(blocks[1:], perms):
            permuted[:, block] = X[perm, block]
        C = np.cov(permuted, rowvar=False)
        within = sum(np.linalg.slogdet(C[b, b])[1] for b in blocks)
        assert wilks.null_distribution[row, 0] == pytest.approx(
            within - np.linalg.slogdet(C)[1], rel=1e-10
        )
        roots = [np.linalg.inv(scipy.linalg.sqrtm(C[b, b])) for b in blocks]
        squares = sum(
            np.sum((roots[v] @ C[blocks[v], blocks[w]] @ roots[w]) ** 2)
            for v in range(3)
            for w in range(v + 1, 3)
        )
        assert pillai.null_distribution[row, 0] == pytest.approx(squares, rel=1e-10)


def test_multiview_with_two_views_is_cca(views):
    X, Y = views
    cca = permutation_test(CCA(), X, Y, n_permutations=30, random_state=0)
    for data in (np.hstack([X, Y]), [X, Y]):
        mcca = permutation_test(
            MultiviewCCA(view_sizes=(6, 5)), data, n_permutations=30, random_state=0
        )
        np.testing.assert_allclose(mcca.null_distribution, cca.null_distribution, atol=1e-10)
        np.testing.assert_allclose(mcca.statistic, cca.statistic, atol=1e-10)


def test_stochastic_cca_is_tested_with_its_own_directions(views):
    """Component 1's statistic does not depend on the directions: StochasticCCA's equals
    CCA's; its refit route refits StochasticCCA (approximately the closed form)."""
    X, Y = (view.copy() for view in views)  # writable: the epoch kernels' usual signature
    sgd = StochasticCCA(2, max_iter=60, random_state=0)
    exact = permutation_test(CCA(2), X, Y, n_permutations=20, random_state=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = permutation_test(sgd, X, Y, n_permutations=20, random_state=0)
    np.testing.assert_allclose(
        result.null_distribution[:, 0], exact.null_distribution[:, 0], rtol=1e-8
    )
    np.testing.assert_allclose(result.statistic, exact.statistic, rtol=0.05)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # the refits' too
        refit = permutation_test(sgd, X, Y, n_permutations=2, random_state=0, refit=True)
    np.testing.assert_allclose(refit.null_distribution, result.null_distribution[:2], atol=0.05)
