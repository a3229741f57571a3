"""CCA on dask input (issue 15): fitted blockwise, equal to the NumPy fit."""

import pickle

import numpy as np
import pytest

from sklearn_losses.cross_decomposition import CCA
from sklearn_losses.datasets import make_multiview

da = pytest.importorskip("dask.array")

CHUNKS = (137, 500, 63, 1300)  # uneven, one chunk smaller than the number of columns
ATTRIBUTES = (
    "x_weights_",
    "y_weights_",
    "canonical_correlations_",
    "eigenvalues_",
    "x_loadings_",
    "y_loadings_",
    "coef_",
    "intercept_",
    "x_mean_",
    "x_std_",
    "y_mean_",
    "y_std_",
)


@pytest.fixture(scope="module")
def views():
    X, Y = make_multiview(sum(CHUNKS), (7, 5), correlations=(0.9, 0.6, 0.3), random_state=0)
    X[:, 0] += 1e3  # an offset tests the stability of the merged statistics
    w = np.random.default_rng(0).uniform(0, 3, size=len(X))
    return X, Y, w


def _dask(array):
    return da.from_array(array, chunks=(CHUNKS,) + array.shape[1:])


def _assert_fits_equal(dask_fit, numpy_fit):
    for name in ATTRIBUTES:
        got = getattr(dask_fit, name)
        assert isinstance(got, np.ndarray), name
        np.testing.assert_allclose(
            got, getattr(numpy_fit, name), rtol=1e-10, atol=1e-10, err_msg=name
        )


@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("scale", [True, False])
@pytest.mark.parametrize("c", [0.0, 0.5, 1.0])
def test_dask_fit_equals_numpy_fit(c, scale, weighted, views):
    X, Y, w = views
    w = w if weighted else None
    numpy_fit = CCA(3, regularization=c, scale=scale).fit(X, Y, sample_weight=w)
    dask_w = None if w is None else _dask(w)
    dask_fit = CCA(3, regularization=c, scale=scale).fit(_dask(X), _dask(Y), sample_weight=dask_w)
    _assert_fits_equal(dask_fit, numpy_fit)
    x_scores, y_scores = dask_fit.transform(_dask(X), _dask(Y))
    prediction = dask_fit.predict(_dask(X))
    for lazy in (x_scores, y_scores, prediction, dask_fit.transform(_dask(X))):
        assert isinstance(lazy, da.Array)
    expected_x, expected_y = numpy_fit.transform(X, Y)
    np.testing.assert_allclose(x_scores.compute(), expected_x, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(y_scores.compute(), expected_y, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(prediction.compute(), numpy_fit.predict(X), rtol=1e-10, atol=1e-10)


def test_none_components_one_column_y_and_numpy_weights(views):
    X, Y, w = views
    numpy_fit = CCA().fit(X, Y[:, 0], sample_weight=w)
    dask_fit = CCA().fit(_dask(X), _dask(Y[:, 0]), sample_weight=w)  # NumPy weights too
    assert dask_fit.n_components_ == numpy_fit.n_components_ == 1
    _assert_fits_equal(dask_fit, numpy_fit)
    prediction = dask_fit.predict(_dask(X))
    assert prediction.shape == (len(X),)
    np.testing.assert_allclose(prediction.compute(), numpy_fit.predict(X), atol=1e-10)


def test_dask_dataframes_keep_feature_names(views):
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, Y, _ = views
    frame = pd.DataFrame(X, columns=[f"x{i}" for i in range(X.shape[1])])
    X_dd = dd.from_pandas(frame, npartitions=3)
    Y_dd = dd.from_pandas(pd.DataFrame(Y), npartitions=3)
    dask_fit = CCA(2).fit(X_dd, Y_dd)
    _assert_fits_equal(dask_fit, CCA(2).fit(frame, Y))
    np.testing.assert_array_equal(dask_fit.feature_names_in_, frame.columns)
    scores = dask_fit.transform(X_dd)
    assert isinstance(scores, da.Array)
    np.testing.assert_allclose(scores.compute(), CCA(2).fit(X, Y).transform(X), atol=1e-10)


def test_fitted_on_dask_pickles_and_predicts_numpy(views):
    X, Y, _ = views
    fitted = pickle.loads(pickle.dumps(CCA(2).fit(_dask(X), _dask(Y))))
    prediction = fitted.predict(X[:10])
    assert isinstance(prediction, np.ndarray)
    np.testing.assert_allclose(prediction, CCA(2).fit(X, Y).predict(X[:10]), atol=1e-10)


@pytest.mark.parametrize("view", ["X", "Y"])
def test_nan_in_one_chunk_is_the_numpy_error(view, views):
    X, Y, _ = views
    X, Y = X.copy(), Y.copy()
    (X if view == "X" else Y)[700, 1] = np.nan  # inside the third chunk only
    with pytest.raises(ValueError) as numpy_error:
        CCA(2).fit(X, Y)
    with pytest.raises(ValueError) as dask_error:
        CCA(2).fit(_dask(X), _dask(Y))
    assert str(dask_error.value) == str(numpy_error.value)
    assert f"Input {view} contains NaN" in str(dask_error.value)


def test_invalid_dask_weights_and_shapes_are_clear_errors(views):
    X, Y, w = views
    negative = w.copy()
    negative[900] = -1.0
    with pytest.raises(ValueError, match="CCA: Negative values in data passed to `sample_weight`"):
        CCA(2).fit(_dask(X), _dask(Y), sample_weight=_dask(negative))
    with pytest.raises(ValueError, match="must sum to more than 1"):
        CCA(2).fit(_dask(X), _dask(Y), sample_weight=_dask(w * 1e-6))
    with pytest.raises(ValueError, match="n_components=6 must be <="):
        CCA(6).fit(_dask(X), _dask(Y))
    with pytest.raises(ValueError, match="rows"):
        CCA(2).fit(_dask(X), da.from_array(Y[:-1], chunks=(500, 5)))
    fitted = CCA(2).fit(_dask(X), _dask(Y))
    with pytest.raises(ValueError, match="features"):
        fitted.transform(_dask(X[:, :-1]))


def test_score_on_dask_views_equals_numpy_score(views):
    X, Y, _ = views
    fitted = CCA(n_components=3).fit(X[:1000], Y[:1000])
    on_dask = fitted.score(_dask(X), _dask(Y))
    assert isinstance(on_dask, float)
    assert on_dask == pytest.approx(fitted.score(X, Y), rel=1e-12)
