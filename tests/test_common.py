"""scikit-learn's estimator checks on every public estimator (discovered, not listed)."""

from instance_params import INIT_PARAMS, expected_failed_checks, make_instance
from sklearn.utils.estimator_checks import parametrize_with_checks

from sklearn_losses.utils import all_estimators

ESTIMATORS = [make_instance(cls) for _, cls in all_estimators()]
# Estimators whose common test above runs with faster parameters are checked once
# more with their defaults, as a user's check_estimator(Est()) would; the others
# are already checked at their defaults above.
AT_DEFAULTS = [cls() for name, cls in all_estimators() if INIT_PARAMS.get(name)]


@parametrize_with_checks(ESTIMATORS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible(estimator, check):
    check(estimator)


@parametrize_with_checks(AT_DEFAULTS, expected_failed_checks=expected_failed_checks)
def test_sklearn_compatible_at_default_parameters(estimator, check):
    check(estimator)


def test_params_table_names_real_estimators():
    names = {name for name, _ in all_estimators()}
    assert set(INIT_PARAMS) <= names, set(INIT_PARAMS) - names
