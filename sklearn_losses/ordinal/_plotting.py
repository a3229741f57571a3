"""Plots of a fitted PRESTO path (matplotlib is an optional dependency)."""

from numbers import Integral

import numpy as np
from sklearn.utils._param_validation import HasMethods, Interval, validate_params
from sklearn.utils.validation import check_is_fitted

from ._presto_cv import PRESTOClassifierCV

__all__ = ["plot_coefficient_path"]

_MAX_NAMED = 10  # features named in the legend


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
    its own slope.  The x axis runs like the path, from strong to weak shrinkage:
    alpha **decreases to the right** (log scale), as the axis label says.  One
    curve per feature, named in the legend (by ``feature_names_in_`` when the model
    has them, else ``x0, x1, ...``); beyond ten features the nine largest at the
    chosen alpha are named and the others drawn in grey.  The chosen ``alpha_`` is
    the dashed line.

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
        The axes drawn on.

    See Also
    --------
    PRESTOClassifierCV : The model whose path is drawn.

    Examples
    --------
    >>> from sklearn_losses.datasets import make_presto_data
    >>> from sklearn_losses.ordinal import PRESTOClassifierCV, plot_coefficient_path
    >>> X, y, _ = make_presto_data(n_samples=800, n_features=3, random_state=0)
    >>> ax = plot_coefficient_path(PRESTOClassifierCV(alphas=5, cv=3).fit(X, y))
    >>> ax.get_xlabel()
    'alpha (log scale, decreasing to the right: less shrinkage)'
    >>> [text.get_text() for text in ax.get_legend().get_texts()]
    ['x0', 'x1', 'x2', 'chosen alpha_ = ...']
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
    n_features = diffs.shape[1]
    names = getattr(model, "feature_names_in_", None)
    if names is None:
        names = [f"x{j}" for j in range(n_features)]
    named = np.arange(n_features)
    if n_features > _MAX_NAMED:  # name the largest at the chosen alpha, grey the rest
        named = np.argsort(-np.abs(diffs[model.best_index_]), kind="stable")[: _MAX_NAMED - 1]
    named_lines, other_lines = [], []
    for j in range(n_features):  # feature order: the j-th line is the j-th feature
        if j in named:
            named_lines += ax.plot(model.alphas_, diffs[:, j], label=str(names[j]))
        else:
            other_lines += ax.plot(model.alphas_, diffs[:, j], color="0.7", lw=0.8)
    if other_lines:
        other_lines[0].set_label(f"{len(other_lines)} other features")
    marker = ax.axvline(
        model.alpha_, color="k", ls="--", lw=1, label=f"chosen alpha_ = {model.alpha_:.2g}"
    )
    ax.set_xscale("log")
    left, right = ax.get_xlim()
    if left < right:  # the path runs from proportional odds (left) to free slopes (right)
        ax.invert_xaxis()
    ax.set_xlabel("alpha (log scale, decreasing to the right: less shrinkage)")
    ax.set_ylabel(f"beta_{k + 1} - beta_{k}" if k > 0 else "beta_1")
    which = "the rare threshold" if k == n_thresholds - 1 else f"threshold {k + 1}"
    ax.set_title(f"PRESTO path: slope differences of {which}")
    handles = named_lines + other_lines[:1] + [marker]
    ax.legend(handles=handles, fontsize="small", ncol=2 if len(handles) > 6 else 1)
    return ax
