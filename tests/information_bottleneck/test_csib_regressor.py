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
    X.setflags(write=False)  # shared by every test: none may change it
    y.setflags(write=False)
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


def test_constant_target_is_learnt(data):
    # a constant column is standardized with scale 1 (not 0/0), and the network learns it
    X, _ = data
    reg = CSIBRegressor(random_state=0, **SMALL).fit(X, np.full(400, 7.0))
    np.testing.assert_allclose(reg.predict(X), 7.0, atol=0.05)
    prediction = reg.information_plane_["prediction"]
    assert np.all(prediction >= 0)  # the embedding estimator is never negative
    assert prediction[-1] < prediction[0] / 10


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


def test_series_and_exact_embedding_train_the_same_network(data):
    # the series changes the objective by at most 4e-8 per batch (float32 network)
    X, y = data
    params = {**SMALL, "max_iter": 3, "early_stopping": False}
    series = CSIBRegressor(random_state=0, **params).fit(X, y)
    exact = CSIBRegressor(random_state=0, embedding_tol=0.0, **params).fit(X, y)
    assert series.net_.embedding_tol == 1e-8 and exact.net_.embedding_tol == 0.0
    np.testing.assert_allclose(series.predict(X), exact.predict(X), rtol=1e-4)
    for key in ("prediction", "mutual_information"):
        np.testing.assert_allclose(
            series.information_plane_[key], exact.information_plane_[key], rtol=1e-5
        )


def test_early_stopping_stops_where_its_rule_says(data):
    X, y = data
    reg = CSIBRegressor(
        random_state=0, early_stopping=True, n_iter_no_change=3, **{**SMALL, "max_iter": 300}
    ).fit(X, y)
    # the last improvement of the held-out objective by more than tol, then 3 epochs more
    losses, best = reg.net_.history[:, "valid_loss"], 0
    for epoch, loss in enumerate(losses):
        if loss < losses[best] - reg.tol:
            best = epoch
    assert reg.n_iter_ == len(losses) == best + 1 + 3


def test_batch_edge_cases(data):
    X, y = data
    with pytest.raises(ValueError, match="batch_size"):
        CSIBRegressor(batch_size=1).fit(X, y)
    # 65 rows in batches of 64 leave a batch of one: it is dropped
    reg = CSIBRegressor(random_state=0, early_stopping=False, **SMALL).fit(X[:65], y[:65])
    assert reg.net_.history[:, "batches", :, "train_batch_size"] == [[64]] * 10
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
        ({"embedding_tol": -1e-8}, "embedding_tol"),
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


def test_criterion_weights_equal_repeated_rows():
    # the net's objective on one batch (float64): integer weights == rows repeated
    import torch

    from sklearn_losses.information_bottleneck._nets import BottleneckNetwork, CSIBNet

    rng = np.random.default_rng(0)
    n = 20
    x, y, y_hat, t = (rng.normal(size=(n, d)) for d in (3, 1, 1, 4))
    w = rng.integers(1, 4, size=n).astype(float)
    repeat = np.repeat(np.arange(n), w.astype(int))
    T = torch.as_tensor
    for loss, estimator in [
        ("cs_divergence", "embedding"),
        ("cs_divergence", "paper"),
        ("mse", "code"),
    ]:
        net = CSIBNet(
            BottleneckNetwork(3, 1, (4,), (), 0.0),
            criterion=torch.nn.MSELoss,  # unused: get_loss is the objective
            beta=0.1,
            loss=loss,
            sigma_x=0.7,
            sigma_y=1.5,
            sigma_t=1.0,
            normalize_mi=True,
            estimator=estimator,
        )
        weighted = net.get_loss((T(y_hat), T(t)), {"target": T(y), "sample_weight": T(w)}, X=T(x))
        repeated = net.get_loss((T(y_hat[repeat]), T(t[repeat])), T(y[repeat]), X=T(x[repeat]))
        assert float(weighted) == pytest.approx(float(repeated), rel=1e-10)


def test_sample_weight_fit_zero_weights_and_bad_weights(data):
    X, y = data
    w = np.random.default_rng(0).integers(0, 3, size=len(y)).astype(float)
    params = {**SMALL, "max_iter": 3, "device": "cpu"}
    weighted = CSIBRegressor(random_state=0, **params).fit(X, y, sample_weight=w)
    assert weighted.n_iter_ == 3
    # rows of weight 0 are dropped before training: the same fit as without them
    keep = w > 0
    dropped = CSIBRegressor(random_state=0, **params).fit(X[keep], y[keep], sample_weight=w[keep])
    np.testing.assert_array_equal(weighted.predict(X), dropped.predict(X))
    plain = CSIBRegressor(random_state=0, **params).fit(X[keep], y[keep])
    assert not np.array_equal(weighted.predict(X), plain.predict(X))
    for bad, match in [(-w, "Negative"), (w[:-1], "shape"), (0 * w, "non-zero")]:
        with pytest.raises(ValueError, match=match):
            CSIBRegressor(**params).fit(X, y, sample_weight=bad)


def test_scale(data):
    # scale=True is scale=False on data standardized beforehand, mapped back
    X, y = data
    params = {**SMALL, "max_iter": 3, "device": "cpu", "random_state": 0}
    scaled = CSIBRegressor(**params).fit(X, y)
    Xs = StandardScaler().fit_transform(X)
    mean, std = y.mean(), y.std()
    raw = CSIBRegressor(scale=False, **params).fit(Xs, (y - mean) / std)
    np.testing.assert_allclose(scaled.predict(X), raw.predict(Xs) * std + mean, rtol=1e-6)
    # unscaled, the kernel widths meet the data's own scale: another model
    unscaled = CSIBRegressor(scale=False, **params).fit(X, y)
    assert not np.allclose(unscaled.predict(X), scaled.predict(X), rtol=1e-3)
