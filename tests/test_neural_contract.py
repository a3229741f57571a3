"""What every neural estimator promises, tested on each one discovered.

Same ``random_state`` -> the same model in concurrent threads; the caller's torch
RNG untouched; divergence never silent; clear errors for bad network shapes and
devices; early stopping that restores the best epoch.
"""

import warnings
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_regression
from sklearn.exceptions import ConvergenceWarning

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

from sklearn_losses._torch import SkorchEstimatorMixin  # noqa: E402
from sklearn_losses.utils import all_estimators  # noqa: E402
from sklearn_losses.utils._convergence import DivergenceError  # noqa: E402

NEURAL = {name: cls for name, cls in all_estimators() if issubclass(cls, SkorchEstimatorMixin)}

# small, fast settings per estimator: a few epochs of a small network
SMALL = {
    "DeepCCA": {"n_components": 2, "hidden_layer_sizes": (16,), "batch_size": 32},
    "AggregateMLPRegressor": {"hidden_layer_sizes": (16,), "batch_size": 40},
    "EnsLossMLPClassifier": {"hidden_layer_sizes": (16,), "batch_size": 32},
    "CSIBRegressor": {"hidden_layer_sizes": (16,), "decoder_layer_sizes": (8,), "batch_size": 32},
}


def _task(name):
    """(X, y, fit keyword arguments, prediction method) for each estimator."""
    if name == "EnsLossMLPClassifier":
        X, y = make_classification(160, 6, random_state=0)
        return X, y, {}, "decision_function"
    if name == "DeepCCA":
        rng = np.random.default_rng(0)
        Z = rng.standard_normal((160, 2))
        X = np.hstack([Z, rng.standard_normal((160, 3))])
        Y = np.hstack([np.tanh(Z), rng.standard_normal((160, 2))])
        return X, Y, {}, "transform"
    X, y = make_regression(160, 5, noise=1.0, random_state=0)
    fit_params = {"bags": np.arange(160) // 4} if name == "AggregateMLPRegressor" else {}
    return X, y, fit_params, "predict"


def _estimator(name, **params):
    return NEURAL[name](**{**SMALL[name], "max_iter": 4, "device": "cpu", **params})


def test_every_neural_estimator_has_small_settings():
    assert set(NEURAL) == set(SMALL)


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_same_seed_same_model_in_concurrent_threads(name):
    X, y, fit_params, method = _task(name)

    def fit_and_predict(_):
        est = _estimator(name, random_state=7, early_stopping=True).fit(X, y, **fit_params)
        return getattr(est, method)(X)

    serial = fit_and_predict(None)
    with ThreadPoolExecutor(max_workers=4) as pool:
        threaded = list(pool.map(fit_and_predict, range(8)))
    for result in threaded:
        np.testing.assert_array_equal(result, serial)
    other = getattr(_estimator(name, random_state=8).fit(X, y, **fit_params), method)(X)
    assert not np.array_equal(other, serial)


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_fit_leaves_the_callers_torch_rng_alone(name):
    X, y, fit_params, _ = _task(name)
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    _estimator(name, random_state=0, early_stopping=True).fit(X, y, **fit_params)
    assert torch.equal(torch.rand(3), expected)


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_a_huge_step_is_reported_never_silent(name):
    X, y, fit_params, method = _task(name)
    est = _estimator(name, learning_rate_init=1e6, random_state=0)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            est.fit(X, y, **fit_params)
        except DivergenceError as error:  # the documented error ...
            assert "learning_rate_init" in str(error)
            return
    # ... or the documented warning, and then finite predictions
    messages = [str(w.message) for w in caught if issubclass(w.category, ConvergenceWarning)]
    assert any("probably diverged" in m for m in messages), messages
    assert np.all(np.isfinite(getattr(est, method)(X)))


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_a_non_finite_loss_stops_training_with_a_clear_error(name):
    X, y, fit_params, _ = _task(name)
    est = _estimator(name, random_state=0)
    # the module's first layer outputs NaN: the first epoch's loss is NaN
    factory = est._module_factory

    def poisoned(X_, y_, generator):
        make = factory(X_, y_, generator)

        def build():
            module = make()
            first = next(m for m in module.modules() if isinstance(m, torch.nn.Linear))
            first.register_forward_hook(lambda mod, args, out: out * float("nan"))
            return module

        return build

    est._module_factory = poisoned
    with pytest.raises(DivergenceError, match="diverged"):
        est.fit(X, y, **fit_params)


@pytest.mark.parametrize("name", sorted(NEURAL))
@pytest.mark.parametrize(
    "params, match",
    [
        ({"hidden_layer_sizes": (16, 0)}, "positive integers"),
        ({"hidden_layer_sizes": (16.5,)}, "positive integers"),
        ({"hidden_layer_sizes": (True,)}, "positive integers"),
        ({"device": "gpu"}, "'auto', 'cpu', 'cuda' or 'cuda:N'"),
        ({"learning_rate_init": float("inf")}, "learning_rate_init"),
        ({"weight_decay": float("inf")}, "weight_decay"),
        ({"tol": float("nan")}, "tol"),
    ],
)
def test_bad_network_settings_are_clear_errors(name, params, match):
    X, y, fit_params, _ = _task(name)
    with pytest.raises(ValueError, match=match):
        _estimator(name, **params).fit(X, y, **fit_params)


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_early_stopping_stops_and_keeps_the_best_epoch(name):
    X, y, fit_params, _ = _task(name)
    est = _estimator(
        name, max_iter=300, early_stopping=True, n_iter_no_change=3, random_state=0
    ).fit(X, y, **fit_params)
    history = est.net_.history
    assert est.n_iter_ == len(history) < 300
    # stopped n_iter_no_change epochs after the last improvement by more than tol
    losses, best = history[:, "valid_loss"], 0
    for epoch, loss in enumerate(losses):
        if loss < losses[best] - est.tol:
            best = epoch
    assert est.n_iter_ == best + 1 + 3


def test_early_stopping_restores_the_best_epochs_weights():
    X, y, _, _ = _task("EnsLossMLPClassifier")
    est = _estimator(
        "EnsLossMLPClassifier",
        loss="logistic",
        max_iter=300,
        early_stopping=True,
        n_iter_no_change=3,
        learning_rate_init=0.05,
        random_state=0,
    ).fit(X[:100], y[:100], X_val=X[100:], y_val=y[100:])
    margins = np.where(y[100:] == 1, 1.0, -1.0) * est.decision_function(X[100:])
    held_out_loss = np.mean(np.logaddexp(0.0, -margins))
    history = est.net_.history[:, "valid_loss"]
    assert held_out_loss == pytest.approx(min(history), rel=1e-5)
    assert held_out_loss < history[-1]  # the last epoch was worse: weights were restored
