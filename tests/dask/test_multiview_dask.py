"""MultiviewCCA on dask input: fitted blockwise, equal to the NumPy fit.

The NumPy fit is the oracle (tests/cross_decomposition/test_multiview.py holds it to
scipy's generalised eigensolver and to cca-zoo); the merged chunk statistics are held
to ``numpy.cov`` directly.  Everything runs on dask's local threaded scheduler, as
CCA's dask tests do.
"""

import pickle
import warnings

import numpy as np
import pytest

from sklearn_losses.cross_decomposition import MultiviewCCA
from sklearn_losses.cross_decomposition._statistics import dask_view_moments
from sklearn_losses.datasets import make_multiview

da = pytest.importorskip("dask.array")

CHUNKS = (137, 500, 63, 1300)  # uneven, one chunk smaller than the number of columns
SIZES = (7, 5, 4)
ATOL = 1e-10


@pytest.fixture(scope="module")
def data():
    X, sizes = make_multiview(
        sum(CHUNKS), SIZES, correlations=(0.9, 0.6, 0.3), return_concatenated=True, random_state=0
    )
    assert sizes == SIZES
    X[:, 0] += 1e3  # an offset tests the stability of the merged statistics
    w = np.random.default_rng(0).uniform(0, 3, size=len(X))
    return X, w


def _dask(array, chunks=CHUNKS):
    return da.from_array(array, chunks=(chunks,) + array.shape[1:])


def _views(X):
    edges = np.cumsum((0,) + SIZES)
    return [X[:, a:b] for a, b in zip(edges[:-1], edges[1:])]


def _max_difference(dask_fit, numpy_fit):
    """Largest absolute difference over the fitted arrays (all checked to be NumPy)."""
    assert dask_fit.view_sizes_ == numpy_fit.view_sizes_
    assert dask_fit.n_components_ == numpy_fit.n_components_
    assert dask_fit.n_features_in_ == numpy_fit.n_features_in_
    pairs = list(zip(dask_fit.weights_, numpy_fit.weights_))
    for name in ("eigenvalues_", "correlations_", "pairwise_correlations_", "mean_", "std_"):
        pairs.append((getattr(dask_fit, name), getattr(numpy_fit, name)))
    for got, expected in pairs:
        assert type(got) is np.ndarray and got.shape == expected.shape
    return max(np.abs(got - expected).max() for got, expected in pairs)


def test_chunk_statistics_of_three_views_are_numpys_weighted_covariance(data):
    X, w = data
    views = [_dask(view) for view in _views(X)]
    names = ("view 0", "view 1", "view 2")
    for weights in (None, w):
        dask_w = None if weights is None else _dask(weights)
        moments = dask_view_moments(*views, dask_w, name="test", input_names=names)
        total = len(X) if weights is None else weights.sum()
        assert moments.weight == pytest.approx(total, rel=1e-14)
        assert moments.n_positive == len(X)
        np.testing.assert_allclose(moments.mean, np.average(X, axis=0, weights=weights), atol=1e-10)
        expected = np.cov(X, rowvar=False, fweights=None, aweights=weights, ddof=0) * total
        np.testing.assert_allclose(moments.comoment, expected, rtol=1e-11, atol=1e-9)


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("method", ["mcca", "gcca"])
@pytest.mark.parametrize("c, scale", [(0.0, True), ((0.2, 0.5, 1.0), False)])
def test_dask_fit_equals_numpy_fit(method, weighted, c, scale, data):
    X, w = data
    w = w if weighted else None
    params = {"view_sizes": SIZES, "method": method, "regularization": c, "scale": scale}
    numpy_fit = MultiviewCCA(3, **params).fit(X, sample_weight=w)
    dask_w = None if w is None else _dask(w)
    dask_fit = MultiviewCCA(3, **params).fit(_dask(X), sample_weight=dask_w)
    assert _max_difference(dask_fit, numpy_fit) < ATOL
    scores = dask_fit.transform(_dask(X))
    per_view = dask_fit.transform_views(_dask(X))
    for lazy in (scores, *per_view):
        assert isinstance(lazy, da.Array)
    assert scores.chunks[0] == CHUNKS
    np.testing.assert_allclose(scores.compute(), numpy_fit.transform(X), rtol=0, atol=ATOL)
    for got, expected in zip(da.compute(*per_view), numpy_fit.transform_views(X)):
        np.testing.assert_allclose(got, expected, rtol=0, atol=ATOL)


def test_list_of_dask_views_and_numpy_weights(data):
    """A list of views (dask arrays in other chunks, a NumPy view), weights as NumPy."""
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, w = data
    v0, v1, v2 = _views(X)
    views = [
        _dask(v0),
        dd.from_pandas(pd.DataFrame(v1, columns=list("abcde")), npartitions=3),
        v2,  # NumPy: wrapped in X's chunks
    ]
    numpy_fit = MultiviewCCA(method="gcca").fit(_views(X), sample_weight=w)
    dask_fit = MultiviewCCA(method="gcca").fit(views, sample_weight=w)
    assert dask_fit.view_sizes_ == SIZES and not hasattr(dask_fit, "feature_names_in_")
    assert _max_difference(dask_fit, numpy_fit) < ATOL
    scores = dask_fit.transform(views)
    assert isinstance(scores, da.Array)
    np.testing.assert_allclose(scores.compute(), numpy_fit.transform(X), rtol=0, atol=ATOL)
    with pytest.raises(ValueError, match=r"The views have widths \(7, 5\)"):
        dask_fit.transform(views[:2])
    with pytest.raises(ValueError, match="The views must have the same number of rows"):
        MultiviewCCA().fit([_dask(v0), _dask(v1[:-1], (137, 500, 63, 1299))])


def test_dask_dataframe_keeps_feature_names_and_view_sizes_none(data):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, _ = data
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    X_dd = dd.from_pandas(frame, npartitions=3)
    numpy_fit = MultiviewCCA(2).fit(frame)  # view_sizes=None: the halves, (8, 8)
    dask_fit = MultiviewCCA(2).fit(X_dd)
    assert dask_fit.view_sizes_ == numpy_fit.view_sizes_ == (8, 8)
    np.testing.assert_array_equal(dask_fit.feature_names_in_, frame.columns)
    assert _max_difference(dask_fit, numpy_fit) < ATOL
    scores = dask_fit.transform(X_dd)
    assert isinstance(scores, da.Array)
    np.testing.assert_allclose(scores.compute(), numpy_fit.transform(frame), atol=ATOL)
    renamed = dd.from_pandas(frame.rename(columns={"x0": "other"}), npartitions=3)
    with pytest.raises(ValueError, match="feature names"):
        dask_fit.transform(renamed)


def test_rank_warning_and_n_components_none_as_numpy(data):
    """A view with a repeated column at regularization 0: the same warning and cap."""
    X, _ = data
    X = X[:, :10].copy()
    X[:, 8] = X[:, 7]  # view (7, 8, 9) has rank 2
    sizes = (7, 3)

    def fit(Z):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = MultiviewCCA(view_sizes=sizes).fit(Z)
        return model, [str(warning.message) for warning in caught]

    numpy_fit, numpy_warnings = fit(X)
    dask_fit, dask_warnings = fit(_dask(X))
    assert numpy_warnings == dask_warnings and "rank deficient (ranks (7, 2)" in dask_warnings[0]
    assert dask_fit.n_components_ == numpy_fit.n_components_ == 2
    assert _max_difference(dask_fit, numpy_fit) < ATOL


def _same_error(fit_numpy, fit_dask):
    with pytest.raises(ValueError) as numpy_error:
        fit_numpy()
    with pytest.raises(ValueError) as dask_error:
        fit_dask()
    assert str(dask_error.value) == str(numpy_error.value)
    return str(dask_error.value)


def test_nan_in_one_chunk_is_the_numpy_error(data):
    X, _ = data
    X = X.copy()
    X[700, 9] = np.nan  # inside the third chunk only, in the second view
    message = _same_error(
        lambda: MultiviewCCA(view_sizes=SIZES).fit(X),
        lambda: MultiviewCCA(view_sizes=SIZES).fit(_dask(X)),
    )
    assert message.startswith("Input X contains NaN.\nMultiviewCCA does not accept")
    message = _same_error(
        lambda: MultiviewCCA().fit(_views(X)),
        lambda: MultiviewCCA().fit([_dask(view) for view in _views(X)]),
    )
    assert message == "Input view 1 contains NaN."
    fitted = MultiviewCCA(view_sizes=SIZES).fit(np.nan_to_num(X))
    lazy = fitted.transform(_dask(X))  # lazy: the chunk is checked when computed
    message = _same_error(lambda: fitted.transform(X), lazy.compute)
    assert message.startswith("Input X contains NaN.")


def test_bounds_weights_and_shapes_are_the_numpy_errors(data):
    X, w = data
    negative = w.copy()
    negative[900] = -1.0
    few = np.zeros(len(X))
    few[[5, 600, 1900]] = 1.0  # 3 positive rows: n_components <= 2
    cases = [
        (MultiviewCCA(5, view_sizes=SIZES), None),  # n_components > min(view_sizes)
        (MultiviewCCA(view_sizes=SIZES), negative),
        (MultiviewCCA(view_sizes=SIZES), w * 1e-4),  # sums to less than 1
        (MultiviewCCA(3, view_sizes=SIZES), few),  # n_components > n_positive - 1
        (MultiviewCCA(view_sizes=(7, 5, 5)), None),
        (MultiviewCCA(view_sizes=SIZES, regularization=(0.1, 0.2)), None),
    ]
    for model, weights in cases:
        dask_weights = None if weights is None else _dask(weights)
        _same_error(
            lambda m=model, sw=weights: m.fit(X, sample_weight=sw),
            lambda m=model, sw=dask_weights: m.fit(_dask(X), sample_weight=sw),
        )
    with pytest.warns(UserWarning, match="rank deficient"):  # 3 rows span 2 dimensions
        MultiviewCCA(2, view_sizes=SIZES).fit(_dask(X), sample_weight=_dask(few))  # 2 is fine
    _same_error(lambda: MultiviewCCA().fit(X[:1]), lambda: MultiviewCCA().fit(_dask(X[:1], (1,))))
    with pytest.raises(ValueError, match="sample_weight has 1999 rows but X has 2000"):
        MultiviewCCA().fit(_dask(X), sample_weight=_dask(w[:-1], (137, 500, 63, 1299)))
    one_row = [view[:1] for view in _views(X)]
    _same_error(
        lambda: MultiviewCCA().fit(one_row),
        lambda: MultiviewCCA().fit([_dask(view, (1,)) for view in one_row]),
    )
    no_column = [X[:, :3], X[:, 3:3]]
    _same_error(
        lambda: MultiviewCCA().fit(no_column),
        lambda: MultiviewCCA().fit([_dask(view) for view in no_column]),
    )
    fitted = MultiviewCCA(view_sizes=SIZES).fit(X)
    _same_error(lambda: fitted.transform(X[:, :-1]), lambda: fitted.transform(_dask(X[:, :-1])))
    one = fitted.transform(_dask(X[:1], (1,))).compute()  # one row transforms, as on NumPy
    np.testing.assert_allclose(one, fitted.transform(X[:1]), rtol=0, atol=ATOL)


def test_fit_reads_each_chunk_once(data):
    """Views sliced from one dask array: the fit loads each of its chunks once."""
    X, w = data
    calls = []

    def load(block):
        calls.append(block.shape[0])
        return block

    X_dask = _dask(X).map_blocks(load, dtype=np.float64, meta=np.empty((0, 0)))
    edges = np.cumsum((0,) + SIZES)
    views = [X_dask[:, a:b] for a, b in zip(edges[:-1], edges[1:])]
    fitted = MultiviewCCA(2).fit(views, sample_weight=_dask(w))
    assert sorted(calls) == sorted(CHUNKS)
    calls.clear()
    fitted.score(X_dask)
    assert sorted(calls) == sorted(CHUNKS)


def test_fitted_on_dask_pickles_and_transforms_numpy(data):
    X, _ = data
    fitted = pickle.loads(pickle.dumps(MultiviewCCA(2, view_sizes=SIZES).fit(_dask(X))))
    scores = fitted.transform(X[:10])
    assert isinstance(scores, np.ndarray)
    expected = MultiviewCCA(2, view_sizes=SIZES).fit(X).transform(X[:10])
    np.testing.assert_allclose(scores, expected, rtol=0, atol=ATOL)


@pytest.mark.parametrize("method", ["mcca", "gcca"])
def test_score_on_dask_equals_numpy_score(method, data):
    X, _ = data
    fitted = MultiviewCCA(3, view_sizes=SIZES, method=method).fit(X[:1000])
    held_out = X[1000:]
    on_dask = fitted.score(_dask(held_out, (300, 77, 623)))
    assert isinstance(on_dask, float)
    assert on_dask == pytest.approx(fitted.score(held_out), rel=1e-12)
    on_list = fitted.score([_dask(view) for view in _views(X)])
    assert on_list == pytest.approx(fitted.score(X), rel=1e-12)
