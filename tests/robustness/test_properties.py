"""Property-based checks (hypothesis) of the maths the estimators rest on.

The ordinal class probabilities, the Cauchy-Schwarz divergences and the bag operators,
on arbitrary inputs rather than a few chosen ones.
"""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sklearn_losses.aggregate import aggregate_responses
from sklearn_losses.aggregate._bags import BagOperator
from sklearn_losses.information_bottleneck import (
    conditional_cs_divergence,
    cs_divergence,
)
from sklearn_losses.ordinal._kernels import LINKS, class_probabilities

FINITE = st.floats(-30, 30, allow_nan=False)


@settings(max_examples=150, deadline=None)
@given(
    predictors=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=FINITE),
    link=st.sampled_from(sorted(LINKS.values())),
)
def test_ordinal_probabilities_are_a_distribution_for_any_ordered_predictors(predictors, link):
    # the kernel's contract: ordered predictors (the estimators resolve crossings before it)
    predictors = np.sort(predictors, axis=1)
    proba = class_probabilities(predictors, link)
    assert proba.shape == (predictors.shape[0], predictors.shape[1] + 1)
    assert np.all(proba >= 0) and np.all(proba <= 1)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, atol=1e-12)


@settings(max_examples=150, deadline=None)
@given(
    predictors=arrays(np.float64, st.tuples(st.integers(1, 6), st.integers(1, 4)), elements=FINITE),
    shift=st.floats(0.0, 5.0),
)
def test_ordinal_cumulative_probabilities_follow_the_predictors(predictors, shift):
    # P(y <= k) = F(eta_k) for ordered predictors: raising every predictor moves mass down
    ordered = np.sort(predictors, axis=1)
    low = np.cumsum(class_probabilities(ordered, LINKS["logit"]), axis=1)[:, :-1]
    high = np.cumsum(class_probabilities(ordered + shift, LINKS["logit"]), axis=1)[:, :-1]
    np.testing.assert_allclose(low, 1 / (1 + np.exp(-ordered)), atol=1e-12)
    assert np.all(high >= low - 1e-12)


SAMPLES = arrays(np.float64, st.tuples(st.integers(2, 12), st.integers(1, 3)), elements=FINITE)


@settings(max_examples=100, deadline=None)
@given(a=SAMPLES, b=SAMPLES, sigma=st.floats(0.1, 10.0))
def test_cs_divergence_is_symmetric_and_nonnegative(a, b, sigma):
    if a.shape[1] != b.shape[1]:
        b = np.resize(b, (b.shape[0], a.shape[1]))
    forward = cs_divergence(a, b, sigma=sigma)
    assert forward >= -1e-9
    assert forward == np.float64(cs_divergence(b, a, sigma=sigma)) or np.isclose(
        forward, cs_divergence(b, a, sigma=sigma), rtol=1e-9, atol=1e-12
    )
    assert abs(cs_divergence(a, a, sigma=sigma)) < 1e-9


@settings(max_examples=100, deadline=None)
@given(
    data=arrays(np.float64, st.tuples(st.integers(2, 12), st.just(3)), elements=FINITE),
    sigma=st.floats(0.2, 5.0),
)
def test_the_embedding_estimate_is_never_negative_and_zero_at_the_truth(data, sigma):
    x, y, y_pred = data[:, :1], data[:, 1:2], data[:, 2:]
    value = conditional_cs_divergence(x, y, y_pred, sigma=sigma, estimator="embedding")
    assert value >= -1e-9
    assert abs(conditional_cs_divergence(x, y, y, sigma=sigma, estimator="embedding")) < 1e-9


@settings(max_examples=150, deadline=None)
@given(
    codes=arrays(np.int64, st.integers(1, 40), elements=st.integers(0, 7)),
    seed=st.integers(0, 2**31 - 1),
)
def test_bag_means_match_a_loop_and_ignore_the_weights_scale(codes, seed):
    rng = np.random.default_rng(seed)
    y = rng.standard_normal(codes.shape[0])
    weight = rng.uniform(0.1, 3.0, codes.shape[0])
    expected = np.array([np.average(y[codes == c], weights=weight[codes == c]) for c in codes])
    np.testing.assert_allclose(aggregate_responses(y, codes, sample_weight=weight), expected)
    np.testing.assert_allclose(
        aggregate_responses(y, codes, sample_weight=1e6 * weight), expected, rtol=1e-10
    )
    # the operator's sums are the bag totals, and its codes address the kept bags
    op = BagOperator(np.unique(codes, return_inverse=True)[1], weight)
    np.testing.assert_allclose(op.sum(y).sum(), weight @ y)
    np.testing.assert_allclose(op.mean(y)[op.codes], expected)
