"""BLAS pools pinned while a fit computes (sklearn_losses/utils/_threads.py)."""

import os

import numpy as np
import pytest
from threadpoolctl import threadpool_info, threadpool_limits

from sklearn_losses.utils import _threads


def _blas_threads():
    return {i["filepath"]: i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}


@pytest.fixture
def two_threads():
    """Every BLAS pool at 2 threads for the test (the suite runs at 1)."""
    with threadpool_limits(2, user_api="blas"):
        before = _blas_threads()
        if len(before) < 1 or max(before.values()) < 2:
            pytest.skip("no BLAS pool with 2 threads here")
        yield before


def test_small_fits_run_every_pool_on_one_thread_then_restore(two_threads):
    with _threads.solver_threads(1000):
        assert set(_blas_threads().values()) == {1}
        with _threads.solver_threads(10**9):  # nested: the outer fit decided
            assert set(_blas_threads().values()) == {1}
    assert _blas_threads() == two_threads


def test_large_fits_keep_numpys_pool_and_pin_the_others(two_threads):
    with _threads.solver_threads(_threads.PARALLEL_MIN_ENTRIES):
        after = _blas_threads()
        for path, threads in after.items():
            expected = two_threads[path] if _threads._is_numpy_blas(path) else 1
            assert threads == expected, path
        assert _threads.blas_threads() == max(
            t for p, t in two_threads.items() if _threads._is_numpy_blas(p)
        )
    assert _blas_threads() == two_threads


def test_a_pool_set_by_someone_else_during_a_fit_keeps_their_setting(two_threads):
    fit = _threads.solver_threads(1000)
    fit.__enter__()
    other = threadpool_limits(2, user_api="blas")  # another thread raises the pools
    fit.__exit__(None, None, None)  # our fit ends first: it leaves their setting alone
    assert _blas_threads() == two_threads
    other.restore_original_limits()


def test_an_error_inside_a_fit_restores_the_pools(two_threads):
    with pytest.raises(RuntimeError):
        with _threads.solver_threads(1000):
            raise RuntimeError
    assert _blas_threads() == two_threads


def test_numpy_blas_is_told_apart_from_scipys():
    paths = [i["filepath"] for i in threadpool_info() if i["user_api"] == "blas"]
    np.testing.assert_array_equal(
        [_threads._is_numpy_blas(p) for p in paths],
        [not os.path.basename(os.path.dirname(p)).startswith("scipy") for p in paths],
    )
