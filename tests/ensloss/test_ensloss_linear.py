"""EnsLossClassifier: the solver against closed-form optima, reproducibility, the API."""

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.datasets import load_breast_cancer, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sklearn_losses.ensloss import EnsLossClassifier


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(300, 8, n_informative=5, random_state=0)
    return StandardScaler().fit_transform(X), y


def _full_batch(loss, alpha, **kw):
    """Deterministic gradient descent: one full batch per epoch, constant step."""
    return EnsLossClassifier(
        loss,
        alpha=alpha,
        batch_size=10_000,
        learning_rate="constant",
        eta0=0.5,
        momentum=0.9,
        **{"max_iter": 3000, **kw},
    )


def test_logistic_solution_equals_logistic_regression(data):
    X, y = data
    alpha = 1e-2
    ours = _full_batch("logistic", alpha).fit(X, y)
    ref = LogisticRegression(C=1 / (alpha * len(y)), tol=1e-12, max_iter=10_000).fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-6)
    np.testing.assert_allclose(ours.intercept_, ref.intercept_, atol=1e-6)


def test_squared_hinge_solution_equals_linear_svc(data):
    X, y = data
    alpha = 1e-2
    ours = _full_batch("squared_hinge", alpha, fit_intercept=False).fit(X, y)
    ref = LinearSVC(C=1 / (alpha * len(y)), fit_intercept=False, tol=1e-12, max_iter=100_000)
    ref.fit(X, y)
    np.testing.assert_allclose(ours.coef_, ref.coef_, atol=1e-5)


def test_multiclass_is_one_vs_rest_logistic():
    X, y = make_classification(300, 6, n_informative=4, n_classes=3, random_state=1)
    alpha = 1e-2
    ours = _full_batch("logistic", alpha).fit(X, y)
    ref = OneVsRestClassifier(LogisticRegression(C=1 / (alpha * 300), tol=1e-12, max_iter=10**4))
    ref.fit(X, y)
    np.testing.assert_allclose(ours.decision_function(X), ref.decision_function(X), atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), ref.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("loss", ["ensloss", "hinge", "exponential"])
def test_same_seed_same_weights_and_csr_equals_dense(data, loss):
    X, y = data
    a = EnsLossClassifier(loss, max_iter=20, random_state=5).fit(X, y)
    b = EnsLossClassifier(loss, max_iter=20, random_state=5).fit(X, y)
    assert np.array_equal(a.coef_, b.coef_) and np.array_equal(a.intercept_, b.intercept_)
    c = EnsLossClassifier(loss, max_iter=20, random_state=6).fit(X, y)
    assert not np.array_equal(a.coef_, c.coef_)
    X_sparse = X.copy()
    X_sparse[np.abs(X_sparse) < 0.5] = 0.0
    dense = EnsLossClassifier(loss, max_iter=20, random_state=5).fit(X_sparse, y)
    csr = EnsLossClassifier(loss, max_iter=20, random_state=5).fit(sp.csr_matrix(X_sparse), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-12, atol=1e-14)


def test_partial_fit_epochs_equal_fit(data):
    X, y = data
    fitted = EnsLossClassifier(max_iter=7, random_state=2).fit(X, y)
    streamed = EnsLossClassifier(max_iter=7, random_state=2)
    for _ in range(7):
        streamed.partial_fit(X, y, classes=np.unique(y))
    np.testing.assert_allclose(streamed.coef_, fitted.coef_, rtol=1e-13)
    assert streamed.n_iter_ == 7


def test_partial_fit_needs_classes_and_known_labels(data):
    X, y = data
    with pytest.raises(ValueError, match="classes must be passed on the first call"):
        EnsLossClassifier().partial_fit(X, y)
    clf = EnsLossClassifier().partial_fit(X, y, classes=[0, 1])
    with pytest.raises(ValueError, match="not in classes"):
        clf.partial_fit(X, y + 5)


def test_warm_start_continues(data):
    X, y = data
    clf = EnsLossClassifier(max_iter=5, warm_start=True, random_state=0).fit(X, y)
    first = clf.coef_.copy()
    clf.fit(X, y)
    assert not np.array_equal(first, clf.coef_)
    with pytest.raises(ValueError, match="classes of the previous fit"):
        clf.fit(X, np.where(y == 1, "b", "a"))


def test_probabilities_only_for_the_logistic_loss(data):
    X, y = data
    assert hasattr(EnsLossClassifier("logistic"), "predict_proba")
    clf = EnsLossClassifier(max_iter=5, random_state=0).fit(X, y)
    assert not hasattr(clf, "predict_proba")
    with pytest.raises(AttributeError, match="no attribute 'predict_proba'") as error:
        clf.predict_proba(X)
    # scikit-learn's available_if chains our explanation as the cause
    assert "CalibratedClassifierCV" in str(error.value.__cause__)
    calibrated = CalibratedClassifierCV(EnsLossClassifier(max_iter=5, random_state=0), cv=3)
    proba = calibrated.fit(X, y).predict_proba(X)
    np.testing.assert_allclose(proba.sum(axis=1), 1)
    logistic = EnsLossClassifier("logistic", max_iter=5).fit(X, y)
    np.testing.assert_allclose(np.exp(logistic.predict_log_proba(X)), logistic.predict_proba(X))


def test_tol_stops_early_and_warns_when_it_cannot(data):
    X, y = data
    clf = _full_batch("logistic", 1e-2, tol=1e-6).fit(X, y)
    assert clf.n_iter_ < 3000
    with pytest.warns(ConvergenceWarning, match="did not converge"):
        EnsLossClassifier(tol=1e-12, max_iter=3, random_state=0).fit(X, y)


def test_exponential_loss_survives_badly_scaled_data(data):
    X, y = data
    clf = EnsLossClassifier("exponential", eta0=1.0, max_iter=10, random_state=0)
    clf.fit(1e4 * X, y)
    assert np.all(np.isfinite(clf.coef_))


def test_validation_scores_and_string_labels(data):
    X, y = data
    labels = np.array(["no", "yes"])[y]
    clf = EnsLossClassifier(max_iter=12, random_state=0)
    clf.fit(X[:200], labels[:200], X_val=X[200:], y_val=labels[200:])
    assert len(clf.validation_scores_) == 12
    assert clf.validation_scores_[-1] == clf.score(X[200:], labels[200:])
    assert set(clf.predict(X)) <= {"no", "yes"}
    with pytest.raises(ValueError, match="together"):
        clf.fit(X, labels, X_val=X)


def test_resampled_lambda_changes_the_draws(data):
    X, y = data
    fixed = EnsLossClassifier(max_iter=6, random_state=0).fit(X, y)
    resampled = EnsLossClassifier(max_iter=6, resample_lambda_every=2, random_state=0).fit(X, y)
    assert resampled._lambda != 0.0
    assert not np.array_equal(fixed.coef_, resampled.coef_)


@pytest.mark.parametrize(
    "kwargs, X_y, match",
    [
        ({}, "one_class", "1 class"),
        ({}, "nan", "NaN"),
        ({}, "continuous", "Unknown label type"),
        ({"batch_size": 0}, "ok", "batch_size"),
        ({"loss": "squared"}, "ok", "loss"),
    ],
)
def test_bad_input_gets_a_clear_error(data, kwargs, X_y, match):
    X, y = data
    X = X.copy()
    if X_y == "one_class":
        y = np.zeros_like(y)
    elif X_y == "nan":
        X[3, 2] = np.nan
    elif X_y == "continuous":
        y = y + 0.5 * np.arange(len(y))
    with pytest.raises(ValueError, match=match):
        EnsLossClassifier(**kwargs).fit(X, y)


def test_breast_cancer_ensloss_close_to_logistic_in_a_grid_search():
    X, y = load_breast_cancer(return_X_y=True)
    pipe = make_pipeline(StandardScaler(), EnsLossClassifier(max_iter=50, random_state=0))
    grid = GridSearchCV(
        pipe,
        {
            "enslossclassifier__loss": ["ensloss", "logistic"],
            "enslossclassifier__alpha": [1e-4, 1e-2],
        },
        cv=3,
    ).fit(X, y)
    scores = grid.cv_results_["mean_test_score"]
    assert len(scores) == 4 and np.all(scores > 0.95)


@pytest.mark.parametrize("loss", ["logistic", "hinge", "squared_hinge", "exponential"])
def test_integer_sample_weight_equals_repeated_rows(data, loss):
    # One full batch per epoch makes the batch order irrelevant: the weighted fit
    # and the fit on repeated rows take the same steps.
    X, y = data
    X, y = X[:60], y[:60]
    weight = np.random.default_rng(0).integers(0, 4, size=60)
    weighted = _full_batch(loss, 1e-3, max_iter=40).fit(X, y, sample_weight=weight)
    repeated = _full_batch(loss, 1e-3, max_iter=40).fit(
        np.repeat(X, weight, axis=0), np.repeat(y, weight)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(weighted.intercept_, repeated.intercept_, rtol=1e-10, atol=1e-12)
    # and the weights do matter
    plain = _full_batch(loss, 1e-3, max_iter=40).fit(X, y)
    assert not np.allclose(plain.coef_, weighted.coef_, rtol=1e-3)


def test_unit_sample_weight_is_no_weight_and_partial_fit_takes_weights(data):
    X, y = data
    a = EnsLossClassifier(max_iter=5, random_state=0).fit(X, y)
    b = EnsLossClassifier(max_iter=5, random_state=0).fit(X, y, sample_weight=np.ones(len(y)))
    np.testing.assert_array_equal(a.coef_, b.coef_)
    weight = np.where(y == 1, 3.0, 1.0)
    c = EnsLossClassifier("logistic", random_state=0).partial_fit(
        X, y, classes=[0, 1], sample_weight=weight
    )
    d = EnsLossClassifier("logistic", random_state=0).partial_fit(X, y, classes=[0, 1])
    assert c.intercept_[0] > d.intercept_[0]  # the up-weighted positives pull it up
    with pytest.raises(ValueError, match="EnsLossClassifier: Negative values"):
        EnsLossClassifier().fit(X, y, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="EnsLossClassifier: sample_weight.shape"):
        EnsLossClassifier().fit(X, y, sample_weight=np.ones(3))


def test_verbose_prints_one_line_per_epoch(data, capsys):
    X, y = data
    EnsLossClassifier(max_iter=3, verbose=1, random_state=0).fit(X, y)
    lines = capsys.readouterr().out.strip().splitlines()
    assert [line.split(":")[0] for line in lines] == ["-- Epoch 1", "-- Epoch 2", "-- Epoch 3"]
    EnsLossClassifier(max_iter=3, random_state=0).fit(X, y)
    assert capsys.readouterr().out == ""


def test_invscaling_schedule_divides_the_step_by_the_epoch():
    from sklearn_losses.utils._sgd import step_size

    steps = [step_size("invscaling", 0.3, t, 10) for t in range(3)]
    np.testing.assert_allclose(steps, [0.3, 0.15, 0.1])
    cosine = [step_size("cosine", 1.0, t, 4) for t in range(5)]
    np.testing.assert_allclose(
        cosine, [1.0, 0.5 * (1 + np.cos(np.pi / 4)), 0.5, 0.5 * (1 + np.cos(3 * np.pi / 4)), 1.0]
    )


def test_a_diverged_fit_leaves_the_previous_fit_to_continue_from(data):
    from sklearn_losses.utils import DivergenceError

    X, y = data
    clf = EnsLossClassifier("logistic", max_iter=5, random_state=0).fit(X, y)
    coef = clf.coef_.copy()
    clf.set_params(eta0=1e200, warm_start=True)
    with pytest.raises(DivergenceError):
        clf.fit(X * 1e100, y)
    np.testing.assert_array_equal(clf.coef_, coef)  # not the NaN state of the failed fit
    assert not hasattr(clf, "_validation")
    clf.set_params(eta0=0.01).fit(X, y)  # continues from coef, finitely
    assert np.all(np.isfinite(clf.coef_)) and clf.score(X, y) > 0.8
    with pytest.raises(DivergenceError):
        clf.set_params(eta0=1e200).partial_fit(X * 1e100, y)
    assert np.all(np.isfinite(clf.coef_))


def test_partial_fit_accepts_a_chunk_of_zero_weights(data):
    X, y = data
    clf = EnsLossClassifier("logistic", batch_size=10_000, random_state=0)
    clf.partial_fit(X, y, classes=[0, 1])
    coef, velocity, step = clf.coef_.copy(), clf._coef_velocity.copy(), clf._step(1)
    clf.partial_fit(X, y, sample_weight=np.zeros(len(y)))
    # one batch with no data term: only the momentum and the penalty move the weights
    expected_velocity = clf.momentum * velocity + clf.alpha * coef
    np.testing.assert_allclose(clf.coef_, coef - step * expected_velocity, rtol=1e-12)
