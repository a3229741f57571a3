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
from ..naive_bayes import (
    SharedVarianceGaussianNB,
    compare_learning_curves,
    fit_rate_scale,
    theoretical_rate,
)
from ._report import Report, Table, new_figure, one_thread, plot_target, progress, save_figure

MODELS = ("naive Bayes", "logistic C=1")


def _models():
    return {
        MODELS[0]: SharedVarianceGaussianNB(var_smoothing=1e-9),
        MODELS[1]: LogisticRegression(C=1.0, max_iter=1000),
    }


def _settings(quick):
    return {
        "n_values": [100, 200, 400] if quick else [100, 200, 400, 1000],
        "digits_repeats": 3 if quick else 5,
    }


def plan(quick=False):
    n_values = _settings(quick)["n_values"]
    return [
        f"simulation, n = {', '.join(map(str, n_values))} features: naive Bayes and logistic "
        "regression on training subsets of growing size (5 draws each) until each comes within "
        "0.01 of its error at m = 100 n",
        f"digits: learning curves of both, {_settings(quick)['digits_repeats']} draws per size",
        "plot: naive_bayes_learning_curves.png",
    ]


def simulate(n_features, *, n_repeats=5, n_test=10_000, tol=0.01, random_state=0):
    """Samples needed by each model to come within ``tol`` of its asymptote at one n."""
    rng = np.random.RandomState(random_state)
    X, y = make_gaussian_mixture(100 * n_features, n_features, random_state=rng)
    X_test, y_test = make_gaussian_mixture(n_test, n_features, random_state=rng)
    sizes = list(range(4, 100 * n_features, math.ceil(math.log(n_features))))
    sizes.append(100 * n_features)
    with one_thread():  # hundreds of small logistic fits: see one_thread
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


def _fixed(decimals):
    return lambda v: f"{v:.{decimals}f}"


def run(*, quick=False, out=None, random_state=0):
    report = Report("naive_bayes")
    settings = _settings(quick)
    n_values = settings["n_values"]
    table = Table(
        "K=2 easy mixture, raw features: training size to come within 0.01 of the asymptote",
        ["n", "Bayes error", "NB samples", "LR samples", "NB asymptote", "LR asymptote"],
        formats={"Bayes error": ".0e", "NB asymptote": _fixed(4), "LR asymptote": _fixed(4)},
    )
    needed = {name: [] for name in MODELS}
    curves = {}
    for n in progress(n_values, "simulation, one n at a time"):
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
    table.legend = {
        "n": "number of features; training pool 100 n rows, test set 10^4 rows",
        "Bayes error": "error of the optimal classifier, Phi(-sqrt(2n + 2) / 2): the two classes "
        "are all but separable, far below the 1e-4 a test set of 10^4 can resolve",
        "samples": "smallest training size m whose mean test error (5 draws) is within 0.01 of "
        "the asymptote; sizes 4, 4 + ceil(ln n), ...",
        "asymptote": "mean test error at m = 100 n; 0.0000: no test point misclassified, both "
        "models reach the Bayes error as far as 10^4 points can tell",
    }
    nb, lr = (np.asarray(needed[name], dtype=float) for name in MODELS)
    per_n = ", ".join(f"{m / n:.2f} n" for m, n in zip(lr, n_values))
    table.reading = (
        f"naive Bayes needs {nb.min():.0f}-{nb.max():.0f} samples at every n; logistic "
        f"regression needs {per_n}: the paper's O(log n) against O(n)."
    )
    report.tables.append(table)

    growth = Table(
        "Growth of the samples needed with n",
        ["model", f"ratio n={n_values[-1]}/n=100", "log-log slope", "reading"],
        legend={
            "ratio": f"samples needed at n={n_values[-1]} / at n=100 "
            f"({n_values[-1] // 100}x the features)",
            "log-log slope": "slope of log(samples) on log(n): about 0 for logarithmic growth, "
            "1 for linear growth",
        },
    )
    for name in MODELS:
        m = np.asarray(needed[name], dtype=float)
        slope = growth_exponent(n_values, m)
        reading = "O(log n)-like" if slope < 0.3 else "O(n)-like" if slope > 0.7 else "between"
        growth.add_row(name, m[-1] / m[0], slope, reading)
        report.results[name] = {"n": n_values, "samples": needed[name], "slope": slope}
    report.tables.append(growth)

    digits = _digits_curve(n_repeats=settings["digits_repeats"], random_state=random_state)
    crossover = digits.crossover_size(MODELS[1], MODELS[0])
    real = Table(
        "digits (64 features, 10 classes), min-max scaled per subset: test error",
        ["m", *MODELS],
        legend={
            "m": f"training size, stratified draws ({settings['digits_repeats']} per size) from "
            "three quarters of digits; test error on the held-out quarter"
        },
    )
    for j, m in enumerate(digits.train_sizes):
        real.add_row(int(m), *(float(digits.mean[i, j]) for i in range(len(MODELS))))
    real.reading = _digits_reading(digits, crossover)
    report.tables.append(real)
    report.results["digits_crossover"] = crossover
    report.results["digits"] = digits
    report.plots += _plot(curves, digits, out)
    return report


def _digits_reading(digits, crossover):
    nb, lr = digits.mean[0], digits.mean[1]
    if crossover is None:
        return "the curves cross more than once or not at all within the sizes tried."
    if crossover == digits.train_sizes[0]:
        head = (
            f"logistic regression is below naive Bayes at every size tried (from m = {crossover})"
        )
    else:
        head = (
            f"naive Bayes is the better model below m = {crossover}, logistic regression from "
            "there on"
        )
    return (
        f"{head}: here naive Bayes loses. It converges fast, but to a worse asymptote "
        f"({nb[-1]:.3f} against {lr[-1]:.3f} at m = {int(digits.train_sizes[-1])}): its "
        "diagonal covariance ignores how neighbouring pixels move together."
    )


def _digits_curve(n_repeats, random_state):
    X, y = load_digits(return_X_y=True)
    sizes = [10, 20, 40, 70, 100, 200, 400, 700, 1000, 1347]
    with one_thread():
        return compare_learning_curves(
            _models(),
            X,
            y,
            train_sizes=sizes,
            n_repeats=n_repeats,
            scaler="minmax",
            random_state=random_state,
        )


def _draw_curves(ax, result, theory=None):
    """Mean test error with standard-error bands; dashed, the theoretical rate fitted to it."""
    sizes = result.train_sizes
    for i, name in enumerate(result.names):
        keep = np.isfinite(result.mean[i])
        mean, sem = result.mean[i, keep], np.nan_to_num(result.sem[i, keep])
        (line,) = ax.plot(sizes[keep], mean, marker=".", label=name)
        ax.fill_between(sizes[keep], mean - sem, mean + sem, color=line.get_color(), alpha=0.2)
        if theory:
            asymptote = result.asymptote(name)
            kind = theory[name]
            scale = fit_rate_scale(sizes[keep], mean - asymptote, result.n_features, kind)
            rate = theoretical_rate(sizes[keep], result.n_features, kind, scale)
            ax.plot(sizes[keep], asymptote + rate, ls="--", color=line.get_color())
    if theory:
        # one legend entry for both dashed lines: each is already named by its colour
        ax.plot(
            [],
            [],
            ls="--",
            color="grey",
            label="theory, scaled to fit: sqrt(log n / m) (NB), sqrt(n / m) (LR)",
        )
    ax.set_xscale("log")
    ax.set_xlabel("training size m")
    ax.set_ylabel("test error")
    ax.legend(fontsize="small")


def _plot(curves, digits, out):
    path = plot_target(out, "naive_bayes_learning_curves.png")
    if path is None:
        return []
    fig, axes = new_figure(1, 2, figsize=(11, 4))
    n = max(curves)
    _draw_curves(axes[0], curves[n], theory={MODELS[0]: "naive_bayes", MODELS[1]: "logistic"})
    axes[0].set_title(f"simulation, n = {n} features, raw (each curve stops at its asymptote)")
    _draw_curves(axes[1], digits)
    axes[1].set_title("digits, min-max scaled")
    return save_figure(fig, path)
