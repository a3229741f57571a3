"""Ordinal regression against mord and statsmodels at n=10000, p=50, K=4.

Run: ``python benchmarks/bench_ordinal.py [--repeats 5]``.  Prints median times and
ratios (peer / ours: above 1 means ours is faster) and the largest probability
difference between each pair of models that estimate the same thing.
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
