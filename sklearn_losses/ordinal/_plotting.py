"""Plots of a fitted PRESTO path (matplotlib is an optional dependency)."""

from numbers import Integral

from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._presto_cv import PRESTOClassifierCV

__all__ = ["plot_coefficient_path"]


@validate_params(
    {
        "model": [PRESTOClassifierCV],
        "ax": [HasMethods(["plot", "axvline", "set_xscale"]), None],
        "threshold": [Interval(Integral, None, None, closed="neither")],
    },
    prefer_skip_nested_validation=True,
)
def plot_coefficient_path(model, ax=None, threshold=-1):
    """Draw the slope differences of the last threshold along the path of a fitted CV model.

    The differences ``beta_K - beta_{K-1}`` are what PRESTO shrinks: they are zero
    at large alpha (proportional odds) and leave zero where the rare class needs
    its own slope.  The chosen ``alpha_`` is marked.

    Parameters
    ----------
    model : PRESTOClassifierCV
        A fitted model.
    ax : matplotlib Axes, default=None
        Where to draw.
    threshold : int, default=-1
        Which threshold's difference to the previous one is drawn, an index into
        the ``n_classes - 1`` thresholds (negative counts from the last).

    Returns
    -------
    ax : matplotlib Axes
    """
    check_is_fitted(model, "coef_path_")
    path = model.coef_path_
    n_thresholds = path.shape[2]
    if not -n_thresholds <= threshold < n_thresholds:
        raise ValueError(
            f"threshold must index one of the {n_thresholds} thresholds "
            f"({-n_thresholds} to {n_thresholds - 1}); got {threshold}."
        )
    import matplotlib.pyplot as plt

    if ax is None:
        _, ax = plt.subplots(figsize=(6, 4))
    k = threshold % n_thresholds
    diffs = path[:, :, k] - path[:, :, k - 1] if k > 0 else path[:, :, 0]
    ax.plot(model.alphas_, diffs)
    ax.axvline(model.alpha_, color="k", ls="--", lw=1, label=f"alpha_ = {model.alpha_:.2g}")
    ax.set_xscale("log")
    ax.set_xlabel("alpha")
    ax.set_ylabel(f"beta_{k + 1} - beta_{k}" if k > 0 else "beta_1")
    ax.set_title("PRESTO path: slope differences of the rare threshold")
    ax.legend()
    ax.invert_xaxis()
    return ax
