"""What ``clean`` would make of each file of a folder, before cleaning anything: the
format that takes it and how sure it is (and the next most likely), the table each of
its readings fills, with how many rows and which columns, or why it is passed over."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from engagement.io.folder import read_files

_TRACE = ("source_file", "source_row", "reader_issue")


def inspect_folder(path: str | Path, *, config: dict | None = None) -> pd.DataFrame:
    """One row per file and table read from it (one per file passed over):
    ``file, format, confidence, runner_up, table, rows, columns, reason``."""
    rows = []
    for entry in read_files(path, config=config):
        base = {"file": entry.file, "format": entry.format or "-",
                "confidence": entry.confidence, "runner_up": entry.runner_up or "-"}
        for reading in entry.readings:
            columns = [c for c in reading.frame.columns if c not in _TRACE]
            rows.append({**base, "file": reading.file, "table": reading.table,
                         "rows": len(reading.frame), "columns": ", ".join(columns),
                         "reason": ""})
        if not entry.readings:
            rows.append({**base, "table": "-", "rows": 0, "columns": ", ".join(entry.headers),
                         "reason": entry.reason or "documentation, not an export"})
    rows += _looked_up(Path(path), {r["file"] for r in rows})
    return pd.DataFrame(rows, columns=["file", "format", "confidence", "runner_up", "table",
                                       "rows", "columns", "reason"])


def _looked_up(folder: Path, listed: set[str]) -> list[dict]:
    """The files of a bundle that fill no table of their own but are read with the
    others (a School Data Sync Section.csv, a Clever sections.csv)."""
    from engagement.io.registry import bundle_of

    rows = []
    for inner in sorted({p.parent for p in folder.rglob("*") if p.is_file()}):
        bundle = bundle_of(inner, {p.name.lower() for p in inner.iterdir() if p.is_file()})
        if bundle is None:
            continue
        for p in sorted(inner.iterdir()):
            name = p.relative_to(folder).as_posix()
            if p.is_file() and p.stem.lower() in bundle.files and name not in listed:
                rows.append({"file": name, "format": bundle.name, "confidence": 1.0,
                             "runner_up": "-", "table": "-", "rows": 0, "columns": "",
                             "reason": f"read with the other {bundle.description} files "
                                       "for the values it holds (a class's school, "
                                       "teacher or term...): no table of its own"})
    return rows


def mapping_config(path: str | Path, *, config: dict | None = None) -> str:
    """engagement.toml's ``[mapping]`` for the files read by their headers: the mapping
    ``clean`` would use, written out so that a person can correct it and run again."""
    lines = ["# What engagement read each file's columns as (raw header = canonical column).",
             "# Correct a line, or set a header to \"\" to leave it out, and run clean again",
             "# with --config this file.", ""]
    for entry in read_files(path, config=config):
        for reading in entry.readings:
            if not reading.mapping:
                continue
            lines.append(f"[mapping.{_quoted(reading.file)}]")
            lines += [f"{_quoted(raw)} = {_quoted(column)}"
                      for raw, column in reading.mapping.items()]
            lines.append("")
    return "\n".join(lines)


def _quoted(text: str) -> str:
    """A TOML basic string."""
    return '"' + str(text).replace("\\", "\\\\").replace('"', '\\"') + '"'


def summary(frame: pd.DataFrame) -> str:
    """The inspection as Markdown: what will be read, then what will not and why."""
    read = frame[frame["table"] != "-"]
    lines = ["# What engagement will read", "",
             "Confidence: how sure a format is, from the file's name and first lines, that "
             "the file is one of its own; `generic`, the reader of last resort, finds a "
             "table by its column headers, surer the more of them it knows.", "",
             "| file | format (confidence; next) | table | rows | columns |",
             "|---|---|---|---:|---|"]
    for r in read.itertuples():
        lines.append(f"| {r.file} | {r.format} ({r.confidence:.2f}; {r.runner_up}) | "
                     f"{r.table} | {r.rows:,} | {r.columns} |")
    passed = frame[frame["table"] == "-"]
    if len(passed):
        lines += ["", "## Files it will not read", ""]
        lines += [(f"- {r.reason}" if r.reason.startswith(r.file) else f"- {r.file}: {r.reason}")
                  + (f" Its headers: {r.columns}." if r.columns else "")
                  for r in passed.itertuples()]
    return "\n".join(lines) + "\n"
