"""Robustness of the aggregate-responses family: bag ids, weights, grids, parameters."""

import numpy as np
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import GroupKFold
from sklearn.utils._param_validation import InvalidParameterError

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    AggregateLogisticRegression,
    aggregate_responses,
    bag_mean_squared_error,
    bag_size_risk,
    bag_size_search,
    make_bag_scorer,
    make_bags,
    optimal_bag_size,
    privatize_responses,
)
from sklearn_losses.aggregate import __all__ as aggregate_all
from sklearn_losses.aggregate._bags import check_bags
from sklearn_losses.aggregate._privacy import __all__ as privacy_all

PRIVACY = dict(epsilon=1.0, bounds=(-3, 3))
RISK = dict(n_samples=4000, n_features=20, noise_std=0.5, **PRIVACY)


@pytest.fixture
def data(rng):
    X = rng.normal(size=(60, 3))
    y = X @ [1.0, -1.0, 0.5] + 0.1 * rng.normal(size=60)
    return X, y, make_bags(60, 3, random_state=0)


# 1. bag ids ---------------------------------------------------------------


@pytest.mark.parametrize(
    "bags",
    [
        np.array([1, "a", 2], dtype=object),
        [1, "a", 2],  # NumPy alone would silently turn this into three strings
        [1, "1", 2],  # ... and merge 1 and "1" into one bag
    ],
)
def test_mixed_str_and_int_bag_ids_are_a_clear_error(bags):
    with pytest.raises(ValueError, match="Mix of bag id types.*all numbers or all strings"):
        check_bags(bags, 3)
    with pytest.raises(ValueError, match="Mix of bag id types"):
        aggregate_responses([1.0, 2.0, 3.0], bags)


def test_consistent_bag_id_types_still_work():
    np.testing.assert_array_equal(check_bags(["b", "a", "b"], 3), [1, 0, 1])
    np.testing.assert_array_equal(check_bags(np.array([3, 1.5, 3], dtype=object), 3), [1, 0, 1])
    np.testing.assert_allclose(aggregate_responses([1.0, 3.0, 5.0], ["x", "x", 7 * "y"]), [2, 2, 5])


@pytest.mark.parametrize(
    "bags, match",
    [
        ([0.0, np.nan, 1.0], "NaN"),
        (np.array([0, np.nan, 1], dtype=object), "missing"),
        (np.array(["a", None, "b"], dtype=object), "missing"),
        (np.array(["2024-01-01", "NaT", "2024-01-02"], dtype="datetime64[D]"), "NaT"),
        (np.zeros((3, 2)), "1-D"),
        (np.zeros((3, 1)), "1-D"),
        ([0, 1], "bags has 2 ids but X has 3 rows"),
    ],
)
def test_check_bags_errors(bags, match):
    with pytest.raises(ValueError, match=match):
        check_bags(bags, 3)


def test_bag_length_error_names_the_right_array():
    with pytest.raises(ValueError, match="bags has 10 ids but y has 100 rows"):
        aggregate_responses(np.ones(100), np.arange(10))
    with pytest.raises(ValueError, match="bags has 1 ids but y has 2 rows"):
        privatize_responses([1.0, 2.0], [0], **PRIVACY)
    with pytest.raises(ValueError, match="bags has 1 ids but y_true has 2 rows"):
        bag_mean_squared_error([1.0, 2.0], [1.0, 2.0], bags=[0])
    with pytest.raises(ValueError, match="bags has 10 ids but X has 60 rows"):
        AggregateLinearRegression().fit(np.ones((60, 2)), np.ones(60), bags=np.arange(10))


# 2. the CV rho grid and folds of zero weight ------------------------------


@pytest.mark.parametrize(
    "rhos", [[np.nan], [0.0, np.inf], [-0.1, 0.5], [1.5], [], [[0.1]], ["a"]], ids=str
)
def test_cv_rejects_invalid_rho_grids(rhos, data):
    X, y, bags = data
    with pytest.raises(ValueError, match="rhos must be a non-empty 1-D grid of finite values"):
        AggregateLinearRegressionCV(rhos=rhos, cv=3).fit(X, y, bags=bags)
    with pytest.raises(InvalidParameterError, match="The 'rhos' parameter"):
        AggregateLinearRegressionCV(rhos="a").fit(X, y, bags=bags)


def test_cv_folds_only_bags_of_positive_weight(data):
    X, y, bags = data
    weight = np.where(bags < 8, 0.0, 1.0)  # 8 of 20 bags weigh nothing
    cv = AggregateLinearRegressionCV(cv=5).fit(X, y, bags=bags, sample_weight=weight)
    assert np.all(np.isfinite(cv.cv_scores_))
    # the zero-weight rows change nothing
    keep = weight > 0
    ref = AggregateLinearRegressionCV(cv=5).fit(X[keep], y[keep], bags=bags[keep])
    np.testing.assert_allclose(cv.cv_scores_, ref.cv_scores_, rtol=1e-10)
    np.testing.assert_allclose(cv.coef_, ref.coef_, rtol=1e-10)
    with pytest.raises(ValueError, match="2 bags of positive weight .* 5 grouped folds"):
        AggregateLinearRegressionCV(cv=5).fit(X, y, bags=bags, sample_weight=bags < 2)


def test_cv_fold_of_zero_weight_is_a_clear_error(data):
    X, y, bags = data
    weight = np.where(bags < 4, 0.0, 1.0)
    held_out = np.flatnonzero(bags < 4)
    train = np.flatnonzero(bags >= 4)
    splits = [(train, held_out)]
    with pytest.raises(ValueError, match="Fold 0 .* zero total sample_weight in its held-out rows"):
        AggregateLinearRegressionCV(cv=splits).fit(X, y, bags=bags, sample_weight=weight)
    with pytest.raises(ValueError, match="Fold 0 .* zero total sample_weight in its training rows"):
        AggregateLinearRegressionCV(cv=[(held_out, train)]).fit(
            X, y, bags=bags, sample_weight=weight
        )


def test_cv_folds_unchanged_for_positive_weights(data):
    X, y, bags = data
    cv = AggregateLinearRegressionCV(rhos=[0.0, 0.5], cv=4).fit(X, y, bags=bags)
    train, test = next(GroupKFold(4).split(X, groups=bags))
    fitted = AggregateLinearRegression(rho=0.5).fit(X[train], y[train], bags=bags[train])
    expected = bag_mean_squared_error(y[test], fitted.predict(X[test]), bags=bags[test])
    assert cv.cv_scores_[1, 0] == pytest.approx(expected, rel=1e-10)


# 3. optimal_bag_size without O(n) memory ----------------------------------


def test_optimal_bag_size_for_huge_n_is_constant_memory():
    # a grid 1..n // d would take 8 TB; the closed form answers at once
    kwargs = dict(n_samples=10**12, n_features=1, epsilon=1e-6, bounds=(-1, 1), noise_std=1.0)
    k = optimal_bag_size(theta_norm=1e-3, **kwargs)
    assert 10**6 < k < 10**7  # about B / ||theta||^2 = 8e6
    risk = bag_size_risk([k - 1, k, k + 1], theta_norm=1e-3, **kwargs)
    assert risk[1] <= risk[0] and risk[1] <= risk[2]
    assert optimal_bag_size(theta_norm=0.0, **kwargs) == 10**12  # no bias: the largest


def test_optimal_bag_size_matches_the_brute_force_grid():
    rng = np.random.default_rng(0)
    for _ in range(300):
        kwargs = dict(
            n_samples=int(rng.integers(1, 5000)),
            n_features=int(rng.integers(1, 50)),
            epsilon=float(10 ** rng.uniform(-2, 1)),
            bounds=(-float(rng.uniform(0.1, 5)), float(rng.uniform(0.1, 5))),
            noise_std=float(rng.choice([0.0, rng.uniform(0, 3)])),
            theta_norm=float(rng.choice([0.0, rng.uniform(0, 2)])),
            max_size=rng.choice([None, int(rng.integers(1, 100))]),
        )
        max_size = kwargs["max_size"] or max(1, kwargs["n_samples"] // kwargs["n_features"])
        sizes = np.arange(1, max_size + 1)
        risk = bag_size_risk(sizes, **{k: v for k, v in kwargs.items() if k != "max_size"})
        best = optimal_bag_size(**kwargs)
        assert risk[best - 1] <= risk.min() * (1 + 1e-12), kwargs


def test_optimal_bag_size_ends_of_the_range():
    kwargs = dict(n_samples=100, n_features=2, epsilon=1.0, bounds=(0, 1))
    # no signal: bias is zero and both variances fall with k, so the largest size wins
    assert optimal_bag_size(noise_std=0.0, theta_norm=0.0, **kwargs) == 50
    assert optimal_bag_size(noise_std=1.0, theta_norm=0.0, max_size=7, **kwargs) == 7
    # strong signal, little noise: no bagging
    assert optimal_bag_size(noise_std=0.0, theta_norm=10.0, **kwargs) == 1


# 4. weights and bounds ----------------------------------------------------


@pytest.mark.parametrize(
    "weight, match",
    [
        ([-1.0, 1.0, 1.0], "(?i)negative"),
        ([np.nan, 1.0, 1.0], "NaN"),
        ([np.inf, 1.0, 1.0], "infinity"),
        ([0.0, 0.0, 0.0], "non-zero"),
        ([0.0, 0.0, 1.0], r"sums to zero in 1 bag\(s\) \(e.g. bag 0\)"),
    ],
)
def test_aggregate_responses_rejects_bad_weights(weight, match):
    with pytest.raises(ValueError, match=match):
        aggregate_responses([1.0, 2.0, 3.0], [0, 0, 1], sample_weight=weight)


def test_aggregate_responses_with_valid_weights():
    out = aggregate_responses([1.0, 3.0, 10.0], [0, 0, 1], sample_weight=[3.0, 1.0, 0.0 + 2])
    np.testing.assert_allclose(out, [1.5, 1.5, 10.0])
    # a zero weight inside a bag of positive weight is fine
    np.testing.assert_allclose(
        aggregate_responses([1.0, 3.0, 10.0], [0, 0, 1], sample_weight=[0.0, 1.0, 1.0]),
        [3.0, 3.0, 10.0],
    )


@pytest.mark.parametrize(
    "y, match", [([1.0, np.nan], "y contains NaN"), ([1.0, np.inf], "y contains infinity")]
)
def test_responses_must_be_finite(y, match):
    with pytest.raises(ValueError, match=match):
        aggregate_responses(y, [0, 0])
    with pytest.raises(ValueError, match=match):
        privatize_responses(y, [0, 0], **PRIVACY)


@pytest.mark.parametrize(
    "bounds, match",
    [
        ((-np.inf, np.inf), "finite"),
        ((0, np.inf), "finite"),
        ((np.nan, 1), "finite"),
        ((1, 1), "low < high"),
        ((2, 1), "low < high"),
        ((0, 1, 2), "pair"),
        (("a", "b"), "pair"),
    ],
)
def test_privacy_bounds_must_be_finite_and_ordered(bounds, match):
    with pytest.raises(ValueError, match=match):
        privatize_responses([1.0, 2.0], [0, 0], epsilon=1.0, bounds=bounds)
    with pytest.raises(ValueError, match=match):
        bag_size_risk(
            [1, 2], n_samples=100, n_features=2, epsilon=1.0, bounds=bounds, noise_std=1.0
        )


@pytest.mark.parametrize(
    "weight, match",
    [([0.0, 0.0], "non-zero"), ([-1.0, 2.0], "(?i)negative"), ([np.nan, 1.0], "NaN")],
)
def test_bag_mean_squared_error_rejects_bad_weights(weight, match):
    with pytest.raises(ValueError, match=match):
        bag_mean_squared_error([1.0, 2.0], [1.0, 2.0], sample_weight=weight)


def test_bag_mean_squared_error_zero_weight_bag_counts_for_nothing():
    loss = bag_mean_squared_error(
        [1.0, 2.0, 5.0], [1.0, 2.0, 9.0], bags=[0, 0, 1], sample_weight=[1.0, 1.0, 0.0]
    )
    assert loss == 0.0
    with pytest.raises(ValueError, match="y_pred contains NaN"):
        bag_mean_squared_error([1.0, 2.0], [1.0, np.nan])


# 6. validate_params on every public function ------------------------------


class _Fit(BaseEstimator):
    def fit(self, X, y, bags=None):
        return self

    def predict(self, X):
        return np.zeros(len(X))


def _search(**kwargs):
    X = np.zeros((20, 1))
    args = dict(
        estimator=_Fit(),
        X=X,
        y=np.zeros(20),
        bag_sizes=[1, 2],
        X_val=X,
        y_val=np.zeros(20),
        **PRIVACY,
    )
    return bag_size_search(**{**args, **kwargs})


INVALID = [
    (aggregate_responses, dict(y=[1.0, 2.0], bags=None), "bags"),
    (aggregate_responses, dict(y=1.0, bags=[0]), "y"),
    (aggregate_responses, dict(y=[1.0], bags=[0], sample_weight="heavy"), "sample_weight"),
    (bag_mean_squared_error, dict(y_true=1.0, y_pred=[1.0]), "y_true"),
    (bag_mean_squared_error, dict(y_true=[1.0], y_pred=[1.0], bags=0), "bags"),
    (bag_size_risk, dict(bag_sizes=[1], **{**RISK, "n_features": 0}), "n_features"),
    (bag_size_risk, dict(bag_sizes=[1], **{**RISK, "epsilon": np.inf}), "epsilon"),
    (bag_size_risk, dict(bag_sizes=[1], **{**RISK, "noise_std": -1.0}), "noise_std"),
    (bag_size_risk, dict(bag_sizes=[1], theta_norm=np.nan, **RISK), "theta_norm"),
    (bag_size_risk, dict(bag_sizes=3, **RISK), "bag_sizes"),
    (make_bags, dict(n_samples=0, bag_size=2), "n_samples"),
    (make_bags, dict(n_samples=10, bag_size=2.5), "bag_size"),
    (make_bags, dict(n_samples=10, bag_size=0), "bag_size"),
    (make_bags, dict(n_samples=10, bag_size=2, random_state="seed"), "random_state"),
    (optimal_bag_size, {**RISK, "n_features": 0}, "n_features"),
    (optimal_bag_size, {**RISK, "n_samples": 0}, "n_samples"),
    (optimal_bag_size, {**RISK, "max_size": 0}, "max_size"),
    (optimal_bag_size, {**RISK, "epsilon": 0.0}, "epsilon"),
    (optimal_bag_size, {**RISK, "noise_std": np.nan}, "noise_std"),
    (privatize_responses, dict(y=[1.0], bags=[0], epsilon=np.nan, bounds=(0, 1)), "epsilon"),
    (privatize_responses, dict(y=[1.0], bags=[0], epsilon=1.0, bounds=1), "bounds"),
    (privatize_responses, dict(y=[1.0], bags=[0], epsilon=-1.0, bounds=(0, 1)), "epsilon"),
    (_search, dict(estimator="model"), "estimator"),
    (_search, dict(n_repeats=0), "n_repeats"),
    (_search, dict(epsilon=-1.0), "epsilon"),
    (_search, dict(random_state="seed"), "random_state"),
]


@pytest.mark.parametrize(
    "func, kwargs, name", INVALID, ids=[f"{f.__name__}-{n}" for f, _, n in INVALID]
)
def test_invalid_parameter_of_each_public_function(func, kwargs, name):
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
        func(**kwargs)


def test_every_public_function_is_validated_and_exported():
    functions = [
        aggregate_responses,
        bag_mean_squared_error,
        bag_size_risk,
        bag_size_search,
        make_bag_scorer,
        make_bags,
        optimal_bag_size,
        privatize_responses,
    ]
    for func in functions:
        assert func.__name__ in aggregate_all
        assert hasattr(func, "__wrapped__"), f"{func.__name__} lacks validate_params"
    assert "bag_size_search" in privacy_all
    with pytest.raises(TypeError):  # make_bag_scorer takes no parameters at all
        make_bag_scorer(greater_is_better=True)


@pytest.mark.parametrize("bag_sizes", [[], [0, 2], [1.5], [np.nan], [[1, 2]], ["a"]], ids=str)
def test_bag_size_search_rejects_bad_sizes(bag_sizes):
    with pytest.raises(ValueError, match="bag_sizes must be a non-empty 1-D sequence"):
        _search(bag_sizes=bag_sizes)


def test_bag_size_search_checks_lengths():
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _search(y=np.zeros(19))
    with pytest.raises(ValueError, match="inconsistent numbers of samples"):
        _search(y_val=np.zeros(5))


def test_bag_size_risk_rejects_bad_sizes():
    for sizes in ([0.5], [np.nan], [np.inf]):
        with pytest.raises(ValueError, match="bag sizes must be finite and >= 1"):
            bag_size_risk(sizes, **RISK)


# 7. non-finite hyper-parameters -------------------------------------------


@pytest.mark.parametrize(
    "estimator, name",
    [
        (AggregateLinearRegression(alpha=np.inf), "alpha"),
        (AggregateLinearRegression(alpha=np.nan), "alpha"),
        (AggregateLinearRegression(alpha=-1.0), "alpha"),
        (AggregateLinearRegression(rho=np.nan), "rho"),
        (AggregateLinearRegression(rho=np.inf), "rho"),
        (AggregateLinearRegression(rho=1.5), "rho"),
        (AggregateLinearRegressionCV(alpha=np.inf), "alpha"),
        (AggregateLinearRegressionCV(alpha=np.nan), "alpha"),
        (AggregateLinearRegressionCV(cv=1), "cv"),
    ],
    ids=lambda v: repr(v) if isinstance(v, BaseEstimator) else v,
)
def test_non_finite_hyper_parameters_are_rejected(estimator, name, data):
    X, y, bags = data
    with pytest.raises(InvalidParameterError, match=f"The '{name}' parameter"):
        clone(estimator).fit(X, y, bags=bags)


@pytest.mark.parametrize(
    "call, name",
    [
        (
            lambda X, y, b, w: AggregateLinearRegression().fit(X, y, bags=b, sample_weight=w),
            "AggregateLinearRegression",
        ),
        (
            lambda X, y, b, w: AggregateLinearRegressionCV().fit(X, y, bags=b, sample_weight=w),
            "AggregateLinearRegressionCV",
        ),
        (
            lambda X, y, b, w: AggregateLogisticRegression().fit(X, y > 0, bags=b, sample_weight=w),
            "AggregateLogisticRegression",
        ),
        (lambda X, y, b, w: aggregate_responses(y, b, sample_weight=w), "aggregate_responses"),
        (
            lambda X, y, b, w: bag_mean_squared_error(y, y, bags=b, sample_weight=w),
            "bag_mean_squared_error",
        ),
        (
            lambda X, y, b, w: (
                AggregateLinearRegression().fit(X, y).score(X, y, bags=b, sample_weight=w)
            ),
            "AggregateLinearRegression",
        ),
    ],
)
@pytest.mark.parametrize("kind", ["zero", "negative"])
def test_sample_weight_errors_name_their_estimator(call, name, kind, data):
    """The package's one sample_weight check: all-zero or negative weights, with the name."""
    X, y, bags = data
    w = np.zeros(len(y)) if kind == "zero" else np.r_[-1.0, np.ones(len(y) - 1)]
    expected = "(?i)non-zero" if kind == "zero" else "(?i)negative"
    with pytest.raises(ValueError, match=expected) as error:
        call(X, y, bags, w)
    assert str(error.value).startswith(f"{name}: "), str(error.value)
