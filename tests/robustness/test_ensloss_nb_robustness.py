"""Robustness of EnsLossClassifier, its kernels and the naive Bayes family (issue 12).

Inputs that used to kill the interpreter (SIGSEGV in the numba kernels or in
scipy's sparse routines) run in a fresh interpreter, so a regression fails these
tests instead of taking pytest down: each script runs its cases one after the
other, printing one JSON line per finished case, and the tests read those lines.
"""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_iris, make_classification
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

import sklearn_losses
from sklearn_losses.datasets import bayes_error, make_gaussian_mixture
from sklearn_losses.ensloss import EnsLossClassifier, calibrated_loss_derivatives
from sklearn_losses.naive_bayes import (
    SharedVarianceGaussianNB,
    compare_learning_curves,
    fit_rate_scale,
    nb_assumption_diagnostics,
    theoretical_rate,
)

# -- running cases in a fresh interpreter ----------------------------------------------

_RUNNER = """
import json, sys, traceback
import numpy as np
import scipy.sparse as sp
from sklearn.datasets import make_classification

X, y = make_classification(300, 8, n_informative=5, random_state=0)
X3, y3 = make_classification(300, 8, n_informative=5, n_classes=3, random_state=0)

def malformed(kind, fmt="csr"):
    A = sp.csr_matrix(X) if fmt == "csr" else sp.csc_matrix(X) if fmt == "csc" else sp.coo_matrix(X)
    if fmt == "coo":
        A.row[5] = 10**6
    elif kind == "index_too_large":
        A.indices[5] = 1000
    elif kind == "negative_index":
        A.indices[5] = -3
    elif kind == "indptr_beyond_nnz":
        A.indptr[3] = 10**6
    elif kind == "indptr_decreasing":
        A.indptr[3] = 0
    elif kind == "indptr_too_short":
        A.indptr = A.indptr[:-5]
    return A

CASES = {}
def case(f):
    CASES[f.__name__] = f
    return f

%s

for name, f in CASES.items():
    print("START", name, file=sys.stderr, flush=True)  # the last START names a crash
    try:
        result = {"outcome": "ok", "value": f()}
    except Exception as e:
        result = {"outcome": type(e).__name__, "message": str(e),
                  "mro": [c.__name__ for c in type(e).__mro__]}
    print(json.dumps({"case": name, **result}, default=str), flush=True)
"""


def _run_cases(cases):
    """Run the ``@case`` functions of ``cases`` in a fresh interpreter; their results by name."""
    root = str(Path(sklearn_losses.__file__).resolve().parents[1])
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([root, os.environ.get("PYTHONPATH", "")])}
    script = _RUNNER % textwrap.dedent(cases)
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=env, timeout=900
    )
    assert run.returncode == 0, (
        f"the interpreter died (return code {run.returncode}); last cases started:\n"
        + "\n".join(run.stderr.splitlines()[-15:])
    )
    results = {}
    for line in run.stdout.splitlines():
        if line.startswith("{"):
            record = json.loads(line)
            results[record.pop("case")] = record
    return results


def _assert_raised(result, error, match):
    assert result["outcome"] != "ok", f"no error; got {result.get('value')}"
    assert error in result["mro"], result
    assert match in result["message"], result["message"]


# -- EnsLossClassifier: crashes, divergence, warm start, partial_fit, sparse input -----

_ENSLOSS_CASES = """
from sklearn_losses.ensloss import EnsLossClassifier
from sklearn_losses.ensloss._kernels import _rank_above, derivatives_from_noise, sgd_epoch

@case
def huge_eta0_constant():
    EnsLossClassifier(eta0=1e30, learning_rate="constant", max_iter=5, random_state=0).fit(X, y)

@case
def eta0_1e10_cosine():
    return EnsLossClassifier(eta0=1e10, random_state=0).fit(X, y).coef_.tolist()

@case
def x_1e160():
    EnsLossClassifier(max_iter=5, random_state=0).fit(1e160 * X, y)

@case
def x_1e300_multiclass():
    EnsLossClassifier(max_iter=5, random_state=0).fit(1e300 * X3, y3)

@case
def x_1e160_sparse():
    EnsLossClassifier(max_iter=5, random_state=0).fit(sp.csr_matrix(1e160 * X), y)

@case
def huge_eta0_partial_fit():
    clf = EnsLossClassifier(eta0=1e30, learning_rate="constant")
    for _ in range(10):
        clf.partial_fit(X, y, classes=[0, 1])

def fixed_loss(loss):
    clf = EnsLossClassifier(loss, eta0=1e30, learning_rate="constant", max_iter=5, random_state=0)
    try:
        return bool(np.all(np.isfinite(clf.fit(X, y).coef_)))
    except ValueError as e:
        return type(e).__name__

for loss in ["logistic", "hinge", "squared_hinge", "exponential"]:
    CASES["fixed_" + loss] = lambda loss=loss: fixed_loss(loss)

def warm_refit(n_before, n_after, partial=False):
    clf = EnsLossClassifier(max_iter=3, warm_start=True, random_state=0)
    clf.fit(X[:, :n_before], y)
    before = clf.predict(X[:, :n_before])
    try:
        if partial:
            clf.partial_fit(X[:, :n_after], y)
        else:
            clf.fit(X[:, :n_after], y)
    except ValueError as e:
        # the failed refit leaves the previous fit usable
        assert clf.n_features_in_ == n_before and clf.coef_.shape[1] == n_before
        assert np.array_equal(clf.predict(X[:, :n_before]), before)
        raise
    return clf.coef_.shape

@case
def warm_start_fewer_features():
    return warm_refit(8, 3)

@case
def warm_start_more_features():
    return warm_refit(3, 8)

@case
def partial_fit_fewer_features():
    return warm_refit(8, 3, partial=True)

@case
def partial_fit_more_features():
    return warm_refit(3, 8, partial=True)

@case
def warm_start_same_features_continues():
    clf = EnsLossClassifier(max_iter=3, warm_start=True, random_state=0).fit(X, y)
    return clf.fit(X, y).coef_.shape

for kind in ["index_too_large", "negative_index", "indptr_beyond_nnz", "indptr_decreasing",
             "indptr_too_short"]:
    CASES["csr_fit_" + kind] = lambda kind=kind: EnsLossClassifier(max_iter=2).fit(
        malformed(kind), y)
    CASES["csr_partial_fit_" + kind] = lambda kind=kind: EnsLossClassifier().partial_fit(
        malformed(kind), y, classes=[0, 1])
    CASES["csr_predict_" + kind] = lambda kind=kind: EnsLossClassifier(max_iter=2).fit(
        X, y).predict(malformed(kind))

@case
def csc_fit_index_too_large():
    EnsLossClassifier(max_iter=2).fit(malformed("index_too_large", "csc"), y)

@case
def coo_fit_row_too_large():
    EnsLossClassifier(max_iter=2).fit(malformed(None, "coo"), y)

# the kernels themselves, called directly

@case
def rank_above_with_non_finite_margins():
    rng = np.random.default_rng(0)
    for trial in range(2000):
        n = int(rng.integers(1, 40))
        z = rng.normal(size=n)
        kind = rng.choice(5, size=n, p=[0.4, 0.25, 0.1, 0.1, 0.15])
        z[kind == 1], z[kind == 2], z[kind == 3], z[kind == 4] = np.nan, np.inf, -np.inf, 0.5
        for k in {0, n, int(rng.integers(0, n + 1))}:
            rest = _rank_above(z, k)
            assert len(set(rest.tolist())) == n - k and np.all((0 <= rest) & (rest < n))
            # NaN ranks last, as in np.sort
            np.testing.assert_array_equal(z[rest], np.sort(z)[k:])
        out = np.full(n, 123.0)
        derivatives_from_noise(z, rng.standard_normal(n), 0.0, out)
        assert np.all((out >= -1 - 1e-6) & (out <= 0)), (z, out)
    return "checked"

@case
def all_nan_margins():
    out = np.full(64, 123.0)
    derivatives_from_noise(np.full(64, np.nan), np.random.default_rng(1).standard_normal(64),
                           0.0, out)
    assert np.all(np.isfinite(out))
    return "finite"

def kernel(**overrides):
    n, d = X.shape
    args = dict(X=np.ascontiguousarray(X), data=np.empty(0), indices=np.empty(0, np.int64),
                indptr=np.empty(0, np.int64), sparse=False,
                Y=np.where(y == 1, 1.0, -1.0)[:, None], sample_weight=np.ones(n),
                coef=np.zeros((1, d)),
                intercept=np.zeros(1), coef_velocity=np.zeros((1, d)),
                intercept_velocity=np.zeros(1), order=np.arange(n, dtype=np.int64),
                batch_size=32, lr=0.1, alpha=1e-4, momentum=0.9, loss_code=0,
                boxcox_lambda=0.0, fit_intercept=True, max_grad_norm=np.inf,
                noise=np.random.default_rng(0).standard_normal((1, n)))
    args.update(overrides)
    sgd_epoch(**args)
    return args

@case
def kernel_guard_feature_mismatch():
    kernel(coef=np.zeros((1, 3)), coef_velocity=np.zeros((1, 3)))

@case
def kernel_guard_row_out_of_range():
    kernel(order=np.arange(1, X.shape[0] + 1, dtype=np.int64))

@case
def kernel_guard_short_noise():
    kernel(noise=np.zeros((1, 10)))

@case
def kernel_guard_short_sample_weight():
    kernel(sample_weight=np.ones(10))

@case
def kernel_guard_csr_column_out_of_range():
    A = sp.csr_matrix(X)
    indices = A.indices.astype(np.int64)
    indices[7] = 8
    kernel(X=np.empty((0, 0)), data=A.data, indices=indices,
           indptr=A.indptr.astype(np.int64), sparse=True)

@case
def kernel_non_finite_data_and_step():
    Xbad = X.copy()
    Xbad[::7, 2] = np.nan
    Xbad[::11, 3] = np.inf
    for loss_code in range(5):
        kernel(X=Xbad, loss_code=loss_code, max_grad_norm=10.0 if loss_code == 4 else np.inf)
        kernel(lr=1e300, loss_code=loss_code)
    return "no crash"
"""


@pytest.fixture(scope="module")
def ensloss_results():
    return _run_cases(_ENSLOSS_CASES)


@pytest.mark.parametrize(
    "case",
    [
        "huge_eta0_constant",
        "eta0_1e10_cosine",
        "x_1e160",
        "x_1e300_multiclass",
        "x_1e160_sparse",
        "huge_eta0_partial_fit",
    ],
)
def test_divergence_raises_instead_of_crashing(ensloss_results, case):
    result = ensloss_results[case]
    _assert_raised(result, "DivergenceError", "lower eta0 or scale the features")
    assert "ValueError" in result["mro"] and "FloatingPointError" in result["mro"]


@pytest.mark.parametrize("loss", ["logistic", "hinge", "squared_hinge", "exponential"])
def test_fixed_losses_with_a_huge_step_do_not_crash(ensloss_results, loss):
    # The exponential loss's clipped gradient keeps the iterates finite; the others diverge.
    result = ensloss_results["fixed_" + loss]
    assert result["outcome"] == "ok"
    assert result["value"] in (True, "DivergenceError")


@pytest.mark.parametrize(
    "case, match",
    [
        ("warm_start_fewer_features", "warm_start=True continues the previous fit"),
        ("warm_start_more_features", "warm_start=True continues the previous fit"),
        ("partial_fit_fewer_features", "X has 3 features, but EnsLossClassifier is expecting 8"),
        ("partial_fit_more_features", "X has 8 features, but EnsLossClassifier is expecting 3"),
    ],
)
def test_changed_feature_count_is_a_clear_error(ensloss_results, case, match):
    _assert_raised(ensloss_results[case], "ValueError", match)


def test_warm_start_with_the_same_features_still_continues(ensloss_results):
    assert ensloss_results["warm_start_same_features_continues"] == {
        "outcome": "ok",
        "value": [1, 8],
    }


@pytest.mark.parametrize("method", ["fit", "partial_fit", "predict"])
@pytest.mark.parametrize(
    "kind, match",
    [
        ("index_too_large", "column index lies outside [0, 8)"),
        ("negative_index", "column index lies outside [0, 8)"),
        ("indptr_beyond_nnz", "indptr must start at 0, be non-decreasing"),
        ("indptr_decreasing", "indptr must start at 0, be non-decreasing"),
        ("indptr_too_short", "indptr has 296 entries; expected 301"),
    ],
)
def test_malformed_csr_is_a_clear_error_for_ensloss(ensloss_results, method, kind, match):
    result = ensloss_results[f"csr_{method}_{kind}"]
    _assert_raised(result, "ValueError", "X is a malformed CSR sparse matrix")
    assert match in result["message"]


def test_malformed_csc_and_coo_are_rejected_before_conversion(ensloss_results):
    _assert_raised(
        ensloss_results["csc_fit_index_too_large"], "ValueError", "malformed CSC sparse matrix"
    )
    _assert_raised(ensloss_results["coo_fit_row_too_large"], "ValueError", "row index lies")


def test_ranking_never_hands_out_unset_indices(ensloss_results):
    assert ensloss_results["rank_above_with_non_finite_margins"]["value"] == "checked"
    assert ensloss_results["all_nan_margins"]["value"] == "finite"


@pytest.mark.parametrize(
    "case, match",
    [
        ("kernel_guard_feature_mismatch", "X and coef differ in their number of features"),
        ("kernel_guard_row_out_of_range", "order holds a row index out of range"),
        ("kernel_guard_short_noise", "noise needs one draw per problem"),
        ("kernel_guard_short_sample_weight", "sample_weight needs one entry per sample"),
        ("kernel_guard_csr_column_out_of_range", "CSR column index is out of range"),
    ],
)
def test_epoch_kernel_guards_its_indices(ensloss_results, case, match):
    _assert_raised(ensloss_results[case], "ValueError", match)


def test_epoch_kernel_survives_non_finite_data(ensloss_results):
    assert ensloss_results["kernel_non_finite_data_and_step"]["value"] == "no crash"


# -- SharedVarianceGaussianNB: sparse input --------------------------------------------

_NB_CASES = """
from sklearn_losses.naive_bayes import SharedVarianceGaussianNB

for kind in ["index_too_large", "negative_index", "indptr_beyond_nnz", "indptr_decreasing",
             "indptr_too_short"]:
    CASES["fit_" + kind] = lambda kind=kind: SharedVarianceGaussianNB().fit(malformed(kind), y)
    CASES["partial_fit_" + kind] = lambda kind=kind: SharedVarianceGaussianNB().partial_fit(
        malformed(kind), y, classes=[0, 1])
    for method in ["predict", "predict_proba", "decision_function"]:
        CASES[method + "_" + kind] = lambda kind=kind, method=method: getattr(
            SharedVarianceGaussianNB().fit(X, y), method)(malformed(kind))

@case
def fit_csc():
    SharedVarianceGaussianNB().fit(malformed("index_too_large", "csc"), y)

@case
def fit_coo():
    SharedVarianceGaussianNB().fit(malformed(None, "coo"), y)
"""


@pytest.fixture(scope="module")
def nb_results():
    return _run_cases(_NB_CASES)


@pytest.mark.parametrize(
    "method", ["fit", "partial_fit", "predict", "predict_proba", "decision_function"]
)
@pytest.mark.parametrize(
    "kind",
    [
        "index_too_large",
        "negative_index",
        "indptr_beyond_nnz",
        "indptr_decreasing",
        "indptr_too_short",
    ],
)
def test_malformed_csr_is_a_clear_error_for_naive_bayes(nb_results, method, kind):
    _assert_raised(nb_results[f"{method}_{kind}"], "ValueError", "malformed CSR sparse matrix")


def test_malformed_csc_and_coo_are_a_clear_error_for_naive_bayes(nb_results):
    _assert_raised(nb_results["fit_csc"], "ValueError", "malformed CSC sparse matrix")
    _assert_raised(nb_results["fit_coo"], "ValueError", "malformed COO sparse matrix")


# -- in process: no crash is possible here -----------------------------------------------


@pytest.fixture(scope="module")
def data():
    X, y = make_classification(300, 8, n_informative=5, random_state=0)
    return (X - X.mean(axis=0)) / X.std(axis=0), y


def test_well_formed_unusual_csr_is_accepted(data):
    # a duplicate entry (summed, as scipy does), unsorted indices and spare storage
    X, y = data
    A = sp.csr_matrix(X)
    k = A.indptr[1]
    indices = np.insert(A.indices, k, A.indices[0])
    values = np.insert(A.data, k, A.data[0] / 2)
    values[0] /= 2
    indptr = A.indptr.copy()
    indptr[1:] += 1
    row = slice(indptr[1], indptr[2])  # row 1, in reverse column order
    indices[row], values[row] = indices[row][::-1].copy(), values[row][::-1].copy()
    odd = sp.csr_matrix((values, indices, indptr), shape=X.shape)
    odd.data, odd.indices = np.append(odd.data, 1e6), np.append(odd.indices, 3)
    assert not odd.has_canonical_format and odd.indptr[-1] < odd.data.size
    np.testing.assert_allclose(odd.toarray(), X, rtol=1e-15)
    kw = {"max_iter": 3, "random_state": 0}
    ref = EnsLossClassifier(**kw).fit(X, y)
    np.testing.assert_allclose(EnsLossClassifier(**kw).fit(odd, y).coef_, ref.coef_, rtol=1e-12)
    nb = SharedVarianceGaussianNB().fit(odd, y)
    np.testing.assert_allclose(nb.coef_, SharedVarianceGaussianNB().fit(X, y).coef_, rtol=1e-12)
    assert odd.indptr[-1] < odd.data.size  # the caller's matrix is left as it was


def test_stable_large_steps_are_not_divergence(data):
    X, y = data
    for loss in ["ensloss", "logistic", "hinge"]:
        clf = EnsLossClassifier(loss, eta0=5.0, max_iter=10, random_state=0).fit(X, y)
        assert np.all(np.isfinite(clf.coef_)) and clf.score(X, y) > 0.7
    # badly scaled but finite data with a matching tiny coefficient scale
    tiny = EnsLossClassifier("logistic", eta0=1e-150, max_iter=3, random_state=0)
    tiny.fit(1e75 * X, y)
    assert np.all(np.isfinite(tiny.coef_))


def test_not_converged_warning_uses_the_shared_wording(data):
    X, y = data
    with pytest.warns(
        ConvergenceWarning,
        match=r"EnsLossClassifier did not converge within max_iter=3 epochs; raise max_iter",
    ):
        EnsLossClassifier(tol=1e-12, max_iter=3, random_state=0).fit(X, y)


@pytest.mark.parametrize(
    "param, value",
    [
        ("eta0", np.inf),
        ("eta0", np.nan),
        ("eta0", 0.0),
        ("alpha", np.inf),
        ("alpha", np.nan),
        ("momentum", np.nan),
        ("momentum", 1.0),
        ("boxcox_lambda", np.inf),
        ("boxcox_lambda", -np.inf),
        ("boxcox_lambda", np.nan),
        ("tol", np.inf),
        ("tol", np.nan),
    ],
)
def test_non_finite_hyper_parameters_are_rejected(data, param, value):
    X, y = data
    with pytest.raises(ValueError, match=f"'{param}' parameter of EnsLossClassifier"):
        EnsLossClassifier(**{param: value}).fit(X, y)
    with pytest.raises(ValueError, match=f"'{param}' parameter of EnsLossClassifier"):
        EnsLossClassifier(**{param: value}).partial_fit(X, y, classes=[0, 1])


@pytest.mark.parametrize("value", [np.inf, np.nan, -1.0])
def test_non_finite_var_smoothing_is_rejected(value):
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="'var_smoothing' parameter of SharedVarianceGaussianNB"):
        SharedVarianceGaussianNB(var_smoothing=value).fit(X, y)


@pytest.mark.parametrize("value", [np.inf, np.nan])
def test_generator_rejects_non_finite_boxcox_lambda(value):
    with pytest.raises(ValueError, match="'boxcox_lambda' parameter"):
        calibrated_loss_derivatives([0.0, 1.0], boxcox_lambda=value)


def test_failed_first_partial_fit_leaves_a_fresh_estimator(data):
    X, y = data
    clf = EnsLossClassifier(random_state=0)
    with pytest.raises(ValueError, match="1 class"):
        clf.partial_fit(X, y, classes=[0])
    clf.partial_fit(X, y, classes=[0, 1])  # a first call again, not a class mismatch
    assert clf.coef_.shape == (1, 8)
    nb = SharedVarianceGaussianNB()
    with pytest.raises(ValueError, match="at least 2 classes"):
        nb.partial_fit(X, y, classes=[0])
    with pytest.raises(ValueError, match="(?i)negative"):
        nb.partial_fit(X, y, classes=[0, 1], sample_weight=-np.ones(len(y)))
    nb.partial_fit(X, y, classes=[0, 1])
    np.testing.assert_allclose(nb.coef_, SharedVarianceGaussianNB().fit(X, y).coef_)


# -- parameter validation of the public functions -------------------------------------


def test_fit_rate_scale_with_mismatched_lengths_is_a_clear_error():
    with pytest.raises(ValueError, match=r"excess_errors has shape \(2,\); expected \(3,\)"):
        fit_rate_scale([10, 20, 40], [0.1, 0.2], 50)


def test_make_gaussian_mixture_needs_a_sample_per_class():
    with pytest.raises(ValueError, match="n_samples=2 is smaller than n_classes=3"):
        make_gaussian_mixture(2, 4, 3)
    X, y = make_gaussian_mixture(3, 4, 3, random_state=0)
    assert sorted(y.tolist()) == [0, 1, 2]


def _iris_curves(**kwargs):
    X, y = load_iris(return_X_y=True)
    args = {
        "estimators": {"nb": SharedVarianceGaussianNB()},
        "X": X,
        "y": y,
        "train_sizes": [10],
        **kwargs,
    }
    return compare_learning_curves(**args)


@pytest.mark.parametrize(
    "call, param",
    [
        (lambda: theoretical_rate([10, 20], 1), "n_features"),
        (lambda: theoretical_rate([10, 20], 5.5), "n_features"),
        (lambda: theoretical_rate([10, 20], 5, "svm"), "kind"),
        (lambda: theoretical_rate([10, 20], 5, scale=np.inf), "scale"),
        (lambda: theoretical_rate(10, 5), "train_sizes"),
        (lambda: fit_rate_scale([10, 20], [0.1, 0.1], 0), "n_features"),
        (lambda: fit_rate_scale([10, 20], [0.1, 0.1], 5, "svm"), "kind"),
        (lambda: fit_rate_scale([10, 20], 0.1, 5), "excess_errors"),
        (lambda: nb_assumption_diagnostics(*load_iris(return_X_y=True), var_smoothing=-1), "var_"),
        (
            lambda: nb_assumption_diagnostics(*load_iris(return_X_y=True), var_smoothing=np.inf),
            "var_",
        ),
        (lambda: nb_assumption_diagnostics("X", [0, 1]), "X"),
        (lambda: _iris_curves(estimators=[LogisticRegression()]), "estimators"),
        (lambda: _iris_curves(n_repeats=0), "n_repeats"),
        (lambda: _iris_curves(sampling="odd"), "sampling"),
        (lambda: _iris_curves(scaler="robust"), "scaler"),
        (lambda: _iris_curves(scaler=object()), "scaler"),
        (lambda: _iris_curves(scoring="auc"), "scoring"),
        (lambda: _iris_curves(stop_tol=-0.1), "stop_tol"),
        (lambda: _iris_curves(stop_tol=np.nan), "stop_tol"),
        (lambda: _iris_curves(n_jobs="all"), "n_jobs"),
        (lambda: _iris_curves(random_state="seed"), "random_state"),
        (lambda: _iris_curves(X_test="test"), "X_test"),
        (lambda: make_gaussian_mixture(0, 4), "n_samples"),
        (lambda: make_gaussian_mixture(10, 0), "n_features"),
        (lambda: make_gaussian_mixture(10, 4, 1), "n_classes"),
        (lambda: make_gaussian_mixture(2000, 4, 1025), "n_classes"),
        (lambda: make_gaussian_mixture(10, 4, mode="medium"), "mode"),
        (lambda: make_gaussian_mixture(10, 4, balanced="yes"), "balanced"),
        (lambda: make_gaussian_mixture(10, 4, random_state="seed"), "random_state"),
        (lambda: bayes_error(0), "n_features"),
        (lambda: bayes_error(4, 1), "n_classes"),
        (lambda: bayes_error(4, mode="medium"), "mode"),
        (lambda: bayes_error(4, method="closed_form"), "method"),
        (lambda: bayes_error(4, 3, n_samples=0), "n_samples"),
        (lambda: bayes_error(4, random_state="seed"), "random_state"),
    ],
)
def test_public_functions_validate_their_parameters(call, param):
    with pytest.raises(ValueError, match=f"The '{param}"):
        call()


def test_learning_curves_need_test_data_in_pairs():
    X, y = load_iris(return_X_y=True)
    with pytest.raises(ValueError, match="X_test and y_test must be given together"):
        _iris_curves(y_test=y[:10])
    with pytest.raises(ValueError, match="X_test has 3 features; X has 4"):
        _iris_curves(X_test=X[:20, :3], y_test=y[:20])
