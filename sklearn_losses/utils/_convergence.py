"""One way to report how an iterative fit ended.

Every iterative estimator reports in the same words: a :class:`ConvergenceWarning`
when it stopped at its iteration budget, and a :class:`DivergenceError` (a
``FloatingPointError`` that is also a ``ValueError``, so searches record it as a
failed fit) when its iterates or loss stopped being finite.  :func:`lbfgs` is the
one L-BFGS-B call of the package; it checks scipy's result as scikit-learn's
``_check_optimize_result`` does.
"""

import warnings

import numpy as np
from scipy.optimize import minimize
from sklearn.exceptions import ConvergenceWarning

from ._threads import solver_threads

__all__ = ["DivergenceError", "check_finite", "lbfgs", "warn_not_converged"]


class DivergenceError(FloatingPointError, ValueError):
    """A fit whose iterates or loss became non-finite.

    Subclasses both :class:`FloatingPointError` (what happened) and
    :class:`ValueError` (what scikit-learn's tools catch as a failed fit, e.g.
    ``error_score`` in a search).

    See Also
    --------
    sklearn.exceptions.ConvergenceWarning : What a fit that ran out of iterations
        issues instead.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn_losses.ensloss import EnsLossClassifier
    >>> from sklearn_losses.utils import DivergenceError
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]]) * 1e150
    >>> y = np.array([0, 0, 1, 1])
    >>> try:
    ...     EnsLossClassifier("logistic", eta0=1e10, max_iter=2).fit(X, y)
    ... except DivergenceError as error:
    ...     print(type(error).__name__, isinstance(error, ValueError))
    DivergenceError True
    """


def check_finite(name, *arrays, hint="lower the learning rate or scale the features"):
    """Raise :class:`DivergenceError` naming ``name`` when any array holds NaN or inf."""
    for array in arrays:
        if not np.all(np.isfinite(array)):
            raise DivergenceError(
                f"{name} diverged: its parameters or loss became non-finite (NaN or inf); {hint}."
            )


def warn_not_converged(name, max_iter, what="iterations", hint="raise max_iter or tol"):
    """Issue the package's :class:`ConvergenceWarning` for ``name``."""
    warnings.warn(
        f"{name} did not converge within max_iter={max_iter} {what}; {hint}.",
        ConvergenceWarning,
        stacklevel=3,
    )


def lbfgs(name, fun, x0, *, args=(), max_iter, tol, n_entries, bounds=None, maxcor=10, verbose=0):
    """Minimise ``fun`` (returning value and gradient) with L-BFGS-B and check the result.

    Returns scipy's ``OptimizeResult``.  Raises :class:`DivergenceError` when the
    solution or the objective is non-finite; warns with :class:`ConvergenceWarning`
    when the iteration budget ran out.  Stops on a line-search failure at a finite
    point are not reported: they mean the objective cannot be lowered further at
    floating-point precision.  With ``verbose > 0`` every iteration prints
    ``"{name}: iteration {k}, objective {value}"`` to stdout, and the end of the
    fit one line more.  ``n_entries``, the size of the matrix one evaluation of
    ``fun`` multiplies, decides how the BLAS pools are pinned while it runs
    (:func:`~sklearn_losses.utils._threads.solver_threads`).
    """
    callback = None
    if verbose > 0:
        iteration = [0]

        def callback(intermediate_result):
            iteration[0] += 1
            print(
                f"{name}: iteration {iteration[0]}, objective {intermediate_result.fun:.10g}",
                flush=True,
            )

    with solver_threads(n_entries):
        result = minimize(
            fun,
            x0,
            args=args,
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"gtol": tol, "ftol": 1e-15, "maxiter": int(max_iter), "maxcor": maxcor},
            callback=callback,
        )
    if verbose > 0:
        print(f"{name}: L-BFGS stopped after {result.nit} iterations: {result.message}", flush=True)
    check_finite(name, result.x, np.asarray(result.fun), hint="check the input's scale")
    if result.status == 1:  # iteration or evaluation budget spent
        warn_not_converged(name, max_iter, hint="raise max_iter or tol, or scale the features")
    return result
