"""Test-session settings: one torch thread, a persistent numba cache, a fixed seed.

Docstring examples get no injected names: ../conftest.py runs each as if pasted.
"""

import os
from pathlib import Path

# A persistent cache keeps numba compile time out of repeated CI runs (a fresh
# clone starts with a cold in-tree __pycache__).  Must be set before numba loads.
os.environ.setdefault("NUMBA_CACHE_DIR", str(Path.home() / ".cache" / "sklearn_losses" / "numba"))
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

try:  # Two torch threads on two shared cores run ~40x slower than one (ecosystem notes).
    import torch

    torch.set_num_threads(1)
except ImportError:  # pragma: no cover
    pass

# Likewise for BLAS: the suite's many small fits run 5-20x slower with two BLAS threads
# on a busy 2-core machine (and NumPy's and SciPy's pools fight).  One thread each.
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(limits=1)


@pytest.fixture
def rng():
    return np.random.default_rng(0)
