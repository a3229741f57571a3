"""Plain-text tables, the report a reproduction returns, progress lines and figures."""

import math
import textwrap
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from numbers import Integral, Real
from pathlib import Path

WIDTH = 100


@dataclass
class Table:
    """A titled table of rows, with a legend of its columns and a one-line reading.

    Every float column is printed in one format chosen from all its values
    (:func:`column_formatter`), so that a column's digits line up and compare;
    ``formats`` overrides that per column name with a format spec or a callable.
    """

    title: str
    columns: list
    rows: list = field(default_factory=list)
    legend: dict = field(default_factory=dict)
    reading: str = ""
    formats: dict = field(default_factory=dict)

    def add_row(self, *cells):
        if len(cells) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} cells, got {len(cells)}")
        self.rows.append(list(cells))

    def to_text(self):
        formatters = []
        for j, name in enumerate(self.columns):
            spec = self.formats.get(name)
            if spec is None:
                formatters.append(column_formatter([row[j] for row in self.rows]))
            elif callable(spec):
                formatters.append(spec)
            else:
                formatters.append(lambda v, spec=spec: format(v, spec) if _is_float(v) else str(v))
        cells = [[str(c) for c in self.columns]]
        cells += [[f(c) for f, c in zip(formatters, row)] for row in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(self.columns))]
        lines = [self.title, "-" * min(len(self.title), WIDTH)]
        for i, row in enumerate(cells):
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        if self.legend:
            key_width = min(max(len(k) for k in self.legend), 24)
            for key, text in self.legend.items():
                lines += textwrap.wrap(
                    f"  {key.ljust(key_width)}  {text}",
                    WIDTH,
                    subsequent_indent=" " * (key_width + 4),
                )
        if self.reading:
            lines += textwrap.wrap(f"Reading: {self.reading}", WIDTH, subsequent_indent="  ")
        return "\n".join(lines)


def _is_float(value):
    return isinstance(value, Real) and not isinstance(value, (bool, Integral))


def column_formatter(values, significant=4):
    """One formatter for a column: fixed decimals when they fit, else scientific for all.

    Fixed decimals give the largest value ``significant`` figures and the smallest
    nonzero value at least two; when that needs more than six decimals, or a value
    reaches 1e5, the whole column is scientific with three figures.  Non-float
    cells (ints, strings) are printed as they are.
    """
    magnitudes = [abs(v) for v in values if _is_float(v) and math.isfinite(v) and v != 0]
    if not magnitudes:
        return _plain(lambda v: "0" if v == 0 else str(v))
    largest, smallest = math.floor(math.log10(max(magnitudes))), min(magnitudes)
    decimals = max(significant - 1 - largest, 1 - math.floor(math.log10(smallest)), 0)
    if decimals > 6 or largest >= 5:
        return _plain(lambda v: f"{v:.2e}")
    return _plain(lambda v: f"{v:.{decimals}f}")


def _plain(float_format):
    def format_value(value):
        if not _is_float(value):
            return str(value)
        if not math.isfinite(value):
            return str(float(value))
        return float_format(value)

    return format_value


def format_cell(value):
    """A single value alone, formatted as a one-value column."""
    return column_formatter([value])(value)


@dataclass
class Report:
    """What a reproduction returns: its tables, the numbers its checks read, the plots written."""

    family: str
    tables: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def to_text(self, header=True):
        parts = [f"== {self.family} =="] if header else []
        parts += [t.to_text() for t in self.tables]
        parts += ["\n".join(textwrap.wrap(note, WIDTH)) for note in self.notes]
        if self.plots:
            parts.append("plots: " + ", ".join(str(p) for p in self.plots))
        return "\n\n".join(parts)


# Progress lines go to one stream, switched on by the command line only: a reproduction
# run from Python or from the test suite stays silent.
_progress_stream = None


@contextmanager
def progress_to(stream):
    """Within the block, :func:`progress` writes its lines to ``stream`` (None: silent)."""
    global _progress_stream
    previous, _progress_stream = _progress_stream, stream
    try:
        yield
    finally:
        _progress_stream = previous


def progress(iterable, label, total=None, *, every=5.0):
    """Yield from ``iterable``, showing ``label: done/total, elapsed, estimate left``.

    On a terminal the line is rewritten in place after every item; elsewhere (a
    log, a pipe) a line is written at most every ``every`` seconds and at the end.
    """
    stream = _progress_stream
    if stream is None:
        yield from iterable
        return
    if total is None:
        total = len(iterable)
    if total == 0:
        return
    in_place = bool(getattr(stream, "isatty", lambda: False)())
    start = last = time.perf_counter()
    done = 0

    def show(final=False):
        elapsed = time.perf_counter() - start
        text = f"  {label}: {done}/{total}, {elapsed:.0f} s"
        if done and not final:
            text += f", about {elapsed / done * (total - done):.0f} s left"
        if in_place:
            stream.write("\r" + text.ljust(WIDTH - 1)[: WIDTH - 1] + ("\n" if final else ""))
        else:
            stream.write(text + "\n")
        stream.flush()

    if in_place:
        show()
    try:
        for item in iterable:
            yield item
            done += 1
            now = time.perf_counter()
            if done == total:
                show(final=True)
            elif in_place or now - last >= every:
                show()
                last = now
    finally:
        if in_place and done != total:
            stream.write("\n")
            stream.flush()


@contextmanager
def one_thread(torch=False):
    """One BLAS/OpenMP thread and, with ``torch``, one torch thread, within the block.

    A reproduction is hundreds of small fits, too small for threads to pay for their
    synchronisation; on two busy cores, two threads per process ran the quick
    reproductions 5-15 times slower than one (BLAS in logistic regression, torch in
    the networks).  The caller's settings are restored on exit.
    """
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        if not torch:
            yield
            return
        from .._torch import require_torch

        torch, _ = require_torch()
        before = torch.get_num_threads()
        torch.set_num_threads(1)
        try:
            yield
        finally:
            torch.set_num_threads(before)


def plot_target(out, name):
    """Path for a plot in ``out`` (created), or None when no plots are wanted or possible."""
    if out is None:
        return None
    try:
        import matplotlib  # noqa: F401 - only whether it is installed
    except ImportError:
        return None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out / name


def new_figure(nrows=1, ncols=1, *, figsize):
    """A figure and its axes, outside pyplot: no window, and the user's backend left alone."""
    from matplotlib.figure import Figure

    fig = Figure(figsize=figsize)
    return fig, fig.subplots(nrows, ncols)


def save_figure(fig, path):
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    return [path]
