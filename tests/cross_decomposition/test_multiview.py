"""MultiviewCCA and StochasticMultiviewCCA against independent routes.

Two views against CCA, three views against ``scipy.linalg.eigh(A, B)`` and cca-zoo,
the tie rule against the ridge limit, the stochastic gradient against finite
differences and its two-batch estimate against the exhaustive average.
"""

import warnings
from itertools import combinations

import numpy as np
import pandas as pd
import pytest
from scipy.linalg import eigh
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.decomposition import PCA
from sklearn.linear_model import Ridge
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.cross_decomposition import CCA, MultiviewCCA, StochasticMultiviewCCA
from sklearn_losses.cross_decomposition._multiview_loss import (
    multiview_ey_gradient,
    multiview_ey_loss,
)
from sklearn_losses.datasets import make_multiview
from sklearn_losses.utils import DivergenceError

SIZES = (6, 5, 4)


@pytest.fixture(scope="module")
def three_views():
    """Read-only views shared by the module's tests."""
    views = make_multiview(
        800, SIZES, correlations=(0.9, 0.6, 0.3), condition_number=5, random_state=0
    )
    for view in views:
        view.setflags(write=False)
    return views


def gep(views, regularization, method, scale=True):
    """The MCCA / GCCA generalised eigenproblem by scipy, from the raw covariance."""
    X = np.hstack(views)
    Z = (X - X.mean(0)) / (X.std(0, ddof=1) if scale else 1.0)
    C = np.cov(Z, rowvar=False)
    A, B = C.copy(), np.zeros_like(C)
    edges = np.cumsum([0] + [v.shape[1] for v in views])
    c = np.broadcast_to(np.asarray(regularization, float), (len(views),))
    for v, (a, b) in enumerate(zip(edges[:-1], edges[1:])):
        B[a:b, a:b] = (1 - c[v]) * C[a:b, a:b] + c[v] * np.eye(b - a)
        if method == "mcca":
            A[a:b, a:b] = 0.0
    values, vectors = eigh(A, B)
    return values[::-1], vectors[:, ::-1], B, edges


def per_view_normalised(vectors, B, edges, k):
    """Each view's part of the eigenvectors scaled to ``u_v^T B_v u_v = 1``."""
    parts = []
    for a, b in zip(edges[:-1], edges[1:]):
        u = vectors[a:b, :k]
        parts.append(u / np.sqrt(np.einsum("ik,ij,jk->k", u, B[a:b, a:b], u)))
    return parts


def aligned(reference, ours):
    """``reference`` with each column's sign matched to ``ours`` (signs are conventions)."""
    return reference * np.sign((reference * ours).sum(axis=0))


# -- exact solver ----------------------------------------------------------------------
@pytest.mark.parametrize("c", [0.0, 0.3, 1.0])
def test_two_views_equal_cca(c):
    X, Y = make_multiview(700, (7, 5), correlations=(0.9, 0.6, 0.3), random_state=1)
    cca = CCA(n_components=4, regularization=c).fit(X, Y)
    mv = MultiviewCCA(n_components=4, view_sizes=(7, 5), regularization=c).fit(np.hstack([X, Y]))
    # same weights (CCA's normalisation w^T B w = 1 per view, same sign rule)
    np.testing.assert_allclose(mv.weights_[0], cca.x_weights_, atol=1e-8)
    np.testing.assert_allclose(mv.weights_[1], cca.y_weights_, atol=1e-8)
    np.testing.assert_allclose(mv.correlations_, cca.canonical_correlations_, atol=1e-8)
    np.testing.assert_allclose(mv.eigenvalues_, cca.eigenvalues_, atol=1e-8)
    x_scores, y_scores = cca.transform(X, Y)
    np.testing.assert_allclose(mv.transform([X, Y]), np.hstack([x_scores, y_scores]), atol=1e-8)
    assert mv.score([X, Y]) == pytest.approx(cca.score(X, Y), abs=1e-10)
    # GCCA of two views at c=0: the same directions, eigenvalues shifted by 1
    if c == 0.0:
        gcca = MultiviewCCA(4, view_sizes=(7, 5), method="gcca").fit(np.hstack([X, Y]))
        np.testing.assert_allclose(gcca.eigenvalues_, cca.eigenvalues_ + 1.0, atol=1e-8)
        np.testing.assert_allclose(gcca.weights_[0], cca.x_weights_, atol=1e-8)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("c", [0.0, (0.1, 0.5, 0.9)])
@pytest.mark.parametrize("scale", [True, False])
def test_three_views_equal_scipy_eigh(three_views, method, c, scale):
    k = 3
    mv = MultiviewCCA(k, view_sizes=SIZES, method=method, regularization=c, scale=scale)
    mv.fit(np.hstack(three_views))
    values, vectors, B, edges = gep(three_views, c, method, scale)
    np.testing.assert_allclose(mv.eigenvalues_, values[:k], rtol=1e-8, atol=1e-10)
    for ours, expected in zip(mv.weights_, per_view_normalised(vectors, B, edges, k)):
        np.testing.assert_allclose(ours, aligned(expected, ours), atol=1e-8)
    # the training correlations are those of the scores, as a user computes them
    scores = mv.transform_views(np.hstack(three_views))
    for i, j in combinations(range(3), 2):
        for comp in range(k):
            r = np.corrcoef(scores[i][:, comp], scores[j][:, comp])[0, 1]
            assert mv.pairwise_correlations_[comp, i, j] == pytest.approx(r, abs=1e-10)
    upper = [mv.pairwise_correlations_[:, i, j] for i, j in combinations(range(3), 2)]
    np.testing.assert_allclose(mv.correlations_, np.mean(upper, axis=0), atol=1e-12)
    if c == 0.0 and scale:  # unit-variance training scores, as CCA's
        np.testing.assert_allclose(np.hstack(scores).var(axis=0, ddof=1), 1.0, atol=1e-10)


def test_gcca_is_mcca_plus_one_at_zero_ridge(three_views):
    X = np.hstack(three_views)
    mcca = MultiviewCCA(3, view_sizes=SIZES).fit(X)
    gcca = MultiviewCCA(3, view_sizes=SIZES, method="gcca").fit(X)
    np.testing.assert_allclose(gcca.eigenvalues_, mcca.eigenvalues_ + 1.0, atol=1e-10)
    np.testing.assert_allclose(gcca.transform(X), mcca.transform(X), atol=1e-8)
    # with ridge the problems differ
    ridge = {"regularization": 0.5}
    a = MultiviewCCA(3, view_sizes=SIZES, **ridge).fit(X)
    b = MultiviewCCA(3, view_sizes=SIZES, method="gcca", **ridge).fit(X)
    assert np.abs(b.eigenvalues_ - a.eigenvalues_ - 1.0).max() > 1e-3


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("c", [0.0, (0.1, 0.5, 0.9)])
def test_matches_cca_zoo(three_views, method, c):
    linear = pytest.importorskip("cca_zoo.linear")
    Zoo = {"mcca": linear.MCCA, "gcca": linear.GCCA}[method]
    views = [np.array(v) for v in three_views]
    zoo = Zoo(n_components=3, shrinkage=list(c) if isinstance(c, tuple) else c).fit(views)
    # cca-zoo centres without scaling
    ours = MultiviewCCA(3, method=method, regularization=c, scale=False).fit(views)
    zoo_scores, our_scores = zoo.transform(views), ours.transform_views(views)
    for comp in range(3):
        pairs = [np.corrcoef(zoo_scores[i][:, comp], zoo_scores[j][:, comp])[0, 1]
                 for i, j in combinations(range(3), 2)]  # fmt: skip
        assert ours.correlations_[comp] == pytest.approx(np.mean(pairs), abs=1e-6)
    assert ours.score(views) == pytest.approx(zoo.score(views), abs=1e-6)
    # documented normalisation: cca-zoo's weights scaled to w^T B_v w = 1 per view
    cs = np.broadcast_to(np.asarray(c, float), (3,))
    for v, view in enumerate(views):
        B = (1 - cs[v]) * np.cov(view, rowvar=False) + cs[v] * np.eye(view.shape[1])
        w = zoo.weights_[v]
        expected = w / np.sqrt(np.einsum("ik,ij,jk->k", w, B, w))
        np.testing.assert_allclose(ours.weights_[v], aligned(expected, ours.weights_[v]), atol=1e-6)
        np.testing.assert_allclose(
            our_scores[v], aligned(zoo_scores[v] / np.sqrt(np.einsum("ik,ij,jk->k", w, B, w)),
                                   our_scores[v]), atol=1e-6)  # fmt: skip


def test_population_quantities_of_make_multiview():
    # every pair correlates rho: MCCA eigenvalues (M - 1) rho, pairwise correlation rho
    rho = np.array([0.8, 0.5])
    X, sizes = make_multiview(
        40_000, (5, 4, 6, 3), correlations=rho, return_concatenated=True, random_state=3
    )
    mcca = MultiviewCCA(2, view_sizes=sizes).fit(X)
    np.testing.assert_allclose(mcca.eigenvalues_, 3 * rho, atol=0.03)
    np.testing.assert_allclose(mcca.correlations_, rho, atol=0.01)
    np.testing.assert_allclose(
        mcca.pairwise_correlations_[0][np.triu_indices(4, 1)], 0.8, atol=0.02
    )


def test_integer_weights_equal_repeated_rows(three_views):
    X = np.hstack(three_views)
    rng = np.random.default_rng(0)
    w = rng.integers(0, 4, X.shape[0])
    for method in ("mcca", "gcca"):
        est = MultiviewCCA(3, view_sizes=SIZES, method=method, regularization=(0, 0.2, 0))
        weighted = clone(est).fit(X, sample_weight=w)
        repeated = clone(est).fit(np.repeat(X, w, axis=0))
        np.testing.assert_allclose(weighted.transform(X), repeated.transform(X), atol=1e-9)
        np.testing.assert_allclose(weighted.eigenvalues_, repeated.eigenvalues_, atol=1e-10)
        np.testing.assert_allclose(weighted.mean_, repeated.mean_, atol=1e-12)


def test_list_of_views_is_the_concatenated_matrix(three_views):
    a = MultiviewCCA(2).fit(list(three_views))
    b = MultiviewCCA(2, view_sizes=SIZES).fit(np.hstack(three_views))
    assert a.view_sizes_ == b.view_sizes_ == SIZES and a.n_views_ == 3
    np.testing.assert_array_equal(a.transform(np.hstack(three_views)), b.transform(three_views))
    assert a.transform(three_views).shape == (800, 6)
    assert [s.shape for s in a.transform_views(three_views)] == [(800, 2)] * 3
    names = a.get_feature_names_out()
    assert list(names[:3]) == [
        "multiviewcca_view0_0",
        "multiviewcca_view0_1",
        "multiviewcca_view1_0",
    ]


def test_default_view_sizes_split_into_halves():
    X, Y = make_multiview(300, (4, 3), correlations=(0.9,), random_state=0)
    mv = MultiviewCCA().fit(np.hstack([X, Y]))
    assert mv.view_sizes_ == (4, 3) and mv.n_components_ == 3
    np.testing.assert_allclose(mv.correlations_, CCA().fit(X, Y).canonical_correlations_, atol=1e-8)


def test_ties_follow_the_ridge_limit():
    # more columns than rows at c=0: many canonical correlations tie at 1, and the basis
    # fitted is the limit of ridge c -> 0+, whatever the order of the rows
    rng = np.random.default_rng(0)
    X = rng.standard_normal((12, 20))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # rank deficient: the point here
        exact = MultiviewCCA(view_sizes=(10, 10)).fit(X)
        permuted = MultiviewCCA(view_sizes=(10, 10)).fit(X[rng.permutation(12)])
    assert np.sum(exact.eigenvalues_ > 1 - 1e-9) >= 8  # a tied cluster
    ridge = MultiviewCCA(exact.n_components_, view_sizes=(10, 10), regularization=1e-8).fit(X)
    ours, limit = exact.transform(X), ridge.transform(X)
    cosines = (ours * limit).sum(0) / np.linalg.norm(ours, axis=0) / np.linalg.norm(limit, axis=0)
    np.testing.assert_allclose(cosines, 1.0, atol=1e-6)
    np.testing.assert_allclose(permuted.transform(X), ours, atol=1e-8)


def test_rank_deficient_view_warns_and_caps_components(three_views):
    duplicated = np.repeat(three_views[0][:, :1], 2, axis=1)  # two equal columns: rank 1
    X = np.hstack([*three_views, duplicated])
    with pytest.warns(UserWarning, match="rank deficient"):
        mv = MultiviewCCA(view_sizes=(*SIZES, 2)).fit(X)
    assert mv.n_components_ == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # ridge makes every view full rank: no warning
        assert MultiviewCCA(view_sizes=(*SIZES, 2), regularization=0.1).fit(X).n_components_ == 2


@pytest.mark.parametrize(
    "params, X_shape, match",
    [
        ({}, (10, 1), r"1 feature\(s\)"),
        ({"view_sizes": (3, 3)}, (10, 5), "sums to 6, but X has 5"),
        ({"view_sizes": (5,)}, (10, 5), "at least two positive integers"),
        ({"view_sizes": (2, 0, 3)}, (10, 5), "at least two positive integers"),
        ({"view_sizes": (2.0, 3.0)}, (10, 5), "at least two positive integers"),
        ({"view_sizes": (2, 3), "regularization": (0.1, 0.2, 0.3)}, (10, 5), "one such value"),
        ({"view_sizes": (2, 3), "regularization": (0.1, 1.5)}, (10, 5), "one such value"),
        ({"view_sizes": (2, 3), "n_components": 3}, (10, 5), "n_components=3 must be <="),
        ({"view_sizes": (3, 3), "n_components": 3}, (3, 6), "n_samples - 1=2"),
    ],
)
@pytest.mark.parametrize("Est", [MultiviewCCA, StochasticMultiviewCCA])
def test_bad_input_is_a_clear_value_error(Est, params, X_shape, match):
    X = np.random.default_rng(0).standard_normal(X_shape)
    with pytest.raises(ValueError, match=match):
        Est(**params).fit(X)


def test_transform_checks_the_views(three_views):
    mv = MultiviewCCA(2).fit(list(three_views))
    with pytest.raises(ValueError, match="widths"):
        mv.transform([three_views[0], three_views[1]])
    with pytest.raises(ValueError, match="same number of rows"):
        mv.transform([three_views[0], three_views[1][:5], three_views[2]])
    with pytest.raises(ValueError, match="X has 14 features"):
        mv.transform(np.hstack(three_views)[:, :14])
    with pytest.raises(ValueError, match="sample_weight"):
        mv.score(list(three_views), sample_weight=np.ones(800))
    with pytest.raises(ValueError, match="views have widths"):
        MultiviewCCA(view_sizes=(5, 6, 4)).fit(list(three_views))


def test_overflow_is_a_value_error():
    X = np.random.default_rng(0).standard_normal((20, 4)) * 1e300
    with pytest.raises(ValueError, match="overflowed"):
        MultiviewCCA(view_sizes=(2, 2), scale=False).fit(X)


def test_pipeline_grid_search_and_pandas(three_views):
    X = np.hstack(three_views)
    target = three_views[0][:, 0] + 0.1 * np.random.default_rng(0).standard_normal(800)
    pipe = make_pipeline(StandardScaler(), MultiviewCCA(2, view_sizes=SIZES), Ridge())
    assert cross_val_score(pipe, X, target, cv=3).mean() > 0.2
    grid = GridSearchCV(
        MultiviewCCA(view_sizes=SIZES),
        {"regularization": [0.0, 0.5, 1.0], "n_components": [1, 3]},
        cv=3,
    ).fit(X)
    # the held-out mean correlation: one strong component beats averaging in weaker ones
    assert grid.best_params_["n_components"] == 1
    assert grid.best_score_ == pytest.approx(0.9, abs=0.03)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(15)])
    out = MultiviewCCA(2, view_sizes=SIZES).set_output(transform="pandas").fit(frame)
    scores = out.transform(frame)
    assert list(scores.columns) == list(out.get_feature_names_out())
    assert scores.shape == (800, 6)


# -- stochastic solver -----------------------------------------------------------------
def _random_batch(rng, n, sizes):
    return [rng.standard_normal((n, p)) for p in sizes]


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("two_batches", [False, True])
def test_gradient_matches_finite_differences(method, two_batches):
    rng = np.random.default_rng(0)
    batch, batch2 = _random_batch(rng, 7, (4, 3, 5)), _random_batch(rng, 7, (4, 3, 5))
    U = [rng.standard_normal((p, 2)) for p in (4, 3, 5)]
    c = np.array([0.0, 0.3, 1.0])
    kwargs = {"sample_weight": rng.uniform(0, 2, 7)}
    second = None
    if two_batches:
        second = (batch2, 0.3)
        kwargs["sample_weight2"] = rng.uniform(0, 2, 7)
    grads = multiview_ey_gradient(batch, U, 0.2, c, method, second, **kwargs)
    h = 1e-6
    for v in range(3):
        numeric = np.zeros_like(U[v])
        for idx in np.ndindex(*U[v].shape):
            plus, minus = [u.copy() for u in U], [u.copy() for u in U]
            plus[v][idx] += h
            minus[v][idx] -= h
            numeric[idx] = (
                multiview_ey_loss(batch, plus, 0.2, c, method, second, **kwargs)
                - multiview_ey_loss(batch, minus, 0.2, c, method, second, **kwargs)
            ) / (2 * h)
        np.testing.assert_allclose(grads[v], numeric, rtol=1e-6, atol=1e-6)


def test_loss_is_minus_sum_of_squared_eigenvalues_at_the_optimum(three_views):
    # EY: the minimum over U is -sum lambda_k^2, at U = eigenvectors * sqrt(lambda)
    Z = [(v - v.mean(0)) / v.std(0, ddof=1) for v in three_views]
    values, vectors, _, edges = gep(three_views, 0.0, "mcca")
    U = [vectors[a:b, :3] * np.sqrt(values[:3]) for a, b in zip(edges[:-1], edges[1:])]
    loss = multiview_ey_loss(Z, U, 1.0 / (800 - 1), np.zeros(3), "mcca")
    assert loss == pytest.approx(-(values[:3] ** 2).sum(), rel=1e-10)
    grads = multiview_ey_gradient(Z, U, 1.0 / (800 - 1), np.zeros(3), "mcca")
    assert max(np.abs(g).max() for g in grads) < 1e-10


def test_two_batch_estimate_is_unbiased_exhaustively():
    # the mean of the two-batch loss over every pair of batches is the full-data loss
    rng = np.random.default_rng(1)
    n, b = 6, 2
    views = [v - v.mean(0) for v in _random_batch(rng, n, (2, 3, 2))]
    U = [rng.standard_normal((p, 2)) for p in (2, 3, 2)]
    c = np.array([0.2, 0.0, 0.5])
    scale = n / (b * (n - 1))
    subsets = list(combinations(range(n), b))
    estimates = [
        multiview_ey_loss([v[list(s)] for v in views], U, scale, c, "gcca",
                          ([v[list(t)] for v in views], scale))
        for s in subsets for t in subsets
    ]  # fmt: skip
    full = multiview_ey_loss(views, U, 1.0 / (n - 1), c, "gcca")
    assert np.mean(estimates) == pytest.approx(full, rel=1e-12)


def test_weighted_batch_loss_equals_repeated_rows():
    rng = np.random.default_rng(2)
    batch = _random_batch(rng, 5, (3, 2, 4))
    U = [rng.standard_normal((p, 2)) for p in (3, 2, 4)]
    w = np.array([0, 1, 3, 2, 1])
    c = np.array([0.1, 0.0, 0.4])
    weighted = multiview_ey_loss(batch, U, 0.3, c, "mcca", sample_weight=w.astype(float))
    repeated = multiview_ey_loss([np.repeat(v, w, axis=0) for v in batch], U, 0.3, c, "mcca")
    assert weighted == pytest.approx(repeated, rel=1e-12)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("batch_size", [100, 500])
def test_stochastic_reaches_the_exact_objective(method, batch_size):
    X, sizes = make_multiview(
        4000, (10, 10, 10), correlations=(0.9, 0.7, 0.5), return_concatenated=True, random_state=0
    )
    exact = MultiviewCCA(3, view_sizes=sizes, method=method).fit(X)
    sgd = StochasticMultiviewCCA(
        3, view_sizes=sizes, method=method, batch_size=batch_size, random_state=0
    ).fit(X)
    # the objective: the sum of the top-K generalised eigenvalues (Ky Fan), within the span
    assert sgd.eigenvalues_.sum() / exact.eigenvalues_.sum() >= 0.99
    assert sgd.correlations_.sum() / exact.correlations_.sum() >= 0.99
    assert sgd.eigenvalues_.sum() <= exact.eigenvalues_.sum() + 1e-10  # never beyond
    assert len(sgd.loss_curve_) == sgd.n_iter_


def test_stochastic_step_scales_with_the_number_of_views():
    # A's curvature grows with the number of correlated views: the step must follow
    X, sizes = make_multiview(
        3000, (12,) * 8, correlations=(0.9, 0.6), return_concatenated=True, random_state=5
    )
    exact = MultiviewCCA(2, view_sizes=sizes).fit(X)
    sgd = StochasticMultiviewCCA(2, view_sizes=sizes, batch_size=50, random_state=0).fit(X)
    assert sgd.eigenvalues_.sum() / exact.eigenvalues_.sum() >= 0.99
    np.testing.assert_allclose(exact.eigenvalues_, 7 * np.array([0.9, 0.6]), atol=0.1)


def test_stochastic_on_ill_conditioned_views_after_per_view_whitening():
    # whitening each view first (PCA(whiten=True) in a ColumnTransformer) does by hand what
    # the default preconditioner does: plain steps on the raw views stall
    X, sizes = make_multiview(
        5000, (20, 20, 20), correlations=(0.9, 0.7, 0.5), condition_number=316,
        return_concatenated=True, random_state=0,
    )  # fmt: skip
    exact = MultiviewCCA(3, view_sizes=sizes).fit(X)
    blocks = np.split(np.arange(60), 3)
    whiten = ColumnTransformer([(f"pca{v}", PCA(whiten=True), b) for v, b in enumerate(blocks)])
    sgd = StochasticMultiviewCCA(3, view_sizes=sizes, batch_size=100, tol=None, random_state=0)
    raw = clone(sgd).set_params(precondition=False).fit(X)
    pipe = make_pipeline(whiten, sgd).fit(X)
    assert raw.eigenvalues_.sum() / exact.eigenvalues_.sum() < 0.9  # plain steps stall
    assert pipe[-1].eigenvalues_.sum() / exact.eigenvalues_.sum() >= 0.99
    assert pipe.score(X) == pytest.approx(exact.score(X), abs=1e-3)


def test_stochastic_two_views_approach_cca():
    X, Y = make_multiview(3000, (8, 6), correlations=(0.9, 0.6), random_state=4)
    cca = CCA(2).fit(X, Y)
    sgd = StochasticMultiviewCCA(2, view_sizes=(8, 6), batch_size=100, random_state=0)
    sgd.fit(np.hstack([X, Y]))
    np.testing.assert_allclose(sgd.correlations_, cca.canonical_correlations_, atol=2e-3)
    np.testing.assert_allclose(sgd.score([X, Y]), cca.score(X, Y), atol=2e-3)


def test_stochastic_is_reproducible_and_warm_starts(three_views):
    X = np.hstack(three_views)
    params = {"n_components": 2, "view_sizes": SIZES, "max_iter": 3, "tol": None}
    a = StochasticMultiviewCCA(**params, random_state=0).fit(X)
    b = StochasticMultiviewCCA(**params, random_state=0).fit(X)
    np.testing.assert_array_equal(a.transform(X), b.transform(X))
    warm = StochasticMultiviewCCA(**params, random_state=0, warm_start=True).fit(X)
    loss_after_3 = warm.loss_curve_[-1]
    warm.fit(X)  # continues from the iterate: its first epoch starts where the last ended
    assert warm.loss_curve_[0] <= loss_after_3 + 1e-3
    with pytest.raises(ValueError, match="warm_start=True continues"):
        warm.set_params(n_components=1).fit(X)


def test_stochastic_divergence_is_reported(three_views):
    sgd = StochasticMultiviewCCA(2, view_sizes=SIZES, eta0=1e4, max_iter=3, random_state=0)
    with np.errstate(all="ignore"), pytest.raises(DivergenceError):
        sgd.fit(np.hstack(three_views))


def test_stochastic_sample_weight_is_used(three_views):
    X = np.hstack(three_views)
    w = np.r_[np.ones(400), np.zeros(400)]
    est = StochasticMultiviewCCA(2, view_sizes=SIZES, batch_size=50, tol=None, random_state=0)
    weighted = clone(est).fit(X, sample_weight=w)
    exact_half = MultiviewCCA(2, view_sizes=SIZES).fit(X[:400])
    np.testing.assert_allclose(weighted.mean_, X[:400].mean(0), atol=1e-12)
    assert weighted.eigenvalues_.sum() / exact_half.eigenvalues_.sum() >= 0.99


def test_a_one_dimensional_view_in_a_list_is_a_clear_error():
    rng = np.random.default_rng(0)
    views = [rng.normal(size=(50, 3)), rng.normal(size=50)]
    with pytest.raises(ValueError, match=r"View 1 of the list is 1-D.*reshape\(-1, 1\)"):
        MultiviewCCA().fit(views)
    fitted = MultiviewCCA().fit([views[0], views[1].reshape(-1, 1)])
    assert fitted.view_sizes_ == (3, 1)
