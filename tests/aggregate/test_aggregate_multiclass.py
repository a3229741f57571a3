"""Multiclass learning from label proportions, and label-proportion privacy.

Oracles: scikit-learn's multinomial LogisticRegression (singleton bags), finite
differences, the family's definition ``proportion_bag_loss``, a per-bag
log-sum-exp written out, BFGS on the objective written out, the binary
objective (K = 2), the Laplace law (KS test) and a threshold solve of the
simplex projection.
"""

import numpy as np
import pytest
import sklearn
from scipy import stats
from scipy.optimize import approx_fprime, brentq, minimize
from scipy.special import logsumexp, softmax
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import make_scorer
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.aggregate import (
    AggregateLogisticRegression,
    make_bags,
    privatize_label_proportions,
    privatize_responses,
)
from sklearn_losses.aggregate._bags import BagOperator
from sklearn_losses.aggregate._loss import (
    LogisticBagObjective,
    MultinomialBagObjective,
    proportion_bag_loss,
)
from sklearn_losses.utils._convergence import lbfgs

K = 4


@pytest.fixture
def data(rng):
    n, p = 240, 3
    X = rng.normal(size=(n, p))
    coef = rng.normal(size=(K, p)) * 1.5
    y = np.array([rng.choice(K, p=row) for row in softmax(X @ coef.T, axis=1)])
    return X, y, make_bags(n, 6, random_state=0)


def _true_counts(y, bags, n_classes):
    """Class counts per bag (rows: the sorted bag ids), by a scatter-add."""
    ids, codes = np.unique(bags, return_inverse=True)
    counts = np.zeros((ids.shape[0], n_classes))
    np.add.at(counts, (codes, y), 1.0)
    return counts


def _bag_proportions(y, bags, n_classes):
    """Each row's bag's (unweighted) label proportions."""
    counts = _true_counts(y, bags, n_classes)
    codes = np.unique(bags, return_inverse=True)[1]
    return (counts / counts.sum(axis=1, keepdims=True))[codes]


def _weights_with_empty_bags(rng, bags):
    w = rng.uniform(0.2, 3.0, size=bags.shape[0])
    w[np.isin(bags, [0, 5])] = 0.0  # two bags of weight zero
    w[np.flatnonzero(bags == 3)[0]] = 0.0  # and one zero-weight row in a kept bag
    return w


# -- the objective ------------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("singletons", [False, True])
def test_gradient_equals_finite_differences(rho, fit_intercept, singletons, data, rng):
    X, y, bags = data
    if singletons:
        bags = np.arange(len(y))
    w = _weights_with_empty_bags(rng, bags)
    op = BagOperator(bags, w)
    obj = MultinomialBagObjective(X, np.eye(K)[y], op, w, rho, 0.03, fit_intercept)
    theta = rng.normal(size=K * (X.shape[1] + fit_intercept))
    _, grad = obj(theta)
    numeric = approx_fprime(theta, lambda t: obj(t)[0], 1e-7)
    np.testing.assert_allclose(grad, numeric, atol=2e-6)


@pytest.mark.parametrize("singletons", [False, True])
@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
def test_objective_is_the_definition_plus_penalty(rho, singletons, data, rng):
    X, y, bags = data
    if singletons:  # the objective then evaluates the (equal) instance term only
        bags = np.arange(len(y))
    w = _weights_with_empty_bags(rng, bags)
    op = BagOperator(bags, w)
    alpha = 0.03
    for targets in (np.eye(K)[y], _bag_proportions(y, bags, K)):
        obj = MultinomialBagObjective(X, targets, op, w, rho, alpha, True)
        theta = rng.normal(size=K * (X.shape[1] + 1))
        coef, intercept = theta.reshape(K, -1)[:, :-1], theta.reshape(K, -1)[:, -1]
        expected = proportion_bag_loss(
            softmax(X @ coef.T + intercept, axis=1), targets, op, rho
        ) + alpha / 2 * np.sum(coef**2)
        assert obj(theta)[0] == pytest.approx(expected, rel=1e-12)


def test_bag_term_stays_exact_where_probabilities_underflow(data):
    """Logits 1e3 apart: softmax underflows to 0, the log-domain bag mean does not."""
    X, y, bags = data
    w = np.ones(len(y))
    op = BagOperator(bags, w)
    obj = MultinomialBagObjective(X, np.eye(K)[y], op, w, 0.0, 0.0, True)
    theta = np.zeros((K, X.shape[1] + 1))
    theta[:, -1] = [0.0, -1000.0, -1500.0, 500.0]  # class 3 takes everything
    value, grad = obj(theta.ravel())
    log_p = theta[:, -1] - logsumexp(theta[:, -1])  # the same for every row
    expected = 0.0
    for b in np.unique(bags):
        q = np.eye(K)[y[bags == b]].mean(axis=0)
        expected -= (bags == b).sum() * q @ log_p  # log pbar_a = log p for equal rows
    assert np.isfinite(grad).all()
    assert value == pytest.approx(expected / len(y), rel=1e-12)
    assert value > 1000  # the definition's clip at 1e-12 would cap each term at 27.6


def _explicit_objective(theta, X, y, bags, rho, alpha):
    params = theta.reshape(K, -1)
    coef, intercept = params[:, :-1], params[:, -1]
    p = softmax(X @ coef.T + intercept, axis=1)
    total = 0.0
    for b in np.unique(bags):
        m = bags == b
        q = np.eye(K)[y[m]].mean(axis=0)
        total -= (1 - rho) * m.sum() * q @ np.log(p[m].mean(axis=0))
        total -= rho * np.sum(np.log(p[m]) @ q)
    return total / len(y) + alpha / 2 * np.sum(coef**2)


@pytest.mark.parametrize("rho", [0.0, 0.5])
def test_fit_is_the_minimiser_of_the_explicit_objective(rho, data):
    X, y, bags = data
    ours = AggregateLogisticRegression(rho=rho, alpha=0.02).fit(X, y, bags=bags)
    ref = minimize(
        _explicit_objective,
        np.zeros(K * (X.shape[1] + 1)),
        args=(X, y, bags, rho, 0.02),
        method="BFGS",
        options={"gtol": 1e-9},
    )
    params = ref.x.reshape(K, -1)
    np.testing.assert_allclose(ours.coef_, params[:, :-1] - params[:, :-1].mean(axis=0), atol=1e-5)
    theirs = softmax(X @ params[:, :-1].T + params[:, -1], axis=1)
    np.testing.assert_allclose(ours.predict_proba(X), theirs, atol=1e-6)


# -- against scikit-learn ------------------------------------------------------------------------


@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_singleton_bags_equal_multinomial_logistic_regression(weighted, fit_intercept, data, rng):
    X, y, _ = data
    w = rng.uniform(0.5, 2.0, size=len(y)) if weighted else None
    total = len(y) if w is None else w.sum()
    C = 0.7
    ours = AggregateLogisticRegression(alpha=1 / (C * total), fit_intercept=fit_intercept)
    ours.fit(X, y, sample_weight=w)
    theirs = LogisticRegression(C=C, tol=1e-10, max_iter=10_000, fit_intercept=fit_intercept)
    theirs.fit(X, y, sample_weight=w)
    assert ours.coef_.shape == theirs.coef_.shape == (K, X.shape[1])
    np.testing.assert_allclose(ours.coef_, theirs.coef_, atol=1e-5)
    np.testing.assert_allclose(ours.intercept_, theirs.intercept_, atol=1e-5)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-5)
    np.testing.assert_allclose(ours.decision_function(X).argmax(axis=1), theirs.predict(X))
    np.testing.assert_array_equal(ours.predict(X), theirs.predict(X))
    np.testing.assert_allclose(ours.predict_log_proba(X), np.log(ours.predict_proba(X)), rtol=1e-10)


def test_integer_weights_equal_repeated_rows(data, rng):
    X, y, bags = data
    counts = rng.integers(0, 3, size=len(y))
    counts[bags == bags[0]] = np.maximum(counts[bags == bags[0]], 1)
    rows = np.repeat(np.arange(len(y)), counts)
    est = AggregateLogisticRegression(rho=0.3, alpha=0.01)
    a = clone(est).fit(X, y, bags=bags, sample_weight=counts)
    b = clone(est).fit(X[rows], y[rows], bags=bags[rows])
    np.testing.assert_allclose(a.coef_, b.coef_, atol=1e-6)
    np.testing.assert_allclose(a.intercept_, b.intercept_, atol=1e-6)


def test_two_classes_multinomial_route_equals_binary_route(rng):
    """At K = 2, K free rows with penalty 2 alpha are the binary fit: coef = w_1 - w_0."""
    X = rng.normal(size=(200, 3))
    y = (rng.uniform(size=200) < 1 / (1 + np.exp(-X @ [1.5, -1.0, 0.5]))).astype(int)
    bags = make_bags(200, 5, random_state=1)
    w = rng.uniform(0.5, 2.0, size=200)
    op = BagOperator(bags, w)
    alpha = 0.01
    for rho in (0.0, 0.4, 1.0):
        binary = LogisticBagObjective(
            X, op.mean(y.astype(float))[op.codes], op, w, rho, alpha, True
        )
        multi = MultinomialBagObjective(X, np.eye(2)[y], op, w, rho, 2 * alpha, True)
        theta = rng.normal(size=4)
        half = np.r_[-theta / 2, theta / 2]  # rows (class 0, class 1)
        assert multi(half)[0] == pytest.approx(binary(theta)[0], rel=1e-12)
        kw = dict(max_iter=1000, tol=1e-10, n_entries=X.size)
        b = lbfgs("binary", binary, np.zeros(4), **kw).x
        m = lbfgs("multi", multi, np.zeros(8), **kw).x.reshape(2, 4)
        np.testing.assert_allclose(m[1] - m[0], b, atol=1e-6)
        est = AggregateLogisticRegression(rho=rho, alpha=alpha)
        fitted = est.fit(X, np.eye(2)[y], bags=bags, sample_weight=w)  # 2-D: the binary route
        np.testing.assert_allclose(np.r_[fitted.coef_[0], fitted.intercept_], b, atol=1e-6)


# -- targets --------------------------------------------------------------------------------------


def test_labels_one_hot_and_bag_proportions_give_the_same_fit(data):
    X, y, bags = data
    est = AggregateLogisticRegression(rho=0.2, alpha=0.01)
    labels = clone(est).fit(X, np.array(["w", "x", "y", "z"])[y], bags=bags)
    onehot = clone(est).fit(X, np.eye(K)[y], bags=bags)
    proportions = clone(est).fit(X, _bag_proportions(y, bags, K), bags=bags)
    np.testing.assert_array_equal(labels.classes_, ["w", "x", "y", "z"])
    np.testing.assert_array_equal(onehot.classes_, np.arange(K))
    for other in (onehot, proportions):
        np.testing.assert_allclose(other.coef_, labels.coef_, atol=1e-8)
        np.testing.assert_allclose(other.intercept_, labels.intercept_, atol=1e-8)
    assert set(labels.predict(X)) <= {"w", "x", "y", "z"}
    np.testing.assert_array_equal(
        np.array(["w", "x", "y", "z"])[onehot.predict(X)], labels.predict(X)
    )
    assert abs(labels.coef_.sum(axis=0)).max() < 1e-12  # reported centred
    assert abs(labels.intercept_.sum()) < 1e-12


@pytest.mark.parametrize(
    "make_y, match",
    [
        (lambda Y: Y - 0.3, "non-negative"),
        (lambda Y: 2 * Y, "sum to 1"),
        (lambda Y: np.where(Y > 0, "a", "b"), "numbers"),
        (lambda Y: np.c_[Y[:, :1], np.full((len(Y), 1), np.nan), Y[:, 1:]], "NaN"),
    ],
    ids=["negative", "counts", "strings", "nan"],
)
def test_bad_proportions_are_clear_errors(make_y, match, data):
    X, y, bags = data
    with pytest.raises(ValueError, match=match):
        AggregateLogisticRegression().fit(X, make_y(np.eye(K)[y]), bags=bags)


def test_column_vector_labels_warn_as_in_scikit_learn(data):
    X, y, bags = data
    with pytest.warns(sklearn.exceptions.DataConversionWarning):
        col = AggregateLogisticRegression().fit(X, y[:, None], bags=bags)
    np.testing.assert_allclose(col.coef_, AggregateLogisticRegression().fit(X, y, bags=bags).coef_)


# -- digits ---------------------------------------------------------------------------------------


def test_bags_of_ten_on_digits_within_ten_points_of_instance_level():
    X, y = load_digits(return_X_y=True)
    gaps = []
    for seed in range(3):
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=seed
        )
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
        est = AggregateLogisticRegression(alpha=1 / len(y_tr))
        instance = clone(est).fit(X_tr, y_tr).score(X_te, y_te)
        bags = make_bags(len(y_tr), 10, random_state=seed)
        bagged = clone(est).fit(X_tr, y_tr, bags=bags).score(X_te, y_te)
        assert instance > 0.9
        gaps.append(instance - bagged)
    assert max(gaps) < 0.10, gaps


# -- model selection with bags --------------------------------------------------------------------


def _bag_cross_entropy(y_true, proba, bags=None):
    """Held-out bag proportions (one-hot or broadcast) against the bag-mean probabilities."""
    y_true = np.asarray(y_true)
    targets = np.eye(proba.shape[1])[y_true] if y_true.ndim == 1 else y_true
    codes = np.arange(len(proba)) if bags is None else np.unique(bags, return_inverse=True)[1]
    return proportion_bag_loss(proba, targets, BagOperator(codes, np.ones(len(proba))), 0.0)


def test_bags_and_weights_routed_in_cross_validate_and_grid_search(data, rng):
    X, y, bags = data
    w = rng.uniform(0.5, 2.0, size=len(y))
    cv = GroupKFold(4)
    for train, test in cv.split(X, groups=bags):  # bags stay whole
        assert not set(bags[train]) & set(bags[test])
    proportions = _bag_proportions(y, bags, K)
    with sklearn.config_context(enable_metadata_routing=True):
        est = (
            AggregateLogisticRegression(alpha=0.01)
            .set_fit_request(bags=True, sample_weight=True)
            .set_score_request(sample_weight=True)
        )
        pipe = make_pipeline(StandardScaler().set_fit_request(sample_weight=False), est)
        params = {"bags": bags, "groups": bags, "sample_weight": w}
        # labels as y: accuracy of the rows
        scores = cross_validate(pipe, X, y, cv=cv, params=params)["test_score"]
        # private-style proportions as y: a bag-level score that requests the held-out bags
        scorer = make_scorer(
            _bag_cross_entropy, response_method="predict_proba", greater_is_better=False
        ).set_score_request(bags=True)
        bag_scores = cross_validate(pipe, X, proportions, cv=cv, params=params, scoring=scorer)
        by_hand, bag_by_hand = [], []
        for train, test in cv.split(X, groups=bags):
            scaler = StandardScaler().fit(X[train])
            fitted = AggregateLogisticRegression(alpha=0.01).fit(
                scaler.transform(X[train]), y[train], bags=bags[train], sample_weight=w[train]
            )
            by_hand.append(fitted.score(scaler.transform(X[test]), y[test], w[test]))
            fitted = AggregateLogisticRegression(alpha=0.01).fit(
                scaler.transform(X[train]),
                proportions[train],
                bags=bags[train],
                sample_weight=w[train],
            )
            proba = fitted.predict_proba(scaler.transform(X[test]))
            bag_by_hand.append(-_bag_cross_entropy(proportions[test], proba, bags[test]))
        np.testing.assert_allclose(scores, by_hand, rtol=1e-10)
        np.testing.assert_allclose(bag_scores["test_score"], bag_by_hand, rtol=1e-7)
        search = GridSearchCV(
            pipe, {"aggregatelogisticregression__rho": [0.0, 1.0]}, cv=cv, scoring=scorer
        )
        search.fit(X, proportions, **params)
        train, test = next(cv.split(X, groups=bags))
        scaler = StandardScaler().fit(X[train])
        fitted = AggregateLogisticRegression(rho=1.0, alpha=0.01).fit(
            scaler.transform(X[train]), proportions[train], bags=bags[train], sample_weight=w[train]
        )
        expected = -_bag_cross_entropy(
            proportions[test], fitted.predict_proba(scaler.transform(X[test])), bags[test]
        )
        assert search.cv_results_["split0_test_score"][1] == pytest.approx(expected, rel=1e-7)
        assert search.best_estimator_[-1].coef_.shape == (K, X.shape[1])


def test_bags_without_routing_through_pipeline_parameters(data):
    X, y, bags = data
    pipe = make_pipeline(StandardScaler(), AggregateLogisticRegression(alpha=0.01))
    pipe.fit(X, y, aggregatelogisticregression__bags=bags)
    direct = AggregateLogisticRegression(alpha=0.01).fit(
        StandardScaler().fit_transform(X), y, bags=bags
    )
    np.testing.assert_allclose(pipe[-1].coef_, direct.coef_)


# -- label-proportion privacy ---------------------------------------------------------------------


@pytest.fixture
def many_bags(rng):
    n, k = 40_000, 4
    return rng.integers(0, K, size=n), make_bags(n, k, random_state=0), k


def test_count_noise_is_laplace_of_scale_two_over_epsilon(many_bags):
    y, bags, k = many_bags
    epsilon = 0.7
    raw = privatize_label_proportions(y, bags, epsilon=epsilon, project=False, random_state=1)
    first = np.unique(bags, return_index=True)[1]
    noise = (raw[first] * k - _true_counts(y, bags, K)).ravel()  # 10,000 bags x 4 counts
    scale = 2 / epsilon  # L1 sensitivity 2 of the count vector
    assert stats.kstest(noise, stats.laplace(scale=scale).cdf).pvalue > 1e-3
    assert stats.kstest(noise, stats.laplace(scale=scale / 2).cdf).pvalue < 1e-6
    assert noise.var() == pytest.approx(2 * scale**2, rel=0.03)
    assert abs(noise.mean()) < 0.05  # unbiased before projection


def test_two_classes_release_one_count_with_sensitivity_one(rng):
    y = rng.integers(0, 2, size=40_000)
    bags = make_bags(40_000, 5, random_state=0)
    epsilon = 0.5
    raw = privatize_label_proportions(y, bags, epsilon=epsilon, project=False, random_state=3)
    first = np.unique(bags, return_index=True)[1]
    noise = raw[first, 1] * 5 - _true_counts(y, bags, 2)[:, 1]
    assert stats.kstest(noise, stats.laplace(scale=1 / epsilon).cdf).pvalue > 1e-3
    np.testing.assert_allclose(raw.sum(axis=1), 1.0)
    # the same release as privatize_responses on the 0/1 labels with bounds (0, 1)
    means = privatize_responses(y, bags, epsilon=epsilon, bounds=(0, 1), random_state=3)
    np.testing.assert_allclose(raw[:, 1], means, atol=1e-12)
    clipped = privatize_label_proportions(y, bags, epsilon=epsilon, random_state=3)
    np.testing.assert_allclose(clipped[:, 1], np.clip(means, 0, 1), atol=1e-12)


def _projection_by_threshold(v):
    """The simplex projection max(v - tau, 0), tau solved by root finding."""
    tau = brentq(lambda t: np.maximum(v - t, 0).sum() - 1, v.min() - 1, v.max())
    return np.maximum(v - tau, 0)


def test_projection_is_the_euclidean_projection_onto_the_simplex(many_bags):
    y, bags, _ = many_bags
    raw = privatize_label_proportions(y, bags, epsilon=0.3, project=False, random_state=2)
    projected = privatize_label_proportions(y, bags, epsilon=0.3, random_state=2)
    assert np.all(projected >= 0)
    np.testing.assert_allclose(projected.sum(axis=1), 1.0, atol=1e-12)
    for i in range(0, len(y), 997):
        np.testing.assert_allclose(projected[i], _projection_by_threshold(raw[i]), atol=1e-10)
    assert np.any(projected == 0) and np.any(raw < 0)  # the noise did reach the boundary


def test_projection_bias_is_towards_uniform_only_under_heavy_noise():
    n_bags, k = 20_000, 10
    y = np.tile(np.repeat([0, 1, 2, 3], [6, 3, 1, 0]), n_bags)  # every bag: (.6, .3, .1, 0)
    bags = np.repeat(np.arange(n_bags), k)
    truth = np.array([0.6, 0.3, 0.1, 0.0])
    common = {"classes": [0, 1, 2, 3], "random_state": 0}
    light = privatize_label_proportions(y, bags, epsilon=20.0, **common)[::k].mean(axis=0)
    heavy = privatize_label_proportions(y, bags, epsilon=0.05, **common)[::k].mean(axis=0)
    # light noise: only the empty class is pushed up (clipped at 0), by a little
    assert abs(light - truth)[:3].max() < 0.01 and 0 < light[3] < 0.01
    # heavy noise: close to uniform
    assert np.abs(heavy - 0.25).max() < np.abs(truth - 0.25).max() / 4


def test_huge_epsilon_gives_the_true_proportions(many_bags, data):
    y, bags, _ = many_bags
    truth = _bag_proportions(y, bags, K)
    for project in (True, False):
        released = privatize_label_proportions(
            y, bags, epsilon=1e12, project=project, random_state=0
        )
        np.testing.assert_allclose(released, truth, atol=1e-10)
    X, y_small, small_bags = data  # and the estimator fits them as the labels
    est = AggregateLogisticRegression(alpha=0.01)
    released = privatize_label_proportions(y_small, small_bags, epsilon=1e12, random_state=0)
    np.testing.assert_allclose(
        clone(est).fit(X, released, bags=small_bags).coef_,
        clone(est).fit(X, y_small, bags=small_bags).coef_,
        atol=1e-8,
    )


def test_classes_fix_the_columns():
    y = np.array(["b", "c", "c", "a"])
    out = privatize_label_proportions(y, [0, 0, 0, 0], epsilon=1e12, classes=["c", "a", "b", "d"])
    np.testing.assert_allclose(out[0], [0.5, 0.25, 0.25, 0.0], atol=1e-10)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"epsilon": 0}, "epsilon"),
        ({"epsilon": -1.0}, "epsilon"),
        ({"epsilon": np.inf}, "epsilon"),
        ({"epsilon": np.nan}, "epsilon"),
        ({"epsilon": 1, "classes": ["a", "b"]}, "not in classes"),
        ({"epsilon": 1, "classes": [0, 1, 1, 2]}, "without repeats"),
        ({"epsilon": 1, "y": np.zeros(6, dtype=int)}, "at least 2 classes"),
        ({"epsilon": 1, "y": np.zeros((6, 2))}, "1-D"),
        ({"epsilon": 1, "bags": [0, 0, 1]}, "bags has 3 ids"),
    ],
)
def test_privacy_errors_are_clear(kwargs, match):
    args = {"y": np.array([0, 1, 2, 0, 1, 2]), "bags": [0, 0, 0, 1, 1, 1], **kwargs}
    with pytest.raises(ValueError, match=match):
        privatize_label_proportions(args.pop("y"), args.pop("bags"), **args)
