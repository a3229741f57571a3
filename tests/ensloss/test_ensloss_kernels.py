"""The fast paths of the EnsLoss epoch kernel (#16) against the plain definitions.

The kernel sorts with its own in-place quicksorts, takes each batch's draws sorted by
NumPy, and computes dense scores four rows at a time; none of this may change a
result: the derivatives equal ``_loss.random_derivatives`` and a fixed seed gives the
weights it gave before these speed-ups.
"""

import numpy as np
import pytest
import scipy.sparse as sp

from sklearn_losses.ensloss import EnsLossClassifier
from sklearn_losses.ensloss._kernels import (
    _partial_argsort,
    draw_workspace,
    ranked_derivatives,
    sgd_epoch,
)
from sklearn_losses.ensloss._linear import _kernel_data, _sorted_by_batch
from sklearn_losses.ensloss._loss import random_derivatives

SIZES = [1, 2, 3, 15, 16, 17, 18, 40, 128, 1000]


def _margins(rng, n, pattern):
    """Margins that stress a quicksort: ties, NaN, infinities, runs, signed zeros."""
    if pattern == "normal":
        return rng.normal(0, 2, n)
    if pattern == "ties":
        return rng.choice([-1.0, -0.0, 0.0, 0.5, 1.0, 3.0], n)
    if pattern == "equal":
        return np.full(n, 0.25)
    if pattern == "ascending":
        return np.sort(rng.normal(size=n))
    if pattern == "descending":
        return -np.sort(rng.normal(size=n))
    if pattern == "organ_pipe":
        half = np.arange(n // 2, dtype=float)
        return np.concatenate([half, half[::-1], [0.5] * (n % 2)])
    z = rng.normal(size=n)  # "non_finite"
    z[rng.random(n) < 0.2] = np.nan
    z[rng.random(n) < 0.1] = np.copysign(np.nan, -1.0)  # x86's NaN from inf - inf or 0 * inf
    z[rng.random(n) < 0.1] = np.inf
    z[rng.random(n) < 0.1] = -np.inf
    return z


PATTERNS = ["normal", "ties", "equal", "ascending", "descending", "organ_pipe", "non_finite"]


@pytest.mark.parametrize("pattern", PATTERNS)
def test_partial_argsort_ranks_as_a_stable_sort(rng, pattern):
    for n in SIZES:
        z = _margins(rng, n, pattern)
        expected = np.argsort(z, kind="stable")  # NaN last, ties by row
        for k in sorted({0, 1, n // 3, n // 2, n - 1, n}):
            ranked = np.full(n, -1)
            _partial_argsort(z, ranked, n, k, np.empty(n), np.empty(128, dtype=np.int64))
            np.testing.assert_array_equal(ranked[k:], expected[k:], err_msg=f"n={n}, k={k}")
            assert np.array_equal(np.sort(ranked), np.arange(n))  # a permutation


@pytest.mark.parametrize("lam", [0.0, -0.6, 0.8])
@pytest.mark.parametrize("pattern", PATTERNS)
def test_ranked_derivatives_equal_the_definition_with_draws_sorted_or_not(rng, lam, pattern):
    for n in SIZES:
        z = _margins(rng, n, pattern)
        eps = rng.standard_normal(n)
        expected = random_derivatives(z, eps, lam)
        workspace = draw_workspace(n)
        for noise in (eps, np.sort(eps)):  # the kernel's sorting path and NumPy-sorted draws
            out = np.full(n, 123.0)
            ranked_derivatives(z, noise, lam, out, *workspace)
            np.testing.assert_allclose(out, expected, rtol=1e-14, atol=0, err_msg=f"n={n}")


@pytest.mark.parametrize("n_problems, n_rows, batch_size", [(1, 1000, 128), (3, 250, 16)])
def test_sorted_by_batch_sorts_each_batch_in_place(rng, n_problems, n_rows, batch_size):
    noise = rng.standard_normal((n_problems, n_rows))
    before = noise.copy()
    assert _sorted_by_batch(noise, batch_size) is noise
    for start in range(0, n_rows, batch_size):
        batch = noise[:, start : start + batch_size]
        assert np.all(np.diff(batch, axis=1) >= 0)
        np.testing.assert_array_equal(batch, np.sort(before[:, start : start + batch_size]))


@pytest.mark.parametrize("sparse", [False, True])
def test_epoch_depends_on_the_set_of_each_batch_draws_only(rng, sparse):
    n, d, batch_size = 301, 7, 32
    X = rng.normal(size=(n, d))
    X[np.abs(X) < 0.5] = 0.0
    Y = np.where(rng.random((n, 2)) < 0.5, 1.0, -1.0)
    noise = rng.standard_normal((2, n))

    def epoch(noise):
        coef = np.zeros((2, d))
        intercept = np.zeros(2)
        args = (Y, np.ones(n), coef, intercept, np.zeros((2, d)), np.zeros(2))
        kernel_data = _kernel_data(sp.csr_matrix(X) if sparse else X, d)
        order = np.random.default_rng(1).permutation(n)
        sgd_epoch(*kernel_data, *args, order, batch_size, 0.1, 1e-3, 0.9, 0, 0.0, True, np.inf,
                  noise)  # fmt: skip
        return np.concatenate([coef.ravel(), intercept])

    reference = epoch(noise)
    np.testing.assert_array_equal(epoch(_sorted_by_batch(noise.copy(), batch_size)), reference)
    reversed_in_batches = noise.copy()
    for start in range(0, n, batch_size):
        reversed_in_batches[:, start : start + batch_size] = noise[:, start : start + batch_size][
            :, ::-1
        ]
    np.testing.assert_array_equal(epoch(reversed_in_batches), reference)
    # while moving draws between batches does change the epoch
    assert not np.array_equal(epoch(np.roll(noise, 5, axis=1)), reference)


# Weights of this seed computed before the #16 speed-ups (in-place sorts, NumPy-sorted
# draws, four-row dense scores, prefetched rows); the fits must still give them.
BEFORE = [
    ("ensloss", 2, "dense", 37, [[0.994263205693, -1.181007342202, -0.083514319607]],
     [0.022111604074]),
    ("ensloss", 2, "csr", 37, [[0.994263205693, -1.181007342202, -0.083514319607]],
     [0.022111604074]),
    ("ensloss", 3, "dense", 16,
     [[0.084403704266, -0.170612200002, 0.283144623121],
      [0.345396335924, 0.338549963648, -0.137574140378],
      [-0.392157336557, 0.020325555767, -0.19369551999]],
     [-1.457128890925, -0.820830229515, -1.464997847003]),
    ("hinge", 2, "dense", 37, [[1.240533604333, -1.407026357108, -0.095811954612]],
     [0.020695616635]),
    ("ensloss", 2, "csr", 203, [[0.061453200177, -0.073543026294, -0.002974946857]],
     [0.000163593549]),
]  # fmt: skip


@pytest.mark.parametrize("loss, n_classes, kind, batch_size, coef, intercept", BEFORE)
def test_a_fixed_seed_gives_the_weights_it_gave_before(
    loss, n_classes, kind, batch_size, coef, intercept
):
    rng = np.random.default_rng(7)
    X = rng.standard_normal((203, 6))
    X[np.abs(X) < 0.4] = 0.0
    y = (X[:, 0] - X[:, 1] + 0.5 * rng.standard_normal(203) > 0).astype(int)
    y3 = rng.integers(0, 3, 203)
    clf = EnsLossClassifier(loss, batch_size=batch_size, max_iter=4, eta0=0.05, random_state=11)
    clf.fit(sp.csr_matrix(X) if kind == "csr" else X, y if n_classes == 2 else y3)
    np.testing.assert_allclose(clf.coef_[:, :3], coef, rtol=1e-9, atol=1e-11)
    np.testing.assert_allclose(clf.intercept_, intercept, rtol=1e-9, atol=1e-11)
