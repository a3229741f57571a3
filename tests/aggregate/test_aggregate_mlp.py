import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.model_selection import GridSearchCV, GroupKFold  # noqa: E402

from sklearn_losses.aggregate import (  # noqa: E402
    AggregateLinearRegression,
    AggregateMLPRegressor,
    aggregate_responses,
    make_bags,
)
from sklearn_losses.aggregate._nets import BagLoss, WholeBagBatches  # noqa: E402


def _greedy_packing(bags, order, batch_size):
    """Whole-bag batches as a loop over the bags in ``order`` (the definition)."""
    members = [np.flatnonzero(bags == b) for b in np.unique(bags)]
    batches, batch = [], []
    for b in order:
        if batch and len(batch) + len(members[b]) > batch_size:
            batches.append(batch)
            batch = []
        batch.extend(members[b].tolist())
    return batches + [batch] if batch else batches


@pytest.mark.parametrize("batch_size", [1, 9, 64, 1000])
def test_whole_bag_batches_never_split_a_bag(batch_size):
    rng = np.random.default_rng(0)
    bags = rng.integers(0, 120, size=1000)  # bags of 1 to ~20 rows, some above batch_size
    batches = WholeBagBatches(bags, batch_size, generator=torch.Generator().manual_seed(0))
    seen = []
    for batch in batches():
        batch = batch.numpy()
        for b in set(bags[batch].tolist()):
            assert np.sum(bags[batch] == b) == np.sum(bags == b)
        assert len(batch) <= batch_size or len(set(bags[batch].tolist())) == 1
        seen.extend(batch)
    assert sorted(seen) == list(range(1000))
    # the greedy packing, bag after bag, of the same permutation of the bags
    order = torch.randperm(len(np.unique(bags)), generator=torch.Generator().manual_seed(0))
    expected = _greedy_packing(bags, order.numpy(), batch_size)
    again = WholeBagBatches(bags, batch_size, generator=torch.Generator().manual_seed(0))
    assert [b.tolist() for b in again()] == expected
    unshuffled = WholeBagBatches(bags, batch_size, shuffle=False)
    in_order = _greedy_packing(bags, range(120), batch_size)
    assert [b.tolist() for b in unshuffled()] == in_order
    assert len(batches) == len(in_order)  # (the count of the unshuffled packing)


def test_whole_bag_loader_draws_as_torchs_loader_did():
    from skorch.dataset import Dataset

    from sklearn_losses.aggregate._nets import whole_bag_loader

    rng = np.random.default_rng(1)
    bags = rng.integers(0, 40, size=300)
    X = rng.standard_normal((300, 2)).astype(np.float32)
    target = np.column_stack([rng.standard_normal(300), bags])
    ours_gen, ref_gen = torch.Generator().manual_seed(5), torch.Generator().manual_seed(5)
    loader = whole_bag_loader(Dataset(X, target), 32, shuffle=True, generator=ours_gen)
    for _ in range(2):  # epochs
        batches = list(loader)
        # torch's DataLoader over the former sampler: the sampler's permutation of the
        # bags, then the loader's seed draw
        order = torch.randperm(40, generator=ref_gen).numpy()
        torch.empty((), dtype=torch.int64).random_(generator=ref_gen)
        expected = _greedy_packing(bags, order, 32)
        assert torch.equal(ours_gen.get_state(), ref_gen.get_state())
        assert len(batches) == len(expected)
        for (Xb, yb), rows in zip(batches, expected):
            assert torch.equal(Xb, torch.as_tensor(X[rows]))
            assert torch.equal(yb, torch.as_tensor(target[rows]))


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
def test_bag_loss_matches_its_definition(rho):
    rng = np.random.default_rng(0)
    f = rng.normal(size=30)
    y = rng.normal(size=30)
    bags = rng.integers(0, 6, size=30)
    loss = BagLoss(rho)(torch.tensor(f)[:, None], torch.tensor(np.column_stack([y, bags])))
    expected = 0.0
    for b in np.unique(bags):
        m = bags == b
        expected += m.sum() * (y[m].mean() - f[m].mean()) ** 2
        expected += rho * np.sum((f[m] - f[m].mean()) ** 2)
    assert loss.item() == pytest.approx(expected / 30, rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 1.0])
def test_linear_network_converges_to_the_closed_form(rho):
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = X @ [1.0, -0.5, 2.0] + rng.normal(size=400)
    bags = make_bags(400, 4, random_state=0)
    y_bag = aggregate_responses(y, bags)
    net = AggregateMLPRegressor(
        rho=rho,
        hidden_layer_sizes=(),
        learning_rate_init=0.05,
        max_iter=300,
        batch_size=400,
        random_state=0,
    ).fit(X, y_bag, bags=bags)
    exact = AggregateLinearRegression(rho=rho).fit(X, y_bag, bags=bags)
    np.testing.assert_allclose(net.predict(X), exact.predict(X), atol=2e-3)


def test_same_seed_same_predictions_and_grid_search_with_bags():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4)).astype(np.float32)
    y = X[:, 0] ** 2 + X[:, 1]
    bags = make_bags(300, 3, random_state=0)
    y_bag = aggregate_responses(y, bags)
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=3)
    a = AggregateMLPRegressor(**params).fit(X, y_bag, bags=bags).predict(X)
    b = AggregateMLPRegressor(**params).fit(X, y_bag, bags=bags).predict(X)
    np.testing.assert_array_equal(a, b)
    search = GridSearchCV(
        AggregateMLPRegressor(**params), {"rho": [0.0, 1.0]}, cv=GroupKFold(3)
    ).fit(X, y_bag, bags=bags, groups=bags)
    assert search.best_params_["rho"] in (0.0, 1.0)


def test_bad_bags_are_rejected():
    with pytest.raises(ValueError, match="bags has 3 ids"):
        AggregateMLPRegressor(max_iter=1).fit(np.ones((5, 2)), np.ones(5), bags=[0, 1, 2])


def test_defaults_learn_on_features_of_a_small_scale():
    from sklearn.datasets import load_diabetes

    from sklearn_losses.aggregate import make_bags

    # diabetes' columns have std 0.05: unscaled, the defaults reached R^2 0.08 in 100 epochs
    X, y = load_diabetes(return_X_y=True)
    bags = make_bags(len(y), 10, random_state=0)
    net = AggregateMLPRegressor(random_state=0).fit(X, aggregate_responses(y, bags), bags=bags)
    assert net.score(X, y) > 0.4
    assert net.predict(X[:5]) == pytest.approx(net.predict(X)[:5], abs=1e-9)


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
def test_bag_loss_weights_equal_repeated_rows(rho):
    # AggregateLinearRegression's definition: weighted bag means, bags weighted by their
    # total weight, divided by the total weight; integer weights == rows repeated
    rng = np.random.default_rng(0)
    f, y = rng.normal(size=30), rng.normal(size=30)
    bags = rng.integers(0, 6, size=30).astype(float)
    w = rng.integers(1, 4, size=30).astype(float)
    repeat = np.repeat(np.arange(30), w.astype(int))
    target = torch.tensor(np.column_stack([y, bags]))
    weighted = BagLoss(rho)(
        torch.tensor(f)[:, None], {"target": target, "sample_weight": torch.tensor(w)}
    )
    repeated = BagLoss(rho)(torch.tensor(f[repeat])[:, None], target[repeat])
    assert weighted.item() == pytest.approx(repeated.item(), rel=1e-12)
    # a row of weight 0 is no row
    w[:5] = 0.0
    zero = BagLoss(rho)(
        torch.tensor(f)[:, None], {"target": target, "sample_weight": torch.tensor(w)}
    )
    kept = BagLoss(rho)(
        torch.tensor(f[5:])[:, None],
        {"target": target[5:], "sample_weight": torch.tensor(w[5:])},
    )
    assert zero.item() == pytest.approx(kept.item(), rel=1e-12)


def test_weighted_linear_network_converges_to_the_weighted_closed_form():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(400, 3))
    y = X @ [1.0, -0.5, 2.0] + rng.normal(size=400) + 2 * (X[:, 0] > 1)
    bags = make_bags(400, 4, random_state=0)
    w = rng.integers(1, 4, size=400).astype(float)
    y_bag = aggregate_responses(y, bags)
    net = AggregateMLPRegressor(
        rho=0.4,
        hidden_layer_sizes=(),
        learning_rate_init=0.05,
        max_iter=300,
        batch_size=400,
        random_state=0,
    ).fit(X, y_bag, bags=bags, sample_weight=w)
    exact = AggregateLinearRegression(rho=0.4).fit(X, y_bag, bags=bags, sample_weight=w)
    np.testing.assert_allclose(net.predict(X), exact.predict(X), atol=2e-3)
    unweighted = AggregateLinearRegression(rho=0.4).fit(X, y_bag, bags=bags)
    assert np.max(np.abs(unweighted.predict(X) - exact.predict(X))) > 0.02


def test_sample_weight_zero_weights_bad_weights_and_early_stopping():
    rng = np.random.default_rng(2)
    X = rng.normal(size=(300, 4))
    y = X[:, 0] ** 2 + X[:, 1]
    bags = make_bags(300, 3, random_state=0)
    y_bag = aggregate_responses(y, bags)
    w = rng.integers(0, 3, size=300).astype(float)
    params = dict(hidden_layer_sizes=(16,), max_iter=5, random_state=3, device="cpu")
    weighted = AggregateMLPRegressor(**params).fit(X, y_bag, bags=bags, sample_weight=w)
    keep = w > 0  # dropped before training (and bags left empty with them)
    dropped = AggregateMLPRegressor(**params).fit(
        X[keep], y_bag[keep], bags=bags[keep], sample_weight=w[keep]
    )
    np.testing.assert_array_equal(weighted.predict(X), dropped.predict(X))
    plain = AggregateMLPRegressor(**params).fit(X[keep], y_bag[keep], bags=bags[keep])
    assert not np.array_equal(weighted.predict(X), plain.predict(X))
    # early stopping holds out whole bags, their weights with them
    stopped = AggregateMLPRegressor(**{**params, "early_stopping": True}).fit(
        X, y_bag, bags=bags, sample_weight=w
    )
    assert np.all(np.isfinite(stopped.net_.history[:, "valid_loss"]))
    for bad, match in [(-w, "Negative"), (w[:-1], "shape"), (0 * w, "non-zero")]:
        with pytest.raises(ValueError, match=match):
            AggregateMLPRegressor(**params).fit(X, y_bag, bags=bags, sample_weight=bad)


def test_scale():
    # scale=True is scale=False on data standardized beforehand, mapped back
    from sklearn.preprocessing import StandardScaler

    rng = np.random.default_rng(3)
    X = rng.normal(3, 5, size=(200, 3))
    y = X[:, 0] - 2 * X[:, 1] + 10
    bags = make_bags(200, 4, random_state=0)
    y_bag = aggregate_responses(y, bags)
    params = dict(hidden_layer_sizes=(8,), max_iter=5, random_state=0, device="cpu")
    scaled = AggregateMLPRegressor(**params).fit(X, y_bag, bags=bags)
    Xs = StandardScaler().fit_transform(X)
    mean, std = y_bag.mean(), y_bag.std()
    raw = AggregateMLPRegressor(scale=False, **params).fit(Xs, (y_bag - mean) / std, bags=bags)
    np.testing.assert_allclose(scaled.predict(X), raw.predict(Xs) * std + mean, rtol=1e-6)
    unscaled = AggregateMLPRegressor(scale=False, **params).fit(X, y_bag, bags=bags)
    assert not np.allclose(unscaled.predict(X), scaled.predict(X), rtol=1e-3)
