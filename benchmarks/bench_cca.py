"""CCA against scikit-learn and cca-zoo at n=20000, p=200 per view, 5 components.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_cca.py [--repeats 3] [--part ...]``
(``pip install cca-zoo>=4`` for the cca-zoo rows).  Three parts, each a table:

- ``exact``: exact solvers, median fit time and the fraction of the exact total
  correlation reached (PCC); stochastic solvers, the time of the shortest run (in epochs)
  that reaches PCC >= 0.99, from a sweep of epoch budgets; on well-conditioned views and
  on views whose covariance has condition number about 1e5.  Ratios are peer / ours.
- ``conditioning`` (``--seeds``, ``--settings``): PCC after 30 epochs at batch sizes 100
  and 500, per data and fit seed, of the preconditioned ``StochasticCCA`` (default tol
  and ``tol=None``), the plain one (``precondition=False``) and cca-zoo's
  ``StochasticCCAEY``, with fit times, on three settings: ``cond1`` (well conditioned),
  ``logspaced`` (``make_multiview(condition_number=316.2)``: mixing singular values
  log-spaced from 1 to 316, covariance condition number about 1e5) and ``gaussian``
  (each view mixed by a dense standard Gaussian matrix, covariance condition number
  5e4-1e8 depending on the draw).
- ``epoch``: seconds per epoch (median slope between 2 and 10 epochs) with and without
  the preconditioner.

:func:`measure` feeds ``run_all.py`` with rows of the same measurements (quick: n=5000
for the well-conditioned rows, no sweep).
"""

import argparse
import json
import time
import warnings

import numpy as np
from _timing import median_time, per_epoch, print_table
from sklearn.cross_decomposition import CCA as SklearnCCA

from sklearn_losses.cross_decomposition import CCA, StochasticCCA, paired_correlations
from sklearn_losses.datasets import make_multiview

CORRELATIONS = (0.9, 0.8, 0.7, 0.6, 0.5)
# mixing condition number 316.2: the covariance's is its square, about 1e5
ILL = 316.2
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


def views(n, setting, seed=0):
    """Two views of ``n`` rows, p=200 each, correlations 0.9..0.5, conditioned per ``setting``."""
    if setting == "cond1":
        return make_multiview(n, (200, 200), correlations=CORRELATIONS, random_state=seed)
    if setting == "logspaced":
        return make_multiview(
            n, (200, 200), correlations=CORRELATIONS, condition_number=ILL, random_state=seed
        )
    if setting == "gaussian":  # the setting: dense Gaussian mixing of each view
        X, Y = make_multiview(n, (200, 200), correlations=CORRELATIONS, random_state=seed)
        rng = np.random.default_rng(1000 + seed)
        return X @ rng.standard_normal((200, 200)), Y @ rng.standard_normal((200, 200))
    raise ValueError(f"unknown setting {setting!r}")


def covariance_condition(X):
    """Condition number of the covariance of the standardized view (what the solver sees)."""
    eigvals = np.linalg.eigvalsh(np.corrcoef(X.T))
    return float(eigvals[-1] / eigvals[0])


def _peers():
    try:
        from cca_zoo.linear import CCA as ZooCCA
        from cca_zoo.stochastic import StochasticCCAEY
    except ImportError:
        return None, None
    return ZooCCA, StochasticCCAEY


def fit_pcc(model, X, Y, exact, zoo=False):
    """Seconds of one fit and its PCC (the scores' exact total correlation over ``exact``)."""
    start = time.perf_counter()
    if zoo:
        model.fit([X, Y])
    else:
        model.fit(X, Y)
    seconds = time.perf_counter() - start
    scores = model.transform([X, Y]) if zoo else model.transform(X, Y)
    return seconds, canonical_total(*scores) / exact


def measure(quick=False):
    """Rows for ``run_all.py``: exact CCA against scikit-learn and cca-zoo, StochasticCCA
    against cca-zoo's StochasticCCAEY (5 epochs; 30 epochs on views with covariance
    condition number about 1e5, at n=20000 in both modes, the PCC in the labels; full
    mode: time to PCC 0.99)."""
    warnings.filterwarnings("ignore", message=".*did not converge.*")
    n = 5_000 if quick else 20_000
    repeats = 3
    ZooCCA, StochasticCCAEY = _peers()
    X, Y = views(n, "cond1")
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
    # ill-conditioned views, at the size in both modes: 30 epochs each (one run;
    # the PCC reached is in the labels)
    X, Y = views(20_000, "logspaced")
    exact = CCA(5).fit(X, Y).canonical_correlations_.sum()
    ill = {**row, "case": "n=20000 p=200+200 K=5, covariance cond ~1e5"}
    for bs in (100, 500):
        ours_s, pcc = fit_pcc(
            StochasticCCA(5, batch_size=bs, max_iter=30, tol=None, random_state=0), X, Y, exact
        )
        reference_s, zoo_pcc = fit_pcc(
            StochasticCCAEY(5, batch_size=bs, max_iter=30, tol=1e-12, random_state=0),
            X, Y, exact, zoo=True,
        )  # fmt: skip
        rows.append({**ill, "ours": f"StochasticCCA bs={bs}, 30 epochs: PCC {pcc:.3f}",
                     "ours_s": ours_s,
                     "reference": f"cca-zoo StochasticCCAEY bs={bs}, 30 epochs: PCC {zoo_pcc:.2f}",
                     "reference_s": reference_s})  # fmt: skip
    if quick:
        return rows
    for setting in ("cond1", "logspaced"):
        X, Y = views(n, setting)
        exact = total_correlation(*CCA(5).fit(X, Y).transform(X, Y))
        case = {**row, "case": row["case"] + ("" if setting == "cond1" else ", cond ~1e5")}
        for bs in (100, 500):
            t_sgd, *_ = time_to_099(
                lambda e, bs=bs: StochasticCCA(
                    5, batch_size=bs, max_iter=e, tol=None, random_state=0
                ),
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
            rows.append({**case, "ours": f"StochasticCCA bs={bs} to PCC 0.99", "ours_s": t_sgd,
                         "reference": f"cca-zoo StochasticCCAEY bs={bs} to PCC 0.99",
                         "reference_s": t_zoo})  # fmt: skip
    return rows


def part_exact(repeats):
    ZooCCA, StochasticCCAEY = _peers()
    rows = []
    for setting in ("cond1", "logspaced"):
        X, Y = views(20_000, setting)
        label = f"{setting}, cov cond {covariance_condition(X):.2g}"
        ours = CCA(5)
        t_ours = median_time(lambda ours=ours, X=X, Y=Y: ours.fit(X, Y), repeats)
        exact = total_correlation(*ours.transform(X, Y))
        rows.append([f"exact: ours ({label})", t_ours, "-", "-", "1.0000"])
        sk = SklearnCCA(5, max_iter=500)
        t_sk = median_time(lambda sk=sk, X=X, Y=Y: sk.fit(X, Y), 1, warmup=0)
        pcc = canonical_total(*sk.transform(X, Y)) / exact
        rows.append([f"exact: sklearn CCA ({label})", t_sk, "-", f"{t_sk / t_ours:.1f}",
                     f"{pcc:.4f}"])  # fmt: skip
        if ZooCCA is not None:
            zoo = ZooCCA(n_components=5)
            t_zoo = median_time(lambda zoo=zoo, X=X, Y=Y: zoo.fit([X, Y]), repeats)
            pcc = canonical_total(*zoo.transform([X, Y])) / exact
            rows.append([f"exact: cca-zoo CCA ({label})", t_zoo, "-", f"{t_zoo / t_ours:.1f}",
                         f"{pcc:.4f}"])  # fmt: skip
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
            rows.append([f"to 0.99: StochasticCCA bs={bs} ({setting})", t_sgd, ep, "-",
                         f"{pcc:.4f}"])  # fmt: skip
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
                rows.append([f"to 0.99: cca-zoo StochasticCCAEY bs={bs} ({setting})",
                             t_zoo_sgd, ep_zoo, f"{t_zoo_sgd / t_sgd:.1f}",
                             f"{pcc_zoo:.4f}"])  # fmt: skip
    print_table(
        "n=20000, p=200+200, K=5: seconds (median for exact solvers), epochs used (nan seconds: "
        "PCC 0.99 not reached in 30 epochs), peer/ours time ratio, PCC",
        rows,
        ["solver", "seconds", "epochs", "peer / ours", "PCC"],
    )


def part_conditioning(settings, seeds):
    """PCC after 30 epochs per setting, seed and batch size; one JSON line per case too."""
    _, StochasticCCAEY = _peers()
    rows = []
    for setting in settings:
        for seed in seeds:
            X, Y = views(20_000, setting, seed)
            cond = max(covariance_condition(X), covariance_condition(Y))
            exact = CCA(5).fit(X, Y).canonical_correlations_.sum()
            for bs in (100, 500):
                kw = {"batch_size": bs, "max_iter": 30, "random_state": seed}
                t_tol, pcc_tol = fit_pcc(model := StochasticCCA(5, **kw), X, Y, exact)
                epochs = model.n_iter_
                t_pre, pcc_pre = fit_pcc(StochasticCCA(5, **kw, tol=None), X, Y, exact)
                t_plain, pcc_plain = fit_pcc(
                    StochasticCCA(5, **kw, tol=None, precondition=False), X, Y, exact
                )
                t_zoo = pcc_zoo = float("nan")
                if StochasticCCAEY is not None:
                    zoo = StochasticCCAEY(5, **kw, tol=1e-12)
                    t_zoo, pcc_zoo = fit_pcc(zoo, X, Y, exact, zoo=True)
                line = [setting, seed, bs, f"{cond:.2g}", f"{pcc_tol:.5f} ({epochs} ep)", t_tol,
                        f"{pcc_pre:.5f}", t_pre, f"{pcc_plain:.5f}", t_plain, f"{pcc_zoo:.5f}",
                        t_zoo]  # fmt: skip
                rows.append(line)
                print(json.dumps(line), flush=True)
    print_table(
        "PCC after 30 epochs (n=20000, p=200+200, K=5) and fit seconds: preconditioned "
        "StochasticCCA at the default tol (epochs run) and tol=None, plain "
        "(precondition=False, tol=None), cca-zoo StochasticCCAEY (30 epochs)",
        rows,
        ["setting", "seed", "batch", "cov cond", "ours tol=1e-4", "s", "ours tol=None", "s",
         "plain", "s", "cca-zoo", "s"],
    )  # fmt: skip


def part_epoch(repeats):
    """Seconds per epoch with and without the preconditioner (slope between 2 and 10 epochs)."""
    X, Y = views(20_000, "logspaced")
    rows = []
    for bs in (100, 500):
        fits = [
            lambda e, bs=bs, pre=pre: StochasticCCA(
                5, batch_size=bs, max_iter=e, tol=None, random_state=0, precondition=pre
            ).fit(X, Y)
            for pre in (False, True)
        ]
        plain, pre = per_epoch(fits, 2, 10, repeats)
        once = [median_time(lambda fit=fit: fit(1), repeats) for fit in fits]
        rows.append([bs, plain, pre, f"{pre / plain:.2f}", once[0], once[1]])
    print_table(
        "n=20000, p=200+200, K=5: seconds per epoch without / with the preconditioner, and "
        "the time of a 1-epoch fit (setup, one epoch, rotation)",
        rows,
        ["batch", "plain s/epoch", "precond s/epoch", "ratio", "plain 1-epoch fit",
         "precond 1-epoch fit"],
    )  # fmt: skip


def main(argv=None):
    warnings.filterwarnings("ignore", message=".*did not converge.*")  # budgets are swept
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--part", nargs="+", default=["exact", "conditioning", "epoch"],
                        choices=["exact", "conditioning", "epoch"])  # fmt: skip
    parser.add_argument("--settings", nargs="+", default=["cond1", "logspaced", "gaussian"])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    args = parser.parse_args(argv)
    if "exact" in args.part:
        part_exact(args.repeats)
    if "conditioning" in args.part:
        part_conditioning(args.settings, args.seeds)
    if "epoch" in args.part:
        part_epoch(args.repeats)


if __name__ == "__main__":
    main()
