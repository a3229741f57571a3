"""StochasticCCA and DeepCCA against the exact solver."""

import warnings

import numpy as np
import pytest
from sklearn.exceptions import ConvergenceWarning

from sklearn_losses.cross_decomposition import CCA, StochasticCCA
from sklearn_losses.datasets import make_multiview


@pytest.fixture(scope="module")
def big_views():
    """Shared by the module's tests: read-only, so no test can change it for the next."""
    X, Y = make_multiview(
        20_000, (200, 200), correlations=(0.9, 0.8, 0.7, 0.6, 0.5), random_state=0
    )
    X.setflags(write=False)
    Y.setflags(write=False)
    return X, Y


@pytest.mark.slow
@pytest.mark.parametrize("batch_size", [100, 500])
def test_stochastic_captures_99_percent_within_30_epochs(batch_size, big_views):
    X, Y = big_views
    exact = CCA(n_components=5).fit(X, Y).canonical_correlations_.sum()
    for seed in range(3):
        sgd = StochasticCCA(
            n_components=5, batch_size=batch_size, max_iter=30, random_state=seed
        ).fit(X, Y)
        assert sgd.canonical_correlations_.sum() / exact >= 0.99


def test_stopping_rule_stops_before_max_iter_on_an_easy_problem():
    X, Y = make_multiview(3000, (8, 8), correlations=(0.9, 0.6), random_state=4)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        sgd = StochasticCCA(n_components=2, batch_size=100, max_iter=100, random_state=0)
        sgd.fit(X, Y)
    assert sgd.n_iter_ < 50
    assert len(sgd.loss_curve_) == sgd.n_iter_


def test_small_batches_converge_and_seed_is_reproducible():
    X, Y = make_multiview(3000, (30, 30), correlations=(0.9, 0.6), random_state=1)
    params = dict(n_components=2, batch_size=20, max_iter=5)
    a = StochasticCCA(**params, random_state=0).fit(X, Y)
    b = StochasticCCA(**params, random_state=0).fit(X, Y)
    np.testing.assert_array_equal(a.x_weights_, b.x_weights_)
    other = StochasticCCA(**params, random_state=1).fit(X, Y)
    assert not np.allclose(other.x_weights_, a.x_weights_)  # the seed is used
    assert a.score(X, Y) > 0.6


def test_partial_fit_streams_chunks_from_a_memmap(tmp_path):
    X, Y = make_multiview(8000, (20, 20), correlations=(0.9, 0.7), random_state=2)
    path = tmp_path / "views.npy"
    np.save(path, np.hstack([X, Y]))
    data = np.load(path, mmap_mode="r")
    sgd = StochasticCCA(n_components=2, batch_size=100, random_state=0)
    for _ in range(6):
        for start in range(0, 8000, 2000):
            sgd.partial_fit(data[start : start + 2000, :20], data[start : start + 2000, 20:])
    exact = CCA(n_components=2).fit(X, Y)
    assert sgd.score(X, Y) >= 0.97 * exact.score(X, Y)


def test_stochastic_matches_exact_transform_up_to_sign():
    X, Y = make_multiview(5000, (10, 10), correlations=(0.9, 0.5), random_state=3)
    exact = CCA(n_components=2).fit(X, Y)
    sgd = StochasticCCA(n_components=2, batch_size=200, max_iter=30, random_state=0).fit(X, Y)
    corr = [
        abs(np.corrcoef(exact.transform(X)[:, k], sgd.transform(X)[:, k])[0, 1]) for k in range(2)
    ]
    assert min(corr) > 0.99


deep = pytest.importorskip("torch")


def _split(n=8000, **kwargs):
    X, Y = make_multiview(n, **kwargs)
    half = n // 2
    return X[:half], Y[:half], X[half:], Y[half:]


@pytest.mark.slow
def test_deep_cca_finds_the_nonlinear_relation_linear_cca_misses():
    from sklearn_losses.cross_decomposition import DeepCCA

    X, Y, Xt, Yt = _split(
        n_features=(10, 10), correlations=(0.9, 0.8, 0.7), nonlinear=True, random_state=0
    )
    linear = 3 * CCA(n_components=3).fit(X, Y).score(Xt, Yt)
    dcca = DeepCCA(
        n_components=3, hidden_layer_sizes=(128, 128), batch_size=32, max_iter=30, random_state=0
    ).fit(X, Y)
    total = 3 * dcca.score(Xt, Yt)
    assert total >= 1.5
    assert total >= 10 * abs(linear)


def test_deep_cca_with_a_linear_encoder_reaches_exact_cca():
    from sklearn_losses.cross_decomposition import DeepCCA

    X, Y, Xt, Yt = _split(n_features=(20, 20), correlations=(0.9, 0.8, 0.7), random_state=0)
    exact = CCA(n_components=3).fit(X, Y)
    dcca = DeepCCA(
        n_components=3, hidden_layer_sizes=(), learning_rate_init=1e-2, max_iter=30, random_state=0
    ).fit(X, Y)
    assert dcca.score(Xt, Yt) >= 0.98 * exact.score(Xt, Yt)


def test_deep_cca_is_seeded_and_andrew_loss_runs():
    from sklearn_losses.cross_decomposition import DeepCCA

    X, Y = make_multiview(600, (6, 6), correlations=(0.9,), random_state=0)
    params = dict(n_components=1, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    a = DeepCCA(**params).fit(X, Y).transform(X)
    b = DeepCCA(**params).fit(X, Y).transform(X)
    np.testing.assert_array_equal(a, b)
    andrew = DeepCCA(loss="andrew", batch_size=64, **params).fit(X, Y)
    losses = andrew.net_.history[:, "train_loss"]
    assert losses[-1] < losses[0]  # minus the batch correlation: it went up
    assert -1.0 <= losses[-1] < -0.5
    assert andrew.score(X, Y) > 0.5


def test_deep_cca_batch_loss_is_bounded_below_and_the_unbiased_one_is_not():
    from hypothesis import given, settings
    from hypothesis import strategies as st

    from sklearn_losses.cross_decomposition._nets import (
        batch_eckart_young,
        unbiased_eckart_young,
    )

    @settings(max_examples=200, deadline=None)
    @given(
        n=st.integers(2, 40),
        k=st.integers(1, 4),
        scale=st.floats(1e-3, 1e3),
        seed=st.integers(0, 2**31 - 1),
    )
    def bounded(n, k, scale, seed):
        rng = np.random.default_rng(seed)
        zx = deep.as_tensor(scale * rng.standard_normal((n, k)))
        zy = zx + deep.as_tensor(rng.standard_normal((n, k)))  # correlated outputs
        assert float(batch_eckart_young(zx, zy)) >= -k - 1e-9

    bounded()
    # the bound is attained by perfectly correlated outputs of variance 1/2 per view ...
    z = deep.as_tensor(np.repeat([[1.0], [-1.0]], 50, axis=0))
    z = z / z.std(unbiased=True) * np.sqrt(0.5)
    assert float(batch_eckart_young(z, z)) == pytest.approx(-1.0)
    # ... while the unbiased estimate runs away: halves with opposite variance patterns
    a = deep.as_tensor(np.tile([[10.0, 0.0], [-10.0, 0.0]], (10, 1)))
    b = deep.as_tensor(np.tile([[0.0, 10.0], [0.0, -10.0]], (10, 1)))
    outputs = deep.cat([a, b])
    assert float(unbiased_eckart_young(outputs, outputs)) < -100


@pytest.mark.slow
def test_deep_cca_training_loss_stays_above_its_floor_on_real_views():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    from sklearn_losses.cross_decomposition import DeepCCA

    # the left and right halves of the digits images, 1,200 random rows, 3 components
    images = train_test_split(load_digits().images, train_size=1200, random_state=0)[0]
    X, Y = images[:, :, :4].reshape(-1, 32), images[:, :, 4:].reshape(-1, 32)
    params = dict(n_components=3, early_stopping=False, random_state=0)
    batch = DeepCCA(max_iter=30, **params).fit(X, Y)
    assert min(batch.net_.history[:, "train_loss"]) >= -3.0
    # the paper's unbiased estimate runs far below the floor (why it is not the default)
    unbiased = DeepCCA(max_iter=100, loss="ey_unbiased", **params).fit(X, Y)
    assert min(unbiased.net_.history[:, "train_loss"]) < -3.0 * 2


def test_deep_cca_needs_four_rows():
    from sklearn_losses.cross_decomposition import DeepCCA

    X, Y = make_multiview(3, (4, 4), correlations=(0.9,), random_state=0)
    with pytest.raises(ValueError, match="at least 4 rows"):
        DeepCCA(1).fit(X, Y)


def test_deep_cca_criteria_weight_rows_as_repeated_rows_on_a_batch():
    from sklearn_losses.cross_decomposition._nets import AndrewLoss, EckartYoungLoss

    rng = np.random.default_rng(0)
    zx = rng.standard_normal((30, 3))
    zy = zx + rng.standard_normal((30, 3))
    w = rng.integers(0, 4, size=30)
    rows = np.repeat(np.arange(30), w)
    for criterion in (EckartYoungLoss().eval(), AndrewLoss()):
        for dtype, rel in ((deep.float64, 1e-10), (deep.float32, 1e-5)):
            weighted = criterion(
                deep.as_tensor(zx, dtype=dtype),
                deep.as_tensor(zy, dtype=dtype),
                deep.as_tensor(w, dtype=dtype),
            )
            repeated = criterion(
                deep.as_tensor(zx[rows], dtype=dtype), deep.as_tensor(zy[rows], dtype=dtype)
            )
            assert float(weighted) == pytest.approx(float(repeated), rel=rel)
            unweighted = criterion(deep.as_tensor(zx, dtype=dtype), deep.as_tensor(zy, dtype=dtype))
            assert float(weighted) != pytest.approx(float(unweighted), rel=1e-3)


def test_deep_cca_sample_weight_reaches_the_loss():
    from sklearn_losses.cross_decomposition import DeepCCA

    X, Y = make_multiview(600, (6, 6), correlations=(0.9,), random_state=0)
    params = dict(n_components=1, hidden_layer_sizes=(16,), max_iter=3, random_state=0)
    plain = DeepCCA(**params).fit(X, Y)
    # unit weights: the same fit (up to float32 rounding of the weighted moments)
    ones = DeepCCA(**params).fit(X, Y, sample_weight=np.ones(len(X)))
    np.testing.assert_allclose(ones.transform(X), plain.transform(X), atol=1e-5)
    w = np.random.default_rng(0).integers(0, 3, size=len(X)).astype(float)
    weighted = DeepCCA(**params).fit(X, Y, sample_weight=w)
    assert not np.allclose(weighted.transform(X), plain.transform(X), atol=1e-3)
    # the held-out loss is weighted as well
    assert not np.allclose(
        weighted.net_.history[:, "valid_loss"], plain.net_.history[:, "valid_loss"]
    )
    np.testing.assert_allclose(weighted.x_mean_, w @ X / w.sum())
    with pytest.raises(ValueError, match="DeepCCA: Negative values"):
        DeepCCA(**params).fit(X, Y, sample_weight=-w)


def test_deep_cca_trains_through_the_shared_loader_and_net():
    pytest.importorskip("torch")
    from sklearn_losses._torch import IndexedBatches, NeuralNet, batch_loader
    from sklearn_losses.cross_decomposition import DeepCCA

    X, Y = make_multiview(203, (5, 4), correlations=(0.9,), random_state=0)
    est = DeepCCA(1, hidden_layer_sizes=(8,), batch_size=32, max_iter=2, random_state=0)
    net = est.fit(X, Y).net_
    assert isinstance(net, NeuralNet)
    assert net.iterator_train is batch_loader and net.iterator_valid is batch_loader
    views = {"x": X.astype(np.float32), "y": Y.astype(np.float32)}
    loader = net.get_iterator(net.get_dataset(views), training=True)
    # both views are indexed as tensors, once per batch; the last incomplete batch dropped
    assert isinstance(loader, IndexedBatches) and loader._tensors is not None
    sizes = [len(x["x"]) for x, _ in loader]
    assert sizes == [32] * 6 and len(loader) == 6
    # 203 rows, 21 held out for early stopping (one batch): 182 train rows in 5 batches
    batches = net.history[-1, "batches"]
    assert [b.get("train_batch_size") for b in batches] == [32] * 5 + [None]
    assert batches[-1]["valid_batch_size"] == 21
