"""CS-IB speed: CSIBRegressor's epoch against a plain PyTorch loop with the same loss.

Run: ``python benchmarks/bench_csib.py [--n 8192 --epochs 3 --repeats 5]``.

Both train the estimator's network at its defaults (encoder 128x3, decoder 128) with
Adam at the authors' step (1e-4) on the CS-IB objective (conditional CS divergence +
0.01 normalized I_CS(x; t), float64 Gram matrices) over the same shuffled, drop-last
batches of Friedman #1 data; the loop is written by hand with no skorch, and takes the
module and the objective from the estimator's public fitted ``net_`` and every setting
from its parameters.  Reported per batch size: seconds per epoch, the
ratio, and seconds per batch, whose growth from 128 to 512 shows the quadratic cost
of the Gram matrices (16x if they dominated; 4x if the per-row layers did).
"""

import argparse
import copy

import numpy as np
from _timing import median_time, print_table
from sklearn.datasets import make_friedman1

from sklearn_losses.information_bottleneck import CSIBRegressor


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


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=8192)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    X, y = make_friedman1(args.n, noise=1.0, random_state=0)
    Xs = ((X - X.mean(0)) / X.std(0)).astype(np.float32)
    ys = ((y - y.mean()) / y.std()).astype(np.float32)[:, None]
    rows = []
    for batch_size in (128, 512):
        parts = loop_parts(X, y, batch_size)
        loop = median_time(lambda p=parts: torch_loop(Xs, ys, args.epochs, p), args.repeats)
        ours = median_time(lambda b=batch_size: estimator(args.epochs, b).fit(X, y), args.repeats)
        batches = args.n // batch_size
        rows.append(
            [f"plain loop bs={batch_size}", loop / args.epochs, 1.0, loop / args.epochs / batches]
        )
        rows.append(
            [
                f"CSIBRegressor bs={batch_size}",
                ours / args.epochs,
                ours / loop,
                ours / args.epochs / batches,
            ]
        )
    print_table(
        f"CS-IB, Friedman #1 n={args.n}, 1 torch thread",
        rows,
        ["method", "s per epoch", "ratio", "s per batch"],
    )


if __name__ == "__main__":
    main()
