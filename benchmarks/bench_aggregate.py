"""AggregateLinearRegression at scale: n=1,000,000, d=50, bags of 10.

Run: ``python benchmarks/bench_aggregate.py [--n 1000000 --d 50 --repeats 5]``.  Reports the
median fit time and the peak memory the fit allocates beyond the data (tracemalloc sees
NumPy's allocations), beside scikit-learn's LinearRegression on the broadcast bag means
(the rho=1 estimate) for scale.  :func:`measure` feeds ``run_all.py``: the closed form
against LinearRegression, and AggregateLinearRegressionCV (25 rhos, 5 folds) against
1.5 single fits.
"""

import argparse
import tracemalloc

import numpy as np
from _timing import median_time, print_table
from sklearn.linear_model import LinearRegression

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    AggregateLogisticRegression,
    aggregate_responses,
    make_bags,
)


def bag_data(n, d, bag_size=10, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, d))
    y = X @ rng.standard_normal(d) + rng.standard_normal(n)
    bags = make_bags(n, bag_size, random_state=seed)
    return X, aggregate_responses(y, bags), bags


def logistic_rows(quick, repeats):
    """AggregateLogisticRegression against LogisticRegression on the instance labels (scale)."""
    from sklearn.linear_model import LogisticRegression

    n = 50_000 if quick else 200_000
    rng = np.random.default_rng(1)
    X = rng.standard_normal((n, 20))
    labels = (X @ rng.standard_normal(20) + rng.logistic(size=n) > 0).astype(int)
    bags = make_bags(n, 10, random_state=1)
    proportions = aggregate_responses(labels.astype(float), bags)
    ours = median_time(
        lambda: AggregateLogisticRegression().fit(X, proportions, bags=bags), repeats
    )
    reference = median_time(lambda: LogisticRegression().fit(X, labels), repeats)
    return [
        {"family": "aggregate", "case": f"n={n:.0e} d=20 bags of 10",
         "ours": "AggregateLogisticRegression", "ours_s": ours,
         "reference": "sklearn LogisticRegression on instance labels", "reference_s": reference},
    ]  # fmt: skip


def measure(quick=False):
    """Rows for ``run_all.py``."""
    n = 200_000 if quick else 1_000_000
    repeats = 3 if quick else 5
    X, y_bag, bags = bag_data(n, 50)
    case = f"n={n:.0e} d=50 bags of 10"
    t_single = median_time(
        lambda: AggregateLinearRegression(rho=0.1).fit(X, y_bag, bags=bags), repeats
    )
    t_ols = median_time(lambda: LinearRegression().fit(X, y_bag), repeats)
    rhos = np.linspace(0.0, 1.0, 25)
    t_cv = median_time(
        lambda: AggregateLinearRegressionCV(rhos=rhos, cv=5).fit(X, y_bag, bags=bags), repeats
    )
    row = {"family": "aggregate", "case": case}
    rows = logistic_rows(quick, repeats)
    return rows + [
        {**row, "ours": "AggregateLinearRegression(rho=0.1)", "ours_s": t_single,
         "reference": "sklearn LinearRegression (rho=1 estimate)", "reference_s": t_ols},
        {**row, "ours": "AggregateLinearRegressionCV 25 rhos x 5 folds", "ours_s": t_cv,
         "reference": "1.5 x AggregateLinearRegression", "reference_s": 1.5 * t_single,
         "target": 1.0},
    ]  # fmt: skip


def peak_megabytes(func):
    tracemalloc.start()
    func()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=1_000_000)
    parser.add_argument("--d", type=int, default=50)
    parser.add_argument("--bag-size", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.d))
    y = X @ rng.standard_normal(args.d) + rng.standard_normal(args.n)
    bags = make_bags(args.n, args.bag_size, random_state=0)
    y_bag = aggregate_responses(y, bags)
    rows = []
    for rho in (0.0, 0.1, 1.0):
        est = AggregateLinearRegression(rho=rho)
        seconds = median_time(lambda est=est: est.fit(X, y_bag, bags=bags), args.repeats)
        memory = peak_megabytes(lambda est=est: est.fit(X, y_bag, bags=bags))
        rows.append([f"AggregateLinearRegression rho={rho}", seconds, memory])
    ols = LinearRegression()
    rows.append(
        [
            "sklearn LinearRegression (rho=1)",
            median_time(lambda: ols.fit(X, y_bag), args.repeats),
            peak_megabytes(lambda: ols.fit(X, y_bag)),
        ]
    )
    print_table(
        f"n={args.n}, d={args.d}, bags of {args.bag_size} (data itself: {X.nbytes / 2**20:.0f} MB)",
        rows,
        ["fit", "median s", "peak extra MB"],
    )


if __name__ == "__main__":
    main()
