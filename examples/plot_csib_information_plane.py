"""
The information plane of the Cauchy-Schwarz information bottleneck
===================================================================

:class:`~sklearn_losses.information_bottleneck.CSIBRegressor` trains an
encoder-decoder network on the conditional Cauchy-Schwarz divergence between the
data's and the model's predictive distributions, plus ``beta`` times the CS
mutual information between the input and the representation ``t``.  Raising
``beta`` compresses ``t``: the training curves move left on the information
plane (compression against prediction).  The kernel on the targets also makes the
fit robust to gross outliers, which the second part shows.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_friedman1
from sklearn.metrics import root_mean_squared_error
from sklearn.model_selection import train_test_split

from sklearn_losses.information_bottleneck import CSIBRegressor

X, y = make_friedman1(1000, noise=1.0, random_state=0)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
settings = {"max_iter": 60, "early_stopping": False, "device": "cpu", "random_state": 0}

# %%
# A sweep over beta
# -----------------
fig, ax = plt.subplots(figsize=(6.5, 4.5))
for beta in (0.0, 1e-2, 1e-1):
    reg = CSIBRegressor(beta, **settings).fit(X_train, y_train)
    plane = reg.information_plane_
    rmse = root_mean_squared_error(y_test, reg.predict(X_test))
    (line,) = ax.plot(
        plane["mutual_information"], plane["prediction"], label=f"beta={beta:g}, RMSE {rmse:.2f}"
    )
    # where training starts (open circle) and ends (filled)
    mi, term = plane["mutual_information"][[0, -1]], plane["prediction"][[0, -1]]
    ax.scatter(mi[:1], term[:1], facecolors="none", edgecolors=line.get_color())
    ax.scatter(mi[1:], term[1:], color=line.get_color())
ax.scatter([], [], facecolors="none", edgecolors="grey", label="first epoch")
ax.scatter([], [], color="grey", label="final epoch")
ax.set_xlabel("I_CS(x; t), normalized")
ax.set_ylabel("prediction term")
ax.set_yscale("log")
ax.legend()
fig.tight_layout()

# %%
# Gross outliers in the training targets
# --------------------------------------
# 10% of the training targets are moved up by 10 standard deviations; the test
# targets are clean.  The MSE network follows the outliers; CS-IB mostly does not.
rng = np.random.default_rng(0)
y_dirty = y_train.copy()
rows = rng.choice(len(y_dirty), size=len(y_dirty) // 10, replace=False)
y_dirty[rows] += 10 * y_train.std()
for name, reg in {
    "MSE network": CSIBRegressor(0.0, loss="mse", **settings),
    "CS-IB": CSIBRegressor(1e-2, **settings),
}.items():
    reg.fit(X_train, y_dirty)
    print(f"{name:12s} test RMSE {root_mean_squared_error(y_test, reg.predict(X_test)):.2f}")
plt.show()
