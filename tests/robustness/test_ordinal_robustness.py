"""Robustness of the ordinal family (PRESTO, proportional odds) and its L-BFGS neighbour.

Regression tests for issue 12: non-convergence is reported, ordinal labels are never
put in an order the user did not give, degenerate and extreme inputs give a fit or a
clear error, the numba kernels sit behind a checked boundary, and non-finite
hyper-parameters are rejected.
"""

import warnings

import numpy as np
import pytest
from numpy.testing import assert_allclose
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.model_selection import cross_val_score
from sklearn.utils.estimator_checks import check_classifiers_predictions

from sklearn_losses.aggregate import AggregateLogisticRegression
from sklearn_losses.datasets import make_presto_data
from sklearn_losses.ordinal import (
    PRESTOClassifier,
    PRESTOClassifierCV,
    ProportionalOddsClassifier,
    plot_coefficient_path,
)
from sklearn_losses.ordinal._base import probabilities_from_predictors
from sklearn_losses.ordinal._kernels import LINKS, class_probabilities, nll_and_gradient
from sklearn_losses.ordinal._loss import cumulative_link_nll
from sklearn_losses.ordinal._solver import fista, owlqn
from sklearn_losses.utils._convergence import DivergenceError

ORDINAL = [
    ProportionalOddsClassifier(),
    PRESTOClassifier(alpha=0.003),
    PRESTOClassifierCV(alphas=4, cv=3),
]
ids = lambda est: type(est).__name__  # noqa: E731


def _read_only(*arrays):
    """Data shared by a module's tests: frozen, so that no test can change it for the next."""
    for array in arrays:
        array.setflags(write=False)
    return arrays


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_presto_data(n_samples=400, intercepts=(-1.0, 1.0, 3.0), random_state=2)
    return _read_only(X, y)


@pytest.fixture(scope="module")
def three_classes():
    X, y, _ = make_presto_data(n_samples=300, intercepts=(-0.5, 1.0), random_state=5)
    return _read_only(X, y)


def _binary(data):
    X, y = data
    return X, (y > 0).astype(int)


# -- 1. non-convergence is reported -----------------------------------------------------------
LBFGS_FITS = [
    (ProportionalOddsClassifier, lambda d: d),
    (AggregateLogisticRegression, _binary),
]


@pytest.mark.parametrize("cls, target", LBFGS_FITS, ids=lambda c: getattr(c, "__name__", ""))
def test_lbfgs_fits_warn_when_their_budget_runs_out(cls, target, data):
    X, y = target(data)
    with pytest.warns(ConvergenceWarning, match=f"{cls.__name__} did not converge within"):
        cls(max_iter=1).fit(X, y)


@pytest.mark.parametrize("cls, target", LBFGS_FITS, ids=lambda c: getattr(c, "__name__", ""))
def test_lbfgs_fits_are_silent_on_ordinary_data(cls, target, data):
    X, y = target(data)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        cls().fit(X, y)


def test_presto_warning_uses_the_shared_wording(data):
    X, y = data
    with pytest.warns(ConvergenceWarning) as record:
        PRESTOClassifier(alpha=0.001, max_iter=2).fit(X, y)
    message = str(record[0].message)
    # the words of sklearn_losses.utils._convergence.warn_not_converged
    assert message.startswith("PRESTOClassifier did not converge within max_iter=2 iterations;")
    assert "KKT violation" in message


def test_presto_cv_reports_an_unconverged_path(data):
    X, y = data
    with pytest.warns(ConvergenceWarning, match="PRESTOClassifierCV did not converge"):
        PRESTOClassifierCV(alphas=3, cv=3, max_iter=2).fit(X, y)


def test_proportional_odds_without_scale_still_solves_on_standardized_features(data):
    # scale=False only puts the penalty on the original coefficients: the solver runs on
    # standardized features, so features scaled by 1e200 give the same probabilities
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        huge = ProportionalOddsClassifier(scale=False, alpha=0.0).fit(X * 1e200, y)
    unscaled = ProportionalOddsClassifier(scale=False, alpha=0.0).fit(X, y)
    assert_allclose(huge.predict_proba(X * 1e200), unscaled.predict_proba(X), atol=1e-8)
    assert_allclose(huge.coef_ * 1e200, unscaled.coef_, rtol=1e-6)


@pytest.mark.parametrize(
    "est",
    [
        PRESTOClassifier(scale=False),
        PRESTOClassifierCV(alphas=3, cv=3, scale=False),
    ],
    ids=ids,
)
def test_overflowing_unstandardized_fits_raise_divergence_instead_of_hanging(est, data):
    X, y = data
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # numpy's overflow notices
        with pytest.raises(DivergenceError, match=f"{type(est).__name__} diverged"):
            clone(est).fit(X * 1e200, y)


def test_aggregate_logistic_overflow_is_a_divergence_error(data):
    X, y = _binary(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(DivergenceError, match="AggregateLogisticRegression diverged"):
            AggregateLogisticRegression().fit(X * 1e300, y)


class _FallingLoss:
    """A stand-in loss whose first step is accepted with a non-finite objective."""

    enforce_order = False
    X = np.zeros((1, 1))

    def __init__(self):
        self.calls = 0

    def value_and_gradient(self, intercepts, B):
        self.calls += 1  # finite at the start, -inf at every later point
        return (1.0 if self.calls == 1 else -np.inf), np.ones_like(intercepts), np.zeros_like(B)

    def value(self, intercepts, B):
        return -np.inf


@pytest.mark.parametrize("solver", [fista, owlqn])
def test_solvers_check_their_iterates_are_finite(solver):
    with pytest.raises(DivergenceError, match="PRESTOClassifier diverged"):
        solver(
            _FallingLoss(), np.zeros(1), np.zeros((1, 1)), np.zeros((1, 1)), tol=1e-6, max_iter=5
        )


# -- 2. ordinal labels keep the order they were given -----------------------------------------
@pytest.mark.parametrize("est", ORDINAL, ids=ids)
@pytest.mark.parametrize("names", [["low", "mid", "high"], ["yes", "no"]])
def test_unordered_string_labels_are_rejected_with_a_recipe(est, names, three_classes):
    X, y = three_classes
    if len(names) == 2:
        y = (y > 0).astype(int)
    labels = np.array(names)[y]
    for target in (labels, labels.astype(object), list(labels)):
        with pytest.raises(ValueError, match=r"order is unknown.*categories=\[\.\.\.\].*ordered"):
            clone(est).fit(X, target)


@pytest.mark.parametrize("est", ORDINAL, ids=ids)
def test_ordered_pandas_categorical_keeps_its_order(est, three_classes):
    pd = pytest.importorskip("pandas")
    X, y = three_classes
    order = ["low", "mid", "high"]  # not alphabetical
    labels = np.array(order)[y]
    reference = clone(est).fit(X, y)
    for target in (
        pd.Series(pd.Categorical(labels, categories=order, ordered=True)),
        pd.Categorical(labels, categories=order, ordered=True),
    ):
        fitted = clone(est).fit(X, target)
        np.testing.assert_array_equal(fitted.categories_, order)
        np.testing.assert_array_equal(fitted.classes_, sorted(order))  # predict_proba's columns
        in_order = np.searchsorted(fitted.classes_, order)
        np.testing.assert_allclose(
            fitted.predict_proba(X)[:, in_order], reference.predict_proba(X), atol=1e-8
        )
        np.testing.assert_array_equal(fitted.predict(X), np.array(order)[reference.predict(X)])


def test_ordered_categorical_drops_absent_categories_and_survives_cv(three_classes):
    pd = pytest.importorskip("pandas")
    X, y = three_classes
    order = ["none", "low", "mid", "high"]  # "none" never occurs
    target = pd.Series(pd.Categorical(np.array(order[1:])[y], categories=order, ordered=True))
    fitted = ProportionalOddsClassifier().fit(X, target)
    np.testing.assert_array_equal(fitted.categories_, order[1:])
    scores = cross_val_score(ProportionalOddsClassifier(), X, target, cv=3)
    # the same folds and fits as on the integer codes: the absent category changes nothing
    np.testing.assert_allclose(scores, cross_val_score(ProportionalOddsClassifier(), X, y, cv=3))


def test_unordered_categorical_needs_categories(three_classes):
    pd = pytest.importorskip("pandas")
    X, y = three_classes
    order = ["low", "mid", "high"]
    target = pd.Series(pd.Categorical(np.array(order)[y]))  # unordered
    with pytest.raises(ValueError, match="order is unknown"):
        ProportionalOddsClassifier().fit(X, target)
    fitted = ProportionalOddsClassifier(categories=order).fit(X, target)
    np.testing.assert_array_equal(fitted.categories_, order)


def test_categories_and_ordered_categorical_must_agree(three_classes):
    pd = pytest.importorskip("pandas")
    X, y = three_classes
    order = ["low", "mid", "high"]
    target = pd.Categorical(np.array(order)[y], categories=order, ordered=True)
    agreeing = ProportionalOddsClassifier(categories=order).fit(X, target)
    np.testing.assert_array_equal(agreeing.categories_, order)
    with pytest.raises(ValueError, match="disagree"):
        ProportionalOddsClassifier(categories=order[::-1]).fit(X, target)


@pytest.mark.parametrize("est", ORDINAL, ids=ids)
def test_categories_give_the_order_of_string_labels(est, three_classes):
    X, y = three_classes
    order = ["low", "mid", "high"]
    fitted = clone(est).set_params(categories=order).fit(X, np.array(order)[y])
    np.testing.assert_array_equal(fitted.categories_, order)
    np.testing.assert_array_equal(fitted.classes_, sorted(order))
    reference = clone(est).fit(X, y)
    in_order = np.searchsorted(fitted.classes_, order)
    np.testing.assert_allclose(
        fitted.predict_proba(X)[:, in_order], reference.predict_proba(X), atol=1e-8
    )
    np.testing.assert_array_equal(fitted.predict(X), np.array(order)[reference.predict(X)])


@pytest.mark.parametrize("est", ORDINAL, ids=ids)
@pytest.mark.parametrize(
    "scoring", ["neg_log_loss", "roc_auc_ovr", "neg_brier_score", "balanced_accuracy"]
)
def test_scikit_learn_scorers_agree_on_labels_in_any_order(est, scoring, three_classes):
    # scikit-learn's scorers take predict_proba's columns to be the sorted labels; with the
    # classes in their ordinal order instead, string labels scored 2.26 (neg_log_loss 1.21
    # on the codes) and roc_auc_ovr 0.49 (0.63) on statsmodels' fair data
    X, y = three_classes
    order = ["low", "mid", "high"]
    on_codes = cross_val_score(clone(est), X, y, scoring=scoring, cv=3)
    on_labels = cross_val_score(
        clone(est).set_params(categories=order), X, np.array(order)[y], scoring=scoring, cv=3
    )
    np.testing.assert_allclose(on_labels, on_codes, rtol=1e-6, atol=1e-9)


def test_numeric_labels_sort_numerically_and_booleans_false_first(three_classes):
    X, y = three_classes
    fitted = ProportionalOddsClassifier().fit(X, np.array([10, 2, 33])[y])
    np.testing.assert_array_equal(fitted.classes_, [2, 10, 33])
    binary = ProportionalOddsClassifier().fit(X, y > 0)
    np.testing.assert_array_equal(binary.classes_, [False, True])


@pytest.mark.parametrize("est", ORDINAL, ids=ids)
def test_sklearn_class_consistency_checks_pass_with_ordered_labels(est):
    # scikit-learn's check_classifiers_classes feeds unordered string labels, which an
    # ordinal classifier rejects; its core, check_classifiers_predictions, is run here on
    # labels whose order is known (scikit-learn gives its own classifiers whose labels carry
    # meaning, e.g. LabelPropagation, numeric labels in that check).
    from sklearn.datasets import make_blobs
    from sklearn.preprocessing import StandardScaler
    from sklearn.utils import shuffle

    X, y = make_blobs(n_samples=30, random_state=0, cluster_std=0.1)
    X, y = shuffle(X, y, random_state=7)
    X = StandardScaler().fit_transform(X)
    name = type(est).__name__
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # tiny folds of PRESTOClassifierCV
        check_classifiers_predictions(X, y, name, est)
        check_classifiers_predictions(X[y != 2], np.array([-1, 1])[y[y != 2]], name, est)
        names = np.array(["one", "three", "two"])  # in the sorted order the check expects
        for labels in (names[y], names[y].astype(object)):
            check_classifiers_predictions(X, labels, name, clone(est).set_params(categories=names))


# -- 3. degenerate and extreme inputs, parameter validation -----------------------------------
@pytest.mark.parametrize("make_X", [np.ones_like, np.zeros_like], ids=["constant", "zero"])
def test_cv_copes_with_features_that_carry_nothing(make_X, data):
    X, y = data
    Xc = make_X(X)
    cv = PRESTOClassifierCV(alphas=4, cv=3).fit(Xc, y)
    resolution = np.finfo(np.float64).resolution
    np.testing.assert_array_equal(cv.alphas_, np.full(4, resolution))  # as LassoCV's grid
    np.testing.assert_array_equal(cv.coef_, 0)
    single = PRESTOClassifier().fit(Xc, y)
    np.testing.assert_allclose(cv.predict_proba(Xc), single.predict_proba(Xc), atol=1e-8)


@pytest.mark.parametrize("est", ORDINAL, ids=ids)
def test_huge_features_are_standardized_without_overflow(est, data):
    X, y = data
    reference = clone(est).fit(X, y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", RuntimeWarning)
        huge = clone(est).fit(X * 1e300, y)
        proba = huge.predict_proba(X * 1e300)
    # standardizing makes the fit scale-invariant
    np.testing.assert_allclose(proba, reference.predict_proba(X), atol=1e-6)


@pytest.mark.parametrize(
    "alphas", [[np.nan, 0.1], [np.inf], [0.1, -0.1], [], [[0.1, 0.2]], ["a"]], ids=repr
)
def test_cv_rejects_bad_alpha_grids(alphas, data):
    X, y = data
    with pytest.raises(ValueError, match="alphas must be"):
        PRESTOClassifierCV(alphas=alphas, cv=3).fit(X, y)


@pytest.mark.parametrize("est", [*ORDINAL, AggregateLogisticRegression()], ids=ids)
def test_max_iter_must_be_an_integer(est, data):
    X, y = _binary(data)
    with pytest.raises(ValueError, match="'max_iter' parameter .* must be an int"):
        clone(est).set_params(max_iter=1.5).fit(X, y)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_samples": 0}, "n_samples"),
        ({"n_features": 0}, "n_features"),
        ({"sparsity": 1.5}, "sparsity"),
        ({"effect": np.inf}, "effect"),
        ({"effect": -1.0}, "effect"),
        ({"setting": "mixed"}, "setting"),
        ({"random_state": "seed"}, "random_state"),
        ({"intercepts": (0.0, np.nan)}, "finite, increasing"),
        ({"intercepts": (0.0, np.inf)}, "finite, increasing"),
        ({"intercepts": ()}, "non-empty"),
    ],
)
def test_make_presto_data_validates_its_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_presto_data(**kwargs)


def test_make_presto_data_gives_up_when_no_row_can_be_ordered():
    # 40 thresholds 1e-9 apart with dense unit slopes: a draw is ordered with odds ~2^-40
    with pytest.raises(ValueError, match="ordered true predictors"):
        make_presto_data(n_samples=1, intercepts=np.arange(41) * 1e-9, setting="dense", effect=1.0)


def test_plot_coefficient_path_validates_its_arguments(data):
    pytest.importorskip("matplotlib")
    X, y = data
    with pytest.raises(ValueError, match="model"):
        plot_coefficient_path(PRESTOClassifier().fit(X, y))
    with pytest.raises(NotFittedError):
        plot_coefficient_path(PRESTOClassifierCV())
    model = PRESTOClassifierCV(alphas=3, cv=3).fit(X, y)
    for threshold in (3, -4):
        with pytest.raises(ValueError, match="threshold must index"):
            plot_coefficient_path(model, threshold=threshold)
    with pytest.raises(ValueError, match="threshold"):
        plot_coefficient_path(model, threshold=1.5)
    with pytest.raises(ValueError, match="ax"):
        plot_coefficient_path(model, ax="axes")


@pytest.mark.parametrize("weight", [1e-320, 1e300], ids=["tiny", "huge"])
@pytest.mark.parametrize("est", ORDINAL[:2], ids=ids)
def test_extreme_sample_weights_equal_unit_weights(est, weight, data):
    X, y = data
    reference = clone(est).fit(X, y)
    scaled = clone(est).fit(X, y, sample_weight=np.full(len(y), weight))
    np.testing.assert_allclose(scaled.predict_proba(X), reference.predict_proba(X), atol=1e-6)


# -- 4. the boundary in front of the numba kernels --------------------------------------------
def _kernel_args():
    E = np.array([[-1.0, 0.5], [0.0, 2.0], [1.0, 1.5]])
    return E, np.array([0, 1, 2]), np.ones(3), LINKS["logit"], np.empty((3, 2))


def test_kernel_boundary_accepts_valid_input():
    E, codes, w, link, G = _kernel_args()
    value = nll_and_gradient(E, codes, w, link, G)
    reference = 3 * cumulative_link_nll(np.zeros(2), np.eye(2), E, codes, "logit")
    assert value == pytest.approx(reference, rel=1e-12) and np.all(np.isfinite(G))
    proba = class_probabilities(E, link)
    np.testing.assert_allclose(proba.sum(axis=1), 1)


@pytest.mark.parametrize(
    "change, match",
    [
        (lambda E, c, w, link, G: (np.where(E > 1, np.nan, E), c, w, link, G), "NaN or inf"),
        (lambda E, c, w, link, G: (np.where(E > 1, np.inf, E), c, w, link, G), "NaN or inf"),
        (lambda E, c, w, link, G: (E[:, 0], c, w, link, G), "2-D"),
        (lambda E, c, w, link, G: (E[:, :0], c, w, link, G[:, :0]), "at least one column"),
        (lambda E, c, w, link, G: (E, c - 1, w, link, G), r"codes must lie in 0\.\.2"),
        (lambda E, c, w, link, G: (E, c + 1, w, link, G), r"codes must lie in 0\.\.2"),
        (lambda E, c, w, link, G: (E, c[:2], w, link, G), "length 3"),
        (lambda E, c, w, link, G: (E, c.astype(float), w, link, G), "integer"),
        (lambda E, c, w, link, G: (E, c, -w, link, G), "non-negative"),
        (lambda E, c, w, link, G: (E, c, w * np.nan, link, G), "finite"),
        (lambda E, c, w, link, G: (E, c, w[:2], link, G), "weight"),
        (lambda E, c, w, link, G: (E, c, w, 7, G), "link"),
        (lambda E, c, w, link, G: (E, c, w, "logit", G), "link"),
        (lambda E, c, w, link, G: (E, c, w, link, G[:2]), "G must be"),
        (lambda E, c, w, link, G: (E, c, w, link, G.astype(np.float32)), "G must be"),
    ],
)
def test_likelihood_kernel_boundary_rejects_bad_input(change, match):
    with pytest.raises(ValueError, match=match):
        nll_and_gradient(*change(*_kernel_args()))


@pytest.mark.parametrize("barrier", [np.nan, np.inf, -1.0])
def test_likelihood_kernel_boundary_rejects_bad_barrier(barrier):
    with pytest.raises(ValueError, match="barrier"):
        nll_and_gradient(*_kernel_args(), barrier=barrier)


def test_probability_kernel_boundary_rejects_bad_input():
    E, _, _, link, _ = _kernel_args()
    with pytest.raises(ValueError, match="NaN or inf"):
        class_probabilities(np.where(E > 1, np.nan, E), link)
    with pytest.raises(ValueError, match="out must be"):
        class_probabilities(E, link, np.empty((3, 2)))
    with pytest.raises(ValueError, match="link"):
        class_probabilities(E, 3)


def test_infinite_predictors_are_limits_and_nan_is_an_error():
    eta = np.array([[-np.inf, 0.0, np.inf], [np.inf, np.inf, np.inf], [-1.0, 0.0, 1.0]])
    proba = probabilities_from_predictors(eta, "cloglog")
    np.testing.assert_allclose(proba[0], [0, F := 1 - np.exp(-1.0), 1 - F, 0], atol=1e-15)
    np.testing.assert_array_equal(proba[1], [1, 0, 0, 0])
    with pytest.raises(ValueError, match="NaN"):
        probabilities_from_predictors(np.array([[np.nan, 0.0]]), "logit")


def test_cloglog_gradient_stays_finite_far_in_the_tail():
    # exp(x) * exp(-exp(x)) is inf * 0 = NaN for x > 709; the density is exp(x - e^x)
    G = np.empty((1, 2))
    value = nll_and_gradient(np.array([[3.0, 800.0]]), np.array([1]), np.ones(1), 2, G)
    assert value == pytest.approx(np.exp(3.0), rel=1e-12)  # -log(F(800) - F(3)) = e^3
    assert np.all(np.isfinite(G))
    assert G[0, 1] == 0.0


# -- 5. non-finite hyper-parameters -----------------------------------------------------------
NON_FINITE = [
    (est, param, value)
    for est in [*ORDINAL, AggregateLogisticRegression()]
    for param in ("alpha", "tol", "alpha_min_ratio", "rho")
    if param in est.get_params()
    for value in (np.inf, np.nan)
]


@pytest.mark.parametrize(
    "est, param, value", NON_FINITE, ids=lambda v: ids(v) if hasattr(v, "fit") else str(v)
)
def test_non_finite_hyper_parameters_are_rejected(est, param, value, data):
    X, y = _binary(data)
    with pytest.raises(ValueError, match=f"'{param}' parameter"):
        clone(est).set_params(**{param: value}).fit(X, y)
