"""What a newcomer meets first: the documented snippets, the command line, the reports."""

import contextlib
import io
import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from sklearn_losses import FAMILIES
from sklearn_losses.__main__ import header, main

ROOT = Path(__file__).resolve().parents[1]

# ---------------------------------------------------------------------------------------------
# Documented snippets: every Python block of the README and of the quick-start page runs on its
# own (no names injected), and prints what the text after it says it prints.


def _markdown_blocks(text):
    """(code, expected output or None) for every ```python block; the output is a ```text block
    right after it, with at most one line of prose (e.g. "prints") in between."""
    pattern = re.compile(r"```python\n(.*?)```\s*(?:(?:[^`\n]*\n\s*)?```text\n(.*?)```)?", re.S)
    return [(m.group(1), m.group(2)) for m in pattern.finditer(text)]


def _rst_blocks(text):
    """The same for ``.. code-block:: python`` and a following ``.. code-block:: text``."""
    blocks = []
    pattern = re.compile(r"\.\. code-block:: (\w+)\n\n((?:(?:    .*)?\n)+)")
    pending = None
    for match in pattern.finditer(text):
        kind = match.group(1)
        body = "\n".join(line[4:] for line in match.group(2).splitlines()).strip() + "\n"
        if kind == "python":
            if pending is not None:
                blocks.append((pending, None))
            pending = body
        elif kind == "text" and pending is not None:
            blocks.append((pending, body))
            pending = None
    if pending is not None:
        blocks.append((pending, None))
    return blocks


def _snippets():
    readme = _markdown_blocks((ROOT / "README.md").read_text())
    quick = _rst_blocks((ROOT / "doc" / "quick_start.rst").read_text())
    return [
        pytest.param(code, out, id=f"{source}-{i}")
        for source, blocks in (("README", readme), ("quick_start", quick))
        for i, (code, out) in enumerate(blocks)
    ]


_NUMBER = re.compile(r"[-+]?(?:\d+\.\d*|\.\d+|\d+)(?:[eE][-+]?\d+)?")


def _same_output(printed, expected):
    """Equal text; numbers equal within 2% or two units of the documented last digit.

    The slack absorbs last-digit differences of BLAS and torch builds, not a changed result.
    """
    if _NUMBER.sub("#", printed).split() != _NUMBER.sub("#", expected).split():
        return False
    for got, want in zip(_NUMBER.findall(printed), _NUMBER.findall(expected)):
        mantissa = want.lower().split("e")[0]
        decimals = len(mantissa.split(".")[1]) if "." in mantissa else 0
        exponent = int(want.lower().split("e")[1]) if "e" in want.lower() else 0
        unit = 10.0 ** (exponent - decimals)
        if not math.isclose(float(got), float(want), rel_tol=0.02, abs_tol=2 * unit):
            return False
    return True


def test_documentation_has_a_snippet_per_family_and_a_quick_start():
    readme = _markdown_blocks((ROOT / "README.md").read_text())
    assert any(out for _, out in readme), "the README quick start shows no output"
    quick = "\n".join(code for code, _ in _rst_blocks((ROOT / "doc/quick_start.rst").read_text()))
    for subpackage, _ in FAMILIES.values():
        assert f"from sklearn_losses.{subpackage} import" in quick, subpackage


@pytest.mark.parametrize("code, expected", _snippets())
def test_documented_snippet_runs_and_prints_what_is_shown(code, expected):
    if "information_bottleneck" in code or "DeepCCA" in code:
        pytest.importorskip("skorch")
    stdout = io.StringIO()
    with contextlib.redirect_stdout(stdout):
        exec(compile(code, "<snippet>", "exec"), {"__name__": "__main__"})  # noqa: S102
    if expected is not None:
        assert _same_output(stdout.getvalue(), expected), (stdout.getvalue(), expected)


def test_output_comparison_tolerates_last_digits_only():
    assert _same_output("accuracy: 0.972 +- 0.028\n", "accuracy: 0.973 +- 0.028")
    assert not _same_output("accuracy: 0.952 +- 0.028", "accuracy: 0.973 +- 0.028")
    assert _same_output("MSE: 3.78e-05", "MSE: 3.77e-05")
    assert not _same_output("MSE: 4.77e-05", "MSE: 3.77e-05")
    assert not _same_output("R^2 0.3", "test R^2 0.3")


# ---------------------------------------------------------------------------------------------
# The command line.


def test_reproduce_accepts_short_and_subpackage_names(monkeypatch, capsys):
    import sklearn_losses.reproduce as reproduce

    calls = []

    def fake_run(family, **kwargs):
        calls.append(family)
        return reproduce.Report(family)

    monkeypatch.setattr(reproduce, "run", fake_run)
    monkeypatch.setattr(reproduce, "plan", lambda family, quick: ["nothing"])
    for family, (subpackage, _) in FAMILIES.items():
        assert main(["reproduce", subpackage, "--quick", "--out", "unused"]) == 0
        assert main(["reproduce", family, "--quick", "--out", "unused"]) == 0
        assert calls[-2:] == [family, family]
    assert main(["reproduce", "PRESTO", "--quick", "--out", "unused"]) == 0  # any case
    assert calls[-1] == "presto"
    assert reproduce.resolve_family("ordinal") == reproduce.resolve_family("presto") == "presto"
    with pytest.raises(ValueError, match=r"presto \(ordinal\)"):
        reproduce.resolve_family("spaceship")
    with pytest.raises(SystemExit):
        main(["reproduce", "spaceship"])
    assert "invalid choice" in capsys.readouterr().err


def test_list_shows_both_names(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for family, (subpackage, _) in FAMILIES.items():
        names = family if family == subpackage else f"{family} ({subpackage})"
        assert names in out
        assert f"python -m sklearn_losses reproduce {family}" in out


def test_header_and_plan_are_printed_before_the_work(monkeypatch, capsys):
    import sklearn_losses.reproduce as reproduce

    seen = {}

    def fake_run(family, **kwargs):
        seen[family] = capsys.readouterr().out  # what the user saw when the work started
        return reproduce.Report(family)

    monkeypatch.setattr(reproduce, "run", fake_run)
    assert main(["reproduce", "--quick", "--out", "unused"]) == 0
    assert list(seen) == list(FAMILIES)
    for family, before in seen.items():
        lines = before.strip().splitlines()
        assert lines[-len(list(header(family, quick=True))) :] == list(header(family, quick=True))
        assert FAMILIES[family][1] in before and "quick run:" in before
        # each plan says what it runs, not only that it runs
        assert len(reproduce.plan(family, quick=True)) >= 2
    assert reproduce.plan("naive_bayes", quick=True) != reproduce.plan("naive_bayes")


def test_reproduce_from_a_shell_talks_before_it_finishes(tmp_path):
    # the real command: its header must arrive while the reproduction is still running
    process = subprocess.Popen(
        [sys.executable, "-m", "sklearn_losses", "reproduce", "ordinal", "--quick"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        lines = [process.stdout.readline() for _ in range(3)]
        running = process.poll() is None
        # the first progress line, past any warning a fit may write to the same stream
        progress_line = next(
            (line for line in process.stderr if line.strip().startswith("replications:")), ""
        )
        still_running = process.poll() is None
    finally:
        process.kill()
        process.wait()
    assert lines[0].strip() == "== presto (ordinal) =="
    assert lines[2].strip() == "quick run:"
    assert running, "the header came only after the reproduction had finished"
    assert progress_line.strip().startswith("replications:"), progress_line
    assert still_running or "10/10" in progress_line


# ---------------------------------------------------------------------------------------------
# Reports: progress, tables, plots.


def test_progress_writes_only_when_switched_on(capsys):
    from sklearn_losses.reproduce import progress, progress_to

    assert list(progress(range(3), "silent")) == [0, 1, 2]
    assert capsys.readouterr() == ("", "")
    stream = io.StringIO()
    with progress_to(stream):
        assert list(progress(iter("abcd"), "letters", total=4)) == list("abcd")
    assert stream.getvalue().splitlines()[-1].startswith("  letters: 4/4")
    assert list(progress(range(2), "off again")) == [0, 1]
    assert capsys.readouterr() == ("", "")


def test_progress_on_a_terminal_rewrites_one_line():
    from sklearn_losses.reproduce import progress, progress_to

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    with progress_to(stream):
        for _ in progress(range(3), "fits", every=1e9):
            pass
    text = stream.getvalue()
    assert text.count("\n") == 1 and text.endswith("\n")
    assert [part.split(",")[0].strip() for part in text.split("\r")[1:]] == [
        f"fits: {i}/3" for i in range(4)
    ]


def test_table_uses_one_format_per_column_and_prints_legend_and_reading():
    from sklearn_losses.reproduce import Table

    table = Table(
        "t",
        ["name", "score", "tiny", "n"],
        legend={"score": "what the score means"},
        reading="first wins.",
    )
    table.add_row("first", 1.041, 3.7e-5, 10)
    table.add_row("second", 0.0125, 8.1e-46, 200)
    table.add_row("third", 12.5, 0.0, 3000)
    lines = table.to_text().splitlines()
    rows = [line.split() for line in lines[4:7]]
    assert [row[1] for row in rows] == ["1.041", "0.013", "12.500"]
    assert [row[2] for row in rows] == ["3.70e-05", "8.10e-46", "0.00e+00"]
    assert [row[3] for row in rows] == ["10", "200", "3000"]
    assert "score  what the score means" in lines[7]
    assert lines[-1] == "Reading: first wins."


def test_plots_leave_the_matplotlib_backend_alone(tmp_path):
    matplotlib = pytest.importorskip("matplotlib")
    from sklearn_losses.reproduce import aggregate

    before = matplotlib.get_backend()
    matplotlib.use("svg")
    try:
        rng = np.random.default_rng(0)
        cells = {cell: rng.random((4, 3)) for cell in aggregate.CELLS}
        curves = {e: rng.random((4, len(aggregate.BAG_SIZES) + 1)) for e in aggregate.EPSILONS}
        (path,) = aggregate._plot(cells, curves, tmp_path)
        assert matplotlib.get_backend() == "svg"
    finally:
        matplotlib.use(before)
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_readings_say_where_our_method_loses():
    from sklearn_losses.reproduce import cca, csib

    rmse = {
        "diabetes": {
            "CS-IB": [69.6],
            "CS-IB (paper estimator)": [70.5],
            "MSE network": [73.8],
            "Ridge": [56.3],
            "HistGradientBoosting": [63.5],
        }
    }
    reading = csib._comparison_reading(rmse)
    assert "lose to Ridge (56.3 against 69.6)" in reading and "0.94x" in reading
    rows = [
        ("CCA (exact)", 1.0, 4.40, 0.1),
        ("StochasticCCA bs=100", 0.998, 4.39, 1.0),
        ("DeepCCA (MLP 64)", 1.041, 4.10, 5.0),
        ("sklearn CCA (NIPALS)", 0.999, 4.39, 3.0),
    ]
    reading = cca._linear_reading(rows, 5)
    assert "1.041 is above 1" in reading and "fits noise" in reading


def test_one_thread_restores_the_callers_threads():
    from threadpoolctl import threadpool_info, threadpool_limits

    from sklearn_losses.reproduce import one_thread

    with threadpool_limits(limits=2):  # the suite runs with one; a user may have more
        before = [pool["num_threads"] for pool in threadpool_info()]
        assert max(before) == 2
        with one_thread():
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        assert [pool["num_threads"] for pool in threadpool_info()] == before


def test_quick_cli_run_is_cheaper_than_the_full_one():
    # the plans are what the command announces; quick must announce less work
    from sklearn_losses.reproduce import plan

    def numbers(lines):
        return sum(
            int(n) for n in re.findall(r"\b(\d+) (?:splits|replicates|simulated)", " ".join(lines))
        )

    for family in ("presto", "aggregate", "ensloss", "csib"):
        assert numbers(plan(family, quick=True)) < numbers(plan(family)), family
