"""Deep CCA on real two-view data that ships with scikit-learn, beside linear CCA.

Views (built here from bundled data):

- digits: the left and right halves (32 pixels each) of the 8 x 8 images;
  1,200 training rows, 597 held out.
- breast cancer: the 10 "mean" measurements against the 10 "worst" ones;
  380 training rows, 189 held out.

For each seed, DeepCCA (3 components) at its defaults, at ``max_iter=100`` with
early stopping off, and with the paper's unbiased batch estimate
(``loss="ey_unbiased"``), against ``CCA(3, regularization=0.01)`` on the same
split.  Reports held-out total canonical correlation (TCC: the sum of the
held-out correlations of the paired components) and the lowest per-epoch
training loss (bounded below by -3 for the batch estimate).  Usage::

    python benchmarks/deep_cca_real.py [--seeds 3]
"""

import argparse

import numpy as np
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split

from sklearn_losses.cross_decomposition import CCA, DeepCCA

N_COMPONENTS = 3


def views():
    images = load_digits().images
    yield "digits left|right", images[:, :, :4].reshape(-1, 32), images[:, :, 4:].reshape(-1, 32)
    X = load_breast_cancer().data
    yield "breast cancer mean|worst", X[:, :10], X[:, 20:]


def total_correlation(model, X, Y):
    return float(model.score(X, Y) * N_COMPONENTS)


def main(n_seeds):
    variants = {
        "DeepCCA()": {},
        "DeepCCA(max_iter=100, early_stopping=False)": {"max_iter": 100, "early_stopping": False},
        'DeepCCA(loss="ey_unbiased", max_iter=100, early_stopping=False)': {
            "loss": "ey_unbiased",
            "max_iter": 100,
            "early_stopping": False,
        },
    }
    print("| data | seed | model | held-out TCC | / linear | lowest train loss | epochs |")
    print("|---|---|---|---|---|---|---|")
    for name, X, Y in views():
        train_size = 1200 if X.shape[0] > 1200 else 2 / 3
        for seed in range(n_seeds):
            X_tr, X_te, Y_tr, Y_te = train_test_split(
                X, Y, train_size=train_size, random_state=seed
            )
            linear = CCA(N_COMPONENTS, regularization=0.01).fit(X_tr, Y_tr)
            base = total_correlation(linear, X_te, Y_te)
            print(f"| {name} | {seed} | CCA(reg 0.01) | {base:.3f} | 1.00 | | |")
            for label, params in variants.items():
                deep = DeepCCA(N_COMPONENTS, random_state=seed, **params).fit(X_tr, Y_tr)
                tcc = total_correlation(deep, X_te, Y_te)
                lowest = float(np.min(deep.net_.history[:, "train_loss"]))
                print(
                    f"| {name} | {seed} | {label} | {tcc:.3f} | {tcc / base:.2f} | "
                    f"{lowest:.3f} | {deep.n_iter_} |",
                    flush=True,
                )


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=3)
    main(parser.parse_args().seeds)
