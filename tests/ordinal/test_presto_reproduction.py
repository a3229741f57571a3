"""Quick version of the paper's headline comparison (the full one is the reproduction command)."""

import numpy as np
import pytest

from sklearn_losses.datasets import make_presto_data
from sklearn_losses.reproduce.presto import replicate


@pytest.mark.slow
def test_presto_beats_proportional_odds_and_logistic_on_the_rare_class():
    seeds = np.random.RandomState(123).randint(2**31 - 1, size=12)
    mse = np.array([replicate(seed)[0] for seed in seeds])
    ratio_po = np.median(mse[:, 0] / mse[:, 1])
    ratio_logit = np.median(mse[:, 0] / mse[:, 2])
    # the paper: 0.77 and 0.56; with 12 replications we assert the direction with a margin
    assert ratio_po < 0.95
    assert ratio_logit < 0.85
    assert np.mean(mse[:, 0] < mse[:, 1]) >= 0.6


def test_simulator_rare_class_rate_and_probabilities():
    X, y, proba = make_presto_data(n_samples=200_000, random_state=0)
    assert 0.005 < np.mean(y == 3) < 0.009  # the paper: about 0.71%
    np.testing.assert_allclose(proba.mean(axis=0), np.bincount(y) / len(y), atol=0.003)
    assert proba.min() > 0
    Xd, yd, _ = make_presto_data(n_samples=1000, setting="dense", random_state=0)
    assert Xd.shape == (1000, 10) and set(np.unique(yd)) <= {0, 1, 2, 3}
    with pytest.raises(ValueError, match="increasing"):
        make_presto_data(intercepts=(1.0, 0.0))
