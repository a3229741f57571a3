"""Plain-text tables and the report a reproduction returns."""

from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Table:
    """A titled table of rows; cells are formatted with ``format_cell``."""

    title: str
    columns: list
    rows: list = field(default_factory=list)

    def add_row(self, *cells):
        if len(cells) != len(self.columns):
            raise ValueError(f"expected {len(self.columns)} cells, got {len(cells)}")
        self.rows.append(list(cells))

    def to_text(self):
        cells = [[str(c) for c in self.columns]] + [[format_cell(c) for c in r] for r in self.rows]
        widths = [max(len(row[j]) for row in cells) for j in range(len(self.columns))]
        lines = [self.title, "-" * len(self.title)]
        for i, row in enumerate(cells):
            lines.append("  ".join(c.rjust(w) for c, w in zip(row, widths)))
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def format_cell(value):
    if isinstance(value, float):
        if value != 0 and (abs(value) < 1e-3 or abs(value) >= 1e5):
            return f"{value:.3e}"
        return f"{value:.4g}"
    return str(value)


@dataclass
class Report:
    """What a reproduction returns: its tables, the numbers its checks read, the plots written."""

    family: str
    tables: list = field(default_factory=list)
    results: dict = field(default_factory=dict)
    plots: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    def to_text(self):
        parts = [f"== {self.family} =="]
        parts += [t.to_text() for t in self.tables]
        parts += self.notes
        if self.plots:
            parts.append("plots: " + ", ".join(str(p) for p in self.plots))
        return "\n\n".join(parts)


def plot_target(out, name):
    """Path for a plot in ``out`` (created), or None when no plots are wanted or possible."""
    if out is None:
        return None
    try:
        import matplotlib

        matplotlib.use("Agg")
    except ImportError:
        return None
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    return out / name
