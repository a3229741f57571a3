"""numpydoc's validation of every public docstring (as scikit-learn's test_docstrings).

Every name a family, ``datasets`` or ``utils`` exports is validated, and so is
every public method and property its classes define (inherited scikit-learn
methods are scikit-learn's business).  Ignored, with scikit-learn's reasons:

- ``RT02`` (the Returns line holds only a type): scikit-learn's convention
  names what is returned (``self : object``), and we follow it;
- ``EX01``, ``SA01``, ``ES01`` (Examples, See Also, extended summary) on methods
  and properties: required of classes and functions only, as in scikit-learn.
"""

import importlib
import inspect

import pytest
from numpydoc import validate as numpydoc_validate

from sklearn_losses.utils import all_families

IGNORED_EVERYWHERE = {"RT02"}
IGNORED_ON_MEMBERS = {"EX01", "SA01", "ES01"}


def _modules():
    yield from all_families().values()
    for name in ("sklearn_losses.datasets", "sklearn_losses.utils"):
        yield importlib.import_module(name)


def _members(cls):
    for name, value in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        static = inspect.getattr_static(cls, name)
        function = static.fget if isinstance(static, property) else value
        if not (inspect.isfunction(function) or isinstance(static, property)):
            continue
        if getattr(function, "__module__", "").startswith("sklearn_losses"):
            yield name


def _public_names():
    for module in _modules():
        for name in module.__all__:
            qualified = f"{module.__name__}.{name}"
            yield qualified, False
            obj = getattr(module, name)
            if inspect.isclass(obj):
                for member in _members(obj):
                    yield f"{qualified}.{member}", True


PUBLIC = sorted(set(_public_names()))


def test_the_walk_finds_estimators_methods_and_functions():
    names = {name for name, _ in PUBLIC}
    assert "sklearn_losses.ensloss.EnsLossClassifier.fit" in names
    assert "sklearn_losses.cross_decomposition.eckart_young_loss" in names
    assert "sklearn_losses.utils.all_estimators" in names
    assert len(names) > 100


@pytest.mark.parametrize("name, is_member", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_docstring_passes_numpydoc_validation(name, is_member):
    ignored = IGNORED_EVERYWHERE | (IGNORED_ON_MEMBERS if is_member else set())
    errors = [
        f"{code}: {message}"
        for code, message in numpydoc_validate.validate(name)["errors"]
        if code not in ignored
    ]
    assert not errors, f"{name}:\n" + "\n".join(errors)
