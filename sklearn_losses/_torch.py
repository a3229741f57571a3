"""The one door through which torch and skorch enter the package.

Nothing here imports torch at module import time: :func:`require_torch` does it
on first use and names the ``deep`` extra when it is missing.  Neural
estimators are plain scikit-learn estimators that *own* a private skorch net
built inside ``fit`` (composition; raw skorch nets fail most of scikit-learn's
estimator checks).  :class:`SkorchEstimatorMixin` holds the parts every such
estimator shares: device resolution, seeding that does not leak into torch's
global RNG, threads, the progress bar, and float64 predictions.
"""

import copy
from contextlib import contextmanager

import numpy as np
from sklearn.utils import check_random_state

__all__ = [
    "batch_loader",
    "mlp",
    "require_torch",
    "resolve_device",
    "seeded",
    "SkorchEstimatorMixin",
]

_INSTALL_HINT = (
    "This estimator needs PyTorch and skorch. Install them with "
    "`pip install torch==2.13.0` (a CPU wheel; pick a CUDA build for a GPU) and then "
    "`pip install 'sklearn-losses[deep]'`."
)


def require_torch():
    """Import and return ``(torch, skorch)``, or raise an ImportError that says how to get them."""
    try:
        import skorch
        import torch
    except ImportError as exc:  # pragma: no cover - exercised only without the extra
        raise ImportError(_INSTALL_HINT) from exc
    return torch, skorch


def resolve_device(device):
    """Turn ``"auto"`` into ``"cuda"`` when a GPU is visible, else ``"cpu"``."""
    torch, _ = require_torch()
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if str(device).startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device={device!r} was asked for but CUDA is not available.")
    return device


def seed_from(random_state):
    """An int seed drawn from ``random_state`` (``None`` draws a fresh one)."""
    return int(check_random_state(random_state).randint(np.iinfo(np.int32).max))


@contextmanager
def seeded(seed, device="cpu"):
    """Run the block under ``torch.manual_seed(seed)`` without touching the caller's RNG state."""
    torch, _ = require_torch()
    devices = []
    if str(device).startswith("cuda"):
        devices = [torch.device(device).index or 0]
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        yield


def mlp(n_features, hidden_layer_sizes=(64,), activation="relu", n_outputs=1, batch_norm=False):
    """A multi-layer perceptron (``torch.nn.Sequential``) ending in a linear layer.

    Each hidden layer is ``Linear -> activation``, followed by ``BatchNorm1d`` when
    ``batch_norm`` (the order of the EnsLoss paper's TabMLP).  ``hidden_layer_sizes=()``
    gives a linear map.  Built where it is called, so call it inside :func:`seeded`
    for reproducible weights.
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


def batch_loader(dataset, batch_size=128, shuffle=False, drop_last=False, **_):
    """skorch iterator factory: each batch fetched by one fancy index of the dataset.

    torch's default loader fetches rows one by one and stacks them, which costs
    more than a small network's forward pass; here a batch is a single indexing of
    the arrays.  Shuffling draws from torch's global generator (seeded by
    :func:`seeded`).  Other loader options skorch passes on are ignored.
    """
    require_torch()
    from torch.utils.data import BatchSampler, DataLoader, RandomSampler, SequentialSampler

    order = RandomSampler(dataset) if shuffle else SequentialSampler(dataset)
    return DataLoader(dataset, sampler=BatchSampler(order, batch_size, drop_last), batch_size=None)


class SkorchEstimatorMixin:
    """Shared machinery of the estimators that own a skorch net in ``net_``.

    A subclass implements ``_make_net(X, y, device)`` returning an unfitted skorch
    net, and calls :meth:`_fit_net` from its ``fit`` after validating the data.
    It must define the ``device``, ``verbose`` and ``random_state`` parameters.
    """

    def _fit_net(self, X, y=None, **fit_params):
        device = resolve_device(self.device)
        with seeded(seed_from(self.random_state), device):
            net = self._make_net(X, y, device)
            net.fit(X, y, **fit_params)
        self.net_ = net
        self.device_ = device
        return net

    def _callbacks(self, extra=()):
        """Callbacks of a net: the given ones plus a progress bar when ``verbose``."""
        _, skorch = require_torch()
        callbacks = list(extra)
        if self.verbose:
            callbacks.append(skorch.callbacks.ProgressBar())
        return callbacks

    def _forward_numpy(self, X, module=None, output=0):
        """Run ``module`` (default: the fitted net's) in eval mode on ``X``; float64 output.

        Inference runs on a float64 copy of the module: float32 matrix products
        round differently for different batch shapes, and predictions must not
        depend on which other rows were passed along (scikit-learn's
        subset-invariance check).
        """
        torch, _ = require_torch()
        X = np.require(X, dtype=np.float64, requirements=["C", "W"])  # writable for torch
        module = self.net_.module_ if module is None else module
        module = copy.deepcopy(module).double().eval()
        outputs = []
        with torch.no_grad():
            for start in range(0, X.shape[0], 4096):
                batch = torch.as_tensor(X[start : start + 4096], device=self.net_.device)
                out = module(batch)
                if isinstance(out, tuple):
                    out = out[output]
                outputs.append(out.detach().cpu().numpy())
        return np.concatenate(outputs)
