"""The margin losses EnsLoss is compared with, and the public derivative generator."""

from numbers import Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions, validate_params

from ._kernels import (
    ENSLOSS,
    EXPONENTIAL,
    HINGE,
    LOGISTIC,
    SQUARED_HINGE,
    derivatives_from_noise,
)

__all__ = ["calibrated_loss_derivatives"]

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
    out = np.empty_like(z)
    derivatives_from_noise(np.ascontiguousarray(z), eps, float(boxcox_lambda), out)
    return out
