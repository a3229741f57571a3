"""EnsLossMLPClassifier: reproducibility, batch norm edge cases, losses, the API."""

import numpy as np
import pytest
from sklearn.datasets import load_digits, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.preprocessing import StandardScaler

pytest.importorskip("skorch")
from sklearn_losses.ensloss import EnsLossMLPClassifier  # noqa: E402

SMALL = {
    "hidden_layer_sizes": (16,),
    "solver": "adam",
    "learning_rate_init": 1e-2,
    "max_iter": 5,
    "batch_size": 32,
    "early_stopping": False,
}


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(200, 6, n_informative=4, class_sep=2.0, random_state=0)
    return StandardScaler().fit_transform(X), y


def _state(clf):
    return {k: v.clone() for k, v in clf.net_.module_.state_dict().items()}


def test_same_seed_same_weights_on_cpu(data):
    X, y = data
    params = {**SMALL, "hidden_layer_sizes": (16, 16), "device": "cpu"}
    a = _state(EnsLossMLPClassifier(random_state=3, **params).fit(X, y))
    b = _state(EnsLossMLPClassifier(random_state=3, **params).fit(X, y))
    c = _state(EnsLossMLPClassifier(random_state=4, **params).fit(X, y))
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    assert not all(np.array_equal(a[k].numpy(), c[k].numpy()) for k in a)


def test_fit_does_not_touch_the_global_torch_rng(data):
    import torch

    X, y = data
    torch.manual_seed(0)
    expected = torch.rand(3)
    torch.manual_seed(0)
    EnsLossMLPClassifier(random_state=0, **SMALL).fit(X, y)
    assert torch.equal(torch.rand(3), expected)


def test_batch_of_one_with_batch_norm(data):
    X, y = data
    with pytest.raises(ValueError, match="batch_size=1 cannot be used with batch_norm"):
        EnsLossMLPClassifier(**{**SMALL, "batch_size": 1}).fit(X, y)
    EnsLossMLPClassifier(**{**SMALL, "batch_size": 1, "batch_norm": False, "max_iter": 1}).fit(X, y)
    # 129 rows in batches of 128 leave a batch of one: it is dropped, not an error
    clf = EnsLossMLPClassifier(**{**SMALL, "batch_size": 128}).fit(X[:129], y[:129])
    assert clf.predict(X[:1]).shape == (1,)


@pytest.mark.parametrize("loss", ["ensloss", "logistic", "hinge", "squared_hinge", "exponential"])
def test_every_loss_learns(data, loss):
    X, y = data
    clf = EnsLossMLPClassifier(loss, random_state=0, **{**SMALL, "max_iter": 20}).fit(X, y)
    assert clf.score(X, y) > 0.85


def test_exponential_loss_gradients_are_clipped(data, monkeypatch):
    import torch
    from skorch.callbacks import Callback

    from sklearn_losses.ensloss import _nets

    class GradientNorms(Callback):
        """Record the gradient norm of every step as this callback sees it."""

        def __init__(self):
            self.norms = []

        def on_grad_computed(self, net, named_parameters, **kwargs):
            grads = [p.grad.detach().norm() for _, p in named_parameters if p.grad is not None]
            self.norms.append(float(torch.linalg.vector_norm(torch.stack(grads))))

    before, after = GradientNorms(), GradientNorms()
    original = _nets.margin_callbacks
    # the family's callbacks between two recorders: the norm before and after clipping
    # (named: skorch regroups callbacks of the same name)
    monkeypatch.setattr(
        _nets,
        "margin_callbacks",
        lambda *a: [("norm_before", before), *original(*a), ("norm_after", after)],
    )
    X, y = data
    params = {**SMALL, "batch_norm": False}  # batch norm would undo the scale of 100 X
    clf = EnsLossMLPClassifier("exponential", random_state=0, **params).fit(100 * X, y)
    assert np.all(np.isfinite(clf.decision_function(X)))
    before, after = np.array(before.norms), np.array(after.norms)
    assert len(before) == len(after) == 5 * 7  # 5 epochs of 7 batches of 200 rows
    assert before.max() > 100  # the exponential loss on badly scaled data: huge gradients
    finite = np.isfinite(before)  # a float32 norm can overflow: the step is then zeroed
    np.testing.assert_allclose(after[finite], np.minimum(before[finite], 10.0), rtol=1e-5)
    assert np.all(after[~finite] == 0.0)


def test_multiclass_one_vs_rest_and_string_labels():
    X, y = load_digits(n_class=3, return_X_y=True)
    labels = np.array(["zero", "one", "two"])[y]
    X = StandardScaler().fit_transform(X)
    clf = EnsLossMLPClassifier(random_state=0, **{**SMALL, "max_iter": 15}).fit(X, labels)
    assert clf.decision_function(X).shape == (len(y), 3)
    assert clf.score(X, labels) > 0.95


def test_probabilities_only_for_the_logistic_loss(data):
    X, y = data
    clf = EnsLossMLPClassifier("logistic", random_state=0, **SMALL).fit(X, y)
    proba = clf.predict_proba(X)
    np.testing.assert_allclose(proba[:, 1], 1 / (1 + np.exp(-clf.decision_function(X))))
    hinge = EnsLossMLPClassifier("hinge", random_state=0, **SMALL).fit(X, y)
    with pytest.raises(AttributeError) as error:
        hinge.predict_proba(X)
    assert "CalibratedClassifierCV" in str(error.value.__cause__)


def test_validation_curve_and_cosine_schedule(data):
    X, y = data
    params = {**SMALL, "solver": "sgd", "learning_rate": "cosine", "learning_rate_init": 0.1}
    clf = EnsLossMLPClassifier(random_state=0, **params)
    clf.fit(X[:150], y[:150], X_val=X[150:], y_val=y[150:])
    assert len(clf.validation_scores_) == 5
    assert clf.validation_scores_[-1] == pytest.approx(clf.score(X[150:], y[150:]))
    lrs = clf.net_.history[:, "event_lr"]
    np.testing.assert_allclose(lrs, 0.1 * (1 + np.cos(np.pi * np.arange(5) / 5)) / 2)
    with pytest.raises(ValueError, match="not in classes"):
        clf.fit(X, y, X_val=X, y_val=y + 3)


def test_resampled_lambda(data):
    X, y = data
    clf = EnsLossMLPClassifier(resample_lambda_every=2, random_state=0, **SMALL).fit(X, y)
    assert -1 <= clf.net_.criterion_.boxcox_lambda <= 1
    assert clf.net_.criterion_.boxcox_lambda != 0.0


def test_bad_input(data):
    X, y = data
    X_nan = X.copy()
    X_nan[0, 0] = np.nan
    with pytest.raises(ValueError, match="NaN"):
        EnsLossMLPClassifier(**SMALL).fit(X_nan, y)
    with pytest.raises(ValueError, match="1 class"):
        EnsLossMLPClassifier(**SMALL).fit(X, np.ones_like(y))
    with pytest.raises(ValueError, match="batch_size"):
        EnsLossMLPClassifier(batch_size=0).fit(X, y)


def test_grid_search_over_loss_and_weight_decay(data):
    X, y = data
    grid = GridSearchCV(
        EnsLossMLPClassifier(random_state=0, **{**SMALL, "max_iter": 20}),
        {"loss": ["ensloss", "hinge"], "weight_decay": [0.0, 1e-3]},
        cv=2,
    ).fit(X, y)
    assert grid.best_score_ > 0.8


def _margins(rng, n=240):
    """Margins with ties (within and across the clipped half), the kinks and the tails."""
    z = rng.normal(0, 2, size=n)
    z[:40] = np.repeat(rng.normal(0, 1, size=8), 5)  # blocks of ties
    z[40:60] = 1.0  # the hinge kink and the EnsLoss tail threshold, tied
    z[60:80] = rng.uniform(1, 800, size=20)  # the tail z > 1, far out
    z[80:100] = rng.uniform(-800, -40, size=20)  # far misclassified, below the exp floor
    return rng.permutation(z)


@pytest.mark.parametrize("name", ["logistic", "hinge", "squared_hinge", "exponential"])
def test_torch_fixed_loss_derivatives_equal_the_definition_with_ties_and_tails(rng, name):
    # (the values and the generator are checked against ``_loss.py`` in
    # test_ensloss_generator.py; here autograd's derivatives, far into the tails)
    import torch

    from sklearn_losses.ensloss._loss import LOSS_CODES, fixed_loss, fixed_loss_derivative
    from sklearn_losses.ensloss._nets import FIXED_LOSSES, MarginLoss

    z = _margins(rng)
    if name == "exponential":
        z = z[z < 700]  # exp(-z) underflows beyond
    code = LOSS_CODES[name]
    margins = torch.tensor(z, requires_grad=True)
    FIXED_LOSSES[code](margins).sum().backward()
    np.testing.assert_allclose(
        margins.grad.numpy(), fixed_loss_derivative(code, z), rtol=1e-12, atol=1e-300
    )
    # the criterion: the sum over one-vs-rest columns, the mean over rows
    y = np.where(rng.random((len(z), 2)) < 0.5, -1.0, 1.0)
    logits = torch.tensor(np.column_stack([z, -z]) * y)
    loss = MarginLoss(name)(logits, torch.tensor(y))
    expected = fixed_loss(code, np.column_stack([z, -z])).sum(1).mean()
    assert float(loss) == pytest.approx(expected, rel=1e-12)


@pytest.mark.parametrize("name", ["logistic", "hinge", "squared_hinge", "exponential"])
def test_integer_weights_equal_repeated_rows_in_the_criterion(rng, name):
    import torch

    from sklearn_losses.ensloss._nets import MarginLoss

    logits = rng.normal(0, 2, size=(30, 3))
    y = np.where(rng.random((30, 3)) < 0.5, -1.0, 1.0)
    w = rng.integers(0, 4, size=30).astype(float)
    criterion = MarginLoss(name)
    weighted = criterion(
        torch.tensor(logits), {"target": torch.tensor(y), "sample_weight": torch.tensor(w)}
    )
    repeat = np.repeat(np.arange(30), w.astype(int))
    repeated = criterion(torch.tensor(logits[repeat]), torch.tensor(y[repeat]))
    assert float(weighted) == pytest.approx(float(repeated), rel=1e-12)


def test_weighted_ensloss_surrogate_uses_the_batch_draws(rng):
    import torch

    from sklearn_losses.ensloss._nets import MarginLoss, derivatives_from_noise

    logits = torch.tensor(rng.normal(size=(64, 2)), requires_grad=True)
    y = torch.tensor(np.where(rng.random((64, 2)) < 0.5, -1.0, 1.0))
    w = torch.tensor(rng.uniform(0, 3, size=64))
    criterion = MarginLoss("ensloss", 0.3, torch.Generator().manual_seed(5)).train()
    loss = criterion(logits, {"target": y, "sample_weight": w})
    loss.backward()
    z = (y * logits).detach()
    noise = torch.randn(z.shape, generator=torch.Generator().manual_seed(5), dtype=z.dtype)
    g = derivatives_from_noise(z, noise, 0.3)  # drawn for the batch, whatever the weights
    expected = torch.sum(w[:, None] * g * z) / w.sum()
    assert float(loss.detach()) == pytest.approx(float(expected), rel=1e-12)
    expected_grad = (w[:, None] * g * y / w.sum()).numpy()
    np.testing.assert_allclose(logits.grad.numpy(), expected_grad, rtol=1e-12, atol=1e-15)


def test_sample_weight_fit_zero_weights_and_bad_weights(data):
    X, y = data
    w = np.random.default_rng(0).integers(0, 3, size=len(y)).astype(float)
    params = {**SMALL, "device": "cpu"}
    weighted = EnsLossMLPClassifier(random_state=0, **params).fit(X, y, sample_weight=w)
    assert weighted.n_iter_ == 5
    # rows of weight 0 are dropped before training: the same fit as without them
    keep = w > 0
    dropped = EnsLossMLPClassifier(random_state=0, **params)
    dropped.fit(X[keep], y[keep], sample_weight=w[keep])
    a, b = _state(weighted), _state(dropped)
    assert all(np.array_equal(a[k].numpy(), b[k].numpy()) for k in a)
    # and the weights do change the fit
    plain = _state(EnsLossMLPClassifier(random_state=0, **params).fit(X[keep], y[keep]))
    assert not all(np.array_equal(a[k].numpy(), plain[k].numpy()) for k in a)
    for bad, match in [(-w, "Negative"), (w[:-1], "shape"), (0 * w, "non-zero")]:
        with pytest.raises(ValueError, match=match):
            EnsLossMLPClassifier(**params).fit(X, y, sample_weight=bad)
