"""
Naive Bayes needs O(log n) samples, logistic regression O(n)
============================================================

Zheng et al. (ICML 2023) compare a naive Bayes with one variance shared by the
classes (a *linear* generative classifier) with logistic regression, its
discriminative partner.  On the paper's Gaussian mixture with raw features,
naive Bayes comes within 0.01 of its asymptotic error after a handful of
samples whatever the dimension n, while logistic regression needs a number of
samples that grows linearly with n.
"""

import math

import matplotlib.pyplot as plt
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from sklearn_losses.datasets import make_gaussian_mixture
from sklearn_losses.naive_bayes import SharedVarianceGaussianNB, compare_learning_curves

models = {
    "naive Bayes": SharedVarianceGaussianNB(),
    "logistic C=1": LogisticRegression(C=1.0, max_iter=1000),
}

# %%
# Simulation: n = 200 features, raw (unscaled), stopping each curve once it is
# within 0.01 of its error at m = 100 n.
n = 200
X, y = make_gaussian_mixture(100 * n, n, random_state=0)
X_test, y_test = make_gaussian_mixture(10_000, n, random_state=1)
sizes = [*range(4, 100 * n, math.ceil(math.log(n))), 100 * n]
sim = compare_learning_curves(
    models,
    X,
    y,
    X_test=X_test,
    y_test=y_test,
    train_sizes=sizes,
    n_repeats=3,
    sampling="uniform",
    scaler=None,
    stop_tol=0.01,
    random_state=0,
)
print("samples to come within 0.01:", sim.samples_to_within(0.01))

# %%
# Real data: digits, min-max scaled on each training subset (the paper's protocol).
Xd, yd = load_digits(return_X_y=True)
real = compare_learning_curves(
    models,
    Xd,
    yd,
    train_sizes=[10, 20, 50, 100, 200, 500, 1000],
    n_repeats=3,
    random_state=0,
)
print(
    "logistic regression stays below naive Bayes from m =",
    real.crossover_size("logistic C=1", "naive Bayes"),
)

fig, axes = plt.subplots(1, 2, figsize=(11, 4))
sim.plot(axes[0], theory={"naive Bayes": "naive_bayes", "logistic C=1": "logistic"})
axes[0].set_title(f"simulation, n = {n}, raw features")
real.plot(axes[1])
axes[1].set_title("digits, min-max scaled")
fig.tight_layout()
plt.show()
