"""Repository-level pytest settings: docstring examples run as if pasted into a fresh session.

pytest's doctest collector runs each example in a copy of its module's globals, so an example
that uses ``np`` without importing it passes in the suite and raises ``NameError`` when pasted.
Here every collected docstring example gets a namespace holding only what pytest itself adds
(``getfixture``): each example must import what it uses.  ``--noconftest`` skips this file and
the examples then run in pytest's looser default namespace.
"""


def pytest_collection_modifyitems(items):
    for item in items:
        dtest = getattr(item, "dtest", None)  # set on pytest's doctest items only
        if dtest is not None:
            dtest.globs = {"__name__": dtest.globs.get("__name__", "__main__")}
