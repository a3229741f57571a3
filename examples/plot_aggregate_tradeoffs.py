"""
Bag-level or instance-level loss? Choosing rho, and private bags
================================================================

When only bag means of the responses are observed, the bag-level loss is
unbiased but has as many effective samples as bags, while the instance-level
loss (each row fitted to its bag's mean) has low variance but shrinks the
coefficients by about ``1 / k``.  Javanmard et al. (ICLR 2024) interpolate the
two with ``rho``; grouped cross-validation on held-out bag means picks it.
Aggregation also protects labels: Laplace noise on bag means gives label
differential privacy, with a noise scale that falls as bags grow.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    AggregateLinearRegressionCV,
    aggregate_responses,
    make_bags,
    privatize_responses,
)

rng = np.random.default_rng(0)
n, d = 2000, 50
theta = rng.standard_normal(d)
theta /= np.linalg.norm(theta)

# %%
# Risk of rho = 0, rho = 1 and rho chosen by CV as the bags grow.
sizes = [2, 5, 10, 20]
risk = {"rho=0 (bag level)": [], "rho=1 (instance level)": [], "rho by grouped CV": []}
for k in sizes:
    runs = []
    for _ in range(10):
        X = rng.standard_normal((n, d))
        y = X @ theta + rng.standard_normal(n)
        bags = make_bags(n, k, random_state=rng.integers(2**31))
        y_bag = aggregate_responses(y, bags)
        models = [
            AggregateLinearRegression(rho=0.0),
            AggregateLinearRegression(rho=1.0),
            AggregateLinearRegressionCV(cv=5),
        ]
        runs.append([np.sum((m.fit(X, y_bag, bags=bags).coef_ - theta) ** 2) for m in models])
    for name, value in zip(risk, np.mean(runs, axis=0)):
        risk[name].append(value)

# %%
# Label-private bag means: risk of the CV-tuned estimator against bag size.
private = {}
for epsilon in (0.5, 2.0, 8.0):
    X = rng.standard_normal((4000, 20))
    beta = rng.standard_normal(20)
    beta /= np.linalg.norm(beta)
    y = X @ beta + 0.5 * rng.standard_normal(4000)
    curve = []
    for k in (1, 2, 4, 8, 16):
        bags = make_bags(4000, k, random_state=0)
        y_private = privatize_responses(y, bags, epsilon=epsilon, bounds=(-3, 3), random_state=1)
        coef = AggregateLinearRegressionCV().fit(X, y_private, bags=bags).coef_
        curve.append(np.sum((coef - beta) ** 2))
    private[epsilon] = curve

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
for name, values in risk.items():
    axes[0].plot(sizes, values, marker="o", label=name)
axes[0].set_xlabel("bag size k")
axes[0].set_ylabel("||theta_hat - theta||^2")
axes[0].legend()
for epsilon, curve in private.items():
    axes[1].plot([1, 2, 4, 8, 16], curve, marker="o", label=f"epsilon = {epsilon}")
axes[1].set_xscale("log", base=2)
axes[1].set_yscale("log")
axes[1].set_xlabel("bag size k")
axes[1].set_ylabel("risk with label-DP bag means")
axes[1].legend()
fig.tight_layout()
plt.show()
