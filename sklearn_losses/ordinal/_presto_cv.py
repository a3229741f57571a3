"""PRESTO with its regularisation path and the paper's cross-validation rule."""

from numbers import Integral, Real

import numpy as np
from joblib import Parallel, delayed
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import get_scorer, get_scorer_names
from sklearn.model_selection import check_cv
from sklearn.utils._param_validation import Interval, StrOptions

from ..utils._convergence import warn_not_converged
from ..utils._threads import solver_threads
from ..utils.validation import check_n_classes
from ._base import CumulativeLinkClassifier, probabilities_from_predictors
from ._presto import PRESTOClassifier
from ._solver import PrestoProblem, psi_to_slopes

__all__ = ["PRESTOClassifierCV"]


def _brier(proba, codes, weight, rare):
    per_row = np.sum((np.eye(proba.shape[1])[codes] - proba) ** 2, axis=1)
    return float(weight @ per_row / weight.sum())


def _log_loss(proba, codes, weight, rare):
    per_row = -np.log(np.clip(proba[np.arange(codes.shape[0]), codes], 1e-15, None))
    return float(weight @ per_row / weight.sum())


def _rare_brier(proba, codes, weight, rare):
    per_row = ((codes == rare) - proba[:, rare]) ** 2
    return float(weight @ per_row / weight.sum())


def _rare_log_loss(proba, codes, weight, rare):
    p = np.clip(proba[:, rare], 1e-15, 1 - 1e-15)
    per_row = -np.where(codes == rare, np.log(p), np.log1p(-p))
    return float(weight @ per_row / weight.sum())


# the built-in held-out losses: (probabilities, codes, weights, rare code) -> weighted mean
_SCORES = {
    "brier": _brier,
    "log_loss": _log_loss,
    "rare_brier": _rare_brier,
    "rare_log_loss": _rare_log_loss,
}


class PRESTOClassifierCV(CumulativeLinkClassifier):
    """PRESTO with ``alpha`` chosen by K-fold cross-validation along the regularisation path.

    The path runs from ``alpha_max`` (every penalised slope increment zero) down
    to ``alpha_min_ratio * alpha_max`` on a log scale, each fit warm-started from
    the previous one.  Every fold fits the whole path and scores the held-out
    rows; the chosen ``alpha_`` is the **largest** alpha whose mean CV score is
    minimal (the rule of Faletto & Bien), and the model is refitted on all data.

    Read more in the :doc:`User Guide </user_guide/ordinal>`.

    Parameters
    ----------
    alphas : int or array-like, default=20
        Number of alphas on the automatic path, or the alphas themselves (finite,
        >= 0).  When no feature moves the fit (``alpha_max`` is 0, e.g. constant
        features), every alpha gives the intercept-only model and the automatic
        path is ``alphas`` copies of the float64 resolution, as in
        :class:`~sklearn.linear_model.LassoCV`.
    alpha_min_ratio : float, default=0.01
        Smallest alpha of the automatic path, relative to ``alpha_max``.
    cv : int, cross-validation generator or iterable, default=5
        Folds; an int gives :class:`~sklearn.model_selection.StratifiedKFold`.
        A class missing from a training fold gets probability 0 on that fold.
    scoring : str or callable, default="brier"
        Held-out score that picks ``alpha``.  ``"brier"``: the multi-class Brier
        score ``sum_k (1{y = k} - p_k)^2`` (the paper's rule); ``"log_loss"``: the
        log loss; ``"rare_brier"`` and ``"rare_log_loss"``: the Brier score and the
        log loss of the event "``y`` is the rare class" (``rare_class``) against its
        probability, for when the rare class is what matters: the all-class scores
        are dominated by the common classes.  Any other string names a
        scikit-learn scorer (:func:`sklearn.metrics.get_scorer_names`), and a
        callable ``scorer(estimator, X, y)`` is called as scikit-learn's scorers
        are (greater is better), with each fold's model at each alpha; both get
        the held-out rows' ``sample_weight`` when the weights are not all equal.
    rare_class : {"last", "first", "auto"} or label, default="last"
        The class the ``"rare_*"`` scores are about: the last (highest) class, the
        first, ``"auto"`` the end class of smaller total weight in the training
        data, or a class label.  Ignored by the other scores.
    n_jobs : int, default=None
        Folds fitted in parallel through joblib.
    penalize_first : bool, default=True
        Also penalise the first slope vector, as in :class:`PRESTOClassifier`.
    scale : bool, default=True
        Fit on standardized features (each fold standardized on its own training
        rows); coefficients are reported on the original scale.
    crossing : {"sort", "clip", "raise"}, default="sort"
        Repair of crossing predictors in :meth:`predict_proba`, as in
        :class:`PRESTOClassifier` (the held-out scores use ``"sort"`` for
        ``"raise"``).
    link : {"logit", "probit", "cloglog"}, default="logit"
        The cumulative distribution function ``F``.
    categories : array-like, default=None
        The ordered class labels, lowest first, as in :class:`PRESTOClassifier`.
    tol : float, default=1e-6
        KKT tolerance of every fit along the path.
    max_iter : int, default=10000
        Maximum solver (OWL-QN) iterations of every fit along the path; a
        :class:`~sklearn.exceptions.ConvergenceWarning` lists the alphas whose
        fits ran out.
    enforce_order : bool, default=False
        Keep every training row's predictors ordered, as in
        :class:`PRESTOClassifier`.
    verbose : int, default=0
        When positive, print one line per alpha and fold (its held-out score)
        and per alpha of the full-data path to stdout; greater than 1 also
        prints the solver's progress (as ``PRESTOClassifier(verbose=verbose - 1)``).
        Folds fitted in parallel (``n_jobs``) print in their worker processes.

    Attributes
    ----------
    alpha_ : float
        The chosen alpha.
    alphas_ : ndarray of shape (n_alphas,)
        The path, decreasing.
    cv_scores_ : ndarray of shape (n_alphas, n_folds)
        Held-out loss of each alpha on each fold, lower is better (for a
        scikit-learn scorer or a callable, its negative).
    rare_class_ : object
        The class the ``"rare_*"`` scores were about (None for the other scores).
    best_index_ : int
        Index of ``alpha_`` in ``alphas_``.
    coef_path_ : ndarray of shape (n_alphas, n_features, n_classes - 1)
        Coefficients of the full-data path (original scale).
    intercept_path_ : ndarray of shape (n_alphas, n_classes - 1)
        Intercepts of the full-data path.
    classes_ : ndarray of shape (n_classes,)
        The classes, sorted (the columns of :meth:`predict_proba`, as scikit-learn's
        scorers and metrics assume).
    categories_ : ndarray of shape (n_classes,)
        The classes in their order (``categories``, an ordered pandas ``Categorical``'s
        order, or sorted): threshold ``k`` separates ``categories_[:k + 1]`` from the
        rest.
    coef_ : ndarray of shape (n_features, n_classes - 1)
        Coefficients at ``alpha_``.
    intercept_ : ndarray of shape (n_classes - 1,)
        Intercepts at ``alpha_``.
    n_iter_ : int
        Solver iterations of the full-data path, summed.
    n_features_in_ : int
        Number of features seen during fit.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of features seen during fit, when ``X`` has string column names.

    See Also
    --------
    PRESTOClassifier : One fit at a given alpha.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_presto_data
    >>> from sklearn_losses.ordinal import PRESTOClassifierCV
    >>> X, y, _ = make_presto_data(n_samples=1000, random_state=0)
    >>> clf = PRESTOClassifierCV(alphas=10, cv=3).fit(X, y)
    >>> clf.cv_scores_.shape, clf.coef_path_.shape
    ((10, 3), (10, 10, 3))
    >>> bool(clf.alpha_ in clf.alphas_)
    True
    """

    _parameter_constraints = {
        **PRESTOClassifier._parameter_constraints,
        "alphas": [Interval(Integral, 1, None, closed="left"), "array-like"],
        "alpha_min_ratio": [Interval(Real, 0, 1, closed="neither")],
        "cv": ["cv_object"],
        "scoring": [StrOptions(set(_SCORES) | set(get_scorer_names())), callable],
        "rare_class": "no_validation",  # "last", "first", "auto" or a label: checked in fit
        "n_jobs": [Integral, None],
    }
    _parameter_constraints.pop("alpha")
    _parameter_constraints.pop("warm_start")

    def __init__(
        self,
        alphas=20,
        *,
        alpha_min_ratio=0.01,
        cv=5,
        scoring="brier",
        rare_class="last",
        n_jobs=None,
        penalize_first=True,
        scale=True,
        crossing="sort",
        link="logit",
        categories=None,
        tol=1e-6,
        max_iter=10000,
        enforce_order=False,
        verbose=0,
    ):
        self.alphas = alphas
        self.alpha_min_ratio = alpha_min_ratio
        self.cv = cv
        self.scoring = scoring
        self.rare_class = rare_class
        self.n_jobs = n_jobs
        self.penalize_first = penalize_first
        self.scale = scale
        self.crossing = crossing
        self.link = link
        self.categories = categories
        self.enforce_order = enforce_order
        self.tol = tol
        self.max_iter = max_iter
        self.verbose = verbose

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, sample_weight=None):
        """Fit the path on every fold, choose ``alpha_`` and refit on all data.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data.
        y : array-like of shape (n_samples,)
            Ordinal labels.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weights, used in the fits and in the CV scores.

        Returns
        -------
        self : object
            The fitted estimator.
        """
        X, codes, weight = self._validate_training_data(X, y, sample_weight)
        self._warn_if_rare_class_is_interior(codes, weight)
        rare = self._rare_code(codes, weight)
        self.rare_class_ = None if rare is None else self.categories_[rare]
        # every BLAS call of the fit, not only the solver's, on pinned pools (utils._threads)
        with solver_threads(X.size):
            n_classes = len(self.classes_)
            Xs, mean, scale = self._standardize(X, weight)
            name = type(self).__name__
            full = PrestoProblem(
                Xs,
                codes,
                weight,
                n_classes,
                self.link,
                self.penalize_first,
                self.enforce_order,
                name,
                max(self.verbose - 1, 0),
            )
            alphas = self._alpha_grid(full)
            folds = list(check_cv(self.cv, codes, classifier=True).split(X, codes))
            results = Parallel(n_jobs=self.n_jobs)(
                delayed(_score_fold_path)(
                    self, X, codes, weight, train, test, alphas, n_classes, (i, len(folds)), rare
                )
                for i, (train, test) in enumerate(folds)
            )
            scores = [fold_scores for fold_scores, _ in results]
            not_converged = {alpha for _, fold_alphas in results for alpha in fold_alphas}
            self.alphas_ = alphas
            self.cv_scores_ = np.column_stack(scores)
            mean_scores = self.cv_scores_.mean(axis=1)
            self.best_index_ = int(np.flatnonzero(mean_scores <= mean_scores.min())[0])
            self.alpha_ = float(alphas[self.best_index_])

            if self.verbose > 0:
                print(f"{name}: chose alpha_ = {self.alpha_:.4g}; refitting the path", flush=True)
            coefs, intercepts, self.n_iter_ = [], [], 0
            for alpha, (a, psi, n_iter) in zip(alphas, full.path(alphas, self.tol, self.max_iter)):
                if self.verbose > 0:
                    print(f"{name}: all data, alpha {alpha:.4g}: {n_iter} iterations", flush=True)
                self.n_iter_ += n_iter
                self._set_original_scale(a, psi_to_slopes(psi), mean, scale)
                coefs.append(self.coef_)
                intercepts.append(self.intercept_)
            not_converged |= set(full.not_converged)
            if not_converged:
                warn_not_converged(
                    name,
                    self.max_iter,
                    hint=f"the fits at alpha in {sorted(not_converged, reverse=True)} stopped "
                    f"above tol={self.tol}; raise max_iter or tol",
                )
        self.coef_path_ = np.stack(coefs)
        self.intercept_path_ = np.stack(intercepts)
        self.coef_ = self.coef_path_[self.best_index_]
        self.intercept_ = self.intercept_path_[self.best_index_]
        return self

    def _rare_code(self, codes, weight):
        """The code of the class the ``"rare_*"`` scores are about (None for other scores)."""
        if self.scoring not in ("rare_brier", "rare_log_loss"):
            return None
        last = len(self.categories_) - 1
        if isinstance(self.rare_class, str) and self.rare_class in ("last", "first", "auto"):
            if self.rare_class == "auto":
                totals = np.bincount(codes, weights=weight, minlength=last + 1)
                return 0 if totals[0] < totals[last] else last
            return last if self.rare_class == "last" else 0
        match = np.flatnonzero(self.categories_ == self.rare_class)
        if match.size != 1:
            raise ValueError(
                f"rare_class={self.rare_class!r} is not one of the classes "
                f"{self.categories_.tolist()} (or 'last', 'first', 'auto')."
            )
        return int(match[0])

    def _alpha_grid(self, problem):
        """The decreasing alphas of the path: given (checked), or from ``alpha_max``."""
        if not isinstance(self.alphas, Integral):
            try:
                alphas = np.asarray(self.alphas, dtype=np.float64)
            except (TypeError, ValueError):
                alphas = None
            if alphas is None or alphas.ndim != 1 or alphas.size == 0:
                raise ValueError(
                    "alphas must be a positive int or a non-empty 1-D array of numbers; "
                    f"got {self.alphas!r}."
                )
            if not np.all(np.isfinite(alphas)) or np.any(alphas < 0):
                raise ValueError(f"alphas must be finite and >= 0; got {self.alphas!r}.")
            return np.sort(alphas)[::-1]
        alpha_max, _ = problem.alpha_max()
        if not np.isfinite(alpha_max):
            raise ValueError(
                f"{type(self).__name__} cannot set its alpha grid: the gradient of the "
                "intercept-only fit is not finite, the features overflow it; scale the "
                "features (scale=True does) or pass alphas explicitly."
            )
        resolution = np.finfo(np.float64).resolution
        if alpha_max <= resolution:
            # no feature moves the fit: every alpha gives the same (intercept-only) model
            return np.full(self.alphas, resolution)
        return np.geomspace(alpha_max, alpha_max * self.alpha_min_ratio, self.alphas)


def _score_fold_path(est, X, codes, weight, train, test, alphas, n_classes, fold, rare):
    """Held-out score of every alpha, fitting the path on the training fold.

    ``fold`` is (index, number of folds), for messages; ``rare`` the code of the rare
    class (``"rare_*"`` scores).  Returns the scores (lower is better) and the alphas
    whose fit stopped above ``tol``.
    """
    name = type(est).__name__
    where = f"fold {fold[0] + 1}/{fold[1]}"
    present = np.unique(codes[train])
    check_n_classes(est.categories_[present], f"{name} on the training rows of {where}")
    local = np.searchsorted(present, codes[train])
    Xs, mean, scale = est._standardize(X[train], weight[train])
    problem = PrestoProblem(
        Xs,
        local,
        weight[train],
        present.size,
        est.link,
        est.penalize_first,
        est.enforce_order,
        name,
        max(est.verbose - 1, 0),
    )
    crossing = "sort" if est.crossing == "raise" else est.crossing
    label = est.scoring if isinstance(est.scoring, str) else "loss (-score)"
    X_test = (X[test] - mean) / scale
    scores = []
    for alpha, (a, psi, _) in zip(alphas, problem.path(alphas, est.tol, est.max_iter)):

        def proba(X_new, a=a, psi=psi):
            out = np.zeros((X_new.shape[0], n_classes))
            out[:, present] = probabilities_from_predictors(
                X_new @ psi_to_slopes(psi) + a, est.link, crossing
            )
            return out

        if est.scoring in _SCORES:
            scores.append(_SCORES[est.scoring](proba(X_test), codes[test], weight[test], rare))
        else:  # a scikit-learn scorer or a callable, on the original features
            model = _FoldModel(est.categories_, lambda X_new, f=proba: f((X_new - mean) / scale))
            scores.append(-_call_scorer(est.scoring, model, X[test], est.categories_[codes[test]],
                                        weight[test]))  # fmt: skip
        if est.verbose > 0:
            print(
                f"{name}: {where}, alpha {alpha:.4g}: held-out {label} {scores[-1]:.6g}",
                flush=True,
            )
    return np.asarray(scores), problem.not_converged


def _call_scorer(scoring, model, X, y, weight):
    scorer = get_scorer(scoring) if isinstance(scoring, str) else scoring
    if np.ptp(weight) > 0:
        return float(scorer(model, X, y, sample_weight=weight))
    return float(scorer(model, X, y))


class _FoldModel(ClassifierMixin, BaseEstimator):
    """One fold's model at one alpha as a scorer sees it: a fitted classifier.

    Its ``classes_`` are sorted, as every scikit-learn classifier's are: scorers
    such as ``"roc_auc_ovr"`` match the probability columns to the labels in sorted
    order, which for ordered string labels ("low" < "mid" < "high") is not their order.
    """

    def __init__(self, classes, predict_proba_function):
        self.classes = classes
        self.predict_proba_function = predict_proba_function

    @property
    def _order(self):
        return np.argsort(self.classes, kind="stable")

    @property
    def classes_(self):
        return self.classes[self._order]

    def __sklearn_is_fitted__(self):
        return True

    def predict_proba(self, X):
        proba = self.predict_proba_function(np.asarray(X, dtype=np.float64))
        return proba[:, self._order]

    def predict(self, X):
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
