"""Javanmard et al. (ICLR 2024): bag-level vs instance-level losses, and private bags.

1. Bias-variance: d = 50, x ~ N(0, I), ||theta|| = 1, n in {1000, 2000}, noise sigma in
   {0.5, 1}, bag size k in {2, 5, 10, 20} with at least 2d bags; rho = 0 (bag level),
   rho = 1 (instance level) and rho chosen by 5-fold GroupKFold on held-out bag
   aggregates over {0} and 25 log-spaced values down to 1e-3.  Risk ||theta_hat - theta||^2.
2. Privacy: n = 4000, d = 20, sigma = 0.5, responses clipped to [-3, 3], Laplace noise on
   the bag means (epsilon-label-DP); risk against bag size for several epsilon, with
   ridge at k = 1 tuned by CV beside it.
3. Real data: scikit-learn's diabetes with random bags, test MSE on individual responses.
4. Multiclass label proportions: scikit-learn's digits (10 classes, standardised), random 70/30
   stratified splits, the training rows in random bags of k whose label proportions (exact, or
   released epsilon-label-DP by privatize_label_proportions) are all the fit sees; test accuracy
   of AggregateLogisticRegression (rho=0, alpha=1/n_train: LogisticRegression's C=1) against
   bag size and epsilon, beside LogisticRegression trained on the labels.
"""

import math
import warnings

import numpy as np
from sklearn.datasets import load_diabetes, load_digits
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression, RidgeCV
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from ..aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    AggregateLogisticRegression,
    aggregate_responses,
    make_bags,
    privatize_label_proportions,
    privatize_responses,
)
from ._report import (
    Report,
    Table,
    column_formatter,
    new_figure,
    plot_target,
    progress,
    save_figure,
)

CELLS = [
    (sigma, n, k)
    for sigma in (0.5, 1.0)
    for n in (1000, 2000)
    for k in (2, 5, 10, 20)
    if n // k >= 100
]
EPSILONS = (0.5, 1.0, 2.0, 8.0)
BAG_SIZES = (1, 2, 4, 8, 16)
LLP_BAG_SIZES = (1, 5, 10, 25, 50)
LLP_EPSILONS = (math.inf, 10.0, 1.0, 0.1)
LLP_QUICK = ((1, 10), (math.inf, 1.0))  # bag sizes, epsilons of the quick run


def _n_reps(quick):
    return 20 if quick else 100


def _llp_grid(quick):
    """Bag sizes, epsilons and seeds of the label-proportion table."""
    return (*LLP_QUICK, 2) if quick else (LLP_BAG_SIZES, LLP_EPSILONS, 10)


def plan(quick=False):
    n_reps = _n_reps(quick)
    return [
        f"bias-variance: {len(CELLS)} cells (sigma, n, bag size k), {n_reps} replicates each; "
        "bag-level (rho=0), instance-level (rho=1) and cross-validated rho",
        f"label-DP bag means: {len(EPSILONS)} privacy budgets x {len(BAG_SIZES)} bag sizes, "
        f"{n_reps} replicates each",
        "diabetes with random bags of 5 and 10: 5 random splits",
        "digits label proportions: {} bag sizes x {} privacy budgets, {} random splits".format(
            *(len(v) for v in _llp_grid(quick)[:2]), _llp_grid(quick)[2]
        ),
        "plot: aggregate_tradeoffs.png",
    ]


def _linear_data(rng, n, d, sigma):
    theta = rng.standard_normal(d)
    theta /= np.linalg.norm(theta)
    X = rng.standard_normal((n, d))
    return X, X @ theta + sigma * rng.standard_normal(n), theta


def _bag_instance_and_cv_models():
    """The three models every table compares: rho = 0, rho = 1 and rho by CV."""
    return (
        AggregateLinearRegression(rho=0.0),
        AggregateLinearRegression(rho=1.0),
        AggregateLinearRegressionCV(cv=5),
    )


def bias_variance_cell(sigma, n, k, *, d=50, n_reps=100, random_state=0):
    """Risks (n_reps, 3) of rho = 0, rho = 1 and CV-rho in one cell."""
    rng = np.random.default_rng(random_state)
    risks = np.empty((n_reps, 3))
    for r in range(n_reps):
        X, y, theta = _linear_data(rng, n, d, sigma)
        bags = make_bags(n, k, random_state=rng.integers(2**31))
        y_bag = aggregate_responses(y, bags)
        models = _bag_instance_and_cv_models()
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
        models = _bag_instance_and_cv_models()
        for j, model in enumerate(models):
            mse[s, j] = np.mean((model.fit(X_tr, y_bag, bags=bags).predict(X_te) - y_te) ** 2)
    return mse


def digits_label_proportions(bag_sizes, epsilons, *, n_seeds=10, random_state=0):
    """Test accuracy on digits from bag label proportions, and from the labels.

    Each seed draws a stratified 70/30 split (features standardised on the
    training rows) and, per bag size, random bags of the training rows; every
    epsilon of that bag size uses the same bags (``inf``: the exact proportions,
    else :func:`privatize_label_proportions`).  The model is
    ``AggregateLogisticRegression(rho=0, alpha=1 / n_train)``; the reference is
    scikit-learn's ``LogisticRegression()`` (C=1, the same penalty) on the labels.

    Returns ``(accuracy, reference)`` of shapes (n_epsilons, n_sizes, n_seeds) and
    (n_seeds,).
    """
    X, y = load_digits(return_X_y=True)
    classes = np.unique(y)
    rng = np.random.default_rng(random_state)
    accuracy = np.empty((len(epsilons), len(bag_sizes), n_seeds))
    reference = np.empty(n_seeds)
    for s in progress(range(n_seeds), "digits label-proportion splits"):
        X_tr, X_te, y_tr, y_te = train_test_split(
            X, y, test_size=0.3, stratify=y, random_state=int(rng.integers(2**31))
        )
        scaler = StandardScaler().fit(X_tr)
        X_tr, X_te = scaler.transform(X_tr), scaler.transform(X_te)
        reference[s] = LogisticRegression(max_iter=1000).fit(X_tr, y_tr).score(X_te, y_te)
        model = AggregateLogisticRegression(rho=0.0, alpha=1 / len(y_tr))
        for j, k in enumerate(bag_sizes):
            bags = make_bags(len(y_tr), k, random_state=int(rng.integers(2**31)))
            for i, epsilon in enumerate(epsilons):
                if math.isinf(epsilon):
                    target = y_tr  # only the bag proportions are used
                else:
                    target = privatize_label_proportions(
                        y_tr,
                        bags,
                        epsilon=epsilon,
                        classes=classes,
                        random_state=int(rng.integers(2**31)),
                    )
                with warnings.catch_warnings():  # noisy large bags: a flat optimum
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    fitted = model.fit(X_tr, target, bags=bags)
                # with proportions as y the classes are 0..9, which are digits' labels
                accuracy[i, j, s] = np.mean(classes[fitted.predict(X_te)] == y_te)
    return accuracy, reference


def _mean_se(values):
    values = np.asarray(values, dtype=np.float64)
    se = values.std(ddof=1) / np.sqrt(values.size) if values.size > 1 else float("nan")
    return f"{values.mean():.3f} ± {se:.3f}"


def label_proportion_table(*, quick=False, random_state=0):
    """The digits label-proportion table and its numbers (see :func:`digits_label_proportions`)."""
    bag_sizes, epsilons, n_seeds = _llp_grid(quick)
    accuracy, reference = digits_label_proportions(
        bag_sizes, epsilons, n_seeds=n_seeds, random_state=random_state
    )
    table = Table(
        f"digits (10 classes), learning from label proportions, {n_seeds} random 70/30 "
        "splits: test accuracy, mean ± SE",
        ["epsilon", *[f"k={k}" for k in bag_sizes], "best k"],
    )
    for i, epsilon in enumerate(epsilons):
        mean = accuracy[i].mean(axis=1)
        table.add_row(
            "inf (exact)" if math.isinf(epsilon) else f"{epsilon:g}",
            *(_mean_se(a) for a in accuracy[i]),
            bag_sizes[int(np.argmax(mean))],
        )
    table.add_row("labels (reference)", *([_mean_se(reference)] * len(bag_sizes)), "-")
    table.legend = {
        "epsilon": "label-DP budget of the released bag proportions: Laplace noise of scale "
        "2 / epsilon on each class count (privatize_label_proportions), projected onto the "
        "simplex; inf: the exact proportions",
        "k=...": "AggregateLogisticRegression (rho=0, bag-level cross-entropy, alpha=1/n_train) "
        "fitted on random bags of k training rows, seeing only their label proportions",
        "labels (reference)": "LogisticRegression(C=1) on the training labels (instance "
        "level, the same penalty); one number, repeated under every k",
    }
    table.reading = _label_proportion_reading(accuracy, reference, bag_sizes, epsilons)
    return table, {
        "accuracy": accuracy,
        "reference": reference,
        "bag_sizes": bag_sizes,
        "epsilons": epsilons,
    }


def _label_proportion_reading(accuracy, reference, bag_sizes, epsilons):
    ref = reference.mean()
    exact = accuracy[0].mean(axis=1)
    shown = [j for j, k in enumerate(bag_sizes) if k == 10 or j == len(bag_sizes) - 1]
    gaps = " and ".join(f"{100 * (ref - exact[j]):.1f}" for j in shown)
    text = (
        "with exact proportions, bags of "
        + " and ".join(f"{bag_sizes[j]} reach {exact[j]:.3f}" for j in shown)
        + f", against {ref:.3f} from the labels ({gaps} points lower)"
    )
    for i, epsilon in enumerate(epsilons[1:], start=1):
        mean = accuracy[i].mean(axis=1)
        best = int(np.argmax(mean))
        diff = accuracy[i, best] - accuracy[i, 0]  # paired: the same splits
        se = diff.std(ddof=1) / np.sqrt(diff.size) if diff.size > 1 else np.inf
        if best == 0 or diff.mean() <= 2 * se:
            verdict = f"no bag size beats k={bag_sizes[0]} by 2 paired SE (best {mean[best]:.3f})"
        else:
            verdict = (
                f"bags of {bag_sizes[best]} are best, {mean[best]:.3f} against {mean[0]:.3f} "
                f"at k={bag_sizes[0]}"
            )
        text += f"; at epsilon={epsilon:g} {verdict}"
    return (
        text + ". Under privacy the bag size trades the count noise, divided by k, against "
        "the information lost in fewer, coarser proportions; chance accuracy is 0.1."
    )


def run(*, quick=False, out=None, random_state=0):
    n_reps = _n_reps(quick)
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
    for c, (sigma, n, k) in enumerate(progress(CELLS, "bias-variance cells")):
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
    _share_format(table, ["rho=0", "rho=1", "rho by CV"])
    table.legend = {
        "k, bags": "bag size, and the number of bags n / k",
        "rho": "weight of the instance-level term in the loss: rho=0 fits each bag's mean "
        "response (bag level), rho=1 fits every row to its bag's mean (instance level)",
        "risk columns": "||theta_hat - theta||^2, mean over replicates",
        "CV / best": "risk of rho by CV over that of the better end (rho=0 or rho=1)",
        "CV - best": "mean paired difference of those risks (its standard error); < 0: CV wins",
    }
    table.reading = _bias_variance_reading(cells)
    report.tables.append(table)
    report.results["bias_variance"] = cells

    privacy = Table(
        f"Label-DP bag means, n=4000, d=20, sigma=0.5, clip [-3, 3], {n_reps} replicates: "
        "mean risk with rho by CV",
        ["epsilon", *[f"k={k}" for k in BAG_SIZES], "best k", "best / k=1 OLS", "k=1 ridge-CV"],
    )
    curves = {}
    for e, epsilon in enumerate(progress(EPSILONS, "privacy budgets")):
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
    _share_format(privacy, [*(f"k={k}" for k in BAG_SIZES), "k=1 ridge-CV"])
    privacy.legend = {
        "epsilon": "label-DP budget: each bag releases its clipped mean plus Laplace noise of "
        "scale 6 / (k epsilon); smaller epsilon, more noise",
        "k=...": "mean risk ||theta_hat - theta||^2 with bags of k rows, rho by CV",
        "best / k=1 OLS": "risk at the best k over that at k=1 (unregularised least squares on "
        "noisy responses)",
        "k=1 ridge-CV": "risk of ridge regression, penalty tuned by CV, on the k=1 responses",
    }
    privacy.reading = _privacy_reading(curves)
    report.tables.append(privacy)
    report.results["privacy"] = curves

    real = Table(
        "diabetes, random bags, 5 random 70/30 splits: test MSE on individual responses",
        ["bag size", "rho=0", "rho=1", "rho by CV"],
    )
    diabetes = {}
    for k in progress((5, 10), "diabetes bag sizes"):
        diabetes[k] = mse = diabetes_bags(k, random_state=random_state).mean(axis=0)
        real.add_row(k, *(float(v) for v in mse))
    _share_format(real, real.columns[1:])
    real.legend = {"rho=...": "test mean squared error of predicting each row's own response"}
    real.reading = _diabetes_reading(diabetes)
    report.tables.append(real)

    llp, report.results["label_proportions"] = label_proportion_table(
        quick=quick, random_state=random_state
    )
    report.tables.append(llp)
    report.plots += _plot(cells, curves, out)
    return report


def _share_format(table, columns):
    """One number format for columns that are read across (the same quantity in each)."""
    index = [table.columns.index(c) for c in columns]
    shared = column_formatter([row[j] for row in table.rows for j in index])
    table.formats.update({c: shared for c in columns})


def _bias_variance_reading(cells):
    bag_level, cv_not_worse, cv_worst = 0, 0, (0.0, None)
    for cell, risks in cells.items():
        mean = risks.mean(axis=0)
        best = int(np.argmin(mean[:2]))
        bag_level += best == 0
        diff = risks[:, 2] - risks[:, best]
        cv_not_worse += diff.mean() <= 2 * diff.std(ddof=1) / np.sqrt(len(diff))
        if mean[2] / mean[best] > cv_worst[0]:
            cv_worst = (mean[2] / mean[best], cell)
    text = (
        f"the bag-level loss (rho=0) is the better end in {bag_level} of {len(cells)} cells, "
        "the instance-level loss where bags are few and large (its bias is a shrinkage that "
        f"pays when the variance is high); rho by CV is within 2 paired SE of the better end, "
        f"or better, in {cv_not_worse} of {len(cells)} cells"
    )
    if cv_not_worse < len(cells):
        ratio, (sigma, n, k) = cv_worst
        text += (
            f" and loses most at sigma={sigma:g}, n={n}, k={k} ({ratio:.2f}x): the CV choice of "
            "rho costs variance of its own"
        )
    return text + "."


def _privacy_reading(curves):
    small, large = EPSILONS[0], EPSILONS[-1]
    mean_small, mean_large = curves[small].mean(axis=0), curves[large].mean(axis=0)
    k_small = BAG_SIZES[int(np.argmin(mean_small[: len(BAG_SIZES)]))]
    k_large = BAG_SIZES[int(np.argmin(mean_large[: len(BAG_SIZES)]))]
    best_small = mean_small[: len(BAG_SIZES)].min()
    verdict = "comes close to" if mean_small[-1] <= 1.25 * best_small else "stays well above"
    at_large = "no bagging (k=1) is best" if k_large == 1 else f"bags of {k_large} are best"
    return (
        f"at epsilon={small:g} bags of {k_small} divide the risk of k=1 by "
        f"{mean_small[0] / best_small:.1f} (averaging shrinks the noise k-fold); at "
        f"epsilon={large:g} the noise is small and {at_large}. Much of the gain is shrinkage: "
        f"ridge at k=1 {verdict} the best bag size at epsilon={small:g} "
        f"({mean_small[-1]:.3f} against {best_small:.3f})."
    )


def _diabetes_reading(diabetes):
    names = ("rho=0", "rho=1", "rho by CV")
    text = "; ".join(f"k={k}: {names[int(np.argmin(mse))]} best" for k, mse in diabetes.items())
    if all(int(np.argmax(mse)) == 1 for mse in diabetes.values()):
        text += (
            ". The instance-level loss loses here: with 10 features and 300 rows there is little "
            "variance to trade, and its shrinkage (each row fitted to its bag's mean) is bias"
        )
    return text + "."


def _plot(cells, curves, out):
    path = plot_target(out, "aggregate_tradeoffs.png")
    if path is None:
        return []
    fig, axes = new_figure(1, 2, figsize=(11, 4))
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
    return save_figure(fig, path)
