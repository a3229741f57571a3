"""
Three views and how many components are real: MultiviewCCA and a permutation test
=================================================================================

:class:`~sklearn_losses.cross_decomposition.MultiviewCCA` finds, for each
component, one direction per view so that all views' scores correlate.  How many
components reflect real shared structure, and how many are chance?
:func:`~sklearn_losses.cross_decomposition.permutation_test` answers one
component after another: component ``k`` is tested after the first ``k - 1``
fitted directions are removed from every view, against the values its statistic
takes when the rows of the other views are shuffled.

Top: three simulated views that share two components (every pair of views
correlates 0.5 and 0.25 in them); the observed statistic of components 1-2 lies
far outside its null distribution, that of components 3-4 inside it.  Bottom:
three real views, the top, middle and bottom thirds of scikit-learn's 8x8 digit
images (ridge MCCA, 16 components): the mean correlation between views of each
component on training and held-out rows, the sequential p-values (about eleven
components are supported at the 5% level), and the null distributions of the
first and the last component.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split

from sklearn_losses.cross_decomposition import (
    MultiviewCCA,
    paired_correlations,
    permutation_test,
)
from sklearn_losses.datasets import make_multiview

# %%
# Simulated views with two shared components
# ------------------------------------------
X, view_sizes = make_multiview(
    300, (8, 6, 5), correlations=(0.5, 0.25), return_concatenated=True, random_state=0
)
mcca = MultiviewCCA(n_components=4, view_sizes=view_sizes)
test = permutation_test(mcca, X, n_permutations=999, random_state=0)
print("statistic:", test.statistic_name)
print("p-values per component:", test.p_values.round(3))

# %%
# Three thirds of the digit images
# --------------------------------
# Each image is 8 rows of 8 pixels; the views are rows 0-2, 3-4 and 5-7 (24, 16
# and 24 pixels).  Border pixels that are constant are kept: the scaling treats
# them, and ridge regularization keeps each view's covariance invertible.
digits = load_digits().data
views = (24, 16, 24)
D_train, D_test = train_test_split(digits, test_size=0.5, random_state=0)
n_components = 16
digits_mcca = MultiviewCCA(n_components=n_components, view_sizes=views, regularization=0.1)
digits_mcca.fit(D_train)
top, middle, bottom = digits_mcca.transform_views(D_test)
held_out_per_component = np.mean(
    [paired_correlations(a, b) for a, b in ((top, middle), (top, bottom), (middle, bottom))],
    axis=0,
)
digits_test = permutation_test(digits_mcca, D_train, n_permutations=499, random_state=0)
print("digits: training correlations", digits_mcca.correlations_.round(2))
print("digits: held-out correlations", held_out_per_component.round(2))
print("digits: p-values", digits_test.p_values.round(3))

fig, axes = plt.subplots(2, 4, figsize=(14, 6.5))
for k, ax in enumerate(axes[0]):
    ax.hist(test.null_distribution[:, k], bins=40, color="0.7", label="permutations")
    ax.axvline(test.statistic[k], color="C3", lw=2, label="observed")
    ax.set_title(f"component {k + 1}: p = {test.p_values[k]:.3f}")
    ax.set_xlabel(f"{test.statistic_name} statistic")
axes[0, 0].legend()
axes[0, 0].set_ylabel("count")

components = np.arange(1, n_components + 1)
ax = axes[1, 0]
ax.bar(components - 0.2, digits_mcca.correlations_, width=0.4, label="training")
ax.bar(components + 0.2, held_out_per_component, width=0.4, label="held out")
ax.set_xlabel("component")
ax.set_ylabel("mean correlation between views")
ax.set_title("digits: thirds of the image")
ax.legend()
ax = axes[1, 1]
ax.semilogy(components, digits_test.p_values, marker="o")
ax.axhline(0.05, color="k", ls="--", lw=1)
ax.set_xlabel("component")
ax.set_ylabel("permutation p-value")
ax.set_title("digits: sequential p-values")
for k, ax in zip((0, n_components - 1), axes[1, 2:]):
    ax.hist(digits_test.null_distribution[:, k], bins=30, color="0.7")
    ax.axvline(digits_test.statistic[k], color="C3", lw=2)
    ax.set_title(f"digits component {k + 1}: p = {digits_test.p_values[k]:.3f}")
    ax.set_xlabel(f"{digits_test.statistic_name} statistic")
fig.tight_layout()
plt.show()
