"""Label differential privacy by noisy bag means or class counts, and the bag-size trade-off."""

import math
from numbers import Integral, Real

import numpy as np
from sklearn.base import clone
from sklearn.utils import Bunch, check_random_state
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_array, check_consistent_length

from ..utils.validation import check_n_classes
from ._bags import check_bags, make_bags

__all__ = [
    "privatize_responses",
    "privatize_label_proportions",
    "bag_size_risk",
    "optimal_bag_size",
    "bag_size_search",
]

_POSITIVE_INT = Interval(Integral, 1, None, closed="left")
_EPSILON = Interval(Real, 0, None, closed="neither")  # also rejects inf and NaN
_NON_NEGATIVE = Interval(Real, 0, None, closed="left")


def _check_privacy_arguments(epsilon, bounds):
    """Check epsilon (finite, > 0) and bounds (two finite numbers, low < high)."""
    _check_epsilon(epsilon)
    try:
        pair = np.asarray(bounds, dtype=np.float64)
    except (TypeError, ValueError):
        pair = None
    if pair is None or pair.shape != (2,):
        raise ValueError(f"bounds must be a pair (low, high) of numbers, got {bounds!r}.")
    if not np.all(np.isfinite(pair)):
        raise ValueError(
            f"bounds must be finite (the Laplace noise scales with high - low), got {bounds!r}."
        )
    low, high = pair
    if not low < high:
        raise ValueError(f"bounds must satisfy low < high, got {bounds!r}.")
    return float(low), float(high)


def _check_epsilon(epsilon):
    if not isinstance(epsilon, Real) or not np.isfinite(epsilon) or epsilon <= 0:
        raise ValueError(f"epsilon must be a finite number > 0, got {epsilon!r}.")


def _check_responses(y, name="y"):
    y = check_array(y, ensure_2d=False, dtype=np.float64, input_name=name)
    if y.ndim != 1:
        raise ValueError(f"{name} must be 1-D (one response per row), got shape {y.shape}.")
    return y


@validate_params(
    {
        "y": ["array-like"],
        "bags": ["array-like"],
        "epsilon": [_EPSILON],
        "bounds": ["array-like"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def privatize_responses(y, bags, *, epsilon, bounds, random_state=None):
    """Release epsilon-label-differentially-private bag means, broadcast to the rows.

    Responses are clipped to ``bounds = (a, b)``; each bag of size k releases its
    mean plus Laplace noise of scale ``(b - a) / (k * epsilon)``.  Changing one
    label moves one bag mean by at most ``(b - a) / k`` (the sensitivity), so each
    release is epsilon-DP for that label, and since bags are disjoint the whole
    release is epsilon-label-DP by parallel composition.  Bags must be formed
    without looking at the labels (e.g. :func:`make_bags`).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Individual responses, finite.
    bags : array-like of shape (n_samples,)
        Bag id per row.
    epsilon : float
        Privacy budget, finite and > 0.
    bounds : tuple (a, b)
        Clipping range: finite, a < b.
    random_state : int, RandomState instance or None, default=None
        Seed of the noise.

    Returns
    -------
    y_private : ndarray of shape (n_samples,)
        The noisy bag mean of each row's bag.

    See Also
    --------
    aggregate_responses : The bag means without noise.
    optimal_bag_size : The bag size that balances privacy noise and bias.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import privatize_responses
    >>> y = np.array([0.0, 1.0, 5.0, 6.0])
    >>> privatize_responses(y, [0, 0, 1, 1], epsilon=1e9, bounds=(0, 4)).round(3)
    array([0.5, 0.5, 4. , 4. ])
    """
    low, high = _check_privacy_arguments(epsilon, bounds)
    y = np.clip(_check_responses(y), low, high)
    codes = check_bags(bags, y.shape[0], input_name="y")
    sizes = np.bincount(codes)
    means = np.bincount(codes, weights=y) / sizes
    rng = check_random_state(random_state)
    noisy = means + rng.laplace(scale=(high - low) / (sizes * epsilon))
    return noisy[codes]


def _project_onto_simplex(V):
    """Euclidean projection of each row of ``V`` onto the probability simplex.

    The closest point ``p`` (``p >= 0``, ``sum p = 1``) to each row ``v`` is
    ``max(v - tau, 0)`` with the threshold ``tau`` that makes it sum to one
    (Held et al. 1974; Duchi et al. 2008): one sort per row.
    """
    V = np.asarray(V, dtype=np.float64)
    u = -np.sort(-V, axis=1)  # each row in decreasing order
    excess = np.cumsum(u, axis=1) - 1
    j = np.arange(1, V.shape[1] + 1)
    support = np.count_nonzero(u - excess / j > 0, axis=1)  # >= 1: the first entry qualifies
    tau = excess[np.arange(V.shape[0]), support - 1] / support
    return np.maximum(V - tau[:, None], 0.0)


@validate_params(
    {
        "y": ["array-like"],
        "bags": ["array-like"],
        "epsilon": [_EPSILON],
        "classes": ["array-like", None],
        "project": ["boolean"],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def privatize_label_proportions(y, bags, *, epsilon, classes=None, project=True, random_state=None):
    """Release epsilon-label-differentially-private bag label proportions, broadcast to the rows.

    Each bag of size k releases its vector of class counts ``c_a`` with Laplace
    noise, divided by k.  Changing one row's label moves one count down by one
    and another up by one: the L1 sensitivity of the count vector is 2, so
    ``c_a + Laplace(2 / epsilon)`` on each of the K counts is epsilon-DP for that
    label (the Laplace mechanism).  With two classes the bag size is public and
    the second count determines the first, whose sensitivity is 1: only it is
    released, with ``Laplace(1 / epsilon)`` (half the variance; this is
    :func:`privatize_responses` of the 0/1 labels with ``bounds=(0, 1)``).  Bags
    are disjoint, so by parallel composition the whole release is
    epsilon-label-DP.  Bags must be formed without looking at the labels (e.g.
    :func:`make_bags`); their sizes are public.

    The noisy proportions are unbiased but may be negative and need not sum to
    one, which a cross-entropy cannot take.  With ``project=True`` (the default)
    each bag's noisy proportions are replaced by their Euclidean projection onto
    the probability simplex (with two classes: the second clipped to [0, 1]).
    That is post-processing of a DP release, so it stays epsilon-label-DP.  It is
    exact (no change) where the noise leaves every entry of the projected vector
    positive, and biased where it clips: small proportions are pushed up and
    large ones down, towards the uniform ``1 / K`` when the noise dominates
    (small ``epsilon * k``).

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Each row's class label.
    bags : array-like of shape (n_samples,)
        Bag id per row.
    epsilon : float
        Privacy budget, finite and > 0.
    classes : array-like of shape (n_classes,), default=None
        The classes, in the order of the output's columns (at least two, each
        label of ``y`` among them); None: the sorted labels of ``y``.
    project : bool, default=True
        Project each bag's noisy proportions onto the simplex (usable by
        :class:`AggregateLogisticRegression`); False returns the raw, unbiased
        noisy proportions (each row sums to 1 only in expectation).
    random_state : int, RandomState instance or None, default=None
        Seed of the noise.

    Returns
    -------
    proportions : ndarray of shape (n_samples, n_classes)
        Each row's bag's released class proportions, columns in the order of
        ``classes``: the ``y`` of :class:`AggregateLogisticRegression`, whose
        ``classes_`` are then ``0, ..., n_classes - 1``.

    See Also
    --------
    privatize_responses : The same release for real-valued responses.
    AggregateLogisticRegression : Fits on the released proportions.

    Examples
    --------
    >>> from sklearn_losses.aggregate import privatize_label_proportions
    >>> y = ["a", "b", "b", "c", "c", "c"]
    >>> privatize_label_proportions(y, [0, 0, 0, 1, 1, 1], epsilon=1e9).round(3)
    array([[0.333, 0.667, 0.   ],
           [0.333, 0.667, 0.   ],
           [0.333, 0.667, 0.   ],
           [0.   , 0.   , 1.   ],
           [0.   , 0.   , 1.   ],
           [0.   , 0.   , 1.   ]])
    """
    _check_epsilon(epsilon)
    y = check_array(y, ensure_2d=False, dtype=None, input_name="y")
    if y.ndim != 1:
        raise ValueError(f"y must be 1-D (one label per row), got shape {y.shape}.")
    codes = check_bags(bags, y.shape[0], input_name="y")
    if classes is None:
        classes, labels = np.unique(y, return_inverse=True)
    else:
        classes = np.asarray(classes)
        if classes.ndim != 1 or np.unique(classes).shape[0] != classes.shape[0]:
            raise ValueError(f"classes must be 1-D without repeats, got {classes!r}.")
        order = np.argsort(classes, kind="stable")
        try:
            found = np.searchsorted(classes[order], y).clip(0, classes.shape[0] - 1)
            missing = classes[order][found] != y
        except TypeError as error:  # e.g. string labels against numeric classes
            raise ValueError(f"y's labels cannot be matched with classes: {error}") from None
        if np.any(missing):
            raise ValueError(
                f"y holds labels that are not in classes, e.g. {y[missing][0]!r}; "
                f"classes are {classes.tolist()}."
            )
        labels = order[found]
    check_n_classes(classes, "privatize_label_proportions")
    n_classes, n_bags = classes.shape[0], int(codes.max()) + 1
    sizes = np.bincount(codes, minlength=n_bags).astype(np.float64)
    counts = np.bincount(codes * n_classes + labels.ravel(), minlength=n_bags * n_classes)
    counts = counts.reshape(n_bags, n_classes).astype(np.float64)
    rng = check_random_state(random_state)
    if n_classes == 2:  # the bag size is public: one count, sensitivity 1
        second = (counts[:, 1] + rng.laplace(scale=1 / epsilon, size=n_bags)) / sizes
        if project:
            second = np.clip(second, 0.0, 1.0)
        proportions = np.column_stack([1 - second, second])
    else:  # the count vector, L1 sensitivity 2
        noise = rng.laplace(scale=2 / epsilon, size=(n_bags, n_classes))
        proportions = (counts + noise) / sizes[:, None]
        if project:
            proportions = _project_onto_simplex(proportions)
    return proportions[codes]


@validate_params(
    {
        "bag_sizes": ["array-like"],
        "n_samples": [_POSITIVE_INT],
        "n_features": [_POSITIVE_INT],
        "epsilon": [_EPSILON],
        "bounds": ["array-like"],
        "noise_std": [_NON_NEGATIVE],
        "theta_norm": [_NON_NEGATIVE],
    },
    prefer_skip_nested_validation=True,
)
def bag_size_risk(bag_sizes, *, n_samples, n_features, epsilon, bounds, noise_std, theta_norm=1.0):
    """Leading-order risk ``E||theta_hat - theta||^2`` of the instance-level fit (rho=1).

    For isotropic features, n >> d, bags of size k and Laplace-noised bag means
    (:func:`privatize_responses`)::

        (1 - 1/k)^2 ||theta||^2 + d sigma^2 / (k n) + 2 d (b - a)^2 / (k^2 eps^2 n)

    The first term is the shrinkage bias of the instance-level loss (its
    estimate tends to ``theta / k``), the second the noise of the responses, the
    third the privacy noise.  Bias grows with k while both variances fall, so
    there is an interior optimum when the privacy noise dominates.  This is a
    derivation for planning (not the paper's exact formula); use
    :class:`AggregateLinearRegressionCV` on the data to choose rho.

    Parameters
    ----------
    bag_sizes : array-like of int
        Candidate bag sizes k >= 1 (finite).
    n_samples : int
        Number of rows n, >= 1.
    n_features : int
        Number of features d, >= 1.
    epsilon : float
        Privacy budget, finite and > 0.
    bounds : tuple (a, b)
        Clipping range: finite, a < b.
    noise_std : float
        Standard deviation of the response noise, finite and >= 0.
    theta_norm : float, default=1.0
        Norm of the true coefficients (signal strength), finite and >= 0.

    Returns
    -------
    risk : ndarray of shape (n_sizes,)
        The leading-order risk at each bag size.

    See Also
    --------
    optimal_bag_size : The bag size that minimises this risk.
    bag_size_search : The same choice measured on data.

    Examples
    --------
    >>> from sklearn_losses.aggregate import bag_size_risk
    >>> bag_size_risk([1, 2], n_samples=4000, n_features=20, epsilon=1.0,
    ...               bounds=(-3, 3), noise_std=0.5).round(2)
    array([0.36, 0.34])
    """
    low, high = _check_privacy_arguments(epsilon, bounds)
    k = np.asarray(bag_sizes, dtype=np.float64)
    if not np.all(np.isfinite(k)) or np.any(k < 1):
        raise ValueError(f"bag sizes must be finite and >= 1, got {bag_sizes!r}.")
    bias = (1 - 1 / k) ** 2 * theta_norm**2
    response = n_features * noise_std**2 / (k * n_samples)
    privacy = 2 * n_features * (high - low) ** 2 / (k**2 * epsilon**2 * n_samples)
    return bias + response + privacy


@validate_params(
    {
        "n_samples": [_POSITIVE_INT],
        "n_features": [_POSITIVE_INT],
        "epsilon": [_EPSILON],
        "bounds": ["array-like"],
        "noise_std": [_NON_NEGATIVE],
        "theta_norm": [_NON_NEGATIVE],
        "max_size": [_POSITIVE_INT, None],
    },
    prefer_skip_nested_validation=True,
)
def optimal_bag_size(
    *, n_samples, n_features, epsilon, bounds, noise_std, theta_norm=1.0, max_size=None
):
    """The bag size minimising :func:`bag_size_risk` over 1..max_size.

    Computed in closed form, in O(1) time and memory for any ``n_samples``: with
    ``u = 1/k`` the risk is a convex quadratic in ``u``, so over the integers it
    is unimodal in ``k`` and its minimum lies at the floor or ceiling of the
    continuous minimiser or at an end of the range.  Ties go to the smaller size.

    Parameters
    ----------
    n_samples : int
        Number of rows n, >= 1.
    n_features : int
        Number of features d, >= 1.
    epsilon : float
        Privacy budget, finite and > 0.
    bounds : tuple (a, b)
        Clipping range: finite, a < b.
    noise_std : float
        Standard deviation of the response noise, finite and >= 0.
    theta_norm : float, default=1.0
        Norm of the true coefficients, finite and >= 0.
    max_size : int >= 1, default=None
        Largest size considered; None allows up to ``n_samples // n_features``
        (at least d bags).

    Returns
    -------
    k : int
        The bag size of smallest risk.

    See Also
    --------
    bag_size_risk : The risk it minimises.
    bag_size_search : The same choice measured on data.

    Examples
    --------
    >>> from sklearn_losses.aggregate import optimal_bag_size
    >>> optimal_bag_size(n_samples=4000, n_features=20, epsilon=0.5, bounds=(-3, 3),
    ...                  noise_std=0.5)
    3
    >>> optimal_bag_size(n_samples=4000, n_features=20, epsilon=8, bounds=(-3, 3),
    ...                  noise_std=0.5)
    1
    """
    low, high = _check_privacy_arguments(epsilon, bounds)
    if max_size is None:
        max_size = max(1, int(n_samples) // int(n_features))
    max_size = int(max_size)
    # risk(k) = (T + B) u^2 + (A - 2 T) u + T with u = 1 / k (see bag_size_risk)
    signal = float(theta_norm) ** 2
    response = n_features * float(noise_std) ** 2 / n_samples
    privacy = 2 * n_features * (high - low) ** 2 / (float(epsilon) ** 2 * n_samples)
    candidates = {1, max_size}
    curvature = signal + privacy
    if curvature > 0:
        u_star = (2 * signal - response) / (2 * curvature)
        if 0 < u_star < 1:
            k_star = 1 / u_star  # > 1; beyond max_size the end of the range wins
            if k_star < max_size:
                candidates.update({math.floor(k_star), math.ceil(k_star)})
    candidates = sorted(candidates)
    risk = bag_size_risk(
        np.asarray(candidates, dtype=np.float64),
        n_samples=n_samples,
        n_features=n_features,
        epsilon=epsilon,
        bounds=bounds,
        noise_std=noise_std,
        theta_norm=theta_norm,
    )
    return int(candidates[int(np.argmin(risk))])


@validate_params(
    {
        "estimator": [HasMethods(["fit", "predict"])],
        "X": ["array-like", "sparse matrix"],
        "y": ["array-like"],
        "bag_sizes": ["array-like"],
        "epsilon": [_EPSILON],
        "bounds": ["array-like"],
        "X_val": ["array-like", "sparse matrix"],
        "y_val": ["array-like"],
        "n_repeats": [_POSITIVE_INT],
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=False,  # the estimator is the user's: validate its fit
)
def bag_size_search(
    estimator, X, y, bag_sizes, *, epsilon, bounds, X_val, y_val, n_repeats=5, random_state=None
):
    """Empirical bag-size trade-off: validation error of models fitted on private bag means.

    For each bag size, the training responses are put in random bags, released
    through :func:`privatize_responses`, and a clone of ``estimator`` is fitted
    on them (with ``bags``); its mean squared error on clean validation data is
    recorded.  The data-driven counterpart of :func:`optimal_bag_size`.

    Parameters
    ----------
    estimator : estimator with ``fit(X, y, bags=...)``
        E.g. :class:`AggregateLinearRegressionCV`.
    X, y : array-like
        Training data with individual responses (to be privatized).
    bag_sizes : sequence of int
        Candidate bag sizes, integers >= 1.
    epsilon : float
        Privacy budget, finite and > 0.
    bounds : tuple (a, b)
        Clipping range: finite, a < b.
    X_val, y_val : array-like
        Clean validation data.
    n_repeats : int >= 1, default=5
        Random bags and noise draws per size.
    random_state : int, RandomState instance or None, default=None
        Seed.

    Returns
    -------
    result : Bunch
        ``bag_sizes``, ``scores`` (n_sizes, n_repeats) of validation MSE, ``mean``
        and ``best_size`` (the size with the smallest mean).

    See Also
    --------
    optimal_bag_size : The choice predicted by the leading-order risk.
    privatize_responses : The release each repeat simulates.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.aggregate import AggregateLinearRegressionCV, bag_size_search
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(3000, 5))
    >>> y = X @ [1.0, -1.0, 0.5, 0.0, 0.2] + 0.5 * rng.normal(size=3000)
    >>> res = bag_size_search(AggregateLinearRegressionCV(), X[:2000], y[:2000], [1, 4],
    ...                       epsilon=0.5, bounds=(-3, 3), X_val=X[2000:], y_val=y[2000:],
    ...                       n_repeats=2, random_state=0)
    >>> res.scores.shape
    (2, 2)
    """
    _check_privacy_arguments(epsilon, bounds)
    y = _check_responses(y)
    y_val = _check_responses(y_val, "y_val")
    check_consistent_length(X, y)
    check_consistent_length(X_val, y_val)
    sizes = np.asarray(bag_sizes)
    if (
        sizes.ndim != 1
        or sizes.size == 0
        or sizes.dtype.kind not in "iuf"
        or not np.all(np.isfinite(sizes))
        or np.any(sizes < 1)
        or np.any(sizes != np.round(sizes))
    ):
        raise ValueError(
            f"bag_sizes must be a non-empty 1-D sequence of integers >= 1, got {bag_sizes!r}."
        )
    sizes = [int(k) for k in sizes]
    rng = check_random_state(random_state)
    scores = np.empty((len(sizes), n_repeats))
    for i, k in enumerate(sizes):
        for r in range(n_repeats):
            bags = make_bags(len(y), k, random_state=rng)
            y_private = privatize_responses(
                y, bags, epsilon=epsilon, bounds=bounds, random_state=rng
            )
            model = clone(estimator).fit(X, y_private, bags=bags)
            scores[i, r] = np.mean((np.asarray(model.predict(X_val)).ravel() - y_val) ** 2)
    mean = scores.mean(axis=1)
    return Bunch(
        bag_sizes=np.asarray(sizes), scores=scores, mean=mean, best_size=sizes[int(np.argmin(mean))]
    )
