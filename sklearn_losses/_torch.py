"""The one door through which torch and skorch enter the package.

Nothing here imports torch at module import time: :func:`require_torch` does it
on first use and names the ``deep`` extra when it is missing.  Neural
estimators are plain scikit-learn estimators that *own* a private skorch net
built inside ``fit`` (composition; raw skorch nets fail most of scikit-learn's
estimator checks).  :class:`SkorchEstimatorMixin` builds and trains that net
from the parameters every neural estimator shares (:data:`NET_PARAMETERS`); a
family's ``_nets.py`` provides only its module and criterion.  The training loop
is skorch's, made nearly as cheap as a hand-written one: batches by one tensor
index (:func:`batch_loader`), and a ``NeuralNet`` that skips the per-batch
bookkeeping nobody listens to.

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
    "IndexedBatches",
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
    """skorch iterator factory: batches of rows, each fetched by one tensor index.

    torch's default loader fetches rows one by one and stacks them, and skorch's
    dataset indexes a numpy array with a list of positions (which scikit-learn's
    indexing helper inspects element by element); both cost more than a small
    network's forward pass.  Here the arrays become tensors once (sharing their
    memory) and a batch is one indexing of them, as in a hand-written loop.
    Shuffling draws from ``generator`` (the fit's own), exactly as torch's
    ``DataLoader`` over a ``RandomSampler`` did (see :class:`IndexedBatches`), so a
    seed gives the batches it gave before.  Other loader options skorch passes on
    are ignored.
    """
    torch, _ = require_torch()
    n = len(dataset)
    # a data set smaller than one batch is one batch, even when the last is dropped
    batch_size = min(batch_size, n)
    full = n - n % batch_size  # rows in full batches

    def positions():
        order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
        yield from order[:full].split(batch_size)
        if shuffle:
            # torch's RandomSampler draws a second, unused permutation when it runs
            # out (after the last full batch); drawn here too, so that what the fit
            # draws next (EnsLoss's random losses share the generator) is unchanged
            torch.randperm(n, generator=generator)
        if full < n and not drop_last:
            yield order[full:]

    n_batches = full // batch_size + (full < n and not drop_last)
    return IndexedBatches(dataset, positions, n_batches, generator)


def _as_tensors(data):
    """``data`` (an array, a tensor, or a dict of them) as CPU tensors sharing its memory.

    None when it holds anything else (the caller then indexes the dataset itself).
    """
    torch, _ = require_torch()
    if isinstance(data, dict):
        tensors = {key: _as_tensors(value) for key, value in data.items()}
        return None if any(t is None for t in tensors.values()) else tensors
    if isinstance(data, torch.Tensor):
        return data if data.device.type == "cpu" else None
    if isinstance(data, np.ndarray) and data.dtype.kind in "biuf":
        try:
            # (a copy only when the array is read-only or not C-contiguous)
            return torch.from_numpy(np.require(data, requirements=["C", "W"]))
        except TypeError:  # a dtype torch lacks
            return None
    return None


def _take(tensors, index):
    # (``index_select`` costs half of ``tensor[index]``, which parses its argument)
    if isinstance(tensors, dict):
        return {key: value.index_select(0, index) for key, value in tensors.items()}
    return tensors.index_select(0, index)


class IndexedBatches:
    """The batches of a skorch ``Dataset`` (or a ``Subset`` of one), by tensor indexing.

    ``positions()`` returns an iterator over each batch's row positions in
    ``dataset`` (int64 tensors); ``n_batches`` is what ``len`` reports.  A batch is
    ``(X[rows], y[rows])`` as tensors, what torch's loader made of skorch's
    ``Dataset`` items (``y`` a placeholder ``tensor([0.])`` when there is none).
    Data that are not arrays, tensors or dicts of them are fetched through the
    dataset instead, as torch's loader did.

    The draws from ``generator`` are those of torch's ``DataLoader(sampler=...,
    generator=generator)``: what ``positions()`` draws when called (a sampler's
    ``__iter__``), then one number for the workers' seed, then what the iterator
    draws as it goes; so a fit's other draws from the same generator (its random
    losses, its noise) are the same as with torch's loader.
    """

    def __init__(self, dataset, positions, n_batches, generator=None):
        self.dataset = dataset
        self.positions = positions
        self.n_batches = n_batches
        self.generator = generator
        base, rows = dataset, None
        torch, skorch = require_torch()
        Subset, Dataset = torch.utils.data.Subset, skorch.dataset.Dataset
        if isinstance(base, Subset) and type(base.dataset) is Dataset:
            base, rows = base.dataset, torch.as_tensor(np.asarray(base.indices), dtype=torch.int64)
        self._tensors = None
        if type(base) is Dataset and not base.X_is_ndframe:
            X, y = _as_tensors(base.X), None if base.y is None else _as_tensors(base.y)
            if X is not None and (y is not None or base.y is None):
                self._tensors, self._rows = (X, y), rows

    def __iter__(self):
        torch, _ = require_torch()
        positions = self.positions()
        if self.generator is not None:
            torch.empty((), dtype=torch.int64).random_(generator=self.generator)
        if self._tensors is None:
            for index in positions:
                yield torch.utils.data.default_convert(self.dataset[index.tolist()])
            return
        X, y = self._tensors
        for index in positions:
            if self._rows is not None:
                index = self._rows.index_select(0, index)
            yield _take(X, index), torch.Tensor([0]) if y is None else _take(y, index)

    def __len__(self):
        return self.n_batches


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
            # one reduction (one device sync) for all the weights
            flags = [torch.isfinite(p).all() for p in net.module_.parameters()]
            finite = bool(torch.stack(flags).all()) if flags else True
            check_finite(
                self.name,
                np.asarray(losses, dtype=float),
                np.asarray(0.0 if finite else np.nan),
                hint="lower learning_rate_init, or scale the features",
            )

    DivergenceGuard.__module__ = __name__
    DivergenceGuard.__qualname__ = "DivergenceGuard"
    return DivergenceGuard


def _batch_len(batch):
    """Rows in a batch ``(X, y)`` (skorch's ``get_len`` of ``X``, without its checks)."""
    torch, skorch = require_torch()
    X = batch[0] if isinstance(batch, (tuple, list)) else batch
    if isinstance(X, dict) and X:
        first = next(iter(X.values()))
        if isinstance(first, torch.Tensor):
            return len(first)
    elif isinstance(X, torch.Tensor):
        return len(X)
    return skorch.dataset.get_len(X)


def _in_mode(module, training):
    """Whether ``module`` and every submodule are in training mode ``training``.

    (Reads ``Module._modules`` directly: ``children()`` costs as much as the walk.)
    """
    if module.training != training:
        return False
    return all(child is None or _in_mode(child, training) for child in module._modules.values())


def _make_net_class():
    torch, skorch = require_torch()

    class NeuralNet(skorch.NeuralNet):
        """skorch's ``NeuralNet`` with cheaper per-batch bookkeeping; the same training.

        The steps, the callbacks' calls, the history and the results are skorch's;
        what changes is what each batch costs besides the network: callbacks are not
        called for events they do not handle (skorch's ``Callback`` methods do
        nothing), ``train()``/``eval()`` are not called when every submodule is
        already in the right mode, and a batch's size is the length of its tensors
        (skorch's ``get_len`` inspects every item).  :class:`SkorchEstimatorMixin`
        builds it by default; a family's own net class should derive from it.
        """

        def _set_training(self, training=True):
            # skorch calls this at every batch; Module.train sets every submodule's
            # flag through Module.__setattr__, several times dearer than reading them
            for name in self._modules + self._criteria:
                module = getattr(self, name + "_")
                if isinstance(module, torch.nn.Module) and not _in_mode(module, training):
                    module.train(training)

        def notify(self, method_name, **cb_kwargs):
            getattr(self, method_name)(self, **cb_kwargs)
            for method in self._handlers(method_name):
                method(self, **cb_kwargs)

        def _handlers(self, method_name):
            """The callbacks' bound ``method_name``, skipping skorch's do-nothing ones."""
            callbacks = tuple(cb for _, cb in self.callbacks_)
            cache = self.__dict__.get("_handler_cache_")
            if cache is None or cache[0] != callbacks:
                cache = (callbacks, {})
                self.__dict__["_handler_cache_"] = cache
            handlers = cache[1].get(method_name)
            if handlers is None:
                noop = getattr(skorch.callbacks.Callback, method_name, None)
                handlers = [
                    getattr(cb, method_name)
                    for cb in callbacks
                    if method_name in vars(cb) or getattr(type(cb), method_name, None) is not noop
                ]
                cache[1][method_name] = handlers
            return handlers

        def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
            # skorch's loop, with the batch size read off the batch's tensors
            if iterator is None:
                return
            batch_count = 0
            for batch in iterator:
                self.notify("on_batch_begin", batch=batch, training=training)
                step = step_fn(batch, **fit_params)
                self.history.record_batch(prefix + "_loss", step["loss"].item())
                self.history.record_batch(prefix + "_batch_size", _batch_len(batch))
                self.notify("on_batch_end", batch=batch, training=training, **step)
                batch_count += 1
            self.history.record(prefix + "_batch_count", batch_count)

        def __getstate__(self):
            state = super().__getstate__()
            state.pop("_handler_cache_", None)
            return state

    NeuralNet.__module__ = __name__
    NeuralNet.__qualname__ = "NeuralNet"
    return NeuralNet


_LAZY_CLASSES = {"DivergenceGuard": _make_divergence_guard_class, "NeuralNet": _make_net_class}
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

    and may override ``_net_class`` (a subclass of this module's ``NeuralNet``,
    skorch's with cheaper per-batch bookkeeping, e.g. for a ``get_loss`` that needs
    no target), ``_extra_callbacks(generator)``,
    ``_train_split(seed, early_stopping)``, ``_n_held_out(X, y)``, ``_monitor()``,
    ``_drop_last``, and ``_net_options()``
    (skorch options that replace or add to the shared ones).  It calls
    :meth:`_fit_net` from ``fit`` after validating the data, and
    :meth:`_forward_numpy` for predictions.
    """

    _drop_last = False

    def _net_class(self):
        return __getattr__("NeuralNet")

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
            # skorch's epoch table is printed at verbose > 0 only (never here), but made
            # at every epoch: dropped (``verbose`` shows a progress bar instead)
            "callbacks__print_log": None,
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
