"""The one door through which numba enters the package.

``njit`` compiles lazily (no eager signatures, so read-only memmaps work) and
caches compiled code on disk when it can.  numba raises ``RuntimeError: cannot
cache function ... no locator available`` *at decoration time* when neither the
package directory nor ``NUMBA_CACHE_DIR`` nor ``~/.cache`` is writable; we catch
it and compile without a cache, so importing from a read-only install never
fails.  ``SKLEARN_LOSSES_NUMBA_CACHE=0`` turns caching off, and numba's own
``NUMBA_DISABLE_JIT=1`` is honoured (numba then returns the Python function).
"""

import os

import numba

__all__ = ["njit", "prange", "CACHE_ENABLED"]

CACHE_ENABLED = os.environ.get("SKLEARN_LOSSES_NUMBA_CACHE", "1") != "0"
prange = numba.prange


def njit(func=None, **options):
    """Compile ``func`` with :func:`numba.njit`, caching where possible.

    Usable bare (``@njit``) or with numba options (``@njit(fastmath=...)``).
    """

    def decorate(f):
        wanted = {"cache": CACHE_ENABLED, **options}
        try:
            return numba.njit(**wanted)(f)
        except RuntimeError:
            # No writable cache locator (read-only install and HOME).
            return numba.njit(**{**wanted, "cache": False})(f)

    return decorate if func is None else decorate(func)
