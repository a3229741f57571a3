"""Quick versions of the aggregate reproduction (the full tables come from the CLI)."""

import numpy as np
import pytest

from sklearn_losses.reproduce.aggregate import (
    BAG_SIZES,
    LLP_QUICK,
    bias_variance_cell,
    label_proportion_table,
    privacy_curve,
)


@pytest.mark.slow
def test_cv_rho_is_never_worse_and_sometimes_much_better():
    # two cells where the better end differs: many small bags (rho=0) and few large ones (rho=1)
    for sigma, n, k in [(0.5, 2000, 5), (1.0, 2000, 20)]:
        risks = bias_variance_cell(sigma, n, k, n_reps=25, random_state=7)
        best = int(np.argmin(risks[:, :2].mean(axis=0)))
        diff = risks[:, 2] - risks[:, best]
        assert diff.mean() <= 2 * diff.std(ddof=1) / np.sqrt(len(diff))
    assert risks[:, 2].mean() <= 0.9 * risks[:, best].mean()  # sigma=1, k=20: far better


@pytest.mark.slow
def test_private_bags_beat_unbagged_least_squares_at_small_epsilon():
    strong = privacy_curve(0.5, n_reps=12, random_state=3).mean(axis=0)
    best = int(np.argmin(strong[: len(BAG_SIZES)]))
    assert BAG_SIZES[best] >= 2 and strong[best] <= 0.9 * strong[0]
    weak = privacy_curve(8.0, n_reps=12, random_state=3).mean(axis=0)
    assert int(np.argmin(weak[: len(BAG_SIZES)])) == 0


def test_quick_label_proportion_table():
    """Its shape, and the direction of effect: exact bags of 10 near the labels, privacy costs."""
    table, numbers = label_proportion_table(quick=True, random_state=0)
    bag_sizes, epsilons = LLP_QUICK
    assert table.columns == ["epsilon", *[f"k={k}" for k in bag_sizes], "best k"]
    assert len(table.rows) == len(epsilons) + 1  # one row per epsilon, then the reference
    assert table.rows[0][0] == "inf (exact)" and table.rows[-1][0] == "labels (reference)"
    accuracy, reference = numbers["accuracy"], numbers["reference"]
    assert accuracy.shape == (len(epsilons), len(bag_sizes), 2) and reference.shape == (2,)
    assert np.all((accuracy >= 0) & (accuracy <= 1)) and reference.min() > 0.9
    for row, acc in zip(table.rows, accuracy):
        for cell, cell_acc in zip(row[1:-1], acc):
            assert cell.startswith(f"{cell_acc.mean():.3f} ± ")
    exact_10 = accuracy[0, bag_sizes.index(10)].mean()
    assert reference.mean() - exact_10 < 0.10  # the bar: within 10 points
    assert accuracy[1].mean() < exact_10 - 0.2  # epsilon = 1 is far noisier
    assert "points lower" in table.reading
