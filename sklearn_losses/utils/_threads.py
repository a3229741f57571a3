"""BLAS thread pools pinned while an iterative solver runs.

NumPy and SciPy wheels each ship their own OpenBLAS, with a thread pool each.
An iterative solver alternates between the two (SciPy's L-BFGS-B updates its
vectors through SciPy's BLAS, the objective's products go through NumPy's), and
OpenBLAS threads spin for a while after every call: on a machine with as many
cores as threads, the idle pool's spinning threads take the cores the busy pool
needs, and a fit at 2 threads ran 4-5x slower than at 1.  Threads also do not
pay for the small products of most fits.

:func:`solver_threads` pins, for the duration of a fit's solver loop, every BLAS
pool that is not NumPy's to one thread (they only do the solver's vector
bookkeeping), and NumPy's own pool to one thread as well when one iteration's
products are too small to gain from threads.  Pools are only ever lowered, never
raised above what the user set (``threadpoolctl.threadpool_limits`` or the
``OPENBLAS_NUM_THREADS`` family of variables), and the previous limits come back
when the last concurrent fit leaves, unless someone else changed them meanwhile.
"""

import os
import threading
from contextlib import contextmanager

import numpy as np

__all__ = ["blas_threads", "solver_threads"]

# A product with fewer entries than this runs on one BLAS thread.  On the 2-vCPU machines
# these benchmarks run on, a second OpenBLAS thread never paid (a 2000 x 2000 product:
# 302 ms at 1 thread, 320 ms at 2; a thin X @ B at n=2e5, p=50: 8 ms against 76 ms), and
# PRESTO at n=1e5, p=50 (5e6 entries) was 20% slower at 2 threads; on machines with real
# cores threads pay for large products, so above 2e7 entries (160 MB of float64) they stay.
PARALLEL_MIN_ENTRIES = 20_000_000

_NUMPY_DIR = os.path.dirname(np.__file__)

_lock = threading.Lock()
_active = 0  # solvers inside solver_threads, in all threads
_changed = []  # the pools pinned by the outermost fit, with their previous threads
_controller = None


def _blas_pools():
    """threadpoolctl's view of the loaded BLAS libraries (scanned once, on first use)."""
    global _controller
    if _controller is None:
        from threadpoolctl import ThreadpoolController

        _controller = ThreadpoolController().select(user_api="blas")
    return _controller


def _is_numpy_blas(path):
    """Whether the library at ``path`` is the BLAS that NumPy's products call.

    A wheel's vendored BLAS lives in ``numpy.libs/`` or ``scipy.libs/`` (Linux, Windows)
    or inside the package (macOS); a BLAS outside the installed packages (conda, the
    system's) is shared by NumPy and SciPy, so it counts as NumPy's.
    """
    relative = os.path.relpath(os.path.abspath(path), os.path.dirname(_NUMPY_DIR))
    owner = relative.split(os.sep)[0]
    return owner == os.pardir or owner.split(".")[0] == "numpy"


def blas_threads():
    """The threads NumPy's BLAS may use now (the user's limits and any pin applied)."""
    counts = [
        lib.num_threads for lib in _blas_pools().lib_controllers if _is_numpy_blas(lib.filepath)
    ]
    return max(1, min(counts)) if counts else 1


def _pin(n_entries):
    """Set the pools to one thread; return ``[(library, threads before), ...]`` changed."""
    changed = []
    for lib in _blas_pools().lib_controllers:
        if _is_numpy_blas(lib.filepath) and n_entries >= PARALLEL_MIN_ENTRIES:
            continue
        before = lib.num_threads
        if before != 1:
            lib.set_num_threads(1)
            changed.append((lib, before))
    return changed


def _restore(changed):
    """Give each pool back its threads, unless someone else set it since (then theirs stand)."""
    for lib, before in changed:
        if lib.num_threads == 1:
            lib.set_num_threads(before)


@contextmanager
def solver_threads(n_entries):
    """Pin the BLAS pools for a fit whose products multiply ``n_entries`` numbers at a time.

    ``n_entries`` is the size of the largest matrix one BLAS call multiplies (``n * p``
    for a solver's ``X``, a block's size for blocked products); the first of several
    concurrent fits decides.  Thread limits are process-wide: while any fit is inside,
    other threads' BLAS calls run on the pinned pools too.  Re-entrant and thread-safe
    among this package's fits; a pool that someone else set to another count while a
    fit ran keeps their setting afterwards.  (A ``threadpool_limits`` block that starts
    in another thread during a fit and ends after it records the pinned count as its
    original and restores that: threadpoolctl's limits do not nest across threads.)
    """
    global _active, _changed
    with _lock:
        if _active == 0:
            _changed = _pin(n_entries)
        _active += 1
    try:
        yield
    finally:
        with _lock:
            _active -= 1
            if _active == 0:
                _restore(_changed)
                _changed = []
