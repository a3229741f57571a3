"""Shared timing helper for the benchmarks: medians of repeated runs in one process."""

import time

import numpy as np


def median_time(func, repeats=5, warmup=1):
    """Median wall time of ``func()`` over ``repeats`` runs, after ``warmup`` untimed runs."""
    for _ in range(warmup):
        func()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        func()
        times.append(time.perf_counter() - start)
    return float(np.median(times))


def print_table(title, rows, columns):
    print(title)
    print("  ".join(f"{c:>16s}" for c in columns))
    for row in rows:
        print("  ".join(f"{v:>16.4g}" if isinstance(v, float) else f"{v!s:>16s}" for v in row))
