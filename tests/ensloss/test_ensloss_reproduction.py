"""The quick EnsLoss reproduction: the paper's direction of effect, with a margin."""

import numpy as np
import pytest

pytest.importorskip("skorch")


def test_quick_reproduction_shows_the_papers_direction(tmp_path):
    from sklearn_losses.reproduce import run

    report = run("ensloss", quick=True, out=tmp_path)
    clean = {
        k: 100 * np.mean(v) for k, v in report.results[("breast cancer", "linear", 0.0)].items()
    }
    noisy = {k: 100 * np.mean(v) for k, v in report.results[("breast cancer", "mlp1", 0.2)].items()}
    # linear, clean labels: EnsLoss within 1.5 points of the logistic loss
    assert abs(clean["ensloss"] - clean["logistic"]) <= 1.5
    # MLP, 20% flipped labels, final epoch: EnsLoss at least the hinge and exponential
    # losses and no worse than the logistic loss by more than a point (1 point of slack
    # on each for the 3 splits of the quick run)
    assert noisy["ensloss"] >= max(noisy["hinge"], noisy["exponential"]) - 1.0
    assert noisy["ensloss"] >= noisy["logistic"] - 2.0
    assert report.plots and report.plots[0].exists()
