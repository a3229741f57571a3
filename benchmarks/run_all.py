"""Every family's benchmark at 1 and 2 threads, as one Markdown table of ratios.

Run: ``python benchmarks/run_all.py [--quick] [--threads 1 2] [--only ordinal cca ...]
[--out benchmarks/results.md]``.

Each ``benchmarks/bench_<name>.py`` has a ``measure(quick=False)`` that returns rows
``{"family", "case", "ours", "ours_s", "reference", "reference_s"}`` and, where the
issue sets one, ``"target"``: the least acceptable ``reference_s / ours_s``.  The
reference is a peer library (mord, statsmodels, scikit-learn, cca-zoo), a bare
PyTorch loop training the same module, or the floor (the matrix products one
iteration cannot avoid), always measured in the same process as ours.  Every
(benchmark, thread count) pair runs in a fresh process whose BLAS pools (NumPy's
and SciPy's: ``OPENBLAS_NUM_THREADS`` and friends), OpenMP and torch are set to that
many threads, so peers and ours run under the same setting; our solvers may pin
pools lower for their own loops (see ``sklearn_losses/utils/_threads.py``), the peers
run as a user gets them.  The table gives, per thread count, our time, the
reference's and the ratio (above 1: ours is faster), whether the target is met, and
our time at 2 threads over 1 thread.
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHMARKS = (
    "ordinal",
    "aggregate",
    "naive_bayes",
    "cca",
    "multiview",
    "permutation",
    "ensloss",
    "csib",
    "nets",
)
_MARKER = "BENCHMARK-ROWS:"


def _thread_environment(threads):
    env = dict(os.environ)
    for name in (
        "OMP_NUM_THREADS",
        "OPENBLAS_NUM_THREADS",
        "MKL_NUM_THREADS",
        "NUMEXPR_NUM_THREADS",
        "VECLIB_MAXIMUM_THREADS",
    ):
        env[name] = str(threads)
    return env


def child(name, threads, quick):
    """Run one benchmark in this process and print its rows as JSON."""
    sys.path.insert(0, str(HERE))
    module = __import__(f"bench_{name}")
    if name in ("ensloss", "csib", "nets"):
        import torch

        torch.set_num_threads(threads)
    rows = module.measure(quick=quick)
    print(_MARKER + json.dumps(rows), flush=True)


def run(name, threads, quick):
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, __file__, "--child", name, "--threads", str(threads)]
        + (["--quick"] if quick else []),
        env=_thread_environment(threads),
        capture_output=True,
        text=True,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith(_MARKER)]
    if done.returncode != 0 or not lines:
        print(
            f"bench_{name} at {threads} thread(s) failed:\n{done.stderr[-3000:]}", file=sys.stderr
        )
        return []
    print(f"bench_{name} at {threads} thread(s): {time.perf_counter() - start:.0f} s", flush=True)
    return json.loads(lines[-1][len(_MARKER) :])


def _seconds(value):
    return "-" if value is None else f"{value:.3g}"


def markdown(results, thread_counts):
    """One row per measured case, with the columns of every thread count side by side."""
    keys, merged = [], {}
    for threads in thread_counts:
        for row in results[threads]:
            key = (row["family"], row["case"], row["ours"], row["reference"])
            if key not in merged:
                keys.append(key)
                merged[key] = {"target": row.get("target")}
            merged[key][threads] = row
    header = ["family", "case", "ours", "reference", "target"]
    for threads in thread_counts:
        header += [f"ours s ({threads}t)", f"ref s ({threads}t)", f"ref/ours ({threads}t)"]
    if len(thread_counts) > 1:
        header.append(f"ours {thread_counts[-1]}t/{thread_counts[0]}t")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for key in keys:
        entry = merged[key]
        target = entry["target"]
        cells = list(key) + ["-" if target is None else f">= {target:g}"]
        for threads in thread_counts:
            row = entry.get(threads)
            if row is None:
                cells += ["-", "-", "-"]
                continue
            ratio = row["reference_s"] / row["ours_s"]
            mark = "" if target is None else (" ok" if ratio >= target else " MISSED")
            cells += [_seconds(row["ours_s"]), _seconds(row["reference_s"]), f"{ratio:.2f}{mark}"]
        if len(thread_counts) > 1:
            first, last = entry.get(thread_counts[0]), entry.get(thread_counts[-1])
            if first and last:
                slowdown = last["ours_s"] / first["ours_s"]
                cells.append(f"{slowdown:.2f}" + (" SLOWER" if slowdown > 1.1 else ""))
            else:
                cells.append("-")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, about 5 minutes")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--only", nargs="+", choices=BENCHMARKS, default=list(BENCHMARKS))
    parser.add_argument("--out", type=Path, default=HERE / "results.md")
    parser.add_argument("--child", choices=BENCHMARKS, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        child(args.child, args.threads[0], args.quick)
        return
    results = {threads: [] for threads in args.threads}
    for name in args.only:  # all thread counts of one benchmark back to back
        for threads in args.threads:
            results[threads] += run(name, threads, args.quick)
    table = markdown(results, args.threads)
    title = f"Benchmarks ({'quick' if args.quick else 'full'} sizes), {time.strftime('%Y-%m-%d')}"
    args.out.write_text(f"# {title}\n\n{table}\n")
    print(table)
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
