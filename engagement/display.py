"""How result frames are shown to a person: a short table with plain column names and
hidden values said as "< k", p-values as a reader sees them, and the CSV each figure
comes from. Light to import (the report's notebook and the explorer use it)."""

from __future__ import annotations

import html

import pandas as pd

from engagement.estimate.design import estimand_label
from engagement.privacy import MIN_CELL


def source(*names: str) -> None:
    """Under a chart or table: the CSVs of the results folder that hold its figures."""
    from IPython.display import Markdown, display

    display(Markdown("*From " + ", ".join(f"`{n}`" for n in names)
                     + " in the results folder.*"))


def p_text(p: float) -> str:
    """A p-value as a reader sees it: three decimals, or "< 0.001"."""
    if p != p:  # NaN: no test (the pooled row)
        return ""
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


#: Columns shown in words, not as stored: an estimand by its label, a p-value as read.
IN_WORDS = {"estimand": estimand_label, "p_value": p_text, "p_adjusted": p_text}


class Table:
    """A result frame shown as a short, readable table: chosen columns under plain names,
    estimands by their labels, numbers rounded for display only (p-values as "< 0.001",
    never "0"), suppressed values shown as "< k"."""

    def __init__(self, frame, columns: dict[str, str], *, digits: int = 1, k: int = MIN_CELL):
        self.frame, self.columns, self.digits, self.k = frame, columns, digits, k

    def _format(self, value, suppressed: bool, column: str = "") -> str:
        if value is None or value is pd.NA or value != value:  # None, NA, NaN
            return f"< {self.k}" if suppressed else ""
        if column in IN_WORDS and not (column.startswith("p_") and isinstance(value, str)):
            return IN_WORDS[column](value)
        if isinstance(value, bool):
            return "yes" if value else "no"
        if isinstance(value, float):
            return f"{value:,.{self.digits}f}" if value % 1 else f"{value:,.0f}"
        if isinstance(value, int):
            return f"{value:,}"
        return str(value)

    def rows(self) -> list[list[str]]:
        """The table's cells as the reader sees them."""
        hidden = (self.frame["suppressed"].tolist() if "suppressed" in self.frame
                  else [False] * len(self.frame))
        return [[self._format(row[c], bool(h), c) for c in self.columns]
                for row, h in zip(self.frame.to_dict("records"), hidden, strict=True)]

    def _repr_html_(self) -> str:
        head = "".join(f"<th>{html.escape(name)}</th>" for name in self.columns.values())
        body = "".join("<tr>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in row)
                       + "</tr>" for row in self.rows())
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def __repr__(self) -> str:
        names = list(self.columns.values())
        cells = [names, *self.rows()]
        widths = [max(len(row[i]) for row in cells) for i in range(len(names))]
        return "\n".join("  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True))
                         for row in cells)
