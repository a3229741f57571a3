"""SharedVarianceGaussianNB on dask input (issue 15): per-class statistics merged across chunks."""

import pickle

import numpy as np
import pytest
from sklearn.datasets import make_classification

from sklearn_losses.naive_bayes import SharedVarianceGaussianNB

da = pytest.importorskip("dask.array")

CHUNKS = (137, 500, 63, 1300)
ATTRIBUTES = (
    "theta_",
    "var_",
    "class_count_",
    "class_prior_",
    "pooled_var_",
    "coef_",
    "intercept_",
)
METHODS = (
    "predict_proba",
    "predict_log_proba",
    "predict_joint_log_proba",
    "decision_function",
    "predict",
)


def _data(n_classes, seed=0):
    X, y = make_classification(
        sum(CHUNKS), 6, n_informative=4, n_classes=n_classes, random_state=seed
    )
    X[:, 0] += 50.0  # an offset tests the stability of the merge
    w = np.random.default_rng(seed).uniform(0, 3, size=len(y))
    return X, y, w


def _dask(array):
    return da.from_array(array, chunks=(CHUNKS,) + array.shape[1:])


def _assert_fits_equal(dask_fit, numpy_fit):
    np.testing.assert_array_equal(dask_fit.classes_, numpy_fit.classes_)
    assert dask_fit.classes_.dtype == numpy_fit.classes_.dtype
    for name in ATTRIBUTES:
        got = getattr(dask_fit, name)
        assert isinstance(got, np.ndarray), name
        np.testing.assert_allclose(
            got, getattr(numpy_fit, name), rtol=1e-10, atol=1e-10, err_msg=name
        )


@pytest.mark.parametrize("smoothing", ["absolute", "relative"])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_classes", [2, 3])
def test_dask_fit_equals_numpy_fit(n_classes, weighted, smoothing):
    X, y, w = _data(n_classes)
    w = w if weighted else None
    numpy_fit = SharedVarianceGaussianNB(smoothing=smoothing).fit(X, y, sample_weight=w)
    dask_w = None if w is None else _dask(w)
    dask_fit = SharedVarianceGaussianNB(smoothing=smoothing).fit(
        _dask(X), _dask(y), sample_weight=dask_w
    )
    _assert_fits_equal(dask_fit, numpy_fit)
    for method in METHODS:
        lazy = getattr(dask_fit, method)(_dask(X))
        assert isinstance(lazy, da.Array), method
        expected = getattr(numpy_fit, method)(X)
        assert lazy.shape == expected.shape, method
        np.testing.assert_allclose(lazy.compute(), expected, rtol=1e-10, atol=1e-10, err_msg=method)


def test_classes_are_the_union_over_chunks():
    """A class that appears in one chunk only, and labels in no particular order."""
    X, y, _ = _data(3, seed=1)
    y = np.where(y == 2, 7, y)
    y[:137] = 0
    y[137:] = np.where(y[137:] == 0, 1, y[137:])
    y[300:310] = 0  # class 0: the first chunk and ten rows of the second
    y[-1] = 5  # class 5: one row of the last chunk
    numpy_fit = SharedVarianceGaussianNB().fit(X, y)
    dask_fit = SharedVarianceGaussianNB().fit(_dask(X), _dask(y))
    np.testing.assert_array_equal(dask_fit.classes_, [0, 1, 5, 7])
    _assert_fits_equal(dask_fit, numpy_fit)


def test_zero_weight_class_matches_numpy():
    X, y, w = _data(3)
    w[y == 2] = 0.0
    numpy_fit = SharedVarianceGaussianNB().fit(X, y, sample_weight=w)
    dask_fit = SharedVarianceGaussianNB().fit(_dask(X), _dask(y), sample_weight=_dask(w))
    _assert_fits_equal(dask_fit, numpy_fit)


def test_dask_dataframe_and_series():
    dd = pytest.importorskip("dask.dataframe")
    pd = pytest.importorskip("pandas")
    X, y, w = _data(3)
    frame = pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    X_dd = dd.from_pandas(frame, npartitions=4)
    y_dd = dd.from_pandas(pd.Series(y), npartitions=4)
    dask_fit = SharedVarianceGaussianNB().fit(X_dd, y_dd)
    numpy_fit = SharedVarianceGaussianNB().fit(frame, y)
    _assert_fits_equal(dask_fit, numpy_fit)
    np.testing.assert_array_equal(dask_fit.feature_names_in_, frame.columns)
    proba = dask_fit.predict_proba(X_dd)
    assert isinstance(proba, da.Array)
    np.testing.assert_allclose(proba.compute(), numpy_fit.predict_proba(frame), atol=1e-10)


def test_fitted_on_dask_pickles_and_predicts_numpy():
    X, y, _ = _data(3)
    fitted = pickle.loads(pickle.dumps(SharedVarianceGaussianNB().fit(_dask(X), _dask(y))))
    proba = fitted.predict_proba(X[:10])
    assert isinstance(proba, np.ndarray)
    expected = SharedVarianceGaussianNB().fit(X, y).predict_proba(X[:10])
    np.testing.assert_allclose(proba, expected, atol=1e-10)


def test_bad_dask_input_is_the_numpy_error():
    X, y, w = _data(3)
    X_nan = X.copy()
    X_nan[650, 2] = np.nan  # inside the third chunk only
    with pytest.raises(ValueError) as numpy_error:
        SharedVarianceGaussianNB().fit(X_nan, y)
    with pytest.raises(ValueError) as dask_error:
        SharedVarianceGaussianNB().fit(_dask(X_nan), _dask(y))
    assert str(dask_error.value) == str(numpy_error.value)
    assert "Input X contains NaN" in str(dask_error.value)
    with pytest.raises(ValueError, match="at least 2 classes"):
        SharedVarianceGaussianNB().fit(_dask(X), _dask(np.zeros(len(y))))
    with pytest.raises(ValueError, match="Unknown label type"):
        SharedVarianceGaussianNB().fit(_dask(X), _dask(y + 0.5))
    negative = w.copy()
    negative[900] = -1.0
    with pytest.raises(ValueError, match="Negative values in data passed to `sample_weight`"):
        SharedVarianceGaussianNB().fit(_dask(X), _dask(y), sample_weight=_dask(negative))
    with pytest.raises(ValueError, match="total sample weight is zero"):
        SharedVarianceGaussianNB().fit(_dask(X), _dask(y), sample_weight=_dask(0 * w))
