"""Find the public estimators of the built families.

Discovery reads each family subpackage's ``__all__``: what a family exports is
what is tested and documented, and nothing is listed by hand twice.  A family
whose subpackage does not exist yet is simply absent.
"""

import importlib
import inspect

from sklearn.base import (
    BaseEstimator,
    ClassifierMixin,
    ClusterMixin,
    RegressorMixin,
    TransformerMixin,
)

from .. import FAMILIES

__all__ = ["all_families", "all_estimators"]

_TYPE_FILTER = {
    "classifier": ClassifierMixin,
    "regressor": RegressorMixin,
    "transformer": TransformerMixin,
    "cluster": ClusterMixin,
}


def all_families():
    """Return ``{family: module}`` for every family whose subpackage is built.

    Families are listed in ``sklearn_losses.FAMILIES``; a family whose subpackage
    cannot be imported because it does not exist yet is left out, while any other
    import error is raised.  Each module's ``__all__`` is what the family exports.

    Returns
    -------
    families : dict of str -> module
        The imported subpackage of each built family, keyed by family name, in the
        order of ``sklearn_losses.FAMILIES``.

    See Also
    --------
    all_estimators : The estimator classes these families export.

    Examples
    --------
    >>> from sklearn_losses.utils import all_families
    >>> families = all_families()
    >>> families["naive_bayes"].__name__
    'sklearn_losses.naive_bayes'
    """
    built = {}
    for family, (subpackage, _) in FAMILIES.items():
        try:
            built[family] = importlib.import_module(f"sklearn_losses.{subpackage}")
        except ModuleNotFoundError as exc:
            if exc.name != f"sklearn_losses.{subpackage}":
                raise
    return built


def all_estimators(type_filter=None):
    """Return a sorted list of ``(name, class)`` for the public estimators.

    An estimator is a concrete :class:`~sklearn.base.BaseEstimator` subclass that a
    built family exports in its ``__all__``; functions and result classes are not
    listed.  Useful to run the same check over every estimator of the library.

    Parameters
    ----------
    type_filter : {"classifier", "regressor", "transformer", "cluster"} or list, default=None
        Keep only estimators of these kinds; with a list, an estimator of any of
        the kinds is kept.  None keeps every estimator.

    Returns
    -------
    estimators : list of (str, type)
        Pairs of class name and class, sorted by name.

    See Also
    --------
    all_families : The family subpackages the estimators are collected from.
    sklearn.utils.discovery.all_estimators : The same listing for scikit-learn.

    Examples
    --------
    >>> from sklearn_losses.utils import all_estimators
    >>> all(isinstance(name, str) for name, _ in all_estimators())
    True
    """
    if isinstance(type_filter, str):
        type_filter = [type_filter]
    found = {}
    for module in all_families().values():
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (
                inspect.isclass(obj)
                and issubclass(obj, BaseEstimator)
                and not inspect.isabstract(obj)
                and not name.startswith("_")
            ):
                found[name] = obj
    estimators = sorted(found.items())
    if type_filter:
        unknown = set(type_filter) - set(_TYPE_FILTER)
        if unknown:
            raise ValueError(
                f"type_filter must be among {sorted(_TYPE_FILTER)}, got {sorted(unknown)}."
            )
        estimators = [
            (name, cls)
            for name, cls in estimators
            if any(issubclass(cls, _TYPE_FILTER[kind]) for kind in type_filter)
        ]
    return estimators
