"""Chapman, Wells & Lawry Aguila (ICLR 2024): CCA by the Eckart-Young loss, exact to deep.

On two views with known correlations (n = 20000, p = 200 per view, 5 components), on a
nonlinear pair (Deep CCA against linear CCA) and on the left and right halves of
scikit-learn's digits: our exact, stochastic and deep CCA beside scikit-learn's CCA (and
cca-zoo's exact CCA where installed).  Reported: proportion of the exact training
correlation captured (PCC), held-out total canonical correlation (TCC) and fit time.
"""

import time

import numpy as np
from sklearn.cross_decomposition import CCA as SklearnCCA
from sklearn.datasets import load_digits

from ..cross_decomposition import CCA, DeepCCA, StochasticCCA
from ..cross_decomposition._base import paired_correlations
from ..datasets import make_multiview
from ._report import Report, Table, plot_target


def _total_correlation(x_scores, y_scores):
    return float(paired_correlations(x_scores, y_scores).sum())


class _CcaZoo:
    """cca-zoo's (>= 4) exact CCA behind our fit/transform signature, when installed."""

    def __init__(self, n_components):
        from cca_zoo.linear import CCA as ZooCCA

        self.model = ZooCCA(n_components=n_components)

    def fit(self, X, Y):
        self.model.fit([X, Y])
        return self

    def transform(self, X, Y):
        return tuple(self.model.transform([X, Y]))


def _models(k, quick, seed, c=0.0):
    models = {
        "CCA (exact)": CCA(k, regularization=c),
        "StochasticCCA bs=100": StochasticCCA(
            k, regularization=c, batch_size=100, max_iter=30, random_state=seed
        ),
        "DeepCCA (MLP 64)": DeepCCA(
            k,
            hidden_layer_sizes=(64,),
            max_iter=10 if quick else 30,
            batch_size=128,
            random_state=seed,
        ),
        "sklearn CCA (NIPALS)": SklearnCCA(k, max_iter=500),
    }
    try:  # cca-zoo is optional; 2.5.0 breaks on scikit-learn >= 1.6 (no _get_tags)
        probe = np.random.default_rng(0).standard_normal((40, 2 * k))
        _CcaZoo(k).fit(probe[:, :k], probe[:, k:])
        models["cca-zoo CCA"] = _CcaZoo(k)
    except Exception:  # noqa: BLE001 - any failure of the optional peer just skips it
        pass
    return models


def compare(X, Y, X_test, Y_test, k, *, quick=False, seed=0, regularization=0.0):
    """Rows of (name, PCC, held-out TCC, fit seconds) and the fitted models."""
    rows, fitted, reference = [], {}, None
    for name, model in _models(k, quick, seed, regularization).items():
        start = time.perf_counter()
        model.fit(X, Y)
        seconds = time.perf_counter() - start
        train = _total_correlation(*model.transform(X, Y))
        reference = reference or train  # the exact solver comes first
        rows.append(
            (name, train / reference, _total_correlation(*model.transform(X_test, Y_test)), seconds)
        )
        fitted[name] = model
    return rows, fitted


def run(*, quick=False, out=None, random_state=0):
    report = Report("cca")
    n, p = (6000, 50) if quick else (20_000, 200)
    X, Y = make_multiview(
        2 * n, (p, p), correlations=(0.9, 0.8, 0.7, 0.6, 0.5), random_state=random_state
    )
    rows, fitted = compare(X[:n], Y[:n], X[n:], Y[n:], 5, quick=quick, seed=random_state)
    table = Table(
        f"Linear views, n={n} train + {n} test, p={p} per view, correlations (.9,.8,.7,.6,.5)",
        ["method", "PCC (train)", "held-out TCC", "fit s"],
    )
    for row in rows:
        table.add_row(*row)
    report.tables.append(table)
    report.results["linear"] = rows

    Xn, Yn = make_multiview(
        8000, (10, 10), correlations=(0.9, 0.8, 0.7), nonlinear=True, random_state=random_state
    )
    linear = CCA(3).fit(Xn[:4000], Yn[:4000])
    deep = DeepCCA(
        3,
        hidden_layer_sizes=(128, 128),
        batch_size=32,
        max_iter=10 if quick else 30,
        random_state=random_state,
    )
    start = time.perf_counter()
    deep.fit(Xn[:4000], Yn[:4000])
    seconds = time.perf_counter() - start
    nonlinear = Table(
        "Nonlinear views (Y sees cos(pi t)), 4000 + 4000, 3 components: held-out TCC (oracle 2.4)",
        ["method", "held-out TCC", "fit s"],
    )
    nonlinear.add_row("CCA (linear)", 3 * linear.score(Xn[4000:], Yn[4000:]), "-")
    nonlinear.add_row(
        "DeepCCA (EY, MLP 128x128, bs=32)", 3 * deep.score(Xn[4000:], Yn[4000:]), seconds
    )
    report.tables.append(nonlinear)
    report.results["nonlinear"] = (
        3 * linear.score(Xn[4000:], Yn[4000:]),
        3 * deep.score(Xn[4000:], Yn[4000:]),
    )

    images = load_digits().images
    left = images[:, :, :4].reshape(len(images), -1)
    right = images[:, :, 4:].reshape(len(images), -1)
    rng = np.random.default_rng(random_state)
    order = rng.permutation(len(images))
    train, test = order[:1200], order[1200:]
    # pixels that are always blank carry nothing; ridge c=0.1 for the collinear rest
    left, right = left[:, left[train].std(0) > 0], right[:, right[train].std(0) > 0]
    rows, _ = compare(
        left[train],
        right[train],
        left[test],
        right[test],
        5,
        quick=quick,
        seed=random_state,
        regularization=0.1,
    )
    digits = Table(
        "digits: left vs right image halves, 1200 train / 597 test, ridge c=0.1 "
        "(sklearn CCA has no ridge: c=0)",
        ["method", "PCC (train)", "held-out TCC", "fit s"],
    )
    for row in rows:
        digits.add_row(*row)
    report.tables.append(digits)
    report.results["digits"] = rows
    report.plots += _plot(fitted, X[n:], Y[n:], out)
    return report


def _plot(fitted, X_test, Y_test, out):
    path = plot_target(out, "cca_scores_and_convergence.png")
    if path is None:
        return []
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    x_scores, y_scores = fitted["CCA (exact)"].transform(X_test, Y_test)
    axes[0].scatter(x_scores[:2000, 0], y_scores[:2000, 0], s=3, alpha=0.4)
    axes[0].set_xlabel("X score 1")
    axes[0].set_ylabel("Y score 1")
    axes[0].set_title("held-out canonical scores (first pair)")
    sgd = fitted["StochasticCCA bs=100"]
    axes[1].plot(np.arange(1, len(sgd.loss_curve_) + 1), sgd.loss_curve_, marker="o")
    exact = fitted["CCA (exact)"]
    axes[1].axhline(
        -np.sum(exact.eigenvalues_**2),
        color="k",
        ls="--",
        label="minimum: -sum of squared correlations",
    )
    axes[1].set_xlabel("epoch")
    axes[1].set_ylabel("Eckart-Young loss (full data)")
    axes[1].set_title("StochasticCCA convergence")
    axes[1].legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]
