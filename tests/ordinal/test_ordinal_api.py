"""Labels, weights, crossings, the CV path, bad input and scikit-learn integration."""

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.metrics import brier_score_loss, log_loss
from sklearn.model_selection import GridSearchCV, PredefinedSplit, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.datasets import make_presto_data
from sklearn_losses.ordinal import PRESTOClassifier, PRESTOClassifierCV, ProportionalOddsClassifier

ESTIMATORS = [
    ProportionalOddsClassifier(),
    PRESTOClassifier(alpha=0.003),
    PRESTOClassifierCV(alphas=6, cv=3),
]


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_presto_data(n_samples=800, intercepts=(-1.0, 1.0, 3.0), random_state=2)
    X.setflags(write=False)  # shared by the module's tests: no test may change it
    y.setflags(write=False)
    return X, y


@pytest.mark.parametrize("est", ESTIMATORS, ids=lambda e: type(e).__name__)
def test_probabilities_are_valid_and_labels_keep_their_order(est, data):
    X, y = data
    labels = np.array([1, 2, 5, 9])[y]
    fitted = clone(est).fit(X, labels)
    np.testing.assert_array_equal(fitted.classes_, [1, 2, 5, 9])
    proba = fitted.predict_proba(X)
    assert proba.min() >= 0 and np.allclose(proba.sum(axis=1), 1)
    assert set(fitted.predict(X)) <= {1, 2, 5, 9}
    coded = type(est)(**est.get_params()).fit(X, y)
    np.testing.assert_allclose(coded.predict_proba(X), proba, atol=1e-10)


def test_string_labels_follow_categories_order(data):
    X, y = data
    names = np.array(["low", "medium", "high", "extreme"])
    model = PRESTOClassifier(alpha=0.003, categories=list(names)).fit(X, names[y])
    np.testing.assert_array_equal(model.categories_, names)
    np.testing.assert_array_equal(model.classes_, np.sort(names))
    reference = PRESTOClassifier(alpha=0.003).fit(X, y)
    np.testing.assert_allclose(model.coef_, reference.coef_, atol=1e-10)
    with pytest.raises(ValueError, match="not in categories"):
        PRESTOClassifier(categories=["low", "medium"]).fit(X, names[y])
    with pytest.raises(ValueError, match="do not occur in y"):
        PRESTOClassifier(categories=[*names, "none"]).fit(X, names[y])


def test_cv_integer_weights_equal_repeated_rows(data, rng):
    """PRESTOClassifierCV: weights in one CV group = that group's rows repeated.

    On well-posed data (more rows than features) the two fits agree to the solver's
    tolerance; scikit-learn's own check uses 15 rows and 30 features, where the
    smallest alpha's optimum is too flat for that (see tests/instance_params.py).
    """
    X, y = data
    X, y = X[:150], y[:150]
    w = rng.integers(0, 3, size=len(y))
    groups = np.repeat([0, 1, 2], 50)
    X_rep, y_rep = np.repeat(X, w, axis=0), np.repeat(y, w)
    groups_rep = np.repeat(groups, w)
    weighted = PRESTOClassifierCV(alphas=5, cv=PredefinedSplit(groups), tol=1e-8)
    weighted.fit(X, y, sample_weight=w)
    repeated = PRESTOClassifierCV(alphas=5, cv=PredefinedSplit(groups_rep), tol=1e-8)
    repeated.fit(X_rep, y_rep)
    assert weighted.alpha_ == pytest.approx(repeated.alpha_, rel=1e-9)
    np.testing.assert_allclose(weighted.cv_scores_, repeated.cv_scores_, rtol=1e-6)
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize("est", ESTIMATORS[:2], ids=lambda e: type(e).__name__)
def test_integer_weights_equal_repeated_rows(est, data, rng):
    X, y = data
    w = rng.integers(0, 3, size=len(y))
    weighted = (
        type(est)(**est.get_params())
        .set_params(tol=1e-9 if isinstance(est, ProportionalOddsClassifier) else 1e-7)
        .fit(X, y, sample_weight=w)
    )
    repeated = type(est)(**weighted.get_params()).fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(weighted.predict_proba(X), repeated.predict_proba(X), atol=1e-6)


def test_crossing_handling_out_of_sample():
    X, y, _ = make_presto_data(n_samples=600, random_state=0)
    model = PRESTOClassifier(alpha=0.0, max_iter=20_000, tol=1e-5, enforce_order=True).fit(X, y)
    assert not model.crossings(X).any()  # enforce_order: no training row crosses
    far = X * 60
    crossed = model.crossings(far)
    assert crossed.any()
    for crossing in ("sort", "clip"):
        proba = model.set_params(crossing=crossing).predict_proba(far)
        assert proba.min() >= 0 and np.allclose(proba.sum(axis=1), 1)
    # sort = monotone rearrangement of the predictors
    eta = np.sort(model.linear_predictor(far[crossed][:1]), axis=1)
    cum = 1 / (1 + np.exp(-eta[0]))
    expected = np.diff(np.r_[0, cum, 1])
    np.testing.assert_allclose(
        model.set_params(crossing="sort").predict_proba(far[crossed][:1])[0], expected, atol=1e-12
    )
    with pytest.raises(ValueError, match="crossing cumulative probabilities"):
        model.set_params(crossing="raise").predict_proba(far)


def test_decision_function_agrees_with_predict(data):
    X, y = data
    model = PRESTOClassifier(alpha=0.003).fit(X, y)
    np.testing.assert_array_equal(np.argmax(model.decision_function(X), axis=1), model.predict(X))
    binary = PRESTOClassifier(alpha=0.003).fit(X, (y > 0).astype(int))
    np.testing.assert_array_equal((binary.decision_function(X) > 0).astype(int), binary.predict(X))
    np.testing.assert_allclose(binary.decision_function(X), -binary.linear_predictor(X)[:, 0])


def test_warm_start_reaches_the_same_solution_faster(data):
    X, y = data
    cold = PRESTOClassifier(alpha=0.002, tol=1e-7).fit(X, y)
    warm = PRESTOClassifier(alpha=0.0021, tol=1e-7, warm_start=True).fit(X, y)
    warm.set_params(alpha=0.002).fit(X, y)
    np.testing.assert_allclose(warm.coef_, cold.coef_, atol=1e-5)
    assert warm.n_iter_ < cold.n_iter_


def test_cv_path_and_selection_rule(data):
    X, y = data
    cv = PRESTOClassifierCV(alphas=8, cv=4).fit(X, y)
    assert np.all(np.diff(cv.alphas_) < 0)
    assert cv.cv_scores_.shape == (8, 4)
    mean = cv.cv_scores_.mean(axis=1)
    assert cv.best_index_ == np.flatnonzero(mean == mean.min())[0]  # the largest alpha at min
    # the first path point is alpha_max: every penalised increment is zero there
    np.testing.assert_array_equal(cv.coef_path_[0], 0)
    assert np.count_nonzero(cv.coef_path_[-1]) > 0
    single = PRESTOClassifier(alpha=cv.alpha_, tol=cv.tol).fit(X, y)
    np.testing.assert_allclose(cv.coef_, single.coef_, atol=1e-4)


def test_cv_handles_a_class_missing_from_a_training_fold(data):
    X, y = data
    fold = np.where(np.arange(len(y)) % 2 == 0, 0, 1)
    fold[y == 3] = 0  # the top class only ever appears in test fold 0
    cv = PRESTOClassifierCV(alphas=4, cv=PredefinedSplit(fold), tol=1e-7).fit(X, y)
    assert cv.predict_proba(X).shape[1] == 4
    # split 0 trains on three classes: the top class gets probability 0 in its Brier score
    train, test = fold == 1, fold == 0
    three = PRESTOClassifier(alpha=cv.alphas_[-1], tol=1e-7).fit(X[train], y[train])
    proba = np.column_stack([three.predict_proba(X[test]), np.zeros(test.sum())])
    brier = np.mean(np.sum((np.eye(4)[y[test]] - proba) ** 2, axis=1))
    assert cv.cv_scores_[-1, 0] == pytest.approx(brier, abs=1e-6)


def test_pipeline_and_grid_search(data):
    X, y = data
    pipe = make_pipeline(StandardScaler(), PRESTOClassifier())
    alphas = [0.001, 0.01, 0.3]
    search = GridSearchCV(
        pipe, {"prestoclassifier__alpha": alphas}, cv=3, scoring="neg_log_loss"
    ).fit(X, y)
    # the search's choice is the one an explicit cross-validation loop makes
    by_hand = [
        cross_val_score(
            clone(pipe).set_params(prestoclassifier__alpha=alpha),
            X,
            y,
            cv=3,
            scoring="neg_log_loss",
        ).mean()
        for alpha in alphas
    ]
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-12)
    assert search.best_params_["prestoclassifier__alpha"] == alphas[int(np.argmax(by_hand))]
    assert by_hand[2] < max(by_hand)  # alpha=0.3 shrinks every slope to zero: a worse model
    po = GridSearchCV(ProportionalOddsClassifier(), {"link": ["logit", "probit"]}, cv=3).fit(X, y)
    assert po.best_score_ > 0.4


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda e, X, y: e.fit(X, np.zeros_like(y)), "at least 2 classes"),
        (lambda e, X, y: e.fit(np.where(X > 0.9, np.nan, X), y), "NaN"),
        (lambda e, X, y: e.fit(np.where(X > 0.9, np.inf, X), y), "infinity"),
        (lambda e, X, y: e.fit(X[:, 0], y), "2D array"),
        (lambda e, X, y: e.fit(X, y[:-1]), "inconsistent numbers of samples"),
        (lambda e, X, y: e.fit(X, y, sample_weight=-np.ones(len(y))), "(?i)negative"),
        (lambda e, X, y: e.set_params(alpha=-1.0).fit(X, y), "alpha"),
        (lambda e, X, y: e.set_params(link="tanh").fit(X, y), "link"),
    ],
)
def test_bad_input_is_a_clear_value_error(call, match, data):
    X, y = data
    with pytest.raises(ValueError, match=match):
        call(PRESTOClassifier(), X, y)


def test_convergence_warning_when_stopped_early(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="KKT violation"):
        PRESTOClassifier(alpha=0.001, max_iter=2).fit(X, y)


def test_ordinal_family_does_not_warn_on_normal_fits(data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PRESTOClassifierCV(alphas=5, cv=3).fit(X, y).predict_proba(X)


def test_coefficient_path_plot_marks_the_chosen_alpha(data):
    pytest.importorskip("matplotlib")
    from sklearn_losses.ordinal import plot_coefficient_path

    X, y = data
    model = PRESTOClassifierCV(alphas=5, cv=3).fit(X, y)
    ax = plot_coefficient_path(model)
    assert len(ax.lines) == X.shape[1] + 1  # one curve per feature and the alpha_ marker
    np.testing.assert_allclose(ax.lines[-1].get_xdata(), model.alpha_)


def test_coefficient_path_plot_names_its_curves_and_its_reversed_axis(data):
    pytest.importorskip("matplotlib")
    pd = pytest.importorskip("pandas")
    import matplotlib.pyplot as plt

    from sklearn_losses.ordinal import plot_coefficient_path

    X, y = data
    columns = [f"feature {j}" for j in range(X.shape[1])]
    model = PRESTOClassifierCV(alphas=5, cv=3).fit(pd.DataFrame(X, columns=columns), y)
    ax = plot_coefficient_path(model)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == columns + [f"chosen alpha_ = {model.alpha_:.2g}"]
    left, right = ax.get_xlim()
    assert left > right  # alpha decreases to the right ...
    assert "decreasing to the right" in ax.get_xlabel()  # ... and the label says so
    plt.close(ax.figure)

    # many features: the largest at the chosen alpha are named, the others share one entry
    rng = np.random.default_rng(0)
    wide = np.hstack([X, rng.uniform(-1, 1, size=(X.shape[0], 12 - X.shape[1]))])
    model = PRESTOClassifierCV(alphas=5, cv=3).fit(wide, y)
    ax = plot_coefficient_path(model)
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend[-2:] == ["3 other features", f"chosen alpha_ = {model.alpha_:.2g}"]
    diffs = model.coef_path_[model.best_index_, :, -1] - model.coef_path_[model.best_index_, :, -2]
    largest = np.argsort(-np.abs(diffs), kind="stable")[:9]
    assert legend[:-2] == [f"x{j}" for j in sorted(largest)]
    assert len(ax.lines) == 13
    plt.close(ax.figure)


@pytest.mark.parametrize(
    "est, expected",
    [
        (ProportionalOddsClassifier(), r"ProportionalOddsClassifier: iteration 1, objective "),
        (PRESTOClassifier(alpha=0.003), r"PRESTOClassifier: iteration \d+, objective .* KKT"),
        (
            PRESTOClassifierCV(alphas=3, cv=2),
            r"PRESTOClassifierCV: fold 2/2, alpha .*: held-out brier",
        ),
    ],
    ids=lambda v: type(v).__name__ if hasattr(v, "fit") else "",
)
def test_verbose_prints_progress_and_quiet_prints_nothing(est, expected, data, capsys):
    import re

    X, y = data
    clone(est).fit(X, y)
    assert capsys.readouterr().out == ""
    clone(est).set_params(verbose=1).fit(X, y)
    out = capsys.readouterr().out
    assert re.search(expected, out), out
    if isinstance(est, PRESTOClassifierCV):  # one line per alpha and fold, and per path alpha
        assert len(re.findall(r"fold \d/2, alpha", out)) == 3 * 2
        assert len(re.findall(r"all data, alpha", out)) == 3
    if isinstance(est, ProportionalOddsClassifier):  # one line per L-BFGS iteration
        fitted = clone(est).fit(X, y)
        capsys.readouterr()
        assert len(re.findall(r"iteration \d+, objective", out)) == fitted.n_iter_


@pytest.mark.parametrize(
    "scoring, rare_class, position, metric",
    [
        ("rare_log_loss", "last", -1, log_loss),
        ("rare_brier", "first", 0, brier_score_loss),
        ("rare_log_loss", "auto", -1, log_loss),  # the last class is the rarer end here
    ],
)
def test_cv_rare_scores_are_the_binary_scores_of_the_rare_class(
    data, scoring, rare_class, position, metric
):
    """Each held-out score = scikit-learn's binary metric of "y is the rare class",
    computed from an independent PRESTOClassifier fit on the fold at that alpha."""
    X, y = data
    folds = PredefinedSplit(np.arange(len(y)) % 2)
    cv = PRESTOClassifierCV(
        alphas=3, cv=folds, scoring=scoring, rare_class=rare_class, tol=1e-8
    ).fit(X, y)
    rare = cv.classes_[position]
    assert cv.rare_class_ == rare
    for k, (train, test) in enumerate(folds.split(X, y)):
        for i, alpha in enumerate(cv.alphas_):
            fold_model = PRESTOClassifier(alpha=alpha, tol=1e-8).fit(X[train], y[train])
            p = fold_model.predict_proba(X[test])[:, position]
            expected = metric(y[test] == rare, p)
            assert cv.cv_scores_[i, k] == pytest.approx(expected, rel=1e-5)


def test_cv_takes_scikit_learn_scorers_and_callables_with_weights(data, rng):
    X, y = data
    w = rng.uniform(0.5, 2.0, size=len(y))
    folds = PredefinedSplit(np.arange(len(y)) % 3)

    def fit(scoring):
        return PRESTOClassifierCV(alphas=3, cv=folds, scoring=scoring).fit(X, y, sample_weight=w)

    builtin = fit("log_loss")
    named = fit("neg_log_loss")  # scikit-learn's scorer, given the held-out weights
    np.testing.assert_allclose(named.cv_scores_, builtin.cv_scores_, rtol=1e-7)
    assert named.rare_class_ is None and named.alpha_ == builtin.alpha_

    def top_class_recall(estimator, X_test, y_test, sample_weight=None):
        top = y_test == estimator.classes_[-1]
        hit = estimator.predict(X_test)[top] == y_test[top]
        return float(np.average(hit, weights=None if sample_weight is None else sample_weight[top]))

    custom = fit(top_class_recall)
    assert custom.cv_scores_.shape == (3, 3)
    assert np.all((-custom.cv_scores_ >= 0) & (-custom.cv_scores_ <= 1))
    fold0 = PRESTOClassifier(alpha=custom.alphas_[1]).fit(
        X[np.arange(len(y)) % 3 != 0], y[np.arange(len(y)) % 3 != 0]
    )
    test0 = np.arange(len(y)) % 3 == 0
    expected = top_class_recall(fold0, X[test0], y[test0], w[test0])
    assert -custom.cv_scores_[1, 0] == pytest.approx(expected, abs=1e-12)


def test_cv_rare_class_label_and_errors(data):
    X, y = data
    cv = PRESTOClassifierCV(alphas=2, cv=2, scoring="rare_brier", rare_class=y.max()).fit(X, y)
    assert cv.rare_class_ == y.max()
    with pytest.raises(ValueError, match="rare_class=99 is not one of the classes"):
        PRESTOClassifierCV(alphas=2, cv=2, scoring="rare_brier", rare_class=99).fit(X, y)
    with pytest.raises(ValueError, match="scoring"):
        PRESTOClassifierCV(scoring="no_such_score").fit(X, y)


def test_cv_scorers_see_ordered_string_labels_in_sorted_order(data):
    """roc_auc_ovr matches probability columns to sorted labels: a scorer must get the
    same score whether the ordered classes are strings or their integer codes."""
    X, y = data
    names = np.array(["low", "mid", "high", "top"])  # order differs from sorted order
    folds = PredefinedSplit(np.arange(len(y)) % 2)

    def fit(labels, categories):
        cv = PRESTOClassifierCV(alphas=3, cv=folds, scoring="roc_auc_ovr", categories=categories)
        return cv.fit(X, labels)

    coded = fit(y, None)
    named = fit(names[y], list(names))
    np.testing.assert_allclose(named.cv_scores_, coded.cv_scores_, rtol=1e-12)
    assert np.all(-coded.cv_scores_[-1] > 0.6)  # the least penalised: far from chance (0.5)
