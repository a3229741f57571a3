"""Dask input for the aggregate linear models: blockwise statistics equal the NumPy fit.

The rows are permuted before chunking so that every bag is scattered over several
chunks of uneven size; the per-bag sums are merged by bag id in the reduction.
Everything runs on dask's local threaded scheduler.
"""

import pickle

import dask
import dask.array as da
import dask.dataframe as dd
import numpy as np
import pandas as pd
import pytest

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    aggregate_responses,
    make_bags,
)

CHUNKS = (137, 500, 63, 311, 489, 500)  # uneven, 2000 rows


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    n, d = sum(CHUNKS), 6
    X = rng.normal(size=(n, d)) + 2.0
    y = X @ rng.normal(size=d) + rng.normal(size=n)
    bags = make_bags(n, 8, random_state=0)  # make_bags shuffles: bags span chunks
    y_bag = aggregate_responses(y, bags)
    weight = rng.integers(0, 4, size=n).astype(float)
    return X, y_bag, bags, weight


def _dask(array, chunks=CHUNKS):
    return da.from_array(array, chunks=(chunks,) + array.shape[1:])


def _assert_same_fit(a, b, X):
    np.testing.assert_allclose(b.coef_, a.coef_, rtol=0, atol=1e-10)
    assert abs(b.intercept_ - a.intercept_) < 1e-10
    assert b.n_bags_ == a.n_bags_
    assert isinstance(b.coef_, np.ndarray)
    np.testing.assert_allclose(b.predict(X), a.predict(X), rtol=0, atol=1e-10)


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("fit_intercept", [True, False])
def test_dask_fit_equals_numpy_fit(data, rho, weighted, fit_intercept):
    X, y, bags, weight = data
    sw = weight if weighted else None
    reg = AggregateLinearRegression(rho, fit_intercept=fit_intercept)
    expected = reg.fit(X, y, bags=bags, sample_weight=sw)
    expected = pickle.loads(pickle.dumps(expected))
    # everything dask, with chunks of their own (rechunked to X's), bag ids as raw values
    got = AggregateLinearRegression(rho, fit_intercept=fit_intercept).fit(
        _dask(X),
        _dask(y, (700, 1300)),
        bags=_dask(bags, (1000, 1000)),
        sample_weight=None if sw is None else _dask(sw),
    )
    _assert_same_fit(expected, pickle.loads(pickle.dumps(got)), X)
    # NumPy bags and weights beside a dask X
    got = AggregateLinearRegression(rho, fit_intercept=fit_intercept).fit(
        _dask(X), y, bags=bags, sample_weight=sw
    )
    _assert_same_fit(expected, got, X)


def test_dask_fit_without_bags_is_least_squares(data):
    X, y, _, weight = data
    expected = AggregateLinearRegression().fit(X, y, sample_weight=weight)
    got = AggregateLinearRegression().fit(_dask(X), _dask(y), sample_weight=_dask(weight))
    _assert_same_fit(expected, got, X)


def test_dask_dataframe_and_series(data):
    X, y, bags, weight = data
    columns = [f"x{j}" for j in range(X.shape[1])]
    frame = dd.from_pandas(pd.DataFrame(X, columns=columns), npartitions=4)
    series = dd.from_pandas(pd.Series(y), npartitions=3)
    bag_series = dd.from_pandas(pd.Series(bags), npartitions=5)
    weights = dd.from_pandas(pd.Series(weight), npartitions=2)
    expected = AggregateLinearRegression(0.3).fit(X, y, bags=bags, sample_weight=weight)
    got = AggregateLinearRegression(0.3).fit(frame, series, bags=bag_series, sample_weight=weights)
    assert list(got.feature_names_in_) == columns
    assert got.n_features_in_ == X.shape[1]
    np.testing.assert_allclose(got.coef_, expected.coef_, rtol=0, atol=1e-10)
    prediction = got.predict(frame)
    assert isinstance(prediction, da.Array)
    np.testing.assert_allclose(prediction.compute(), expected.predict(X), rtol=0, atol=1e-10)


def test_predict_on_dask_is_lazy_and_equals_numpy(data):
    X, y, bags, _ = data
    reg = AggregateLinearRegression(0.5).fit(X, y, bags=bags)
    X_dask = _dask(X)
    prediction = reg.predict(X_dask)
    assert isinstance(prediction, da.Array)
    assert prediction.chunks == (CHUNKS,)
    np.testing.assert_allclose(prediction.compute(), reg.predict(X), rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="features"):
        reg.predict(_dask(X[:, :3]))


def test_fit_never_computes_more_than_one_pass(data):
    """The reduction reads each chunk of X once: X's blocks are computed len(CHUNKS) times."""
    X, y, bags, _ = data
    calls = []

    def load(block):
        calls.append(block.shape[0])
        return block

    X_dask = _dask(X).map_blocks(load, dtype=np.float64, meta=np.empty((0, 0)))
    AggregateLinearRegression(0.5).fit(X_dask, y, bags=bags)
    assert sorted(calls) == sorted(CHUNKS)


@pytest.mark.parametrize(
    "where, match",
    [("X", "Input X contains NaN"), ("y", "Input y contains NaN"), ("bags", "bags contains NaN")],
)
def test_nan_in_a_chunk_is_a_clear_error(data, where, match):
    X, y, bags, _ = data
    X, y, bags = X.copy(), y.copy(), bags.astype(float)
    {"X": X[:, 0], "y": y, "bags": bags}[where][1500] = np.nan
    with pytest.raises(ValueError, match=match):
        AggregateLinearRegression().fit(_dask(X), _dask(y), bags=_dask(bags))


def test_bad_dask_weights_and_shapes(data):
    X, y, bags, weight = data
    with pytest.raises(ValueError, match="Negative"):
        AggregateLinearRegression().fit(_dask(X), y, bags=bags, sample_weight=_dask(-weight))
    with pytest.raises(ValueError, match="non-zero"):
        AggregateLinearRegression().fit(_dask(X), y, bags=bags, sample_weight=_dask(0 * weight))
    with pytest.raises(ValueError, match="rows"):
        AggregateLinearRegression().fit(_dask(X), y[:-1], bags=bags)
    with pytest.raises(ValueError, match="ids"):
        AggregateLinearRegression().fit(_dask(X), y, bags=bags[:-1])


@pytest.mark.parametrize("weighted", [False, True])
def test_cv_on_dask_equals_numpy(data, weighted):
    X, y, bags, weight = data
    sw = weight if weighted else None
    expected = AggregateLinearRegressionCV(alpha=1e-3).fit(X, y, bags=bags, sample_weight=sw)
    got = AggregateLinearRegressionCV(alpha=1e-3).fit(
        _dask(X), _dask(y), bags=_dask(bags), sample_weight=None if sw is None else _dask(sw)
    )
    assert got.rho_ == expected.rho_
    np.testing.assert_allclose(got.cv_scores_, expected.cv_scores_, rtol=1e-10, atol=0)
    _assert_same_fit(expected, got, X)


def test_dask_fit_runs_on_the_synchronous_scheduler(data):
    X, y, bags, _ = data
    expected = AggregateLinearRegression(0.2).fit(X, y, bags=bags)
    with dask.config.set(scheduler="synchronous"):
        got = AggregateLinearRegression(0.2).fit(_dask(X), y, bags=_dask(bags))
    _assert_same_fit(expected, got, X)
