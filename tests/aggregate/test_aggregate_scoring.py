"""The aggregate regressors' score: bag-level R^2 given bags; no silent trap with routing."""

import numpy as np
import pytest
import sklearn
from sklearn.exceptions import UnsetMetadataPassedError
from sklearn.metrics import r2_score
from sklearn.model_selection import GroupKFold, cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    AggregateMLPRegressor,
    aggregate_responses,
    make_bag_scorer,
    make_bags,
)

REGRESSORS = [
    AggregateLinearRegression(),
    AggregateLinearRegressionCV(cv=3),
    AggregateMLPRegressor(max_iter=2, random_state=0),
]


def bag_r2_by_hand(y, pred, bags, weight):
    """R^2 between weighted bag means, each bag weighted by its total weight."""
    ids = [b for b in np.unique(bags) if weight[bags == b].sum() > 0]
    W = np.array([weight[bags == b].sum() for b in ids])
    y_bar = np.array([weight[bags == b] @ y[bags == b] for b in ids]) / W
    f_bar = np.array([weight[bags == b] @ pred[bags == b] for b in ids]) / W
    centre = W @ y_bar / W.sum()
    return 1 - W @ (y_bar - f_bar) ** 2 / (W @ (y_bar - centre) ** 2)


def data(n=240, bag_size=4, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    y = X @ [1.0, -2.0, 0.5] + rng.normal(size=n)
    bags = make_bags(n, bag_size, random_state=seed)
    return X, y, bags, aggregate_responses(y, bags)


@pytest.mark.parametrize("est", REGRESSORS, ids=lambda e: type(e).__name__)
def test_score_with_bags_is_the_r2_of_bag_means(est):
    X, y, bags, y_bag = data()
    est = sklearn.clone(est).fit(X, y_bag, bags=bags)
    pred = est.predict(X)
    weight = np.random.default_rng(1).integers(0, 3, size=len(y)).astype(float)
    for w in (np.ones(len(y)), weight):
        for target in (y_bag, y):
            expected = bag_r2_by_hand(target, pred, bags, w)
            assert est.score(X, target, bags=bags, sample_weight=w) == pytest.approx(expected)
    # only bag means enter: row responses and their broadcast bag means score alike
    assert est.score(X, y, bags=bags) == pytest.approx(est.score(X, y_bag, bags=bags))
    # without bags: the ordinary row-level R^2, which bag means would make misleading
    assert est.score(X, y) == pytest.approx(r2_score(y, pred))
    assert est.score(X, y_bag) < est.score(X, y_bag, bags=bags)


def test_score_with_bags_validates_its_input():
    X, y, bags, y_bag = data()
    est = AggregateLinearRegression().fit(X, y_bag, bags=bags)
    with pytest.raises(ValueError, match="bags has 5 ids but X has 240 rows"):
        est.score(X, y_bag, bags=bags[:5])
    with pytest.raises(ValueError, match="bags contains NaN"):
        est.score(X, y_bag, bags=np.r_[np.nan, bags[1:]])
    with pytest.raises(ValueError, match="(?i)negative"):
        est.score(X, y_bag, bags=bags, sample_weight=-np.ones(len(y)))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        est.score(X, y_bag[:-1], bags=bags)


def test_routed_bags_reach_score_or_fail_loudly():
    """The trap of issue 17: row predictions scored against bag means in cross-validation."""
    X, y, bags, y_bag = data(n=400)
    cv = GroupKFold(4)
    params = {"bags": bags, "groups": bags}
    with sklearn.config_context(enable_metadata_routing=True):
        fit_only = AggregateLinearRegression().set_fit_request(bags=True, sample_weight=False)
        with pytest.raises(UnsetMetadataPassedError, match="score"):
            cross_val_score(fit_only, X, y_bag, cv=cv, params=params)
        both = sklearn.clone(fit_only).set_score_request(bags=True, sample_weight=False)
        scores = cross_val_score(both, X, y_bag, cv=cv, params=params)
        # as the user guide writes it: in a Pipeline (whose score cannot take a
        # sample_weight=False request), scaling leaves the unpenalised fit unchanged
        pipe = make_pipeline(StandardScaler(), sklearn.clone(fit_only).set_score_request(bags=True))
        np.testing.assert_allclose(cross_val_score(pipe, X, y_bag, cv=cv, params=params), scores)
        bag_scores = -cross_val_score(
            fit_only, X, y_bag, cv=cv, params=params, scoring=make_bag_scorer()
        )
        row_scores = cross_val_score(
            sklearn.clone(fit_only).set_score_request(bags=False, sample_weight=False),
            X,
            y_bag,
            cv=cv,
            params=params,
        )
    train, test = next(cv.split(X, groups=bags))
    fitted = AggregateLinearRegression().fit(X[train], y_bag[train], bags=bags[train])
    pred = fitted.predict(X[test])
    expected = bag_r2_by_hand(y_bag[test], pred, bags[test], np.ones(len(test)))
    assert scores[0] == pytest.approx(expected)
    assert np.all(scores > 0.5)
    assert np.all(row_scores < scores)
    # make_bag_scorer's error is the same comparison: 1 - R^2 times the bag means' variance
    y_bar = aggregate_responses(y_bag[test], bags[test])
    assert bag_scores[0] == pytest.approx((1 - scores[0]) * np.var(np.unique(y_bar)))


def bag_log_loss_by_hand(q_rows, proba, bags, weight):
    """Weighted cross-entropy of each bag's proportions against its mean probability."""
    total, value = 0.0, 0.0
    for b in np.unique(bags):
        rows = bags == b
        W = weight[rows].sum()
        if W == 0:
            continue
        q = weight[rows] @ q_rows[rows] / W
        p_bar = weight[rows] @ proba[rows] / W
        value -= W * q @ np.log(p_bar)
        total += W
    return value / total


def test_bag_log_loss_equals_log_loss_for_singletons_and_a_loop_for_bags():
    from sklearn.metrics import log_loss

    from sklearn_losses.aggregate import bag_log_loss

    rng = np.random.default_rng(3)
    y = rng.choice(["a", "b", "c"], size=60)
    proba = rng.dirichlet(np.ones(3), size=60)
    weight = rng.uniform(0, 2, 60)
    assert bag_log_loss(y, proba) == pytest.approx(log_loss(y, proba), rel=1e-12)
    assert bag_log_loss(y, proba, sample_weight=weight) == pytest.approx(
        log_loss(y, proba, sample_weight=weight), rel=1e-12
    )
    bags = rng.integers(0, 9, 60)
    weight[bags == 4] = 0.0
    one_hot = (y[:, None] == np.array(["a", "b", "c"])).astype(float)
    expected = bag_log_loss_by_hand(one_hot, proba, bags, weight)
    assert bag_log_loss(y, proba, bags=bags, sample_weight=weight) == pytest.approx(expected)
    # proportions broadcast to the rows give the same loss as the labels
    q_bag = np.array(
        [one_hot[bags == b].mean(axis=0) if (bags == b).any() else 0 for b in range(9)]
    )
    assert bag_log_loss(q_bag[bags], proba, bags=bags) == pytest.approx(
        bag_log_loss(y, proba, bags=bags), rel=1e-12
    )
    # the labels' order is the columns' order
    flipped = bag_log_loss(y, proba[:, ::-1], bags=bags, labels=["c", "b", "a"])
    assert flipped == pytest.approx(bag_log_loss(y, proba, bags=bags), rel=1e-12)


def test_bag_log_loss_refuses_mismatched_classes():
    from sklearn_losses.aggregate import bag_log_loss

    proba = np.full((4, 3), 1 / 3)
    with pytest.raises(ValueError, match="3 columns but there are 2 labels"):
        bag_log_loss([0, 1, 0, 1], proba)
    with pytest.raises(ValueError, match="2 columns of proportions"):
        bag_log_loss(np.full((4, 2), 0.5), proba)
    with pytest.raises(ValueError, match="not in labels"):
        bag_log_loss([0, 1, 2, 5], proba, labels=[0, 1, 2])
    with pytest.raises(ValueError, match="distinct"):
        bag_log_loss([0, 1, 0, 1], proba, labels=[0, 0, 1])
    # probabilities and proportions must be distributions, as log_loss asks
    with pytest.raises(ValueError, match="must sum to 1"):
        bag_log_loss([0, 1, 2, 1], proba * 2)
    with pytest.raises(ValueError, match="non-negative"):
        bag_log_loss([0, 1, 2, 1], proba - 0.5)
    with pytest.raises(ValueError, match="must sum to 1"):
        bag_log_loss(np.full((4, 3), 0.5), proba)
    with pytest.raises(ValueError, match="non-negative"):
        bag_log_loss(np.tile([1.2, -0.1, -0.1], (4, 1)), proba)


def test_log_loss_bag_scorer_scores_held_out_bags_in_a_grid_search():
    from sklearn.model_selection import GridSearchCV

    from sklearn_losses.aggregate import (
        AggregateLogisticRegression,
        bag_log_loss,
        privatize_label_proportions,
    )

    rng = np.random.default_rng(0)
    X = rng.normal(size=(600, 4))
    logits = X @ rng.normal(size=(4, 3))
    y = np.array([rng.choice(3, p=np.exp(r) / np.exp(r).sum()) for r in logits])
    bags = make_bags(600, 10, random_state=0)
    q = privatize_label_proportions(y, bags, epsilon=1e9, random_state=0)
    with sklearn.config_context(enable_metadata_routing=True):
        est = AggregateLogisticRegression().set_fit_request(bags=True, sample_weight=False)
        search = GridSearchCV(
            est,
            {"alpha": [1e-4, 1.0]},
            cv=GroupKFold(3),
            scoring=make_bag_scorer("log_loss"),
        ).fit(X, q, bags=bags, groups=bags)
    train, test = next(GroupKFold(3).split(X, q, bags))
    fitted = AggregateLogisticRegression(alpha=1e-4).fit(X[train], q[train], bags=bags[train])
    expected = -bag_log_loss(q[test], fitted.predict_proba(X[test]), bags=bags[test])
    assert search.cv_results_["split0_test_score"][0] == pytest.approx(expected, rel=1e-9)
    assert search.best_params_ == {"alpha": 1e-4}  # the heavy penalty predicts ~uniform
