"""Docstring examples run as if pasted into a fresh session (issue 17): no names from their module.

pytest runs a module's doctests in a copy of the module's globals, so an example that forgets
``import numpy as np`` passes there and fails when pasted.  The repository's conftest.py gives each
collected example an empty namespace; these tests pin that it does and that it is active.
"""

import doctest
import importlib.util
import types
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


def root_conftest():
    path = ROOT / "conftest.py"
    spec = importlib.util.spec_from_file_location("_sklearn_losses_root_conftest", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def failures(example, hook=None):
    """Failed examples of a module docstring, in a module whose globals hold ``np``."""
    module = types.ModuleType("example_module", example)
    module.np = np
    (test,) = doctest.DocTestFinder().find(module)
    if hook is not None:
        hook([types.SimpleNamespace(dtest=test), types.SimpleNamespace()])  # a non-doctest item too
    runner = doctest.DocTestRunner(verbose=False)
    runner.run(test, out=lambda _: None)
    return runner.failures


def test_examples_do_not_see_their_module_globals():
    hook = root_conftest().pytest_collection_modifyitems
    leaky = ">>> np.zeros(2).shape\n(2,)\n"
    assert failures(leaky) == 0  # pytest's default namespace: the module's globals
    assert failures(leaky, hook) == 1  # NameError, as in a fresh session
    assert failures(">>> import numpy as np\n" + leaky, hook) == 0


def test_the_repository_conftest_is_active(request):
    if request.config.getoption("noconftest"):
        pytest.skip("--noconftest: the repository conftest is deliberately not loaded")
    files = {getattr(p, "__file__", None) for p in request.config.pluginmanager.get_plugins()}
    assert str(ROOT / "conftest.py") in files
