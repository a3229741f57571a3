"""Do the neural estimators train at their defaults on small real data?

Each estimator is fitted at its defaults (behind a StandardScaler, as a user
would) on real data that ships with scikit-learn, over random splits, beside
what a user would otherwise pick.  Prints Markdown tables of means and standard
errors.  Usage::

    python benchmarks/neural_defaults.py [ensloss] [csib] [--splits 5]
"""

import argparse
import time

import numpy as np
from scipy.stats import sem
from sklearn.datasets import load_breast_cancer, load_diabetes, load_digits, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPRegressor
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler


def binary_tasks():
    """Three small real binary tasks: breast cancer, digits 3 vs 8, wine class 1 vs the rest."""
    X, y = load_breast_cancer(return_X_y=True)
    yield "breast cancer (569 x 30)", X, y
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, (3, 8))
    yield "digits 3 vs 8 (357 x 64)", X[keep], y[keep]
    X, y = load_wine(return_X_y=True)
    yield "wine class 1 vs rest (178 x 13)", X, (y == 1).astype(int)


def regression_tasks():
    """Three small real regression tasks built from bundled data."""
    X, y = load_diabetes(return_X_y=True)
    yield "diabetes (442 x 10)", X, y
    X, y = load_wine(return_X_y=True)
    # wine: predict the alcohol content from the other 12 measurements
    yield "wine alcohol (178 x 12)", np.delete(X, 0, axis=1), X[:, 0]
    X, _ = load_breast_cancer(return_X_y=True)
    # breast cancer: predict the (log) mean area from the shape and texture columns; every
    # size column (radius, perimeter, area: mean, error and worst) is left out
    size_columns = [0, 2, 3, 10, 12, 13, 20, 22, 23]
    yield "breast cancer log area (569 x 21)", np.delete(X, size_columns, axis=1), np.log(X[:, 3])


def compare(tasks, models, metric, n_splits, stratify):
    rows = []
    for name, X, y in tasks:
        scores = {label: [] for label in models}
        times = {label: 0.0 for label in models}
        for split in range(n_splits):
            X_tr, X_te, y_tr, y_te = train_test_split(
                X, y, test_size=0.25, random_state=split, stratify=y if stratify else None
            )
            for label, make in models.items():
                start = time.perf_counter()
                model = make(split).fit(X_tr, y_tr)
                times[label] += time.perf_counter() - start
                scores[label].append(metric(model, X_te, y_te))
        rows.append((name, scores, times))
    return rows


def print_table(title, rows, fmt):
    labels = list(rows[0][1])
    print(f"\n### {title}\n")
    print("| data | " + " | ".join(labels) + " |")
    print("|---|" + "---|" * len(labels))
    for name, scores, times in rows:
        cells = [f"{fmt(np.mean(s))} ± {fmt(sem(s))} ({times[k]:.0f} s)" for k, s in scores.items()]
        print(f"| {name} | " + " | ".join(cells) + " |")


def ensloss(n_splits):
    from sklearn_losses.ensloss import EnsLossMLPClassifier

    models = {
        "EnsLossMLPClassifier()": lambda s: make_pipeline(
            StandardScaler(), EnsLossMLPClassifier(random_state=s)
        ),
        "LogisticRegression()": lambda s: make_pipeline(StandardScaler(), LogisticRegression()),
    }

    def accuracy(model, X, y):
        return 100 * model.score(X, y)

    rows = compare(binary_tasks(), models, accuracy, n_splits, stratify=True)
    print_table("Test accuracy (%), defaults", rows, lambda v: f"{v:.1f}")


def csib(n_splits):
    from sklearn_losses.information_bottleneck import CSIBRegressor

    models = {
        "CSIBRegressor()": lambda s: CSIBRegressor(random_state=s),
        'CSIBRegressor(loss="mse", beta=0)': lambda s: CSIBRegressor(
            loss="mse", beta=0.0, random_state=s
        ),
        "MLPRegressor()": lambda s: make_pipeline(StandardScaler(), MLPRegressor(random_state=s)),
    }

    def rmse(model, X, y):
        return float(np.sqrt(np.mean((model.predict(X) - y) ** 2)))

    rows = compare(regression_tasks(), models, rmse, n_splits, stratify=False)
    print_table("Test RMSE, defaults", rows, lambda v: f"{v:.4g}")


if __name__ == "__main__":
    import torch

    torch.set_num_threads(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("which", nargs="*", default=["ensloss", "csib"])
    parser.add_argument("--splits", type=int, default=5)
    args = parser.parse_args()
    for which in args.which:
        {"ensloss": ensloss, "csib": csib}[which](args.splits)
