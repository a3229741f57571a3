"""
CCA three ways: exact, stochastic and deep, with one Eckart-Young loss
======================================================================

Chapman, Wells & Lawry Aguila (ICLR 2024) write CCA, ridge CCA and PLS as one
unconstrained loss whose minimisers span the top canonical subspace.  The same
loss gives an exact solver, a minibatch SGD solver with an unbiased two-batch
gradient, and Deep CCA.  Left: held-out canonical scores; middle: the stochastic
solver's loss reaching the exact minimum ``-sum(rho_k^2)``; right: Deep CCA finds
a nonlinear relation that linear CCA cannot see.
"""

import matplotlib.pyplot as plt
import numpy as np

from sklearn_losses.cross_decomposition import CCA, DeepCCA, StochasticCCA
from sklearn_losses.datasets import make_multiview

X, Y = make_multiview(12_000, (50, 50), correlations=(0.9, 0.7, 0.5), random_state=0)
X_train, Y_train, X_test, Y_test = X[:6000], Y[:6000], X[6000:], Y[6000:]
exact = CCA(n_components=3).fit(X_train, Y_train)
sgd = StochasticCCA(n_components=3, batch_size=100, random_state=0).fit(X_train, Y_train)
print(
    "held-out mean correlation: exact",
    round(exact.score(X_test, Y_test), 3),
    "stochastic",
    round(sgd.score(X_test, Y_test), 3),
)

Xn, Yn = make_multiview(6000, (10, 10), correlations=(0.9, 0.8), nonlinear=True, random_state=0)
linear = CCA(n_components=2).fit(Xn[:3000], Yn[:3000])
deep = DeepCCA(
    n_components=2, hidden_layer_sizes=(64, 64), batch_size=32, max_iter=15, random_state=0
).fit(Xn[:3000], Yn[:3000])

fig, axes = plt.subplots(1, 3, figsize=(14, 4))
x_scores, y_scores = exact.transform(X_test, Y_test)
axes[0].scatter(x_scores[:, 0], y_scores[:, 0], s=2, alpha=0.3)
axes[0].set_title(f"canonical scores, corr {exact.canonical_correlations_[0]:.2f}")
axes[1].plot(np.arange(1, len(sgd.loss_curve_) + 1), sgd.loss_curve_, marker="o")
axes[1].axhline(-np.sum(exact.eigenvalues_**2), color="k", ls="--", label="exact minimum")
axes[1].set_xlabel("epoch")
axes[1].set_ylabel("Eckart-Young loss")
axes[1].legend()
held_out = [2 * linear.score(Xn[3000:], Yn[3000:]), 2 * deep.score(Xn[3000:], Yn[3000:])]
axes[2].bar(["linear CCA", "Deep CCA (EY)"], held_out)
axes[2].set_ylabel("held-out total correlation")
fig.tight_layout()
plt.show()
