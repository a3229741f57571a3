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


def per_epoch(fits, lo, hi, repeats):
    """Median slope (seconds per epoch) of each ``fits[k](epochs)``, trials interleaved.

    Each fit runs ``lo`` and ``hi`` epochs; the slope cancels once-per-fit costs (setup,
    the final pass) and the interleaving spreads the machine's noise over all fits.
    """
    for fit in fits:
        fit(lo)  # warm-up: imports, compilation, the allocator
    times = {(k, e): [] for k in range(len(fits)) for e in (lo, hi)}
    for _ in range(repeats):
        for epochs in (lo, hi):
            for k, fit in enumerate(fits):
                start = time.perf_counter()
                fit(epochs)
                times[k, epochs].append(time.perf_counter() - start)
    return [
        float(np.median((np.array(times[k, hi]) - np.array(times[k, lo])) / (hi - lo)))
        for k in range(len(fits))
    ]


def print_table(title, rows, columns):
    print(title)
    print("  ".join(f"{c:>16s}" for c in columns))
    for row in rows:
        print("  ".join(f"{v:>16.4g}" if isinstance(v, float) else f"{v!s:>16s}" for v in row))
