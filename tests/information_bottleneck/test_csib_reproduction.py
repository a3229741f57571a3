"""The quick CS-IB reproduction: accuracy parity, compression over beta, outliers."""

import numpy as np
import pytest

pytest.importorskip("skorch")


def test_quick_reproduction(tmp_path):
    from sklearn_losses.reproduce import run

    report = run("csib", quick=True, out=tmp_path)
    clean = report.results["clean"]["diabetes"]
    # CS-IB is at most 1.05x the RMSE of the same network trained on the MSE
    assert np.mean(clean["CS-IB"]) <= 1.05 * np.mean(clean["MSE network"])
    # compression: the final training I(x;t) does not increase with beta (0.02 of noise)
    information = [report.results["sweep"][beta][0] for beta in (0.0, 1e-3, 1e-2, 1e-1)]
    assert np.all(np.diff(information) <= 0.02), information
    assert information[-1] < information[0] - 0.05
    # gross outliers in the training targets: the kernel on y makes CS-IB the more robust
    dirty = report.results["outliers"]["diabetes"]
    assert np.mean(dirty["CS-IB"]) < np.mean(dirty["MSE network"])
    assert report.plots and report.plots[0].exists()
