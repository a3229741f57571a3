"""make_multiview: two views pinned bit for bit, three or more checked by Monte Carlo."""

from itertools import combinations

import numpy as np
import pytest
from scipy.linalg import eigh

from sklearn_losses.datasets import make_multiview


def test_two_views_are_unchanged_bit_for_bit():
    # values drawn before make_multiview took more than two views; other tests rely on them
    X, Y = make_multiview(50, (4, 3), correlations=(0.8, 0.4), random_state=0)
    expected = ["0x1.5dd6d34d7772cp+0", "0x1.1c74e069f5f8ap-2", "0x1.3b0a18a8b1c9fp+0",
                "0x1.4abf93016f0c5p-4"]  # fmt: skip
    assert [float(v).hex() for v in X[0]] == expected
    assert float(Y[-1, -1]).hex() == "-0x1.388bc8256c2eap+0"
    X, Y = make_multiview(40, (5, 5), correlations=(0.9,), nonlinear=True, random_state=1)
    assert float(X[0, 0]).hex() == "-0x1.4d95533d33d19p+0"
    assert float(Y[-1, -1]).hex() == "0x1.aa79f8ad783b8p+0"
    views = make_multiview(30, (3, 2), correlations=(0.5,), random_state=0)
    assert isinstance(views, tuple) and len(views) == 2


def _whitened_basis(view):
    Q, _ = np.linalg.qr(view - view.mean(0))
    return Q


@pytest.fixture(scope="module")
def many_rows():
    rho = np.array([0.8, 0.5])
    views = make_multiview(
        100_000, (4, 3, 5), correlations=rho, condition_number=10, random_state=0
    )
    return rho, views


def test_every_pair_of_views_has_the_canonical_correlations(many_rows):
    rho, views = many_rows
    for a, b in combinations(views, 2):  # Bjorck-Golub: QR of each view, SVD of Q_a^T Q_b
        s = np.linalg.svd(_whitened_basis(a).T @ _whitened_basis(b), compute_uv=False)
        np.testing.assert_allclose(s[:2], rho, atol=0.01)
        assert np.all(s[2:] < 0.02)


def test_mcca_and_gcca_eigenvalues_in_closed_form(many_rows):
    rho, views = many_rows
    X = np.hstack(views)
    C = np.cov(X, rowvar=False)
    edges = np.cumsum([0, 4, 3, 5])
    B = np.zeros_like(C)
    for a, b in zip(edges[:-1], edges[1:]):
        B[a:b, a:b] = C[a:b, a:b]
    mcca = eigh(C - B, B, eigvals_only=True)  # ascending
    M = len(views)
    np.testing.assert_allclose(mcca[::-1][:2], (M - 1) * rho, atol=0.02)
    # -rho_k, M - 1 times each, at the bottom; the noise directions at 0
    np.testing.assert_allclose(mcca[:4], [-0.8, -0.8, -0.5, -0.5], atol=0.02)
    assert np.all(np.abs(mcca[4:-2]) < 0.03)
    gcca = eigh(C, B, eigvals_only=True)
    np.testing.assert_allclose(gcca[::-1][:2], 1 + (M - 1) * rho, atol=0.02)


def test_return_types():
    views = make_multiview(20, (3, 2, 4), correlations=(0.5,), random_state=0)
    assert isinstance(views, list) and [v.shape for v in views] == [(20, 3), (20, 2), (20, 4)]
    X, sizes = make_multiview(
        20, (3, 2, 4), correlations=(0.5,), return_concatenated=True, random_state=0
    )
    np.testing.assert_array_equal(X, np.hstack(views))
    assert sizes == (3, 2, 4)
    X, sizes = make_multiview(20, (3, 2), correlations=(0.5,), return_concatenated=True,
                              random_state=0)  # fmt: skip
    np.testing.assert_array_equal(X, np.hstack(make_multiview(20, (3, 2), correlations=(0.5,),
                                                              random_state=0)))  # fmt: skip
    assert sizes == (3, 2)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"n_features": (3, 3, 3), "nonlinear": True}, "nonlinear=True draws two views"),
        ({"n_features": (3, 1, 3)}, r"at least len\(correlations\) = 2 features"),
        ({"n_features": (3, 3, 0)}, "pair of positive integers"),
        ({"n_features": [[3, 3], [3, 3]]}, "pair of positive integers"),
    ],
)
def test_more_views_reject_invalid_parameters(kwargs, match):
    with pytest.raises(ValueError, match=match):
        make_multiview(**{"n_samples": 10, "correlations": (0.8, 0.4), **kwargs})
