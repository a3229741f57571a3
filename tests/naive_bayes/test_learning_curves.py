import numpy as np
import pytest
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import load_iris
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression

from sklearn_losses.naive_bayes import (
    LearningCurveComparison,
    SharedVarianceGaussianNB,
    compare_learning_curves,
    fit_rate_scale,
    theoretical_rate,
)
from sklearn_losses.naive_bayes._learning_curves import draw_subset


class RecordingClassifier(ClassifierMixin, BaseEstimator):
    """Records what it was trained on (class-level log, shared by clones)."""

    log = []

    def fit(self, X, y):
        type(self).log.append((X.copy(), np.asarray(y).copy()))
        self.classes_ = np.unique(y)
        return self

    def predict(self, X):
        return np.full(len(X), self.classes_[0])


@pytest.mark.parametrize("sampling", ["stratified", "uniform"])
def test_every_subset_covers_every_class_with_exact_size(sampling):
    y = np.repeat([0, 1, 2], [50, 30, 5])
    rng = np.random.RandomState(0)
    for size in (3, 4, 10, 60, 85):
        idx = draw_subset(y, size, np.unique(y), sampling, rng)
        assert len(idx) == size == len(set(idx))
        assert set(y[idx]) == {0, 1, 2}


def test_stratified_subset_keeps_proportions():
    y = np.repeat([0, 1], [900, 100])
    idx = draw_subset(y, 100, np.array([0, 1]), "stratified", np.random.RandomState(0))
    assert abs(np.sum(y[idx] == 1) - 10) <= 1


def test_estimators_see_identical_subsets_and_scaler_is_fit_on_subset():
    X, y = load_iris(return_X_y=True)
    RecordingClassifier.log = []
    compare_learning_curves(
        {"a": RecordingClassifier(), "b": RecordingClassifier()},
        X,
        y,
        X_test=X,
        y_test=y,
        train_sizes=[12],
        n_repeats=2,
        scaler="minmax",
        random_state=0,
    )
    (a1, ya1), (b1, yb1), (a2, _), _ = RecordingClassifier.log
    np.testing.assert_array_equal(a1, b1)
    np.testing.assert_array_equal(ya1, yb1)
    assert not np.array_equal(a1, a2)  # repeats differ
    # min-max scaler fitted on the 12 training rows: each column spans exactly [0, 1]
    np.testing.assert_allclose(a1.min(axis=0), 0)
    np.testing.assert_allclose(a1.max(axis=0), 1)


def test_identical_estimators_score_identically_and_seed_is_reproducible():
    X, y = load_iris(return_X_y=True)
    est = {"nb1": SharedVarianceGaussianNB(), "nb2": SharedVarianceGaussianNB()}
    one = compare_learning_curves(est, X, y, train_sizes=[6, 20], n_repeats=3, random_state=4)
    two = compare_learning_curves(
        est, X, y, train_sizes=[6, 20], n_repeats=3, random_state=4, n_jobs=2
    )
    np.testing.assert_array_equal(one.scores[0], one.scores[1])
    np.testing.assert_array_equal(one.scores, two.scores)


def test_log_loss_scoring_and_chance_level():
    X, y = load_iris(return_X_y=True)
    res = compare_learning_curves(
        {"dummy": DummyClassifier(strategy="prior")},
        X,
        y,
        train_sizes=[30],
        n_repeats=2,
        scoring="log_loss",
        random_state=0,
    )
    assert res.scores[0, 0, 0] == pytest.approx(np.log(3), abs=0.05)


def _result(mean_a, mean_b):
    scores = np.stack([np.array(mean_a)[:, None], np.array(mean_b)[:, None]])
    return LearningCurveComparison(
        np.array([10, 20, 40, 80]), ["a", "b"], np.repeat(scores, 2, axis=2), "error", 50
    )


def test_samples_to_within_and_crossover():
    res = _result([0.30, 0.12, 0.11, 0.10], [0.20, 0.15, 0.06, 0.04])
    assert res.samples_to_within(0.01) == {"a": 40, "b": 80}
    assert res.samples_to_within(0.025) == {"a": 20, "b": 40}
    assert res.crossover_size("b", "a") == 40
    assert res.crossover_size("a", "b") is None
    np.testing.assert_allclose(res.sem, 0)


def test_stop_tol_stops_each_estimator_at_its_own_size():
    X, y = load_iris(return_X_y=True)
    res = compare_learning_curves(
        {"nb": SharedVarianceGaussianNB(), "lr": LogisticRegression(max_iter=500)},
        X,
        y,
        train_sizes=[3, 6, 12, 24, 48, 96, 112],
        n_repeats=2,
        stop_tol=0.05,
        random_state=0,
    )
    within = res.samples_to_within(0.05)
    for i, name in enumerate(res.names):
        evaluated = np.isfinite(res.mean[i])
        last = np.flatnonzero(evaluated[:-1])[-1]
        assert res.train_sizes[last] == within[name]  # evaluation stopped right there
        assert evaluated[-1]


def test_rates_and_scale_fit():
    sizes = np.array([10, 100, 1000])
    np.testing.assert_allclose(
        theoretical_rate(sizes, 100, "naive_bayes"), np.sqrt(np.log(100) / sizes)
    )
    lr = theoretical_rate(sizes, 100, "logistic")
    np.testing.assert_allclose(lr, np.sqrt(100 / sizes))
    assert fit_rate_scale(sizes, 0.2 * lr + [0.01, -0.01, 0.0], 100, "logistic") == pytest.approx(
        0.2, abs=0.01
    )
    with pytest.raises(ValueError, match="kind"):
        theoretical_rate(sizes, 10, "svm")


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"train_sizes": [2]}, r"train_sizes must lie in \[3"),
        ({"train_sizes": [10], "sampling": "odd"}, "sampling"),
        ({"train_sizes": [10], "scoring": "auc"}, "scoring"),
        ({"train_sizes": [10], "scaler": "robust"}, "scaler"),
        ({"train_sizes": [10], "X_test": np.ones((2, 4))}, "y_test"),
    ],
)
def test_bad_arguments(kwargs, match):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match=match):
        compare_learning_curves({"nb": SharedVarianceGaussianNB()}, X, y, **kwargs)


def test_plot_has_one_legend_entry_per_model_and_one_for_the_theory():
    from matplotlib.figure import Figure

    X, y = load_iris(return_X_y=True)
    res = compare_learning_curves(
        {"nb": SharedVarianceGaussianNB(), "lr": LogisticRegression(max_iter=500)},
        X,
        y,
        train_sizes=[6, 24, 96],
        n_repeats=2,
        random_state=0,
    )
    ax = Figure().subplots()
    res.plot(ax, theory={"nb": "naive_bayes", "lr": "logistic"})
    labels = [text.get_text() for text in ax.get_legend().get_texts()]
    assert labels == ["nb", "theory, scaled to fit (dashed)", "lr"]
    assert len([line for line in ax.get_lines() if line.get_linestyle() == "--"]) == 2
