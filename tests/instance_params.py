"""Per-estimator constructor parameters and expected failures for the common test.

Mirrors scikit-learn's ``sklearn/utils/_test_common/instance_generator.py``:
``INIT_PARAMS`` keeps the common checks fast (few epochs, small nets), and
``EXPECTED_FAILED_CHECKS`` lists, with its reason, each check an estimator is
excused from.  An entry is allowed only where scikit-learn excuses the same
check for the same kind of estimator (quoted in the reason).
"""

INIT_PARAMS = {
    "StochasticCCA": {"max_iter": 5},
    "DeepCCA": {"n_components": 1, "hidden_layer_sizes": (8,), "max_iter": 2, "batch_size": 8},
    "AggregateMLPRegressor": {"max_iter": 3, "hidden_layer_sizes": (8,)},
    "AggregateMLPClassifier": {
        "hidden_layer_sizes": (16,),
        "learning_rate_init": 1e-2,
        "max_iter": 20,
        "batch_size": 32,
    },
    "PRESTOClassifierCV": {"alphas": 4, "cv": 3},
    "EnsLossClassifier": {"max_iter": 30},
    "EnsLossMLPClassifier": {
        "hidden_layer_sizes": (16,),
        "learning_rate_init": 1e-2,
        "max_iter": 20,
        "batch_size": 32,
    },
    "CSIBRegressor": {
        "hidden_layer_sizes": (8,),
        "decoder_layer_sizes": (),
        "max_iter": 3,
        "batch_size": 16,
        "learning_rate_init": 1e-2,
    },
}

# scikit-learn's transformer checks special-case its own cross-decomposition estimators by
# name (sklearn.utils._test_common CROSS_DECOMPOSITION: PLSCanonical, PLSRegression, CCA,
# PLSSVD), whose fit_transform(X, y) returns the pair (x_scores, y_scores); ours follow the
# same API but carry other names, so the generic branch compares a tuple with an array.
_CROSS_DECOMPOSITION_BY_NAME = (
    "scikit-learn excuses its cross-decomposition estimators from this check by name: "
    "fit_transform(X, y) returns (x_scores, y_scores) as sklearn's PLS/CCA do"
)
EXPECTED_FAILED_CHECKS = {
    name: {
        "check_transformer_general": _CROSS_DECOMPOSITION_BY_NAME,
        "check_transformer_data_not_an_array": _CROSS_DECOMPOSITION_BY_NAME,
    }
    for name in ("StochasticCCA", "DeepCCA")
}


def make_instance(cls):
    return cls(**INIT_PARAMS.get(cls.__name__, {}))


def expected_failed_checks(estimator):
    return EXPECTED_FAILED_CHECKS.get(type(estimator).__name__, {})


# scikit-learn hands numeric labels to the classifiers whose labels carry meaning in this
# check, by name (_choose_check_classifiers_labels: LabelPropagation, LabelSpreading,
# SelfTrainingClassifier, where -1 means "unlabeled").  An ordinal classifier's labels carry
# their order, which the check's "one", "two", "three" do not give.
_ORDINAL_LABELS_NEED_AN_ORDER = (
    "scikit-learn gives classifiers whose labels carry meaning numeric labels in this check "
    "(LabelPropagation, LabelSpreading, SelfTrainingClassifier); ordinal labels carry an "
    "order that 'one', 'two', 'three' do not give, so an ordinal classifier refuses them "
    "with a ValueError naming categories= instead of fitting them in alphabetical order; the "
    "check's core (check_classifiers_predictions) passes on ordered labels in "
    "tests/robustness/test_ordinal_robustness.py"
)
for _name in ("ProportionalOddsClassifier", "PRESTOClassifier", "PRESTOClassifierCV"):
    EXPECTED_FAILED_CHECKS[_name] = {"check_classifiers_classes": _ORDINAL_LABELS_NEED_AN_ORDER}

# scikit-learn excuses LogisticRegression (an L-BFGS fit of a penalised likelihood to a
# tolerance) from the dense check; PRESTOClassifierCV is the same kind of fit.  The check's
# data have 15 rows and 30 features: at the path's smallest alpha the optimum is so flat
# that two quasi-Newton runs, whose sums differ only in rounding (weights against repeated
# rows), stop within tol at points whose probabilities differ by ~1e-5 > the check's 1e-7.
# Weights equal repeated rows to 1e-6 on well-posed data in
# tests/ordinal/test_ordinal_api.py::test_cv_integer_weights_equal_repeated_rows.
EXPECTED_FAILED_CHECKS["PRESTOClassifierCV"]["check_sample_weight_equivalence_on_dense_data"] = (
    "sample_weight is not equivalent to removing/repeating samples (as scikit-learn's "
    "LogisticRegression: the solver's tolerance on the check's flat 15-row, 30-feature "
    "problem); weights equal repeated rows to 1e-6 on well-posed data, tested"
)

# scikit-learn excuses its minibatch SGD estimators (SGDClassifier, SGDRegressor,
# Perceptron) from these checks with this reason: a stochastic fit visits the rows in
# random batches, so a weight is not the same as a repeated row draw by draw.
# (StochasticCCA's batches see the weights rescaled to mean 1, so that weights in any
# unit work; repeated rows then differ from integer weights in the batches' dof.)  Ours are
# tested instead on a fixed batch: the weighted loss equals the repeated-rows loss
# (tests/*/test_*; see doc/user_guide/conventions.rst, "Sample weights").
_STOCHASTIC_WEIGHTS = (
    "sample_weight is not equivalent to removing/repeating samples (minibatch SGD, as "
    "scikit-learn's SGDClassifier); on a fixed batch the weighted loss equals the "
    "repeated-rows loss, tested per estimator"
)
for _name in (
    "EnsLossClassifier",
    "StochasticCCA",
    "StochasticMultiviewCCA",
    "DeepCCA",
    "EnsLossMLPClassifier",
    "CSIBRegressor",
    "AggregateMLPRegressor",
    "AggregateMLPClassifier",
):
    EXPECTED_FAILED_CHECKS.setdefault(_name, {}).update(
        {
            "check_sample_weight_equivalence_on_dense_data": _STOCHASTIC_WEIGHTS,
            "check_sample_weight_equivalence_on_sparse_data": _STOCHASTIC_WEIGHTS,
        }
    )
