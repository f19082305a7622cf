"""What a reader declares about its format: its name, what it is, how sure it is that a
file is one (from the file's name and first lines), and how to read one.

The list of formats is ``engagement.io.registry.FORMATS``; a new format is a module
with a ``FORMAT`` and one line there.
"""

from __future__ import annotations

import csv
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from engagement.io.text import ReadError, Reading, decode_bytes, sniff_delimiter

_HEAD_BYTES = 65536


@dataclass(frozen=True)
class Head:
    """What recognising a file may look at: its path and its first lines, split into
    stripped cells (empty for a workbook or JSON, which are not read here)."""

    path: Path
    lines: list[list[str]]

    @property
    def suffix(self) -> str:
        return self.path.suffix.lower()

    @property
    def header(self) -> set[str]:
        """The first line's cells, lower-cased."""
        return {c.lower() for c in self.lines[0]} if self.lines else set()

    @property
    def first_cells(self) -> list[str]:
        """The first cell of the second and third lines, lower-cased."""
        return [row[0].lower() for row in self.lines[1:3] if row]


@dataclass(frozen=True)
class Format:
    """One source format: ``recognise(head)`` gives 0 (not this) to 1 (certainly this);
    ``read(path, name, config)`` returns its readings (``config``: engagement.toml)."""

    name: str
    description: str
    recognise: Callable[[Head], float]
    read: Callable[[Path, str, Mapping[str, Any]], list[Reading]]


@dataclass(frozen=True)
class Bundle:
    """A format that is a folder of files read together (OneRoster, School Data Sync):
    ``recognise(folder, names)`` from the folder's lower-case file names (and their
    headers); ``read(folder)``; ``files``: the lower-case stems it reads or looks
    values up in (the folder's other files are listed as not read)."""

    name: str
    description: str
    recognise: Callable[[Path, set[str]], bool]
    read: Callable[[Path], list[Reading]]
    files: frozenset[str]


def file_named(folder: Path, name: str) -> Path | None:
    """The file ``name`` in ``folder``, matched case-insensitively."""
    return next((p for p in sorted(folder.iterdir())
                 if p.is_file() and p.name.lower() == name.lower()), None)


def header_of(path: Path | None) -> set[str]:
    """A text file's header cells, lower-cased (empty when there is no file)."""
    lines = head_lines(path, 1) if path is not None else []
    return {c.lower() for c in lines[0]} if lines else set()


def head_lines(path: Path, count: int = 3) -> list[list[str]]:
    """The first ``count`` lines of a delimited text file, split into stripped cells."""
    raw = path.read_bytes()[:_HEAD_BYTES]
    try:
        text, _ = decode_bytes(raw, name=path.name)
    except ReadError:
        text, _ = decode_bytes(path.read_bytes(), name=path.name)
    lines = text.splitlines()[:count]
    if not lines:
        return []
    sep = sniff_delimiter(lines[0])
    return [[c.strip() for c in row] for row in csv.reader(lines, delimiter=sep)]


def head_rows(path: Path, count: int = 3) -> list[list[str]]:
    """The first ``count`` non-empty rows of a workbook's first sheet, as stripped text
    (read-only: the rest of the sheet is not loaded)."""
    import openpyxl

    workbook = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        rows = []
        for row in workbook.worksheets[0].iter_rows(values_only=True):
            cells = ["" if v is None else str(v).strip() for v in row]
            if any(cells):
                rows.append(cells)
            if len(rows) == count:
                break
        return rows
    finally:
        workbook.close()


def head_of(path: Path) -> Head:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return Head(path, [])
    lines = head_rows(path) if suffix in (".xlsx", ".xlsm") else head_lines(path)
    # A no-break space (French typography, Excel) reads as a space.
    return Head(path, [[c.replace("\xa0", " ") for c in row] for row in lines])
