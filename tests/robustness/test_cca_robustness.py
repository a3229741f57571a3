"""Robustness of the cross-decomposition family (issue 12): defaults, bounds, boundaries.

CCA / StochasticCCA at default parameters pass scikit-learn's estimator checks
(``n_components=None`` resolves to what the data allow), the public loss and data
generator validate their parameters, the numba epoch kernel sits behind a
Python-side boundary, failures use the shared convergence wording, and
``set_output(transform="pandas")`` works.
"""

import warnings

import numpy as np
import pytest
from instance_params import expected_failed_checks
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning, NotFittedError
from sklearn.utils._param_validation import InvalidParameterError
from sklearn.utils.estimator_checks import parametrize_with_checks
from sklearn.utils.validation import check_is_fitted

from sklearn_losses.cross_decomposition import (
    CCA,
    StochasticCCA,
    eckart_young_gradient,
    eckart_young_loss,
)
from sklearn_losses.cross_decomposition._kernels import ey_epoch
from sklearn_losses.datasets import make_multiview
from sklearn_losses.utils._convergence import DivergenceError

ESTIMATORS = [CCA, StochasticCCA]


@pytest.fixture(scope="module")
def views():
    """Shared by the module's tests: read-only, so no test can change it for the next."""
    X, Y = make_multiview(400, (6, 4), correlations=(0.9, 0.5), random_state=0)
    X.setflags(write=False)
    Y.setflags(write=False)
    return X, Y


def _make(Est, **params):
    """An instance, seeded when the estimator is stochastic."""
    return Est(**params, **({"random_state": 0} if Est is StochasticCCA else {}))


def _fit_quietly(est, X, Y):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return est.fit(X, Y)


# -- 1. scikit-learn's checks at DEFAULT parameters ------------------------------------
@parametrize_with_checks([CCA(), StochasticCCA()], expected_failed_checks=expected_failed_checks)
def test_default_parameters_pass_sklearn_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # 30 epochs on tiny data
        check(estimator)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_n_components_none_takes_what_the_data_allow(Est, views):
    X, Y = views
    est = _fit_quietly(Est(), X, Y)
    assert est.n_components is None  # the parameter is untouched
    assert est.n_components_ == 4  # min(6, 4, 399)
    assert est.transform(X).shape == (len(X), 4)
    assert est.x_weights_.shape == (6, 4) and est.y_weights_.shape == (4, 4)
    assert len(est.get_feature_names_out()) == 4
    assert _fit_quietly(Est(), X, Y[:, 0]).n_components_ == 1  # 1-D y: one column
    with (
        pytest.warns(UserWarning, match="rank deficient")
        if Est is CCA
        else warnings.catch_warnings()
    ):
        assert _fit_quietly(Est(), X[:3], Y[:3]).n_components_ == 2  # n_samples - 1
    # the resolved value is used everywhere, e.g. by inverse_transform
    assert est.inverse_transform(est.transform(X)).shape == X.shape


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_explicit_too_large_n_components_is_a_clear_error(Est, views):
    X, Y = views
    with pytest.raises(ValueError, match=r"n_components=5 must be <= min\(n_features_X=6"):
        Est(n_components=5).fit(X, Y)
    with pytest.raises(ValueError, match="n_components=2 must be <="):
        Est(n_components=2).fit(X, Y[:, 0])
    with pytest.raises(InvalidParameterError):
        Est(n_components=0).fit(X, Y)


def test_cca_none_is_capped_by_rank_at_zero_regularization(views, rng):
    X, Y = views
    Xd = np.column_stack([X[:, :2], X[:, :2] @ rng.normal(size=(2, 3))])  # rank 2 of 5
    with pytest.warns(UserWarning, match="rank deficient"):
        cca = CCA().fit(Xd, Y)
    assert cca.n_components_ == 2
    assert np.all(cca.canonical_correlations_ > 0)  # no dead (zero) component
    assert CCA(regularization=0.5).fit(Xd, Y).n_components_ == 4


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_components_a_rank_deficient_view_cannot_carry_are_zero_not_nan(Est, views):
    """An explicit n_components above a view's rank: predict used to return all NaN."""
    X, Y = views
    Xc = np.column_stack([X[:, :2], np.ones(len(X))])  # rank 2 after centring
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        est = _make(Est, n_components=3).fit(Xc, Y)
    for attribute in ("x_weights_", "x_loadings_", "coef_", "canonical_correlations_"):
        assert np.all(np.isfinite(getattr(est, attribute))), attribute
    assert np.all(np.isfinite(est.predict(Xc)))
    assert np.all(np.isfinite(est.transform(Xc)))
    assert est.canonical_correlations_[2] == pytest.approx(0.0, abs=1e-8)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_predict_transform_score_leave_the_estimator_unchanged(Est, views):
    """check_dict_unchanged, on the family's own methods (score and transform with Y too)."""
    X, Y = views
    est = _fit_quietly(_make(Est), X, Y)
    before = {
        key: (value.copy() if isinstance(value, np.ndarray) else value)
        for key, value in vars(est).items()
    }
    est.predict(X)
    est.transform(X)
    est.transform(X, Y)
    est.score(X, Y)
    assert vars(est).keys() == before.keys()
    for key, value in before.items():
        if isinstance(value, np.ndarray):
            np.testing.assert_array_equal(getattr(est, key), value)


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_transform_and_inverse_transform_check_shapes(Est, views):
    X, Y = views
    est = _fit_quietly(Est(n_components=2), X, Y)
    with pytest.raises(ValueError, match="Y has 3 columns"):
        est.transform(X, Y[:, :3])
    with pytest.raises(ValueError, match="X has 5 features"):
        est.transform(X[:, :5])
    with pytest.raises(ValueError, match="inverse_transform expects the 2 scores"):
        est.inverse_transform(np.ones((3, 3)))


# -- 2. make_multiview bounds ---------------------------------------------------------
@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        ({"condition_number": -1}, InvalidParameterError, "condition_number"),
        ({"condition_number": 0.5}, InvalidParameterError, "condition_number"),
        ({"condition_number": np.inf}, InvalidParameterError, "condition_number"),
        ({"condition_number": np.nan}, InvalidParameterError, "condition_number"),
        ({"n_samples": 0}, InvalidParameterError, "n_samples"),
        ({"n_samples": 2.5}, InvalidParameterError, "n_samples"),
        ({"n_features": 5}, InvalidParameterError, "n_features"),
        ({"n_features": (3,)}, ValueError, "pair of positive integers"),
        ({"n_features": (0, 3)}, ValueError, "pair of positive integers"),
        ({"n_features": (2.5, 3)}, ValueError, "pair of positive integers"),
        ({"n_features": (1, 3)}, ValueError, r"at least len\(correlations\) = 2 features"),
        ({"correlations": ()}, ValueError, "non-empty"),
        ({"correlations": (0.5, 1.0)}, ValueError, r"\[0, 1\)"),
        ({"correlations": (-0.1,)}, ValueError, r"\[0, 1\)"),
        ({"correlations": (np.nan,)}, ValueError, r"\[0, 1\)"),
        ({"correlations": [[0.5]]}, ValueError, "1-D"),
        ({"correlations": 0.5}, InvalidParameterError, "correlations"),
        ({"nonlinear": "yes"}, InvalidParameterError, "nonlinear"),
        ({"nonlinear": True, "n_samples": 1}, ValueError, "n_samples >= 2"),
        ({"random_state": "seed"}, InvalidParameterError, "random_state"),
    ],
)
def test_make_multiview_rejects_invalid_parameters(kwargs, error, match):
    params = {"n_samples": 50, "n_features": (4, 3), "correlations": (0.8, 0.4), **kwargs}
    with pytest.raises(error, match=match):
        make_multiview(**params)


def test_make_multiview_valid_edges_are_finite():
    X, Y = make_multiview(1, (2, 2), correlations=(0.0,), random_state=0)
    assert X.shape == (1, 2) and np.all(np.isfinite(X)) and np.all(np.isfinite(Y))
    X, Y = make_multiview(
        np.int64(30),
        np.array([3, 2]),
        correlations=np.array([0.5]),
        condition_number=1e6,
        random_state=0,
    )
    assert X.shape == (30, 3) and Y.shape == (30, 2)
    assert np.all(np.isfinite(X)) and np.all(np.isfinite(Y))


# -- 3. eckart_young_loss / eckart_young_gradient bounds ------------------------------
LOSS_FUNCTIONS = [eckart_young_loss, eckart_young_gradient]


def _loss_args(rng, n=20, p=3, q=2, k=2):
    return (
        rng.normal(size=(n, p)),
        rng.normal(size=(n, q)),
        rng.normal(size=(p, k)),
        rng.normal(size=(q, k)),
    )


@pytest.mark.parametrize("func", LOSS_FUNCTIONS)
@pytest.mark.parametrize("regularization", [2, -0.1, 1.5, np.nan, np.inf, "0.5"])
def test_loss_rejects_regularization_outside_unit_interval(func, regularization, rng):
    with pytest.raises(InvalidParameterError, match="regularization"):
        func(*_loss_args(rng), regularization=regularization)


@pytest.mark.parametrize("func", LOSS_FUNCTIONS)
def test_loss_checks_shapes_and_values(func, rng):
    X, Y, Wx, Wy = _loss_args(rng)
    with pytest.raises(ValueError, match="same number of rows"):
        func(X, Y[:-1], Wx, Wy)
    with pytest.raises(ValueError, match=r"Wx must have shape \(n_features_X=3, K\)"):
        func(X, Y, Wx[:2], Wy)
    with pytest.raises(ValueError, match="same number of columns K"):
        func(X, Y, Wx, Wy[:, :1])
    with pytest.raises(ValueError, match="NaN"):
        func(np.where(X > 1, np.nan, X), Y, Wx, Wy)
    Wx_inf = Wx.copy()
    Wx_inf[0, 0] = np.inf
    with pytest.raises(ValueError, match="infinity"):
        func(X, Y, Wx_inf, Wy)
    with pytest.raises(ValueError, match="minimum of 2"):  # covariances divide by n - 1
        func(X[:1], Y[:1], Wx, Wy)
    with pytest.raises(ValueError, match="second_batch must hold"):
        func(X, Y, Wx, Wy, second_batch=(X[:, :2], Y))
    with pytest.raises(ValueError, match="pair"):
        func(X, Y, Wx, Wy, second_batch=(X, Y, X))
    with pytest.raises(InvalidParameterError, match="second_batch"):
        func(X, Y, Wx, Wy, second_batch=[X, Y])
    # lists are array-like, and the edges of [0, 1] are allowed
    for c in (0, 1):
        func(X.tolist(), Y, Wx, Wy, regularization=c, second_batch=(X[:5], Y[:5]))


# -- 4. the kernel boundary, divergence and convergence wording ------------------------
def _epoch_args(rng, n=12, p=3, q=2, k=2):
    X, Y = rng.normal(size=(n, p)), rng.normal(size=(n, q))
    Wx, Wy = 0.1 * rng.normal(size=(p, k)), 0.1 * rng.normal(size=(q, k))
    return [X, Y, Wx, Wy, rng.permutation(n), rng.permutation(n), 4, 0.01, 0.0, True]


@pytest.mark.parametrize(
    "index, value, match",
    [
        (0, lambda a: np.ascontiguousarray(a[:, :2]), "do not match"),  # X loses a feature
        (1, lambda a: a[:-1], "rows"),
        (2, lambda a: np.ascontiguousarray(a[:, :1]), "do not match"),
        (2, lambda a: np.asfortranarray(np.column_stack([a, a])), "C-contiguous"),
        (0, lambda a: a.astype(np.float32), "float64"),
        (4, lambda a: a + 1, r"outside \[0, 12\)"),
        (5, lambda a: -a, r"outside \[0, 12\)"),
        (4, lambda a: a[:-1], "length 12"),
        (4, lambda a: a.astype(float), "integer"),
        (6, lambda a: 1, r"batch_size must be an integer in \[2, 12\]"),
        (6, lambda a: 13, r"batch_size must be an integer in \[2, 12\]"),
        (7, lambda a: np.inf, "lr must be finite"),
        (7, lambda a: 0.0, "lr must be finite and positive"),
        (8, lambda a: 1.5, r"c must be in \[0, 1\]"),
        (8, lambda a: np.nan, r"c must be in \[0, 1\]"),
        (0, lambda a: np.where(a > 1, np.nan, a), "finite"),
        (3, lambda a: a * np.inf, "finite"),
    ],
)
def test_kernel_boundary_rejects_what_the_kernel_assumes(index, value, match, rng):
    args = _epoch_args(rng)
    args[index] = value(args[index])
    before = [a.copy() for a in args[2:4]]
    with pytest.raises(ValueError, match=match):
        ey_epoch(*args)
    for a, b in zip(args[2:4], before):  # nothing was written
        if a.shape == b.shape:
            np.testing.assert_array_equal(a, b)


def test_kernel_boundary_accepts_a_valid_epoch_and_readonly_weights_are_refused(rng):
    args = _epoch_args(rng)
    Wx0 = args[2].copy()
    loss = ey_epoch(*args)
    assert np.isfinite(loss) and not np.array_equal(args[2], Wx0)
    args[2].flags.writeable = False
    with pytest.raises(ValueError, match="writeable"):
        ey_epoch(*args)


@pytest.mark.parametrize(
    "params",
    [
        {"learning_rate": np.inf},
        {"learning_rate": np.nan},
        {"learning_rate": 0.0},
        {"regularization": np.nan},
        {"regularization": np.inf},
        {"tol": np.inf},
        {"tol": np.nan},
        {"batch_size": 1},
        {"max_iter": 0},
    ],
)
def test_stochastic_rejects_non_finite_hyper_parameters(params, views):
    X, Y = views
    with pytest.raises(InvalidParameterError):
        StochasticCCA(**params).fit(X, Y)
    with pytest.raises(InvalidParameterError):
        StochasticCCA(**params).partial_fit(X, Y)


@pytest.mark.parametrize("regularization", [np.nan, np.inf, -0.5, 1.01])
def test_cca_rejects_regularization_outside_unit_interval(regularization, views):
    with pytest.raises(InvalidParameterError, match="regularization"):
        CCA(regularization=regularization).fit(*views)


def test_divergence_raises_the_shared_error_and_leaves_the_estimator_unfitted(views):
    X, Y = views
    sgd = StochasticCCA(n_components=2, max_iter=5, random_state=0)
    _fit_quietly(sgd, X, Y)
    with pytest.raises(DivergenceError, match="StochasticCCA diverged.*lower eta0"):
        sgd.set_params(eta0=1e4).fit(X, Y)
    assert isinstance(DivergenceError(), ValueError)  # a failed fit for searches
    with pytest.raises(NotFittedError):
        check_is_fitted(sgd)
    # partial_fit does not continue from a failed fit: it starts afresh
    sgd.set_params(eta0="auto").partial_fit(X, Y)
    assert sgd.n_iter_ == 1
    with pytest.raises(DivergenceError, match="diverged"):
        clone(sgd).set_params(eta0=1e4, batch_size=10).partial_fit(X, Y)


def test_convergence_warning_uses_the_shared_wording(views):
    X, Y = views
    with pytest.warns(ConvergenceWarning, match="did not converge within max_iter=1 epochs"):
        StochasticCCA(n_components=2, max_iter=1, random_state=0).fit(X, Y)
    with warnings.catch_warnings():
        warnings.simplefilter("error", ConvergenceWarning)
        StochasticCCA(n_components=2, max_iter=1, tol=None, random_state=0).fit(X, Y)
        StochasticCCA(n_components=2, random_state=0).partial_fit(X, Y)  # one epoch by design


def test_partial_fit_checks_the_fitted_state_and_keeps_it_on_error(views):
    X, Y = views
    sgd = StochasticCCA(n_components=2, batch_size=50, random_state=0)
    sgd.partial_fit(X[:200], Y[:200])
    state = {
        k: (v.copy() if isinstance(v, np.ndarray) else v)
        for k, v in vars(sgd).items()
        if k.endswith("_")
    }
    sums = [s.copy() for s in sgd._sums]
    bad_calls = [
        ((X[200:, :5], Y[200:]), "X has 5 features, but StochasticCCA is expecting 6"),
        ((X[200:], Y[200:, :3]), "Y has 3 columns, but StochasticCCA was fitted with 4"),
        ((X[200:202], Y[200:202]), r"at least n_components_ \+ 1 = 3 rows"),
        ((X[200:], Y[200:-1]), "same number of rows"),
        ((np.full((10, 6), 1e300), Y[:10]), "too large to standardize"),
    ]
    for args, match in bad_calls:
        with pytest.raises(ValueError, match=match):
            sgd.partial_fit(*args)
        for key, value in state.items():
            np.testing.assert_array_equal(getattr(sgd, key), value, err_msg=key)
        for s, s0 in zip(sgd._sums, sums):
            np.testing.assert_array_equal(s, s0)
    sgd.partial_fit(X[200:], Y[200:])  # and it continues
    assert sgd.n_iter_ == 2


@pytest.mark.parametrize("Est", ESTIMATORS)
def test_finite_input_that_overflows_when_standardized_is_a_clear_error(Est, views):
    X, Y = views
    with pytest.raises(ValueError, match="too large to standardize"):
        Est(n_components=1).fit(np.full_like(X, 1e300) * np.sign(X), Y)
    with pytest.raises(ValueError, match="overflow"):
        CCA(n_components=1, scale=False).fit(X * 1e200, Y)


# -- 5. set_output(transform="pandas") ------------------------------------------------
@pytest.mark.parametrize("Est", ESTIMATORS)
def test_set_output_pandas(Est, views):
    pd = pytest.importorskip("pandas")
    X, Y = views
    prefix = Est.__name__.lower()
    est = _fit_quietly(_make(Est, n_components=2).set_output(transform="pandas"), X, Y)
    scores = est.transform(X)
    assert isinstance(scores, pd.DataFrame)
    assert list(scores.columns) == [f"{prefix}0", f"{prefix}1"]
    plain = _fit_quietly(clone(est).set_output(transform="default"), X, Y).transform(X)
    np.testing.assert_allclose(scores.to_numpy(), plain)
    # a DataFrame X keeps its index; with Y the X scores come first, wrapped
    Xdf = pd.DataFrame(X, columns=[f"f{i}" for i in range(6)], index=np.arange(len(X)) + 100)
    est = _fit_quietly(clone(est), Xdf, Y)
    x_scores, y_scores = est.transform(Xdf, Y)
    assert isinstance(x_scores, pd.DataFrame) and list(x_scores.index) == list(Xdf.index)
    assert isinstance(y_scores, np.ndarray) and y_scores.shape == (len(X), 2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        assert isinstance(est.fit_transform(Xdf, Y)[0], pd.DataFrame)


def test_cca_set_output_pandas_default_components(views):
    pd = pytest.importorskip("pandas")
    X, Y = views
    out = CCA().set_output(transform="pandas").fit(X, Y).transform(X)
    assert isinstance(out, pd.DataFrame)
    assert list(out.columns) == ["cca0", "cca1", "cca2", "cca3"]
