"""AggregateMLPClassifier: learning from label proportions with a network (DLLP)."""

from functools import partial

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("skorch")

import sklearn  # noqa: E402
from scipy.special import softmax  # noqa: E402
from sklearn.datasets import load_digits, make_classification  # noqa: E402
from sklearn.model_selection import (  # noqa: E402
    GridSearchCV,
    GroupKFold,
    cross_validate,
    train_test_split,
)
from sklearn.pipeline import make_pipeline  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402

from sklearn_losses._torch import build_module, mlp  # noqa: E402
from sklearn_losses.aggregate import AggregateMLPClassifier, make_bags  # noqa: E402
from sklearn_losses.aggregate._bags import BagOperator  # noqa: E402
from sklearn_losses.aggregate._loss import proportion_bag_loss  # noqa: E402
from sklearn_losses.aggregate._nets import ProportionLoss  # noqa: E402

torch.set_num_threads(1)


def _batch(n=60, n_classes=4, n_bags=9, seed=0):
    rng = np.random.default_rng(seed)
    logits = 2.0 * rng.normal(size=(n, n_classes))
    bags = rng.integers(0, n_bags, size=n)
    labels = rng.integers(0, n_classes, size=n)
    return logits, bags, np.eye(n_classes)[labels], rng.uniform(0.2, 3.0, size=n)


def _criterion(rho, logits, rows, bags, weight=None, dtype=torch.float64):
    target = torch.as_tensor(np.column_stack([rows, bags]).astype(np.float64))
    if weight is not None:
        target = {"target": target, "sample_weight": torch.as_tensor(weight)}
    return ProportionLoss(rho)(torch.as_tensor(logits, dtype=dtype), target)


def _small_task(n=160, n_classes=3, bag_size=4, seed=0):
    X, y = make_classification(
        n, 6, n_informative=4, n_classes=n_classes, n_clusters_per_class=1, random_state=seed
    )
    return X, y, make_bags(n, bag_size, random_state=seed)


SMALL = dict(hidden_layer_sizes=(16,), max_iter=5, batch_size=40, device="cpu")


# --- the criterion against the family's definition --------------------------------------


@pytest.mark.parametrize("rho", [0.0, 0.3, 0.7, 1.0])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("n_classes", [2, 4])
def test_criterion_equals_the_definition(rho, weighted, n_classes):
    logits, bags, onehot, w = _batch(n_classes=n_classes)
    weight = w if weighted else None
    op = BagOperator(bags, w if weighted else np.ones(len(bags)))
    expected = proportion_bag_loss(softmax(logits, axis=1), onehot, op, rho)
    # one-hot rows, or each bag's (weighted) proportions broadcast to its rows
    broadcast = op.mean(onehot)[op.codes]
    for rows in (onehot, broadcast):
        value = float(_criterion(rho, logits, rows, bags, weight))
        assert value == pytest.approx(expected, rel=1e-10, abs=0)
    # the bag codes need not be consecutive, nor the rows grouped by bag
    value = float(_criterion(rho, logits, onehot, 1000.0 + 7 * bags, weight))
    assert value == pytest.approx(expected, rel=1e-10, abs=0)


def test_criterion_written_out_bag_by_bag():
    # an independent loop over bags (no BagOperator, no index_add)
    logits, bags, onehot, w = _batch(n_classes=3, seed=1)
    p = softmax(logits, axis=1)
    for rho in (0.0, 0.5, 1.0):
        total = 0.0
        for b in np.unique(bags):
            m = bags == b
            q = w[m] @ onehot[m] / w[m].sum()
            p_bar = w[m] @ p[m] / w[m].sum()
            total += (1 - rho) * w[m].sum() * -(q @ np.log(p_bar))
            total += rho * w[m] @ -(np.log(p[m]) @ q)
        value = float(_criterion(rho, logits, onehot, bags, w))
        assert value == pytest.approx(total / w.sum(), rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
def test_criterion_weights_equal_repeated_rows(rho):
    logits, bags, onehot, _ = _batch(n_classes=3, seed=2)
    w = np.random.default_rng(3).integers(1, 4, size=len(bags)).astype(float)
    repeat = np.repeat(np.arange(len(bags)), w.astype(int))
    weighted = _criterion(rho, logits, onehot, bags, w)
    repeated = _criterion(rho, logits[repeat], onehot[repeat], bags[repeat])
    assert float(weighted) == pytest.approx(float(repeated), rel=1e-12)
    # a row of weight 0 is no row, a bag of weight 0 no bag (and the gradient stays finite)
    w[:5] = 0.0
    w[bags == bags[10]] = 0.0
    kept = w > 0
    logits_t = torch.tensor(logits, requires_grad=True)
    target = torch.as_tensor(np.column_stack([onehot, bags]).astype(np.float64))
    zero = ProportionLoss(rho)(logits_t, {"target": target, "sample_weight": torch.tensor(w)})
    dropped = _criterion(rho, logits[kept], onehot[kept], bags[kept], w[kept])
    assert zero.item() == pytest.approx(float(dropped), rel=1e-12)
    zero.backward()
    assert torch.isfinite(logits_t.grad).all()
    assert torch.all(logits_t.grad[~torch.as_tensor(kept)] == 0)


def test_criterion_gradient_equals_finite_differences():
    logits, bags, onehot, w = _batch(n=20, n_classes=3, n_bags=5, seed=4)
    logits_t = torch.tensor(logits, requires_grad=True)
    target = {
        "target": torch.as_tensor(np.column_stack([onehot, bags]).astype(np.float64)),
        "sample_weight": torch.tensor(w),
    }
    ProportionLoss(0.3)(logits_t, target).backward()
    op = BagOperator(bags, w)

    def definition(z):
        return proportion_bag_loss(softmax(z.reshape(logits.shape), axis=1), onehot, op, 0.3)

    from scipy.optimize import approx_fprime

    numeric = approx_fprime(logits.ravel(), definition, 1e-7).reshape(logits.shape)
    np.testing.assert_allclose(logits_t.grad.numpy(), numeric, atol=1e-6)


def test_float32_stays_finite_where_probabilities_underflow():
    # the bag's mean probability of a class it contains is e^-120: 0 in float32, and
    # clipped to 1e-12 by the NumPy definition; the log-sum-exp keeps it exact
    logits = np.array([[0.0, -120.0], [0.0, -125.0], [3.0, 0.0]])
    rows = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 0.0]])
    bags = np.array([0, 0, 1])
    logits_t = torch.tensor(logits, dtype=torch.float32, requires_grad=True)
    target = torch.as_tensor(np.column_stack([rows, bags]).astype(np.float64))
    value = ProportionLoss(0.0)(logits_t, target)
    value.backward()
    value = value.detach()
    log_p = logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)
    log_p_bar = np.logaddexp(log_p[0], log_p[1]) - np.log(2)  # bag 0, in float64 logs
    expected = (2 * -(0.5 * log_p_bar).sum() + 1 * -log_p[2, 0]) / 3
    assert float(value) == pytest.approx(expected, rel=1e-5)
    assert torch.isfinite(logits_t.grad).all()


# --- singleton bags: an ordinary softmax network --------------------------------------------


@pytest.mark.parametrize("rho", [0.0, 0.6, 1.0])
def test_singleton_bags_are_torchs_cross_entropy(rho):
    logits, _, onehot, w = _batch(n_classes=5, seed=5)
    labels = torch.as_tensor(onehot.argmax(axis=1))
    singletons = np.arange(len(w))
    ce = torch.nn.functional.cross_entropy(torch.as_tensor(logits), labels, reduction="none")
    value = _criterion(rho, logits, onehot, singletons)
    assert float(value) == pytest.approx(float(ce.mean()), rel=1e-12)
    weighted = _criterion(rho, logits, onehot, singletons, w)
    assert float(weighted) == pytest.approx(float(ce.numpy() @ w / w.sum()), rel=1e-12)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_without_bags_the_fit_is_a_softmax_mlp_trained_on_cross_entropy(rho):
    # the same network, initialisation, batches and Adam steps, written by hand on
    # torch's cross-entropy: the weights agree
    X, y, _ = _small_task(150)
    X = X.astype(np.float32)
    params = dict(hidden_layer_sizes=(16,), batch_size=32, max_iter=5, learning_rate_init=1e-2)
    est = AggregateMLPClassifier(rho, scale=False, random_state=4, device="cpu", **params)
    est.fit(X, y)
    seed = int(check_random_state(4).randint(np.iinfo(np.int32).max))
    generator = torch.Generator().manual_seed(seed)
    module = build_module(partial(mlp, 6, (16,), "relu", 3), generator)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-2)
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)
    for _ in range(5):
        order = torch.randperm(150, generator=generator)  # the epoch's shuffle
        torch.empty((), dtype=torch.int64).random_(generator=generator)  # the loader's seed
        for rows in order.split(32):
            optimizer.zero_grad()
            torch.nn.functional.cross_entropy(module(X_t[rows]), y_t[rows]).backward()
            optimizer.step()
    for ours, reference in zip(est.net_.module_.parameters(), module.parameters(), strict=True):
        np.testing.assert_allclose(ours.detach().numpy(), reference.detach().numpy(), atol=1e-6)
    logits = module(X_t).detach().double().numpy()
    np.testing.assert_allclose(est.predict_proba(X), softmax(logits, axis=1), atol=1e-5)


# --- training on whole bags ---------------------------------------------------------------


class _Recorder(ProportionLoss):
    """The criterion, recording the bag codes of every batch (training or held out)."""

    def __init__(self, rho, calls):
        super().__init__(rho)
        self.calls = calls

    def forward(self, logits, target):
        codes = target["target"] if isinstance(target, dict) else target
        self.calls.append((torch.is_grad_enabled(), codes[:, -1].numpy().copy()))
        return super().forward(logits, target)


@pytest.mark.parametrize("early_stopping", [False, True])
def test_every_batch_holds_whole_bags(early_stopping):
    rng = np.random.default_rng(0)
    X, y, _ = _small_task(400)
    bags = rng.integers(0, 50, size=400)  # bags of 1 to ~20 rows, some above batch_size
    w = rng.integers(0, 3, size=400).astype(float)
    calls = []
    est = AggregateMLPClassifier(
        hidden_layer_sizes=(8,),
        batch_size=13,
        max_iter=3,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        random_state=0,
        device="cpu",
    )
    est._criterion = lambda generator: _Recorder(est.rho, calls)
    est.fit(X, y, bags=bags, sample_weight=w)
    # the criterion sees consecutive codes of the bags left after dropping weight-0 rows
    kept = w > 0
    codes = BagOperator(np.unique(bags[kept], return_inverse=True)[1], w[kept]).codes
    sizes = np.bincount(codes)
    train_bags, valid_bags = set(), set()
    for training, batch in calls:
        present, counts = np.unique(batch, return_counts=True)
        np.testing.assert_array_equal(counts, sizes[present.astype(int)])  # whole bags
        assert len(batch) <= 13 or len(present) == 1
        (train_bags if training else valid_bags).update(present.tolist())
    assert train_bags.isdisjoint(valid_bags)
    assert train_bags | valid_bags == set(range(len(sizes)))
    assert bool(valid_bags) == early_stopping
    if early_stopping:  # a fifth of the bags held out, by GroupShuffleSplit's count
        assert len(valid_bags) == int(np.ceil(0.2 * len(sizes)))


def test_only_the_bag_proportions_are_used():
    X, y, bags = _small_task()
    shuffled = y.copy()
    rng = np.random.default_rng(1)
    for b in np.unique(bags):  # labels moved between the rows of each bag
        rows = np.flatnonzero(bags == b)
        shuffled[rows] = y[rng.permutation(rows)]
    assert not np.array_equal(shuffled, y)
    a = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, y, bags=bags)
    b = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, shuffled, bags=bags)
    np.testing.assert_array_equal(a.predict_proba(X), b.predict_proba(X))
    c = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, y)  # instance labels
    assert not np.allclose(a.predict_proba(X), c.predict_proba(X))


def test_digits_in_bags_of_ten_are_learnt_nearly_as_from_labels():
    # the check at the defaults: bags of 10 within 10 points of instance labels
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, random_state=0)
    bags = make_bags(len(y_train), 10, random_state=0)
    from_bags = AggregateMLPClassifier(random_state=0).fit(X_train, y_train, bags=bags)
    from_labels = AggregateMLPClassifier(random_state=0).fit(X_train, y_train)
    bag_accuracy, label_accuracy = (
        from_bags.score(X_test, y_test),
        from_labels.score(X_test, y_test),
    )
    assert label_accuracy > 0.95
    assert bag_accuracy > 0.9 and label_accuracy - bag_accuracy < 0.1
    # proportions that belong to other rows' features teach nothing: the check can fail
    scrambled = np.random.default_rng(0).permutation(len(y_train))
    noise = AggregateMLPClassifier(random_state=0).fit(X_train, y_train[scrambled], bags=bags)
    assert noise.score(X_test, y_test) < 0.5


# --- the estimator --------------------------------------------------------------------------


def test_same_seed_same_weights():
    X, y, bags = _small_task()
    a = AggregateMLPClassifier(random_state=3, early_stopping=True, **SMALL).fit(X, y, bags=bags)
    b = AggregateMLPClassifier(random_state=3, early_stopping=True, **SMALL).fit(X, y, bags=bags)
    c = AggregateMLPClassifier(random_state=4, early_stopping=True, **SMALL).fit(X, y, bags=bags)
    for p, q, r in zip(
        a.net_.module_.parameters(), b.net_.module_.parameters(), c.net_.module_.parameters()
    ):
        assert torch.equal(p, q)
        assert not torch.equal(p, r)


def test_probabilities_labels_and_binary_problems():
    X, y, bags = _small_task(n_classes=2)
    labels = np.array(["no", "yes"])[y]
    clf = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, labels, bags=bags)
    np.testing.assert_array_equal(clf.classes_, ["no", "yes"])
    proba = clf.predict_proba(X)
    assert proba.shape == (len(y), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_allclose(np.exp(clf.predict_log_proba(X)), proba, rtol=1e-12)
    np.testing.assert_array_equal(clf.predict(X), clf.classes_[proba.argmax(axis=1)])
    assert clf.net_.module_[-1].out_features == 2  # a softmax over both classes
    assert clf.score(X, labels) == np.mean(clf.predict(X) == labels)


def test_zero_weights_drop_rows_and_weights_reach_the_fit():
    X, y, bags = _small_task()
    w = np.random.default_rng(2).integers(0, 3, size=len(y)).astype(float)
    keep = w > 0
    weighted = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, y, bags=bags, sample_weight=w)
    dropped = AggregateMLPClassifier(random_state=0, **SMALL).fit(
        X[keep], y[keep], bags=bags[keep], sample_weight=w[keep]
    )
    np.testing.assert_array_equal(weighted.predict_proba(X), dropped.predict_proba(X))
    plain = AggregateMLPClassifier(random_state=0, **SMALL).fit(X[keep], y[keep], bags=bags[keep])
    assert not np.array_equal(weighted.predict_proba(X), plain.predict_proba(X))


def test_one_batch_with_integer_weights_is_the_fit_on_repeated_rows():
    # one batch holding every bag: the weighted loss is the repeated rows' loss at every step
    X, y, bags = _small_task(60)
    w = np.random.default_rng(3).integers(1, 4, size=60)
    repeat = np.repeat(np.arange(60), w)
    params = dict(hidden_layer_sizes=(8,), max_iter=5, batch_size=1000, device="cpu")
    weighted = AggregateMLPClassifier(random_state=0, scale=False, **params).fit(
        X, y, bags=bags, sample_weight=w
    )
    repeated = AggregateMLPClassifier(random_state=0, scale=False, **params).fit(
        X[repeat], y[repeat], bags=bags[repeat]
    )
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-5)


@pytest.mark.parametrize(
    "fit_args, match",
    [
        ({"bags": np.arange(5)}, "bags has 5 ids"),
        ({"bags": [[0, 1]] * 80}, "bags must be 1-D"),
        ({"bags": np.r_[np.nan, np.arange(159.0)]}, "NaN"),
        ({"y": np.zeros(160)}, "at least 2 classes"),
        ({"y": np.linspace(-1, 3, 160)}, "y must hold class labels, proportions"),
        ({"sample_weight": -np.ones(160)}, "Negative"),
        ({"X": np.full((160, 6), np.nan)}, "NaN"),
    ],
)
def test_clear_errors(fit_args, match):
    X, y, bags = _small_task()
    args = {"X": X, "y": y, "bags": bags, **fit_args}
    with pytest.raises(ValueError, match=match):
        AggregateMLPClassifier(**SMALL).fit(**args)


def test_pipeline_grid_search_and_cross_validate_route_bags():
    X, y, bags = _small_task(240, bag_size=6)
    X = 5 * X + 3

    def classifier():
        return AggregateMLPClassifier(random_state=0, scale=False, **SMALL)

    reference = classifier().fit(StandardScaler().fit_transform(X), y, bags=bags)
    # routing off: the step's fit parameter
    pipe = make_pipeline(StandardScaler(), classifier())
    pipe.fit(X, y, aggregatemlpclassifier__bags=bags)
    np.testing.assert_array_equal(
        pipe.predict_proba(X), reference.predict_proba(pipe[0].transform(X))
    )
    with sklearn.config_context(enable_metadata_routing=True):
        est = classifier().set_fit_request(bags=True, sample_weight=False)
        pipe = make_pipeline(StandardScaler(), est).fit(X, y, bags=bags)
        np.testing.assert_array_equal(
            pipe.predict_proba(X), reference.predict_proba(pipe[0].transform(X))
        )
        unbagged = make_pipeline(StandardScaler(), classifier()).fit(X, y)
        assert not np.array_equal(pipe.predict_proba(X), unbagged.predict_proba(X))
        search = GridSearchCV(
            make_pipeline(StandardScaler(), est),
            {"aggregatemlpclassifier__rho": [0.0, 1.0]},
            cv=GroupKFold(3),
        ).fit(X, y, bags=bags, groups=bags)
        best = search.best_estimator_
        refit = classifier().set_params(rho=search.best_params_["aggregatemlpclassifier__rho"])
        refit.fit(best[0].transform(X), y, bags=bags)
        np.testing.assert_array_equal(
            best.predict_proba(X), refit.predict_proba(best[0].transform(X))
        )
        scores = cross_validate(
            make_pipeline(StandardScaler(), est),
            X,
            y,
            cv=GroupKFold(3),
            params={"bags": bags, "groups": bags},
            return_estimator=True,
        )
        assert len(scores["test_score"]) == 3
        # each fold's model was fitted on its training rows' bags
        train, _ = next(GroupKFold(3).split(X, y, bags))
        fold = scores["estimator"][0]
        direct = classifier().fit(fold[0].transform(X[train]), y[train], bags=bags[train])
        np.testing.assert_array_equal(
            fold.predict_proba(X), direct.predict_proba(fold[0].transform(X))
        )


# --- the targets AggregateLogisticRegression takes ------------------------------------------


def test_proportions_in_y_give_the_fit_on_labels():
    X, y, bags = _small_task()
    op = BagOperator(bags, np.ones(len(y)))
    onehot = np.eye(3)[y]
    broadcast = op.mean(onehot)[op.codes]  # each bag's proportions on its rows
    on_labels = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, y, bags=bags)
    for target in (onehot, broadcast):
        fit = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, target, bags=bags)
        np.testing.assert_array_equal(fit.classes_, [0, 1, 2])
        np.testing.assert_allclose(fit.predict_proba(X), on_labels.predict_proba(X), atol=1e-6)
    # two classes: the positive class's proportion on each row
    X, y, bags = _small_task(n_classes=2)
    share = BagOperator(bags, np.ones(len(y))).mean(y.astype(float))[bags]
    on_labels = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, y, bags=bags)
    on_shares = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, share, bags=bags)
    np.testing.assert_allclose(on_shares.predict_proba(X), on_labels.predict_proba(X), atol=1e-6)


def test_takes_what_aggregate_logistic_regression_takes():
    from sklearn_losses.aggregate import AggregateLogisticRegression, privatize_label_proportions

    X, y, bags = _small_task()
    released = privatize_label_proportions(y, bags, epsilon=1.0, random_state=0)
    for target in (y, released):
        linear = AggregateLogisticRegression().fit(X, target, bags=bags)
        net = AggregateMLPClassifier(random_state=0, **SMALL).fit(X, target, bags=bags)
        np.testing.assert_array_equal(net.classes_, linear.classes_)
        assert net.predict_proba(X).shape == linear.predict_proba(X).shape


@pytest.mark.parametrize(
    "y, match",
    [
        (np.full((160, 3), 0.5), "sum to 1"),
        (np.c_[np.full(160, -0.5), np.full(160, 1.5)], "non-negative"),
        (np.c_[np.full(160, np.nan), np.ones(160)], "NaN"),
    ],
)
def test_bad_proportions_are_clear_errors(y, match):
    X, _, bags = _small_task()
    with pytest.raises(ValueError, match=match):
        AggregateMLPClassifier(**SMALL).fit(X, y, bags=bags)
