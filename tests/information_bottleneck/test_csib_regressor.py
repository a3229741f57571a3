"""CSIBRegressor: objective, targets, edge cases, the API."""

import numpy as np
import pytest
from sklearn.datasets import make_friedman1
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skorch")
from sklearn_losses.information_bottleneck import (  # noqa: E402
    CSIBRegressor,
    cs_mutual_information,
)

SMALL = {
    "hidden_layer_sizes": (32, 32),
    "decoder_layer_sizes": (16,),
    "learning_rate_init": 1e-2,
    "max_iter": 10,
    "batch_size": 64,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_friedman1(400, noise=0.5, random_state=0)
    return X, y


def test_same_seed_same_predictions(data):
    X, y = data
    a = CSIBRegressor(random_state=1, **SMALL).fit(X, y).predict(X)
    b = CSIBRegressor(random_state=1, **SMALL).fit(X, y).predict(X)
    c = CSIBRegressor(random_state=2, **SMALL).fit(X, y).predict(X)
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_learns_on_the_original_scale(data):
    X, y = data
    reg = CSIBRegressor(random_state=0, **{**SMALL, "max_iter": 40}).fit(X, 1000 + 50 * y)
    assert reg.score(X, 1000 + 50 * y) > 0.8


def test_multi_output_and_shapes(data):
    X, y = data
    Y = np.column_stack([y, -2 * y + 3])
    reg = CSIBRegressor(random_state=0, **{**SMALL, "max_iter": 30}).fit(X, Y)
    assert reg.predict(X).shape == (400, 2)
    assert reg.score(X, Y) > 0.7
    assert CSIBRegressor(**SMALL).fit(X, y).predict(X).shape == (400,)
    assert reg.transform(X).shape == (400, 32)
    np.testing.assert_allclose(reg.fit_transform(X, Y), reg.transform(X))


def test_constant_target_gives_finite_weights_and_the_constant(data):
    X, _ = data
    reg = CSIBRegressor(random_state=0, **SMALL).fit(X, np.full(400, 7.0))
    weights = [p.detach().numpy() for p in reg.net_.module_.parameters()]
    assert all(np.all(np.isfinite(w)) for w in weights)
    np.testing.assert_allclose(reg.predict(X), 7.0, atol=0.5)
    assert np.all(np.isfinite(reg.information_plane_["prediction"]))


def test_information_plane_records_the_training_terms(data):
    X, y = data
    reg = CSIBRegressor(beta=0.1, random_state=0, **SMALL).fit(X, y)
    plane = reg.information_plane_
    assert plane["mutual_information"].shape == plane["prediction"].shape == (10,)
    assert np.all(plane["mutual_information"] >= 0)
    # the recorded term is the batch estimate (batch size matters: the kernels are
    # nearly diagonal in 10 dimensions); recompute it on batches of the final network
    Xs, t = StandardScaler().fit_transform(X), reg.transform(X)
    batches = np.array_split(np.random.default_rng(0).permutation(400), 400 // 64)
    widths = {"sigma": reg.sigma_x, "sigma_t": reg.sigma_t}
    recomputed = np.mean(
        [cs_mutual_information(Xs[b], t[b], normalized=True, **widths) for b in batches]
    )
    assert abs(recomputed - plane["mutual_information"][-1]) < 0.05


def test_mse_loss_records_the_mean_squared_error(data):
    X, y = data
    reg = CSIBRegressor(beta=0.0, loss="mse", random_state=0, **SMALL).fit(X, y)
    # the prediction term is the MSE of standardized targets (batch means, last epoch)
    mse = np.mean((reg.predict(X) - y) ** 2) / y.var()
    assert reg.information_plane_["prediction"][-1] == pytest.approx(mse, rel=0.5)


@pytest.mark.parametrize(
    "params",
    [{"estimator": "paper"}, {"noise_std": 0.5}, {"sigma_y": "median", "sigma_t": "median"}],
)
def test_variants_train(data, params):
    X, y = data
    reg = CSIBRegressor(random_state=0, **{**SMALL, "max_iter": 30, **params}).fit(X, y)
    assert reg.score(X, y) > 0.6


def test_early_stopping_stops(data):
    X, y = data
    reg = CSIBRegressor(
        random_state=0, early_stopping=True, n_iter_no_change=3, **{**SMALL, "max_iter": 300}
    ).fit(X, y)
    assert len(reg.net_.history) < 300


def test_batch_edge_cases(data):
    X, y = data
    with pytest.raises(ValueError, match="batch_size"):
        CSIBRegressor(batch_size=1).fit(X, y)
    # 65 rows in batches of 64 leave a batch of one: it is dropped
    reg = CSIBRegressor(random_state=0, **SMALL).fit(X[:65], y[:65])
    assert np.all(np.isfinite(reg.predict(X)))
    with pytest.warns(UserWarning, match="Gram"):
        CSIBRegressor(**{**SMALL, "batch_size": 4096, "max_iter": 1}).fit(X, y)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"sigma_x": 0.0}, "sigma_x"),
        ({"sigma_y": -1.0}, "sigma_y"),
        ({"sigma_t": "mean"}, "sigma_t"),
        ({"hidden_layer_sizes": ()}, "hidden_layer_sizes must name at least one layer"),
        ({"beta": -1.0}, "beta"),
    ],
)
def test_bad_parameters(data, params, match):
    X, y = data
    with pytest.raises(ValueError, match=match):
        CSIBRegressor(**params).fit(X, y)


def test_nan_is_rejected(data):
    X, y = data
    X = X.copy()
    X[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        CSIBRegressor(**SMALL).fit(X, y)
    with pytest.raises(ValueError, match="NaN"):
        CSIBRegressor(**SMALL).fit(np.nan_to_num(X), np.where(y > 20, np.nan, y))


def test_grid_search_over_beta_in_a_pipeline(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), CSIBRegressor(random_state=0, **SMALL))
    grid = GridSearchCV(pipe, {"csibregressor__beta": [0.0, 1e-2, 1e-1]}, cv=2).fit(X, y)
    assert len(grid.cv_results_["mean_test_score"]) == 3
    assert grid.best_score_ > 0.5
