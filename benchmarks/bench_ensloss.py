"""EnsLoss speed: the linear solver against SGDClassifier, the MLP against a plain torch loop.

Run: ``python benchmarks/bench_ensloss.py [--n 100000 --p 100 --epochs 5 --repeats 5]``.

Linear: time per pass over the data of :class:`EnsLossClassifier` (EnsLoss and hinge,
minibatch 128 with momentum) and of scikit-learn's ``SGDClassifier(loss="hinge")``
(per-sample SGD, the reference the issue names), on dense data and on CSR data with 10%
non-zeros.  MLP: time per epoch of :class:`EnsLossMLPClassifier` (the paper's TabMLP,
1024 units, through skorch) against a hand-written PyTorch loop that trains the same
module with the same criterion, optimiser, schedule and batches: the module and the
criterion are the estimator's own (its fitted ``net_``), and every training setting is
read from the estimator's parameters.

``measure(quick=False)`` gives ``run_all.py`` its rows: seconds per epoch as the slope
of the fit time in the number of epochs (what a fit does once cancels out), each
method timed interleaved with its reference so that a slow spell of a shared machine
hits both.  The caller sets the thread counts (``main``: one BLAS and torch thread).
"""

import argparse
import copy

import numpy as np
import scipy.sparse as sp
from _timing import median_time, per_epoch, print_table
from sklearn.linear_model import SGDClassifier

from sklearn_losses.ensloss import EnsLossClassifier, EnsLossMLPClassifier


def linear_rows(X, y, epochs, repeats):
    def per_pass(make):
        return median_time(lambda: make().fit(X, y), repeats) / epochs

    reference = per_pass(lambda: SGDClassifier(loss="hinge", max_iter=epochs, tol=None))
    rows = [["SGDClassifier hinge", reference, 1.0]]
    for loss in ("ensloss", "hinge"):
        seconds = per_pass(lambda loss=loss: EnsLossClassifier(loss, max_iter=epochs))
        rows.append([f"EnsLossClassifier {loss}", seconds, seconds / reference])
    return rows


# The paper's training (the estimator's other parameters at their defaults); the plain
# loop reads every setting back from the estimator, so the two cannot drift apart.
PAPER = {"solver": "sgd", "learning_rate": "cosine", "learning_rate_init": 1e-4}


def mlp_estimator(hidden, epochs, seed=0):
    return EnsLossMLPClassifier(
        hidden_layer_sizes=hidden,
        max_iter=epochs,
        early_stopping=False,
        device="cpu",
        random_state=seed,
        **PAPER,
    )


def loop_parts(X, y, hidden, seed=0):
    """The estimator's module, criterion and settings, through its public fitted ``net_``."""
    estimator = mlp_estimator(hidden, 1, seed)
    params = estimator.get_params()
    assert params["solver"] == "sgd" and params["learning_rate"] == "cosine"
    net = estimator.fit(X[:256], y[:256]).net_  # one short epoch builds them
    return net.module_, net.criterion_, params


def torch_loop(X, y, epochs, parts, seed=0):
    """The same training as EnsLossMLPClassifier, written as a bare PyTorch loop."""
    import torch

    module, criterion, params = parts
    module = copy.deepcopy(module).train()
    criterion.train()  # draws a random loss per batch, as in the estimator's training
    torch.manual_seed(seed)
    X = torch.as_tensor(X)
    Y = torch.as_tensor(np.where(y == 1, 1.0, -1.0).astype(np.float32)[:, None])
    optimizer = torch.optim.SGD(
        module.parameters(),
        lr=params["learning_rate_init"],
        momentum=params["momentum"],
        weight_decay=params["weight_decay"],
    )
    schedule = torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)
    batch = params["batch_size"]
    last = X.shape[0] - batch + 1 if params["batch_norm"] else X.shape[0]  # drop_last
    for _ in range(epochs):
        order = torch.randperm(X.shape[0])
        for start in range(0, last, batch):
            rows = order[start : start + batch]
            optimizer.zero_grad()
            loss = criterion(module(X[rows]), Y[rows])
            loss.backward()
            optimizer.step()
        schedule.step()


def mlp_rows(n, p, epochs, repeats, hidden):
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    parts = loop_parts(X, y, hidden)
    loop = median_time(lambda: torch_loop(X, y, epochs, parts), repeats) / epochs
    ours = median_time(lambda: mlp_estimator(hidden, epochs).fit(X, y), repeats) / epochs
    return [["plain torch loop", loop, 1.0], ["EnsLossMLPClassifier", ours, ours / loop]]


def linear_data(n, p, sparse, seed=0):
    rng = np.random.default_rng(seed)
    if sparse:
        X = sp.random(n, p, density=0.1, format="csr", random_state=seed, dtype=float)
        return X, (X @ rng.standard_normal(p) > 0).astype(int)
    X = rng.standard_normal((n, p))
    return X, (X @ rng.standard_normal(p) + rng.standard_normal(n) > 0).astype(int)


SGD_HINGE = 'SGDClassifier(loss="hinge")'
# the bars: a sparse epoch within 1.5x of SGDClassifier's, a net's within 1.15x
# of the bare loop's (as the least acceptable reference_s / ours_s)
SPARSE_TARGET = round(1 / 1.5, 3)
NET_TARGET = round(1 / 1.15, 3)


def measure(quick=False):
    """Rows for ``run_all.py``: seconds per epoch of ours and of the reference."""
    # the size even when quick (an epoch is milliseconds; at smaller n the data
    # sit in cache and the comparison says less about real use)
    n, repeats = 100_000, 3 if quick else 7
    p, lo, hi = 100, 1, 4
    rows = []
    for sparse in (False, True):
        X, y = linear_data(n, p, sparse)
        case = f"{'CSR 10% dense' if sparse else 'dense'} n={n} p=100, batch 128"
        methods = {
            SGD_HINGE: lambda e: SGDClassifier(loss="hinge", max_iter=e, tol=None, random_state=0),
            'SGDClassifier(loss="log_loss")': lambda e: SGDClassifier(
                loss="log_loss", max_iter=e, tol=None, random_state=0
            ),
            'EnsLossClassifier("ensloss")': lambda e: EnsLossClassifier(max_iter=e, random_state=0),
            'EnsLossClassifier("hinge")': lambda e: EnsLossClassifier(
                "hinge", max_iter=e, random_state=0
            ),
        }
        fits = [lambda e, m=make, X=X, y=y: m(e).fit(X, y) for make in methods.values()]
        seconds = dict(zip(methods, per_epoch(fits, lo, hi, repeats)))
        for ours, reference in [
            ('EnsLossClassifier("ensloss")', SGD_HINGE),
            ('EnsLossClassifier("hinge")', SGD_HINGE),
            ('EnsLossClassifier("ensloss")', 'SGDClassifier(loss="log_loss")'),
        ]:
            row = {
                "family": "ensloss",
                "case": case,
                "ours": ours + " epoch",
                "ours_s": seconds[ours],
                "reference": reference + " epoch",
                "reference_s": seconds[reference],
            }
            if sparse and ours == 'EnsLossClassifier("ensloss")' and reference == SGD_HINGE:
                row["target"] = SPARSE_TARGET
            rows.append(row)
    mlp_n = 4_000 if quick else 20_000
    loop, ours = mlp_per_epoch(mlp_n, p, lo, hi, 3 if quick else 5, (1024,))
    rows.append(
        {
            "family": "ensloss",
            "case": f"TabMLP 1x1024 n={mlp_n} p=100, batch 128, SGD + cosine",
            "ours": "EnsLossMLPClassifier epoch",
            "ours_s": ours,
            "reference": "bare torch loop epoch (same module, criterion, optimiser)",
            "reference_s": loop,
            "target": NET_TARGET,
        }
    )
    return rows


def mlp_per_epoch(n, p, lo, hi, repeats, hidden):
    """Seconds per epoch of the bare loop and of EnsLossMLPClassifier (slopes)."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((n, p)).astype(np.float32)
    y = (X[:, 0] + 0.5 * rng.standard_normal(n) > 0).astype(int)
    parts = loop_parts(X, y, hidden)
    fits = [
        lambda e: torch_loop(X, y, e, parts),
        lambda e: mlp_estimator(hidden, e).fit(X, y),
    ]
    loop, ours = per_epoch(fits, lo, hi, repeats)
    return loop, ours


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--p", type=int, default=100)
    parser.add_argument("--epochs", type=int, default=5)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--mlp-n", type=int, default=20_000)
    parser.add_argument("--depth", type=int, default=1)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((args.n, args.p))
    y = (X @ rng.standard_normal(args.p) + rng.standard_normal(args.n) > 0).astype(int)
    columns = ["method", "s per pass", "ratio"]
    print_table(
        f"linear, dense n={args.n} p={args.p}",
        linear_rows(X, y, args.epochs, args.repeats),
        columns,
    )
    X_csr = sp.random(args.n, args.p, density=0.1, format="csr", random_state=0, dtype=float)
    y_csr = (X_csr @ rng.standard_normal(args.p) > 0).astype(int)
    print_table(
        f"linear, CSR n={args.n} p={args.p} density 0.1",
        linear_rows(X_csr, y_csr, args.epochs, args.repeats),
        columns,
    )
    print_table(
        f"TabMLP {args.depth}x1024, n={args.mlp_n} p={args.p}, batch 128, 1 torch thread",
        mlp_rows(args.mlp_n, args.p, args.epochs, args.repeats, (1024,) * args.depth),
        ["method", "s per epoch", "ratio"],
    )


if __name__ == "__main__":
    main()
