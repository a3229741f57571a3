"""Learning curves of several classifiers on shared, class-covering training subsets."""

from dataclasses import dataclass, field
from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import clone
from sklearn.metrics import log_loss
from sklearn.model_selection import train_test_split
from sklearn.preprocessing import MinMaxScaler, StandardScaler
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, StrOptions, validate_params
from sklearn.utils.validation import check_X_y

from ._rates import fit_rate_scale, theoretical_rate

__all__ = ["compare_learning_curves", "LearningCurveComparison"]

_SCALERS = {"minmax": MinMaxScaler, "standard": StandardScaler}


@dataclass
class LearningCurveComparison:
    """Result of :func:`compare_learning_curves`.

    Holds the raw scores of every estimator, training size and repeat, and
    answers the paper's questions about them: the mean curves and their standard
    errors (``mean``, ``sem``), each estimator's asymptotic score, the training
    size at which it comes within a tolerance of it, and where one curve drops
    below another for good.  Every parameter is stored as an attribute of the
    same name.

    Parameters
    ----------
    train_sizes : ndarray of shape (n_sizes,)
        Training sizes, increasing.
    names : list of str
        Estimator names, in the order of ``scores``.
    scores : ndarray of shape (n_estimators, n_sizes, n_repeats)
        Test error (or log loss) per estimator, size and repeat; NaN where the
        evaluation was stopped early (``stop_tol``).
    scoring : str
        ``"error"`` or ``"log_loss"``.
    n_features : int
        Feature dimension, for the theoretical rates.
    asymptotes : dict of str -> float, default={}
        Asymptotic score per estimator name, as measured first under
        ``stop_tol``; an estimator not listed uses its mean score at the largest
        size.

    See Also
    --------
    compare_learning_curves : Run the comparison that returns this result.
    theoretical_rate : The predicted shape of the excess error.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.naive_bayes import LearningCurveComparison
    >>> scores = np.array([[[0.30, 0.32], [0.20, 0.22], [0.15, 0.15]],
    ...                    [[0.40, 0.42], [0.25, 0.27], [0.12, 0.12]]])
    >>> result = LearningCurveComparison(
    ...     np.array([10, 100, 1000]), ["nb", "lr"], scores, "error", 20)
    >>> result.mean.round(2)
    array([[0.31, 0.21, 0.15],
           [0.41, 0.26, 0.12]])
    >>> result.samples_to_within(tol=0.07)
    {'nb': 100, 'lr': 1000}
    >>> result.crossover_size("lr", "nb")
    1000
    """

    train_sizes: np.ndarray
    names: list
    scores: np.ndarray
    scoring: str
    n_features: int
    asymptotes: dict = field(default_factory=dict)

    @property
    def mean(self):
        """Mean score over repeats (NaN where not evaluated), shape (n_estimators, n_sizes)."""
        n = np.sum(np.isfinite(self.scores), axis=2)
        with np.errstate(invalid="ignore"):
            return np.nansum(self.scores, axis=2) / np.where(n > 0, n, np.nan)

    @property
    def sem(self):
        """Standard error of the mean over repeats, shape (n_estimators, n_sizes)."""
        n = np.sum(np.isfinite(self.scores), axis=2)
        squares = np.nansum((self.scores - self.mean[..., None]) ** 2, axis=2)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.sqrt(squares / (n - 1) / n)

    def asymptote(self, name):
        """Return the asymptotic score of an estimator.

        Parameters
        ----------
        name : str
            The estimator's name, one of ``names``.

        Returns
        -------
        score : float
            Its entry in ``asymptotes`` when there is one, otherwise its mean
            score at the largest training size.
        """
        return self.asymptotes.get(name, self.mean[self.names.index(name), -1])

    def samples_to_within(self, tol=0.01):
        """Return the smallest training size whose mean score is within ``tol`` of the asymptote.

        Parameters
        ----------
        tol : float, default=0.01
            Tolerance above the asymptote (see :meth:`asymptote`), in score units.

        Returns
        -------
        sizes : dict of str -> int or None
            For each estimator name, the first training size whose mean score is
            at most its asymptote plus ``tol``; None when no size qualifies.
        """
        result = {}
        for i, name in enumerate(self.names):
            ok = np.flatnonzero(self.mean[i] <= self.asymptote(name) + tol)
            result[name] = int(self.train_sizes[ok[0]]) if ok.size else None
        return result

    def crossover_size(self, first, second):
        """Return the first size from which ``first`` stays strictly below ``second``.

        Parameters
        ----------
        first : str
            Name of the estimator expected to end up with the lower mean score.
        second : str
            Name of the estimator it is compared with.

        Returns
        -------
        size : int or None
            The smallest training size from which the mean score of ``first`` is
            strictly below that of ``second`` at every larger size; None when it
            is not below at the largest size, or when either curve was stopped
            early (NaN entries).
        """
        a = self.mean[self.names.index(first)]
        b = self.mean[self.names.index(second)]
        below = a < b
        if not below[-1] or np.isnan(a).any() or np.isnan(b).any():
            return None
        last_not_below = np.flatnonzero(~below)
        start = last_not_below[-1] + 1 if last_not_below.size else 0
        return int(self.train_sizes[start])

    def plot(self, ax=None, *, theory=None):
        """Draw mean score against training size with standard-error bands.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; a new figure when None.
        theory : dict, default=None
            ``{name: "naive_bayes" | "logistic"}``: overlay the theoretical excess
            error shape, scaled to fit, on top of that estimator's asymptote.

        Returns
        -------
        ax : matplotlib Axes
            The axes drawn on, with a log-scaled size axis and a legend.
        """
        if ax is None:  # pyplot only when we make the figure
            import matplotlib.pyplot as plt

            _, ax = plt.subplots(figsize=(6, 4))
        theory_label = "theory, scaled to fit (dashed)"
        sizes = self.train_sizes
        for i, name in enumerate(self.names):
            keep = np.isfinite(self.mean[i])
            (line,) = ax.plot(sizes[keep], self.mean[i, keep], marker=".", label=name)
            sem = np.nan_to_num(self.sem[i, keep])
            ax.fill_between(
                sizes[keep],
                self.mean[i, keep] - sem,
                self.mean[i, keep] + sem,
                color=line.get_color(),
                alpha=0.2,
            )
            if theory and name in theory:
                excess = self.mean[i, keep] - self.asymptote(name)
                scale = fit_rate_scale(sizes[keep], excess, self.n_features, theory[name])
                rate = theoretical_rate(sizes[keep], self.n_features, theory[name], scale)
                ax.plot(
                    sizes[keep],
                    self.asymptote(name) + rate,
                    ls="--",
                    color=line.get_color(),
                    label=theory_label,  # one legend entry for every dashed curve
                )
                theory_label = "_nolegend_"
        ax.set_xscale("log")
        ax.set_xlabel("training size m")
        ax.set_ylabel("test error" if self.scoring == "error" else "test log loss")
        ax.legend()
        return ax


@validate_params(
    {
        "estimators": [dict],
        "X": ["array-like"],
        "y": ["array-like"],
        "X_test": ["array-like", None],
        "y_test": ["array-like", None],
        "train_sizes": ["array-like"],
        "n_repeats": [Interval(Integral, 1, None, closed="left")],
        "sampling": [StrOptions({"stratified", "uniform"})],
        "scaler": [StrOptions(set(_SCALERS)), HasMethods(["fit", "transform"]), None],
        "scoring": [StrOptions({"error", "log_loss"})],
        "stop_tol": [Interval(Real, 0, None, closed="left"), None],
        "n_jobs": [Integral, None],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=False,  # the estimators' own parameters are validated
)
def compare_learning_curves(
    estimators,
    X,
    y,
    *,
    X_test=None,
    y_test=None,
    train_sizes,
    n_repeats=5,
    sampling="stratified",
    scaler="minmax",
    scoring="error",
    stop_tol=None,
    n_jobs=None,
    random_state=None,
):
    """Learning curves of several classifiers, each fitted on the same training subsets.

    For every size and repeat one training subset containing every class is drawn
    from ``(X, y)``; every estimator (cloned) is fitted on that same subset, so the
    comparison is paired.  The scaler is fitted on the subset alone and applied to
    the test set, as in Zheng et al. (ICML 2023).

    Parameters
    ----------
    estimators : dict of str -> estimator
        The classifiers to compare.
    X, y : array-like
        The training pool.
    X_test, y_test : array-like, default=None
        The test set.  When None, a stratified quarter of ``(X, y)`` is held out.
    train_sizes : array-like of int
        Training sizes, each at least the number of classes.
    n_repeats : int, default=5
        Subsets drawn per size.
    sampling : {"stratified", "uniform"}, default="stratified"
        ``"stratified"`` keeps the class proportions with at least one sample per
        class; ``"uniform"`` draws uniformly and redraws until every class
        appears (the paper's protocol, a strong conditioning for many classes).
    scaler : {"minmax", "standard"}, transformer or None, default="minmax"
        Fitted on each training subset.  The paper scales real features; its
        simulation does not (``None``).
    scoring : {"error", "log_loss"}, default="error"
        Test misclassification rate, or log loss (needs ``predict_proba``).
    stop_tol : float, default=None
        When set, the largest size is evaluated first as the asymptote, and each
        estimator is evaluated at increasing sizes only until its mean score is
        within ``stop_tol`` of it (the paper's stopping rule); later entries are NaN.
    n_jobs : int, default=None
        Parallel fits through joblib.
    random_state : int, RandomState instance or None, default=None
        Seed of the subset draws.

    Returns
    -------
    result : LearningCurveComparison
        The scores of every estimator, size and repeat, with the helpers to
        summarise and plot them.

    See Also
    --------
    LearningCurveComparison : The returned result and its summaries.
    SharedVarianceGaussianNB : The generative linear classifier of the study.
    theoretical_rate : The predicted shape of the excess error.
    sklearn.model_selection.learning_curve : Learning curves of one estimator
        with cross-validation.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn_losses.naive_bayes import (
    ...     SharedVarianceGaussianNB, compare_learning_curves)
    >>> X, y = load_iris(return_X_y=True)
    >>> res = compare_learning_curves(
    ...     {"nb": SharedVarianceGaussianNB(), "lr": LogisticRegression()},
    ...     X, y, train_sizes=[6, 30, 100], n_repeats=3, random_state=0)
    >>> res.scores.shape
    (2, 3, 3)
    """
    if not estimators:
        raise ValueError("estimators must be a non-empty dict of name -> estimator.")
    X, y = check_X_y(X, y)
    rng = check_random_state(random_state)
    if (X_test is None) != (y_test is None):
        raise ValueError("X_test and y_test must be given together (X_test or y_test is None).")
    if X_test is None:
        X, X_test, y, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=rng)
    X_test, y_test = check_X_y(X_test, y_test)
    if X_test.shape[1] != X.shape[1]:
        raise ValueError(f"X_test has {X_test.shape[1]} features; X has {X.shape[1]}.")
    classes = np.unique(y)
    sizes = np.asarray(sorted(set(int(s) for s in np.ravel(train_sizes))))
    if sizes.size == 0 or sizes[0] < len(classes) or sizes[-1] > len(y):
        raise ValueError(
            f"train_sizes must lie in [{len(classes)}, {len(y)}] (at least one sample per "
            f"class, at most the pool); got {sizes.min() if sizes.size else None} to "
            f"{sizes.max() if sizes.size else None}."
        )
    scaler = _SCALERS[scaler]() if isinstance(scaler, str) else scaler
    names = list(estimators)
    seeds = rng.randint(np.iinfo(np.int32).max, size=(len(sizes), n_repeats))
    scores = np.full((len(names), len(sizes), n_repeats), np.nan)

    def evaluate(size_index, active):
        jobs = (
            delayed(_fit_and_score)(
                [estimators[n] for n in active],
                X,
                y,
                X_test,
                y_test,
                sizes[size_index],
                classes,
                sampling,
                scaler,
                scoring,
                seeds[size_index, r],
            )
            for r in range(n_repeats)
        )
        results = Parallel(n_jobs=n_jobs)(jobs)
        for r, row in enumerate(results):
            for name, value in zip(active, row):
                scores[names.index(name), size_index, r] = value

    if stop_tol is None:
        for s in range(len(sizes)):
            evaluate(s, names)
        return LearningCurveComparison(sizes, names, scores, scoring, X.shape[1])

    evaluate(len(sizes) - 1, names)
    asymptotes = {n: float(np.mean(scores[i, -1])) for i, n in enumerate(names)}
    active = list(names)
    for s in range(len(sizes) - 1):
        if not active:
            break
        evaluate(s, active)
        active = [
            n for n in active if np.mean(scores[names.index(n), s]) > asymptotes[n] + stop_tol
        ]
    return LearningCurveComparison(sizes, names, scores, scoring, X.shape[1], asymptotes)


def draw_subset(y, size, classes, sampling, rng):
    """Indices of a training subset of ``size`` rows that contains every class."""
    if sampling == "uniform":
        for _ in range(10_000):
            index = rng.choice(len(y), size=size, replace=False)
            if np.unique(y[index]).size == len(classes):
                return index
        raise ValueError(
            f"No uniform draw of {size} samples out of 10000 contained all {len(classes)} "
            "classes; use sampling='stratified' or larger sizes."
        )
    by_class = [np.flatnonzero(y == c) for c in classes]
    counts = np.array([len(idx) for idx in by_class])
    # proportional allocation with one sample per class guaranteed (largest remainder)
    extra = size - len(classes)
    quota = (counts - 1) / (counts - 1).sum() * extra if extra else np.zeros(len(classes))
    alloc = np.floor(quota).astype(int)
    order = np.argsort(quota - alloc)[::-1]
    alloc[order[: extra - alloc.sum()]] += 1
    alloc += 1
    return np.concatenate(
        [rng.choice(idx, size=a, replace=False) for idx, a in zip(by_class, alloc)]
    )


def _fit_and_score(
    estimators, X, y, X_test, y_test, size, classes, sampling, scaler, scoring, seed
):
    rng = np.random.RandomState(seed)
    index = draw_subset(y, size, classes, sampling, rng)
    X_train, X_eval = X[index], X_test
    if scaler is not None:
        fitted = clone(scaler).fit(X_train)
        X_train, X_eval = fitted.transform(X_train), fitted.transform(X_test)
    row = []
    for estimator in estimators:
        model = clone(estimator).fit(X_train, y[index])
        if scoring == "error":
            row.append(float(np.mean(model.predict(X_eval) != y_test)))
        else:
            row.append(float(log_loss(y_test, model.predict_proba(X_eval), labels=classes)))
    return row
