"""Command line: ``python -m sklearn_losses {list,reproduce} ...``."""

import argparse
import sys
import textwrap
import time

from . import FAMILIES, __version__


def _names(family):
    """``presto (ordinal)``: the short name, and the subpackage name where it differs."""
    subpackage = FAMILIES[family][0]
    return family if subpackage == family else f"{family} ({subpackage})"


def _cmd_list(args):
    from .reproduce import available
    from .utils.discovery import all_estimators, all_families

    built = all_families()
    reproducible = available()
    for family, (subpackage, paper) in FAMILIES.items():
        state = "built" if family in built else "not available yet"
        print(f"{_names(family):34s} sklearn_losses.{subpackage:22s} [{state}]")
        print(f"{'':4s} {paper}")
        if family in built:
            module = built[family]
            estimators = {name for name, _ in all_estimators()} & set(module.__all__)
            others = [n for n in module.__all__ if n not in estimators]
            print(f"{'':4s} estimators: {', '.join(sorted(estimators)) or '-'}")
            print(f"{'':4s} also: {', '.join(others) or '-'}")
            command = f"python -m sklearn_losses reproduce {family}"
            print(f"{'':4s} reproduction: {command if reproducible[family] else 'no'}")
    return 0


def header(family, *, quick):
    """Yield the lines printed before a family's reproduction starts: who, which paper, what runs.

    The first two come before the reproduction module is imported, so that they show at once.
    """
    from .reproduce import plan

    yield f"== {_names(family)} =="
    yield FAMILIES[family][1]
    yield "quick run:" if quick else "full run:"
    for step in plan(family, quick=quick):
        yield from textwrap.wrap(step, 100, initial_indent="  - ", subsequent_indent="    ")


def _cmd_reproduce(args):
    from . import reproduce

    family = args.family if args.family == "all" else reproduce.resolve_family(args.family)
    families = list(FAMILIES) if family == "all" else [family]
    status = reproduce.available()
    failures = 0
    total = time.perf_counter()
    for family in families:
        if not status[family]:
            print(f"== {_names(family)} ==\nnot available: this family is not built yet.\n")
            if args.family != "all":
                failures += 1
            continue
        for line in header(family, quick=args.quick):
            print(line, flush=True)
        start = time.perf_counter()
        with reproduce.progress_to(sys.stderr):
            report = reproduce.run(
                family, quick=args.quick, out=args.out, random_state=args.random_state
            )
        print()
        print(report.to_text(header=False))
        print(f"({family}: {time.perf_counter() - start:.1f} s)\n", flush=True)
    if len(families) > 1:
        print(f"(all: {time.perf_counter() - total:.1f} s)", flush=True)
    return 1 if failures else 0


def main(argv=None):
    from .reproduce import FAMILY_NAMES

    parser = argparse.ArgumentParser(
        prog="python -m sklearn_losses",
        description="sklearn_losses: estimators from recent loss-function papers.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the families, their estimators and status")
    rep = sub.add_parser(
        "reproduce",
        help="run a paper's headline experiment",
        description="Run a paper's headline experiment: print its tables, write its plots.",
    )
    rep.add_argument(
        "family",
        nargs="?",
        default="all",
        type=str.lower,  # "PRESTO" is presto
        choices=[*FAMILY_NAMES, "all"],
        metavar="FAMILY",
        help="a family's short or subpackage name: "
        + ", ".join(_names(f) for f in FAMILIES)
        + "; default: all",
    )
    rep.add_argument("--quick", action="store_true", help="few replications, for a smoke run")
    rep.add_argument(
        "--out", default="reproduce_output", help="folder for plots (default: reproduce_output)"
    )
    rep.add_argument(
        "--random-state", type=int, default=0, help="seed of the whole run (default: 0)"
    )
    args = parser.parse_args(argv)
    return {"list": _cmd_list, "reproduce": _cmd_reproduce}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
