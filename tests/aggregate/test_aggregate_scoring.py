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
