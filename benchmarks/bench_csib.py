"""CS-IB speed: CSIBRegressor's epoch at batch 512 against batch 128, and against a bare loop.

Run: ``python benchmarks/bench_csib.py [--n 8192 --epochs 5 --repeats 7]``;
``benchmarks/run_all.py`` calls :func:`measure`.

Both train the estimator's network at its defaults (encoder 128x3, decoder 128) with
Adam at the authors' step (1e-4) on the CS-IB objective (conditional CS divergence,
default embedding estimate, + 0.01 normalized I_CS(x; t), float64 Gram matrices)
over shuffled, drop-last batches of Friedman #1 data; the loop is written by hand
with no skorch, and takes the module and the objective from the estimator's public
fitted ``net_`` and every setting from its parameters.

An epoch's time is the slope of the fit time in the number of epochs (the median,
over interleaved trials, of ``(t(hi) - t(lo)) / (hi - lo)``), so what a fit does
once cancels out.  Rows (``reference_s / ours_s`` is the ratio, above 1: ours faster):

- an epoch at batch 512 against one at batch 128, same data (issue #16: within 1.3x);
- the estimator's epoch against the bare loop's, at each batch size (within 1.15x);
- one batch of 512 rows, objective and gradient: the training objective
  (``_batch.Batch``: shared data-only terms, linear-domain sums, the embedding
  estimate's series) against the reference estimators of ``_loss.py`` (log domain,
  autograd), which training used before.

The caller sets the thread counts (``main``: one torch thread).
"""

import argparse
import copy

import numpy as np
from _timing import median_time, per_epoch, print_table
from sklearn.datasets import make_friedman1

from sklearn_losses.information_bottleneck import CSIBRegressor

FAMILY = "information_bottleneck"


def estimator(epochs, batch_size):
    return CSIBRegressor(
        max_iter=epochs,
        batch_size=batch_size,
        learning_rate_init=1e-4,  # the authors'
        early_stopping=False,
        device="cpu",
        random_state=0,
    )


def loop_parts(X, y, batch_size):
    """The estimator's module and objective (its public fitted ``net_``) and its settings."""
    reg = estimator(1, batch_size)
    params = reg.get_params()
    assert params["solver"] == "adam" and params["weight_decay"] == 0.0
    net = reg.fit(X[: 2 * batch_size], y[: 2 * batch_size]).net_  # a short epoch builds them
    return net, params


def torch_loop(X, y, epochs, parts):
    import torch

    net, params = parts
    module = copy.deepcopy(net.module_).train()
    torch.manual_seed(0)
    X = torch.as_tensor(X)
    Y = torch.as_tensor(y)
    optimizer = torch.optim.Adam(module.parameters(), lr=params["learning_rate_init"])
    batch_size = params["batch_size"]
    for _ in range(epochs):
        order = torch.randperm(X.shape[0])
        for start in range(0, X.shape[0] - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            # the estimator's objective, with the estimator's widths, beta and estimator
            loss = net.get_loss(module(X[rows]), Y[rows], X=X[rows])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()


def _data(n):
    X, y = make_friedman1(n, noise=1.0, random_state=0)
    # the loop gets what the estimator trains on: standardized float32
    Xs = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    ys = ((y - y.mean()) / y.std()).astype(np.float32)[:, None]
    return X, y, Xs, ys


def batch_objective_row(X, y, repeats, batch_size=512):
    """Objective + gradient of one batch: ``_batch.Batch`` against the reference estimators."""
    import torch

    from sklearn_losses.information_bottleneck import _nets

    net, _ = loop_parts(X, y, batch_size)
    _, _, Xs, ys = _data(len(X))
    x = torch.as_tensor(Xs[:batch_size]).double()
    target = torch.as_tensor(ys[:batch_size]).double()
    with torch.no_grad():
        y_hat, t = (a.double() for a in net.module_(torch.as_tensor(Xs[:batch_size])))
    y_hat.requires_grad_()
    t.requires_grad_()
    widths = {"sigma_x": net.sigma_x}

    def ours():
        net.get_loss((y_hat, t), target, X=x, training=False).backward()

    def reference():
        prediction = _nets.conditional_cs_divergence(
            x, target, y_hat, sigma_y=net.sigma_y, estimator=net.estimator, **widths
        )
        information = _nets.cs_mutual_information(
            x, t, sigma_t=net.sigma_t, normalized=net.normalize_mi, **widths
        )
        (prediction + net.beta * information).backward()

    return {
        "family": FAMILY,
        "case": f"CS-IB objective + gradient, one batch of {batch_size}, Friedman #1",
        "ours": "training objective (_batch)",
        "ours_s": median_time(ours, repeats),
        "reference": "reference estimators (_loss, before #16)",
        "reference_s": median_time(reference, repeats),
    }


def _measure(n, repeats, lo, hi):
    X, y, Xs, ys = _data(n)
    parts = {b: loop_parts(X, y, b) for b in (128, 512)}
    fits = [
        lambda e: estimator(e, 128).fit(X, y),
        lambda e: estimator(e, 512).fit(X, y),
        lambda e: torch_loop(Xs, ys, e, parts[128]),
        lambda e: torch_loop(Xs, ys, e, parts[512]),
    ]
    ours128, ours512, loop128, loop512 = per_epoch(fits, lo, hi, repeats)
    case = f"Friedman #1 n={n}, encoder 128x3, one epoch"
    return [
        {
            "family": FAMILY,
            "case": f"{case}: batch 512 against batch 128",
            "ours": "CSIBRegressor epoch, batch 512",
            "ours_s": ours512,
            "reference": "CSIBRegressor epoch, batch 128",
            "reference_s": ours128,
            "target": 1 / 1.3,
        },
        *(
            {
                "family": FAMILY,
                "case": f"{case}, batch {b}",
                "ours": "CSIBRegressor epoch",
                "ours_s": ours,
                "reference": "bare torch loop",
                "reference_s": loop,
                "target": 1 / 1.15,
            }
            for b, ours, loop in ((128, ours128, loop128), (512, ours512, loop512))
        ),
        batch_objective_row(X, y, max(repeats, 5)),
    ]


def measure(quick=False):
    """Rows ``{"family", "case", "ours", "ours_s", "reference", "reference_s", "target"}``."""
    if quick:
        return _measure(n=4096, repeats=5, lo=1, hi=4)
    return _measure(n=8192, repeats=7, lo=1, hi=5)


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=5, help="epochs of the longer fit")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    rows = _measure(args.n, args.repeats, 1, max(args.epochs, 2))
    print_table(
        "CS-IB, 1 torch thread, seconds (ratio: reference / ours, above 1: ours faster)",
        [
            [
                r["ours"],
                r["ours_s"],
                r["reference"],
                r["reference_s"],
                r["reference_s"] / r["ours_s"],
            ]
            for r in rows
        ],
        ["ours", "s", "reference", "s", "ratio"],
    )
    for r in rows:
        print(f"  {r['ours']} vs {r['reference']}: {r['case']}")


if __name__ == "__main__":
    main()
