"""SharedVarianceGaussianNB against scikit-learn's GaussianNB (fit and predict_proba).

Run: ``python benchmarks/bench_naive_bayes.py [--n 100000 --p 200 --k 10 --repeats 5]``.
Ratios below 1 mean ours is faster.  :func:`measure` feeds ``run_all.py``.
"""

import argparse

import numpy as np
from _timing import median_time, print_table
from sklearn.naive_bayes import GaussianNB

from sklearn_losses.naive_bayes import SharedVarianceGaussianNB


def measure(quick=False):
    """Rows for ``run_all.py``: fit and predict_proba against GaussianNB."""
    n, p, k = (20_000, 100, 10) if quick else (100_000, 200, 10)
    repeats = 3 if quick else 7
    rng = np.random.default_rng(0)
    y = rng.integers(k, size=n)
    X = rng.standard_normal((n, p)) + y[:, None] * 0.1
    ours, theirs = SharedVarianceGaussianNB().fit(X, y), GaussianNB().fit(X, y)
    row = {"family": "naive_bayes", "case": f"n={n} p={p} K={k}"}
    return [
        {**row, "ours": "SharedVarianceGaussianNB.fit",
         "ours_s": median_time(lambda: ours.fit(X, y), repeats),
         "reference": "sklearn GaussianNB.fit",
         "reference_s": median_time(lambda: theirs.fit(X, y), repeats)},
        {**row, "ours": "SharedVarianceGaussianNB.predict_proba",
         "ours_s": median_time(lambda: ours.predict_proba(X), repeats),
         "reference": "sklearn GaussianNB.predict_proba",
         "reference_s": median_time(lambda: theirs.predict_proba(X), repeats)},
    ]  # fmt: skip


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=200)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    y = rng.integers(args.k, size=args.n)
    X = rng.standard_normal((args.n, args.p)) + y[:, None] * 0.1
    ours, theirs = SharedVarianceGaussianNB(), GaussianNB()
    rows = []
    t_ours = median_time(lambda: ours.fit(X, y), args.repeats)
    t_theirs = median_time(lambda: theirs.fit(X, y), args.repeats)
    rows.append(["fit", t_ours, t_theirs, t_ours / t_theirs])
    t_ours = median_time(lambda: ours.predict_proba(X), args.repeats)
    t_theirs = median_time(lambda: theirs.predict_proba(X), args.repeats)
    rows.append(["predict_proba", t_ours, t_theirs, t_ours / t_theirs])
    print_table(
        f"n={args.n}, p={args.p}, K={args.k}: median seconds over {args.repeats} runs",
        rows,
        ["step", "ours (s)", "GaussianNB (s)", "ratio ours/theirs"],
    )


if __name__ == "__main__":
    main()
