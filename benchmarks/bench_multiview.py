"""MultiviewCCA against cca-zoo's exact MCCA and GCCA: n=20000, three views of 200, K=5.

Run: ``OPENBLAS_NUM_THREADS=1 python benchmarks/bench_multiview.py [--repeats 5]``
(``pip install cca-zoo>=4`` for the peers).  Median fit times of the exact solvers in one
process, each at its defaults (ours standardizes the columns, cca-zoo's MCCA solves in
each view's principal components), the ratio peer / ours, and the agreement of the
solutions (the mean pairwise training correlation of each fit's scores, which is
scale-free).  The CLI also reports the minibatch solver's share of the exact objective
(the sum of the top-K generalised eigenvalues) after 5 and 30 epochs, and on views mixed
to a covariance condition number of about 1e5 (``condition_number=316.2``) the share
after 30 epochs and the time per epoch (1 BLAS thread: ``OPENBLAS_NUM_THREADS=1``) with
and without ``precondition``.  :func:`measure` feeds ``run_all.py`` (quick: n=5000).
"""

import argparse
import time
import warnings
from itertools import combinations

import numpy as np
from _timing import median_time, per_epoch, print_table

from sklearn_losses.cross_decomposition import MultiviewCCA, StochasticMultiviewCCA
from sklearn_losses.datasets import make_multiview

SIZES = (200, 200, 200)
CORRELATIONS = (0.9, 0.8, 0.7, 0.6, 0.5)
ILL = 316.2  # each view mixed with this condition number: covariance condition ~1e5


def mean_pairwise_correlation(scores):
    """Sum over components of the mean pairwise correlation of a list of score arrays."""
    pairs = [
        [np.corrcoef(a[:, k], b[:, k])[0, 1] for k in range(a.shape[1])]
        for a, b in combinations(scores, 2)
    ]
    return float(np.mean(pairs, axis=0).sum())


def _data(n, condition_number=1.0):
    views = make_multiview(
        n, SIZES, correlations=CORRELATIONS, condition_number=condition_number, random_state=0
    )
    return views, np.hstack(views)


def _ill_conditioned(X, method, batch_size, exact):
    """Preconditioned and plain 30-epoch fits on ill-conditioned views: (seconds, share)."""
    results = []
    for precondition in (True, False):
        sgd = StochasticMultiviewCCA(5, view_sizes=SIZES, method=method, batch_size=batch_size,
                                     max_iter=30, tol=None, precondition=precondition,
                                     random_state=0)  # fmt: skip
        start = time.perf_counter()
        sgd.fit(X)
        results.append((time.perf_counter() - start, sgd.eigenvalues_.sum() / exact))
    return results


def _peers():
    try:
        from cca_zoo.linear import GCCA, MCCA
    except ImportError:
        return None
    return {"mcca": MCCA, "gcca": GCCA}


def measure(quick=False):
    """Rows for ``run_all.py``: exact MultiviewCCA (MCCA and GCCA) against cca-zoo's, and
    StochasticMultiviewCCA on ill-conditioned views against its plain steps."""
    n = 5_000 if quick else 20_000
    repeats = 3 if quick else 5
    views, X = _data(n)
    peers = _peers()
    rows = []
    case = f"n={n} p=3x200 K=5"
    for method in ("mcca", "gcca"):
        ours = MultiviewCCA(5, view_sizes=SIZES, method=method)
        t_ours = median_time(lambda ours=ours: ours.fit(X), repeats)
        row = {"family": "cross_decomposition", "case": case, "ours": f"MultiviewCCA({method})",
               "ours_s": t_ours, "target": 1.0}  # fmt: skip
        if peers is None:
            continue
        peer = peers[method](n_components=5)
        t_peer = median_time(lambda peer=peer: peer.fit(views), repeats)
        rows.append({**row, "reference": f"cca-zoo {method.upper()}(5)", "reference_s": t_peer})
    # views with covariance condition number ~1e5, at the size in both modes:
    # StochasticMultiviewCCA (MCCA, batch 100, 30 epochs, one run) against its plain
    # steps; the shares of the exact objective (sum of the top-K eigenvalues) are in the labels
    _, X = _data(20_000, ILL)
    exact = MultiviewCCA(5, view_sizes=SIZES).fit(X).eigenvalues_.sum()
    (t_pre, pre), (t_plain, plain) = _ill_conditioned(X, "mcca", 100, exact)
    rows.append({"family": "cross_decomposition", "case": "n=20000 p=3x200 K=5, cov. cond ~1e5",
                 "ours": f"StochasticMultiviewCCA bs=100, 30 epochs: {pre:.4f}", "ours_s": t_pre,
                 "reference": f"precondition=False, 30 epochs: {plain:.2f}",
                 "reference_s": t_plain})  # fmt: skip
    return rows


def main(argv=None):
    warnings.filterwarnings("ignore", message=".*did not converge.*")
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--n", type=int, default=20_000)
    args = parser.parse_args(argv)
    views, X = _data(args.n)
    peers = _peers()
    table = []
    for method in ("mcca", "gcca"):
        ours = MultiviewCCA(5, view_sizes=SIZES, method=method)
        t_ours = median_time(lambda ours=ours: ours.fit(X), args.repeats)
        total = mean_pairwise_correlation(ours.transform_views(X))
        table.append([f"ours MultiviewCCA({method})", t_ours, "-", f"{total:.6f}"])
        if peers is not None:
            peer = peers[method](n_components=5)
            t_peer = median_time(lambda peer=peer: peer.fit(views), args.repeats)
            peer_total = mean_pairwise_correlation(peer.transform(views))
            table.append([f"cca-zoo {method.upper()}", t_peer, f"{t_peer / t_ours:.2f}",
                          f"{peer_total:.6f}"])  # fmt: skip
        for bs in (100, 500):
            for epochs in (5, 30):
                sgd = StochasticMultiviewCCA(5, view_sizes=SIZES, method=method, batch_size=bs,
                                             max_iter=epochs, tol=None, random_state=0)  # fmt: skip
                start = time.perf_counter()
                sgd.fit(X)
                seconds = time.perf_counter() - start
                share = sgd.eigenvalues_.sum() / ours.eigenvalues_.sum()
                table.append([f"StochasticMultiviewCCA({method}) bs={bs}, {epochs} ep", seconds,
                              "-", f"objective {share:.4f}"])  # fmt: skip
    print_table(
        f"n={args.n}, three views of 200, K=5: seconds (median of {args.repeats} for exact "
        "fits, one run for SGD), peer/ours, sum over components of the mean pairwise "
        "correlation (exact) or share of the exact objective sum(top-K eigenvalues) (SGD)",
        table,
        ["solver", "seconds", "peer / ours", "result"],
    )
    _, X = _data(args.n, ILL)
    table = []
    for method in ("mcca", "gcca"):
        exact = MultiviewCCA(5, view_sizes=SIZES, method=method).fit(X).eigenvalues_.sum()
        for bs in (100, 500):
            (t_pre, pre), (t_plain, plain) = _ill_conditioned(X, method, bs, exact)
            fits = [
                lambda e, pre=pre_, method=method, bs=bs: StochasticMultiviewCCA(
                    5, view_sizes=SIZES, method=method, batch_size=bs, max_iter=e, tol=None,
                    precondition=pre, random_state=0,
                ).fit(X)
                for pre_ in (True, False)
            ]  # fmt: skip
            epoch_pre, epoch_plain = per_epoch(fits, 2, 7, 3)
            table.append([f"{method} bs={bs}", f"{pre:.5f}", f"{plain:.3f}", t_pre, t_plain,
                          epoch_pre, epoch_plain, f"{epoch_pre / epoch_plain:.2f}"])  # fmt: skip
    print_table(
        f"n={args.n}, three views of 200 mixed with condition number {ILL} (covariance ~1e5), "
        "K=5, 30 epochs: share of the exact objective and seconds (one run), seconds per "
        "epoch (median slope between 2 and 7 epochs, 3 trials), with / without precondition",
        table,
        ["fit", "share pre", "share plain", "fit s pre", "fit s plain", "epoch s pre",
         "epoch s plain", "pre / plain"],
    )  # fmt: skip


if __name__ == "__main__":
    main()
