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
    sheet: str | None = None
    workbook: bool = False

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
    ``read(path, name, config, sheet)`` returns its readings (``config``:
    engagement.toml; ``sheet``: the workbook sheet, None for text)."""

    name: str
    description: str
    recognise: Callable[[Head], float]
    read: Callable[[Path, str, Mapping[str, Any], str | None], list[Reading]]


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


#: Workbooks: every sheet is read on its own.
WORKBOOK_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods")
_WORKBOOK_MAGIC = (b"PK\x03\x04", b"\xd0\xcf\x11\xe0")  # zip (xlsx, ods), OLE (xls)


def is_workbook(path: Path) -> bool:
    """Whether a file is a workbook, by its first bytes, whatever its name says: a
    "CSV" that is really xlsx and an ".xls" that is really text are both common."""
    with open(path, "rb") as handle:
        return handle.read(4) in _WORKBOOK_MAGIC


def sheet_rows(path: Path, sheet: str | None = None):
    """The rows of a workbook sheet (the first by default) as lists of cell values,
    read lazily (python-calamine: xlsx, xls and ods alike)."""
    from python_calamine import CalamineWorkbook

    workbook = CalamineWorkbook.from_path(str(path))
    return workbook.get_sheet_by_name(sheet or workbook.sheet_names[0]).iter_rows()


def sheets_of(path: Path) -> list[str]:
    from python_calamine import CalamineWorkbook

    return list(CalamineWorkbook.from_path(str(path)).sheet_names)


def head_rows(path: Path, sheet: str | None = None, count: int = 3) -> list[list[str]]:
    """The header and first rows of a workbook sheet, as stripped text: the first
    ``count`` rows from the header on (see ``header_index``)."""
    rows = []
    for row in sheet_rows(path, sheet):
        rows.append(["" if v is None else str(v).strip() for v in row])
        if len(rows) >= 20 + count:
            break
    top = header_index([sum(bool(c) for c in r) for r in rows])
    return rows[top:top + count] if top is not None else []


def header_index(filled: list[int]) -> int | None:
    """Which of a sheet's first rows is its header, from how many cells each fills: the
    first row at least half as full as the fullest of the first 20, so that a title, a
    date line or a blank row above the table is not taken for it."""
    widest = max(filled[:20], default=0)
    if widest == 0:
        return None
    return next(i for i, n in enumerate(filled) if n >= max(1, widest / 2))


def head_of(path: Path, sheet: str | None = None) -> Head:
    suffix = path.suffix.lower()
    if suffix == ".json":
        return Head(path, [])
    workbook = is_workbook(path)
    lines = head_rows(path, sheet) if workbook else head_lines(path)
    # A no-break space (French typography, Excel) reads as a space.
    return Head(path, [[c.replace("\xa0", " ") for c in row] for row in lines], sheet,
                workbook)
