"""Dai (ICML 2025): EnsLoss against fixed surrogate losses, at the final epoch.

The paper's overfitting experiment on data that ships with scikit-learn: breast
cancer (569 x 30) and digits 3-vs-8 (357 x 64), stratified 70/30 splits (one per
seed), features standardised on the training part, with and without 20% of the
training labels flipped.  Every loss trains the same model on the same batches:
the linear :class:`EnsLossClassifier` and the paper's TabMLP with 1 and 3 hidden
layers of 1024 units (SGD, lr 1e-4, momentum 0.9, weight decay 5e-6, cosine
schedule, 300 epochs, batch 128).  Test accuracy is read at the final epoch, with
no validation-based stopping, and compared pairwise (one-sided paired t-test,
EnsLoss better), as in the paper.
"""

import itertools

import numpy as np
from scipy import stats
from sklearn.datasets import load_breast_cancer, load_digits
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..ensloss import EnsLossClassifier, EnsLossMLPClassifier
from ._report import Report, Table, new_figure, plot_target, progress, save_figure

LOSSES = ("ensloss", "logistic", "hinge", "exponential")
NOISE = 0.2
USES_TORCH = True


def breast_cancer():
    return load_breast_cancer(return_X_y=True)


def digits_3_vs_8():
    X, y = load_digits(return_X_y=True)
    keep = np.isin(y, (3, 8))
    return X[keep], (y[keep] == 8).astype(int)


TASKS = {"breast cancer": breast_cancer, "digits 3-vs-8": digits_3_vs_8}


def split(X, y, seed, noise):
    """Stratified 70/30 split, scaled on the train part, with ``noise`` of train labels flipped."""
    X_train, X_test, y_train, y_test = train_test_split(
        X, y, test_size=0.3, stratify=y, random_state=seed
    )
    scaler = StandardScaler().fit(X_train)
    flip = np.random.default_rng(seed).random(y_train.shape[0]) < noise
    y_train = np.where(flip, 1 - y_train, y_train)
    return scaler.transform(X_train), scaler.transform(X_test), y_train, y_test


# the paper's TabMLP training: SGD with momentum and a cosine schedule, final epoch kept
PAPER_TRAINING = {
    "solver": "sgd",
    "learning_rate": "cosine",
    "learning_rate_init": 1e-4,
    "momentum": 0.9,
    "weight_decay": 5e-6,
    "max_iter": 300,
    "early_stopping": False,
}


def make_model(model, loss, seed, quick):
    if model == "linear":
        return EnsLossClassifier(loss, random_state=seed)
    depth = int(model[-1])
    return EnsLossMLPClassifier(
        loss,
        hidden_layer_sizes=(1024,) * depth,
        device="cpu" if quick else "auto",
        random_state=seed,
        **PAPER_TRAINING,
    )


def evaluate(task, model, noise, seeds, *, quick=False):
    """Final-epoch test accuracy ``{loss: [per seed]}`` and per-epoch curves of the first seed."""
    X, y = TASKS[task]()
    scores, curves = {loss: [] for loss in LOSSES}, {}
    label = f"{task}, {model}, {noise:.0%} flipped: fits"
    for seed, loss in progress(list(itertools.product(seeds, LOSSES)), label):
        if loss == LOSSES[0]:
            X_train, X_test, y_train, y_test = split(X, y, seed, noise)
        clf = make_model(model, loss, seed, quick)
        clf.fit(X_train, y_train, X_val=X_test, y_val=y_test)
        scores[loss].append(clf.score(X_test, y_test))
        if seed == seeds[0]:
            curves[loss] = np.asarray(clf.validation_scores_)
    return scores, curves


def paired_comparison(ours, theirs):
    """Mean difference in points, its standard error and the one-sided paired t-test p-value."""
    diff = 100 * (np.asarray(ours) - np.asarray(theirs))
    se = stats.sem(diff) if len(diff) > 1 else np.nan
    if np.allclose(diff, diff[0]):
        p = 0.0 if diff[0] > 0 else 1.0
    else:
        p = stats.ttest_rel(ours, theirs, alternative="greater").pvalue
    return float(diff.mean()), float(se), float(p)


def _mean_se(values):
    values = 100 * np.asarray(values)
    return f"{values.mean():.1f} +- {stats.sem(values):.1f}"


def _settings(quick):
    if quick:
        runs = [("breast cancer", "linear", 0.0), ("breast cancer", "mlp1", NOISE)]
    else:
        runs = [
            (task, model, noise)
            for task in TASKS
            for noise in (0.0, NOISE)
            for model in ("linear", "mlp1", "mlp3")
        ]
    return 3 if quick else 5, runs


def plan(quick=False):
    n_splits, runs = _settings(quick)
    lines = [
        f"{task}, {noise:.0%} of training labels flipped, {model}: {len(LOSSES)} losses x "
        f"{n_splits} splits"
        for task, model, noise in runs
    ]
    return [
        *lines,
        "MLPs: 1024-unit hidden layers, 300 epochs each (the paper's TabMLP training)",
        "plot: ensloss_test_accuracy_per_epoch.png",
    ]


def run(*, quick=False, out=None, random_state=0):
    report = Report("ensloss")
    n_splits, plan = _settings(quick)
    seeds = list(range(random_state, random_state + n_splits))
    accuracy = Table(
        f"Final-epoch test accuracy (%), mean +- SE over {len(seeds)} splits",
        ["data", "flipped", "model", *LOSSES],
    )
    paired = Table(
        "EnsLoss minus each fixed loss (points): mean, SE, one-sided paired t-test p",
        ["data", "flipped", "model", *(f"vs {loss}" for loss in LOSSES[1:])],
    )
    for task, model, noise in plan:
        scores, curves = evaluate(task, model, noise, seeds, quick=quick)
        report.results[(task, model, noise)] = scores
        accuracy.add_row(task, f"{noise:.0%}", model, *(_mean_se(scores[loss]) for loss in LOSSES))
        comparisons = [paired_comparison(scores["ensloss"], scores[loss]) for loss in LOSSES[1:]]
        paired.add_row(
            task,
            f"{noise:.0%}",
            model,
            *(f"{d:+.1f} ({se:.1f}) p={p:.2f}" for d, se, p in comparisons),
        )
        if model != "linear" and noise > 0 and task == "breast cancer":
            report.results["curves"] = (model, curves)
    accuracy.legend = {
        "flipped": "share of training labels flipped at random (test labels clean)",
        "model": "linear: EnsLossClassifier (SGD); mlp1, mlp3: TabMLP with 1 or 3 hidden "
        "layers of 1024 units",
        "ensloss": "a new random calibrated loss for every batch; the other columns train the "
        "same model on one fixed surrogate loss",
        "cells": "test accuracy at the final epoch (no early stopping), mean +- SE",
    }
    paired.legend = {
        "vs loss": "EnsLoss minus that loss, in accuracy points: mean over splits (SE) and the "
        "one-sided paired t-test p-value that EnsLoss is better",
    }
    paired.reading = _reading(report.results, plan)
    report.tables += [accuracy, paired]
    if quick:
        report.notes.append(
            "quick: 3 splits, breast cancer only, linear on clean and MLP1 on flipped labels."
        )
    report.plots += _plot(report.results.get("curves"), out)
    return report


def _reading(results, plan):
    wins, behind = [], []
    for task, model, noise in plan:
        scores = results[(task, model, noise)]
        for loss in LOSSES[1:]:
            diff, _, p = paired_comparison(scores["ensloss"], scores[loss])
            where = f"{loss} ({task}, {model}, {noise:.0%} flipped: {diff:+.1f})"
            if p < 0.05:
                wins.append(where)
            elif diff < 0:
                reverse = paired_comparison(scores[loss], scores["ensloss"])[2]
                behind.append(where + (", significant" if reverse < 0.05 else ""))
    n_comparisons = len(plan) * (len(LOSSES) - 1)
    text = (
        f"EnsLoss is significantly ahead (p < 0.05) in {len(wins)} of {n_comparisons} comparisons"
    )
    if behind:
        text += (
            "; it is behind " + "; ".join(behind) + ". EnsLoss guards against overfitting: where "
            "a fixed loss does not overfit (clean labels, a linear model) it has nothing to gain"
        )
    return text + "."


def _plot(curves, out):
    path = plot_target(out, "ensloss_test_accuracy_per_epoch.png")
    if path is None or curves is None:
        return []
    model, per_loss = curves
    fig, ax = new_figure(figsize=(7, 4))
    for loss, values in per_loss.items():
        ax.plot(np.arange(1, len(values) + 1), 100 * values, label=loss, lw=1.5)
    ax.set_xlabel("epoch")
    ax.set_ylabel("test accuracy (%)")
    ax.set_title(f"breast cancer, 20% flipped training labels, {model} (first split)")
    ax.legend()
    return save_figure(fig, path)
