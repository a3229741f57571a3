"""Javanmard et al. (ICLR 2024): bag-level vs instance-level losses, and private bags.

1. Bias-variance: d = 50, x ~ N(0, I), ||theta|| = 1, n in {1000, 2000}, noise sigma in
   {0.5, 1}, bag size k in {2, 5, 10, 20} with at least 2d bags; rho = 0 (bag level),
   rho = 1 (instance level) and rho chosen by 5-fold GroupKFold on held-out bag
   aggregates over {0} and 25 log-spaced values down to 1e-3.  Risk ||theta_hat - theta||^2.
2. Privacy: n = 4000, d = 20, sigma = 0.5, responses clipped to [-3, 3], Laplace noise on
   the bag means (epsilon-label-DP); risk against bag size for several epsilon, with
   ridge at k = 1 tuned by CV beside it.
3. Real data: scikit-learn's diabetes with random bags, test MSE on individual responses.
"""

import numpy as np
from sklearn.datasets import load_diabetes
from sklearn.linear_model import RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    aggregate_responses,
    make_bags,
    privatize_responses,
)
from ._report import Report, Table, plot_target

CELLS = [
    (sigma, n, k)
    for sigma in (0.5, 1.0)
    for n in (1000, 2000)
    for k in (2, 5, 10, 20)
    if n // k >= 100
]
EPSILONS = (0.5, 1.0, 2.0, 8.0)
BAG_SIZES = (1, 2, 4, 8, 16)


def _linear_data(rng, n, d, sigma):
    theta = rng.standard_normal(d)
    theta /= np.linalg.norm(theta)
    X = rng.standard_normal((n, d))
    return X, X @ theta + sigma * rng.standard_normal(n), theta


def bias_variance_cell(sigma, n, k, *, d=50, n_reps=100, random_state=0):
    """Risks (n_reps, 3) of rho = 0, rho = 1 and CV-rho in one cell."""
    rng = np.random.default_rng(random_state)
    risks = np.empty((n_reps, 3))
    for r in range(n_reps):
        X, y, theta = _linear_data(rng, n, d, sigma)
        bags = make_bags(n, k, random_state=rng.integers(2**31))
        y_bag = aggregate_responses(y, bags)
        models = (
            AggregateLinearRegression(rho=0.0),
            AggregateLinearRegression(rho=1.0),
            AggregateLinearRegressionCV(cv=5),
        )
        for j, model in enumerate(models):
            risks[r, j] = np.sum((model.fit(X, y_bag, bags=bags).coef_ - theta) ** 2)
    return risks


def privacy_curve(
    epsilon, *, n=4000, d=20, sigma=0.5, bounds=(-3.0, 3.0), n_reps=100, random_state=0
):
    """Risks (n_reps, len(BAG_SIZES) + 1): CV-rho at each bag size, then ridge-CV at k = 1."""
    rng = np.random.default_rng(random_state)
    risks = np.empty((n_reps, len(BAG_SIZES) + 1))
    for r in range(n_reps):
        X, y, theta = _linear_data(rng, n, d, sigma)
        for j, k in enumerate(BAG_SIZES):
            bags = make_bags(n, k, random_state=rng.integers(2**31))
            y_private = privatize_responses(
                y, bags, epsilon=epsilon, bounds=bounds, random_state=rng.integers(2**31)
            )
            model = AggregateLinearRegressionCV(cv=5).fit(X, y_private, bags=bags)
            risks[r, j] = np.sum((model.coef_ - theta) ** 2)
            if k == 1:
                ridge = RidgeCV(alphas=np.logspace(-2, 5, 30)).fit(X, y_private)
                risks[r, -1] = np.sum((ridge.coef_ - theta) ** 2)
    return risks


def diabetes_bags(bag_size, *, n_splits=5, random_state=0):
    """Test MSE (n_splits, 3) of rho = 0, rho = 1 and CV-rho on diabetes with random bags."""
    X, y = load_diabetes(return_X_y=True)
    rng = np.random.default_rng(random_state)
    mse = np.empty((n_splits, 3))
    for s in range(n_splits):
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.3, random_state=rng.integers(2**31)
        )
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
        bags = make_bags(len(y_tr), bag_size, random_state=rng.integers(2**31))
        y_bag = aggregate_responses(y_tr, bags)
        models = (
            AggregateLinearRegression(rho=0.0),
            AggregateLinearRegression(rho=1.0),
            AggregateLinearRegressionCV(cv=5),
        )
        for j, model in enumerate(models):
            mse[s, j] = np.mean((model.fit(X_tr, y_bag, bags=bags).predict(X_te) - y_te) ** 2)
    return mse


def run(*, quick=False, out=None, random_state=0):
    n_reps = 20 if quick else 100
    report = Report("aggregate")
    table = Table(
        f"Bias-variance, d=50, {n_reps} replicates: mean risk ||theta_hat - theta||^2",
        [
            "sigma",
            "n",
            "k",
            "bags",
            "rho=0",
            "rho=1",
            "rho by CV",
            "CV / best",
            "CV - best (paired SE)",
        ],
    )
    cells = {}
    for c, (sigma, n, k) in enumerate(CELLS):
        risks = bias_variance_cell(sigma, n, k, n_reps=n_reps, random_state=random_state + c)
        cells[(sigma, n, k)] = risks
        best = int(np.argmin(risks[:, :2].mean(axis=0)))
        diff = risks[:, 2] - risks[:, best]
        se = diff.std(ddof=1) / np.sqrt(n_reps)
        table.add_row(
            sigma,
            n,
            k,
            n // k,
            *(float(v) for v in risks.mean(axis=0)),
            float(risks[:, 2].mean() / risks[:, best].mean()),
            f"{diff.mean():+.4f} ({se:.4f})",
        )
    report.tables.append(table)
    report.results["bias_variance"] = cells

    privacy = Table(
        f"Label-DP bag means, n=4000, d=20, sigma=0.5, clip [-3, 3], {n_reps} replicates: "
        "mean risk with rho by CV",
        ["epsilon", *[f"k={k}" for k in BAG_SIZES], "best k", "best / k=1 OLS", "k=1 ridge-CV"],
    )
    curves = {}
    for e, epsilon in enumerate(EPSILONS):
        risks = privacy_curve(epsilon, n_reps=n_reps, random_state=random_state + 100 + e)
        curves[epsilon] = risks
        mean = risks.mean(axis=0)
        best = int(np.argmin(mean[: len(BAG_SIZES)]))
        privacy.add_row(
            epsilon,
            *(float(v) for v in mean[: len(BAG_SIZES)]),
            BAG_SIZES[best],
            float(mean[best] / mean[0]),
            float(mean[-1]),
        )
    report.tables.append(privacy)
    report.results["privacy"] = curves
    report.notes.append(
        "k=1 is unregularised least squares on the noisy responses; the gain of bagging under "
        "privacy is largely shrinkage: ridge at k=1 tuned by CV comes close to the best bag size."
    )

    real = Table(
        "diabetes, random bags, 5 random 70/30 splits: test MSE on individual responses",
        ["bag size", "rho=0", "rho=1", "rho by CV"],
    )
    for k in (5, 10):
        mse = diabetes_bags(k, random_state=random_state)
        real.add_row(k, *(float(v) for v in mse.mean(axis=0)))
    report.tables.append(real)
    report.plots += _plot(cells, curves, out)
    return report


def _plot(cells, curves, out):
    path = plot_target(out, "aggregate_tradeoffs.png")
    if path is None:
        return []
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    sigma, n = 1.0, 2000
    ks = [k for (s, m, k) in cells if s == sigma and m == n]
    for j, label in enumerate(("rho=0 (bag level)", "rho=1 (instance level)", "rho by CV")):
        axes[0].plot(ks, [cells[(sigma, n, k)][:, j].mean() for k in ks], marker="o", label=label)
    axes[0].set_xlabel("bag size k")
    axes[0].set_ylabel("risk ||theta_hat - theta||^2")
    axes[0].set_title(f"sigma={sigma}, n={n}, d=50")
    axes[0].legend()
    for epsilon, risks in curves.items():
        mean = risks[:, : len(BAG_SIZES)].mean(axis=0)
        (line,) = axes[1].plot(BAG_SIZES, mean, marker="o", label=f"epsilon={epsilon}")
        best = int(np.argmin(mean))
        axes[1].plot(BAG_SIZES[best], mean[best], marker="*", ms=15, color=line.get_color())
    axes[1].set_xscale("log", base=2)
    axes[1].set_yscale("log")
    axes[1].set_xlabel("bag size k")
    axes[1].set_ylabel("risk (rho by CV)")
    axes[1].set_title("label-DP bag means: best bag size (stars)")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]
