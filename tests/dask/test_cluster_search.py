"""Searches on a ``dask.distributed`` cluster give the serial results.

A ``LocalCluster`` of two single-threaded worker *processes* listens on the
loopback interface only (it starts in about a second on two cores).  Every
search runs once serially and once under ``joblib.parallel_backend("dask")``,
which ships each (candidate, fold) fit to the workers; ``cv_results_`` scores and
``best_params_`` must be identical.  Metadata routing (``bags``) and scikit-learn's
configuration travel with each task (``sklearn.utils.parallel.delayed``).
"""

import dask
import dask.array as da
import joblib
import numpy as np
import pytest
import sklearn
from dask_ml.wrappers import Incremental
from distributed import Client, LocalCluster, get_task_stream
from sklearn.base import clone
from sklearn.datasets import load_breast_cancer, load_iris
from sklearn.model_selection import GridSearchCV, GroupKFold, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from sklearn_losses.aggregate import (
    AggregateLinearRegression,
    aggregate_responses,
    bag_mean_squared_error,
    make_bag_scorer,
    make_bags,
)
from sklearn_losses.cross_decomposition import CCA
from sklearn_losses.datasets import make_multiview, make_presto_data
from sklearn_losses.ensloss import EnsLossClassifier
from sklearn_losses.naive_bayes import SharedVarianceGaussianNB
from sklearn_losses.ordinal import PRESTOClassifierCV, ProportionalOddsClassifier


@pytest.fixture(scope="module")
def client():
    """Two worker processes, one thread each, on 127.0.0.1; closed after the module."""
    cluster = LocalCluster(
        host="127.0.0.1",
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        memory_limit="2GiB",
    )
    try:
        with Client(cluster) as client:
            client.wait_for_workers(2, timeout=60)
            yield client
    finally:
        cluster.close()


def _on_cluster(client, search, *args, **params):
    """Fit ``search`` under joblib's dask backend; check that the workers ran it."""
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        search.fit(*args, **params)
    workers = {task["worker"] for task in stream.data}
    assert workers, "no task reached the cluster"
    assert workers <= set(client.scheduler_info()["workers"])
    return search


def assert_same_search(parallel, serial):
    assert parallel.best_params_ == serial.best_params_
    assert parallel.best_index_ == serial.best_index_
    assert list(parallel.cv_results_["params"]) == list(serial.cv_results_["params"])
    score_keys = [k for k in serial.cv_results_ if "test_score" in k or "train_score" in k]
    assert "mean_test_score" in score_keys
    for key in score_keys:
        np.testing.assert_array_equal(parallel.cv_results_[key], serial.cv_results_[key], key)
    assert parallel.best_score_ == serial.best_score_


def _breast_cancer():
    X, y = load_breast_cancer(return_X_y=True)
    return X[::2], y[::2]  # 285 rows


def _presto(n=400):
    X, y, _ = make_presto_data(n, 5, intercepts=(0.0, 1.5, 3.0), random_state=0)
    return X, y


def _multiview():
    return make_multiview(300, (6, 5), correlations=(0.9, 0.6), random_state=0)


SEARCHES = {
    "SharedVarianceGaussianNB": (
        lambda: make_pipeline(StandardScaler(), SharedVarianceGaussianNB()),
        {
            "sharedvariancegaussiannb__var_smoothing": [1e-9, 1e-2, 1e-1],
            "sharedvariancegaussiannb__smoothing": ["absolute", "relative"],
        },
        _breast_cancer,
    ),
    "ProportionalOddsClassifier": (
        lambda: ProportionalOddsClassifier(),
        {"alpha": [0.0, 0.01, 0.1], "link": ["logit", "probit"]},
        _presto,
    ),
    "EnsLossClassifier": (
        lambda: make_pipeline(
            StandardScaler(), EnsLossClassifier(batch_size=32, max_iter=5, random_state=0)
        ),
        {
            "enslossclassifier__alpha": [1e-4, 1e-2],
            "enslossclassifier__loss": ["ensloss", "logistic"],
        },
        _breast_cancer,
    ),
    "CCA": (
        lambda: CCA(),
        {"n_components": [1, 2], "regularization": [0.0, 0.5, 1.0]},
        _multiview,
    ),
}


@pytest.mark.parametrize("name", sorted(SEARCHES))
def test_grid_search_on_cluster_equals_serial(client, name):
    make_estimator, grid, data = SEARCHES[name]
    X, y = data()
    cv = 3 if name == "CCA" else StratifiedKFold(3, shuffle=True, random_state=0)
    serial = GridSearchCV(make_estimator(), grid, cv=cv).fit(X, y)
    parallel = _on_cluster(client, GridSearchCV(make_estimator(), grid, cv=cv), X, y)
    assert_same_search(parallel, serial)
    assert np.isfinite(serial.best_score_)


def test_grid_search_routes_bags_on_cluster(client):
    """AggregateLinearRegression with ``bags`` routed to fit and to the bag scorer."""
    rng = np.random.default_rng(0)
    X = rng.normal(size=(400, 5))
    y = X @ rng.normal(size=5) + rng.normal(size=400)
    bags = make_bags(400, 4, random_state=0)
    y_bag = aggregate_responses(y, bags)
    grid = {"aggregatelinearregression__rho": [0.0, 0.5, 1.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        reg = AggregateLinearRegression().set_fit_request(bags=True, sample_weight=False)
        pipe = make_pipeline(StandardScaler(), reg)

        def search():
            return GridSearchCV(clone(pipe), grid, cv=GroupKFold(4), scoring=make_bag_scorer())

        serial = search().fit(X, y_bag, bags=bags, groups=bags)
        parallel = _on_cluster(client, search(), X, y_bag, bags=bags, groups=bags)
    assert_same_search(parallel, serial)
    # the bags reached fit on the workers: without them every row is its own bag and
    # every rho gives the same fit
    assert np.ptp(parallel.cv_results_["mean_test_score"]) > 1e-3
    # ... and the scorer: the first fold's bag error, by hand
    train, test = next(GroupKFold(4).split(X, groups=bags))
    fitted = make_pipeline(StandardScaler(), AggregateLinearRegression(rho=0.0))
    fitted.fit(X[train], y_bag[train], aggregatelinearregression__bags=bags[train])
    expected = -bag_mean_squared_error(y_bag[test], fitted.predict(X[test]), bags=bags[test])
    assert parallel.cv_results_["split0_test_score"][0] == pytest.approx(expected, rel=1e-12)


def test_presto_cv_n_jobs_on_cluster_equals_serial(client):
    X, y = _presto(500)
    kwargs = {"alphas": 6, "cv": 3}
    serial = PRESTOClassifierCV(n_jobs=1, **kwargs).fit(X, y)
    with get_task_stream(client) as stream, joblib.parallel_backend("dask"):
        parallel = PRESTOClassifierCV(n_jobs=2, **kwargs).fit(X, y)
    assert stream.data, "no task reached the cluster"
    assert parallel.alpha_ == serial.alpha_
    for name in ("alphas_", "cv_scores_", "coef_path_", "intercept_path_", "coef_", "intercept_"):
        np.testing.assert_array_equal(getattr(parallel, name), getattr(serial, name), name)


def test_incremental_on_cluster_equals_local(client):
    """dask-ml's Incremental with the distributed scheduler: the same stream of blocks."""
    X, y = load_iris(return_X_y=True)
    order = np.random.default_rng(0).permutation(len(y))
    X, y = X[order], y[order]
    chunks = (31, 50, 24, 45)
    dX, dy = da.from_array(X, chunks=(chunks, -1)), da.from_array(y, chunks=(chunks,))
    with get_task_stream(client) as stream:
        inc = Incremental(SharedVarianceGaussianNB(), random_state=0).fit(dX, dy, classes=[0, 1, 2])
    assert stream.data, "no task reached the cluster"
    with dask.config.set(scheduler="sync"):  # in this process
        local = Incremental(SharedVarianceGaussianNB(), random_state=0)
        local.fit(dX, dy, classes=[0, 1, 2])
    for name in ("theta_", "var_", "class_count_", "coef_", "intercept_"):
        np.testing.assert_array_equal(getattr(inc, name), getattr(local, name), name)
