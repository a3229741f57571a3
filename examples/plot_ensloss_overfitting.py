"""
EnsLoss against fixed losses on noisy labels
============================================

A network trained long enough on noisy labels memorises them, and its test
accuracy falls after an early peak.  EnsLoss (Dai, ICML 2025) draws a new random
convex calibrated loss at every SGD step, which acts like dropout on the loss
function.  Here the paper's TabMLP (one hidden layer of 1024 units, SGD with a
cosine schedule) is trained on breast cancer with 20% of the training labels
flipped, once per loss, on the same batches; the test accuracy is recorded after
every epoch.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import StandardScaler

from sklearn_losses.ensloss import EnsLossMLPClassifier, calibrated_loss_derivatives

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.3, stratify=y, random_state=0)
scaler = StandardScaler().fit(X_train)
X_train, X_test = scaler.transform(X_train), scaler.transform(X_test)
flip = np.random.default_rng(0).random(len(y_train)) < 0.2
y_noisy = np.where(flip, 1 - y_train, y_train)

# %%
# One random derivative per batch
# -------------------------------
# Each draw is nondecreasing in the margin, negative, clipped at -1, and decays
# like ``1 / z`` beyond ``z = 1``: the derivative of a convex calibrated loss.
margins = np.linspace(-3, 4, 128)
fig, ax = plt.subplots(figsize=(6, 3.5))
for seed in range(5):
    ax.plot(margins, calibrated_loss_derivatives(margins, random_state=seed), lw=1)
ax.plot(margins, -1 / (1 + np.exp(margins)), "k--", label="logistic loss derivative")
ax.set_xlabel("margin z = y f(x)")
ax.set_ylabel("derivative")
ax.legend()
fig.tight_layout()

# %%
# Test accuracy per epoch
# -----------------------
# The paper's training (SGD with momentum, cosine schedule, no early stopping:
# the final epoch is judged), for 200 epochs.
paper_training = {
    "hidden_layer_sizes": (1024,),
    "solver": "sgd",
    "learning_rate": "cosine",
    "learning_rate_init": 1e-4,
    "max_iter": 200,
    "early_stopping": False,
}
curves = {}
for loss in ("ensloss", "logistic", "hinge", "exponential"):
    clf = EnsLossMLPClassifier(loss, device="cpu", random_state=0, **paper_training)
    clf.fit(X_train, y_noisy, X_val=X_test, y_val=y_test)
    curves[loss] = 100 * np.asarray(clf.validation_scores_)
    print(f"{loss:12s} final-epoch test accuracy {curves[loss][-1]:.1f}%")

fig, ax = plt.subplots(figsize=(7, 4))
for loss, accuracy in curves.items():
    ax.plot(np.arange(1, len(accuracy) + 1), accuracy, label=loss)
ax.set_xlabel("epoch")
ax.set_ylabel("test accuracy (%)")
ax.set_title("breast cancer, 20% flipped training labels, TabMLP 1x1024")
ax.legend()
fig.tight_layout()
plt.show()
