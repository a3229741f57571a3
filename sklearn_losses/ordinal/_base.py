"""What the cumulative-link classifiers share: labels, scaling, probabilities, crossings."""

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils import Bunch
from sklearn.utils._param_validation import StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from ..utils.validation import check_n_classes, check_sample_weight
from ._inference import (
    delta_method,
    effect_jacobian,
    inference_table,
    row_effects,
    row_std_errors,
)
from ._kernels import LINKS, class_probabilities

# |predictor| beyond which every link's F is exactly 0 or 1 in float64
_PREDICTOR_LIMIT = 1e300
# the middle-rare warning: the rarest class is interior, below this share of the weight ...
_RARE_SHARE = 0.1
# ... and below this fraction of the share of the rarer end class
_RARE_MARGIN = 0.5
_EFFECT_ENTRIES = 4_000_000  # per-row effects are computed in blocks of at most this size


class CumulativeLinkClassifier(ClassifierMixin, BaseEstimator):
    """Base of the ordinal classifiers ``P(y <= k | x) = F(intercept_[k] + x @ coef_[:, k])``.

    Subclasses fit on the features given by :meth:`_standardize` (standardized when
    their ``scale`` parameter is true) and report the coefficients on the original
    scale with :meth:`_set_original_scale`.
    """

    _parameter_constraints = {
        "link": [StrOptions(set(LINKS))],
        "categories": ["array-like", None],
    }

    # -- fitting ---------------------------------------------------------------------------
    def _validate_training_data(self, X, y, sample_weight):
        target_order = ordered_categories(y)  # read before validate_data drops the dtype
        X, y = validate_data(self, X, y, dtype=np.float64, order="C")
        check_classification_targets(y)
        weight = check_sample_weight(sample_weight, X, type(self).__name__)
        # an exact power-of-two rescaling (max in [0.5, 1)): the normalised loss is unchanged,
        # but weights near the float64 limits (1e-320, 1e300) neither underflow nor overflow
        weight = np.ldexp(weight, -np.frexp(weight.max())[1])
        self.categories_, codes = encode_ordinal(y, self.categories, target_order)
        check_n_classes(self.categories_, type(self).__name__)
        # scikit-learn's scorers and metrics take the columns of predict_proba to be the
        # classes in sorted order: classes_ is sorted, categories_ keeps the model's order
        self.classes_ = self.categories_[self._sorted_columns()]
        return X, codes, weight

    def _sorted_columns(self):
        """The ordinal index of each class of ``classes_`` (sorted): ``categories_[i]``."""
        categories = getattr(self, "categories_", None)
        if categories is None:  # a model fitted before categories_ existed: one order
            return np.arange(len(self.classes_))
        return np.argsort(categories, kind="stable")

    def _standardize(self, X, weight, force=False):
        """Weighted centring and scaling (ddof=0) when ``scale`` (or ``force``); constant
        columns keep scale 1.

        Each column is first divided by its largest absolute value, so that features of
        any finite magnitude (up to 1e308) are standardized without overflow.
        """
        if not (self.scale or force):
            return X, np.zeros(X.shape[1]), np.ones(X.shape[1])
        # one full-size array (the result); the reductions run without temporaries
        size = np.maximum(X.max(axis=0), -X.min(axis=0)) if X.shape[0] else np.ones(X.shape[1])
        size[size == 0] = 1.0
        centred = X / size  # entries in [-1, 1]
        unit_mean = weight @ centred / weight.sum()
        centred -= unit_mean
        spread = np.sqrt(_weighted_sum_of_squares(centred, weight) / weight.sum())
        constant = spread < 1e-12 * np.maximum(1.0, np.abs(unit_mean))
        centred /= np.where(constant, 1.0 / size, spread)
        scale = np.where(constant, 1.0, spread * size)
        return np.ascontiguousarray(centred), unit_mean * size, scale

    def _set_original_scale(self, intercepts, slopes, mean, scale):
        self.coef_ = slopes / scale[:, None]
        self.intercept_ = intercepts - mean @ self.coef_

    def _warn_if_rare_class_is_interior(self, codes, weight):
        """Warn when the rarest class sits in the middle of the order (PRESTO's premise is a
        rare end class): it is interior, holds under ``_RARE_SHARE`` of the weight and under
        ``_RARE_MARGIN`` times the share of the rarer end class."""
        shares = np.bincount(codes, weights=weight, minlength=len(self.categories_))
        shares = shares / shares.sum()
        rarest = int(np.argmin(shares))
        ends = min(shares[0], shares[-1])
        if 0 < rarest < len(shares) - 1 and shares[rarest] < min(_RARE_SHARE, _RARE_MARGIN * ends):
            warnings.warn(
                f"{type(self).__name__}: the rarest class, {self.categories_.tolist()[rarest]!r} "
                f"({shares[rarest]:.1%} of the (weighted) samples), sits in the middle of "
                f"the order {self.categories_.tolist()} (the end classes hold {shares[0]:.1%} and "
                f"{shares[-1]:.1%}). PRESTO is built for a rare class at an end of the order, "
                "whose threshold borrows strength from its neighbours; here every threshold "
                "has plenty of data on both sides. Consider ProportionalOddsClassifier, or a "
                "multinomial sklearn.linear_model.LogisticRegression if the order matters little.",
                UserWarning,
                stacklevel=4,  # the caller of fit (helper, fit, _fit_context's wrapper)
            )

    # -- prediction ------------------------------------------------------------------------
    def linear_predictor(self, X):
        """The linear predictors ``eta_k(x) = intercept_[k] + x @ coef_[:, k]``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        eta : ndarray of shape (n_samples, n_classes - 1)
            ``F(eta_k)`` is the cumulative probability ``P(y <= categories_[k] | x)``.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        return X @ self.coef_ + self.intercept_

    def crossings(self, X):
        """Which rows have crossing (non-monotone) cumulative probabilities.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        mask : ndarray of bool, shape (n_samples,)
            True where some ``eta_k(x) < eta_{k-1}(x)``; such rows are repaired in
            :meth:`predict_proba` as the ``crossing`` parameter says.
        """
        eta = self.linear_predictor(X)
        return np.any(np.diff(eta, axis=1) < 0, axis=1)

    def marginal_effects(self, X, *, at="overall", sample_weight=None, covariance=None):
        """Partial effects ``d P(y = k | x) / d x_j`` of each feature on each class probability.

        The derivative of :meth:`predict_proba` with respect to each feature, on the
        original feature scale: ``f(eta_k) coef_[j, k] - f(eta_{k-1}) coef_[j, k-1]`` with
        ``f`` the link's density (for proportional odds ``coef_[j] (f(eta_k) -
        f(eta_{k-1}))``).  Rows whose predictors cross are differentiated as
        :meth:`predict_proba` repairs them (``crossing``).  The effects of a feature sum
        to zero over the classes.  As statsmodels' ``get_margeff``, ``at="overall"``
        averages the per-row effects over ``X`` (the average partial effect), ``at="mean"``
        is the effect at the mean of ``X`` and ``at="all"`` gives every row's effects.
        Each is the effect of an infinitesimal change: for a binary or count feature it
        approximates, not equals, the effect of a unit change.

        With ``covariance``, the covariance of the parameters ``theta =
        concatenate([intercept_, coef_.ravel()])`` (for
        :class:`ProportionalOddsClassifier`, from its :meth:`~ProportionalOddsClassifier.covariance`
        method), the result also holds delta-method standard errors
        ``sqrt(J cov J')``, with ``J`` the exact Jacobian of the effects in ``theta``,
        z-scores, two-sided normal p-values and 95% confidence intervals.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The rows at which the effects are evaluated (e.g. the training data).
        at : {"overall", "mean", "all"}, default="overall"
            ``"overall"``: the (weighted) average of the per-row effects;
            ``"mean"``: the effects at the (weighted) mean row of ``X``; ``"all"``:
            the effects of every row.
        sample_weight : array-like of shape (n_samples,), default=None
            Weights of the rows in the average (``"overall"``) or the mean row
            (``"mean"``); not accepted with ``at="all"``.
        covariance : array-like of shape (n_params, n_params), default=None
            Covariance of ``theta``, ``n_params = n_classes - 1 + coef_.size``; None
            gives no standard errors.

        Returns
        -------
        result : :class:`~sklearn.utils.Bunch`
            With keys

            - ``effects``: ndarray of shape (n_features, n_classes), or
              (n_samples, n_features, n_classes) for ``at="all"``; the last axis
              follows ``classes_``, as the columns of :meth:`predict_proba`;
            - ``std_errors``, ``z_scores``, ``p_values``: arrays of the shape of
              ``effects``, and ``conf_int``: the 95% intervals, shape
              ``effects.shape + (2,)``; all None without ``covariance``;
            - ``classes``: ``classes_``; ``feature_names``: ``feature_names_in_``, or
              ``x0, x1, ...``; ``at``: the ``at`` used.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn_losses.datasets import make_presto_data
        >>> from sklearn_losses.ordinal import ProportionalOddsClassifier
        >>> X, y, _ = make_presto_data(n_samples=500, random_state=0)
        >>> clf = ProportionalOddsClassifier().fit(X, y)
        >>> me = clf.marginal_effects(X, covariance=clf.covariance(X, y))
        >>> me.effects.shape, me.std_errors.shape
        ((10, 4), (10, 4))
        >>> bool(np.allclose(me.effects.sum(axis=1), 0))
        True
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=np.float64, reset=False)
        name = type(self).__name__
        if not (isinstance(at, str) and at in ("overall", "mean", "all")):
            raise ValueError(f"at must be 'overall', 'mean' or 'all'; got {at!r}.")
        if at == "all" and sample_weight is not None:
            raise ValueError(
                "sample_weight weighs the rows in an average: it is not accepted with at='all'."
            )
        weight = check_sample_weight(sample_weight, X, name) if at != "all" else None
        if at == "mean":
            X = (weight @ X / weight.sum())[None, :]
            weight = np.ones(1)
        crossing = getattr(self, "crossing", "sort")
        intercepts, B = self.intercept_, self.coef_
        rows = max(1, _EFFECT_ENTRIES // (X.shape[1] * (len(intercepts) + 1)))
        blocks, total = [], 0.0
        for start in range(0, X.shape[0], rows):
            block = row_effects(X[start : start + rows], B, intercepts, self.link, crossing)
            if at == "all":
                blocks.append(block)
            else:  # the weighted sum, block by block
                total = total + np.einsum("i,ijk->jk", weight[start : start + rows], block)
        effects = np.concatenate(blocks) if at == "all" else total / weight.sum()
        columns = self._sorted_columns()  # computed in categories_ order; shown as classes_
        result = Bunch(
            effects=effects[..., columns],
            std_errors=None,
            z_scores=None,
            p_values=None,
            conf_int=None,
            classes=self.classes_,
            feature_names=getattr(
                self, "feature_names_in_", np.array([f"x{j}" for j in range(X.shape[1])])
            ),
            at=at,
        )
        if covariance is None:
            return result
        n_params = len(intercepts) + B.size
        covariance = np.asarray(covariance, dtype=np.float64)
        if covariance.shape != (n_params, n_params) or not np.all(np.isfinite(covariance)):
            raise ValueError(
                f"covariance must be a finite ({n_params}, {n_params}) array, the covariance "
                "of concatenate([intercept_, coef_.ravel()]); got shape "
                f"{covariance.shape}."
            )
        if at == "all":
            std_errors = row_std_errors(X, B, intercepts, self.link, crossing, covariance)
        else:
            jacobian = effect_jacobian(X, B, intercepts, self.link, crossing, weight)
            std_errors = delta_method(jacobian, covariance)
        result.std_errors = std_errors[..., columns]
        result.z_scores, result.p_values, result.conf_int = inference_table(
            result.effects, result.std_errors
        )
        return result

    def predict_proba(self, X):
        """Class probabilities; crossing predictors are repaired per ``crossing``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        proba : ndarray of shape (n_samples, n_classes)
            Non-negative, rows sum to 1, columns ordered as ``classes_`` (sorted, as
            scikit-learn's scorers assume; ``categories_`` is the order of the model).
        """
        eta = self.linear_predictor(X)
        proba = probabilities_from_predictors(eta, self.link, getattr(self, "crossing", "sort"))
        return proba[:, self._sorted_columns()]

    def predict_log_proba(self, X):
        """Logarithm of :meth:`predict_proba` (``-inf`` for zero probabilities).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        log_proba : ndarray of shape (n_samples, n_classes)
            The log class probabilities, columns ordered as ``classes_``.
        """
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def decision_function(self, X):
        """Compute scores whose maximum (or sign, for two classes) gives :meth:`predict`.

        For two classes, the log-odds (for the logit link) of ``classes_[1]``: ``-eta``
        when ``classes_[1]`` is the upper category, ``eta`` when it is the lower one; for
        more classes the log class probabilities.  The per-threshold linear
        predictors are :meth:`linear_predictor`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        scores : ndarray of shape (n_samples,) or (n_samples, n_classes)
            Positive towards ``classes_[1]`` for two classes, the log class
            probabilities otherwise.
        """
        check_is_fitted(self)
        if len(self.classes_) == 2:
            upper_is_second = self._sorted_columns()[1] == 1
            eta = self.linear_predictor(X)[:, 0]
            return -eta if upper_is_second else eta
        return self.predict_log_proba(X)

    def predict(self, X):
        """The most probable class.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Samples.

        Returns
        -------
        y_pred : ndarray of shape (n_samples,)
            The most probable class of each sample.
        """
        check_is_fitted(self)
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        # scikit-learn's classifier checks score on unordered blobs, which a cumulative
        # model cannot separate (the classes must be ordered along a direction).
        tags.classifier_tags.poor_score = True
        return tags


def probabilities_from_predictors(eta, link, crossing="sort"):
    """Class probabilities from linear predictors, repairing crossed rows per ``crossing``.

    Infinite predictors (features far outside the training scale) are the limits of
    the cumulative probabilities 0 and 1 and are clipped to a finite value at which
    ``F`` is exactly 0 or 1; NaN predictors (an overflow ``inf - inf``) raise.
    """
    if np.isnan(eta).any():
        raise ValueError(
            "The linear predictors hold NaN: X @ coef_ overflows for these samples; they "
            "lie far outside the scale of the training data."
        )
    eta = np.clip(eta, -_PREDICTOR_LIMIT, _PREDICTOR_LIMIT)
    crossed = np.any(np.diff(eta, axis=1) < 0, axis=1)
    if crossed.any():
        if crossing == "raise":
            raise ValueError(
                f"{int(crossed.sum())} rows have crossing cumulative probabilities; "
                "use crossing='sort' or 'clip' to repair them."
            )
        if crossing == "sort":  # monotone rearrangement of the predictors
            eta = np.sort(eta, axis=1)
    proba = class_probabilities(np.ascontiguousarray(eta, dtype=np.float64), LINKS[link])
    if crossed.any() and crossing == "clip":
        # the kernel already gives max(F(eta_k) - F(eta_{k-1}), 0) per class
        proba[crossed] /= proba[crossed].sum(axis=1, keepdims=True)
    return proba


def ordered_categories(y):
    """The categories, lowest first, of a pandas ordered Categorical ``y``; else None.

    Duck-typed (a ``pd.Categorical`` or a Series of ``CategoricalDtype``), so pandas is
    not imported.  An unordered Categorical gives None: its labels carry no order.
    """
    dtype = getattr(y, "dtype", None)
    if getattr(dtype, "name", None) == "category" and getattr(dtype, "ordered", False):
        return np.asarray(dtype.categories)
    return None


def _lookup_codes(y, classes, source):
    lookup = {label: code for code, label in enumerate(classes.tolist())}
    try:
        return np.array([lookup[label] for label in np.asarray(y).tolist()], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"y has the label {exc.args[0]!r}, which is not in {source}.") from None


def encode_ordinal(y, categories=None, target_order=None):
    """Classes in their order and the integer code of each label.

    The order comes from ``categories`` (the ordered labels, lowest first), from
    ``target_order`` (the categories of an ordered pandas Categorical target; those
    absent from ``y`` are dropped, as absent numeric labels are), or from sorting
    numeric or boolean labels.  Other labels have no known order: ``ValueError``.
    """
    y = np.asarray(y)
    if categories is None and target_order is not None:
        present = set(y.tolist())
        classes = np.asarray([c for c in target_order.tolist() if c in present])
        return classes, _lookup_codes(y, classes, "the categories of the ordered Categorical y")
    if categories is None:
        if y.dtype.kind not in "biuf":
            labels = np.unique(y)
            shown = ", ".join(repr(label) for label in labels[:5].tolist())
            raise ValueError(
                f"y holds non-numeric labels ({shown}{', ...' if len(labels) > 5 else ''}) "
                "whose order is unknown, and an ordinal classifier needs it. Pass "
                "categories=[...] with the labels lowest first, or y as an ordered pandas "
                "Categorical, e.g. pd.Categorical(y, categories=[...], ordered=True)."
            )
        classes = np.unique(y)
        return classes, np.searchsorted(classes, y).astype(np.int64)
    classes = np.asarray(categories)
    if classes.ndim != 1 or len(set(classes.tolist())) != len(classes):
        raise ValueError("categories must be a 1-D list of distinct labels, in their order.")
    if target_order is not None:
        ranks = {label: rank for rank, label in enumerate(target_order.tolist())}
        in_target = [ranks[c] for c in classes.tolist() if c in ranks]
        if any(later < earlier for earlier, later in zip(in_target, in_target[1:])):
            raise ValueError(
                "categories and the order of the ordered Categorical y disagree; give the "
                "order once."
            )
    codes = _lookup_codes(y, classes, "categories")
    missing = sorted(set(range(len(classes))) - set(codes.tolist()))
    if missing:
        raise ValueError(
            f"The categories {classes[missing].tolist()} do not occur in y; an ordinal model "
            "cannot estimate thresholds for empty classes."
        )
    return classes, codes


def _weighted_sum_of_squares(X, weight, rows_per_block=8192):
    """``weight @ X**2`` without an ``X``-sized temporary."""
    total = np.zeros(X.shape[1])
    for start in range(0, X.shape[0], rows_per_block):
        block = X[start : start + rows_per_block]
        total += weight[start : start + rows_per_block] @ (block * block)
    return total
