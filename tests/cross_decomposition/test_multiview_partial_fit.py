"""StochasticMultiviewCCA.partial_fit: streaming chunks, against independent routes.

The objective reached is measured on all rows as the sum of the top-K generalised
eigenvalues of the exact problem restricted to the fitted span (the exact
:class:`MultiviewCCA` of the K-dimensional scores, which at ``regularization=0`` does
not depend on the basis or on the running standardization), over the exact
solution's.  The running statistics are checked against ``np.cov`` / ``np.mean`` of
every row seen (integer weights against repeated rows), the failure contract against
a twin estimator that never saw the failing calls, and dask-ml's ``Incremental``
against ``partial_fit`` by hand.
"""

import copy
import warnings

import numpy as np
import pytest
from sklearn.datasets import load_wine
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.cross_decomposition import MultiviewCCA, StochasticMultiviewCCA
from sklearn_losses.datasets import make_multiview
from sklearn_losses.utils import DivergenceError

SIZES = (12, 12, 12)


@pytest.fixture(scope="module", params=[1, 300], ids=["well", "ill"])
def problem(request):
    """Three views of 12 columns; "ill": each mixed with condition number 300 (cov. ~1e5)."""
    X, sizes = make_multiview(2000, SIZES, correlations=(0.9, 0.7), condition_number=request.param,
                              return_concatenated=True, random_state=0)  # fmt: skip
    X.setflags(write=False)
    return request.param, X


def _chunks(n, n_chunks=4):
    return np.array_split(np.arange(n), n_chunks)


def _stream(est, X, passes, n_chunks=4, sample_weight=None):
    for _ in range(passes):
        for rows in _chunks(len(X), n_chunks):
            est.partial_fit(
                X[rows], sample_weight=None if sample_weight is None else sample_weight[rows]
            )
    return est


def _share(est, X, exact):
    """Share of the exact objective reached by the fitted span, on all rows."""
    span = MultiviewCCA(est.n_components_, view_sizes=(est.n_components_,) * est.n_views_,
                        method=est.method, scale=False).fit(est.transform(X))  # fmt: skip
    return span.eigenvalues_.sum() / exact.eigenvalues_.sum()


def _view_covariances(est):
    """The running covariances of the unstandardized views (``partial_fit``'s state)."""
    dims = sum(est.view_sizes_)
    return est._running.covariances(np.zeros(dims), np.ones(dims))


def _views(X, sizes=SIZES):
    return np.split(X, np.cumsum(sizes)[:-1], axis=1)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
def test_streaming_reaches_the_exact_objective(problem, method):
    condition, X = problem
    exact = MultiviewCCA(2, view_sizes=SIZES, method=method).fit(X)
    # 4 chunks of 500 rows, 5 passes: 20 epochs of 10 steps, the step decaying per call
    est = StochasticMultiviewCCA(2, view_sizes=SIZES, method=method, batch_size=50, random_state=0)
    _stream(est, X, passes=5)
    assert est.n_iter_ == 20
    assert _share(est, X, exact) >= 0.99  # measured 0.9991-0.9999
    if condition > 1:  # plain steps stall on the ill-conditioned views (measured 0.25 / 0.54)
        plain = _stream(
            StochasticMultiviewCCA(2, view_sizes=SIZES, method=method, batch_size=50,
                                   precondition=False, random_state=0), X, passes=5,
        )  # fmt: skip
        assert _share(plain, X, exact) < 0.9
    # the running covariance is that of every row seen (the data, 5 times); the
    # standardization their means and standard deviations
    for cov, view in zip(_view_covariances(est), _views(X)):
        np.testing.assert_allclose(cov, np.cov(np.vstack([view] * 5).T), rtol=1e-9)
    np.testing.assert_allclose(est.mean_, X.mean(axis=0), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(est.std_, np.vstack([X] * 5).std(axis=0, ddof=1), rtol=1e-12)
    assert est._running.x.weight == 5 * len(X)


def test_weighted_chunks_equal_repeated_rows(problem):
    _, X = problem
    w = np.random.default_rng(1).integers(0, 4, len(X))
    weighted = StochasticMultiviewCCA(2, view_sizes=SIZES, random_state=0)
    _stream(weighted, X, passes=1, sample_weight=w.astype(float))
    repeated = StochasticMultiviewCCA(2, view_sizes=SIZES, random_state=0).partial_fit(
        np.repeat(X, w, axis=0)
    )
    for a, b in zip(_view_covariances(weighted), _view_covariances(repeated)):
        np.testing.assert_allclose(a, b, rtol=1e-9)
    np.testing.assert_allclose(weighted.mean_, repeated.mean_, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(weighted.std_, repeated.std_, rtol=1e-12)
    assert weighted._running.x.weight == repeated._running.x.weight == w.sum()


def _state(est):
    return copy.deepcopy(vars(est))


def _same(a, b):
    """Equal to the last bit (arrays, nested tuples and lists, generators' states)."""
    if isinstance(a, np.random.Generator):
        return a.bit_generator.state == b.bit_generator.state
    if isinstance(a, np.ndarray):
        return a.dtype == b.dtype and np.array_equal(a, b, equal_nan=a.dtype.kind == "f")
    if isinstance(a, (list, tuple)):
        return type(a) is type(b) and len(a) == len(b) and all(map(_same, a, b))
    return a == b


def _assert_same_state(actual, expected):
    assert sorted(actual) == sorted(expected)
    for key, value in expected.items():
        assert _same(actual[key], value), key


def test_a_failing_call_leaves_every_attribute_unchanged(problem):
    _, X = problem
    params = {"n_components": 2, "view_sizes": SIZES, "batch_size": 50, "random_state": 0}
    est, twin = StochasticMultiviewCCA(**params), StochasticMultiviewCCA(**params)
    chunks = _chunks(len(X), 8)
    for rows in chunks[:6]:  # past 4 rows per feature: preconditioned
        est.partial_fit(X[rows])
        twin.partial_fit(X[rows])
    assert est._running.is_reliable()
    before = _state(est)
    nan = X[chunks[6]].copy()
    nan[3, 4] = np.nan
    failing = [
        (X[chunks[6], :-1], "features"),  # another number of features
        (_views(X[chunks[6]], (12, 12, 12))[:2] + [X[chunks[6], 24:35]], "features"),
        (_views(X[chunks[6]], (10, 14, 12)), "widths"),  # the same columns, other views
        (nan, "NaN"),
        (X[chunks[6]][:2], "n_components_ \\+ 1 = 3 rows"),  # too few rows for the rotation
    ]
    for chunk, match in failing:
        with pytest.raises(ValueError, match=match):
            est.partial_fit(chunk)
        _assert_same_state(vars(est), before)
    with pytest.raises(ValueError, match="n_components_ \\+ 1"):  # positive weights only
        est.partial_fit(X[chunks[6]][:5], sample_weight=[1.0, 1.0, 0.0, 0.0, 0.0])
    _assert_same_state(vars(est), before)
    est.set_params(eta0=1e4)
    with np.errstate(all="ignore"), pytest.raises(DivergenceError):
        est.partial_fit(X[chunks[6]])
    est.set_params(eta0="auto")
    _assert_same_state(vars(est), before)
    # and it continues as if the failing calls had not been made, to the last bit
    for rows in chunks[6:]:
        est.partial_fit(X[rows])
        twin.partial_fit(X[rows])
    _assert_same_state(vars(est), _state(twin))
    # a failing first call leaves the estimator unfitted
    fresh = StochasticMultiviewCCA(**params)
    with pytest.raises(ValueError):
        fresh.partial_fit(nan)
    assert not [key for key in vars(fresh) if key.endswith("_") or key.startswith("_")]


def test_the_first_call_fixes_the_views_and_components():
    X, _ = make_multiview(300, (4, 3, 5), correlations=(0.9, 0.5), return_concatenated=True,
                          random_state=1)  # fmt: skip
    est = StochasticMultiviewCCA(view_sizes=(4, 3, 5), random_state=0).partial_fit(X[:3])
    assert est.n_components_ == 2  # min(view_sizes + (n_samples - 1,)), from the first chunk
    assert est.view_sizes_ == (4, 3, 5) and est.weights_[2].shape == (5, 2)
    est.partial_fit(X[3:100])  # n_components_ stays
    assert est.n_components_ == 2 and est.n_iter_ == 2
    with pytest.raises(ValueError, match="n_components=4 must be <="):
        StochasticMultiviewCCA(4, view_sizes=(4, 3, 5)).partial_fit(X)
    with pytest.raises(ValueError, match="view_sizes=\\(4, 3, 4\\) sums to 11"):
        StochasticMultiviewCCA(view_sizes=(4, 3, 4)).partial_fit(X)
    # a list of views fixes their widths
    views = _views(X, (4, 3, 5))
    listed = StochasticMultiviewCCA(2, random_state=0).partial_fit(views)
    assert listed.view_sizes_ == (4, 3, 5)
    with pytest.raises(ValueError, match="widths"):
        listed.partial_fit([X[:, :3], X[:, 3:7], X[:, 7:]])


def test_partial_fit_continues_a_fit(problem):
    _, X = problem
    exact = MultiviewCCA(2, view_sizes=SIZES).fit(X)
    est = StochasticMultiviewCCA(2, view_sizes=SIZES, batch_size=50, max_iter=1, tol=None,
                                 random_state=0).fit(X)  # fmt: skip
    fit_iterate = [u.copy() for u in est._iterate]
    for cov, view in zip(_view_covariances(est), _views(X)):
        np.testing.assert_allclose(cov, np.cov(view.T), rtol=1e-9)
    before = _share(est, X, exact)
    # the first chunk's epoch starts from the fit's iterate: with a vanishing step it stays
    still = copy.deepcopy(est).set_params(eta0=1e-12).partial_fit(X[_chunks(len(X))[0]])
    for u, u0 in zip(still._iterate, fit_iterate):
        np.testing.assert_allclose(u, u0, rtol=1e-9, atol=1e-12 * np.abs(u0).max())
    est.partial_fit(X[_chunks(len(X))[0]])
    assert est.n_iter_ == 2
    for rows in _chunks(len(X))[1:]:
        est.partial_fit(X[rows])
    assert est.n_iter_ == 5 and est._running.x.weight == 2 * len(X)
    for cov, view in zip(_view_covariances(est), _views(X)):
        np.testing.assert_allclose(cov, np.cov(np.vstack([view] * 2).T), rtol=1e-9)
    np.testing.assert_allclose(est.std_, np.vstack([X] * 2).std(axis=0, ddof=1), rtol=1e-12)
    after = _share(est, X, exact)
    assert 1 - after < (1 - before) / 2  # the chunks continue the fit's iterate


def test_small_chunks_of_wine_stay_finite():
    # 11-row chunks of three views of 5, 4 and 4 columns: the running covariance is noise
    # until 4 rows per feature are in (plain steps); the rotation uses the chunk's own
    # centred moments, so its correlations are those of the chunk's scores
    data = load_wine().data
    X = data[np.random.default_rng(0).permutation(len(data))]
    sizes = (5, 4, 4)
    for method in ("mcca", "gcca"):
        est = StochasticMultiviewCCA(2, view_sizes=sizes, method=method, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for _ in range(3):
                for i in range(0, 176, 11):
                    est.partial_fit(X[i : i + 11])
        assert all(np.all(np.isfinite(W)) and np.abs(W).max() < 1e3 for W in est.weights_)
        scores = est.transform_views(X[165:176])
        for v in range(3):
            for u in range(v + 1, 3):
                corr = [np.corrcoef(scores[v][:, k], scores[u][:, k])[0, 1] for k in range(2)]
                np.testing.assert_allclose(est.pairwise_correlations_[:, v, u], corr, atol=1e-10)
        assert np.all(np.abs(est.correlations_) <= 1)
        # and on all rows the span is well inside the exact solution's objective
        exact = MultiviewCCA(2, view_sizes=sizes, method=method).fit(X)
        assert 0.5 < _share(est, X, exact) <= 1 + 1e-10


def test_dask_ml_incremental_equals_partial_fit_by_hand(problem):
    dask = pytest.importorskip("dask")
    da = pytest.importorskip("dask.array")
    Incremental = pytest.importorskip("dask_ml.wrappers").Incremental
    _, X = problem
    chunks = (97, 150, 43, 120, 89)
    X = X[: sum(chunks)]
    est = StochasticMultiviewCCA(2, view_sizes=SIZES, batch_size=32, random_state=0)
    with dask.config.set(scheduler="threads"):
        dX = da.from_array(X, chunks=(chunks, -1))
        inc = Incremental(copy.deepcopy(est), shuffle_blocks=False).fit(dX)
        scores = inc.transform(dX).compute()
    bounds = np.cumsum((0,) + chunks)
    for a, b in zip(bounds[:-1], bounds[1:]):
        est.partial_fit(X[a:b])
    _assert_same_state(vars(inc.estimator_), _state(est))
    np.testing.assert_allclose(scores, est.transform(X), rtol=1e-12, atol=1e-12)
