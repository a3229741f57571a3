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
    "AggregateMLPClassifier": {"hidden_layer_sizes": (16,), "batch_size": 40},
    # every source of randomness on: resampled Box-Cox lambdas, noise on t
    "EnsLossMLPClassifier": {
        "hidden_layer_sizes": (16,),
        "batch_size": 32,
        "resample_lambda_every": 1,
    },
    "CSIBRegressor": {
        "hidden_layer_sizes": (16,),
        "decoder_layer_sizes": (8,),
        "batch_size": 32,
        "noise_std": 0.1,
    },
}


def _task(name):
    """(X, y, fit keyword arguments, prediction method) for each estimator."""
    if name == "EnsLossMLPClassifier":
        X, y = make_classification(160, 6, random_state=0)
        return X, y, {}, "decision_function"
    if name == "AggregateMLPClassifier":
        X, y = make_classification(160, 6, n_informative=4, n_classes=3, random_state=0)
        return X, y, {"bags": np.arange(160) // 4}, "predict_proba"
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
def test_sample_weight_is_checked_and_reaches_the_fit(name):
    from sklearn.utils.validation import has_fit_parameter

    if not has_fit_parameter(NEURAL[name], "sample_weight"):
        pytest.skip(f"{name} has no sample_weight")
    X, y, fit_params, method = _task(name)
    w = np.random.default_rng(0).integers(1, 4, size=len(X)).astype(float)
    for bad, match in [(-w, "Negative"), (w[:-1], "shape"), (0 * w, "non-zero")]:
        with pytest.raises(ValueError, match=match):
            _estimator(name).fit(X, y, sample_weight=bad, **fit_params)
    weighted = _estimator(name, random_state=0).fit(X, y, sample_weight=w, **fit_params)
    plain = _estimator(name, random_state=0).fit(X, y, **fit_params)
    assert not np.array_equal(getattr(weighted, method)(X), getattr(plain, method)(X))


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
    assert est.n_iter_ == len(history)
    # stopped n_iter_no_change epochs after the last improvement by more than tol, well
    # before max_iter
    losses, best = history[:, "valid_loss"], 0
    for epoch, loss in enumerate(losses):
        if loss < losses[best] - est.tol:
            best = epoch
    assert est.n_iter_ == best + 1 + 3 < 300


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


@pytest.mark.parametrize("name", sorted(NEURAL))
def test_too_few_rows_to_hold_out_trains_without_early_stopping(name):
    X, y, fit_params, method = _task(name)
    n = 12 if name.startswith("Aggregate") else 8  # 3 bags of 4 rows: one bag held out
    fit_params = {k: v[:n] for k, v in fit_params.items()}
    est = _estimator(name, early_stopping=True, max_iter=5, random_state=0)
    with pytest.warns(UserWarning, match="without early stopping"):
        est.fit(X[:n], y[:n], **fit_params)
    assert est.n_iter_ == 5
    assert all(np.all(np.isfinite(np.asarray(o))) for o in np.atleast_1d(getattr(est, method)(X)))


def test_deep_cca_andrew_loss_on_a_handful_of_rows_is_finite():
    X, Y, _, _ = _task("DeepCCA")
    est = _estimator("DeepCCA", loss="andrew", batch_size=4, random_state=0).fit(X[:6], Y[:6])
    assert np.all(np.isfinite(est.transform(X)))


def test_batch_norm_needs_two_rows():
    X, _, _, _ = _task("EnsLossMLPClassifier")
    est = _estimator("EnsLossMLPClassifier", random_state=0)
    with pytest.warns(UserWarning, match="without early stopping"):
        est.fit(X[:2], [0, 1])  # one batch of two rows: batch norm works
    with pytest.raises(ValueError, match="at least 2 rows"):
        _estimator("EnsLossMLPClassifier").fit(X[:1], [0])


@pytest.mark.parametrize("device", ["cpu", "cpu:0"])
def test_cpu_predictions_do_not_depend_on_the_other_rows(device):
    X, y, _, _ = _task("CSIBRegressor")
    est = _estimator("CSIBRegressor", device=device, random_state=0).fit(X, y)
    np.testing.assert_array_equal(est.predict(X[:7]), est.predict(X)[:7])


def test_bag_codes_stay_exact_beyond_float32():
    from sklearn_losses.aggregate._nets import BagLoss

    # two singleton bags whose codes collide in float32 (2**24 + 1 rounds to 2**24)
    codes = np.array([2.0**24, 2.0**24 + 1])
    target = torch.as_tensor(np.column_stack([[1.0, -1.0], codes]))
    prediction = torch.zeros(2, 1, dtype=torch.float64)
    # as two bags: (1 - 0)^2 + (-1 - 0)^2 over 2 rows; as one bag it would be 0
    assert float(BagLoss(rho=0.0)(prediction, target)) == pytest.approx(1.0)


def _fit_and_predict_in_a_worker(name, seed):
    torch.set_num_threads(1)
    X, y, fit_params, method = _task(name)
    est = _estimator(name, random_state=seed, early_stopping=True).fit(X, y, **fit_params)
    return getattr(est, method)(X)


def test_same_seed_same_model_in_other_processes():
    from joblib import Parallel, delayed

    names = sorted(NEURAL)
    here = [_fit_and_predict_in_a_worker(name, 7) for name in names]
    there = Parallel(n_jobs=2, backend="loky")(
        delayed(_fit_and_predict_in_a_worker)(name, 7) for name in names
    )
    for name, a, b in zip(names, here, there):
        np.testing.assert_array_equal(a, b, err_msg=name)


# --- the shared training loop: the same batches, draws and history as skorch/torch's ---


def _reference_loader(dataset, batch_size, shuffle, drop_last, generator):
    """What ``batch_loader`` was: torch's DataLoader over a generator-driven sampler."""
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    sampler = BatchSampler(order, min(batch_size, len(dataset)), drop_last)
    return DataLoader(dataset, sampler=sampler, batch_size=None, generator=generator)


def _flat(batch):
    """A batch as a list of tensors (dicts in key order), to compare two batches."""
    out = []
    for part in batch:
        out += [part[k] for k in sorted(part)] if isinstance(part, dict) else [part]
    return out


def _datasets():
    from skorch.dataset import Dataset

    rng = np.random.default_rng(0)
    X = rng.standard_normal((103, 3)).astype(np.float32)
    y = rng.standard_normal((103, 2))
    w = rng.random(103).astype(np.float32)
    yield Dataset(X, y)
    yield Dataset({"x": X, "y": X[:, :2].copy()}, None)  # DeepCCA: no target
    yield Dataset({"x": X, "y": X}, {"sample_weight": w})  # ... with weights
    yield Dataset(X, {"target": y, "sample_weight": w})
    yield torch.utils.data.Subset(Dataset(X, y), rng.permutation(103)[:71])  # ValidSplit's
    X.setflags(write=False)
    yield Dataset(X, y)  # read-only data
    yield Dataset(np.asfortranarray(X), y)
    import pandas as pd  # skorch's own fetching, for data that are not arrays

    yield Dataset(pd.DataFrame(X, columns=list("abc")), y)


@pytest.mark.parametrize("shuffle", [True, False])
@pytest.mark.parametrize("drop_last", [True, False])
@pytest.mark.parametrize("batch_size", [10, 103, 500])
def test_batch_loader_gives_torchs_batches_and_draws(shuffle, drop_last, batch_size):
    from sklearn_losses._torch import batch_loader

    for dataset in _datasets():
        ours_gen, ref_gen = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
        ours = batch_loader(dataset, batch_size, shuffle, drop_last, ours_gen)
        reference = _reference_loader(dataset, batch_size, shuffle, drop_last, ref_gen)
        assert len(ours) == len(reference)
        for _ in range(2):  # two epochs
            ours_iter, ref_iter = iter(ours), iter(reference)
            while True:
                a, b = next(ours_iter, None), next(ref_iter, None)
                # the generator is where torch's left it after every batch: draws made
                # between batches (EnsLoss's random losses) see the same stream
                assert torch.equal(ours_gen.get_state(), ref_gen.get_state())
                if a is None or b is None:
                    assert a is None and b is None
                    break
                for t, u in zip(_flat(a), _flat(b), strict=True):
                    assert isinstance(t, torch.Tensor) and t.dtype == u.dtype
                    assert torch.equal(t, u)


def _net_fit(net_class, callbacks=(), epochs=3):
    """A small skorch fit through the package's loader; returns the net."""
    from sklearn_losses._torch import batch_loader, build_module

    rng = np.random.default_rng(0)
    X = rng.standard_normal((90, 4)).astype(np.float32)
    y = (X @ [1.0, -1.0, 0.5, 0.0])[:, None].astype(np.float32)
    generator = torch.Generator().manual_seed(0)

    def factory():
        return torch.nn.Sequential(
            torch.nn.Linear(4, 8), torch.nn.ReLU(), torch.nn.Dropout(0.3), torch.nn.Linear(8, 1)
        )

    module = build_module(factory, generator)
    net = net_class(
        module,
        criterion=torch.nn.MSELoss,
        optimizer=torch.optim.Adam,
        max_epochs=epochs,
        batch_size=16,
        iterator_train=batch_loader,
        iterator_train__shuffle=True,
        iterator_train__generator=generator,
        iterator_valid=batch_loader,
        train_split=None,
        callbacks=list(callbacks),
        verbose=0,
    )
    torch.manual_seed(0)  # dropout draws from the global generator in this test
    return net.fit(X, y)


def test_the_package_net_trains_as_skorchs_own():
    from skorch import NeuralNet as SkorchNet

    from sklearn_losses._torch import NeuralNet

    ours, theirs = _net_fit(NeuralNet), _net_fit(SkorchNet)
    for a, b in zip(ours.module_.parameters(), theirs.module_.parameters(), strict=True):
        assert torch.equal(a, b)

    def records(net):
        drop = {"dur", "batches"}
        epochs = [{k: v for k, v in h.items() if k not in drop} for h in net.history]
        return epochs, [h["batches"] for h in net.history]

    assert records(ours) == records(theirs)


def test_the_package_net_calls_the_callbacks_that_listen():
    from skorch.callbacks import Callback

    from sklearn_losses._torch import NeuralNet

    class Count(Callback):
        def __init__(self):
            self.calls = {}

        def on_batch_end(self, net, batch=None, training=False, **kwargs):
            self.calls["batch"] = self.calls.get("batch", 0) + 1
            net.module_[2].eval()  # a callback changing a submodule's mode: skorch's
            # train step sets it back, as it does at every batch

        def on_epoch_end(self, net, **kwargs):
            self.calls["epoch"] = self.calls.get("epoch", 0) + 1

    count, patched = Count(), Count()
    patched.on_epoch_begin = lambda net, **kwargs: patched.calls.update(begin=True)
    modes = []

    class Mode(Callback):  # skorch passes the step's predictions to on_batch_end
        def on_batch_end(self, net, training=False, **kwargs):
            modes.append(training)

    net = _net_fit(NeuralNet, [count, patched, Mode()], epochs=2)
    assert count.calls == {"batch": 2 * 6, "epoch": 2}  # 90 rows in batches of 16
    assert patched.calls == {"batch": 2 * 6, "epoch": 2, "begin": True}
    assert modes == [True] * 12
    # the dropout layer trained in training mode at every batch
    seen = []
    net.module_[2].register_forward_hook(lambda mod, args, out: seen.append(mod.training))
    late = Count()
    net.callbacks = [late]  # a callback added after the first fit is heard too
    net.initialize_callbacks()
    net.partial_fit(np.zeros((32, 4), np.float32), np.zeros((32, 1), np.float32))
    assert late.calls == {"batch": 2 * 2, "epoch": 2}  # max_epochs=2 of 32 rows
    assert seen == [True] * 4


def test_the_package_net_pickles_without_its_handler_cache():
    import pickle

    from sklearn_losses._torch import NeuralNet

    net = _net_fit(NeuralNet)
    assert "_handler_cache_" in net.__dict__
    assert not any("handler" in name for name in net.get_params())  # a fitted attribute
    clone = pickle.loads(pickle.dumps(net))
    assert "_handler_cache_" not in clone.__dict__
    X = np.ones((3, 4), np.float32)
    np.testing.assert_array_equal(clone.predict(X), net.predict(X))
