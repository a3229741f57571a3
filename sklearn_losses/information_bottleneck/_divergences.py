"""Public Cauchy-Schwarz divergence and mutual-information estimators on NumPy arrays."""

from numbers import Real

import numpy as np
from sklearn.utils import check_array
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._loss import (
    NUMPY,
    conditional_cs_divergence_from_samples,
    cs_divergence_from_samples,
    cs_mutual_information_from_samples,
    resolve_width,
)

__all__ = ["conditional_cs_divergence", "cs_divergence", "cs_mutual_information"]

_WIDTH = [Interval(Real, 0, None, closed="neither"), StrOptions({"median"})]
_OPTIONAL_WIDTH = [*_WIDTH, None]


def _sample(a, name):
    """A 2-D float64 sample (1-D input is one variable)."""
    a = check_array(a, dtype=np.float64, ensure_2d=False, input_name=name)
    return a.reshape(-1, 1) if a.ndim == 1 else a


def _paired(*arrays):
    lengths = {a.shape[0] for a in arrays}
    if len(lengths) != 1:
        raise ValueError(f"The samples must have the same number of rows; got {sorted(lengths)}.")


@validate_params(
    {"a": ["array-like"], "b": ["array-like"], "sigma": _WIDTH},
    prefer_skip_nested_validation=True,
)
def cs_divergence(a, b, *, sigma=1.0):
    """Cauchy-Schwarz divergence between the distributions of two samples.

    ``D_CS(p, q) = -log[(int p q)^2 / (int p^2 int q^2)]``, estimated with Gaussian
    kernels of width ``sigma`` (Parzen windows; the normalising constants cancel):
    ``log mean K_aa + log mean K_bb - 2 log mean K_ab``.  It is 0 when the samples
    coincide, nonnegative (Cauchy-Schwarz), and symmetric.  Cost: O(n m d) time and
    O(n m) memory for ``n`` and ``m`` rows.

    Parameters
    ----------
    a : array-like of shape (n_samples_a, n_features) or (n_samples_a,)
        Sample of ``p``.
    b : array-like of shape (n_samples_b, n_features) or (n_samples_b,)
        Sample of ``q``.
    sigma : float or "median", default=1.0
        Kernel width; ``"median"``: the median distance between distinct rows of the
        pooled sample.

    Returns
    -------
    divergence : float
        The estimated divergence.

    See Also
    --------
    conditional_cs_divergence : The divergence between conditional distributions.
    cs_mutual_information : The divergence between a joint and its marginals.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.information_bottleneck import cs_divergence
    >>> a = np.random.default_rng(0).normal(size=(200, 2))
    >>> print(round(cs_divergence(a, a), 12), round(cs_divergence(a, a + 1.0), 3))
    0.0 0.646
    """
    a, b = _sample(a, "a"), _sample(b, "b")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"a has {a.shape[1]} columns and b has {b.shape[1]}.")
    width = resolve_width(sigma, np.vstack([a, b]), NUMPY)
    return float(cs_divergence_from_samples(a, b, width, NUMPY))


@validate_params(
    {
        "x": ["array-like"],
        "y": ["array-like"],
        "y_pred": ["array-like"],
        "sigma": _WIDTH,
        "sigma_x": _OPTIONAL_WIDTH,
        "estimator": [StrOptions({"embedding", "paper", "code"})],
    },
    prefer_skip_nested_validation=True,
)
def conditional_cs_divergence(x, y, y_pred, *, sigma=1.0, sigma_x=None, estimator="embedding"):
    """Conditional CS divergence between p(y | x) and the predictive q(y_pred | x).

    The prediction term of the CS information bottleneck (Yu et al., ICLR 2024).
    With ``K`` the Gram matrix of ``x`` and ``L`` those of ``(y, y)``,
    ``(y_pred, y_pred)`` and ``(y_pred, y)``, the estimate is ``T_yy + T_pp - 2 T_py``
    where each ``T`` sums, over the rows ``j``, a ``K``-weighted comparison of the
    targets near ``x_j``:

    - ``"embedding"`` (default): ``T = log sum_j sum_ik w_ji w_jk L_ik`` with
      ``w_j = K_j / sum K_j``, the inner products of the kernel mean embeddings of
      the two conditionals at each ``x_j``.  By Cauchy-Schwarz it is never negative.
    - ``"paper"``: Proposition 1, ``T = log sum_j [sum_i K_ji L_ji / (sum_i K_ji)^2]``.
    - ``"code"``: the authors' code, with ``sum_i K_ji^2`` as the normaliser.

    All three are exactly 0 when ``y_pred == y`` and grow as the predictions move
    away.  The two single-sum forms can be **negative** for other predictions, and a
    network trained on them can exploit it (on Friedman #3 it sends a few
    predictions tens of standard deviations away); hence the default.  As
    ``sigma_x`` shrinks, ``K`` tends to the identity and every form tends to
    ``-2 log mean_j kappa(y_pred_j, y_j)``: a correntropy loss, which is why
    outlying targets weigh little.  Float64, O(n^2) memory; the single-sum forms
    take O(n^2) time (log domain), the embedding form O(n^3) (two matrix products).

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features)
        Inputs.
    y : array-like of shape (n_samples, n_targets) or (n_samples,)
        Observed targets.
    y_pred : array-like of the shape of ``y``
        Predictions.
    sigma : float or "median", default=1.0
        Kernel width on the targets (the median rule pools ``y`` and ``y_pred``).
    sigma_x : float, "median" or None, default=None
        Kernel width on ``x``; None uses ``sigma``.
    estimator : {"embedding", "paper", "code"}, default="embedding"
        Which estimate (see above).

    Returns
    -------
    divergence : float
        The estimated divergence.

    See Also
    --------
    cs_divergence : The divergence between two marginal distributions.
    CSIBRegressor : The regressor trained with this term as its prediction loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.information_bottleneck import conditional_cs_divergence
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(100, 3))
    >>> y = x.sum(1)
    >>> print(round(conditional_cs_divergence(x, y, y), 12))
    0.0
    >>> bool(conditional_cs_divergence(x, y, y + 0.5) < conditional_cs_divergence(x, y, y + 1))
    True
    """
    x, y, y_pred = _sample(x, "x"), _sample(y, "y"), _sample(y_pred, "y_pred")
    _paired(x, y, y_pred)
    if y.shape != y_pred.shape:
        raise ValueError(f"y has shape {y.shape} and y_pred {y_pred.shape}; they must match.")
    width_y = resolve_width(sigma, np.vstack([y, y_pred]), NUMPY)
    width_x = resolve_width(sigma if sigma_x is None else sigma_x, x, NUMPY)
    return float(
        conditional_cs_divergence_from_samples(x, y, y_pred, width_x, width_y, estimator, NUMPY)
    )


@validate_params(
    {
        "x": ["array-like"],
        "t": ["array-like"],
        "sigma": _WIDTH,
        "sigma_t": _OPTIONAL_WIDTH,
        "normalized": ["boolean"],
    },
    prefer_skip_nested_validation=True,
)
def cs_mutual_information(x, t, *, sigma=1.0, sigma_t=None, normalized=False):
    """Cauchy-Schwarz quadratic mutual information ``I_CS(x; t)`` of paired samples.

    ``D_CS(p(x, t) || p(x) p(t))`` with product Gaussian kernels (Yu et al.,
    Proposition 2): with ``K`` and ``Q`` the Gram matrices of ``x`` and ``t``,
    ``log(tr(KQ)/n^2) + log(1'K1 1'Q1/n^4) - 2 log(1'KQ1/n^3)``.  This is
    ``-2 log cos`` of the angle between the empirical embeddings of the joint and of
    the product of marginals, so it is nonnegative, symmetric in ``(x, t)`` (with
    the widths swapped), invariant to a joint permutation of the rows, and near 0
    when ``t`` is independent of ``x``.  ``normalized`` divides by
    ``sqrt(I(x; x) I(t; t))``, the bottleneck's training form.  O(n^2) memory.

    Parameters
    ----------
    x : array-like of shape (n_samples, n_features_x) or (n_samples,)
        First variable.
    t : array-like of shape (n_samples, n_features_t) or (n_samples,)
        Second variable (e.g. a representation of ``x``).
    sigma : float or "median", default=1.0
        Kernel width on ``x``.
    sigma_t : float, "median" or None, default=None
        Kernel width on ``t``; None uses ``sigma``.
    normalized : bool, default=False
        Divide by ``sqrt(I(x; x) I(t; t))`` (0 when either is 0).

    Returns
    -------
    mutual_information : float
        The estimated mutual information.

    See Also
    --------
    cs_divergence : The divergence this information is built on.
    CSIBRegressor : The regressor trained with this term as its compression loss.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.information_bottleneck import cs_mutual_information
    >>> rng = np.random.default_rng(0)
    >>> x = rng.normal(size=(300, 2))
    >>> dependent = cs_mutual_information(x, x[:, :1] + 0.1 * rng.normal(size=(300, 1)))
    >>> independent = cs_mutual_information(x, rng.normal(size=(300, 1)))
    >>> bool(dependent > 10 * independent >= 0)
    True
    """
    x, t = _sample(x, "x"), _sample(t, "t")
    _paired(x, t)
    width_x = resolve_width(sigma, x, NUMPY)
    width_t = resolve_width(sigma if sigma_t is None else sigma_t, t, NUMPY)
    return float(cs_mutual_information_from_samples(x, t, width_x, width_t, normalized, NUMPY))
