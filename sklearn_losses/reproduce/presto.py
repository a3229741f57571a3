"""Faletto & Bien (ICML 2023), Section 4.1: rare-class probabilities in the sparse setting.

Sparse setting, intercepts (0, 3.5, 5.5), n = 2500, p = 10, K = 4 (the top class
has about 0.7% of the samples).  PRESTO (5-fold Brier CV over 20 alphas down to
0.01 alpha_max, the largest alpha at the minimum) against proportional odds and
an unpenalised logistic regression of the rare class.  Metric: the in-sample
mean squared error of the estimated rare-class probability against the truth.
"""

import numpy as np
from scipy.stats import ttest_rel
from sklearn.linear_model import LogisticRegression

from ..datasets import make_presto_data
from ..ordinal import PRESTOClassifierCV, ProportionalOddsClassifier
from ._report import Report, Table, new_figure, plot_target, progress, save_figure

METHODS = ("PRESTO", "proportional odds", "logistic (rare class)")


def _n_reps(quick):
    return 10 if quick else 100


def plan(quick=False):
    return [
        f"{_n_reps(quick)} simulated data sets (sparse setting, n=2500, p=10, K=4, rare class "
        "about 0.7%); on each: PRESTOClassifierCV (5-fold CV over 20 alphas), proportional "
        "odds and a logistic regression of the rare class",
        "plot: presto_rare_class.png (PRESTO path of one fit, MSE box plots)",
    ]


def replicate(seed, *, n_samples=2500, intercepts=(0.0, 3.5, 5.5), setting="sparse"):
    """Rare-class probability MSE of the three methods on one simulated data set."""
    X, y, proba = make_presto_data(
        n_samples, 10, intercepts=intercepts, setting=setting, random_state=seed
    )
    rare = proba[:, -1]
    top = y.max()
    presto = PRESTOClassifierCV(alphas=20, alpha_min_ratio=0.01, cv=5).fit(X, y)
    po = ProportionalOddsClassifier().fit(X, y)
    logit = LogisticRegression(C=np.inf, max_iter=10_000).fit(X, y == top)
    estimates = (
        presto.predict_proba(X)[:, -1],
        po.predict_proba(X)[:, -1],
        logit.predict_proba(X)[:, 1],
    )
    return np.array([np.mean((p - rare) ** 2) for p in estimates]), presto


def run(*, quick=False, out=None, random_state=0):
    n_reps = _n_reps(quick)
    seeds = np.random.RandomState(random_state).randint(2**31 - 1, size=n_reps)
    mse = np.empty((n_reps, 3))
    example = None
    for r, seed in enumerate(progress(seeds, "replications")):
        mse[r], model = replicate(seed)
        example = example or model
    report = Report("presto")
    table = Table(
        f"Sparse setting, intercepts (0, 3.5, 5.5), n=2500, p=10, K=4: rare-class probability "
        f"MSE over {n_reps} replications",
        [
            "method",
            "median MSE",
            "mean MSE",
            "median ratio",
            "PRESTO better in",
            "paired p",
        ],
    )
    for j, name in enumerate(METHODS):
        if j == 0:
            table.add_row(name, float(np.median(mse[:, 0])), float(mse[:, 0].mean()), "-", "-", "-")
            continue
        ratio = mse[:, 0] / mse[:, j]
        p_value = ttest_rel(mse[:, 0], mse[:, j], alternative="less").pvalue
        table.add_row(
            name,
            float(np.median(mse[:, j])),
            float(mse[:, j].mean()),
            float(np.median(ratio)),
            f"{np.mean(ratio < 1):.0%}",
            float(p_value),
        )
    table.legend = {
        "MSE": "mean over the 2500 rows of (estimated - true rare-class probability)^2, one "
        "value per replication; median and mean over the replications",
        "median ratio": "median over replications of PRESTO's MSE / the method's (< 1: PRESTO "
        "better)",
        "PRESTO better in": "share of replications where PRESTO's MSE is the smaller",
        "paired p": "paired one-sided t-test that PRESTO's MSE is smaller",
    }
    table.reading = _reading(mse)
    report.tables.append(table)
    report.notes.append(
        "Paper (Figure 1, medians): PRESTO 3.7e-5, PO 5.1e-5, logistic 6.9e-5; "
        "median ratios PRESTO/PO 0.77, PRESTO/logistic 0.56."
    )
    report.results["mse"] = mse
    report.results["ratio_po"] = float(np.median(mse[:, 0] / mse[:, 1]))
    report.results["ratio_logit"] = float(np.median(mse[:, 0] / mse[:, 2]))
    report.results["win_po"] = float(np.mean(mse[:, 0] < mse[:, 1]))
    report.results["win_logit"] = float(np.mean(mse[:, 0] < mse[:, 2]))
    report.plots += _plot(mse, example, out)
    return report


def _reading(mse):
    po, lr = (float(np.median(mse[:, 0] / mse[:, j])) for j in (1, 2))

    def verdict(ratio):
        return "beats" if ratio < 1 else "does not beat"

    return (
        f"PRESTO {verdict(po)} proportional odds (median ratio {po:.2f}), which forces the rare "
        f"class onto the other classes' slopes, and {verdict(lr)} the rare-class logistic "
        f"regression ({lr:.2f}), which has about 18 rare events to fit 10 slopes from; PRESTO "
        "shrinks the rare class's slopes towards the others (paper: 0.77 and 0.56)."
    )


def _plot(mse, model, out):
    path = plot_target(out, "presto_rare_class.png")
    if path is None:
        return []
    from ..ordinal import plot_coefficient_path

    fig, axes = new_figure(1, 2, figsize=(11, 4))
    plot_coefficient_path(model, ax=axes[0])
    axes[1].boxplot([mse[:, j] for j in range(3)], tick_labels=list(METHODS))
    axes[1].set_yscale("log")
    axes[1].set_ylabel("rare-class probability MSE")
    axes[1].set_title(f"{len(mse)} replications")
    return save_figure(fig, path)
