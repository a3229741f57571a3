"""Every estimator's parameters against the conventions table of the user guide.

The tables of ``doc/user_guide/conventions.rst`` are the reference: this test reads
them, so the page and the code cannot drift apart.
"""

import inspect
import re
from pathlib import Path

import pytest

from sklearn_losses.utils import all_estimators

PAGE = Path(__file__).resolve().parents[1] / "doc" / "user_guide" / "conventions.rst"
_NAME = re.compile(r"``([A-Za-z_0-9]+)``")


def _table_rows(section):
    """The rows of the first simple table under the heading ``section``."""
    text = PAGE.read_text()
    body = text.split(f"\n{section}\n", 1)[1]
    lines = body.splitlines()
    rules = [i for i, line in enumerate(lines) if line.startswith("===")]
    start, end = rules[1] + 1, rules[2]
    return [line for line in lines[start:end] if line.strip()]


def _columns(row, header_rule):
    """Split a row at the column starts of the table's ``===`` rule."""
    starts = [m.start() for m in re.finditer(r"=+", header_rule)]
    return [row[a:b].strip() for a, b in zip(starts, [*starts[1:], None])]


def _table(section):
    text = PAGE.read_text().split(f"\n{section}\n", 1)[1]
    rule = next(line for line in text.splitlines() if line.startswith("==="))
    return [_columns(row, rule) for row in _table_rows(section)]


SHARED = {
    _NAME.findall(name)[0]: set(_NAME.findall(refused))
    for name, _, refused in _table("Shared parameters")
}
FAMILY = {
    _NAME.findall(name)[0]: {e.strip() for e in estimators.split(",")}
    for name, estimators, _ in _table("Parameters of one family")
}
REFUSED = set().union(*SHARED.values())
ESTIMATORS = all_estimators()


def test_the_tables_were_read():
    assert {"max_iter", "alpha", "scale", "random_state", "verbose"} <= set(SHARED)
    assert "standardize" in REFUSED and "max_epochs" in REFUSED
    assert FAMILY["rho"] >= {"AggregateLinearRegression", "AggregateMLPRegressor"}
    assert not set(SHARED) & set(FAMILY)
    assert not REFUSED & (set(SHARED) | set(FAMILY))


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_every_parameter_has_its_one_name(name, cls):
    for parameter in cls().get_params(deep=False):
        assert parameter not in REFUSED, (
            f"{name}.{parameter} is a refused synonym; the library's name is "
            f"{[k for k, v in SHARED.items() if parameter in v]}"
        )
        assert parameter in SHARED or parameter in FAMILY, (
            f"{name}.{parameter} is in neither table of doc/user_guide/conventions.rst"
        )
        if parameter in FAMILY:
            assert name in FAMILY[parameter], f"the table does not list {name} for {parameter}"


def test_the_family_table_lists_only_true_owners():
    owners = {}
    for name, cls in ESTIMATORS:
        for parameter in cls().get_params(deep=False):
            owners.setdefault(parameter, set()).add(name)
    for parameter, estimators in FAMILY.items():
        assert estimators == owners.get(parameter, set()), parameter


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_fit_takes_sample_weight(name, cls):
    # every estimator of the library fits a loss (or likelihood) that sums over rows
    assert "sample_weight" in inspect.signature(cls.fit).parameters, name


@pytest.mark.parametrize("name, cls", ESTIMATORS)
def test_iterative_estimators_have_verbose_and_max_iter_together(name, cls):
    params = cls().get_params(deep=False)
    assert ("max_iter" in params) == ("verbose" in params), name
