"""The CCA permutation test against cca-zoo's, its floor and the budget of issue #18.

Run: ``python benchmarks/bench_permutation.py [--quick]`` (``pip install cca-zoo>=4`` for the
cca-zoo rows).  Times are medians in one process; ratios are reference / ours.

- cca-zoo's ``permutation_test_significance`` refits its ``CCA`` (an eigh) on every
  permutation and aligns the loadings by Procrustes; it tests each component naively
  (the ``k``-th permuted correlation), ours sequentially.  Same data, components and
  number of permutations, total seconds; at n=1e4, p=100 per view cca-zoo runs only 10
  permutations, so that row compares seconds per permutation.
- The floor: the one product a permutation cannot avoid, ``Z_x^T Z_y[perm]`` of the
  whitened views (gather and BLAS), on one thread: ours / floor is the share of a
  permutation spent elsewhere (statistics, drawing the permutation).
- The budget: issue #18 asks for 1,000 permutations at n=10,000, p=q=100 in under 10 s
  on 2 cores (``n_jobs=2``); ratio above 1: within it.
"""

import argparse
import warnings

import numpy as np
from _timing import median_time

from sklearn_losses.cross_decomposition import CCA, permutation_test
from sklearn_losses.datasets import make_multiview

CORRELATIONS = (0.3, 0.2, 0.1)


def _row(case, ours, ours_s, reference, reference_s, target=None):
    return {"family": "cross_decomposition", "case": case, "ours": ours, "ours_s": ours_s,
            "reference": reference, "reference_s": reference_s, "target": target}  # fmt: skip


def _zoo():
    try:
        from cca_zoo.linear import CCA as ZooCCA
        from cca_zoo.model_selection import permutation_test_significance
    except ImportError:
        return None
    return ZooCCA, permutation_test_significance


def floor_seconds(n, p, q, n_permutations, repeats=3):
    """``n_permutations`` gathers ``Z_y[perm]`` and products ``Z_x^T Z_y[perm]``, one thread."""
    from sklearn_losses.utils._threads import solver_threads

    rng = np.random.default_rng(0)
    Zx_t = np.ascontiguousarray(rng.standard_normal((n, p)).T)
    Zy = rng.standard_normal((n, q))
    perms = [rng.permutation(n) for _ in range(min(n_permutations, 50))]
    buffer = np.empty_like(Zy)

    def products():
        for perm in perms:
            Zx_t @ np.take(Zy, perm, axis=0, out=buffer, mode="clip")

    with solver_threads(0):
        return median_time(products, repeats) * n_permutations / len(perms)


def measure(quick=False):
    """Rows for ``run_all.py`` (see the module docstring)."""
    warnings.filterwarnings("ignore", category=UserWarning)
    rows, zoo = [], _zoo()
    n, p, B = (1000, 10, 49) if quick else (2000, 20, 99)
    X, Y = make_multiview(n, (p, p), correlations=CORRELATIONS, random_state=0)
    case = f"n={n} p={p}+{p} K=5, {B} permutations"
    ours = median_time(lambda: permutation_test(CCA(5), X, Y, n_permutations=B, random_state=0), 3)
    if zoo is not None:
        ZooCCA, zoo_test = zoo
        reference = median_time(
            lambda: zoo_test(ZooCCA(n_components=5), [X, Y], n_permutations=B, random_state=0),
            1 if quick else 3,
            warmup=0,
        )
        rows.append(_row(case, "permutation_test(CCA(5))", ours,
                         "cca-zoo permutation_test_significance(CCA(5))", reference))  # fmt: skip
    n, p, B = (5000, 50, 200) if quick else (10_000, 100, 1000)
    X, Y = make_multiview(n, (p, p), correlations=CORRELATIONS, random_state=0)
    case = f"n={n} p={p}+{p} all {p} components (wilks), {B} permutations"
    times = {}
    for jobs in (1, 2):
        times[jobs] = median_time(
            lambda jobs=jobs: permutation_test(
                CCA(), X, Y, n_permutations=B, n_jobs=jobs, random_state=0
            ),
            1 if quick else 3,
            warmup=0,
        )
    floor = floor_seconds(n, p, p, B)
    rows.append(_row(case, "permutation_test(CCA(), n_jobs=1)", times[1],
                     f"floor: {B} x Z_x^T Z_y[perm], 1 thread", floor, 0.8))  # fmt: skip
    rows.append(_row(case, "permutation_test(CCA(), n_jobs=2)", times[2],
                     f"floor: {B} x Z_x^T Z_y[perm], 1 thread", floor))  # fmt: skip
    if not quick:
        rows.append(_row(case, "permutation_test(CCA(), n_jobs=2)", times[2],
                         "budget of issue #18: 10 s", 10.0, 1.0))  # fmt: skip
    if zoo is not None:
        ZooCCA, zoo_test = zoo
        B_zoo = 5 if quick else 10
        reference = median_time(
            lambda: zoo_test(ZooCCA(n_components=5), [X, Y], n_permutations=B_zoo, random_state=0),
            1,
            warmup=0,
        )
        rows.append(_row(f"n={n} p={p}+{p}, seconds per permutation",
                         f"permutation_test(CCA(), n_jobs=1), all {p} components", times[1] / B,
                         f"cca-zoo permutation_test_significance(CCA(5)), {B_zoo} permutations",
                         reference / B_zoo))  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    for row in measure(quick=args.quick):
        ratio = row["reference_s"] / row["ours_s"]
        print(f"{row['case']}: {row['ours']} {row['ours_s']:.3g} s | {row['reference']} "
              f"{row['reference_s']:.3g} s | ratio {ratio:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
