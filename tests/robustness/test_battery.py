"""Hostile inputs for every public estimator, discovered (a future estimator gets them too).

Extreme magnitudes, a changed number of features on ``partial_fit`` / warm
start, non-finite hyper-parameters, malformed sparse matrices, inputs that must
not be mutated, and the same seed in a pool of threads.  An estimator may
refuse an input, but only with a ``ValueError`` (or a warning where
scikit-learn would warn), never with a crash, a numba or torch traceback, or
non-finite output in silence.
"""

import inspect
import re
import sys
import warnings
from concurrent.futures import ThreadPoolExecutor
from numbers import Real
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.base import clone, is_classifier

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from instance_params import make_instance  # noqa: E402

from sklearn_losses.utils import all_estimators  # noqa: E402

ESTIMATORS = dict(all_estimators())
# what numpy, scipy or scikit-learn say when a non-finite number reaches them from
# inside a fit: the input was finite, so these would be errors from deep inside
# (scikit-learn's "value too large for dtype('float32')" on the input is a clear refusal)
GENERIC_ERRORS = r"contains NaN|infinity(?! or a value too large)|infs or NaNs|non-finite values"
NAMES = sorted(ESTIMATORS)


def _task(est, n=120, seed=0):
    """(X, y, fit keyword arguments) of a small problem the estimator can learn."""
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 4))
    fit_params = {}
    if "bags" in inspect.signature(type(est).fit).parameters:
        fit_params["bags"] = np.arange(n) // 3
    if type(est).__module__.startswith("sklearn_losses.cross_decomposition"):
        y = np.column_stack([X[:, 0] + 0.3 * rng.standard_normal(n), rng.standard_normal(n)])
    elif is_classifier(est):
        score = X[:, 0] + 0.5 * X[:, 1] + 0.5 * rng.standard_normal(n)
        classes = 2 if "bags" in fit_params else 3
        y = np.digitize(score, np.quantile(score, np.linspace(0, 1, classes + 1)[1:-1]))
    else:
        y = X @ np.array([1.0, -2.0, 0.5, 0.0]) + 0.1 * rng.standard_normal(n)
    return X, y, fit_params


def _outputs(est, X):
    """What the fitted estimator says about X, as arrays."""
    outs = []
    for method in ("predict", "transform", "decision_function", "predict_proba"):
        if hasattr(est, method):
            try:
                out = getattr(est, method)(X)
            except AttributeError:  # e.g. predict_proba only for some losses
                continue
            outs.extend(out if isinstance(out, tuple) else [out])
    return [np.asarray(o) for o in outs]


def _instance(name, **params):
    est = make_instance(ESTIMATORS[name])
    if "device" in est.get_params():
        params.setdefault("device", "cpu")
    return est.set_params(**params)


def _random_state_params(est):
    return {"random_state": 0} if "random_state" in est.get_params() else {}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("scale", [1e-300, 1e300])
def test_extreme_magnitudes_fit_or_refuse_clearly(name, scale):
    est = _instance(name)
    est.set_params(**_random_state_params(est))
    X, y, fit_params = _task(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # convergence and scale warnings are allowed
        try:
            est.fit(X * scale, y, **fit_params)
        except ValueError as error:  # a refusal must say what is wrong, in our words
            assert not re.search(GENERIC_ERRORS, str(error)), f"{name}: {error}"
            return
        for out in _outputs(est, X * scale):
            if out.dtype.kind == "f":
                assert np.all(np.isfinite(out)), f"{name}: non-finite output at scale {scale}"


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(ESTIMATORS[n], "partial_fit")])
def test_partial_fit_with_another_number_of_features_is_refused(name):
    est = _instance(name)
    X, y, _ = _task(est)
    extra = {"classes": np.unique(y)} if is_classifier(est) else {}
    est.partial_fit(X, y, **extra)
    with pytest.raises(ValueError, match="features"):
        est.partial_fit(X[:, :3], y)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if "warm_start" in make_instance(ESTIMATORS[n]).get_params()]
)
def test_warm_start_with_another_number_of_features_refits_or_refuses(name):
    est = _instance(name, warm_start=True)
    X, y, fit_params = _task(est)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y, **fit_params)
        try:
            est.fit(X[:, :3], y, **fit_params)
        except ValueError as error:
            assert "feature" in str(error)
            return
    assert est.n_features_in_ == 3
    assert all(np.all(np.isfinite(o)) for o in _outputs(est, X[:, :3]) if o.dtype.kind == "f")


def _real_parameters(name):
    est = make_instance(ESTIMATORS[name])
    return [
        key
        for key, value in est.get_params().items()
        if isinstance(value, Real) and not isinstance(value, bool) and key != "verbose"
    ]


@pytest.mark.parametrize("name, parameter", [(n, p) for n in NAMES for p in _real_parameters(n)])
@pytest.mark.parametrize("value", [np.nan, np.inf])
def test_non_finite_hyper_parameters_are_refused(name, parameter, value):
    est = _instance(name, **{parameter: value})
    X, y, fit_params = _task(est)
    with pytest.raises(ValueError, match=parameter):
        est.fit(X, y, **fit_params)


@pytest.mark.parametrize(
    "name", [n for n in NAMES if make_instance(ESTIMATORS[n]).__sklearn_tags__().input_tags.sparse]
)
@pytest.mark.parametrize("defect", ["column index out of range", "decreasing indptr"])
def test_malformed_sparse_input_is_refused(name, defect):
    est = _instance(name)
    X, y, fit_params = _task(est)
    A = sp.csr_matrix(X)
    indices, indptr = A.indices.copy(), A.indptr.copy()
    if defect == "column index out of range":
        indices[5] = 4 + 1000
    else:
        indptr[3], indptr[4] = indptr[4], indptr[3]
    bad = sp.csr_matrix((A.data, indices, indptr), shape=A.shape)
    with pytest.raises(ValueError):
        est.fit(bad, y, **fit_params)
    good = clone(est).fit(A, y, **fit_params)
    with pytest.raises(ValueError):
        _outputs(good, bad)


@pytest.mark.parametrize("name", NAMES)
def test_inputs_are_not_mutated(name):
    est = _instance(name)
    est.set_params(**_random_state_params(est))
    X, y, fit_params = _task(est)
    copies = [X.copy(), y.copy(), *(np.copy(v) for v in fit_params.values())]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est.fit(X, y, **fit_params)
        _outputs(est, X)
    for before, after in zip(copies, [X, y, *fit_params.values()]):
        np.testing.assert_array_equal(before, after)


@pytest.mark.parametrize("name", NAMES)
def test_same_seed_same_result_in_a_pool_of_four_threads(name):
    est = _instance(name)
    est.set_params(**_random_state_params(est))
    X, y, fit_params = _task(est)

    def fit_and_describe(_):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _outputs(clone(est).fit(X, y, **fit_params), X)

    serial = fit_and_describe(None)
    with ThreadPoolExecutor(max_workers=4) as pool:
        for outputs in pool.map(fit_and_describe, range(4)):
            for a, b in zip(outputs, serial):
                np.testing.assert_array_equal(a, b)


def _public_functions():
    import importlib

    from sklearn_losses import FAMILIES

    modules = [f"sklearn_losses.{sub}" for sub, _ in FAMILIES.values()] + [
        "sklearn_losses.datasets"
    ]
    for module in map(importlib.import_module, modules):
        for name in module.__all__:
            obj = getattr(module, name)
            if inspect.isfunction(obj):
                yield pytest.param(obj, id=f"{module.__name__.split('.')[-1]}.{name}")


@pytest.mark.parametrize("func", list(_public_functions()))
def test_every_public_function_validates_its_parameters(func):
    from sklearn.utils._param_validation import InvalidParameterError

    assert hasattr(func, "__wrapped__"), f"{func.__name__} has no validate_params"
    junk = {name: object() for name in inspect.signature(func).parameters}
    if not junk:  # a function without parameters refuses any
        with pytest.raises(TypeError):
            func(unexpected=object())
        return
    with pytest.raises(InvalidParameterError, match="parameter of"):
        func(**junk)


@pytest.mark.parametrize("name", [n for n in NAMES if hasattr(ESTIMATORS[n], "transform")])
def test_every_transformer_outputs_pandas_on_request(name):
    pd = pytest.importorskip("pandas")
    est = _instance(name)
    est.set_params(**_random_state_params(est))
    X, y, fit_params = _task(est)
    frame = pd.DataFrame(X, columns=[f"f{j}" for j in range(X.shape[1])], index=X[:, 0] * 0 + 7)
    est.set_output(transform="pandas").fit(frame, y, **fit_params)
    out = est.transform(frame)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == list(est.get_feature_names_out())
    assert (out.index == frame.index).all()
