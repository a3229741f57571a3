"""
PRESTO: better rare-class probabilities by shrinking towards proportional odds
==============================================================================

Faletto & Bien (ICML 2023) estimate the probability of a rare top class of an
ordinal outcome.  Proportional odds forces one slope vector for every
threshold (biased when the rare threshold differs); a logistic regression of
the rare class alone has few events to learn from (high variance).  PRESTO fits
one slope per threshold and fuses adjacent slopes with an L1 penalty, choosing
the penalty by cross-validated Brier score.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.linear_model import LogisticRegression

from sklearn_losses.datasets import make_presto_data
from sklearn_losses.ordinal import (
    PRESTOClassifierCV,
    ProportionalOddsClassifier,
    plot_coefficient_path,
)

errors = {"PRESTO": [], "proportional odds": [], "logistic (rare class)": []}
for seed in range(8):
    X, y, proba = make_presto_data(random_state=seed)  # rare class: about 0.7%
    presto = PRESTOClassifierCV(alphas=20, cv=5).fit(X, y)
    po = ProportionalOddsClassifier().fit(X, y)
    logit = LogisticRegression(C=np.inf, max_iter=10_000).fit(X, y == 3)
    for name, estimate in zip(
        errors,
        (presto.predict_proba(X)[:, 3], po.predict_proba(X)[:, 3], logit.predict_proba(X)[:, 1]),
    ):
        errors[name].append(np.mean((estimate - proba[:, 3]) ** 2))

for name, values in errors.items():
    print(f"{name:22s} median rare-class MSE {np.median(values):.2e}")

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
plot_coefficient_path(presto, ax=axes[0])
axes[1].boxplot(list(errors.values()), tick_labels=list(errors))
axes[1].set_yscale("log")
axes[1].set_ylabel("MSE of the rare-class probability")
fig.tight_layout()
plt.show()
