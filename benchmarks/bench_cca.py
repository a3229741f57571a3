"""CCA against scikit-learn and cca-zoo at n=20000, p=200 per view, 5 components.

Run: ``python benchmarks/bench_cca.py [--repeats 3]`` (``pip install cca-zoo>=4`` for the
cca-zoo rows).  Exact solvers: median fit time and the fraction of the exact total
correlation reached (PCC).  Stochastic solvers: the time of the shortest run (in epochs)
that reaches PCC >= 0.99, from a sweep of epoch budgets.  Ratios are peer / ours.
:func:`measure` feeds ``run_all.py`` with the same rows (quick: exact solvers only,
n=5000).
"""

import argparse
import time
import warnings

from _timing import median_time, print_table
from sklearn.cross_decomposition import CCA as SklearnCCA

from sklearn_losses.cross_decomposition import CCA, StochasticCCA, paired_correlations
from sklearn_losses.datasets import make_multiview

EPOCH_BUDGETS = (1, 2, 3, 5, 8, 12, 20, 30)


def total_correlation(x, y):
    return float(paired_correlations(x, y).sum())


def canonical_total(scores_x, scores_y):
    """Total correlation after an exact CCA of the K-dim scores (rotation invariant)."""
    cca = CCA(scores_x.shape[1], scale=False).fit(scores_x, scores_y)
    return float(cca.canonical_correlations_.sum())


def time_to_099(make, fit, transform, X, Y, exact):
    for epochs in EPOCH_BUDGETS:
        model = make(epochs)
        start = time.perf_counter()
        fit(model, X, Y)
        seconds = time.perf_counter() - start
        pcc = canonical_total(*transform(model, X, Y)) / exact
        if pcc >= 0.99:
            return seconds, epochs, pcc
    return float("nan"), EPOCH_BUDGETS[-1], pcc


def measure(quick=False):
    """Rows for ``run_all.py``: exact CCA against scikit-learn and cca-zoo; time to PCC 0.99."""
    warnings.filterwarnings("ignore", message=".*did not converge.*")
    n = 5_000 if quick else 20_000
    repeats = 3
    try:
        from cca_zoo.linear import CCA as ZooCCA
        from cca_zoo.stochastic import StochasticCCAEY
    except ImportError:
        ZooCCA = StochasticCCAEY = None
    X, Y = make_multiview(n, (200, 200), correlations=(0.9, 0.8, 0.7, 0.6, 0.5), random_state=0)
    row = {"family": "cross_decomposition", "case": f"n={n} p=200+200 K=5"}
    ours = CCA(5)
    t_ours = median_time(lambda: ours.fit(X, Y), repeats)
    exact = total_correlation(*ours.transform(X, Y))
    sk = SklearnCCA(5, max_iter=500)
    rows = [
        {**row, "ours": "CCA(5)", "ours_s": t_ours, "reference": "sklearn CCA(5)",
         "reference_s": median_time(lambda: sk.fit(X, Y), 1, warmup=0)},
    ]  # fmt: skip
    if ZooCCA is not None:
        zoo = ZooCCA(n_components=5)
        rows.append({**row, "ours": "CCA(5)", "ours_s": t_ours, "reference": "cca-zoo CCA(5)",
                     "reference_s": median_time(lambda: zoo.fit([X, Y]), repeats)})  # fmt: skip
    if StochasticCCAEY is None:
        return rows
    for bs in (100, 500):  # per epoch, the same 5 epochs each
        sgd = StochasticCCA(5, batch_size=bs, max_iter=5, tol=None, random_state=0)
        zoo = StochasticCCAEY(5, batch_size=bs, max_iter=5, tol=1e-12, random_state=0)
        ours_s = median_time(lambda sgd=sgd: sgd.fit(X, Y), repeats)
        reference_s = median_time(lambda zoo=zoo: zoo.fit([X, Y]), repeats)
        rows.append({**row, "ours": f"StochasticCCA bs={bs}, 5 epochs", "ours_s": ours_s,
                     "reference": f"cca-zoo StochasticCCAEY bs={bs}, 5 epochs",
                     "reference_s": reference_s})  # fmt: skip
    if quick:
        return rows
    for bs in (100, 500):
        t_sgd, *_ = time_to_099(
            lambda e, bs=bs: StochasticCCA(5, batch_size=bs, max_iter=e, tol=None, random_state=0),
            lambda m, X, Y: m.fit(X, Y),
            lambda m, X, Y: m.transform(X, Y),
            X,
            Y,
            exact,
        )
        t_zoo, *_ = time_to_099(
            lambda e, bs=bs: StochasticCCAEY(
                5, batch_size=bs, max_iter=e, tol=1e-12, random_state=0
            ),
            lambda m, X, Y: m.fit([X, Y]),
            lambda m, X, Y: tuple(m.transform([X, Y])),
            X,
            Y,
            exact,
        )
        rows.append({**row, "ours": f"StochasticCCA bs={bs} to PCC 0.99", "ours_s": t_sgd,
                     "reference": f"cca-zoo StochasticCCAEY bs={bs} to PCC 0.99",
                     "reference_s": t_zoo})  # fmt: skip
    return rows


def main(argv=None):
    warnings.filterwarnings("ignore", message=".*did not converge.*")  # budgets are swept
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    try:
        from cca_zoo.linear import CCA as ZooCCA
        from cca_zoo.stochastic import StochasticCCAEY
    except ImportError:
        ZooCCA = StochasticCCAEY = None
    rows = []
    for cond in (1.0, 100.0):
        X, Y = make_multiview(
            20_000,
            (200, 200),
            correlations=(0.9, 0.8, 0.7, 0.6, 0.5),
            condition_number=cond,
            random_state=0,
        )
        ours = CCA(5)
        t_ours = median_time(lambda ours=ours, X=X, Y=Y: ours.fit(X, Y), args.repeats)
        exact = total_correlation(*ours.transform(X, Y))
        rows.append([f"exact: ours (cond {cond:g})", t_ours, "-", "-", "1.0000"])
        sk = SklearnCCA(5, max_iter=500)
        t_sk = median_time(lambda sk=sk, X=X, Y=Y: sk.fit(X, Y), 1, warmup=0)
        rows.append(
            [
                f"exact: sklearn CCA (cond {cond:g})",
                t_sk,
                "-",
                f"{t_sk / t_ours:.1f}",
                f"{canonical_total(*sk.transform(X, Y)) / exact:.4f}",
            ]
        )
        if ZooCCA is not None:
            zoo = ZooCCA(n_components=5)
            t_zoo = median_time(lambda zoo=zoo, X=X, Y=Y: zoo.fit([X, Y]), args.repeats)
            rows.append(
                [
                    f"exact: cca-zoo CCA (cond {cond:g})",
                    t_zoo,
                    "-",
                    f"{t_zoo / t_ours:.1f}",
                    f"{canonical_total(*zoo.transform([X, Y])) / exact:.4f}",
                ]
            )
        for bs in (100, 500):
            t_sgd, ep, pcc = time_to_099(
                lambda e, bs=bs: StochasticCCA(
                    5, batch_size=bs, max_iter=e, tol=None, random_state=0
                ),
                lambda m, X, Y: m.fit(X, Y),
                lambda m, X, Y: m.transform(X, Y),
                X,
                Y,
                exact,
            )
            rows.append(
                [f"to 0.99: StochasticCCA bs={bs} (cond {cond:g})", t_sgd, ep, "-", f"{pcc:.4f}"]
            )
            if StochasticCCAEY is not None:
                t_zoo_sgd, ep_zoo, pcc_zoo = time_to_099(
                    lambda e, bs=bs: StochasticCCAEY(
                        5, batch_size=bs, max_iter=e, tol=1e-12, random_state=0
                    ),
                    lambda m, X, Y: m.fit([X, Y]),
                    lambda m, X, Y: tuple(m.transform([X, Y])),
                    X,
                    Y,
                    exact,
                )
                rows.append(
                    [
                        f"to 0.99: cca-zoo StochasticCCAEY bs={bs} (cond {cond:g})",
                        t_zoo_sgd,
                        ep_zoo,
                        f"{t_zoo_sgd / t_sgd:.1f}",
                        f"{pcc_zoo:.4f}",
                    ]
                )
    print_table(
        "n=20000, p=200+200, K=5: seconds (median for exact solvers), epochs used, "
        "peer/ours time ratio, PCC",
        rows,
        ["solver", "seconds", "epochs", "peer / ours", "PCC"],
    )


if __name__ == "__main__":
    main()
