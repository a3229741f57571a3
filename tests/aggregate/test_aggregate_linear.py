"""The closed form against brute force, limits, CV, scoring, routing and bad input."""

import numpy as np
import pytest
import sklearn
from scipy import sparse
from scipy.optimize import minimize
from sklearn.base import clone
from sklearn.linear_model import LinearRegression, Ridge
from sklearn.model_selection import GridSearchCV, GroupKFold, cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    aggregate_responses,
    bag_mean_squared_error,
    make_bag_scorer,
    make_bags,
)


def explicit_objective(theta, intercept, X, y, bags, w, rho, alpha):
    """(Bag-level loss + rho * within-bag prediction variance) / (2 W) + alpha / 2 ||theta||^2."""
    f = X @ theta + intercept
    total = 0.0
    for b in np.unique(bags):
        m = bags == b
        W = w[m].sum()
        f_bar = w[m] @ f[m] / W
        y_bar = w[m] @ y[m] / W
        total += W * (y_bar - f_bar) ** 2 + rho * w[m] @ (f[m] - f_bar) ** 2
    return total / (2 * w.sum()) + alpha / 2 * theta @ theta


def stated_objective(params, X, y, bags, w, rho, alpha):
    """The docstring's objective as written: (1 - rho) bag-level + rho instance-level."""
    coef, intercept = params[:-1], params[-1]
    f = X @ coef + intercept
    bag_level, instance_level = 0.0, 0.0
    for b in np.unique(bags):
        m = bags == b
        y_bar = np.average(y[m], weights=w[m])
        bag_level += w[m].sum() * (y_bar - np.average(f[m], weights=w[m])) ** 2
        instance_level += w[m] @ (y_bar - f[m]) ** 2
    mean_loss = ((1 - rho) * bag_level + rho * instance_level) / (2 * w.sum())
    return mean_loss + alpha / 2 * coef @ coef


@pytest.mark.parametrize("rho", [0.0, 0.4, 1.0])
def test_alpha_is_on_the_stated_mean_loss_scale(rho, rng):
    """A tiny problem: the fit is the minimiser of the docstring's objective, to 1e-6."""
    X = rng.normal(size=(12, 2)) + 0.3
    y = X @ [1.5, -0.5] + 0.7 + rng.normal(scale=0.5, size=12)
    bags = np.repeat(np.arange(4), 3)
    w = rng.uniform(0.5, 2.0, size=12)
    alpha = 0.7
    est = AggregateLinearRegression(rho=rho, alpha=alpha).fit(X, y, bags=bags, sample_weight=w)
    res = minimize(
        stated_objective,
        np.zeros(3),
        args=(X, y, bags, w, rho, alpha),
        method="BFGS",
        options={"gtol": 1e-12},
    )
    np.testing.assert_allclose(est.coef_, res.x[:2], atol=1e-6)
    assert est.intercept_ == pytest.approx(res.x[2], abs=1e-6)
    # on the mean scale, scaling every weight changes nothing (on a sum scale it would)
    doubled = AggregateLinearRegression(rho=rho, alpha=alpha).fit(
        X, y, bags=bags, sample_weight=3 * w
    )
    np.testing.assert_allclose(doubled.coef_, est.coef_, rtol=1e-10)
    # integer weights are repeated rows
    counts = rng.integers(1, 4, size=12)
    weighted = AggregateLinearRegression(rho=rho, alpha=alpha).fit(
        X, y, bags=bags, sample_weight=counts
    )
    repeated = AggregateLinearRegression(rho=rho, alpha=alpha).fit(
        np.repeat(X, counts, axis=0), np.repeat(y, counts), bags=np.repeat(bags, counts)
    )
    np.testing.assert_allclose(weighted.coef_, repeated.coef_, atol=1e-8)
    assert weighted.intercept_ == pytest.approx(repeated.intercept_, abs=1e-8)


@pytest.mark.parametrize("rho", [0.0, 0.3, 1.0])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("weighted", [False, True])
def test_closed_form_equals_brute_force(rho, fit_intercept, weighted, rng):
    n, d = 60, 3
    X = rng.normal(size=(n, d)) + 0.5
    y = X @ [1.0, -1.0, 2.0] + 3.0 + rng.normal(size=n)
    bags = make_bags(n, 4, random_state=0)
    w = rng.uniform(0.2, 3.0, size=n) if weighted else np.ones(n)
    alpha = 0.5
    est = AggregateLinearRegression(rho=rho, alpha=alpha, fit_intercept=fit_intercept)
    est.fit(X, y, bags=bags, sample_weight=w)

    def objective(params):
        return explicit_objective(
            params[:d], params[d] if fit_intercept else 0.0, X, y, bags, w, rho, alpha
        )

    res = minimize(objective, np.zeros(d + 1), method="BFGS", options={"gtol": 1e-12})
    np.testing.assert_allclose(est.coef_, res.x[:d], atol=1e-5)
    if fit_intercept:
        assert est.intercept_ == pytest.approx(res.x[d], abs=1e-5)


def test_rho_one_is_least_squares_on_broadcast_means(rng):
    X = rng.normal(size=(200, 4))
    y = X @ [1.0, 2.0, 0.0, -1.0] + rng.normal(size=200)
    bags = make_bags(200, 5, random_state=1)
    ours = AggregateLinearRegression(rho=1.0).fit(X, y, bags=bags)
    ols = LinearRegression().fit(X, aggregate_responses(y, bags))
    np.testing.assert_allclose(ours.coef_, ols.coef_, atol=1e-10)
    assert ours.intercept_ == pytest.approx(ols.intercept_, abs=1e-10)


@pytest.mark.parametrize("rho", [0.0, 0.5, 1.0])
def test_singleton_bags_are_least_squares_and_ridge(rho, rng):
    X = rng.normal(size=(100, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=100)
    np.testing.assert_allclose(
        AggregateLinearRegression(rho=rho).fit(X, y).coef_,
        LinearRegression().fit(X, y).coef_,
        atol=1e-10,
    )
    # Ridge's alpha is on the sum scale without 1/2: alpha * sum(sample_weight)
    w = rng.uniform(0.5, 2.0, size=100)
    np.testing.assert_allclose(
        AggregateLinearRegression(rho=rho, alpha=0.03).fit(X, y, sample_weight=w).coef_,
        Ridge(alpha=0.03 * w.sum()).fit(X, y, sample_weight=w).coef_,
        atol=1e-10,
    )
    # and ElasticNet's l1_ratio=0 objective, 1 / (2 n) ||r||^2 + alpha / 2 ||coef||^2, is ours
    np.testing.assert_allclose(
        AggregateLinearRegression(rho=rho, alpha=0.03).fit(X, y).coef_,
        Ridge(alpha=0.03 * len(y)).fit(X, y).coef_,
        atol=1e-10,
    )


def test_sparse_equals_dense_and_y_aggregate_is_idempotent(rng):
    X = rng.normal(size=(300, 6))
    X[X < 0.3] = 0
    y = X @ rng.normal(size=6) + rng.normal(size=300)
    bags = make_bags(300, 6, random_state=2)
    dense = AggregateLinearRegression(rho=0.2).fit(X, y, bags=bags)
    csr = AggregateLinearRegression(rho=0.2).fit(sparse.csr_matrix(X), y, bags=bags)
    broadcast = AggregateLinearRegression(rho=0.2).fit(X, aggregate_responses(y, bags), bags=bags)
    np.testing.assert_allclose(csr.coef_, dense.coef_, atol=1e-10)
    np.testing.assert_allclose(broadcast.coef_, dense.coef_, atol=1e-10)


def test_instance_level_shrinks_by_bag_size():
    """For isotropic x the rho=1 estimate tends to theta / k (a derived limit)."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200_000, 3))
    theta = np.array([1.0, -1.0, 0.5])
    y = X @ theta
    bags = make_bags(200_000, 10, random_state=0)
    coef = AggregateLinearRegression(rho=1.0).fit(X, y, bags=bags).coef_
    np.testing.assert_allclose(coef, theta / 10, atol=0.01)
    half = AggregateLinearRegression(rho=0.5).fit(X, y, bags=bags).coef_
    np.testing.assert_allclose(half, theta / (1 + 0.5 * 9), atol=0.01)


def test_fewer_bags_than_features_warns_and_returns_minimum_norm(rng):
    X = rng.normal(size=(40, 10))
    y = rng.normal(size=40)
    bags = make_bags(40, 8, random_state=0)  # 5 bags, 10 features
    with pytest.warns(UserWarning, match="minimum-norm"):
        est = AggregateLinearRegression(rho=0.0).fit(X, y, bags=bags)
    X_bar = np.array([X[bags == b].mean(0) for b in range(5)])
    y_bar = np.array([y[bags == b].mean() for b in range(5)])
    Xc, yc = X_bar - X_bar.mean(0), y_bar - y_bar.mean()
    np.testing.assert_allclose(est.coef_, np.linalg.pinv(Xc) @ yc, atol=1e-8)


def test_cv_picks_a_rho_from_the_grid_and_scores_bags(rng):
    X = rng.normal(size=(1000, 20))
    y = X @ rng.normal(size=20) / 4 + rng.normal(size=1000)
    bags = make_bags(1000, 10, random_state=0)
    y_bag = aggregate_responses(y, bags)
    cv = AggregateLinearRegressionCV(cv=5).fit(X, y_bag, bags=bags)
    assert cv.cv_scores_.shape == (26, 5)
    # the chosen rho minimises the mean held-out bag-level error, and is refitted on all data
    mean = cv.cv_scores_.mean(axis=1)
    best = int(np.argmin(mean))
    assert cv.rho_ == cv.rhos_[best]
    assert np.all(mean[best] <= mean)
    refit = AggregateLinearRegression(rho=cv.rho_).fit(X, y_bag, bags=bags)
    np.testing.assert_allclose(cv.coef_, refit.coef_, atol=1e-12)
    # the score of one fold by hand
    train, test = next(GroupKFold(5).split(X, groups=bags))
    fitted = AggregateLinearRegression(rho=cv.rhos_[3]).fit(
        X[train], y_bag[train], bags=bags[train]
    )
    by_hand = bag_mean_squared_error(y_bag[test], fitted.predict(X[test]), bags=bags[test])
    assert cv.cv_scores_[3, 0] == pytest.approx(by_hand, rel=1e-10)


@pytest.mark.filterwarnings("ignore:The groups parameter is ignored")
@pytest.mark.parametrize("cv", ["grouped", "cuts_bags", "shuffled_groups"])
@pytest.mark.parametrize("fit_intercept", [True, False])
@pytest.mark.parametrize("dense", [True, False])
def test_cv_from_statistics_equals_refits_on_fold_copies(cv, fit_intercept, dense, rng):
    """Fold statistics (total minus held-out, no copies) equal fitting each X[train] anew."""
    from sklearn.model_selection import GroupShuffleSplit, KFold

    n, d = 600, 5
    X = rng.normal(size=(n, d)) + 2.0
    bags = make_bags(n, 6, random_state=0)
    y = aggregate_responses(X @ rng.normal(size=d) + rng.normal(size=n), bags)
    weight = rng.integers(0, 3, size=n).astype(float)
    weight[bags == bags[0]] = 0.0  # a bag of zero weight joins no fold
    if not dense:
        X = sparse.csr_matrix(np.where(rng.random(X.shape) < 0.4, 0.0, X))
    rhos = [0.0, 0.01, 0.1, 0.5, 1.0]
    splitter = {"grouped": 4, "cuts_bags": KFold(4), "shuffled_groups": GroupShuffleSplit(3)}[cv]
    if cv == "shuffled_groups":
        splitter.random_state = 0
    est = AggregateLinearRegressionCV(rhos, alpha=1e-3, fit_intercept=fit_intercept, cv=splitter)
    est.fit(X, y, bags=bags, sample_weight=weight)
    if cv == "grouped":
        _, codes = np.unique(bags, return_inverse=True)
        kept = np.flatnonzero(np.bincount(codes, weights=weight)[codes] > 0)
        splits = [
            (kept[train], kept[test])
            for train, test in GroupKFold(4).split(kept, groups=bags[kept])
        ]
    else:
        splits = list(splitter.split(X, y, groups=bags))
    expected = np.empty((len(rhos), len(splits)))
    for j, (train, test) in enumerate(splits):
        for i, rho in enumerate(rhos):
            fold = AggregateLinearRegression(rho, alpha=1e-3, fit_intercept=fit_intercept)
            fold.fit(X[train], y[train], bags=bags[train], sample_weight=weight[train])
            expected[i, j] = bag_mean_squared_error(
                y[test], fold.predict(X[test]), bags=bags[test], sample_weight=weight[test]
            )
    np.testing.assert_allclose(est.cv_scores_, expected, rtol=1e-10, atol=0)
    assert est.rho_ == rhos[int(np.argmin(expected.mean(axis=1)))]
    refit = AggregateLinearRegression(est.rho_, alpha=1e-3, fit_intercept=fit_intercept)
    refit.fit(X, y, bags=bags, sample_weight=weight)
    np.testing.assert_allclose(est.coef_, refit.coef_, rtol=0, atol=1e-10)
    assert est.intercept_ == pytest.approx(refit.intercept_, abs=1e-10)
    assert est.n_bags_ == refit.n_bags_ == np.unique(bags[weight > 0]).size


def test_group_kfold_replica_equals_group_kfold():
    """The vectorised fold assignment of the CV is GroupKFold's, ties included."""
    from sklearn_losses.aggregate._bags import group_kfold

    rng = np.random.default_rng(0)
    for trial in range(60):
        n_groups = int(rng.integers(2, 120))
        n_splits = int(rng.integers(2, min(n_groups, 8) + 1))
        high = [2, 4, 30][trial % 3]  # all equal, few sizes, many sizes
        groups = np.repeat(np.arange(n_groups), rng.integers(1, high, size=n_groups))
        fold = group_kfold(np.bincount(groups), n_splits)[groups]
        for k, (_, test) in enumerate(GroupKFold(n_splits).split(groups, groups=groups)):
            np.testing.assert_array_equal(np.flatnonzero(fold == k), test)


def test_bag_mean_squared_error():
    assert bag_mean_squared_error([1, 2, 3], [1, 2, 4]) == pytest.approx(1 / 3)
    assert bag_mean_squared_error([2, 2, 5], [1, 3, 4], bags=[0, 0, 1]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="differ in length"):
        bag_mean_squared_error([1, 2], [1])


def test_bags_through_pipeline_and_grid_search_without_routing(rng):
    X = rng.normal(size=(400, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=400)
    bags = make_bags(400, 4, random_state=0)
    y_bag = aggregate_responses(y, bags)
    pipe = make_pipeline(StandardScaler(), AggregateLinearRegression())
    pipe.fit(X, y_bag, aggregatelinearregression__bags=bags)
    rhos = [0.0, 0.1, 1.0]
    search = GridSearchCV(AggregateLinearRegression(), {"rho": rhos}, cv=GroupKFold(4)).fit(
        X, y_bag, bags=bags, groups=bags
    )
    # the same choice as an explicit loop: bags sliced per fold, the estimator's score
    by_hand = []
    for rho in rhos:
        fold_scores = [
            AggregateLinearRegression(rho=rho)
            .fit(X[train], y_bag[train], bags=bags[train])
            .score(X[test], y_bag[test])
            for train, test in GroupKFold(4).split(X, groups=bags)
        ]
        by_hand.append(np.mean(fold_scores))
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], by_hand, rtol=1e-10)
    assert search.best_params_["rho"] == rhos[int(np.argmax(by_hand))]


def test_bags_with_metadata_routing(rng):
    X = rng.normal(size=(400, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=400)
    bags = make_bags(400, 4, random_state=0)
    y_bag = aggregate_responses(y, bags)
    with sklearn.config_context(enable_metadata_routing=True):
        est = AggregateLinearRegression().set_fit_request(bags=True, sample_weight=False)
        pipe = make_pipeline(StandardScaler(), est)
        scores = cross_validate(
            pipe,
            X,
            y_bag,
            cv=GroupKFold(4),
            scoring=make_bag_scorer(),
            params={"bags": bags, "groups": bags},
        )
        by_hand = []
        for train, test in GroupKFold(4).split(X, groups=bags):
            reg = clone(est).set_fit_request(bags=True, sample_weight=False)
            fitted = make_pipeline(StandardScaler(), reg)
            fitted.fit(X[train], y_bag[train], bags=bags[train])
            by_hand.append(
                -bag_mean_squared_error(y_bag[test], fitted.predict(X[test]), bags=bags[test])
            )
        np.testing.assert_allclose(scores["test_score"], by_hand, rtol=1e-10)
        search = GridSearchCV(
            pipe,
            {"aggregatelinearregression__rho": [0.0, 1.0]},
            cv=GroupKFold(4),
            scoring=make_bag_scorer(),
        )
        search.fit(X, y_bag, bags=bags, groups=bags)
        # held-out bag scores by hand for one candidate and fold agree with the search
        train, test = list(GroupKFold(4).split(X, groups=bags))[0]
        reg = AggregateLinearRegression(rho=0.0).set_fit_request(bags=True, sample_weight=False)
        fitted = make_pipeline(StandardScaler(), reg).fit(X[train], y_bag[train], bags=bags[train])
        expected = -bag_mean_squared_error(y_bag[test], fitted.predict(X[test]), bags=bags[test])
        assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"bags": np.zeros(5)}, "bags has 5 ids but X has 20 rows"),
        ({"bags": np.r_[np.nan, np.zeros(19)]}, "NaN"),
        ({"bags": np.zeros((20, 2))}, "1-D"),
        ({"sample_weight": -np.ones(20)}, "(?i)negative"),
    ],
)
def test_bad_bags_and_weights(kwargs, match, rng):
    X, y = rng.normal(size=(20, 2)), rng.normal(size=20)
    with pytest.raises(ValueError, match=match):
        AggregateLinearRegression().fit(X, y, **kwargs)


@pytest.mark.parametrize("rho", [-0.1, 1.5])
def test_rho_outside_unit_interval(rho, rng):
    with pytest.raises(ValueError, match="rho"):
        AggregateLinearRegression(rho=rho).fit(rng.normal(size=(10, 2)), rng.normal(size=10))


@pytest.mark.parametrize("dense", [True, False])
def test_statistics_accumulated_over_many_blocks_equal_one_block(dense, rng, monkeypatch):
    """Row slices added into one table, compacted and multiplied block by block: same fit."""
    from sklearn_losses.aggregate import _statistics

    n, d = 1500, 4
    X = rng.normal(size=(n, d)) + 1.0
    bags = make_bags(n, 5, random_state=0) * 3 - 7  # integer ids, not codes
    y = aggregate_responses(X @ rng.normal(size=d) + rng.normal(size=n), bags)
    weight = rng.integers(0, 3, size=n).astype(float)
    weight[np.isin(bags, bags[:40])] = 0.0  # zero-weight bags all over the table
    if not dense:
        X = sparse.csr_matrix(np.where(rng.random(X.shape) < 0.4, 0.0, X))
    models = [AggregateLinearRegression(0.3), AggregateLinearRegressionCV([0.0, 0.3, 1.0])]
    expected = [clone(m).fit(X, y, bags=bags, sample_weight=weight) for m in models]
    monkeypatch.setattr(_statistics, "_ROWS", 97)
    monkeypatch.setattr(_statistics, "BLOCK_ROWS", 13)
    for model, reference in zip(models, expected):
        got = clone(model).fit(X, y, bags=bags, sample_weight=weight)
        np.testing.assert_allclose(got.coef_, reference.coef_, rtol=0, atol=1e-10)
        assert got.n_bags_ == reference.n_bags_ == np.unique(bags[weight > 0]).size
    np.testing.assert_allclose(got.cv_scores_, expected[1].cv_scores_, rtol=1e-10, atol=0)


@pytest.mark.parametrize(
    "bags",
    [
        np.array([5, -3, 5, 0, -3, 9]),
        np.array([7, 2, 2, 7], dtype=np.uint16),
        np.array([0, 10**12, 3, 0]),  # a wide range: sorted, not tabled
        np.array([4], dtype=np.int8),
        np.array([127, -128, 0, 127], dtype=np.int8),  # a range wider than int8
        np.array([2**64 - 1, 2**63, 2**64 - 1], dtype=np.uint64),
    ],
)
def test_integer_bag_codes_are_those_of_unique(bags):
    from sklearn_losses.aggregate._bags import check_bags

    np.testing.assert_array_equal(
        check_bags(bags, bags.shape[0]), np.unique(bags, return_inverse=True)[1]
    )
