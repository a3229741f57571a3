"""The one epoch loop of the package's minibatch SGD estimators.

In the manner of scikit-learn's ``BaseSGD``: :class:`SGDEpochsMixin` owns what every
SGD fit shares -- the step-size schedule, the stopping rule (``tol`` and
``n_iter_no_change``), ``warm_start`` and ``partial_fit`` bookkeeping, the one random
generator of a fit, ``verbose`` output and the ``ConvergenceWarning`` -- and an
estimator plugs in its compiled epoch kernel through three methods:

- ``_sgd_epoch(data, step, rng)``: one pass over ``data`` with step size ``step``,
  updating the estimator's state in place (raises on divergence);
- ``_sgd_monitor(data)``: the quantity the stopping rule watches, computed after
  every epoch of ``fit`` (not of ``partial_fit``);
- ``_sgd_stop_on``: ``"loss"`` (the monitored value is a loss: an epoch improves when
  it lowers it by at least ``tol`` relative to its size) or ``"coef"`` (the monitored
  value is the coefficient array, for losses whose value means nothing: an epoch
  improves when it moves the coefficients by at least ``tol`` relative to their norm).

It is used by :class:`~sklearn_losses.ensloss.EnsLossClassifier` and
:class:`~sklearn_losses.cross_decomposition.StochasticCCA`.
"""

import copy
import math
import time
from numbers import Integral, Real

import numpy as np
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from ._convergence import warn_not_converged

__all__ = ["SGD_PARAMETERS", "SGDEpochsMixin", "batch_rows", "fit_generator", "step_size"]

SCHEDULES = ("constant", "invscaling", "cosine")

# Constraints of the parameters the loop reads; estimators merge them into theirs
# (``eta0`` is the estimator's own: StochasticCCA also accepts "auto").
SGD_PARAMETERS = {
    "learning_rate": [StrOptions(set(SCHEDULES))],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left"), None],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
    "warm_start": ["boolean"],
}


def batch_rows(batch_size, n):
    """Rows per minibatch for ``n`` rows; ``"auto"`` is ``min(256, max(16, n // 10))``.

    The schedules decay per epoch, so an epoch of one batch (a few hundred rows at a
    fixed 256) leaves too few steps to leave the start; ``"auto"`` takes about ten
    steps per epoch from 160 to 2560 rows, batches of 16 below and of 256 above
    (smaller batches make the two-batch gradient too noisy for the step).
    """
    if batch_size == "auto":
        return min(n, 256, max(16, n // 10))
    return min(n, batch_size)


def step_size(schedule, eta0, epoch, max_iter):
    """The step size of epoch ``epoch`` (from 0) under ``schedule``.

    ``"constant"``: ``eta0``; ``"invscaling"``: ``eta0 / (1 + epoch)``;
    ``"cosine"``: ``eta0 * (1 + cos(pi * t / max_iter)) / 2`` with
    ``t = epoch mod max_iter`` (so ``partial_fit`` restarts it every ``max_iter`` epochs).
    """
    if schedule == "constant":
        return eta0
    if schedule == "invscaling":
        return eta0 / (1.0 + epoch)
    phase = (epoch % max_iter) / max_iter
    return eta0 * 0.5 * (1.0 + math.cos(math.pi * phase))


def fit_generator(random_state):
    """The one :class:`numpy.random.Generator` of a fit, seeded from ``random_state``.

    Batch orders, initial weights and any noise all come from it, so a fixed
    ``random_state`` fixes the whole fit.
    """
    seed = check_random_state(random_state).randint(np.iinfo(np.int32).max)
    return np.random.default_rng(seed)


class SGDEpochsMixin:
    """Epochs, schedule, stopping rule and reporting of a minibatch SGD estimator.

    The estimator has the parameters of :data:`SGD_PARAMETERS` and ``eta0``,
    implements ``_sgd_epoch``, ``_sgd_monitor`` and ``_sgd_stop_on`` (see the module
    docstring), and may scale the schedule's step by setting ``_step_scale``
    (StochasticCCA divides by the scale of its data).  ``fit`` calls
    :meth:`_run_epochs` once; ``partial_fit`` calls :meth:`_partial_epoch` per chunk.
    """

    _step_scale = 1.0
    #: private attributes that fit and partial_fit set (besides the public ``*_`` ones)
    _PRIVATE_STATE = ()

    def _fit_state(self):
        """The attributes fit and partial_fit set (public fitted ones and private state)."""
        return {
            key: value
            for key, value in vars(self).items()
            if (key.endswith("_") and not key.startswith("__")) or key in self._PRIVATE_STATE
        }

    def _clear_fit_state(self):
        for key in self._fit_state():
            delattr(self, key)

    def _fit_or_clear(self, fit, *args):
        """``fit(*args)``; when it raises, no fit state is left for ``partial_fit`` to continue."""
        try:
            return fit(*args)
        except Exception:
            self._clear_fit_state()
            raise

    def _partial_fit_or_restore(self, first, partial_fit, *args):
        """``partial_fit(*args)``; when it raises, the estimator is as before the call."""
        before = None if first else copy.deepcopy(self._fit_state())
        try:
            return partial_fit(*args)
        except Exception:
            self._clear_fit_state()
            if before is not None:
                vars(self).update(before)
            raise

    def _eta0(self):
        return float(self.eta0)

    def _step(self, epoch):
        schedule = step_size(self.learning_rate, self._eta0(), epoch, self.max_iter)
        return schedule * self._step_scale

    def _run_epochs(self, data, rng):
        """Run up to ``max_iter`` epochs from ``n_iter_ = 0``; stop by the rule; warn.

        Sets ``n_iter_``.  With ``tol=None`` all ``max_iter`` epochs run and nothing
        is reported.  Otherwise the fit stops once ``n_iter_no_change`` epochs in a
        row failed to improve by ``tol`` and warns when ``max_iter`` ran out first.
        """
        self.n_iter_ = 0
        previous, quiet, start = None, 0, time.perf_counter()
        for epoch in range(self.max_iter):
            step = self._step(epoch)
            self._sgd_epoch(data, step, rng)
            self.n_iter_ = epoch + 1
            current = self._sgd_monitor(data)
            if self.verbose:
                self._report_epoch(epoch, step, current, start)
            if self.tol is None:
                continue
            quiet = 0 if self._improved(previous, current) else quiet + 1
            previous = current
            if quiet >= self.n_iter_no_change:
                return
        if self.tol is not None:
            warn_not_converged(
                type(self).__name__,
                self.max_iter,
                what="epochs",
                hint=f"raise max_iter or tol (tol={self.tol}), or lower n_iter_no_change",
            )

    def _partial_epoch(self, data, rng):
        """One epoch continuing the schedule at ``n_iter_``; no stopping rule applies."""
        step = self._step(self.n_iter_)
        start = time.perf_counter()
        self._sgd_epoch(data, step, rng)
        self.n_iter_ += 1
        if self.verbose:
            self._report_epoch(self.n_iter_ - 1, step, None, start)

    def _improved(self, previous, current):
        if previous is None:  # the first epoch
            return True
        if self._sgd_stop_on == "loss":
            return previous - current >= self.tol * abs(current)
        change = np.linalg.norm(np.asarray(current) - np.asarray(previous))
        return change > self.tol * np.linalg.norm(current)

    def _report_epoch(self, epoch, step, monitored, start):
        line = f"-- Epoch {epoch + 1}: step {step:.4g}"
        if monitored is not None and self._sgd_stop_on == "loss":
            line += f", loss {float(monitored):.6g}"
        elif monitored is not None:
            line += f", coef norm {float(np.linalg.norm(monitored)):.6g}"
        print(f"{line}, {time.perf_counter() - start:.2f} s", flush=True)
