"""Marginal effects, the proportional-odds covariance, and the middle-rare-class warning.

Independent routes: central finite differences of ``predict_proba`` (the effects),
statsmodels' ``OrderedModel`` (the covariance, through the Jacobian of its threshold
parametrisation), a closed-form average effect written in statsmodels' parametrisation
and differentiated numerically (the delta method), a finite-difference Hessian of the
reference likelihood (the penalised covariance), and repeated rows (the weights).
"""

import warnings

import numpy as np
import pytest
from scipy.stats import logistic, norm

from sklearn_losses.datasets import make_presto_data
from sklearn_losses.ordinal import PRESTOClassifier, PRESTOClassifierCV, ProportionalOddsClassifier
from sklearn_losses.ordinal._loss import cumulative_link_nll

H = 1e-5  # finite-difference step in the features


@pytest.fixture(scope="module")
def data():
    X, y, _ = make_presto_data(
        n_samples=400, n_features=4, intercepts=(-1.0, 1.0, 3.0), random_state=1
    )
    # features of different scales and nonzero means: the original scale is the user's
    X = X * np.array([1.0, 10.0, 0.1, 3.0]) + np.array([2.0, -5.0, 0.3, 1.0])
    X.setflags(write=False)
    y.setflags(write=False)
    return X, y


def finite_difference_effects(est, X):
    """Central differences of predict_proba in each feature: (n, p, K)."""
    out = np.empty((X.shape[0], X.shape[1], len(est.classes_)))
    for j in range(X.shape[1]):
        up, down = X.copy(), X.copy()
        up[:, j] += H
        down[:, j] -= H
        out[:, j] = (est.predict_proba(up) - est.predict_proba(down)) / (2 * H)
    return out


def presto_crossing(data, crossing):
    """A PRESTO fit with clearly non-parallel slopes, and rows where its predictors cross."""
    X, y = data
    est = PRESTOClassifier(alpha=1e-4, crossing=crossing, scale=True).fit(X, y)
    spread = X - X.mean(axis=0)
    far = X.mean(axis=0) + 4 * spread[:80]  # far rows: some predictors cross there
    return est, np.vstack([X[:80], far])


CASES = {
    "po-logit": lambda d: (ProportionalOddsClassifier().fit(*d), d[0]),
    "po-probit": lambda d: (ProportionalOddsClassifier(link="probit", scale=False).fit(*d), d[0]),
    "po-cloglog": lambda d: (ProportionalOddsClassifier(link="cloglog").fit(*d), d[0]),
    "presto-logit": lambda d: (PRESTOClassifier(alpha=1e-3).fit(*d), d[0]),
    "presto-probit": lambda d: (PRESTOClassifier(alpha=1e-3, link="probit").fit(*d), d[0]),
    "presto-sort-crossing": lambda d: presto_crossing(d, "sort"),
    "presto-clip-crossing": lambda d: presto_crossing(d, "clip"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_effects_equal_finite_differences_of_predict_proba(case, data):
    est, X = CASES[case](data)
    if case.startswith("presto"):  # non-parallel slopes: the general formula is exercised
        assert np.ptp(est.coef_, axis=1).max() > 0.05
    if "crossing" in case:
        assert est.crossings(X).sum() >= 5
    expected = finite_difference_effects(est, X)
    rows = est.marginal_effects(X, at="all")
    np.testing.assert_allclose(rows.effects, expected, rtol=0, atol=1e-6)
    overall = est.marginal_effects(X)
    np.testing.assert_allclose(overall.effects, expected.mean(axis=0), rtol=0, atol=1e-6)
    # per class the effects of a feature sum to zero (the probabilities sum to one)
    np.testing.assert_allclose(rows.effects.sum(axis=2), 0.0, atol=1e-12)
    mean_row = X.mean(axis=0, keepdims=True)
    at_mean = est.marginal_effects(X, at="mean").effects
    np.testing.assert_allclose(at_mean, finite_difference_effects(est, mean_row)[0], atol=1e-6)
    assert overall.std_errors is None and overall.at == "overall"
    np.testing.assert_array_equal(overall.classes, est.classes_)


def test_weighted_average_equals_repeated_rows(data, rng):
    X, y = data
    est = PRESTOClassifier(alpha=1e-3).fit(X, y)
    weight = rng.integers(0, 4, size=len(y))
    weighted = est.marginal_effects(X, sample_weight=weight)
    repeated = est.marginal_effects(np.repeat(X, weight, axis=0))
    np.testing.assert_allclose(weighted.effects, repeated.effects, atol=1e-14)
    at_mean = est.marginal_effects(X, at="mean", sample_weight=weight)
    np.testing.assert_allclose(
        at_mean.effects,
        est.marginal_effects(np.repeat(X, weight, axis=0), at="mean").effects,
        atol=1e-13,
    )


def test_feature_names_follow_the_training_frame(data):
    pd = pytest.importorskip("pandas")
    X, y = data
    frame = pd.DataFrame(X, columns=["a", "b", "c", "d"])
    est = ProportionalOddsClassifier().fit(frame, y)
    assert est.marginal_effects(frame).feature_names.tolist() == ["a", "b", "c", "d"]
    plain = ProportionalOddsClassifier().fit(X, y)
    assert plain.marginal_effects(X).feature_names.tolist() == ["x0", "x1", "x2", "x3"]


# -- the covariance of proportional odds -----------------------------------------------------
def statsmodels_fit(X, y, link):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    model = OrderedModel(y, X, distr=link)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        result = model.fit(method="bfgs", disp=False, maxiter=5000, gtol=1e-10)
    return model, result


def statsmodels_to_ours(params, n_features):
    """Our theta = (intercepts, coef) from statsmodels' (beta, first cut, log increments), and
    the Jacobian of that map (statsmodels has P(y <= k) = F(cut_k - x @ beta))."""
    beta, th = params[:n_features], params[n_features:]
    cuts = np.cumsum(np.concatenate([th[:1], np.exp(th[1:])]))
    k = len(th)
    jacobian = np.zeros((k + n_features, n_features + k))
    jacobian[:k, n_features] = 1.0
    for m in range(1, k):
        jacobian[m:k, n_features + m] = np.exp(th[m])
    jacobian[k:, :n_features] = -np.eye(n_features)
    return np.concatenate([cuts, -beta]), jacobian


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_covariance_matches_statsmodels(link, data):
    X, y = data
    p = X.shape[1]
    ours = ProportionalOddsClassifier(link=link).fit(X, y)
    _, theirs = statsmodels_fit(X, y, link)
    theta, jacobian = statsmodels_to_ours(np.asarray(theirs.params), p)
    np.testing.assert_allclose(np.concatenate([ours.intercept_, ours.coef_[:, 0]]), theta,
                               rtol=1e-5, atol=1e-6)  # fmt: skip
    cov = ours.covariance(X, y)
    # the slopes' standard errors directly (a sign flip does not change them)
    np.testing.assert_allclose(np.sqrt(np.diag(cov))[3:], theirs.bse[:p], rtol=2e-5)
    # the whole matrix through the Jacobian of statsmodels' threshold parametrisation
    expected = jacobian @ np.asarray(theirs.cov_params()) @ jacobian.T
    scale = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    np.testing.assert_allclose(cov / scale, expected / scale, rtol=0, atol=2e-5)
    # it does not depend on the coordinates the fit used
    other = ProportionalOddsClassifier(link=link, scale=False).fit(X, y).covariance(X, y)
    np.testing.assert_allclose(other / scale, cov / scale, rtol=0, atol=1e-6)


def test_covariance_integer_weights_equal_repeated_rows(data, rng):
    X, y = data
    weight = rng.integers(0, 4, size=len(y))
    weighted = ProportionalOddsClassifier().fit(X, y, sample_weight=weight)
    repeated = ProportionalOddsClassifier().fit(np.repeat(X, weight, axis=0), np.repeat(y, weight))
    cov = weighted.covariance(X, y, sample_weight=weight)
    reference = repeated.covariance(np.repeat(X, weight, axis=0), np.repeat(y, weight))
    scale = np.sqrt(np.outer(np.diag(reference), np.diag(reference)))
    np.testing.assert_allclose(cov / scale, reference / scale, rtol=0, atol=1e-5)


def numerical_hessian(function, theta, step=1e-4):
    n = theta.size
    hessian = np.empty((n, n))
    for a in range(n):
        for b in range(a, n):
            total = 0.0
            for sa, sb in [(1, 1), (1, -1), (-1, 1), (-1, -1)]:
                point = theta.copy()
                point[a] += sa * step
                point[b] += sb * step
                total += sa * sb * function(point)
            hessian[a, b] = hessian[b, a] = total / (4 * step * step)
    return hessian


@pytest.mark.parametrize("scale", [True, False])
def test_penalised_covariance_inverts_the_penalised_hessian(scale, data):
    X, y = data
    alpha = 0.05
    est = ProportionalOddsClassifier(alpha=alpha, scale=scale).fit(X, y)
    n, p = X.shape
    spread = X.std(axis=0) if scale else np.ones(p)  # the penalty is on coef * spread

    def objective(theta):  # sum-scale: n * (mean NLL + alpha / 2 ||coef * spread||^2)
        a, beta = theta[:3], theta[3:]
        nll = cumulative_link_nll(a, np.repeat(beta[:, None], 3, axis=1), X, y, "logit")
        return n * (nll + 0.5 * alpha * np.sum((beta * spread) ** 2))

    theta = np.concatenate([est.intercept_, est.coef_[:, 0]])
    expected = np.linalg.inv(numerical_hessian(objective, theta))
    cov = est.covariance(X, y)
    scale_ = np.sqrt(np.outer(np.diag(expected), np.diag(expected)))
    np.testing.assert_allclose(cov / scale_, expected / scale_, rtol=0, atol=1e-4)
    # the penalty shrinks the variance of the slopes
    unpenalised = ProportionalOddsClassifier(scale=scale).fit(X, y).covariance(X, y)
    assert np.all(np.diag(cov)[3:] < np.diag(unpenalised)[3:])


# -- the delta method ------------------------------------------------------------------------
def average_effects_statsmodels(params, X, link, at):
    """Average (or at-the-mean) effects written in statsmodels' parametrisation."""
    pdf = {"logit": logistic.pdf, "probit": norm.pdf}[link]
    p = X.shape[1]
    beta, th = params[:p], params[p:]
    cuts = np.cumsum(np.concatenate([th[:1], np.exp(th[1:])]))
    rows = X.mean(axis=0, keepdims=True) if at == "mean" else X
    # P(y = k) = F(cut_k - x beta) - F(cut_{k-1} - x beta): d/dx_j = -beta_j (f_k - f_{k-1})
    dens = np.column_stack([np.zeros(len(rows)), pdf(cuts - (rows @ beta)[:, None]),
                            np.zeros(len(rows))])  # fmt: skip
    per_class = np.diff(dens, axis=1).mean(axis=0)
    return -np.outer(beta, per_class)


@pytest.mark.parametrize("link", ["logit", "probit"])
@pytest.mark.parametrize("at", ["overall", "mean"])
def test_delta_method_matches_statsmodels_covariance_and_numerical_jacobian(link, at, data):
    X, y = data
    ours = ProportionalOddsClassifier(link=link).fit(X, y)
    result = ours.marginal_effects(X, at=at, covariance=ours.covariance(X, y))
    _, theirs = statsmodels_fit(X, y, link)
    params = np.asarray(theirs.params)
    effects = average_effects_statsmodels(params, X, link, at)
    np.testing.assert_allclose(result.effects, effects, rtol=1e-4, atol=1e-7)
    step = 1e-6
    jacobian = np.empty(effects.shape + (params.size,))
    for m in range(params.size):
        up, down = params.copy(), params.copy()
        up[m] += step
        down[m] -= step
        jacobian[..., m] = (
            average_effects_statsmodels(up, X, link, at)
            - average_effects_statsmodels(down, X, link, at)
        ) / (2 * step)
    cov = np.asarray(theirs.cov_params())
    expected = np.sqrt(np.einsum("jka,ab,jkb->jk", jacobian, cov, jacobian))
    np.testing.assert_allclose(result.std_errors, expected, rtol=2e-4, atol=1e-9)
    np.testing.assert_allclose(result.z_scores, result.effects / result.std_errors)
    np.testing.assert_allclose(result.p_values, 2 * norm.sf(np.abs(result.z_scores)))
    np.testing.assert_allclose(result.conf_int[..., 1] - result.conf_int[..., 0],
                               2 * 1.959963984540054 * result.std_errors)  # fmt: skip


@pytest.mark.parametrize("at", ["overall", "mean"])
def test_two_classes_equal_statsmodels_logit_get_margeff(at, rng):
    # with two classes proportional odds is logistic regression, where statsmodels has
    # get_margeff: its effects and delta-method errors are those of class 1
    Logit = pytest.importorskip("statsmodels.discrete.discrete_model").Logit
    X = rng.normal(size=(300, 3)) * np.array([1.0, 5.0, 0.2]) + 1.0
    y = (X @ np.array([1.0, 0.1, -2.0]) + rng.logistic(size=300) > 1.0).astype(int)
    ours = ProportionalOddsClassifier().fit(X, y)
    cov = ours.covariance(X, y)
    theirs = Logit(y, np.column_stack([np.ones(len(y)), X])).fit(disp=0, tol=1e-12)
    np.testing.assert_allclose(np.sqrt(np.diag(cov)), theirs.bse, rtol=1e-5)
    result = ours.marginal_effects(X, at=at, covariance=cov)
    margins = theirs.get_margeff(at=at)
    np.testing.assert_allclose(result.effects[:, 1], margins.margeff, rtol=1e-5)
    np.testing.assert_allclose(result.std_errors[:, 1], margins.margeff_se, rtol=1e-5)
    np.testing.assert_allclose(result.p_values[:, 1], margins.pvalues, rtol=1e-4, atol=1e-12)


def perturbed_effects(est, theta, X, at):
    k = len(est.intercept_)
    est.intercept_ = theta[:k]
    est.coef_ = theta[k:].reshape(est.coef_.shape)
    return est.marginal_effects(X, at=at).effects


@pytest.mark.parametrize("case", ["po-logit", "presto-logit", "presto-sort-crossing"])
@pytest.mark.parametrize("at", ["overall", "all"])
def test_jacobian_equals_finite_differences_in_the_parameters(case, at, data, rng):
    est, X = CASES[case](data)
    X = X[::4]
    theta = np.concatenate([est.intercept_, est.coef_.ravel()])
    # any covariance: the standard errors are sqrt(diag(J cov J')) for the Jacobian J
    root = rng.normal(size=(theta.size, theta.size)) * 0.01
    cov = root @ root.T
    result = est.marginal_effects(X, at=at, covariance=cov)
    step = 1e-6
    jacobian = np.empty(result.effects.shape + (theta.size,))
    for m in range(theta.size):
        up, down = theta.copy(), theta.copy()
        up[m] += step
        down[m] -= step
        jacobian[..., m] = (
            perturbed_effects(est, up, X, at) - perturbed_effects(est, down, X, at)
        ) / (2 * step)
    expected = np.sqrt(np.einsum("...a,ab,...b->...", jacobian, cov, jacobian))
    np.testing.assert_allclose(result.std_errors, expected, rtol=1e-5, atol=1e-9)


def test_blocks_of_rows_give_the_same_result(data, monkeypatch):
    from sklearn_losses.ordinal import _base, _inference

    est, X = presto_crossing(data, "sort")
    cov = np.eye(len(est.intercept_) + est.coef_.size) * 1e-3
    whole = [est.marginal_effects(X, at=at, covariance=cov) for at in ("overall", "all")]
    monkeypatch.setattr(_base, "_EFFECT_ENTRIES", 1)  # one row per block
    monkeypatch.setattr(_inference, "_JACOBIAN_ENTRIES", 1)
    for at, expected in zip(("overall", "all"), whole):
        result = est.marginal_effects(X, at=at, covariance=cov)
        np.testing.assert_allclose(result.effects, expected.effects, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(result.std_errors, expected.std_errors, rtol=1e-12)


@pytest.mark.parametrize(
    "call, match",
    [
        (lambda e, X: e.marginal_effects(X, at="median"), "at must be"),
        (lambda e, X: e.marginal_effects(X, at="all", sample_weight=np.ones(len(X))), "at='all'"),
        (lambda e, X: e.marginal_effects(X, covariance=np.eye(3)), r"\(7, 7\)"),
        (lambda e, X: e.marginal_effects(X, covariance=np.full((7, 7), np.nan)), "finite"),
        (lambda e, X: e.marginal_effects(X[:, :3]), "features"),
    ],
)
def test_bad_arguments_are_clear_value_errors(call, match, data):
    X, y = data
    est = ProportionalOddsClassifier().fit(X, y)
    with pytest.raises(ValueError, match=match):
        call(est, X)


def test_clip_repair_has_no_delta_method_and_raise_raises(data):
    est, X = presto_crossing(data, "clip")
    cov = np.eye(len(est.intercept_) + est.coef_.size)
    with pytest.raises(ValueError, match="crossing='sort'"):
        est.marginal_effects(X, covariance=cov)
    est.set_params(crossing="raise")
    with pytest.raises(ValueError, match="crossing cumulative probabilities"):
        est.marginal_effects(X)


def test_covariance_refuses_singular_information_and_warns_off_the_training_data(data):
    X, y = data
    collinear = np.column_stack([X, X[:, 0] * 2 + 1])
    est = ProportionalOddsClassifier().fit(collinear, y)
    with pytest.raises(ValueError, match="singular"):
        est.covariance(collinear, y)
    est = ProportionalOddsClassifier().fit(X, y)
    with pytest.warns(UserWarning, match="not a stationary point"):
        est.covariance(X[:200], y[:200])
    with pytest.raises(ValueError, match="not in categories_"):
        est.covariance(X, y + 10)


# -- the middle-rare-class warning -----------------------------------------------------------
def middle_rare_data(middle_share, n=1500, seed=0):
    """Four classes; class 1 (interior) has about ``middle_share`` of the rows."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, 3))
    latent = X[:, 0] + rng.logistic(size=n)
    lower = np.quantile(latent, 0.35)
    upper = np.quantile(latent, 0.35 + middle_share)
    return X, np.digitize(latent, [lower, upper, np.quantile(latent, 0.75)])


@pytest.mark.parametrize(
    "est", [PRESTOClassifier(), PRESTOClassifierCV(alphas=3, cv=3)], ids=lambda e: type(e).__name__
)
def test_warns_once_when_the_rarest_class_is_in_the_middle(est):
    X, y = middle_rare_data(0.02)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        est.fit(X, y)
    messages = [str(w.message) for w in caught if issubclass(w.category, UserWarning)]
    assert len(messages) == 1, messages
    assert "the rarest class, 1 (2.0% of" in messages[0]
    assert "ProportionalOddsClassifier" in messages[0] and "LogisticRegression" in messages[0]


@pytest.mark.parametrize("middle_share", [0.12, 0.2])
def test_no_warning_for_ordinary_data(middle_share, data):
    # a rare end class (the paper's setting), or an interior class that is not rare
    X, y = data
    shares = np.bincount(y) / len(y)
    assert np.argmin(shares) == len(shares) - 1
    X2, y2 = middle_rare_data(middle_share)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PRESTOClassifier().fit(X, y)
        PRESTOClassifier().fit(X2, y2)
        ProportionalOddsClassifier().fit(*middle_rare_data(0.02))  # the alternative is quiet


def test_interior_class_rare_but_not_rarer_than_an_end_does_not_warn():
    # shares about 3% / 2% / 60% / 35%: the interior class is the rarest, but not by a margin
    rng = np.random.default_rng(1)
    X = rng.normal(size=(2000, 2))
    latent = X[:, 0] + rng.logistic(size=2000)
    cuts = np.quantile(latent, [0.03, 0.05, 0.65])
    y = np.digitize(latent, cuts)
    shares = np.bincount(y) / len(y)
    assert 0 < np.argmin(shares) < 3
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        PRESTOClassifier().fit(X, y)
    # weights count: the same labels, with the interior class down-weighted, warn
    with pytest.warns(UserWarning, match="rarest class"):
        PRESTOClassifier().fit(X, y, sample_weight=np.where(y == 1, 0.2, 1.0))
