import numpy as np
import pytest
from scipy import sparse
from sklearn.datasets import load_iris, make_classification
from sklearn.model_selection import GridSearchCV
from sklearn.naive_bayes import GaussianNB
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.naive_bayes import SharedVarianceGaussianNB


def diagonal_lda_by_hand(X, y, w, eps):
    """Joint log-likelihood of diagonal LDA computed directly from its definition."""
    classes = np.unique(y)
    means, variances, counts = [], [], []
    for c in classes:
        Xc, wc = X[y == c], w[y == c]
        mu = np.sum(wc[:, None] * Xc, axis=0) / wc.sum()
        means.append(mu)
        variances.append(np.sum(wc[:, None] * (Xc - mu) ** 2, axis=0) / wc.sum())
        counts.append(wc.sum())
    counts = np.array(counts)
    prior = counts / counts.sum()
    pooled = sum(p * v for p, v in zip(prior, variances)) + eps
    jll = np.column_stack(
        [np.log(p) - 0.5 * np.sum((X - mu) ** 2 / pooled, axis=1) for p, mu in zip(prior, means)]
    )
    return jll + 0.5 * np.sum(X**2 / pooled, axis=1, keepdims=True)  # drop the shared term


@pytest.mark.parametrize("n_classes", [2, 4])
@pytest.mark.parametrize("weighted", [False, True])
def test_equals_diagonal_lda_by_hand(n_classes, weighted, rng):
    X, y = make_classification(300, 6, n_informative=4, n_classes=n_classes, random_state=0)
    w = rng.uniform(0.1, 3, size=len(y)) if weighted else np.ones(len(y))
    clf = SharedVarianceGaussianNB(var_smoothing=1e-3).fit(X, y, sample_weight=w)
    expected = diagonal_lda_by_hand(X, y, w, 1e-3)
    np.testing.assert_allclose(clf.predict_joint_log_proba(X), expected, rtol=0, atol=1e-10)
    decision = clf.decision_function(X)
    if n_classes == 2:
        np.testing.assert_allclose(decision, expected[:, 1] - expected[:, 0], atol=1e-10)
    else:
        np.testing.assert_allclose(decision, expected, atol=1e-10)
    proba = np.exp(expected - expected.max(axis=1, keepdims=True))
    np.testing.assert_allclose(
        clf.predict_proba(X), proba / proba.sum(1, keepdims=True), atol=1e-12
    )
    np.testing.assert_array_equal(clf.predict(X), np.argmax(expected, axis=1))


@pytest.mark.parametrize("smoothing", ["absolute", "relative"])
@pytest.mark.parametrize("as_sparse", [False, True])
def test_partial_fit_over_chunks_equals_fit(smoothing, as_sparse, rng):
    X, y = make_classification(500, 8, n_classes=3, n_informative=5, random_state=1)
    X[:, 0] += 1e4  # a large offset tests the stability of the merge
    w = rng.integers(0, 4, size=len(y)).astype(float)
    Xs = sparse.csr_matrix(X) if as_sparse else X
    full = SharedVarianceGaussianNB(smoothing=smoothing, var_smoothing=1e-6).fit(
        Xs, y, sample_weight=w
    )
    online = SharedVarianceGaussianNB(smoothing=smoothing, var_smoothing=1e-6)
    for chunk in np.array_split(np.arange(len(y)), 7):
        online.partial_fit(Xs[chunk], y[chunk], classes=[0, 1, 2], sample_weight=w[chunk])
    for attr in ("theta_", "var_", "pooled_var_", "coef_", "intercept_", "class_count_"):
        np.testing.assert_allclose(
            getattr(online, attr), getattr(full, attr), rtol=1e-9, atol=1e-9, err_msg=attr
        )


def test_integer_weights_equal_repeated_rows(rng):
    X, y = load_iris(return_X_y=True)
    w = rng.integers(0, 4, size=len(y))
    a = SharedVarianceGaussianNB().fit(X, y, sample_weight=w)
    b = SharedVarianceGaussianNB().fit(np.repeat(X, w, axis=0), np.repeat(y, w))
    np.testing.assert_allclose(a.coef_, b.coef_, rtol=1e-10)
    np.testing.assert_allclose(a.intercept_, b.intercept_, rtol=1e-10)


def test_sparse_equals_dense():
    X, y = make_classification(200, 10, random_state=2)
    X[X < 0.5] = 0
    dense = SharedVarianceGaussianNB().fit(X, y)
    csr = SharedVarianceGaussianNB().fit(sparse.csr_matrix(X), y)
    np.testing.assert_allclose(csr.coef_, dense.coef_, rtol=1e-10)
    np.testing.assert_allclose(csr.predict_proba(sparse.csr_matrix(X)), dense.predict_proba(X))


def test_relative_smoothing_matches_gaussian_nb_epsilon():
    X, y = load_iris(return_X_y=True)
    ours = SharedVarianceGaussianNB(smoothing="relative", var_smoothing=1e-2).fit(X, y)
    theirs = GaussianNB(var_smoothing=1e-2).fit(X, y)
    assert ours.epsilon_ == pytest.approx(theirs.epsilon_, rel=1e-12)
    np.testing.assert_allclose(ours.theta_, theirs.theta_)
    # GaussianNB's per-class variances, pooled, are ours
    pooled = ours.class_count_ / ours.class_count_.sum() @ (theirs.var_ - theirs.epsilon_)
    np.testing.assert_allclose(ours.pooled_var_, pooled + ours.epsilon_)


def test_equal_class_variances_give_gaussian_nb_predictions():
    """When every class has the same variances, GaussianNB is linear too and must agree."""
    rng = np.random.default_rng(3)
    base = rng.standard_normal((200, 3))
    X = np.vstack([base, base + [3.0, -1.0, 0.5]])  # identical spread per class
    y = np.repeat([0, 1], 200)
    ours = SharedVarianceGaussianNB().fit(X, y)
    theirs = GaussianNB(var_smoothing=0).fit(X, y)
    np.testing.assert_allclose(ours.predict_proba(X), theirs.predict_proba(X), atol=1e-8)


def test_priors_shift_intercepts_only():
    X, y = load_iris(return_X_y=True)
    free = SharedVarianceGaussianNB().fit(X, y)
    fixed = SharedVarianceGaussianNB(priors=[0.6, 0.3, 0.1]).fit(X, y)
    np.testing.assert_allclose(free.coef_, fixed.coef_)
    np.testing.assert_allclose(
        fixed.intercept_ - free.intercept_, np.log([0.6, 0.3, 0.1]) - np.log(1 / 3)
    )


def test_zero_variance_feature_is_finite():
    X, y = load_iris(return_X_y=True)
    X = np.column_stack([X, np.full(len(y), 2.0)])
    clf = SharedVarianceGaussianNB().fit(X, y)
    assert np.all(np.isfinite(clf.coef_)) and np.all(np.isfinite(clf.predict_proba(X)))
    with pytest.raises(ValueError, match="zero variance"):
        SharedVarianceGaussianNB(var_smoothing=0).fit(X, y)


def test_string_labels_and_pipeline_grid_search():
    X, y = load_iris(return_X_y=True)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    pipe = make_pipeline(StandardScaler(), SharedVarianceGaussianNB())
    search = GridSearchCV(pipe, {"sharedvariancegaussiannb__var_smoothing": [1e-9, 1e-1]}, cv=3)
    search.fit(X, labels)
    assert set(search.predict(X)) <= set(labels)
    assert search.best_score_ > 0.85


@pytest.mark.parametrize(
    "make_call, match",
    [
        (lambda c: c.fit([[1.0], [2.0]], [0, 0]), "at least 2 classes"),
        (lambda c: c.fit([[np.nan], [2.0]], [0, 1]), "NaN"),
        (lambda c: c.fit([[1.0], [2.0]], [0, 1], sample_weight=[1, -1]), "(?i)negative"),
        (lambda c: c.partial_fit([[1.0], [2.0]], [0, 1]), "classes must be passed"),
        (lambda c: c.fit([[1.0], [2.0]], [0.5, 1.5]), "Unknown label type"),
        (lambda c: c.set_params(priors=[0.5, 0.6]).fit([[1.0], [2.0]], [0, 1]), "sum to 1"),
        (lambda c: c.set_params(priors=[1.0]).fit([[1.0], [2.0]], [0, 1]), "one per class"),
        (lambda c: c.set_params(smoothing="huge").fit([[1.0], [2.0]], [0, 1]), "smoothing"),
    ],
)
def test_bad_input_messages(make_call, match):
    with pytest.raises(ValueError, match=match):
        make_call(SharedVarianceGaussianNB())


def test_new_class_in_later_partial_fit_is_rejected():
    clf = SharedVarianceGaussianNB().partial_fit([[0.0], [1.0]], [0, 1], classes=[0, 1])
    with pytest.raises(ValueError, match=r"\[2\] are not among the classes"):
        clf.partial_fit([[3.0]], [2])


def test_class_absent_from_first_chunk_is_learned_later():
    clf = SharedVarianceGaussianNB().partial_fit([[0.0], [0.2]], [0, 0], classes=[0, 1])
    assert clf.class_prior_[1] == 0
    clf.partial_fit([[2.0], [2.2]], [1, 1])
    np.testing.assert_array_equal(clf.predict([[0.1], [2.1]]), [0, 1])
