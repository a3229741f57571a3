"""Zheng et al. (ICML 2023): naive Bayes needs O(log n) samples, logistic regression O(n).

Simulation: the K=2 "easy" Gaussian mixture on raw features (the paper's own
simulation code does not scale them; min-max scaling equalises the variances
and hides the effect), a training pool of 100 n, a test set of 10^4, sizes
``range(4, 100 n, ceil(ln n))`` walked with the paper's stopping rule, the
asymptote taken as the error at m = 100 n.  Real data: scikit-learn's digits,
min-max scaled per training subset, with the crossover size if there is one.
"""

import math

import numpy as np
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from ..datasets import bayes_error, make_gaussian_mixture
from ..naive_bayes import SharedVarianceGaussianNB, compare_learning_curves
from ._report import Report, Table, plot_target

MODELS = ("naive Bayes", "logistic C=1")


def _models():
    return {
        MODELS[0]: SharedVarianceGaussianNB(var_smoothing=1e-9),
        MODELS[1]: LogisticRegression(C=1.0, max_iter=1000),
    }


def simulate(n_features, *, n_repeats=5, n_test=10_000, tol=0.01, random_state=0):
    """Samples needed by each model to come within ``tol`` of its asymptote at one n."""
    rng = np.random.RandomState(random_state)
    X, y = make_gaussian_mixture(100 * n_features, n_features, random_state=rng)
    X_test, y_test = make_gaussian_mixture(n_test, n_features, random_state=rng)
    sizes = list(range(4, 100 * n_features, math.ceil(math.log(n_features))))
    sizes.append(100 * n_features)
    result = compare_learning_curves(
        _models(),
        X,
        y,
        X_test=X_test,
        y_test=y_test,
        train_sizes=sizes,
        n_repeats=n_repeats,
        sampling="uniform",
        scaler=None,
        stop_tol=tol,
        random_state=rng,
    )
    return result, result.samples_to_within(tol)


def growth_exponent(n_values, samples):
    """Slope of log(samples) against log(n): about 0 for log-growth, 1 for linear growth."""
    return float(np.polyfit(np.log(n_values), np.log(samples), 1)[0])


def run(*, quick=False, out=None, random_state=0):
    report = Report("naive_bayes")
    n_values = [100, 200, 400] if quick else [100, 200, 400, 1000]
    table = Table(
        "K=2 easy mixture, raw features: training size to come within 0.01 of the asymptote",
        ["n", "Bayes error", "NB samples", "LR samples", "NB asymptote", "LR asymptote"],
    )
    needed = {name: [] for name in MODELS}
    curves = {}
    for n in n_values:
        result, within = simulate(n, random_state=random_state)
        curves[n] = result
        for name in MODELS:
            needed[name].append(within[name])
        table.add_row(
            n,
            bayes_error(n)[0],
            within[MODELS[0]],
            within[MODELS[1]],
            result.asymptote(MODELS[0]),
            result.asymptote(MODELS[1]),
        )
    report.tables.append(table)

    growth = Table(
        "Growth of the samples needed with n",
        ["model", f"ratio n={n_values[-1]}/n=100", "log-log slope", "reading"],
    )
    for name in MODELS:
        m = np.asarray(needed[name], dtype=float)
        slope = growth_exponent(n_values, m)
        reading = "O(log n)-like" if slope < 0.3 else "O(n)-like" if slope > 0.7 else "between"
        growth.add_row(name, m[-1] / m[0], slope, reading)
        report.results[name] = {"n": n_values, "samples": needed[name], "slope": slope}
    report.tables.append(growth)

    digits = _digits_curve(n_repeats=3 if quick else 5, random_state=random_state)
    crossover = digits.crossover_size(MODELS[1], MODELS[0])
    real = Table(
        "digits (64 features, 10 classes), min-max scaled per subset: test error", ["m", *MODELS]
    )
    for j, m in enumerate(digits.train_sizes):
        real.add_row(int(m), *(float(digits.mean[i, j]) for i in range(len(MODELS))))
    report.tables.append(real)
    report.notes.append(
        f"digits: logistic regression stays below naive Bayes from m = {crossover}"
        if crossover
        else "digits: no crossover within the sizes tried"
    )
    report.results["digits_crossover"] = crossover
    report.results["digits"] = digits
    report.plots += _plot(curves, digits, out)
    return report


def _digits_curve(n_repeats, random_state):
    X, y = load_digits(return_X_y=True)
    sizes = [10, 20, 40, 70, 100, 200, 400, 700, 1000, 1347]
    return compare_learning_curves(
        _models(),
        X,
        y,
        train_sizes=sizes,
        n_repeats=n_repeats,
        scaler="minmax",
        random_state=random_state,
    )


def _plot(curves, digits, out):
    path = plot_target(out, "naive_bayes_learning_curves.png")
    if path is None:
        return []
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    n = max(curves)
    curves[n].plot(axes[0], theory={MODELS[0]: "naive_bayes", MODELS[1]: "logistic"})
    axes[0].set_title(f"simulation, n = {n} features, raw")
    digits.plot(axes[1])
    axes[1].set_title("digits, min-max scaled")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return [path]
