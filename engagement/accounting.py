"""What happened to every input row: per-file accounts and the cleaning report.

For each file: ``rows_in == rows_kept + rows_duplicate + rows_quarantined``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

import pandas as pd

from engagement.privacy import FREE_TEXT, markdown_text

#: The columns of the quarantine (``record``, the raw row, stays private: see privacy).
QUARANTINE_COLUMNS = ["file", "line", "table", "column", "value", "reason", "record"]


@dataclass
class FileAccount:
    """The accounting of one input file (and one table read from it)."""

    file: str
    kind: str
    table: str
    rows_in: int = 0
    rows_kept: int = 0
    rows_duplicate: int = 0
    rows_quarantined: int = 0
    fixes: dict[str, int] = field(default_factory=dict)
    unknown_spellings: dict[str, dict[str, int]] = field(default_factory=dict)

    @property
    def balanced(self) -> bool:
        return self.rows_in == self.rows_kept + self.rows_duplicate + self.rows_quarantined

    def add_fix(self, name: str, count: int) -> None:
        if count:
            self.fixes[name] = self.fixes.get(name, 0) + int(count)


@dataclass
class CleaningReport:
    """Per-file counts, fixes and unknown spellings: what happened to every input row."""

    accounts: list[FileAccount]
    skipped: list[str] = field(default_factory=list)

    @property
    def not_read(self) -> list[str]:
        """Exports passed over, with the reason (documentation files are listed by name
        alone and are not counted)."""
        return [s for s in self.skipped if ": " in s]

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{
            "file": a.file, "kind": a.kind, "table": a.table, "rows_in": a.rows_in,
            "rows_kept": a.rows_kept, "rows_duplicate": a.rows_duplicate,
            "rows_quarantined": a.rows_quarantined} for a in self.accounts])

    def to_json(self) -> str:
        files = [{**a.__dict__} for a in self.accounts]
        return json.dumps({"files": files, "skipped": self.skipped}, indent=2,
                          ensure_ascii=False) + "\n"

    def summary(self) -> str:
        """A short readable account, in Markdown."""
        lines = ["# Cleaning report", "",
                 "| file | table | in | kept | duplicate | quarantined |",
                 "|---|---|---:|---:|---:|---:|"]
        for a in self.accounts:
            lines.append(f"| {markdown_text(a.file)} | {a.table} | {a.rows_in:,} | "
                         f"{a.rows_kept:,} | {a.rows_duplicate:,} | {a.rows_quarantined:,} |")
        fixes = [(a.file, k, v) for a in self.accounts for k, v in a.fixes.items()]
        if fixes:
            lines += ["", "## Fixes made", ""]
            lines += [f"- {markdown_text(file)}: {name.replace('_', ' ')}: {n:,}"
                      for file, name, n in fixes]
        unknown = [(a.file, col, s, n) for a in self.accounts
                   for col, spellings in a.unknown_spellings.items() for s, n in spellings.items()]
        if unknown:
            lines += ["", "## Spellings engagement does not know (add them to engagement.toml)",
                      ""]
            lines += [f"- {markdown_text(file)}: free text in column {col}: {n:,} row(s)"
                      if s == FREE_TEXT else
                      f"- {markdown_text(file)}: {col} '{markdown_text(s)}': {n:,} row(s)"
                      for file, col, s, n in unknown]
        if self.skipped:
            lines += ["", "## Files not read", ""] + [f"- {markdown_text(name)}"
                                                      for name in self.skipped]
        return "\n".join(lines) + "\n"

    def _repr_markdown_(self) -> str:
        return self.summary()


def quarantine_summary(quarantine: pd.DataFrame) -> pd.DataFrame:
    """Quarantined rows counted by file, column and reason: the reasons never hold a
    value, so this is safe to show in a report. Line by line, they are in
    ``quarantine.csv``."""
    if quarantine.empty:
        return pd.DataFrame(columns=["file", "column", "reason", "rows"])
    return (quarantine.assign(column=quarantine["column"].fillna("")).groupby(
        ["file", "column", "reason"]).size().rename("rows").reset_index()
        .sort_values(["file", "rows"], ascending=[True, False]))
