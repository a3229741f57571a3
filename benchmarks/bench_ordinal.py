"""Ordinal regression against mord and statsmodels at n=10000, p=50, K=4, and its floor.

Run: ``python benchmarks/bench_ordinal.py [--repeats 5]``.  Prints median times and
ratios (peer / ours: above 1 means ours is faster) and the largest probability
difference between each pair of models that estimate the same thing.
:func:`measure` feeds ``run_all.py``: the same comparisons, the cost of
``PRESTOClassifierCV`` in single fits, and PRESTO's time per solver iteration
against its floor (one ``X @ B`` and one ``X.T @ G`` with BLAS, the products an
iteration cannot avoid) at n=1e5 and 1e6.
"""

import argparse
import warnings

import numpy as np
from _timing import median_time, print_table
from scipy.special import expit

from sklearn_losses.ordinal import PRESTOClassifier, PRESTOClassifierCV, ProportionalOddsClassifier


def proportional_odds_data(n=10_000, p=50, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, p))
    beta = rng.standard_normal(p) * 0.3
    cumulative = expit(np.array([-1.0, 0.5, 2.0]) - (X @ beta)[:, None])
    y = (rng.uniform(size=n)[:, None] > cumulative).sum(axis=1)
    return X, y


def _mord():
    import mord

    return mord.LogisticAT(alpha=0.0)


def _statsmodels_fit(X, y):
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return OrderedModel(y, X, distr="logit").fit(method="lbfgs", disp=False, maxiter=5000)


def _row(case, ours, ours_s, reference, reference_s, target=None):
    row = {"family": "ordinal", "case": case, "ours": ours, "ours_s": ours_s}
    row.update(reference=reference, reference_s=reference_s, target=target)
    return row


def floor_per_iteration(X, n_thresholds, repeats):
    """One ``X @ B`` and one ``X.T @ G`` (as ``(G.T @ X).T``) with B of K-1 columns."""
    rng = np.random.default_rng(0)
    B = rng.standard_normal((X.shape[1], n_thresholds))
    G = rng.standard_normal((X.shape[0], n_thresholds))
    return median_time(lambda: (X @ B, (G.T @ X).T), repeats)


def measure(quick=False):
    """Rows for ``run_all.py`` (see the module docstring)."""
    repeats = 3 if quick else 7
    X, y = proportional_odds_data()
    t_mord = median_time(lambda: _mord().fit(X, y), repeats)
    t_po = median_time(lambda: ProportionalOddsClassifier().fit(X, y), repeats)
    presto = PRESTOClassifier(alpha=1e-3)
    t_presto = median_time(lambda: presto.fit(X, y), repeats)
    case = "n=1e4 p=50 K=4"
    rows = [
        _row(case, "ProportionalOddsClassifier", t_po, "mord LogisticAT(alpha=0)", t_mord, 1.5),
        _row(case, "PRESTOClassifier(alpha=1e-3)", t_presto, "mord LogisticAT(alpha=0)", t_mord, 1),
    ]
    if not quick:
        t_sm = median_time(lambda: _statsmodels_fit(X, y), 1, warmup=0)
        rows.append(
            _row(case, "ProportionalOddsClassifier", t_po, "statsmodels OrderedModel", t_sm)
        )
    t_single = median_time(lambda: PRESTOClassifier().fit(X, y), repeats)
    t_cv = median_time(lambda: PRESTOClassifierCV(alphas=20, cv=5).fit(X, y), 1 if quick else 3)
    rows.append(
        _row(case, "PRESTOClassifierCV 5 folds x 20 alphas", t_cv, "20 x PRESTOClassifier()",
             20 * t_single, 1)
    )  # fmt: skip
    for n in (100_000,) if quick else (100_000, 1_000_000):
        X, y = proportional_odds_data(n=n)
        fits = []

        def fit(X=X, y=y, fits=fits):
            fits.append(PRESTOClassifier(alpha=1e-3).fit(X, y))

        t_fit = median_time(fit, 3 if n <= 100_000 else 1)
        per_iteration = t_fit / fits[-1].n_iter_
        floor = floor_per_iteration(X, 3, repeats)
        rows.append(
            _row(f"n={n:.0e} p=50 K=4", "PRESTOClassifier(alpha=1e-3) fit / iteration",
                 per_iteration, "floor: X @ B + X.T @ G", floor, 0.8)
        )  # fmt: skip
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--statsmodels-repeats", type=int, default=1)
    args = parser.parse_args(argv)
    X, y = proportional_odds_data()
    rows = []

    import mord

    presto = PRESTOClassifier(alpha=0.01)
    t_presto = median_time(lambda: presto.fit(X, y), args.repeats)
    t_mord = median_time(lambda: mord.LogisticAT(alpha=0.0).fit(X, y), args.repeats)
    rows.append(
        [
            "PRESTOClassifier(alpha=0.01) vs mord.LogisticAT(alpha=0)",
            t_presto,
            t_mord,
            t_mord / t_presto,
            "-",
        ]
    )

    ours = ProportionalOddsClassifier()
    t_po = median_time(lambda: ours.fit(X, y), args.repeats)
    from statsmodels.miscmodels.ordinal_model import OrderedModel

    def statsmodels_fit():
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return OrderedModel(y, X, distr="logit").fit(method="lbfgs", disp=False, maxiter=5000)

    t_sm = median_time(statsmodels_fit, args.statsmodels_repeats, warmup=0)
    diff = np.abs(statsmodels_fit().predict(X) - ours.predict_proba(X)).max()
    rows.append(
        [
            "ProportionalOdds vs statsmodels OrderedModel lbfgs",
            t_po,
            t_sm,
            t_sm / t_po,
            f"{diff:.1e}",
        ]
    )

    cv = PRESTOClassifierCV(alphas=20, cv=5)
    t_cv = median_time(lambda: cv.fit(X, y), max(1, args.repeats // 2))
    rows.append(["PRESTOClassifierCV (5 folds x 20 alphas)", t_cv, float("nan"), float("nan"), "-"])
    cv2 = PRESTOClassifierCV(alphas=20, cv=5, n_jobs=2)
    t_cv2 = median_time(lambda: cv2.fit(X, y), max(1, args.repeats // 2))
    rows.append(["PRESTOClassifierCV, n_jobs=2", t_cv2, float("nan"), float("nan"), "-"])
    print_table(
        "n=10000, p=50, K=4 (median seconds)",
        rows,
        ["comparison", "ours (s)", "peer (s)", "peer / ours", "max |dP|"],
    )


if __name__ == "__main__":
    main()
