"""The one door through which torch and skorch enter the package.

Nothing here imports torch at module import time: :func:`require_torch` does it
on first use and names the ``deep`` extra when it is missing.  Neural
estimators are plain scikit-learn estimators that *own* a private skorch net
built inside ``fit`` (composition; raw skorch nets fail most of scikit-learn's
estimator checks).  :class:`SkorchEstimatorMixin` builds and trains that net
from the parameters every neural estimator shares (:data:`NET_PARAMETERS`); a
family's ``_nets.py`` provides only its module and criterion.

Randomness never goes through torch's process-global generator: every fit
draws its weights, batch order and any noise from ``torch.Generator`` objects
of its own, so the same ``random_state`` gives the same model in any number of
concurrent threads, and a fit leaves the caller's torch RNG untouched.
"""

import copy
import math
import threading
import warnings
from numbers import Integral, Real

import numpy as np
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils._param_validation import Interval, StrOptions

from .utils._convergence import check_finite

__all__ = [
    "NET_PARAMETERS",
    "SkorchEstimatorMixin",
    "batch_loader",
    "build_module",
    "mlp",
    "require_torch",
    "resolve_device",
    "split_sample_weight",
    "weighted_mean",
]

_INSTALL_HINT = (
    "This estimator needs PyTorch and skorch. Install a CPU build of PyTorch with "
    "`pip install torch==2.13.0` (or a CUDA build for a GPU), then skorch: "
    '`pip install skorch` (from a clone of sklearn_losses: `pip install -e ".[deep]"`).'
)

# The training parameters every neural estimator has, with one meaning everywhere
# (scikit-learn's MLP names where it has one).  Estimators merge these into their
# ``_parameter_constraints``; the user guide's conventions table documents them.
NET_PARAMETERS = {
    "solver": [StrOptions({"adam", "sgd"})],
    "learning_rate": [StrOptions({"constant", "cosine"})],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "momentum": [Interval(Real, 0, 1, closed="left")],
    "weight_decay": [Interval(Real, 0, None, closed="left")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "device": [str],
    "verbose": ["verbose"],
    "random_state": ["random_state"],
}


def require_torch():
    """Import and return ``(torch, skorch)``, or raise an ImportError that says how to get them."""
    try:
        import skorch
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(_INSTALL_HINT) from exc
    return torch, skorch


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` when a GPU is visible, else ``"cpu"``; check the rest."""
    torch, _ = require_torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(device)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device={device!r} is not a device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if parsed.type not in ("cpu", "cuda"):
        raise ValueError(
            f"device={device!r} is not supported; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        )
    if parsed.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available.")
    return str(parsed)


def check_layer_sizes(sizes, name="hidden_layer_sizes", allow_empty=True):
    """Return ``sizes`` as a tuple of positive ints, or raise a ValueError that says why not."""
    sizes = tuple(sizes)
    if not allow_empty and not sizes:
        raise ValueError(f"{name} must name at least one layer; got ().")
    if not all(isinstance(s, Integral) and not isinstance(s, bool) and s >= 1 for s in sizes):
        raise ValueError(f"{name} must hold positive integers (layer widths); got {sizes!r}.")
    return tuple(int(s) for s in sizes)


def mlp(n_features, hidden_layer_sizes=(64,), activation="relu", n_outputs=1, batch_norm=False):
    """A multi-layer perceptron (``torch.nn.Sequential``) ending in a linear layer.

    Each hidden layer is ``Linear -> activation``, followed by ``BatchNorm1d`` when
    ``batch_norm`` (the order of the EnsLoss paper's TabMLP).  ``hidden_layer_sizes=()``
    gives a linear map.  Build it through :func:`build_module` to draw its weights
    from a generator of the fit's own.
    """
    torch, _ = require_torch()
    activations = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "gelu": torch.nn.GELU}
    layers, width = [], n_features
    for size in hidden_layer_sizes:
        layers += [torch.nn.Linear(width, size), activations[activation]()]
        if batch_norm:
            layers.append(torch.nn.BatchNorm1d(size))
        width = size
    layers.append(torch.nn.Linear(width, n_outputs))
    return torch.nn.Sequential(*layers)


def build_module(factory, generator):
    """Call ``factory()`` without touching torch's global RNG; draw its weights from ``generator``.

    The module is built on the ``meta`` device (no memory, no random draws), then
    materialised on the CPU with PyTorch's default initialisation of each
    ``Linear`` layer (Kaiming-uniform weights, uniform biases), drawn from
    ``generator``.  Other submodules are reset by their own ``reset_parameters``,
    which for the layers used here (batch norm) draws nothing.
    """
    torch, _ = require_torch()
    with torch.device("meta"):
        module = factory()
    module = module.to_empty(device="cpu")
    with torch.no_grad():
        for layer in module.modules():
            if isinstance(layer, torch.nn.Linear):
                torch.nn.init.kaiming_uniform_(layer.weight, a=math.sqrt(5), generator=generator)
                if layer.bias is not None:
                    bound = 1.0 / math.sqrt(layer.in_features) if layer.in_features else 0.0
                    torch.nn.init.uniform_(layer.bias, -bound, bound, generator=generator)
            elif hasattr(layer, "reset_parameters"):
                layer.reset_parameters()
    return module


def batch_loader(dataset, batch_size=128, shuffle=False, drop_last=False, generator=None, **_):
    """skorch iterator factory: each batch fetched by one fancy index of the dataset.

    torch's default loader fetches rows one by one and stacks them, which costs
    more than a small network's forward pass; here a batch is a single indexing of
    the arrays.  Shuffling draws from ``generator`` (the fit's own).  Other loader
    options skorch passes on are ignored.
    """
    require_torch()
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

    order = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
    # a data set smaller than one batch is one batch, even when the last is dropped
    sampler = BatchSampler(order, min(batch_size, len(dataset)), drop_last)
    # the loader's own seed draw goes to ``generator`` too, not to torch's global one
    return DataLoader(dataset, sampler=sampler, batch_size=None, generator=generator)


def _quiet(*_):
    """A sink that prints nothing (a module-level function, so nets pickle)."""


def _make_divergence_guard_class():
    _, skorch = require_torch()

    class DivergenceGuard(skorch.callbacks.Callback):
        """Stop a fit whose epoch loss or weights stopped being finite (DivergenceError)."""

        def __init__(self, name="the network"):
            self.name = name

        def on_epoch_end(self, net, **kwargs):
            torch, _ = require_torch()
            record = net.history[-1]
            losses = [record[k] for k in ("train_loss", "valid_loss") if k in record]
            finite = all(bool(torch.isfinite(p).all()) for p in net.module_.parameters())
            check_finite(
                self.name,
                np.asarray(losses, dtype=float),
                np.asarray(0.0 if finite else np.nan),
                hint="lower learning_rate_init, or scale the features",
            )

    DivergenceGuard.__module__ = __name__
    DivergenceGuard.__qualname__ = "DivergenceGuard"
    return DivergenceGuard


_LAZY_CLASSES = {"DivergenceGuard": _make_divergence_guard_class}
_LAZY_LOCK = threading.Lock()


def __getattr__(name):
    # Classes that subclass skorch's are made on first use (importing this module
    # must not import torch) and then cached here, once (fits may start in several
    # threads at a time), so that pickle finds them by name.
    if name in _LAZY_CLASSES:
        with _LAZY_LOCK:
            if name not in globals():
                globals()[name] = _LAZY_CLASSES[name]()
        return globals()[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


# Early stopping needs at least this many held-out rows: one row has no variance
# (Deep CCA's loss, batch norm) and its loss says nothing about generalisation.
MIN_HELD_OUT = 2
# A largest weight this many times its initial magnitude means the fit diverged.
WEIGHT_GROWTH = 1e4


def _n_rows(X):
    return len(next(iter(X.values()))) if isinstance(X, dict) else len(X)


def _largest_weight(module):
    return max(float(p.detach().abs().max()) for p in module.parameters())


def _forget_device_generators(net):
    """Drop the training-only GPU generators held by the module, criterion and callbacks.

    A CUDA ``torch.Generator`` pickles with its device and cannot be unpickled on
    a machine without one; nothing after training draws from it.
    """
    torch, _ = require_torch()
    owners = [*net.module_.modules(), net.criterion_, *(cb for _, cb in net.callbacks_)]
    for owner in owners:
        generator = getattr(owner, "generator", None)
        if isinstance(generator, torch.Generator) and generator.device.type != "cpu":
            owner.generator = None


def _pack_sample_weight(y, sample_weight):
    # skorch slices and collates dicts key by key, so the weights travel with the
    # rows of every batch (shuffled, split for validation) without a custom Dataset.
    if sample_weight is None:
        return y
    packed = {"sample_weight": np.asarray(sample_weight, dtype=np.float32)}
    if y is not None:
        packed["target"] = y
    return packed


def split_sample_weight(target):
    """``(target, sample_weight)`` from what a criterion receives in training.

    (As packed by :meth:`SkorchEstimatorMixin._fit_net`.)

    ``sample_weight`` is None when the fit had none; ``target`` is None when the
    estimator has no target (e.g. DeepCCA).
    """
    if isinstance(target, dict):
        return target.get("target"), target["sample_weight"]
    return target, None


def weighted_mean(values, sample_weight):
    """Mean of per-row ``values`` (a tensor), weighted by ``sample_weight`` when given.

    With integer weights it equals the plain mean over the rows repeated as many
    times as their weight.
    """
    if sample_weight is None:
        return values.mean()
    sample_weight = sample_weight.to(values.dtype).reshape(
        values.shape[:1] + (1,) * (values.dim() - 1)
    )
    total = (sample_weight * values).sum() / (sample_weight.sum() * values[0].numel())
    return total


class SkorchEstimatorMixin:
    """Building, training and running the skorch net of a neural estimator.

    A subclass has the parameters of :data:`NET_PARAMETERS` and implements

    - ``_module_factory(X, y, generator)``: a zero-argument callable returning the
      module (called under :func:`build_module`);
    - ``_criterion(generator)``: the criterion instance

    (``generator`` lives on the training device, for modules and criteria that draw
    random numbers in training: noise, random losses),

    and may override ``_net_class`` (a ``NeuralNet`` subclass, e.g. for a
    ``get_loss`` that needs no target), ``_extra_callbacks(generator)``,
    ``_train_split(seed, early_stopping)``, ``_n_held_out(X, y)``, ``_monitor()``,
    ``_drop_last``, and ``_net_options()``
    (skorch options that replace or add to the shared ones).  It calls
    :meth:`_fit_net` from ``fit`` after validating the data, and
    :meth:`_forward_numpy` for predictions.
    """

    _drop_last = False

    def _net_class(self):
        return require_torch()[1].NeuralNet

    def _extra_callbacks(self, generator):
        return []

    def _net_options(self):
        return {}

    def _train_split(self, seed, early_stopping):
        """skorch's ``train_split``: for early stopping, a random ``validation_fraction``."""
        if not early_stopping:
            return None
        _, skorch = require_torch()
        return skorch.dataset.ValidSplit(self.validation_fraction, random_state=seed)

    def _n_held_out(self, X, y):
        """How many rows early stopping would hold out (as skorch's ``ValidSplit`` does)."""
        return math.ceil(self.validation_fraction * _n_rows(X))

    def _monitor(self):
        """``(history key, lower is better)`` of the quantity early stopping watches."""
        return "valid_loss", True

    def _check_net_parameters(self):
        # (non-finite numbers are refused by the open intervals of NET_PARAMETERS)
        self._hidden_layer_sizes = check_layer_sizes(self.hidden_layer_sizes)

    def _callbacks(self, generator, early_stopping):
        torch, skorch = require_torch()
        callbacks = [*self._extra_callbacks(generator)]
        if self.learning_rate == "cosine":
            callbacks.append(
                skorch.callbacks.LRScheduler(
                    torch.optim.lr_scheduler.CosineAnnealingLR, T_max=self.max_iter
                )
            )
        callbacks.append(__getattr__("DivergenceGuard")(type(self).__name__))
        if early_stopping:
            monitor, lower_is_better = self._monitor()
            callbacks.append(
                skorch.callbacks.EarlyStopping(
                    monitor=monitor,
                    lower_is_better=lower_is_better,
                    patience=self.n_iter_no_change,
                    threshold=self.tol,
                    threshold_mode="abs",
                    load_best=True,
                    sink=_quiet,
                )
            )
        if self.verbose:
            callbacks.append(skorch.callbacks.ProgressBar())
        return callbacks

    def _early_stopping_possible(self, X, y):
        """Whether early stopping is on and has enough rows to hold out; warn when it has not."""
        if not self.early_stopping:
            return False
        if self._n_held_out(X, y) >= MIN_HELD_OUT:
            return True
        warnings.warn(
            f"{type(self).__name__}: validation_fraction={self.validation_fraction} of "
            f"{_n_rows(X)} rows holds out fewer than {MIN_HELD_OUT}, too few to watch; "
            f"training for max_iter={self.max_iter} epochs without early stopping.",
            UserWarning,
            stacklevel=4,
        )
        return False

    def _fit_net(self, X, y=None, sample_weight=None):
        """Build the net from the shared parameters, train it, and prepare inference.

        With ``sample_weight``, the criterion receives ``{"target": y,
        "sample_weight": w}`` batch by batch (``"target"`` absent when ``y`` is None)
        instead of ``y``; :func:`split_sample_weight` unpacks it.
        """
        torch, _ = require_torch()
        self._check_net_parameters()
        device = resolve_device(self.device)
        on_cpu = torch.device(device).type == "cpu"
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        generator = torch.Generator().manual_seed(seed)
        device_generator = generator if on_cpu else torch.Generator(device).manual_seed(seed)
        module = build_module(self._module_factory(X, y, device_generator), generator)
        initial_weight = _largest_weight(module)
        if self.solver == "sgd":
            optimizer = {"optimizer": torch.optim.SGD, "optimizer__momentum": self.momentum}
        else:
            optimizer = {"optimizer": torch.optim.Adam}
        early_stopping = self._early_stopping_possible(X, y)
        options = {
            "criterion": self._criterion(device_generator),
            "lr": self.learning_rate_init,
            "optimizer__weight_decay": self.weight_decay,
            "max_epochs": self.max_iter,
            "batch_size": self.batch_size,
            "iterator_train": batch_loader,
            "iterator_train__shuffle": True,
            "iterator_train__drop_last": self._drop_last,
            "iterator_train__generator": generator,
            "iterator_valid": batch_loader,
            "iterator_valid__generator": generator,
            "train_split": self._train_split(seed, early_stopping),
            "callbacks": self._callbacks(device_generator, early_stopping),
            "verbose": 0,
            "device": device,
            **optimizer,
            **self._net_options(),
        }
        net = self._net_class()(module, **options)
        net.fit(X, _pack_sample_weight(y, sample_weight))
        _forget_device_generators(net)
        self.net_ = net
        self.device_ = device
        self.n_iter_ = len(net.history)
        self._warn_if_weights_blew_up(initial_weight)
        # Inference on the CPU runs in float64 on a copy made once: float32 products
        # round differently for different batch shapes, and a row's prediction must
        # not depend on the rows passed with it.  On a GPU the trained float32 module
        # (inside ``net_``, which pickles to any device) is used as it is.
        self._inference_module = copy.deepcopy(net.module_).double().eval() if on_cpu else None
        return net

    def _warn_if_weights_blew_up(self, initial):
        # Adam with a huge step keeps the weights finite but meaningless; judged on
        # the weights kept (after early stopping restored the best epoch's).
        largest = _largest_weight(self.net_.module_)
        if largest > WEIGHT_GROWTH * max(initial, 1e-3):
            warnings.warn(
                f"{type(self).__name__} has probably diverged: its largest weight grew from "
                f"{initial:.3g} to {largest:.3g} in training; lower learning_rate_init, or "
                "scale the features.",
                ConvergenceWarning,
                stacklevel=4,
            )

    def _forward_numpy(self, X, part=None, output=0):
        """Run the fitted module (or its submodule ``part``) on ``X`` in eval mode; numpy out."""
        torch, _ = require_torch()
        module = self._inference_module
        if module is None:
            module = self.net_.module_.eval()
        if part is not None:
            module = getattr(module, part)
        dtype = next(module.parameters()).dtype
        X = np.require(X, dtype=np.float64 if dtype == torch.float64 else np.float32)
        X = np.require(X, requirements=["C", "W"])  # torch needs writable memory
        outputs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], 4096):
                batch = torch.as_tensor(X[start : start + 4096], device=self.device_)
                out = module(batch)
                if isinstance(out, tuple):
                    out = out[output]
                outputs.append(out.detach().cpu().numpy().astype(np.float64, copy=False))
        return np.concatenate(outputs)
