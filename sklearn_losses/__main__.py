"""Command line: ``python -m sklearn_losses {list,reproduce} ...``."""

import argparse
import sys
import time

from . import FAMILIES, __version__


def _cmd_list(args):
    from .reproduce import available
    from .utils.discovery import all_estimators, all_families

    built = all_families()
    reproducible = available()
    for family, (subpackage, paper) in FAMILIES.items():
        state = "built" if family in built else "not available yet"
        print(f"{family:12s} sklearn_losses.{subpackage:24s} [{state}]")
        print(f"{'':12s} {paper}")
        if family in built:
            module = built[family]
            estimators = {name for name, _ in all_estimators()} & set(module.__all__)
            others = [n for n in module.__all__ if n not in estimators]
            print(f"{'':12s} estimators: {', '.join(sorted(estimators)) or '-'}")
            print(f"{'':12s} also: {', '.join(others) or '-'}")
            print(f"{'':12s} reproduction: {'yes' if reproducible[family] else 'no'}")
    return 0


def _cmd_reproduce(args):
    from .reproduce import available, run

    families = list(FAMILIES) if args.family == "all" else [args.family]
    status = available()
    failures = 0
    for family in families:
        if not status[family]:
            print(f"== {family} ==\nnot available: this family is not built yet.\n")
            if args.family != "all":
                failures += 1
            continue
        start = time.perf_counter()
        report = run(family, quick=args.quick, out=args.out, random_state=args.random_state)
        print(report.to_text())
        print(f"({family}: {time.perf_counter() - start:.1f} s)\n", flush=True)
    return 1 if failures else 0


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m sklearn_losses",
        description="sklearn_losses: estimators from recent loss-function papers.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the families, their estimators and status")
    rep = sub.add_parser("reproduce", help="run a paper's headline experiment")
    rep.add_argument("family", nargs="?", default="all", choices=[*FAMILIES, "all"])
    rep.add_argument("--quick", action="store_true", help="few replications, for a smoke run")
    rep.add_argument("--out", default="reproduce_output", help="folder for plots")
    rep.add_argument("--random-state", type=int, default=0)
    args = parser.parse_args(argv)
    return {"list": _cmd_list, "reproduce": _cmd_reproduce}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
