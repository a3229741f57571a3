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
    EnsLossMLPClassifier(**{**SMALL, "batch_size": 1, "batch_norm": False, "max_iter": 1}).fit(
        X, y
    )
    # 129 rows in batches of 128 leave a batch of one: it is dropped, not an error
    clf = EnsLossMLPClassifier(**{**SMALL, "batch_size": 128}).fit(X[:129], y[:129])
    assert clf.predict(X[:1]).shape == (1,)


@pytest.mark.parametrize("loss", ["ensloss", "logistic", "hinge", "squared_hinge", "exponential"])
def test_every_loss_learns(data, loss):
    X, y = data
    clf = EnsLossMLPClassifier(loss, random_state=0, **{**SMALL, "max_iter": 20}).fit(X, y)
    assert clf.score(X, y) > 0.85


def test_exponential_loss_gradients_are_clipped(data):
    from skorch.callbacks import GradientNormClipping

    X, y = data
    clf = EnsLossMLPClassifier("exponential", random_state=0, **SMALL).fit(100 * X, y)
    assert any(isinstance(cb, GradientNormClipping) for _, cb in clf.net_.callbacks_)
    assert np.all(np.isfinite(clf.decision_function(X)))


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
