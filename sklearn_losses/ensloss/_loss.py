"""The definition of the EnsLoss family's losses: the random calibrated derivative and the
fixed margin losses it is compared with.

Here in NumPy, as plain formulas, with the constants that shape them.  Two backends
evaluate them: the numba kernels of the linear SGD (``_kernels.py``: derivatives
only, the random one with a half-sort speed-up) and the torch criterion of the
network (``_nets.py``: values, differentiated by autograd).  Neither is a source of
truth: ``tests/ensloss/test_ensloss_generator.py`` checks both against the
functions below, on random margins with ties, tails and NaN.
"""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

__all__ = ["calibrated_loss_derivatives"]

# loss codes, shared by the kernels
ENSLOSS, LOGISTIC, HINGE, SQUARED_HINGE, EXPONENTIAL = 0, 1, 2, 3, 4

CLIP = -1.0  # the most negative derivative (keeps every loss 1-Lipschitz)
TAIL = 1.0  # margins above this get g / z, a tail that decays fast enough to bound phi below
SHIFT = 1e-6  # makes every derivative strictly negative, hence phi'(0) < 0 (calibration)
EXP_MARGIN_FLOOR = -50.0  # exp(-z) for z below this would overflow the gradient

LOSS_CODES = {
    "ensloss": ENSLOSS,
    "logistic": LOGISTIC,
    "hinge": HINGE,
    "squared_hinge": SQUARED_HINGE,
    "exponential": EXPONENTIAL,
}
LOSS_OPTION = StrOptions(set(LOSS_CODES))

# The exponential loss's gradient explodes on badly misclassified points; the paper
# clips its gradient norm at 10 (and only its), and so do we.
EXPONENTIAL_MAX_GRAD_NORM = 10.0


def max_grad_norm(loss):
    """The gradient-norm clip of a loss (inf: none)."""
    return EXPONENTIAL_MAX_GRAD_NORM if loss == "exponential" else np.inf


def inverse_boxcox(eps, lam):
    """``(1 + lam * eps)_+ ** (1 / lam)``, or ``exp(eps)`` at ``lam = 0`` (elementwise).

    Where ``1 + lam * eps <= 0`` the value is ``inf`` for ``lam < 0`` and 0 for
    ``lam > 0`` (the limits), so it is nondecreasing in ``eps`` for every ``lam``.
    """
    eps = np.asarray(eps, dtype=np.float64)
    if lam == 0.0:
        return np.exp(eps)
    base = 1.0 + lam * eps
    with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
        power = np.where(base > 0, np.maximum(base, 0.0) ** (1.0 / lam), 0.0)
    return np.where(base > 0, power, np.inf if lam < 0 else 0.0)


def random_derivatives(z, eps, lam):
    """The random calibrated derivative at margins ``z`` given standard normal ``eps``.

    The definition (the paper's Algorithm 1, one batch): the values
    ``-BC^{-1}_lambda(eps)``, sorted, go to the margins by rank (stable: ties by
    row; NaN last), the smallest margin getting the most negative; they are clipped
    at ``CLIP``, shifted down by ``SHIFT``, and divided by ``z`` where ``z > TAIL``.
    """
    z = np.asarray(z, dtype=np.float64)
    values = np.maximum(np.sort(-inverse_boxcox(eps, lam)), CLIP) - SHIFT
    out = np.empty_like(z)
    out[np.argsort(z, kind="stable")] = values
    with np.errstate(divide="ignore", invalid="ignore"):  # only z > TAIL is divided
        return np.where(z > TAIL, out / z, out)


def fixed_loss(code, z):
    """Value of the fixed margin loss ``code`` at margins ``z``.

    Logistic ``log(1 + exp(-z))``, hinge ``(1 - z)_+``, squared hinge
    ``(1 - z)_+^2``, exponential ``exp(-z)`` continued linearly below
    ``EXP_MARGIN_FLOOR`` (where ``exp(-z)`` would overflow its gradient).
    """
    z = np.asarray(z, dtype=np.float64)
    if code == LOGISTIC:
        return np.logaddexp(0.0, -z)
    if code == HINGE:
        return np.maximum(1.0 - z, 0.0)
    if code == SQUARED_HINGE:
        return np.maximum(1.0 - z, 0.0) ** 2
    if code == EXPONENTIAL:
        floored = np.maximum(z, EXP_MARGIN_FLOOR)
        return np.exp(-floored) * (1.0 + floored - z)
    raise ValueError(f"unknown fixed loss code {code}")


def fixed_loss_derivative(code, z):
    """Derivative of :func:`fixed_loss` in ``z`` (the hinge's at its kink: -1 from the left)."""
    z = np.asarray(z, dtype=np.float64)
    if code == LOGISTIC:
        return -np.exp(-np.logaddexp(0.0, z))  # -1 / (1 + exp(z)), without overflow
    if code == HINGE:
        return np.where(z < 1.0, -1.0, 0.0)
    if code == SQUARED_HINGE:
        return -2.0 * np.maximum(1.0 - z, 0.0)
    if code == EXPONENTIAL:
        return -np.exp(-np.maximum(z, EXP_MARGIN_FLOOR))
    raise ValueError(f"unknown fixed loss code {code}")


@validate_params(
    {
        "margins": ["array-like"],
        "boxcox_lambda": [Interval(Real, None, None, closed="neither")],  # finite
        "random_state": ["random_state"],
    },
    prefer_skip_nested_validation=True,
)
def calibrated_loss_derivatives(margins, *, boxcox_lambda=0.0, random_state=None):
    """Draw the derivative of a random convex calibrated loss at a batch of margins.

    EnsLoss (Dai, ICML 2025) never writes a loss down: SGD needs only the derivative
    ``g_i = phi'(z_i)`` at the margins ``z_i = y_i f(x_i)``, and the conditions that
    make ``phi`` a convex, classification-calibrated loss that is bounded below
    translate into conditions on ``g``.  Each call draws ``g`` afresh:

    1. ``u_i = BC^{-1}_lambda(eps_i)`` with ``eps_i ~ N(0, 1)`` (the inverse Box-Cox
       transform; ``lambda = 0`` gives log-normal draws);
    2. the values ``-u`` are sorted and assigned by the rank of the margin, the most
       negative to the smallest margin, and clipped at -1;
    3. ``1e-6`` is subtracted, and margins above 1 get ``g_i / z_i``.

    The result satisfies, for every batch:

    - ``-1 - 1e-6 <= g_i < 0``: strictly negative, so ``phi'(0) < 0``, which with
      convexity is Bartlett's condition for classification calibration;
    - ``g`` is nondecreasing in the margin: ``phi`` is convex;
    - ``-1 - 1e-6 <= z_i g_i < 0`` for ``z_i > 1``: the derivative decays at least
      like ``1 / z``, which keeps the loss bounded below on the observed range.

    About half of the draws are clipped at -1 (``exp(eps) >= 1`` iff ``eps >= 0``),
    so the expected derivative is -1 on the lower half of the margins and rises
    towards 0 above: a random, rank-based, hinge-like loss.

    Parameters
    ----------
    margins : array-like of shape (n_samples,)
        Margins ``y f(x)`` of one batch, with ``y`` in {-1, +1}.
    boxcox_lambda : float, default=0.0
        Box-Cox parameter of the draws (finite); 0 (log-normal) is the paper's default.
    random_state : int, RandomState instance or None, default=None
        Seeds the draw.

    Returns
    -------
    derivatives : ndarray of shape (n_samples,)
        The random derivative at each margin.

    See Also
    --------
    EnsLossClassifier : Linear classifier trained by SGD on a fresh draw of these
        derivatives at every step.
    EnsLossMLPClassifier : Neural-network classifier trained the same way.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.ensloss import calibrated_loss_derivatives
    >>> z = np.array([-2.0, -0.5, 0.0, 0.5, 2.0, 4.0])
    >>> g = calibrated_loss_derivatives(z, random_state=0)
    >>> bool(np.all(g < 0) and np.all(np.diff(g) >= 0))
    True
    """
    z = np.asarray(margins, dtype=np.float64)
    if z.ndim != 1:
        raise ValueError(f"margins must be 1-D; got an array of shape {z.shape}.")
    if not np.all(np.isfinite(z)):
        raise ValueError("margins contain NaN or infinity.")
    seed = check_random_state(random_state).randint(2**31)
    eps = np.random.default_rng(seed).standard_normal(z.shape[0])
    from ._kernels import derivatives_from_noise  # the compiled random_derivatives

    out = np.empty_like(z)
    derivatives_from_noise(np.ascontiguousarray(z), eps, float(boxcox_lambda), out)
    return out
