"""CS-IB speed: CSIBRegressor's epoch against a plain PyTorch loop with the same loss.

Run: ``python benchmarks/bench_csib.py [--n 8192 --epochs 3 --repeats 5]``.

Both train the authors' network (encoder 128x3, decoder 128) with Adam on the CS-IB
objective (conditional CS divergence + 0.01 normalized I_CS(x; t), float64 Gram
matrices) over the same shuffled, drop-last batches of Friedman #1 data; the loop is
written by hand with no skorch.  Reported per batch size: seconds per epoch, the
ratio, and seconds per batch, whose growth from 128 to 512 shows the quadratic cost
of the Gram matrices (16x if they dominated; 4x if the per-row layers did).
"""

import argparse

import numpy as np
from _timing import median_time, print_table
from sklearn.datasets import make_friedman1

from sklearn_losses.information_bottleneck import CSIBRegressor


def torch_loop(X, y, epochs, batch_size, beta=1e-2):
    import torch

    from sklearn_losses.information_bottleneck._nets import (
        BottleneckNetwork,
        conditional_cs_divergence,
        cs_mutual_information,
    )

    torch.manual_seed(0)
    X = torch.as_tensor(X)
    Y = torch.as_tensor(y)
    module = BottleneckNetwork(X.shape[1], 1, (128, 128, 128), (128,), 0.0)
    optimizer = torch.optim.Adam(module.parameters(), lr=1e-4)
    module.train()
    for _ in range(epochs):
        order = torch.randperm(X.shape[0])
        for start in range(0, X.shape[0] - batch_size + 1, batch_size):
            rows = order[start : start + batch_size]
            x, target = X[rows].double(), Y[rows].double()
            y_hat, t = module(X[rows])
            loss = conditional_cs_divergence(
                x, target, y_hat.double(), sigma_x=1.0, sigma_y=1.0
            ) + beta * cs_mutual_information(
                x, t.double(), sigma_x=1.0, sigma_t=1.0, normalized=True
            )
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
        loop = median_time(lambda b=batch_size: torch_loop(Xs, ys, args.epochs, b), args.repeats)
        ours = median_time(
            lambda b=batch_size: CSIBRegressor(
                max_iter=args.epochs,
                batch_size=b,
                learning_rate_init=1e-4,  # as the loop
                early_stopping=False,
                device="cpu",
                random_state=0,
            ).fit(X, y),
            args.repeats,
        )
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
