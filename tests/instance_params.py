"""Per-estimator constructor parameters and expected failures for the common test.

Mirrors scikit-learn's ``sklearn/utils/_test_common/instance_generator.py``:
``INIT_PARAMS`` keeps the common checks fast (few epochs, small nets), and
``EXPECTED_FAILED_CHECKS`` lists, with its reason, each check an estimator is
excused from.  An entry is allowed only where scikit-learn excuses the same
check for the same kind of estimator (quoted in the reason).
"""

INIT_PARAMS = {
    "AggregateMLPRegressor": {"max_epochs": 3, "hidden_layer_sizes": (8,)},
    "PRESTOClassifierCV": {"alphas": 4, "cv": 3},
}

EXPECTED_FAILED_CHECKS = {}


def make_instance(cls):
    return cls(**INIT_PARAMS.get(cls.__name__, {}))


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})
